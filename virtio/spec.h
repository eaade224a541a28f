/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/spec.h - wire layouts and bit numbers from the virtio 1.2 specification
 * (split virtqueue, virtio-net device). Layouts are little-endian in guest memory;
 * readers convert with le16toh()/le32toh()/le64toh() exactly once. */
#ifndef VHOSTMQ_VIRTIO_SPEC_H
#define VHOSTMQ_VIRTIO_SPEC_H
#include <stdint.h>

/* Device status bits (spec 2.1). */
enum {
	VIRTIO_STATUS_ACKNOWLEDGE = 1,
	VIRTIO_STATUS_DRIVER      = 2,
	VIRTIO_STATUS_DRIVER_OK   = 4,
	VIRTIO_STATUS_FEATURES_OK = 8,
	VIRTIO_STATUS_NEEDS_RESET = 64,
	VIRTIO_STATUS_FAILED      = 128,
};

/* Feature bit numbers (spec 6 "Reserved Feature Bits", 5.1.3 virtio-net). */
enum {
	VIRTIO_NET_F_CSUM          = 0,
	VIRTIO_NET_F_GUEST_CSUM    = 1,
	VIRTIO_NET_F_MTU           = 3,
	VIRTIO_NET_F_GUEST_TSO4    = 7,
	VIRTIO_NET_F_GUEST_TSO6    = 8,
	VIRTIO_NET_F_GUEST_ECN     = 9,
	VIRTIO_NET_F_HOST_TSO4     = 11,
	VIRTIO_NET_F_HOST_TSO6     = 12,
	VIRTIO_NET_F_HOST_ECN      = 13,
	VIRTIO_NET_F_MAC           = 5,
	VIRTIO_NET_F_MRG_RXBUF     = 15,
	VIRTIO_NET_F_STATUS        = 16,
	VIRTIO_NET_F_CTRL_VQ       = 17,
	VIRTIO_NET_F_GUEST_ANNOUNCE = 21,
	VIRTIO_NET_F_MQ            = 22,
	VIRTIO_F_NOTIFY_ON_EMPTY   = 24,
	VIRTIO_F_ANY_LAYOUT        = 27,
	VIRTIO_F_RING_INDIRECT_DESC = 28,
	VIRTIO_F_RING_EVENT_IDX    = 29,
	VHOST_F_LOG_ALL            = 26,   /* vhost only: log every write (migration) */
	VHOST_USER_F_PROTOCOL_FEATURES = 30,   /* vhost-user only, not a virtio bit */
	VIRTIO_F_VERSION_1         = 32,
	VIRTIO_F_ACCESS_PLATFORM   = 33,
	VIRTIO_F_RING_PACKED       = 34,
	VIRTIO_F_IN_ORDER          = 35,
};

#define VIRTIO_BIT(b) (UINT64_C(1) << (b))

/* Split ring (spec 2.7). */
#define VRING_DESC_F_NEXT      1
#define VRING_DESC_F_WRITE     2
#define VRING_DESC_F_INDIRECT  4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

/* Spec 2.7: Queue Size is a power of two, at most 32768 (a packed ring,
 * spec 2.8, may have any size up to that). */
#define VQ_SIZE_MAX 32768u

struct vring_desc {
	uint64_t addr;     /* gpa */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];   /* [size], then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];   /* [size], then avail_event */
};

/* Packed ring (spec 2.8): one ring of descriptors that the driver makes
 * available and the device marks used, telling them apart by two flag bits
 * against each side's wrap counter; the chain's buffer id is in its last
 * descriptor. */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED  (1u << 15)

struct vring_packed_desc {
	uint64_t addr;     /* gpa; unused in a used descriptor */
	uint32_t len;      /* used: bytes written (valid with F_WRITE) */
	uint16_t id;       /* buffer id */
	uint16_t flags;
};

/* Event suppression (spec 2.8.10): the driver area holds the driver's (what
 * used-buffer notifications it wants), the device area ours. */
struct vring_packed_event {
	uint16_t off_wrap;     /* RING_EVENT_FLAGS_DESC: index, wrap in bit 15 */
	uint16_t flags;
};
#define RING_EVENT_FLAGS_ENABLE  0
#define RING_EVENT_FLAGS_DISABLE 1
#define RING_EVENT_FLAGS_DESC    2   /* only with VIRTIO_F_RING_EVENT_IDX */

static inline uint64_t vring_packed_desc_bytes(uint32_t size) { return 16ull * size; }

/* Bytes each part occupies for a ring of `size` entries, event fields included:
 * the ring-translation check at start requires all of it to be mapped. */
static inline uint64_t vring_desc_bytes(uint32_t size)  { return 16ull * size; }
static inline uint64_t vring_avail_bytes(uint32_t size) { return 4ull + 2ull * size + 2; }
static inline uint64_t vring_used_bytes(uint32_t size)  { return 4ull + 8ull * size + 2; }

/* virtio-net header (spec 5.1.6). With VERSION_1 or MRG_RXBUF it carries
 * num_buffers and is 12 bytes; a legacy device without MRG_RXBUF uses 10. */
struct virtio_net_hdr {
	uint8_t  flags;
	uint8_t  gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* flags (spec 5.1.6): a driver sets only NEEDS_CSUM, and only with
 * VIRTIO_NET_F_CSUM; DATA_VALID and RSC_INFO are for the device's RX. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4

/* gso_type (spec 5.1.6): a type in the low bits, ECN in the top bit. */
#define VIRTIO_NET_HDR_GSO_NONE   0
#define VIRTIO_NET_HDR_GSO_TCPV4  1
#define VIRTIO_NET_HDR_GSO_UDP    3
#define VIRTIO_NET_HDR_GSO_TCPV6  4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN    0x80
#define VIRTIO_NET_S_LINK_UP    1

#endif
