/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/be.h - the process's wiring, private to backend/: devices (listening
 * socket, frontend connection, port, mbuf pool, per-pair and per-ring state),
 * the poll threads shared between devices (one per core), and the
 * transactions that turn vhost-user messages and control requests into poll
 * plans. Everything here runs on the control thread; poll threads see only
 * the plans it publishes.
 *
 * Files: dev.c (device life cycle: create, attach, detach, destroy),
 * rings.c (the vhu_ops a connection calls: stopping and starting rings),
 * plan.c (plans, steering snapshots and transactions: the only code that
 * publishes with RCU), devctl.c (control operations: RSS settings, moving a
 * pair), stats.c (the per-queue table). */
#ifndef VHOSTMQ_BACKEND_BE_H
#define VHOSTMQ_BACKEND_BE_H
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "common/log.h"
#include "config/cfg.h"
#include "pmd/pmd.h"
#include "backend/resume.h"

struct vhu_conn;
struct vhu_vring_set;
struct rte_mempool;
struct rte_ring;

/* Highest CPU number a core list may name. */
#define BE_MAX_CORES 1024

struct be;

/* One vring of a device, as the control thread keeps it. */
struct be_ring {
	struct vq vq;                    /* owned by the poll thread while running */
	bool running;                    /* listed in a plan */
	bool has_pos;                    /* vq holds a position (GET_VRING_BASE) */
	bool watched;                    /* kick fd in its thread's epoll */
};

/* One queue pair of a device: what outlives plans and connections. */
struct be_qp {
	struct pmd_qp_state st;          /* cache aligned: the poll thread's */
	struct pmd *pmd;                 /* the thread serving the pair */
	bool parked;                     /* in no plan: moving between threads */
	uint16_t txq;                    /* port TX queue its thread sends on */
	uint64_t busy_mark;              /* busy_cycles at the last "pmd" request */
	bool txq_shared;                 /* ... with other threads, under a lock */
	struct be_ring ring[2];          /* by enum vnet_dir */
};

/* Steering of a device with an ethdev or device port: inbox rings and
 * flow-affinity slots live as long as the device; the snapshot is rebuilt
 * when RX rings start or stop or the RSS settings change, and published with
 * the plans. */
struct be_steering {
	struct rte_ring **inbox;         /* [queue_pairs] */
	uint16_t *affinity;              /* [PMD_AFFINITY_SLOTS] */
	struct rss_settings cfg;            /* passed rss_settings_check() */
	struct pmd_steer *snap;          /* current snapshot */
};

struct be_dev {
	struct be *be;
	struct cfg_device cfg;
	int listen_fd;
	struct vhu_conn *conn;           /* NULL while no frontend is attached */
	struct pmd_port *port;
	struct pmd_txq_lock *txq_lock;   /* [port->ntxq], for shared TX queues */
	struct be_dev *peer;             /* device: port: the device wired back */
	struct rte_mempool *pool;
	struct be_qp *qp;                /* [queue_pairs], cache aligned */
	struct be_steering *steer;       /* NULL for loopback: answers on the same pair */
	struct be_resume *resume;        /* packed positions across a crash; NULL: none */
	bool steer_stale;                /* snapshot to rebuild in this transaction */
	bool waiting_logged;             /* client mode: "no frontend yet" said */
	uint64_t connected_ns;           /* time with a frontend, for rates */
	uint64_t connect_start_ns;
	unsigned connections;
	struct vlog_ratelimit log_limit; /* the frontend's rejections, across
	                                    connections */
};

/* What is freed after the next grace period: plans and steering snapshots
 * swapped out by a transaction that had nothing to wait for. A transaction
 * that leaves this many waits for a grace period at its end (never in its
 * middle: plans not yet rebuilt may still point to a retired snapshot). */
#define BE_RETIRED_MAX 256

struct be {
	cpu_set_t allowed;               /* CPUs this process may run on */
	struct be_dev *dev;
	unsigned ndev;
	struct pmd *pmd_by_core[BE_MAX_CORES];
	struct pmd_cycles pmd_mark[BE_MAX_CORES];  /* at start or the last "pmd"
	                                              request */
	uint64_t start_ns;
	void **retired;                  /* [cap_retired], grown as needed */
	unsigned nretired, cap_retired;
};

static inline struct be_ring *
be_ring(struct be_dev *d, uint32_t vqi)
{
	return &d->qp[vnet_vqi_qp(vqi)].ring[vnet_vqi_dir(vqi)];
}

static inline bool
be_ring_running(const struct be_dev *d, uint16_t qp, enum vnet_dir dir)
{
	return d->qp[qp].ring[dir].running;
}

/* ---- plan.c: transactions ------------------------------------------------
 * One transaction per vhost-user message or control operation: stopping
 * rings, starting rings and steering changes mark what they touch; one
 * be_txn_publish() then rebuilds each touched thread's plan once and each
 * touched device's steering snapshot once, and waits for one grace period if
 * something stopped (so the caller may then change or free what the stopped
 * rings used). Starting alone waits for nothing: the swapped-out plans are
 * freed after a later grace period. */
struct be_txn {
	uint64_t replan[BE_MAX_CORES / 64];  /* threads whose plan is rebuilt */
	bool wait;                           /* a grace period before returning */
};

void be_txn_replan(struct be_txn *t, const struct pmd *pmd);
/* Every thread serving d. */
void be_txn_replan_dev(struct be_txn *t, const struct be_dev *d);
/* d's steering snapshot (rebuilt from its running RX rings and settings),
 * and every thread serving d; nothing for a loopback device. */
void be_txn_steer(struct be_txn *t, struct be_dev *d);
/* Publishes t and empties it. A steering snapshot that cannot be built (out
 * of memory) is logged and the old one stays; the plans are published all
 * the same. */
void be_txn_publish(struct be *be, struct be_txn *t);
/* A grace period now, then the retired plans and snapshots are freed. */
void be_sync(struct be *be);
/* d's steering snapshot from its running RX rings and settings cfg, which
 * become d's settings; the plans still need a transaction (be_txn_steer's
 * threads). 0, or -EINVAL (cfg does not fit d) or -ENOMEM, with why; on
 * failure nothing changed. */
int be_steer_set(struct be_dev *d, const struct rss_settings *cfg, char *why, size_t why_len);

/* rings.c: the connection's vhu_ops. */
extern const struct vhu_ops be_vhu_ops;
/* Stops ring vqi of d if it runs: marks its thread in t (t->wait set). */
void be_ring_stop(struct be_dev *d, uint32_t vqi, struct be_txn *t);
/* Starts ring vqi of d if the frontend made it ready; marks its thread. */
void be_ring_start(struct be_dev *d, uint32_t vqi, struct be_txn *t);
/* Frees what waits for pair qp's guest RX in its held slots and inbox; no
 * poll thread may read either. Returns how many. */
unsigned be_drop_waiting(struct be_dev *d, uint16_t qp);

/* dev.c */
int be_devs_create(struct be *be, const struct cfg *cfg);
void be_devs_destroy(struct be *be);
/* The thread serving core c, started on first use; NULL (logged) on failure. */
struct pmd *be_pmd_for_core(struct be *be, const struct cfg_device *c, unsigned core);
/* Client mode: how often a detached device tries to reach its frontend
 * (QEMU's own reconnect=1 retries every second). */
#define BE_RECONNECT_MS 500
/* Client mode: one connection attempt; the connected fd, or -errno. */
int be_dev_try_connect(struct be_dev *d);
/* A frontend connected to d (takes fd). */
void be_dev_attach(struct be_dev *d, int fd);
/* The frontend's socket is readable (or hung up). */
void be_dev_conn_event(struct be_dev *d);
/* The SIGBUS guard's eventfd is readable: each device whose guest memory
 * vanished under a poll thread is logged and detached; the others run on. */
void be_guard_event(struct be *be);
uint64_t be_now_ns(void);

/* devctl.c: the control API's operations (control thread). Each returns 0,
 * or a negative errno with why naming what is wrong; on failure nothing
 * changed. */
struct be_dev *be_dev_by_name(struct be *be, const char *name);
/* New RSS settings, in effect for frames steered after it returns. The caller
 * has checked them with rss_settings_check() (a refusal here is -EINVAL for a
 * loopback device or -ENOMEM). */
int be_set_rss(struct be_dev *d, const struct rss_settings *cfg, char *why, size_t why_len);
/* Queue pair qp is served by the poll thread of core from now on (started
 * if needed); its rings keep their state. A refusal names its field ("qp" or
 * "core") in *field. */
int be_move_qp(struct be_dev *d, uint16_t qp, unsigned core, const char **field, char *why,
               size_t why_len);
/* Which port TX queue each pair of d sends on (be_qp.txq, txq_shared), from
 * the threads serving its pairs. Control thread, while no plan lists a pair
 * of d whose queue changes (at creation; a move parks every pair). */
void be_tx_assign(struct be_dev *d);
/* Sends a RARP from mac out of d's port (queue 0), so that switches learn
 * where a guest that moved here now lives. */
int be_send_rarp(struct be_dev *d, const uint8_t mac[6], char *why, size_t why_len);

/* stats.c: the per-queue table; rates over the time each device had a frontend. */
void be_stats_print(FILE *out, const struct be *be);

#endif
