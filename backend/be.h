/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/be.h - the process's wiring, private to backend/: devices (listening
 * socket, frontend connection, port, mbuf pool, per-queue state), the poll
 * threads shared between devices (one per core), and the stats table.
 * Everything here runs on the control thread; poll threads see only the plans
 * it publishes. */
#ifndef VHOSTMQ_BACKEND_BE_H
#define VHOSTMQ_BACKEND_BE_H
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config/cfg.h"
#include "pmd/pmd.h"
#include "common/log.h"

struct vhu_conn;
struct rte_mempool;

/* Highest CPU number a core list may name. */
#define BE_MAX_CORES 1024

struct be;

struct be_dev {
	struct be *be;
	struct cfg_device cfg;
	int listen_fd;
	struct vhu_conn *conn;            /* NULL while no frontend is attached */
	struct pmd_port *port;
	struct rte_mempool *pool;
	struct pmd_qp_state *qps;        /* [queue_pairs], cache aligned */
	struct pmd **qp_pmd;             /* [queue_pairs]: who serves each pair */
	struct vq *vq;                   /* [2 * queue_pairs] */
	bool *running;                   /* [2 * queue_pairs]: listed in a plan */
	bool *has_pos;                   /* [2 * queue_pairs]: vq holds a position */
	bool *watched;                   /* [2 * queue_pairs]: kick fd in its thread's epoll */
	/* Steering (ethdev ports): inbox rings and flow-affinity slots live as
	 * long as the device; the snapshot is rebuilt when RX rings start or
	 * stop or the RSS settings change, and published with the plans. */
	struct rte_ring **inbox;         /* [queue_pairs]; NULL for loopback */
	uint16_t *affinity;              /* [PMD_AFFINITY_SLOTS] */
	struct rss_settings rss_cfg;     /* passed rss_settings_check() */
	struct pmd_steer *steer;         /* current snapshot; NULL for loopback */
	bool waiting_logged;             /* client mode: "no frontend yet" said */
	uint64_t connected_ns;           /* time with a frontend, for rates */
	uint64_t connect_start_ns;
	unsigned connections;
	struct vlog_ratelimit log_limit; /* the frontend's rejections, across
	                                    connections */
};

struct be {
	cpu_set_t allowed;               /* CPUs this process may run on */
	struct be_dev *dev;
	unsigned ndev;
	struct pmd *pmd_by_core[BE_MAX_CORES];
	uint64_t start_ns;
};

/* dev.c */
int be_devs_create(struct be *be, const struct cfg *cfg);
void be_devs_destroy(struct be *be);
/* Rebuilds d's steering snapshot from its RX rings and rss_cfg and
 * republishes the plans of every thread serving d. 0, or -EINVAL with why
 * (the settings do not fit the device); the old snapshot stays then. */
int be_steer_update(struct be_dev *d, char *why, size_t why_len);
/* Control API (control thread). Each returns 0, or a negative errno with why
 * naming what is wrong; on failure nothing changed. */
struct be_dev *be_dev_by_name(struct be *be, const char *name);
/* New RSS settings, in effect for frames steered after it returns. The caller
 * has checked them with rss_settings_check() (a refusal here is -EINVAL for a
 * loopback device or -ENOMEM). */
int be_set_rss(struct be_dev *d, const struct rss_settings *cfg, char *why, size_t why_len);
/* Queue pair qp is served by the poll thread of core from now on (started
 * if needed); its rings keep their state. */
int be_move_qp(struct be_dev *d, uint16_t qp, unsigned core, char *why, size_t why_len);
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

/* stats.c: the per-queue table; rates over the time each device had a frontend. */
void be_stats_print(FILE *out, const struct be *be);

#endif
