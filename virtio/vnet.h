/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vnet.h - the virtio-net device model: which features we offer, queue
 * numbering, the net header (the guest-TX gate and the RX header we write),
 * and receive into guest buffers (mergeable or not).
 * Security model: chains come from vq_pop(), which has checked them; this file
 * checks sizes (frame against header, packet against buffer space) and is the
 * one gate for what a guest's TX net header asks for: vnet_tx_check_iov(). */
#ifndef VHOSTMQ_VIRTIO_VNET_H
#define VHOSTMQ_VIRTIO_VNET_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include "common/base.h"
#include "virtio/iov.h"
#include "virtio/vq.h"

/* Spec 5.1.4: max_virtqueue_pairs is 1..0x8000. */
#define VNET_MAX_QP_SPEC 0x8000u

/* Largest frame we move in one piece, GSO aside: a guest's TSO frames
 * (HOST_TSO) and merged frames for it (GUEST_TSO) are IP packets of up to
 * 64 KiB behind their Ethernet header. */
#define VNET_MAX_FRAME 65535u

/* The MTU a device announces (VIRTIO_NET_F_MTU) and enforces: 68 (IPv4's
 * minimum, RFC 791) up to 65535 - 14, so that a frame with its Ethernet
 * header stays within VNET_MAX_FRAME. The config (config/cfg.h) and the
 * check of vhost-user's NET_SET_MTU (vhost-user/conn.c) both take these. */
#define VNET_MTU_MIN 68
#define VNET_MTU_MAX 65521

/* What one device offers beyond the features every device offers, as its
 * config chose (ethtool -K for a NIC). */
struct vnet_offer {
	bool mq;                 /* VIRTIO_NET_F_MQ: more than one queue pair */
	bool csum;               /* VIRTIO_NET_F_CSUM: the guest may send partial
	                            checksums (NEEDS_CSUM) */
	bool guest_csum;         /* VIRTIO_NET_F_GUEST_CSUM: we may tell the guest
	                            a checksum was verified (DATA_VALID) */
	bool mtu;                /* VIRTIO_NET_F_MTU: the guest learns the MTU */
	bool host_tso4, host_tso6;   /* VIRTIO_NET_F_HOST_TSO4/6: the guest may send
	                                TCP frames up to 64 KiB for us to cut */
	bool host_ecn;           /* VIRTIO_NET_F_HOST_ECN: ... with ECN (CWR) */
	bool guest_tso4, guest_tso6; /* VIRTIO_NET_F_GUEST_TSO4/6: we may hand the
	                                guest TCP frames up to 64 KiB (merged) */
	bool guest_ecn;          /* VIRTIO_NET_F_GUEST_ECN: ... with ECN (CWR) */
	bool packed;             /* VIRTIO_F_RING_PACKED: packed rings (spec 2.8) */
};

/* The virtio feature bits a device with offer o puts in GET_FEATURES. */
uint64_t vnet_features_offered(const struct vnet_offer *o);

/* Checks a frontend's SET_FEATURES value against what we offered; on failure
 * returns the lowest bit that was not offered, else -1. */
int vnet_features_check(uint64_t offered, uint64_t acked);

/* 12 bytes with VERSION_1 or MRG_RXBUF (spec 5.1.6), 10 for legacy. */
uint16_t vnet_hdr_len(uint64_t features);

/* Queue numbering lives here alone: pair qp is RX vq 2qp and TX vq 2qp+1. */
enum vnet_dir { VNET_RX = 0, VNET_TX = 1 };
static inline uint32_t vnet_vqi(uint32_t qp, enum vnet_dir d) { return 2 * qp + d; }
static inline uint32_t vnet_vqi_qp(uint32_t vqi) { return vqi / 2; }
static inline enum vnet_dir vnet_vqi_dir(uint32_t vqi) { return (enum vnet_dir)(vqi & 1); }

/* What a TX queue's driver may put in its net headers, fixed at negotiation
 * and by the device's MTU. */
struct vnet_tx_fmt {
	uint16_t hdr_len;        /* vnet_hdr_len(): 10 or 12 */
	bool csum;               /* VIRTIO_NET_F_CSUM negotiated: NEEDS_CSUM allowed */
	bool tso4, tso6, ecn;    /* HOST_TSO4, HOST_TSO6, HOST_ECN negotiated */
	uint32_t max_frame;      /* largest frame (or TSO segment) accepted:
	                            vnet_max_frame() */
};

/* At most this many segments from one TSO frame: 64 KiB of MSS 1024 (a
 * smaller MSS from a guest only multiplies our work, not its own). */
#define VNET_TSO_MAX_SEGS 64

/* The largest Ethernet frame a device of this MTU sends: the MTU plus an
 * Ethernet header and one VLAN tag, and never above VNET_MAX_FRAME. */
static inline uint32_t
vnet_max_frame(uint32_t mtu)
{
	return mtu + 18 < VNET_MAX_FRAME ? mtu + 18 : VNET_MAX_FRAME;
}

/* What an accepted frame's header asks of us. */
struct vnet_tx_req {
	bool csum;               /* NEEDS_CSUM: fill in the checksum (below) */
	uint16_t csum_start;     /* frame offset the checksum covers from, to the end */
	uint16_t csum_offset;    /* where, from csum_start, it is stored */
	/* TSO (gso_type TCPV4/TCPV6, checked against the frame's own headers
	 * when the gate read them): cut the TCP payload into gso_size pieces.
	 * tso is 0 for a plain frame. */
	uint8_t tso;             /* 0, 4 or 6 */
	uint16_t gso_size;       /* payload bytes per segment */
	uint16_t l3_off;         /* IP header: after Ethernet (and a VLAN tag) */
	uint16_t l4_off;         /* TCP header (= csum_start) */
	uint16_t l4_len;         /* TCP header length, options included */
};

/* Whether a guest TX chain is a frame we send, and if not, why not. Every
 * verdict but VNET_TX_OK drops the frame. */
enum vnet_tx_verdict {
	VNET_TX_OK = 0,          /* a frame to send (req says what it asks) */
	VNET_TX_RUNT,            /* chain no longer than the net header */
	VNET_TX_TOO_BIG,         /* frame above the device's MTU (max_frame) */
	VNET_TX_FLAGS,           /* flags a driver never sends (DATA_VALID, RSC_INFO)
	                            or that the spec does not define */
	VNET_TX_CSUM,            /* NEEDS_CSUM, VIRTIO_NET_F_CSUM not negotiated */
	VNET_TX_CSUM_RANGE,      /* NEEDS_CSUM with csum_start + csum_offset + 2
	                            beyond the frame */
	VNET_TX_GSO_TYPE,        /* gso_type the spec does not define */
	VNET_TX_GSO,             /* TCPV4, UDP, TCPV6 or UDP_L4 segmentation, its
	                            HOST_ feature not negotiated */
	VNET_TX_ECN,             /* GSO_ECN, HOST_ECN not negotiated, or on no TCP */
	VNET_TX_TSO_CSUM,        /* TSO without NEEDS_CSUM */
	VNET_TX_TSO_FRAME,       /* TSO on a frame that is not TCP over the IP
	                            version gso_type names, or whose csum_start
	                            is not its TCP header */
	VNET_TX_TSO_SIZE,        /* gso_size 0, segments above the MTU, more than
	                            VNET_TSO_MAX_SEGS, or no payload */
	VNET_TX_VERDICT_COUNT
};

/* The reason for a verdict, for a log line (never NULL). */
const char *vnet_tx_strerror(enum vnet_tx_verdict v);

/* The header of a frame whose first two bytes (flags, then gso_type), loaded
 * as one value in memory order, are not zero: judged in full, and req filled
 * for an accepted one. The out-of-line half of vnet_tx_check_iov(). */
enum vnet_tx_verdict vnet_tx_hdr_verdict(const struct vnet_tx_fmt *fmt, const struct iovec *seg,
                                         unsigned nseg, uint64_t len, uint16_t lead,
                                         struct vnet_tx_req *req);

/* The one gate for a guest TX frame (spec 5.1.6.2): len bytes in nseg host
 * pieces, net header first (a chain's readable part). Its length against
 * the net header and the MTU, then the header's flags and gso_type, read
 * once from the first bytes wherever the guest put them, for NEEDS_CSUM
 * its csum_start and csum_offset against the frame, and for TSO the frame's
 * own Ethernet, IP and TCP headers against what the net header says (only
 * the offsets and sizes in req are used after this: the guest can rewrite
 * its buffer at any time). A request we did not offer drops the frame.
 * Reads guest memory, writes only req. Inline: it runs for every TX frame,
 * and its usual outcome without offloads (flags and gso_type both zero)
 * costs one load and a compare. */
static inline enum vnet_tx_verdict
vnet_tx_check_iov(const struct vnet_tx_fmt *fmt, const struct iovec *seg, unsigned nseg,
                  uint64_t len, struct vnet_tx_req *req)
{
	uint16_t lead;           /* flags, gso_type: they lead the header */
	/* One compare for the usual frame: hdr_len < len <= hdr_len + max_frame
	 * (max_frame <= VNET_MAX_FRAME); the others are sorted out below. */
	bool odd = len - fmt->hdr_len - 1 >= fmt->max_frame;

	req->csum = false;
	req->tso = 0;
	if (unlikely(odd)) {
		if (len <= fmt->hdr_len)
			return VNET_TX_RUNT;
		if (len - fmt->hdr_len > VNET_MAX_FRAME)
			return VNET_TX_TOO_BIG;
	}
	/* len > hdr_len >= 2: seg[0] exists and the pieces hold both bytes. */
	if (likely(seg[0].iov_len >= sizeof(lead))) {
		memcpy(&lead, seg[0].iov_base, sizeof(lead));
	} else {
		struct iov_cursor src = iov_cursor(seg, nseg);

		iov_read(&src, &lead, sizeof(lead));
	}
	_Static_assert(VIRTIO_NET_HDR_GSO_NONE == 0, "a plain header is all zero");
	if (unlikely(lead != 0))
		return vnet_tx_hdr_verdict(fmt, seg, nseg, len, lead, req);
	/* A frame above the MTU is fine only as TSO, which the header asks. */
	return unlikely(odd) ? VNET_TX_TOO_BIG : VNET_TX_OK;
}

/* The same gate for a TX chain vq_pop() gave: its readable part. */
static inline enum vnet_tx_verdict
vnet_tx_check(const struct vnet_tx_fmt *fmt, const struct vq_chain *c, struct vnet_tx_req *req)
{
	return vnet_tx_check_iov(fmt, c->seg, c->n_out, c->out_len, req);
}

/* The Internet checksum (RFC 1071) of a partial sum, folded and inverted,
 * as NEEDS_CSUM asks the device to store it: 0 becomes 0xffff (a UDP
 * checksum of 0 means "none"; for TCP both mean zero). */
static inline uint16_t
vnet_csum_finish(uint32_t sum)
{
	uint16_t folded;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	folded = (uint16_t)~sum;
	return folded ? folded : 0xffff;
}

/* How an RX queue's packets are laid out, fixed at negotiation. */
struct vnet_rx_fmt {
	uint16_t hdr_len;
	bool mrg_rxbuf;
	bool guest_csum;         /* VIRTIO_NET_F_GUEST_CSUM: DATA_VALID and
	                            NEEDS_CSUM may be set */
	bool tso4, tso6, ecn;    /* GUEST_TSO4, GUEST_TSO6, GUEST_ECN negotiated
	                            (each only with GUEST_CSUM): gso_type TCPV4,
	                            TCPV6, and the ECN bit, may be set */
};

/* A full RX net header, for a packet that needs more than flags: a merged
 * TCP frame is NEEDS_CSUM (its checksum field holds the pseudo header's sum)
 * and gso_type TCPV4/TCPV6 with the MSS in gso_size. Host byte order; the
 * caller asks only for what fmt allows. */
struct vnet_rx_meta {
	uint8_t flags;           /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;        /* VIRTIO_NET_HDR_GSO_*, ECN bit included */
	uint16_t hdr_len;        /* Ethernet + IP + TCP headers */
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

enum vnet_rx_res {
	VNET_RX_OK = 0,
	VNET_RX_NO_BUF,      /* not enough guest buffers now: nothing consumed */
	VNET_RX_TOO_BIG,     /* can never fit (non-mergeable buffer too small):
	                        packet dropped, buffer kept for the next one */
	VNET_RX_BAD_CHAIN,   /* a bad chain interrupted the packet's buffers, or
	                        32 bad chains came before any good one: packet
	                        dropped, its buffers returned empty */
	VNET_RX_BROKEN,      /* queue broken */
};

/* Writes one packet (pkt_len bytes in npkt host pieces) into the guest's RX
 * buffers, behind a net header whose flags are hdr_flags (0, or DATA_VALID
 * when fmt->guest_csum and a port verified the checksum) and whose other
 * fields are zero. Pushes used entries but does not publish. For a split
 * ring; vnet_rx_packet_packed() is the same for a packed one (vq.h: the
 * layout is the caller's constant, not a question per packet). */
enum vnet_rx_res vnet_rx_packet(struct vq *vq, const struct gmem *mem,
                                const struct vnet_rx_fmt *fmt, uint8_t hdr_flags,
                                const struct iovec *pkt, unsigned npkt, uint32_t pkt_len);
enum vnet_rx_res vnet_rx_packet_packed(struct vq *vq, const struct gmem *mem,
                                       const struct vnet_rx_fmt *fmt, uint8_t hdr_flags,
                                       const struct iovec *pkt, unsigned npkt,
                                       uint32_t pkt_len);

/* A plain frame for vnet_rx_bufs(): one piece, and its header's flags (as
 * vnet_rx_packet()'s hdr_flags). */
struct vnet_rx_frame {
	const void *data;
	uint32_t len;
	uint8_t hdr_flags;
};

/* The receive of a burst: up to n plain frames (n <= VNET_RX_BURST_MAX),
 * each into one of the ring's usual buffers (vq_pop_bufs_as(): all of them
 * checked before the first is written, each fetched for writing a few
 * frames ahead), behind a header as vnet_rx_packet() writes it with
 * num_buffers 1. Stops at the first frame its buffer cannot hold whole, at
 * a chain of another shape, or when the buffers run out: the frames from
 * there on are for vnet_rx_packet(), which spreads a frame over merged
 * buffers and says what is wrong. Returns the frames delivered, frames
 * [0, that) in order. Pushes used entries but does not publish; no dirty
 * log (while one runs, the caller takes vnet_rx_packet_logged()).
 * vnet_rx_bufs_packed(): the same for a packed ring. */
#define VNET_RX_BURST_MAX 64
uint16_t vnet_rx_bufs(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                      const struct vnet_rx_frame *f, uint16_t n);
uint16_t vnet_rx_bufs_packed(struct vq *vq, const struct gmem *mem,
                             const struct vnet_rx_fmt *fmt, const struct vnet_rx_frame *f,
                             uint16_t n);

/* vnet_rx_packet() or vnet_rx_packet_packed(), as the ring is. */
static inline enum vnet_rx_res
vnet_rx_packet_any(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                   uint8_t hdr_flags, const struct iovec *pkt, unsigned npkt, uint32_t pkt_len)
{
	return vq->packed ? vnet_rx_packet_packed(vq, mem, fmt, hdr_flags, pkt, npkt, pkt_len)
	                  : vnet_rx_packet(vq, mem, fmt, hdr_flags, pkt, npkt, pkt_len);
}

/* vnet_rx_packet() while a migration logs the vq's writes (vq->log): every
 * buffer written marks its guest pages in the dirty log. A separate entry
 * point, so that vnet_rx_packet() has no test for it per packet (this one
 * asks the ring's layout). */
enum vnet_rx_res vnet_rx_packet_logged(struct vq *vq, const struct gmem *mem,
                                       const struct vnet_rx_fmt *fmt, uint8_t hdr_flags,
                                       const struct iovec *pkt, unsigned npkt,
                                       uint32_t pkt_len);

/* vnet_rx_packet() behind the header meta says (num_buffers still ours),
 * logging its writes when vq->log is set. The plain path keeps
 * vnet_rx_packet(): its constant headers cost less than building one. */
enum vnet_rx_res vnet_rx_packet_meta(struct vq *vq, const struct gmem *mem,
                                     const struct vnet_rx_fmt *fmt,
                                     const struct vnet_rx_meta *meta,
                                     const struct iovec *pkt, unsigned npkt, uint32_t pkt_len);

#endif
