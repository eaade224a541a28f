/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/pool.c - mbuf pools sized from what holds their mbufs (pool.h). */
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include "backend/pool.h"
#include "common/tunables.h"
#include "pmd/pmd.h"
#include "pmd/port.h"

/* A mempool cache may hold up to 1.5 times its size before flushing. */
#define POOL_CACHE_HELD (TUNE_MBUF_CACHE * 3u / 2u)
/* Each mbuf's object: the mempool header, struct rte_mbuf, the buffer with
 * its headroom, rounded to cache lines (rte_mempool_calc_obj_size() may pad
 * further to spread objects over memory channels: one line more), and its
 * slot in the pool's ring. */
#define POOL_OBJ_BYTES (RTE_ALIGN_CEIL(sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE + \
                                       64u, RTE_CACHE_LINE_SIZE) + RTE_CACHE_LINE_SIZE + 16u)

unsigned
pool_inbox_size(uint16_t nrxq, uint16_t pairs)
{
	unsigned readers = RTE_MIN(nrxq, pairs);

	return RTE_MIN(rte_align32pow2(4u * PMD_BURST_MAX * (readers ? readers : 1u)),
	               TUNE_INBOX_SIZE);
}

unsigned
pool_mbufs_needed(const struct pool_shape *s)
{
	unsigned per_pair = PMD_BURST_MAX + VNET_TSO_MAX_SEGS + PMD_HELD_MAX;
	unsigned n = s->pairs * per_pair + (s->threads + 1u) * POOL_CACHE_HELD;

	switch (s->kind) {
	case CFG_PORT_LOOPBACK:
		n += s->pairs * PMD_LOOPBACK_RING;
		break;
	case CFG_PORT_ETHDEV:
		n += s->nrxq * (s->rx_ring + PMD_BURST_MAX) + s->ntxq * s->tx_ring +
		     s->pairs * pool_inbox_size(s->nrxq, s->pairs);
		break;
	case CFG_PORT_DEVICE:
		n += s->peer_pairs * TUNE_DEVICE_RING + s->pairs * pool_inbox_size(s->pairs, s->pairs);
		break;
	}
	return n;
}

void
pool_shape_of_cfg(const struct cfg *cfg, unsigned dev, struct pool_shape *s)
{
	const struct cfg_device *c = &cfg->dev[dev];
	uint16_t threads = 0;

	for (uint16_t k = 0; k < c->n_cores; k++) {
		uint16_t j = 0;

		while (j < k && c->cores[j] != c->cores[k])
			j++;
		threads = (uint16_t)(threads + (j == k));
	}
	*s = (struct pool_shape){
		.kind = c->port_kind, .pairs = c->queue_pairs,
		.threads = threads ? threads : 1,
		.nrxq = (uint16_t)(c->tune.port_rx_queues ? c->tune.port_rx_queues : c->queue_pairs),
		.ntxq = (uint16_t)(c->tune.port_tx_queues ? c->tune.port_tx_queues : c->queue_pairs),
		.rx_ring = (uint16_t)c->tune.port_rx_ring, .tx_ring = (uint16_t)c->tune.port_tx_ring,
	};
	for (unsigned i = 0; i < cfg->n_devices; i++)
		if (c->port_kind == CFG_PORT_DEVICE && strcmp(cfg->dev[i].name, c->port_peer) == 0)
			s->peer_pairs = cfg->dev[i].queue_pairs;
}

uint64_t
pool_bytes(unsigned n)
{
	return (uint64_t)n * POOL_OBJ_BYTES + rte_align32pow2(n + 1) * sizeof(void *) +
	       RTE_MAX_LCORE * sizeof(struct rte_mempool_cache) + sizeof(struct rte_mempool) +
	       64u * 1024;
}

struct rte_mempool *
pool_create(const char *name, unsigned n)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
		.mbuf_priv_size = 0,
	};
	/* Without hugepages DPDK would keep each object inside one 4 KiB page
	 * for devices that DMA by physical address; there are none then (IOVA
	 * is the virtual address), and a 2.4 KiB mbuf would take a page. */
	unsigned flags = getenv("XFLAG") ? 0 : rte_eal_has_hugepages() ? 0 : RTE_MEMPOOL_F_NO_IOVA_CONTIG;
	struct rte_mempool *mp;
	int rc;

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE,
	                              TUNE_MBUF_CACHE, sizeof(priv), SOCKET_ID_ANY, flags);
	if (mp == NULL)
		return NULL;
	if ((rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL)) != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	if ((rc = rte_mempool_populate_default(mp)) < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	rte_errno = -rc;
	return NULL;
}
