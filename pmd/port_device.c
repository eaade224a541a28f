/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/port_device.c - two devices of one process wired to each other, as two
 * VMs on one virtual wire. Each side's port RX queue q is fed by one DPDK
 * ring: multi-producer, because several of the peer's TX queues map to it
 * (TX queue i of one side feeds RX queue i % nq of the other), and
 * single-consumer, because only the poll thread owning pair q reads it.
 * Frames keep their mbufs: they go back to the sender's pool when the
 * receiver frees them.
 *
 * A full ring drops: tx returns fewer and the sender counts tx_drop_port.
 * The port never holds back the sender's guest, whose TX ring keeps moving
 * while the peer has no frontend or stops reading; the peer's reset drains
 * what waited for it. The rings of both sides live in one allocation, freed
 * with the second port. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "common/tunables.h"
#include "pmd/port.h"

struct devlink;

struct devport {
	struct pmd_port port;
	struct devlink *link;
	struct devport *peer;
	struct rte_ring **rx;            /* [port.nrxq], the peer's TX feeds them */
};

/* The two ports of a pair. */
struct devlink {
	struct devport side[2];
	unsigned refs;                   /* ports not yet freed (control thread) */
};

static struct devport *
dp(struct pmd_port *p)
{
	return (struct devport *)p;
}

static uint16_t
dp_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return (uint16_t)rte_ring_sc_dequeue_burst(dp(p)->rx[q], (void **)m, n, NULL);
}

static uint16_t
dp_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	const struct devport *peer = dp(p)->peer;

	return (uint16_t)rte_ring_mp_enqueue_burst(peer->rx[q % peer->port.nrxq], (void **)m, n,
	                                           NULL);
}

/* The sender is never held back by a receiver that does not read. */
static uint16_t
dp_tx_room(struct pmd_port *p, uint16_t q)
{
	(void)p;
	(void)q;
	return UINT16_MAX;
}

static bool
dp_rx_pending(struct pmd_port *p, uint16_t q)
{
	return !rte_ring_empty(dp(p)->rx[q]);
}

/* The frames the peer sent a guest that left are not for the next one.
 * The peer's threads may be enqueueing meanwhile; this is the only
 * consumer (no plan lists q). */
static unsigned
dp_drain(struct pmd_port *p, uint16_t q)
{
	unsigned n = 0;
	void *m;

	while (dp(p)->rx[q] != NULL && rte_ring_sc_dequeue(dp(p)->rx[q], &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static void
dp_link_free(struct devlink *l)
{
	for (unsigned s = 0; s < 2; s++) {
		struct devport *d = &l->side[s];

		for (uint16_t q = 0; d->rx != NULL && q < d->port.nrxq; q++) {
			dp_drain(&d->port, q);
			rte_ring_free(d->rx[q]);
		}
		free(d->rx);
	}
	free(l);
}

/* Each side's frames may sit in the other's rings: nothing is freed until
 * both ports are (and both pools must outlive that). */
static void
dp_free(struct pmd_port *p)
{
	struct devlink *l = dp(p)->link;

	if (--l->refs == 0)
		dp_link_free(l);
}

static const struct pmd_port_ops dp_ops = {
	.rx = dp_rx, .tx = dp_tx, .tx_room = dp_tx_room, .rx_pending = dp_rx_pending,
	.drain = dp_drain, .free = dp_free,
};

static int
dp_side_init(struct devlink *l, unsigned s, const char *name, uint16_t nq, char *why,
             size_t why_len)
{
	struct devport *d = &l->side[s];

	/* Guest to guest: a frame goes whole, 64 KiB TSO frames included, and
	 * the receiving side finishes what its guest cannot take. */
	d->port = (struct pmd_port){ .ops = &dp_ops, .kind = "device", .nrxq = nq, .ntxq = nq,
	                             .carries_offloads = true };
	d->link = l;
	d->peer = &l->side[1 - s];
	d->rx = calloc(nq, sizeof(d->rx[0]));
	if (d->rx == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint16_t q = 0; q < nq; q++) {
		char rname[RTE_RING_NAMESIZE];

		snprintf(rname, sizeof(rname), "dv-%.18s-%u", name, q);
		/* Exact size: TUNE_DEVICE_RING frames fit, not one fewer. */
		d->rx[q] = rte_ring_create(rname, TUNE_DEVICE_RING, SOCKET_ID_ANY,
		                           RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (d->rx[q] == NULL) {
			snprintf(why, why_len, "device port ring %s: %s", rname,
			         rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

int
pmd_port_device_pair(const char *name_a, uint16_t nq_a, const char *name_b, uint16_t nq_b,
                     struct pmd_port **a, struct pmd_port **b, char *why, size_t why_len)
{
	struct devlink *l = calloc(1, sizeof(*l));
	int rc;

	*a = *b = NULL;
	if (l == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	l->refs = 2;
	if ((rc = dp_side_init(l, 0, name_a, nq_a, why, why_len)) != 0 ||
	    (rc = dp_side_init(l, 1, name_b, nq_b, why, why_len)) != 0) {
		dp_link_free(l);
		return rc;
	}
	*a = &l->side[0].port;
	*b = &l->side[1].port;
	return 0;
}
