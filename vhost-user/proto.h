/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/proto.h - the vhost-user wire protocol (QEMU docs/interop/
 * vhost-user.rst): request codes, header flags, payload layouts. Native byte
 * order: both ends run on the same host. */
#ifndef VHOSTMQ_VHOST_USER_PROTO_H
#define VHOSTMQ_VHOST_USER_PROTO_H
#include <stdint.h>

enum vhu_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_REQUEST_MAX
};

/* Header flags. */
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_VERSION      0x1u
#define VHOST_USER_REPLY        (1u << 2)
#define VHOST_USER_NEED_REPLY   (1u << 3)

/* Protocol feature bit numbers. */
enum {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_MTU = 4,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
};

/* SET_VRING_KICK/CALL/ERR u64: ring index in bits 0..7, bit 8 = no fd. */
#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD     (1u << 8)

/* Most fds one message may carry (SET_MEM_TABLE: one per region). */
#define VHU_MAX_FDS 8

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;                   /* payload bytes that follow */
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;                  /* VHOST_VRING_F_LOG */
	uint64_t desc_fva;
	uint64_t used_fva;
	uint64_t avail_fva;
	uint64_t log_gpa;
};

struct vhu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t fva;                    /* QEMU's userspace_addr */
	uint64_t mmap_offset;
};

struct vhu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region r[VHU_MAX_FDS];
};

/* ADD_MEM_REG, REM_MEM_REG: one region. */
struct vhu_mem_reg {
	uint64_t padding;
	struct vhu_mem_region r;
};

/* SET_LOG_BASE: where in the fd that comes with it the dirty log lies. */
struct vhu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/* SET_VRING_ADDR flags: log writes to the used ring at log_gpa. */
#define VHOST_VRING_F_LOG 0x1u

/* Largest payload we accept: the memory table. */
#define VHU_MAX_PAYLOAD ((uint32_t)sizeof(struct vhu_mem_table))

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_mem_table mem;
	struct vhu_log log;
	struct vhu_mem_reg reg;
	uint8_t raw[VHU_MAX_PAYLOAD];
};

struct vhu_msg {
	struct vhu_hdr hdr;
	union vhu_payload p;
	int fds[VHU_MAX_FDS];
	unsigned nfds;
};

#endif
