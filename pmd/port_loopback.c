/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/port_loopback.c - a port that reflects the guest's frames: one
 * single-producer/single-consumer ring per queue pair, filled by that pair's
 * guest TX and drained into the same pair's guest RX by the same thread.
 * Its tx_room lets guest TX stop while the guest's RX side is full, so the
 * loopback itself never drops (the backpressure reaches the guest's TX ring). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "pmd/port.h"

struct loopback {
	struct pmd_port port;
	struct rte_ring *ring[];
};

static struct loopback *
lb(struct pmd_port *p)
{
	return (struct loopback *)p;
}

static uint16_t
lb_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return (uint16_t)rte_ring_sc_dequeue_burst(lb(p)->ring[q], (void **)m, n, NULL);
}

static uint16_t
lb_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_ether_hdr *eh;
		struct rte_ether_addr tmp;

		if (rte_pktmbuf_data_len(m[i]) < sizeof(*eh))
			continue;            /* runt: reflected as is */
		eh = rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *);
		tmp = eh->dst_addr;
		eh->dst_addr = eh->src_addr;
		eh->src_addr = tmp;
	}
	return (uint16_t)rte_ring_sp_enqueue_burst(lb(p)->ring[q], (void **)m, n, NULL);
}

static uint16_t
lb_tx_room(struct pmd_port *p, uint16_t q)
{
	unsigned room = rte_ring_free_count(lb(p)->ring[q]);

	return room > UINT16_MAX ? UINT16_MAX : (uint16_t)room;
}

static bool
lb_rx_pending(struct pmd_port *p, uint16_t q)
{
	return !rte_ring_empty(lb(p)->ring[q]);
}

/* The reflected frames of a guest that left are not for the next one. */
static unsigned
lb_drain(struct pmd_port *p, uint16_t q)
{
	unsigned n = 0;
	void *m;

	while (lb(p)->ring[q] != NULL && rte_ring_sc_dequeue(lb(p)->ring[q], &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static void
lb_free(struct pmd_port *p)
{
	for (uint16_t q = 0; q < p->nrxq; q++) {
		lb_drain(p, q);
		rte_ring_free(lb(p)->ring[q]);
	}
	free(p);
}

static const struct pmd_port_ops lb_ops = {
	.rx = lb_rx, .tx = lb_tx, .tx_room = lb_tx_room, .rx_pending = lb_rx_pending,
	.drain = lb_drain, .free = lb_free,
};

int
pmd_port_loopback_new(const char *name, uint16_t nq, struct pmd_port **out,
                      char *why, size_t why_len)
{
	struct loopback *l = calloc(1, sizeof(*l) + nq * sizeof(l->ring[0]));

	*out = NULL;
	if (l == NULL)
		return -ENOMEM;
	l->port = (struct pmd_port){ .ops = &lb_ops, .kind = "loopback", .nrxq = nq,
	                             .ntxq = nq };
	for (uint16_t q = 0; q < nq; q++) {
		char rname[RTE_RING_NAMESIZE];

		snprintf(rname, sizeof(rname), "lb-%.18s-%u", name, q);
		l->ring[q] = rte_ring_create(rname, PMD_LOOPBACK_RING, SOCKET_ID_ANY,
		                             RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (l->ring[q] == NULL) {
			snprintf(why, why_len, "loopback ring %s: %s", rname,
			         rte_strerror(rte_errno));
			lb_free(&l->port);
			return -ENOMEM;
		}
	}
	*out = &l->port;
	return 0;
}
