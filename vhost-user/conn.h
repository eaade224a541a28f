/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/conn.h - one frontend connection: the protocol state machine for a
 * virtio-net device. It records what the frontend configured (features, memory
 * table, vrings, fds) and tells its owner, through struct vhu_ops, when a
 * vring must stop being polled and when it may be (re)started. It never frees
 * or closes anything a poll thread can see without first asking the owner to
 * quiesce that vring (the owner returns only after a grace period).
 * Security model: every message passes vhu_dispatch(), which checks the
 * request code, header version, payload size, fd count and vring index against
 * one table before any handler runs; handlers check the payload's values. */
#ifndef VHOSTMQ_VHOST_USER_CONN_H
#define VHOSTMQ_VHOST_USER_CONN_H
#include <stdbool.h>
#include <stdint.h>
#include "vhost-user/msg.h"
#include "virtio/gmem.h"
#include "common/log.h"
#include "virtio/vq.h"

struct vhu_vring {
	uint32_t num;                    /* SET_VRING_NUM; 0 = not set */
	struct vq_addrs addrs;           /* SET_VRING_ADDR */
	bool addr_set;
	uint16_t base;                   /* SET_VRING_BASE */
	int kick_fd, call_fd, err_fd;    /* -1: none (NOFD, or never sent) */
	bool started;                    /* SET_VRING_KICK seen, until GET_VRING_BASE */
	bool enabled;                    /* SET_VRING_ENABLE, or implied (see dev.c) */
};

struct vhu_ops {
	/* Stop polling vqi; return once no poll thread can touch its vq, fds or
	 * memory. Called for vrings that may not be running (then a no-op). */
	void (*quiesce)(void *owner, uint32_t vqi);
	/* vqi's configuration changed: start polling it if vhu_vring_ready(). */
	void (*resume)(void *owner, uint32_t vqi);
	/* For GET_VRING_BASE of a quiesced vring: its next avail index, if it ran. */
	bool (*position)(void *owner, uint32_t vqi, uint16_t *last_avail);
	/* Every vring is quiesced and the device back to its initial state
	 * (RESET_OWNER, disconnect): what waits for the old driver can go. */
	void (*reset)(void *owner);
};

/* KICK/CALL/ERR carry a vring index in 8 bits (QEMU masks it so too), so a
 * vhost-user device can address 256 vrings: 128 queue pairs. */
#define VHU_MAX_QP ((VHOST_USER_VRING_IDX_MASK + 1) / 2)

struct vhu_conn_params {
	const char *name;                /* for log lines */
	uint16_t max_qp;                 /* GET_QUEUE_NUM, 1..VHU_MAX_QP */
	const struct vhu_ops *ops;
	void *owner;
	/* Limits this device's rejection lines across connections; NULL: none. */
	struct vlog_ratelimit *log_limit;
};

struct vhu_conn;

/* Takes ownership of sock (a connected, non-blocking unix socket); NULL (sock
 * closed) when out of memory or max_qp is outside 1..VHU_MAX_QP. */
struct vhu_conn *vhu_conn_new(const struct vhu_conn_params *p, int sock);
/* Quiesces every vring through the ops, closes every fd, unmaps memory. */
void vhu_conn_free(struct vhu_conn *d);

int vhu_conn_sock(const struct vhu_conn *d);
/* The socket is readable: handle whatever arrived. 0 keeps the connection;
 * negative means close it (already logged): call vhu_conn_free(). */
int vhu_conn_readable(struct vhu_conn *d);

/* One whole message; also the entry point of tests and fuzzers. Takes the
 * message's fds on every path. 0 or -errno (connection must close). */
int vhu_dispatch(struct vhu_conn *d, struct vhu_msg *m);

/* What the owner reads when resuming a vring (control thread only). */
uint32_t vhu_conn_nvrings(const struct vhu_conn *d);
const struct vhu_vring *vhu_conn_vring(const struct vhu_conn *d, uint32_t vqi);
const struct gmem *vhu_conn_mem(const struct vhu_conn *d);
uint64_t vhu_conn_features(const struct vhu_conn *d);
bool vhu_vring_ready(const struct vhu_conn *d, uint32_t vqi);

/* Protocol features we offer. */
uint64_t vhu_protocol_features_offered(void);

#endif
