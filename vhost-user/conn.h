/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/conn.h - one frontend connection: the protocol state machine for a
 * virtio-net device. It records what the frontend configured (features, memory
 * table, vrings, fds) and tells its owner, through struct vhu_ops, what each
 * message changes: one transaction per message. A handler that is about to
 * change what a poll thread reads (memory table, ring addresses, fds,
 * features) first has the owner stop those vrings (one grace period for all
 * of them); every vring the message touched is then handed to the owner's
 * commit, which starts what is ready and stops what no longer is. Commits are
 * made before any reply and at the end of each batch of messages read
 * together, so QEMU's burst of SET_VRING_ENABLE for `ethtool -L` is one
 * commit. Nothing a poll thread can see is freed or closed before its vring
 * was stopped.
 * Security model: every message passes vhu_dispatch(), which checks the
 * request code, header version, payload size, fd count and vring index against
 * one table before any handler runs; handlers check the payload's values. */
#ifndef VHOSTMQ_VHOST_USER_CONN_H
#define VHOSTMQ_VHOST_USER_CONN_H
#include <stdbool.h>
#include <stdint.h>
#include "vhost-user/msg.h"
#include "virtio/vnet.h"
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
	bool log_set;                    /* SET_VRING_ADDR with VHOST_VRING_F_LOG */
	uint64_t log_gpa;                /* ... its used ring, guest physical */
};

/* KICK/CALL/ERR carry a vring index in 8 bits (QEMU masks it so too), so a
 * vhost-user device can address 256 vrings: 128 queue pairs. */
#define VHU_MAX_VRINGS (VHOST_USER_VRING_IDX_MASK + 1)

/* A set of vring indexes: what one transaction touches. */
struct vhu_vring_set {
	uint64_t w[VHU_MAX_VRINGS / 64];
};

static inline void
vhu_set_add(struct vhu_vring_set *s, uint32_t vqi)
{
	s->w[vqi / 64] |= UINT64_C(1) << (vqi % 64);
}

static inline bool
vhu_set_has(const struct vhu_vring_set *s, uint32_t vqi)
{
	return s->w[vqi / 64] >> (vqi % 64) & 1;
}

static inline bool
vhu_set_empty(const struct vhu_vring_set *s)
{
	for (unsigned i = 0; i < VHU_MAX_VRINGS / 64; i++)
		if (s->w[i] != 0)
			return false;
	return true;
}

struct vhu_ops {
	/* No poll thread may touch the vrings of set (vq, fds, memory) once this
	 * returns: one grace period for all of them. Vrings that are not
	 * running are skipped; a call with none running costs nothing. */
	void (*stop)(void *owner, const struct vhu_vring_set *set);
	/* The vrings of set changed (configuration, readiness, enable): bring
	 * the poll threads in line with vhu_vring_ready(), starting what is
	 * ready and stopping what is not, with one plan per thread. */
	void (*commit)(void *owner, const struct vhu_vring_set *set);
	/* For GET_VRING_BASE of a stopped vring: its next avail index, if it ran. */
	bool (*position)(void *owner, uint32_t vqi, uint16_t *last_avail);
	/* Every vring is stopped and the device back to its initial state
	 * (RESET_OWNER, disconnect): what waits for the old driver can go. */
	void (*reset)(void *owner);
	/* SEND_RARP: announce mac (a guest that moved here and cannot announce
	 * itself) out of the device's port. */
	void (*rarp)(void *owner, const uint8_t mac[6]);
};

#define VHU_MAX_QP (VHU_MAX_VRINGS / 2)

struct vhu_conn_params {
	const char *name;                /* for log lines */
	uint16_t max_qp;                 /* GET_QUEUE_NUM, 1..VHU_MAX_QP */
	/* What GET_FEATURES offers beyond the base set (mq follows max_qp).
	 * offer.mtu also offers the protocol feature MTU (NET_SET_MTU). */
	struct vnet_offer offer;
	/* The device's MTU (VNET_MTU_MIN..VNET_MTU_MAX), as configured: the
	 * one in force, which NET_SET_MTU must confirm. Required with
	 * offer.mtu; 0 without it: not known. */
	uint16_t mtu;
	const struct vhu_ops *ops;
	void *owner;
	/* Limits this device's rejection lines across connections; NULL: none. */
	struct vlog_ratelimit *log_limit;
};

struct vhu_conn;

/* Takes ownership of sock (a connected, non-blocking unix socket); NULL (sock
 * closed) when out of memory, max_qp is outside 1..VHU_MAX_QP, or mtu is
 * neither 0 nor within VNET_MTU_MIN..VNET_MTU_MAX (0 with offer.mtu). */
struct vhu_conn *vhu_conn_new(const struct vhu_conn_params *p, int sock);
/* Stops every vring through the ops, closes every fd, unmaps memory. */
void vhu_conn_free(struct vhu_conn *d);

int vhu_conn_sock(const struct vhu_conn *d);
/* The socket is readable: handle whatever arrived. 0 keeps the connection;
 * negative means close it (already logged): call vhu_conn_free(). */
int vhu_conn_readable(struct vhu_conn *d);

/* One whole message as one transaction (handled, then committed); also the
 * entry point of tests and fuzzers. Takes the message's fds on every path.
 * 0 or -errno (connection must close). */
int vhu_dispatch(struct vhu_conn *d, struct vhu_msg *m);

/* What the owner reads when it starts a vring (control thread only). */
uint32_t vhu_conn_nvrings(const struct vhu_conn *d);
const struct vhu_vring *vhu_conn_vring(const struct vhu_conn *d, uint32_t vqi);
const struct gmem *vhu_conn_mem(const struct vhu_conn *d);
uint64_t vhu_conn_features(const struct vhu_conn *d);
bool vhu_vring_ready(const struct vhu_conn *d, uint32_t vqi);
/* The dirty log a starting vring marks: non-NULL while the frontend has
 * VHOST_F_LOG_ALL on and a log mapped (SET_LOG_BASE). It stays valid until
 * the vrings were stopped again (a new log, logging off, reset). */
const struct dirty_log *vhu_conn_log(const struct vhu_conn *d);
/* Where vring vqi's used ring lies in guest physical memory, for its log:
 * SET_VRING_ADDR's log_gpa when it came with VHOST_VRING_F_LOG, else the
 * used ring's frontend address translated through the memory table (a
 * ring that starts lies in it). */
uint64_t vhu_vring_log_gpa(const struct vhu_conn *d, uint32_t vqi);
/* The MTU in force: the configured one (vhu_conn_params.mtu); a frontend
 * cannot change it, only confirm it. */
uint16_t vhu_conn_mtu(const struct vhu_conn *d);
/* What the frontend's NET_SET_MTU confirmed (always vhu_conn_mtu()); 0 when
 * it sent none, or since RESET_OWNER. */
uint16_t vhu_conn_frontend_mtu(const struct vhu_conn *d);

/* Protocol features a device with offer o offers (MTU with o->mtu). */
uint64_t vhu_protocol_features_offered(const struct vnet_offer *o);

#endif
