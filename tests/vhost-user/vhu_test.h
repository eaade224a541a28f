/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/vhu_test.h - what the vhost-user tests share: a fake owner
 * that implements struct vhu_ops, records every stop/commit call in order
 * and checks that no configuration a poll thread could be using changes
 * behind its back; a device on one end of a socketpair whose other end plays
 * the frontend; message builders, both for vhu_dispatch() and for the wire
 * (with SCM_RIGHTS); memfds; and counters of open fds and of mappings, so a
 * test can show that every fd a message carried was closed and that nothing
 * stayed mapped. Helpers fail the running cmocka test on any surprise. */
#ifndef VHOSTMQ_TESTS_VHOST_USER_VHU_TEST_H
#define VHOSTMQ_TESTS_VHOST_USER_VHU_TEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vhost-user/conn.h"
#include "vhost-user/proto.h"

#define VT_MAX_VRINGS 512                /* 256 queue pairs */
#define VT_MAX_CALLS  1024               /* calls kept; later ones are only counted */
#define VT_REPLY_WAIT_MS 1000

/* Every memfd a test creates is named "vhut-<name>", so /proc/self/maps shows
 * which of them are mapped. */
#define VT_MEMFD_PREFIX "memfd:vhut-"

/* One stop ('s') or commit ('c') call: the vrings of its set, in order, and
 * whether each was vhu_vring_ready() then. */
#define VT_MAX_SET VHU_MAX_VRINGS
struct vt_call {
	char op;
	uint32_t n;
	uint32_t vqi[VT_MAX_SET];
	bool ready[VT_MAX_SET];
};

/* What a running vring was started with: must not change until a stop. */
struct vt_snap {
	struct vhu_vring v;
	const struct gmem *mem;
	uint64_t features;
};

struct vt_owner {
	struct vhu_conn *dev;             /* set once vhu_conn_new() returned */
	uint32_t ncalls;                 /* all calls, also those not kept */
	struct vt_call calls[VT_MAX_CALLS];
	bool has_pos[VT_MAX_VRINGS];     /* what position() answers */
	uint16_t pos[VT_MAX_VRINGS];
	uint32_t npos;                   /* position() calls */
	uint32_t nresets;                /* reset() calls */
	bool running[VT_MAX_VRINGS];     /* committed while ready, not stopped since */
	struct vt_snap snap[VT_MAX_VRINGS];
};

extern const struct vhu_ops vt_ops;

/* A device and the frontend's end of its socket. */
struct vt {
	struct vhu_conn *d;
	int peer;                        /* non-blocking; -1 once a test closed it */
	uint16_t max_qp;
	struct vt_owner o;
};

/* A device that offers no more than the base set (offer all off, MTU not
 * known). */
struct vt *vt_new(uint16_t max_qp);
/* As vt_new(), but NULL (nothing left open) if vhu_conn_new() refused. */
struct vt *vt_try_new(uint16_t max_qp);
/* As vt_new() and vt_try_new(), with vhu_conn_params' offer and mtu. */
struct vt *vt_new_offer(uint16_t max_qp, struct vnet_offer offer, uint16_t mtu);
struct vt *vt_try_new_offer(uint16_t max_qp, struct vnet_offer offer, uint16_t mtu);
/* Frees the device (if still there) and closes the peer. */
void vt_free(struct vt *t);
/* Frees only the device, as the owner does when vhu_dispatch() fails. */
void vt_close_dev(struct vt *t);
/* Forgets the recorded stop/commit calls. */
void vt_calls_clear(struct vt *t);
/* Asserts that the running vrings still look as they did when started. */
void vt_check_running(const struct vt *t);

/* Message builders for vhu_dispatch(). flags gets VHOST_USER_VERSION added. */
struct vhu_msg vt_msg(uint32_t req, uint32_t flags, const void *payload, uint32_t size);
void vt_msg_fd(struct vhu_msg *m, int fd);

/* vhu_dispatch() followed by vt_check_running(). */
int vt_dispatch(struct vt *t, struct vhu_msg *m);
int vt_send0(struct vt *t, uint32_t req, uint32_t flags);
int vt_send_u64(struct vt *t, uint32_t req, uint32_t flags, uint64_t v);
int vt_send_state(struct vt *t, uint32_t req, uint32_t flags, uint32_t index, uint32_t num);
/* KICK/CALL/ERR: fd < 0 sends the NOFD bit and no fd; the fd is handed over. */
int vt_send_file(struct vt *t, uint32_t req, uint32_t flags, uint32_t vqi, int fd);
int vt_send_addr(struct vt *t, uint32_t flags, uint32_t vqi,
                 uint64_t desc, uint64_t avail, uint64_t used,
                 uint32_t addr_flags);
/* SET_MEM_TABLE; the fds are handed over. */
int vt_send_mem(struct vt *t, uint32_t flags,
                const struct vhu_mem_region *r, const int *fds, uint32_t n);

/* Replies read from the peer. */
void vt_reply(struct vt *t, uint32_t req, void *payload, uint32_t size);
uint64_t vt_reply_u64(struct vt *t, uint32_t req);
void vt_no_reply(struct vt *t);

/* Wire side: writes bytes (and fds, which stay the caller's) to a socket. */
void vt_write(int sock, const void *buf, size_t len, const int *fds, unsigned nfds);
/* Writes a whole message as the frontend would; fds stay the caller's. */
void vt_write_msg(int sock, const struct vhu_msg *m);

/* Resources. */
int vt_memfd(const char *name, uint64_t size);
int vt_eventfd(void);
unsigned vt_count_fds(void);
/* Lines of /proc/self/maps that contain needle. */
unsigned vt_count_maps(const char *needle);
bool vt_fd_is_open(int fd);

#endif
