/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/pool.h - a device's mbuf pool: how many mbufs its port and rings
 * can hold at once, what EAL memory a pool of them takes, and the pool. The
 * sizes are upper bounds of what each holder keeps, so a pool of
 * pool_mbufs_needed() never runs dry in normal work, while a port that
 * needs almost none (a loopback) takes almost none. */
#ifndef VHOSTMQ_BACKEND_POOL_H
#define VHOSTMQ_BACKEND_POOL_H
#include <stdint.h>
#include "config/cfg.h"

struct rte_mempool;

/* What holds a device's mbufs. */
struct pool_shape {
	enum cfg_port_kind kind;
	uint16_t pairs;                  /* the device's queue pairs */
	uint16_t threads;                /* poll threads serving them */
	uint16_t nrxq, ntxq;             /* ethdev: port queues */
	uint16_t rx_ring, tx_ring;       /* ethdev: descriptors per queue */
	uint16_t peer_pairs;             /* device: the peer's pairs (its RX rings
	                                    hold this device's frames) */
};

/* Frames a pair's steering inbox holds (a power of two, one slot unused):
 * what the port RX queues that may steer to it (at most nrxq, each read once
 * a round) bring in four rounds of full bursts, at most TUNE_INBOX_SIZE. A
 * small inbox under a one-queue uplink keeps the frames a slow guest leaves
 * waiting, and the mbufs they hold, few. */
unsigned pool_inbox_size(uint16_t nrxq, uint16_t pairs);

/* The most mbufs the holders of shape keep at once:
 * - each pair: a guest TX burst and the segments of a TSO frame cut from
 *   it, the frames held for its guest RX ring, and its full inbox (a port
 *   that steers);
 * - a loopback port: its ring per pair;
 * - an ethdev: every RX descriptor filled and a burst taken, every TX
 *   descriptor in flight;
 * - a device port: the peer's RX rings, which hold this device's frames;
 * - the mempool caches of the threads and the control thread. */
unsigned pool_mbufs_needed(const struct pool_shape *shape);

/* The shape the config alone gives, before the port is probed: an ethdev's
 * automatic queue counts taken as one per pair (the most they can be). */
void pool_shape_of_cfg(const struct cfg *cfg, unsigned dev, struct pool_shape *shape);

/* EAL memory a pool of n mbufs takes at most: objects, the pool's ring,
 * its per-lcore caches and header. */
uint64_t pool_bytes(unsigned n);

/* A pool of n mbufs of RTE_MBUF_DEFAULT_BUF_SIZE. Without hugepages its
 * objects may straddle 4 KiB pages (IOVA is the virtual address then), so
 * each mbuf takes its size and not a page. NULL with rte_errno set. */
struct rte_mempool *pool_create(const char *name, unsigned n);

#endif
