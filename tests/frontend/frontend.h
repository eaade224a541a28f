/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/frontend.h - a small vhost-user frontend written for tests:
 * it plays the driver of a virtio-net device with N queue pairs, its guest
 * memory in one memfd, and talks to a backend over its unix socket in the
 * order QEMU uses (vhost_user_backend_init, vhost_dev_init, vhost_dev_start,
 * vhost_net_start: see frontend.c). Frames go out on TX rings and come back on
 * RX rings; mergeable RX buffers are reassembled from num_buffers. */
#ifndef VHOSTMQ_TESTS_FRONTEND_H
#define VHOSTMQ_TESTS_FRONTEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "vhost-user/proto.h"
#include "virtio/spec.h"

#define FE_MAX_QP 16

struct fe_queue {
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t next_avail;                 /* driver's avail->idx */
	uint16_t used_seen;                  /* used entries consumed */
	uint16_t next_desc;                  /* round-robin descriptor slot */
	uint64_t buf_gpa;                    /* size buffers of buf_len each */
	uint32_t buf_len;
	int kick_fd, call_fd;
	int err_fd;                          /* SET_VRING_ERR eventfd; -1: none */
};

struct fe {
	int sock;
	int memfd;
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t heap;                       /* bump allocator offset */
	uint16_t nqp;
	uint64_t features;                   /* what SET_FEATURES acked */
	uint64_t backend_features, protocol_features;
	uint64_t queue_num;                  /* GET_QUEUE_NUM */
	bool no_kick;                        /* SET_VRING_KICK with NOFD: never kick */
	bool err_fds;                        /* fe_qemu_start also sends SET_VRING_ERR
	                                        with an eventfd per vring (QEMU does
	                                        not: for tests of broken rings) */
	struct fe_queue q[2 * FE_MAX_QP];
};

/* Guest physical and frontend virtual base of the one memory region. */
#define FE_GPA_BASE UINT64_C(0x40000000)
#define FE_FVA_BASE UINT64_C(0x7e0000000000)

/* Connects (retrying up to timeout_ms for the socket to appear). */
int fe_connect(struct fe *f, const char *path, uint16_t nqp, int timeout_ms);
/* Server side (QEMU's chardev server=on): takes a connection accepted from
 * a backend in client mode. */
int fe_adopt(struct fe *f, int sock, uint16_t nqp);
void fe_close(struct fe *f);

/* Starts a backend process: argv[0] is the program, stdout and stderr go to
 * log_path (truncated), and it gets SIGTERM if this process dies. Its pid, or
 * -1. */
pid_t fe_spawn_backend(const char *log_path, char *const argv[]);
/* Stops a backend process: SIGTERM, then SIGKILL if it is still there after
 * 5 s. Its exit status (waitpid form), or -1 if it had to be killed. */
int fe_stop_backend(pid_t pid);
/* Writes a config of two loopback devices in adaptive mode (MTU 9000),
 * "bystander" on sock_by and "hostile" on sock_host, nqp queue pairs each.
 * No cores are
 * given: both share the poll thread of the highest allowed CPU, so what the
 * hostile one costs that thread, the bystander feels. 0 or -1. */
int fe_write_bystander_config(const char *path, const char *sock_by, const char *sock_host,
                              unsigned nqp);
/* One request on a vhostmq control socket (req: a JSON object and a
 * newline); the reply line goes to buf (NUL-terminated). Its length, or -1
 * when the socket cannot be reached or no reply came within timeout_ms of a
 * read. */
ssize_t fe_ctl_request(const char *ctl_path, const char *req, char *buf, size_t cap,
                       int timeout_ms);
/* Copies a backend's log to stderr, for a failing test. */
void fe_dump_log(const char *log_path);

/* QEMU's device bring-up: vhost_user_backend_init + vhost_dev_init for each
 * queue pair (features, protocol features, queue count, owner, call fds). */
int fe_qemu_init(struct fe *f);
/* vhost_dev_start for each pair, then SET_VRING_ENABLE 1: features are acked
 * as offered & want. rx_buf_len: size of each posted RX buffer. */
int fe_qemu_start(struct fe *f, uint64_t want, uint16_t ring_size, uint32_t rx_buf_len);
/* vhost_net_stop: SET_VRING_ENABLE 0, GET_VRING_BASE for every vring; bases
 * (2 * nqp entries) receive the returned indices. */
int fe_qemu_stop(struct fe *f, uint16_t *bases);

/* SET_VRING_ENABLE for one vring, then a GET_FEATURES round trip, so the
 * backend has handled it when this returns. */
int fe_set_vring_enable(struct fe *f, uint32_t vqi, bool on);
/* Used entries the backend has published on vring vqi so far. */
uint16_t fe_used_idx(struct fe *f, uint32_t vqi);

/* Sends a raw message (no reply expected unless reply != NULL). */
int fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
            const int *fds, unsigned nfds);
int fe_recv_reply(struct fe *f, uint32_t req, void *payload, uint32_t size, int timeout_ms);

/* Queues one frame (with a zeroed net header) on pair qp's TX ring and kicks.
 * split_hdr: header and frame in two descriptors. */
int fe_tx(struct fe *f, uint16_t qp, const void *frame, uint32_t len, bool split_hdr);
/* Raw access, for hostile tests that build their own descriptors. The
 * frontend's mapping of guest address gpa; NULL outside its memory. */
void *fe_gpa_to_hva(struct fe *f, uint64_t gpa);
/* Guest memory no ring or buffer uses yet (after fe_qemu_start's rings);
 * 0 when none is left. */
uint64_t fe_alloc_gpa(struct fe *f, uint64_t len, uint64_t align);
/* Puts head in vring vqi's avail ring, publishes it and kicks (unless
 * no_kick), as a driver adding one chain does. */
void fe_avail_add(struct fe *f, uint32_t vqi, uint16_t head);

/* Number of TX buffers the backend has returned so far. */
uint16_t fe_tx_done(struct fe *f, uint16_t qp);
/* Receives one frame from pair qp within timeout_ms into buf; returns its
 * length, 0 on timeout, -1 on a malformed used entry. Buffers are re-posted. */
int fe_rx(struct fe *f, uint16_t qp, void *buf, uint32_t cap, int timeout_ms);

#endif
