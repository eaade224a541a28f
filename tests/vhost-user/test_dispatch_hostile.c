/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_dispatch_hostile.c - a hostile frontend against the
 * vhu_dispatch() gate. Each table row is one bad message breaking exactly one
 * rule, run three ways: without NEED_REPLY, with NEED_REPLY and REPLY_ACK
 * negotiated, and with NEED_REPLY but REPLY_ACK not negotiated. A row expects
 * either the exact -errno (the connection closes, no reply is sent) or, for a
 * value a handler rejects when the frontend asked for an ack, 0 and a REPLY_ACK
 * of 1 with the connection kept and still usable. Every row also asserts that
 * each fd the message carried is closed, nothing got mapped, the owner saw no
 * stop/commit, and the device state is exactly as before (no half-applied
 * update). Then framing through a real socket and vhu_conn_readable(): short
 * headers, oversized sizes, too many fds, messages split across writes, EOF
 * between messages, bursts spread over several readable events, the bounded
 * allowance of negative REPLY_ACKs, and 10000 repeats with the open-fd count
 * flat. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tests/vhost-user/vhu_test.h"
#include "common/base.h"
#include "virtio/gmem.h"
#include "common/log.h"
#include "virtio/spec.h"

#define MIB  UINT64_C(0x100000)
#define KIB  UINT64_C(0x400)
#define FVA  UINT64_C(0x7f0000000000)
#define NOFD VHOST_USER_VRING_NOFD
#define NR   VHOST_USER_NEED_REPLY

/* ---- the table ---------------------------------------------------------- */

struct row {
	const char *name;
	uint32_t req;
	uint32_t version_xor;        /* flipped in the header's version bits */
	int32_t size_delta;          /* added to the request's natural payload size */
	union vhu_payload p;
	const char *fds;             /* one letter per fd the message carries: make_fd() */
	uint16_t max_qp;             /* 0: 2 (four vrings) */
	bool started;                /* vring 0 is started (kicked) beforehand */
	uint16_t mtu;                /* 0: MTU not offered; else the device's MTU,
	                                offered and its protocol feature negotiated */
	bool mtu_pf_off;             /* with mtu: the protocol feature not negotiated */
	uint64_t pf;                 /* more protocol features negotiated */
	int want;                    /* vhu_dispatch() result; the connection closes */
	bool nack;                   /* handler rejection: acked with 1 when asked */
};

#define REG(g, s, o) { .gpa = (g), .size = (s), .fva = FVA + (g), .mmap_offset = (o) }
#define MEM1(a)      .p.mem = { .nregions = 1, .r = { a } }
#define MEM2(a, b)   .p.mem = { .nregions = 2, .r = { a, b } }
#define OK_REG       REG(0, MIB, 0)
#define ST(i, n)     .p.state = { .index = (i), .num = (n) }
#define ADDR(i, f)   .p.addr = { .index = (i), .flags = (f), .desc_fva = FVA, \
                                 .avail_fva = FVA + 0x1000, \
                                 .used_fva = FVA + 0x2000 }

#define LOGPF  (UINT64_C(1) << VHOST_USER_PROTOCOL_F_LOG_SHMFD)
#define RARPPF (UINT64_C(1) << VHOST_USER_PROTOCOL_F_RARP)
#define STATUSPF (UINT64_C(1) << VHOST_USER_PROTOCOL_F_STATUS)
#define SLOTSPF (UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)

#define KICK VHOST_USER_SET_VRING_KICK
#define CALL VHOST_USER_SET_VRING_CALL
#define ERR  VHOST_USER_SET_VRING_ERR

static const struct row rows[] = {
	/* Request codes: unknown, or known but not implemented. */
	{ "request 0 (NONE)", .req = VHOST_USER_NONE, .want = -ENOTSUP, .nack = true },
	{ "request 21 (unassigned)", .req = 21, .want = -ENOTSUP, .nack = true },
	{ "request REQUEST_MAX", .req = VHOST_USER_REQUEST_MAX, .want = -ENOTSUP,
	  .nack = true },
	{ "request 0xffffffff", .req = UINT32_MAX, .want = -ENOTSUP, .nack = true },
	{ "unknown request with two fds", .req = 1000, .fds = "em", .want = -ENOTSUP,
	  .nack = true },
	/* The dirty log of a migration: the protocol feature, the mapping's
	 * numbers against the fd (the memory table's side: test_dispatch.c).
	 * SET_LOG_BASE has a reply of its own, which a refusal never sends:
	 * the connection closes, REPLY_ACK or not. */
	{ "SET_LOG_BASE, LOG_SHMFD not negotiated", .req = VHOST_USER_SET_LOG_BASE,
	  .p.log = { 4096, 0 }, .fds = "m", .want = -EPROTO },
	{ "SET_LOG_BASE mmap_size 0", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 0, 0 }, .fds = "m", .want = -EINVAL },
	{ "SET_LOG_BASE offset + size wraps", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 8192, UINT64_MAX - 4095 }, .fds = "m", .want = -EINVAL },
	{ "SET_LOG_BASE beyond the fd (1 MiB + 1 of a 1 MiB memfd)",
	  .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF, .p.log = { MIB, 1 }, .fds = "m",
	  .want = -EINVAL },
	{ "SET_LOG_BASE on an empty memfd", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 4096, 0 }, .fds = "0", .want = -EINVAL },
	{ "SET_LOG_BASE of a read-only fd", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 4096, 0 }, .fds = "r", .want = -EACCES },
	{ "SET_LOG_BASE of a pipe", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 4096, 0 }, .fds = "p", .want = -EINVAL },
	{ "SET_LOG_BASE without its fd", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .p.log = { 4096, 0 }, .want = -EBADMSG },
	{ "SET_LOG_BASE size 8", .req = VHOST_USER_SET_LOG_BASE, .pf = LOGPF,
	  .size_delta = -8, .p.log = { 4096, 0 }, .fds = "m", .want = -EBADMSG },
	{ "SET_LOG_FD without its fd", .req = VHOST_USER_SET_LOG_FD, .want = -EBADMSG },
	{ "SEND_RARP, RARP not negotiated", .req = VHOST_USER_SEND_RARP,
	  .p.u64 = 0x5254001234, .want = -EPROTO, .nack = true },
	{ "SEND_RARP from a multicast MAC", .req = VHOST_USER_SEND_RARP, .pf = RARPPF,
	  .p.u64 = 0x3412005401, .want = -EINVAL, .nack = true },   /* first byte 0x01 */
	{ "GET_CONFIG", .req = VHOST_USER_GET_CONFIG, .want = -ENOTSUP, .nack = true },
	{ "SET_STATUS, STATUS not negotiated", .req = VHOST_USER_SET_STATUS, .p.u64 = 0xf,
	  .want = -EPROTO, .nack = true },
	{ "SET_STATUS 0x100 (not a status byte)", .req = VHOST_USER_SET_STATUS, .pf = STATUSPF,
	  .p.u64 = 0x100, .want = -EINVAL, .nack = true },
	{ "SET_STATUS size 4", .req = VHOST_USER_SET_STATUS, .pf = STATUSPF, .size_delta = -4,
	  .p.u64 = 0xf, .want = -EBADMSG },
	/* GET_STATUS has a reply of its own: a refusal closes. */
	{ "GET_STATUS, STATUS not negotiated", .req = VHOST_USER_GET_STATUS, .want = -EPROTO },
	{ "GET_STATUS with a payload", .req = VHOST_USER_GET_STATUS, .pf = STATUSPF,
	  .size_delta = 8, .want = -EBADMSG },
	{ "RESET_DEVICE size 4", .req = VHOST_USER_RESET_DEVICE, .size_delta = 4,
	  .want = -EBADMSG },
	{ "RESET_DEVICE with an fd", .req = VHOST_USER_RESET_DEVICE, .fds = "e",
	  .want = -EBADMSG },
	/* Memory slots: the protocol feature, the region against its fd, the
	 * framing (sequences against a table: test_dispatch.c). */
	{ "ADD_MEM_REG, CONFIGURE_MEM_SLOTS not negotiated", .req = VHOST_USER_ADD_MEM_REG,
	  .p.reg.r = OK_REG, .fds = "m", .want = -EPROTO, .nack = true },
	{ "ADD_MEM_REG beyond its fd (2 MiB of a 1 MiB memfd)", .req = VHOST_USER_ADD_MEM_REG,
	  .pf = SLOTSPF, .p.reg.r = REG(0, 2 * MIB, 0), .fds = "m", .want = -EINVAL,
	  .nack = true },
	{ "ADD_MEM_REG size 0", .req = VHOST_USER_ADD_MEM_REG, .pf = SLOTSPF,
	  .p.reg.r = REG(0, 0, 0), .fds = "m", .want = -EINVAL, .nack = true },
	{ "ADD_MEM_REG gpa + size wraps", .req = VHOST_USER_ADD_MEM_REG, .pf = SLOTSPF,
	  .p.reg.r = REG(UINT64_MAX - 0xfff, MIB, 0), .fds = "m", .want = -EINVAL,
	  .nack = true },
	{ "ADD_MEM_REG without its fd", .req = VHOST_USER_ADD_MEM_REG, .pf = SLOTSPF,
	  .p.reg.r = OK_REG, .want = -EBADMSG },
	{ "ADD_MEM_REG with two fds", .req = VHOST_USER_ADD_MEM_REG, .pf = SLOTSPF,
	  .p.reg.r = OK_REG, .fds = "mm", .want = -EBADMSG },
	{ "ADD_MEM_REG size 32", .req = VHOST_USER_ADD_MEM_REG, .pf = SLOTSPF,
	  .size_delta = -8, .p.reg.r = OK_REG, .fds = "m", .want = -EBADMSG },
	{ "REM_MEM_REG of no region", .req = VHOST_USER_REM_MEM_REG, .pf = SLOTSPF,
	  .p.reg.r = OK_REG, .want = -ENOENT, .nack = true },
	{ "REM_MEM_REG size 48", .req = VHOST_USER_REM_MEM_REG, .pf = SLOTSPF,
	  .size_delta = 8, .p.reg.r = OK_REG, .want = -EBADMSG },

	/* NET_SET_MTU: the protocol feature, the range, the configured MTU. */
	{ "NET_SET_MTU, MTU not offered", .req = VHOST_USER_NET_SET_MTU, .p.u64 = 1500,
	  .want = -EPROTO, .nack = true },
	{ "NET_SET_MTU, protocol feature MTU not negotiated", .req = VHOST_USER_NET_SET_MTU,
	  .mtu = 1500, .mtu_pf_off = true, .p.u64 = 1500, .want = -EPROTO, .nack = true },
	{ "NET_SET_MTU 9000 on a 1500 device", .req = VHOST_USER_NET_SET_MTU, .mtu = 1500,
	  .p.u64 = 9000, .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU 1500 on a 9000 device", .req = VHOST_USER_NET_SET_MTU, .mtu = 9000,
	  .p.u64 = 1500, .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU 0", .req = VHOST_USER_NET_SET_MTU, .mtu = 1500, .p.u64 = 0,
	  .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU 67 (below the minimum) on a 68 device",
	  .req = VHOST_USER_NET_SET_MTU, .mtu = 68, .p.u64 = 67, .want = -EINVAL,
	  .nack = true },
	{ "NET_SET_MTU 65522 (above the maximum)", .req = VHOST_USER_NET_SET_MTU,
	  .mtu = 65521, .p.u64 = 65522, .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU 2^32 + 1500 (not truncated to 1500)", .req = VHOST_USER_NET_SET_MTU,
	  .mtu = 1500, .p.u64 = (UINT64_C(1) << 32) + 1500, .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU 2^16 + 1500 (not truncated to 1500)", .req = VHOST_USER_NET_SET_MTU,
	  .mtu = 1500, .p.u64 = (UINT64_C(1) << 16) + 1500, .want = -EINVAL, .nack = true },
	{ "NET_SET_MTU size 4", .req = VHOST_USER_NET_SET_MTU, .mtu = 1500, .size_delta = -4,
	  .p.u64 = 1500, .want = -EBADMSG },
	{ "NET_SET_MTU size 16", .req = VHOST_USER_NET_SET_MTU, .mtu = 1500, .size_delta = 8,
	  .p.u64 = 1500, .want = -EBADMSG },
	{ "NET_SET_MTU with an fd", .req = VHOST_USER_NET_SET_MTU, .mtu = 1500,
	  .p.u64 = 1500, .fds = "e", .want = -EBADMSG },

	/* Header version bits. */
	{ "version 0", .req = VHOST_USER_SET_VRING_NUM, .version_xor = 1, ST(0, 256),
	  .want = -EPROTO },
	{ "version 2", .req = VHOST_USER_SET_VRING_NUM, .version_xor = 3, ST(0, 256),
	  .want = -EPROTO },
	{ "version 3", .req = VHOST_USER_SET_VRING_NUM, .version_xor = 2, ST(0, 256),
	  .want = -EPROTO },
	{ "version 0 on GET_FEATURES", .req = VHOST_USER_GET_FEATURES, .version_xor = 1,
	  .want = -EPROTO },
	{ "version 0 on SET_MEM_TABLE with its fd", .req = VHOST_USER_SET_MEM_TABLE,
	  .version_xor = 1, MEM1(OK_REG), .fds = "m", .want = -EPROTO },
	{ "version 2 on SET_VRING_KICK with its fd", .req = KICK, .version_xor = 3,
	  .p.u64 = 0, .fds = "e", .want = -EPROTO },

	/* Payload size: too small and too big for every fixed-size request. */
	{ "GET_FEATURES size 1", .req = VHOST_USER_GET_FEATURES, .size_delta = 1,
	  .want = -EBADMSG },
	{ "GET_FEATURES size 8", .req = VHOST_USER_GET_FEATURES, .size_delta = 8,
	  .want = -EBADMSG },
	{ "SET_FEATURES size 0", .req = VHOST_USER_SET_FEATURES, .size_delta = -8,
	  .want = -EBADMSG },
	{ "SET_FEATURES size 7", .req = VHOST_USER_SET_FEATURES, .size_delta = -1,
	  .want = -EBADMSG },
	{ "SET_FEATURES size 9", .req = VHOST_USER_SET_FEATURES, .size_delta = 1,
	  .want = -EBADMSG },
	{ "SET_FEATURES size 16", .req = VHOST_USER_SET_FEATURES, .size_delta = 8,
	  .want = -EBADMSG },
	{ "SET_OWNER size 8", .req = VHOST_USER_SET_OWNER, .size_delta = 8,
	  .want = -EBADMSG },
	{ "GET_PROTOCOL_FEATURES size 8", .req = VHOST_USER_GET_PROTOCOL_FEATURES,
	  .size_delta = 8, .want = -EBADMSG },
	{ "SET_PROTOCOL_FEATURES size 4", .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .size_delta = -4, .want = -EBADMSG },
	{ "SET_PROTOCOL_FEATURES size 12", .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .size_delta = 4, .want = -EBADMSG },
	{ "GET_QUEUE_NUM size 4", .req = VHOST_USER_GET_QUEUE_NUM, .size_delta = 4,
	  .want = -EBADMSG },
	{ "SET_VRING_NUM size 4", .req = VHOST_USER_SET_VRING_NUM, .size_delta = -4,
	  ST(0, 256), .want = -EBADMSG },
	{ "SET_VRING_NUM size 12", .req = VHOST_USER_SET_VRING_NUM, .size_delta = 4,
	  ST(0, 256), .want = -EBADMSG },
	{ "SET_VRING_ADDR size 0", .req = VHOST_USER_SET_VRING_ADDR, .size_delta = -40,
	  ADDR(0, 0), .want = -EBADMSG },
	{ "SET_VRING_ADDR size 32", .req = VHOST_USER_SET_VRING_ADDR, .size_delta = -8,
	  ADDR(0, 0), .want = -EBADMSG },
	{ "SET_VRING_ADDR size 48", .req = VHOST_USER_SET_VRING_ADDR, .size_delta = 8,
	  ADDR(0, 0), .want = -EBADMSG },
	{ "SET_VRING_BASE size 7", .req = VHOST_USER_SET_VRING_BASE, .size_delta = -1,
	  ST(0, 1), .want = -EBADMSG },
	{ "SET_VRING_BASE size 12", .req = VHOST_USER_SET_VRING_BASE, .size_delta = 4,
	  ST(0, 1), .want = -EBADMSG },
	{ "GET_VRING_BASE size 0", .req = VHOST_USER_GET_VRING_BASE, .size_delta = -8,
	  .want = -EBADMSG },
	{ "GET_VRING_BASE size 16", .req = VHOST_USER_GET_VRING_BASE, .size_delta = 8,
	  .want = -EBADMSG },
	{ "SET_VRING_KICK size 4", .req = KICK, .size_delta = -4, .p.u64 = NOFD,
	  .want = -EBADMSG },
	{ "SET_VRING_KICK size 12 with its fd", .req = KICK, .size_delta = 4, .p.u64 = 0,
	  .fds = "e", .want = -EBADMSG },
	{ "SET_VRING_CALL size 4", .req = CALL, .size_delta = -4, .p.u64 = NOFD,
	  .want = -EBADMSG },
	{ "SET_VRING_CALL size 12", .req = CALL, .size_delta = 4, .p.u64 = NOFD,
	  .want = -EBADMSG },
	{ "SET_VRING_ERR size 7", .req = ERR, .size_delta = -1, .p.u64 = NOFD,
	  .want = -EBADMSG },
	{ "SET_VRING_ERR size 9", .req = ERR, .size_delta = 1, .p.u64 = NOFD,
	  .want = -EBADMSG },
	{ "SET_VRING_ENABLE size 4", .req = VHOST_USER_SET_VRING_ENABLE, .size_delta = -4,
	  ST(0, 1), .want = -EBADMSG },
	{ "SET_VRING_ENABLE size 12", .req = VHOST_USER_SET_VRING_ENABLE, .size_delta = 4,
	  ST(0, 1), .want = -EBADMSG },
	/* SET_MEM_TABLE's size depends on nregions; it is still framing, checked
	 * by the gate: the connection closes, ack or not. */
	{ "SET_MEM_TABLE size 0", .req = VHOST_USER_SET_MEM_TABLE, .size_delta = -40,
	  MEM1(OK_REG), .fds = "m", .want = -EBADMSG },
	{ "SET_MEM_TABLE size 4", .req = VHOST_USER_SET_MEM_TABLE, .size_delta = -36,
	  MEM1(OK_REG), .fds = "m", .want = -EBADMSG },
	{ "SET_MEM_TABLE size one short of nregions 1", .req = VHOST_USER_SET_MEM_TABLE,
	  .size_delta = -1, MEM1(OK_REG), .fds = "m", .want = -EBADMSG },
	{ "SET_MEM_TABLE size of 2 regions, nregions 1", .req = VHOST_USER_SET_MEM_TABLE,
	  .size_delta = 32, MEM1(OK_REG), .fds = "m", .want = -EBADMSG },

	/* Fds on messages that take none, or more than the message takes. */
	{ "GET_FEATURES with an fd", .req = VHOST_USER_GET_FEATURES, .fds = "e",
	  .want = -EBADMSG },
	{ "SET_FEATURES with an fd", .req = VHOST_USER_SET_FEATURES,
	  .p.u64 = VIRTIO_BIT(VIRTIO_F_VERSION_1), .fds = "e", .want = -EBADMSG },
	{ "SET_OWNER with an fd", .req = VHOST_USER_SET_OWNER, .fds = "e",
	  .want = -EBADMSG },
	{ "RESET_OWNER with an fd", .req = VHOST_USER_RESET_OWNER, .fds = "e",
	  .want = -EBADMSG },
	{ "GET_PROTOCOL_FEATURES with an fd", .req = VHOST_USER_GET_PROTOCOL_FEATURES,
	  .fds = "e", .want = -EBADMSG },
	{ "SET_PROTOCOL_FEATURES with an fd", .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .fds = "m", .want = -EBADMSG },
	{ "GET_QUEUE_NUM with an fd", .req = VHOST_USER_GET_QUEUE_NUM, .fds = "e",
	  .want = -EBADMSG },
	{ "SET_VRING_NUM with an fd", .req = VHOST_USER_SET_VRING_NUM, ST(0, 256),
	  .fds = "e", .want = -EBADMSG },
	{ "SET_VRING_NUM with 8 fds", .req = VHOST_USER_SET_VRING_NUM, ST(0, 256),
	  .fds = "eeeemmmm", .want = -EBADMSG },
	{ "SET_VRING_ADDR with an fd", .req = VHOST_USER_SET_VRING_ADDR, ADDR(0, 0),
	  .fds = "m", .want = -EBADMSG },
	{ "SET_VRING_BASE with an fd", .req = VHOST_USER_SET_VRING_BASE, ST(0, 1),
	  .fds = "e", .want = -EBADMSG },
	{ "GET_VRING_BASE with an fd", .req = VHOST_USER_GET_VRING_BASE, ST(0, 0),
	  .fds = "e", .want = -EBADMSG },
	{ "SET_VRING_ENABLE with an fd", .req = VHOST_USER_SET_VRING_ENABLE, ST(0, 1),
	  .fds = "e", .want = -EBADMSG },
	{ "SET_VRING_KICK with 2 fds", .req = KICK, .p.u64 = 0, .fds = "ee",
	  .want = -EBADMSG },
	{ "SET_VRING_CALL with 2 fds", .req = CALL, .p.u64 = 1, .fds = "ee",
	  .want = -EBADMSG },
	{ "SET_VRING_ERR with 3 fds", .req = ERR, .p.u64 = 2, .fds = "eee",
	  .want = -EBADMSG },
	{ "SET_MEM_TABLE without its fd", .req = VHOST_USER_SET_MEM_TABLE, MEM1(OK_REG),
	  .want = -EBADMSG },

	/* The invalid-fd flag must agree with the fds. */
	{ "SET_VRING_KICK NOFD with an fd", .req = KICK, .p.u64 = NOFD | 1, .fds = "e",
	  .want = -EBADMSG },
	{ "SET_VRING_KICK no NOFD, no fd", .req = KICK, .p.u64 = 1, .want = -EBADMSG },
	{ "SET_VRING_CALL NOFD with an fd", .req = CALL, .p.u64 = NOFD, .fds = "e",
	  .want = -EBADMSG },
	{ "SET_VRING_CALL no NOFD, no fd", .req = CALL, .p.u64 = 0, .want = -EBADMSG },
	{ "SET_VRING_ERR NOFD with an fd", .req = ERR, .p.u64 = NOFD | 3, .fds = "e",
	  .want = -EBADMSG },
	{ "SET_VRING_ERR no NOFD, no fd", .req = ERR, .p.u64 = 3, .want = -EBADMSG },
	/* 256 + 1 is not vring 257: bit 8 is NOFD, so this says "vring 1, no fd". */
	{ "SET_VRING_KICK 256+1 with an fd (bit 8 is NOFD)", .req = KICK, .p.u64 = 256 + 1,
	  .fds = "e", .want = -EBADMSG },

	/* Reserved bits in the u64 of KICK/CALL/ERR (index bits 0..7, NOFD bit 8). */
	{ "SET_VRING_KICK 512+1 (bit 9)", .req = KICK, .p.u64 = 512 + 1, .fds = "e",
	  .want = -EINVAL },
	{ "SET_VRING_KICK 1024+0|NOFD (bit 10)", .req = KICK, .p.u64 = 1024 | NOFD,
	  .want = -EINVAL },
	{ "SET_VRING_KICK 0x10001 (vring 1 if truncated to 16 bits)", .req = KICK,
	  .p.u64 = 0x10001, .fds = "e", .want = -EINVAL },
	{ "SET_VRING_KICK 0x100000001 (vring 1 if truncated to 32 bits)", .req = KICK,
	  .p.u64 = UINT64_C(0x100000001), .fds = "e", .want = -EINVAL },
	{ "SET_VRING_KICK bit 63", .req = KICK, .p.u64 = UINT64_C(1) << 63, .fds = "e",
	  .want = -EINVAL },
	{ "SET_VRING_CALL 0x400+1", .req = CALL, .p.u64 = 0x401, .fds = "e",
	  .want = -EINVAL },
	{ "SET_VRING_CALL all high bits, NOFD", .req = CALL, .p.u64 = ~UINT64_C(0xff),
	  .want = -EINVAL },
	{ "SET_VRING_ERR 0x200", .req = ERR, .p.u64 = 0x200, .fds = "e", .want = -EINVAL },
	{ "SET_VRING_ERR 0x100000000|NOFD", .req = ERR,
	  .p.u64 = UINT64_C(0x100000000) | NOFD, .want = -EINVAL },
	{ "SET_VRING_CALL 0x10001 (vring 1 if truncated to 16 bits)", .req = CALL,
	  .p.u64 = 0x10001, .fds = "e", .want = -EINVAL },

	/* Vring index out of range (four vrings) in every index-bearing message. */
	{ "SET_VRING_NUM index 4", .req = VHOST_USER_SET_VRING_NUM, ST(4, 256),
	  .want = -ERANGE },
	{ "SET_VRING_NUM index 256 (0 if truncated to 8 bits)",
	  .req = VHOST_USER_SET_VRING_NUM, ST(256, 256), .want = -ERANGE },
	{ "SET_VRING_NUM index 0x10000 (0 if truncated to 16 bits)",
	  .req = VHOST_USER_SET_VRING_NUM, ST(0x10000, 256), .want = -ERANGE },
	{ "SET_VRING_NUM index 0x80000000", .req = VHOST_USER_SET_VRING_NUM,
	  ST(0x80000000u, 256), .want = -ERANGE },
	{ "SET_VRING_NUM index 0xffffffff", .req = VHOST_USER_SET_VRING_NUM,
	  ST(UINT32_MAX, 256), .want = -ERANGE },
	{ "SET_VRING_NUM index 2, one queue pair", .req = VHOST_USER_SET_VRING_NUM,
	  ST(2, 256), .max_qp = 1, .want = -ERANGE },
	{ "SET_VRING_ADDR index 4", .req = VHOST_USER_SET_VRING_ADDR, ADDR(4, 0),
	  .want = -ERANGE },
	{ "SET_VRING_ADDR index 256", .req = VHOST_USER_SET_VRING_ADDR, ADDR(256, 0),
	  .want = -ERANGE },
	{ "SET_VRING_ADDR index 0xffffffff", .req = VHOST_USER_SET_VRING_ADDR,
	  ADDR(UINT32_MAX, 0), .want = -ERANGE },
	{ "SET_VRING_BASE index 4", .req = VHOST_USER_SET_VRING_BASE, ST(4, 1),
	  .want = -ERANGE },
	{ "SET_VRING_BASE index 257 (1 if truncated to 8 bits)",
	  .req = VHOST_USER_SET_VRING_BASE, ST(257, 1), .want = -ERANGE },
	{ "SET_VRING_BASE index 0xffffffff", .req = VHOST_USER_SET_VRING_BASE,
	  ST(UINT32_MAX, 1), .want = -ERANGE },
	{ "GET_VRING_BASE index 4", .req = VHOST_USER_GET_VRING_BASE, ST(4, 0),
	  .want = -ERANGE },
	{ "GET_VRING_BASE index 256", .req = VHOST_USER_GET_VRING_BASE, ST(256, 0),
	  .want = -ERANGE },
	{ "GET_VRING_BASE index 0x10003 (3 if truncated to 16 bits)",
	  .req = VHOST_USER_GET_VRING_BASE, ST(0x10003, 0), .want = -ERANGE },
	{ "GET_VRING_BASE index 0xffffffff", .req = VHOST_USER_GET_VRING_BASE,
	  ST(UINT32_MAX, 0), .want = -ERANGE },
	{ "SET_VRING_KICK index 4", .req = KICK, .p.u64 = 4, .fds = "e", .want = -ERANGE },
	{ "SET_VRING_KICK index 255", .req = KICK, .p.u64 = 255, .fds = "e",
	  .want = -ERANGE },
	{ "SET_VRING_KICK index 4|NOFD", .req = KICK, .p.u64 = 4 | NOFD, .want = -ERANGE },
	{ "SET_VRING_KICK index 2, one queue pair", .req = KICK, .p.u64 = 2, .fds = "e",
	  .max_qp = 1, .want = -ERANGE },
	{ "SET_VRING_CALL index 4", .req = CALL, .p.u64 = 4, .fds = "e", .want = -ERANGE },
	{ "SET_VRING_CALL index 255|NOFD", .req = CALL, .p.u64 = 255 | NOFD,
	  .want = -ERANGE },
	{ "SET_VRING_ERR index 4", .req = ERR, .p.u64 = 4, .fds = "e", .want = -ERANGE },
	{ "SET_VRING_ENABLE index 4", .req = VHOST_USER_SET_VRING_ENABLE, ST(4, 1),
	  .want = -ERANGE },
	{ "SET_VRING_ENABLE index 256", .req = VHOST_USER_SET_VRING_ENABLE, ST(256, 1),
	  .want = -ERANGE },
	{ "SET_VRING_ENABLE index 0x80000000", .req = VHOST_USER_SET_VRING_ENABLE,
	  ST(0x80000000u, 1), .want = -ERANGE },
	{ "SET_VRING_ENABLE index 0xffffffff", .req = VHOST_USER_SET_VRING_ENABLE,
	  ST(UINT32_MAX, 1), .want = -ERANGE },

	/* Ring sizes: a power of two in 1..32768. */
	{ "SET_VRING_NUM 0", .req = VHOST_USER_SET_VRING_NUM, ST(0, 0), .want = -EINVAL,
	  .nack = true },
	{ "SET_VRING_NUM 3", .req = VHOST_USER_SET_VRING_NUM, ST(1, 3), .want = -EINVAL,
	  .nack = true },
	{ "SET_VRING_NUM 32769", .req = VHOST_USER_SET_VRING_NUM, ST(1, 32769),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_NUM 65536", .req = VHOST_USER_SET_VRING_NUM, ST(1, 65536),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_NUM 0x80000000", .req = VHOST_USER_SET_VRING_NUM, ST(2, 0x80000000u),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_NUM 0xffffffff", .req = VHOST_USER_SET_VRING_NUM, ST(3, UINT32_MAX),
	  .want = -EINVAL, .nack = true },

	/* Started vrings: size and base only change after GET_VRING_BASE. */
	{ "SET_VRING_NUM on a started vring", .req = VHOST_USER_SET_VRING_NUM,
	  ST(0, 256), .started = true, .want = -EBUSY },
	{ "SET_VRING_BASE on a started vring", .req = VHOST_USER_SET_VRING_BASE,
	  ST(0, 5), .started = true, .want = -EBUSY },

	/* Other values. */
	{ "SET_VRING_BASE 0x10000", .req = VHOST_USER_SET_VRING_BASE, ST(1, 0x10000),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_BASE 0xffffffff", .req = VHOST_USER_SET_VRING_BASE, ST(1, UINT32_MAX),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_ENABLE 2", .req = VHOST_USER_SET_VRING_ENABLE, ST(1, 2),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_ENABLE 0xffffffff", .req = VHOST_USER_SET_VRING_ENABLE,
	  ST(1, UINT32_MAX), .want = -EINVAL, .nack = true },
	{ "SET_VRING_ADDR flags 0x2", .req = VHOST_USER_SET_VRING_ADDR, ADDR(1, 2),
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_ADDR flags 0x80000000", .req = VHOST_USER_SET_VRING_ADDR,
	  ADDR(1, 0x80000000u), .want = -EINVAL, .nack = true },
	/* Vring fds must be eventfds: a poll thread writes call and err fds in
	 * its burst loop, where anything that can block would stall it. */
	{ "SET_VRING_CALL with a pipe", .req = CALL, .p.u64 = 0, .fds = "p",
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_CALL with a memfd", .req = CALL, .p.u64 = 1, .fds = "m",
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_ERR with a socket", .req = ERR, .p.u64 = 0, .fds = "u",
	  .want = -EINVAL, .nack = true },
	{ "SET_VRING_KICK with a pipe", .req = KICK, .p.u64 = 0, .fds = "p",
	  .want = -EINVAL, .nack = true },

	{ "SET_FEATURES CSUM (not offered)", .req = VHOST_USER_SET_FEATURES,
	  .p.u64 = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_CSUM),
	  .want = -EINVAL, .nack = true },
	{ "SET_FEATURES RING_PACKED (not offered)", .req = VHOST_USER_SET_FEATURES,
	  .p.u64 = VIRTIO_BIT(VIRTIO_F_RING_PACKED), .want = -EINVAL, .nack = true },
	{ "SET_FEATURES bit 63", .req = VHOST_USER_SET_FEATURES, .p.u64 = UINT64_C(1) << 63,
	  .want = -EINVAL, .nack = true },
	{ "SET_FEATURES MQ with one queue pair", .req = VHOST_USER_SET_FEATURES,
	  .p.u64 = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MQ),
	  .max_qp = 1, .want = -EINVAL, .nack = true },
	{ "SET_PROTOCOL_FEATURES CONFIG (not offered)",
	  .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .p.u64 = UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIG, .want = -EINVAL,
	  .nack = true },
	{ "SET_PROTOCOL_FEATURES CONFIG (not offered)",
	  .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .p.u64 = UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIG, .want = -EINVAL,
	  .nack = true },
	{ "SET_PROTOCOL_FEATURES all bits", .req = VHOST_USER_SET_PROTOCOL_FEATURES,
	  .p.u64 = UINT64_MAX, .want = -EINVAL, .nack = true },

	/* SET_MEM_TABLE: counts (framing: the connection closes). */
	{ "SET_MEM_TABLE nregions 0 with an fd", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = 0 }, .fds = "m", .want = -EBADMSG },
	{ "SET_MEM_TABLE nregions 0 without fds", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = 0 }, .want = -EBADMSG },
	{ "SET_MEM_TABLE nregions 9", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = 9, .r = { OK_REG } }, .fds = "mmmmmmmm", .want = -EBADMSG },
	{ "SET_MEM_TABLE nregions 0xffffffff", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = UINT32_MAX, .r = { OK_REG } }, .fds = "m",
	  .want = -EBADMSG },
	{ "SET_MEM_TABLE nregions 2, one fd", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM2(REG(0, MIB, 0), REG(MIB, MIB, 0)), .fds = "m", .want = -EBADMSG },
	{ "SET_MEM_TABLE nregions 1, two fds", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(OK_REG), .fds = "mm", .want = -EBADMSG },

	/* SET_MEM_TABLE: region values. */
	{ "SET_MEM_TABLE region size 0", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, 0, 0)), .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE mmap_offset + size wraps", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, MIB, UINT64_MAX - 0xfff)), .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE mmap_offset + size == 2^64", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, MIB, 0 - MIB)), .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE mmap_offset past the file", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, 4 * KIB, 2 * MIB)), .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE mmap_offset + size one byte past the file",
	  .req = VHOST_USER_SET_MEM_TABLE, MEM1(REG(0, MIB - 4 * KIB + 1, 4 * KIB)),
	  .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE region larger than its memfd", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, MIB, 0)), .fds = "s", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE memfd of 0 bytes", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(REG(0, 4 * KIB, 0)), .fds = "0", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE second region larger than its memfd",
	  .req = VHOST_USER_SET_MEM_TABLE, MEM2(REG(0, MIB, 0), REG(MIB, MIB, 0)),
	  .fds = "ms", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE overlapping regions", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM2(REG(0, MIB, 0), REG(MIB / 2, MIB / 2, 0)), .fds = "mm", .want = -EINVAL,
	  .nack = true },
	{ "SET_MEM_TABLE identical regions", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM2(REG(0, MIB, 0), REG(0, MIB, 0)), .fds = "mm", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE gpa + size wraps", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = 1, .r = { { .gpa = UINT64_MAX - 0xfff, .size = MIB,
	                                     .fva = FVA } } },
	  .fds = "m", .want = -EINVAL, .nack = true },
	{ "SET_MEM_TABLE fva + size wraps", .req = VHOST_USER_SET_MEM_TABLE,
	  .p.mem = { .nregions = 1, .r = { { .gpa = 0, .size = MIB,
	                                     .fva = UINT64_MAX - 0xfff } } },
	  .fds = "m", .want = -EINVAL, .nack = true },

	/* SET_MEM_TABLE: fds that cannot back guest memory. */
	{ "SET_MEM_TABLE fd is a pipe", .req = VHOST_USER_SET_MEM_TABLE, MEM1(OK_REG),
	  .fds = "p", .want = -EACCES, .nack = true },
	{ "SET_MEM_TABLE fd is an eventfd", .req = VHOST_USER_SET_MEM_TABLE, MEM1(OK_REG),
	  .fds = "e", .want = -ENODEV, .nack = true },
	{ "SET_MEM_TABLE fd is a unix socket", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(OK_REG), .fds = "u", .want = -ENODEV, .nack = true },
	{ "SET_MEM_TABLE fd is a read-only memfd", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM1(OK_REG), .fds = "r", .want = -EACCES, .nack = true },
	{ "SET_MEM_TABLE second fd is an eventfd", .req = VHOST_USER_SET_MEM_TABLE,
	  MEM2(REG(0, MIB, 0), REG(MIB, MIB, 0)), .fds = "me", .want = -ENODEV,
	  .nack = true },
};

#define HOSTILE_MEMFD "hostile"

static int
make_fd(char kind)
{
	char path[64];
	int p[2], fd;

	switch (kind) {
	case 'e':                            /* eventfd */
		return vt_eventfd();
	case 'm':                            /* memfd of 1 MiB */
		return vt_memfd(HOSTILE_MEMFD, MIB);
	case 's':                            /* short memfd: 64 KiB */
		return vt_memfd(HOSTILE_MEMFD, 64 * KIB);
	case '0':                            /* empty memfd */
		return vt_memfd(HOSTILE_MEMFD, 0);
	case 'p':                            /* read end of a pipe */
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		close(p[1]);
		return p[0];
	case 'u':                            /* unix socket */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		return fd;
	case 'r':                            /* memfd of 1 MiB, opened read-only */
		p[0] = vt_memfd(HOSTILE_MEMFD, MIB);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		close(p[0]);
		return fd;
	}
	fail_msg("unknown fd kind '%c'", kind);
	return -1;
}

static uint32_t
natural_size(const struct row *r)
{
	switch (r->req) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SEND_RARP:
	case VHOST_USER_NET_SET_MTU:
	case VHOST_USER_SET_STATUS:
		return sizeof(uint64_t);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return sizeof(struct vhu_vring_state);
	case VHOST_USER_SET_VRING_ADDR:
		return sizeof(struct vhu_vring_addr);
	case VHOST_USER_SET_LOG_BASE:
		return 16;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return 8 + sizeof(struct vhu_mem_region);
	case VHOST_USER_SET_MEM_TABLE:
		/* A huge nregions keeps its natural size small: size is not the rule. */
		return r->p.mem.nregions > VHU_MAX_FDS + 1 ? 8 + sizeof(struct vhu_mem_region) :
		       (uint32_t)(8 + r->p.mem.nregions * sizeof(struct vhu_mem_region));
	default:
		return 0;
	}
}

/* ---- running a row ------------------------------------------------------ */

enum variant {
	V_PLAIN,                     /* no NEED_REPLY */
	V_ACK,                       /* NEED_REPLY, REPLY_ACK negotiated */
	V_NOACK,                     /* NEED_REPLY, REPLY_ACK not negotiated */
	V_COUNT
};

static const char *const variant_name[V_COUNT] = {
	"plain", "need-reply+ack", "need-reply, no ack"
};

struct hcase {
	const struct row *r;
	enum variant v;
	char name[160];
};

static struct hcase hcases[ARRAY_SIZE(rows) * V_COUNT];

struct dev_state {
	struct vhu_vring v[VT_MAX_VRINGS];
	const struct gmem *mem;
	uint64_t features;
	uint16_t mtu, frontend_mtu;
};

static void
state_get(const struct vt *t, struct dev_state *s)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < vhu_conn_nvrings(t->d); i++)
		s->v[i] = *vhu_conn_vring(t->d, i);
	s->mem = vhu_conn_mem(t->d);
	s->features = vhu_conn_features(t->d);
	s->mtu = vhu_conn_mtu(t->d);
	s->frontend_mtu = vhu_conn_frontend_mtu(t->d);
}

static void
state_same(const struct vt *t, const struct dev_state *s)
{
	assert_ptr_equal(vhu_conn_mem(t->d), s->mem);
	assert_int_equal(vhu_conn_features(t->d), s->features);
	assert_int_equal(vhu_conn_mtu(t->d), s->mtu);
	assert_int_equal(vhu_conn_frontend_mtu(t->d), s->frontend_mtu);
	for (uint32_t i = 0; i < vhu_conn_nvrings(t->d); i++) {
		const struct vhu_vring *v = vhu_conn_vring(t->d, i);

		assert_int_equal(v->num, s->v[i].num);
		assert_int_equal(v->addr_set, s->v[i].addr_set);
		assert_int_equal(v->addrs.desc_fva, s->v[i].addrs.desc_fva);
		assert_int_equal(v->addrs.avail_fva, s->v[i].addrs.avail_fva);
		assert_int_equal(v->addrs.used_fva, s->v[i].addrs.used_fva);
		assert_int_equal(v->base, s->v[i].base);
		assert_int_equal(v->kick_fd, s->v[i].kick_fd);
		assert_int_equal(v->call_fd, s->v[i].call_fd);
		assert_int_equal(v->err_fd, s->v[i].err_fd);
		assert_int_equal(v->started, s->v[i].started);
		assert_int_equal(v->enabled, s->v[i].enabled);
	}
}

/* The row's device with MQ (and REPLY_ACK unless V_NOACK, MTU as the row
 * says) negotiated. */
static struct vt *
hostile_dev(const struct row *r, enum variant v)
{
	struct vt *t = vt_new_offer(r->max_qp ? r->max_qp : 2,
	                            (struct vnet_offer){ .mtu = r->mtu != 0 }, r->mtu);
	uint64_t pf = UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ;

	if (v != V_NOACK)
		pf |= UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	if (r->mtu != 0 && !r->mtu_pf_off)
		pf |= UINT64_C(1) << VHOST_USER_PROTOCOL_F_MTU;
	pf |= r->pf;
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf), 0);
	if (r->started) {
		assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()),
		                 0);
		assert_true(vhu_conn_vring(t->d, 0)->started);
	}
	vt_calls_clear(t);
	return t;
}

/* The connection was kept: the device must still work. */
static void
still_usable(struct vt *t, enum variant v)
{
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, NR, 1, 512), 0);
	if (v == V_ACK)
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_NUM), 0);
	vt_no_reply(t);
	assert_int_equal(vhu_conn_vring(t->d, 1)->num, 512);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_QUEUE_NUM, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_QUEUE_NUM), t->max_qp);
}

static void
test_hostile(void **state)
{
	const struct hcase *c = *state;
	const struct row *r = c->r;
	unsigned fds0 = vt_count_fds(), fds1, maps1, nfds = 0;
	struct vt *t = hostile_dev(r, c->v);
	bool kept = c->v == V_ACK && r->nack;
	struct dev_state before;
	struct vhu_msg m;
	int fds[VHU_MAX_FDS];
	int rc;

	state_get(t, &before);
	fds1 = vt_count_fds();
	maps1 = vt_count_maps(VT_MEMFD_PREFIX);

	memset(&m, 0, sizeof(m));
	m.hdr.request = r->req;
	m.hdr.flags = (VHOST_USER_VERSION ^ r->version_xor) | (c->v == V_PLAIN ? 0 : NR);
	m.hdr.size = (uint32_t)((int32_t)natural_size(r) + r->size_delta);
	m.p = r->p;
	for (const char *k = r->fds ? r->fds : ""; *k; k++) {
		fds[nfds] = make_fd(*k);
		vt_msg_fd(&m, fds[nfds++]);
	}
	assert_int_equal(vt_count_fds(), fds1 + nfds);

	rc = vt_dispatch(t, &m);
	assert_int_equal(rc, kept ? 0 : r->want);
	if (kept)
		assert_int_equal(vt_reply_u64(t, r->req), 1);
	vt_no_reply(t);

	/* Every fd the message carried is closed; nothing new is mapped. */
	for (unsigned i = 0; i < nfds; i++)
		assert_false(vt_fd_is_open(fds[i]));
	assert_int_equal(vt_count_fds(), fds1);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX), maps1);
	/* Rejected before any effect: no owner call, nothing changed. */
	assert_int_equal(t->o.ncalls, 0);
	state_same(t, &before);

	if (kept)
		still_usable(t, c->v);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

/* ---- framing through the socket ------------------------------------------ */

static void
nap(void)
{
	struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Negotiates REPLY_ACK over the wire. */
static void
wire_ack(struct vt *t)
{
	uint64_t pf = (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
	              (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	struct vhu_msg m = vt_msg(VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, sizeof(pf));

	vt_write_msg(t->peer, &m);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	vt_no_reply(t);
}

static void
close_peer(struct vt *t)
{
	close(t->peer);
	t->peer = -1;
}

static void
test_frame_short_header_then_eof(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_msg m = vt_msg(VHOST_USER_SET_VRING_NUM, 0, NULL, 8);
	int e = vt_eventfd();

	(void)state;
	vt_write(t->peer, &m.hdr, 5, &e, 1);     /* the fd rides on the partial header */
	close(e);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	assert_int_equal(t->o.ncalls, 0);
	assert_int_equal(vhu_conn_readable(t->d), 0);   /* nothing new: still waiting */
	close_peer(t);
	assert_int_equal(vhu_conn_readable(t->d), -EBADMSG);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

static void
test_frame_payload_then_eof(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_vring_state s = { 0, 256 };
	struct vhu_msg m = vt_msg(VHOST_USER_SET_VRING_NUM, 0, &s, sizeof(s));
	uint8_t buf[sizeof(m.hdr) + 4];

	(void)state;
	memcpy(buf, &m.hdr, sizeof(m.hdr));
	memcpy(buf + sizeof(m.hdr), &s, 4);
	vt_write(t->peer, buf, sizeof(buf), NULL, 0);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	close_peer(t);
	assert_int_equal(vhu_conn_readable(t->d), -EBADMSG);
	assert_int_equal(vhu_conn_vring(t->d, 0)->num, 0);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

static void
test_frame_size_too_big(void **state)
{
	static const uint32_t sizes[] = { VHU_MAX_PAYLOAD + 1, 0x10000, UINT32_MAX };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		unsigned fds0 = vt_count_fds();
		struct vt *t = vt_new(1);
		struct vhu_hdr h = { .request = VHOST_USER_SET_MEM_TABLE,
		                     .flags = VHOST_USER_VERSION, .size = sizes[k] };
		int e = vt_eventfd();

		vt_write(t->peer, &h, sizeof(h), &e, 1);
		close(e);
		assert_int_equal(vhu_conn_readable(t->d), -EBADMSG);
		assert_int_equal(t->o.ncalls, 0);
		vt_free(t);
		assert_int_equal(vt_count_fds(), fds0);
	}
}

/* The largest message we accept: eight regions, eight fds, VHU_MAX_PAYLOAD. */
static void
test_frame_largest_message(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_mem_table tbl = { .nregions = VHU_MAX_FDS };
	struct vhu_msg m;
	int fds[VHU_MAX_FDS];

	(void)state;
	wire_ack(t);
	for (uint32_t i = 0; i < VHU_MAX_FDS; i++) {
		tbl.r[i] = (struct vhu_mem_region)REG(i * MIB, 64 * KIB, 0);
		fds[i] = vt_memfd(HOSTILE_MEMFD, 64 * KIB);
	}
	m = vt_msg(VHOST_USER_SET_MEM_TABLE, NR, &tbl, VHU_MAX_PAYLOAD);
	memcpy(m.fds, fds, sizeof(fds));
	m.nfds = VHU_MAX_FDS;
	vt_write_msg(t->peer, &m);
	for (uint32_t i = 0; i < VHU_MAX_FDS; i++)
		close(fds[i]);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
	assert_non_null(vhu_conn_mem(t->d));
	assert_int_equal(vhu_conn_mem(t->d)->n, VHU_MAX_FDS);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), VHU_MAX_FDS);
	assert_int_equal(vt_count_fds(), fds0 + 2);
	vt_free(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 0);
	assert_int_equal(vt_count_fds(), fds0);
}

/* Nine fds: more than any message carries. */
static void
test_frame_too_many_fds(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_mem_table tbl = { .nregions = 1, .r = { REG(0, MIB, 0) } };
	struct vhu_msg m = vt_msg(VHOST_USER_SET_MEM_TABLE, 0, &tbl, 8 + 32);
	uint8_t buf[sizeof(m.hdr) + 8 + 32];
	int fds[VHU_MAX_FDS + 1];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = i == 0 ? vt_memfd(HOSTILE_MEMFD, MIB) : vt_eventfd();
	memcpy(buf, &m.hdr, sizeof(m.hdr));
	memcpy(buf + sizeof(m.hdr), &m.p, 8 + 32);
	vt_write(t->peer, buf, sizeof(buf), fds, ARRAY_SIZE(fds));
	for (unsigned i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
	assert_int_equal(vhu_conn_readable(t->d), -EBADMSG);
	assert_null(vhu_conn_mem(t->d));
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 0);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

/* One message in pieces, with pauses: nothing happens until the last byte. */
static void
test_frame_split_message(void **state)
{
	static const size_t cuts[] = { 3, 12, 13, 20, 33 };  /* of 12 + 40 bytes */
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_mem_table tbl = { .nregions = 1, .r = { REG(0, MIB, 0) } };
	struct vhu_msg m = vt_msg(VHOST_USER_SET_MEM_TABLE, NR, &tbl, 8 + 32);
	uint8_t buf[sizeof(m.hdr) + 8 + 32];
	int fd = vt_memfd(HOSTILE_MEMFD, MIB);
	size_t at = 0;

	(void)state;
	wire_ack(t);
	memcpy(buf, &m.hdr, sizeof(m.hdr));
	memcpy(buf + sizeof(m.hdr), &m.p, 8 + 32);
	for (size_t k = 0; k <= ARRAY_SIZE(cuts); k++) {
		size_t end = k < ARRAY_SIZE(cuts) ? cuts[k] : sizeof(buf);

		/* The fd comes with the second piece, mid-header. */
		vt_write(t->peer, buf + at, end - at, &fd, k == 1 ? 1 : 0);
		at = end;
		if (k == 1)
			close(fd);
		nap();
		assert_int_equal(vhu_conn_readable(t->d), 0);
		if (at < sizeof(buf)) {
			assert_null(vhu_conn_mem(t->d));
			assert_int_equal(t->o.ncalls, 0);
			vt_no_reply(t);
		}
	}
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
	assert_non_null(vhu_conn_mem(t->d));
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 1);

	/* And one byte at a time. */
	{
		struct vhu_vring_state s = { 1, 4096 };
		struct vhu_msg n = vt_msg(VHOST_USER_SET_VRING_NUM, NR, &s, sizeof(s));
		uint8_t b[sizeof(n.hdr) + sizeof(s)];

		memcpy(b, &n.hdr, sizeof(n.hdr));
		memcpy(b + sizeof(n.hdr), &s, sizeof(s));
		for (size_t i = 0; i < sizeof(b); i++) {
			assert_int_equal(vhu_conn_vring(t->d, 1)->num, 0);
			vt_write(t->peer, b + i, 1, NULL, 0);
			assert_int_equal(vhu_conn_readable(t->d), 0);
		}
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_NUM), 0);
		assert_int_equal(vhu_conn_vring(t->d, 1)->num, 4096);
	}
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 0);
}

/* Two whole messages, then EOF: both are handled, then a clean close. */
static void
test_frame_eof_between_messages(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(1);
	struct vhu_vring_state s1 = { 0, 128 }, s2 = { 0, 9 };
	struct vhu_msg a = vt_msg(VHOST_USER_SET_VRING_NUM, 0, &s1, sizeof(s1));
	struct vhu_msg b = vt_msg(VHOST_USER_SET_VRING_BASE, 0, &s2, sizeof(s2));
	uint8_t buf[2 * (sizeof(a.hdr) + sizeof(s1))];

	(void)state;
	memcpy(buf, &a.hdr, sizeof(a.hdr));
	memcpy(buf + 12, &s1, sizeof(s1));
	memcpy(buf + 20, &b.hdr, sizeof(b.hdr));
	memcpy(buf + 32, &s2, sizeof(s2));
	vt_write(t->peer, buf, sizeof(buf), NULL, 0);
	close_peer(t);
	assert_int_equal(vhu_conn_readable(t->d), -ECONNRESET);
	assert_int_equal(vhu_conn_vring(t->d, 0)->num, 128);
	assert_int_equal(vhu_conn_vring(t->d, 0)->base, 9);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

/* A fatal message stops the read loop: what follows it is not handled. */
static void
test_frame_stops_at_fatal_message(void **state)
{
	struct vt *t = vt_new(1);
	struct vhu_vring_state bad = { 7, 128 }, good = { 0, 128 };
	struct vhu_msg a = vt_msg(VHOST_USER_SET_VRING_NUM, 0, &bad, sizeof(bad));
	struct vhu_msg b = vt_msg(VHOST_USER_SET_VRING_NUM, 0, &good, sizeof(good));

	(void)state;
	vt_write_msg(t->peer, &a);
	vt_write_msg(t->peer, &b);
	assert_int_equal(vhu_conn_readable(t->d), -ERANGE);
	assert_int_equal(vhu_conn_vring(t->d, 0)->num, 0);
	vt_free(t);
}

static void
test_repeat_set_vring_num(void **state)
{
	struct vt *t = vt_new(2);
	unsigned fds0;

	(void)state;
	wire_ack(t);
	fds0 = vt_count_fds();
	for (uint32_t i = 0; i < 10000; i++) {
		struct vhu_vring_state s = { i % 4, 1u << (i % 16) };
		struct vhu_msg m = vt_msg(VHOST_USER_SET_VRING_NUM, NR, &s, sizeof(s));

		vt_write_msg(t->peer, &m);
		assert_int_equal(vhu_conn_readable(t->d), 0);
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_NUM), 0);
		assert_int_equal(vhu_conn_vring(t->d, i % 4)->num, 1u << (i % 16));
	}
	assert_int_equal(vt_count_fds(), fds0);
	vt_free(t);
}

/* 10000 tables from fresh memfds: fds and mappings stay flat, and each new
 * table is the one the device translates through. */
static void
test_repeat_set_mem_table(void **state)
{
	struct vt *t = vt_new(1);
	unsigned fds0;

	(void)state;
	vlog_set_level(VLOG_WARN);               /* one info line per table otherwise */
	wire_ack(t);
	fds0 = vt_count_fds();
	for (uint32_t i = 0; i < 10000; i++) {
		struct vhu_mem_table tbl = { .nregions = 1, .r = { REG(0, 64 * KIB, 0) } };
		struct vhu_msg m = vt_msg(VHOST_USER_SET_MEM_TABLE, NR, &tbl, 8 + 32);
		int fd = vt_memfd(HOSTILE_MEMFD, 64 * KIB);
		uint32_t hint = 0, got;
		uint64_t len = sizeof(got);
		void *p;

		assert_int_equal(pwrite(fd, &i, sizeof(i), 0x100), sizeof(i));
		vt_msg_fd(&m, fd);
		vt_write_msg(t->peer, &m);
		close(fd);
		assert_int_equal(vhu_conn_readable(t->d), 0);
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
		p = gmem_gpa_to_hva(vhu_conn_mem(t->d), 0x100, &len, &hint);
		assert_non_null(p);
		memcpy(&got, p, sizeof(got));
		assert_int_equal(got, i);
	}
	assert_int_equal(vt_count_fds(), fds0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 1);
	vt_free(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 0);
	vlog_set_level(VLOG_INFO);
}

/* Sends rejected messages with fds on one connection until it is closed:
 * either a handler rejection (region larger than its memfd) or an unknown
 * request. Returns how many negative REPLY_ACKs came first; *rc is what
 * vhu_conn_readable() returned for the message that closed it. */
static unsigned
reject_until_closed(bool unknown, int *rc)
{
	struct vt *t = vt_new(1);
	unsigned nacks = 0;

	wire_ack(t);
	for (;;) {
		struct vhu_mem_table tbl = { .nregions = 1, .r = { REG(0, 128 * KIB, 0) } };
		struct vhu_msg m = unknown ? vt_msg(1000 + nacks % 100, NR, NULL, 0) :
		                   vt_msg(VHOST_USER_SET_MEM_TABLE, NR, &tbl, 8 + 32);
		int fds[2] = { vt_memfd(HOSTILE_MEMFD, 64 * KIB), vt_eventfd() };

		vt_msg_fd(&m, fds[0]);
		if (unknown)
			vt_msg_fd(&m, fds[1]);
		vt_write_msg(t->peer, &m);
		close(fds[0]);
		close(fds[1]);
		*rc = vhu_conn_readable(t->d);
		if (*rc != 0)
			break;
		assert_int_equal(vt_reply_u64(t, m.hdr.request), 1);
		assert_null(vhu_conn_mem(t->d));
		assert_true(++nacks < 1000);
	}
	vt_no_reply(t);                          /* the closing one is not answered */
	vt_free(t);
	return nacks;
}

/* A frontend gets a bounded number of negative REPLY_ACKs per connection, the
 * same for handler rejections and unknown requests; then the connection
 * closes. Repeated over many connections: no fd or mapping accumulates. */
static void
test_repeat_rejected_with_fds(void **state)
{
	unsigned fds0 = vt_count_fds(), allowance, n;
	int rc;

	(void)state;
	allowance = reject_until_closed(false, &rc);
	assert_true(allowance >= 1);
	assert_int_equal(rc, -EPROTO);
	n = reject_until_closed(true, &rc);
	assert_int_equal(n, allowance);
	/* The unknown-request path reports its own error when it closes. */
	assert_true(rc == -EPROTO || rc == -ENOTSUP);
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(reject_until_closed(i % 2, &rc), allowance);
		assert_true(rc < 0);
	}
	assert_int_equal(vt_count_fds(), fds0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX HOSTILE_MEMFD), 0);
}

/* Replies waiting on the peer, each checked to be a zero REPLY_ACK. */
static unsigned
drain_acks(struct vt *t, uint32_t req)
{
	unsigned n = 0;
	uint8_t b;

	while (recv(t->peer, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 1) {
		assert_int_equal(vt_reply_u64(t, req), 0);
		n++;
	}
	return n;
}

/* A burst larger than one readable event handles: handled over several
 * events, in order, none lost or duplicated. */
static void
test_frame_burst_across_events(void **state)
{
	enum { BURST = 200 };
	struct vt *t = vt_new(2);
	uint8_t buf[BURST * 20];
	unsigned total, events = 1;

	(void)state;
	wire_ack(t);
	for (uint32_t i = 0; i < BURST; i++) {
		struct vhu_vring_state s = { i % 4, 1u << (i % 16) };
		struct vhu_msg m = vt_msg(VHOST_USER_SET_VRING_NUM, NR, &s, sizeof(s));

		memcpy(buf + i * 20, &m.hdr, sizeof(m.hdr));
		memcpy(buf + i * 20 + sizeof(m.hdr), &s, sizeof(s));
	}
	vt_write(t->peer, buf, sizeof(buf), NULL, 0);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	total = drain_acks(t, VHOST_USER_SET_VRING_NUM);
	assert_true(total > 0);
	while (total < BURST) {
		unsigned n;

		assert_int_equal(vhu_conn_readable(t->d), 0);
		n = drain_acks(t, VHOST_USER_SET_VRING_NUM);
		assert_true(n > 0);
		total += n;
		assert_true(++events <= BURST);
	}
	assert_int_equal(total, BURST);
	for (uint32_t v = 0; v < 4; v++)      /* the last message for each vring won */
		assert_int_equal(vhu_conn_vring(t->d, v)->num, 1u << ((BURST - 4 + v) % 16));
	assert_int_equal(vhu_conn_readable(t->d), 0);
	vt_no_reply(t);
	vt_free(t);
}

int
main(void)
{
	static const struct CMUnitTest frame[] = {
		cmocka_unit_test(test_frame_short_header_then_eof),
		cmocka_unit_test(test_frame_payload_then_eof),
		cmocka_unit_test(test_frame_size_too_big),
		cmocka_unit_test(test_frame_largest_message),
		cmocka_unit_test(test_frame_too_many_fds),
		cmocka_unit_test(test_frame_split_message),
		cmocka_unit_test(test_frame_eof_between_messages),
		cmocka_unit_test(test_frame_stops_at_fatal_message),
		cmocka_unit_test(test_frame_burst_across_events),
		cmocka_unit_test(test_repeat_set_vring_num),
		cmocka_unit_test(test_repeat_set_mem_table),
		cmocka_unit_test(test_repeat_rejected_with_fds),
	};
	static struct CMUnitTest table[ARRAY_SIZE(hcases)];
	size_t n = 0;
	int failed;

	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		for (enum variant v = 0; v < V_COUNT; v++, n++) {
			hcases[n] = (struct hcase){ .r = &rows[k], .v = v };
			snprintf(hcases[n].name, sizeof(hcases[n].name), "%s [%s]", rows[k].name,
			         variant_name[v]);
			table[n] = (struct CMUnitTest){ .name = hcases[n].name,
			                                .test_func = test_hostile,
			                                .initial_state = &hcases[n] };
		}
	}
	failed = cmocka_run_group_tests_name("vhu_dispatch_hostile", table, NULL, NULL);
	failed += cmocka_run_group_tests_name("vhu_framing", frame, NULL, NULL);
	return failed;
}
