/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/devctl.c - what the control API does to a running device: new RSS
 * settings, moving a queue pair to another poll thread, and a RARP into its
 * port. Each is one transaction (plan.c) and leaves the device as it was
 * when it fails. */
#include <errno.h>
#include <string.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include "backend/be.h"
#include "vhost-user/conn.h"
#include "vhostmq_conf.h"

struct be_dev *
be_dev_by_name(struct be *be, const char *name)
{
	for (unsigned i = 0; i < be->ndev; i++)
		if (strcmp(be->dev[i].cfg.name, name) == 0)
			return &be->dev[i];
	return NULL;
}

int
be_set_rss(struct be_dev *d, const struct rss_settings *cfg, char *why, size_t why_len)
{
	struct be_txn t = { .wait = false };
	int rc;

	if (d->steer == NULL) {
		snprintf(why, why_len, "device %s has a loopback port: frames come back on the "
		         "pair they left by, there is no RSS to set", d->cfg.name);
		return -EINVAL;
	}
	rc = be_steer_set(d, cfg, why, why_len);
	if (rc != 0)
		return rc;               /* the old snapshot is still published */
	be_txn_replan_dev(&t, d);
	t.wait = true;                   /* no burst in flight uses the old table
	                                    once the operator hears back */
	be_txn_publish(d->be, &t);
	vlog_info("device %s: RSS settings changed", d->cfg.name);
	return 0;
}

void
be_tx_assign(struct be_dev *d)
{
	uint16_t nq = d->cfg.queue_pairs, ntxq = d->port->ntxq, nthr = 0;
	const struct pmd *thr[VHOSTMQ_MAX_QP];

	/* A TX queue per pair: each pair's own, whatever thread serves it. */
	if (ntxq >= nq) {
		for (uint16_t qp = 0; qp < nq; qp++)
			d->qp[qp].txq = qp, d->qp[qp].txq_shared = false;
		return;
	}
	/* Fewer: one per thread, in the order of the pairs they serve; with
	 * more threads than queues, thread k shares queue k % ntxq with the
	 * others that land there (Open vSwitch's XPS), which is then locked. */
	for (uint16_t qp = 0; qp < nq; qp++) {
		uint16_t k = 0;

		while (k < nthr && thr[k] != d->qp[qp].pmd)
			k++;
		if (k == nthr)
			thr[nthr++] = d->qp[qp].pmd;
	}
	for (uint16_t qp = 0; qp < nq; qp++) {
		uint16_t k = 0;

		while (thr[k] != d->qp[qp].pmd)
			k++;
		d->qp[qp].txq = (uint16_t)(k % ntxq);
		/* Threads on queue j: those k with k % ntxq == j, more than
		 * one exactly when j + ntxq < nthr. */
		d->qp[qp].txq_shared = k % ntxq + ntxq < nthr;
	}
}

/* Parks pair qp and, when d's port has fewer TX queues than pairs, every
 * pair of d: which thread sends on which TX queue may change with a move,
 * and no two threads may use a queue under different rules at once. */
static void
be_park_for_move(struct be_dev *d, uint16_t qp, struct be_txn *t)
{
	bool all = d->port->ntxq < d->cfg.queue_pairs;

	for (uint16_t k = 0; k < d->cfg.queue_pairs; k++)
		if (k == qp || all) {
			d->qp[k].parked = true;
			be_txn_replan(t, d->qp[k].pmd);
		}
}

int
be_move_qp(struct be_dev *d, uint16_t qp, unsigned core, const char **field, char *why,
           size_t why_len)
{
	uint32_t vqi[2] = { vnet_vqi(qp, VNET_RX), vnet_vqi(qp, VNET_TX) };
	struct be_txn t = { .wait = false };
	bool was[2];
	struct pmd *from, *to;

	if (qp >= d->cfg.queue_pairs) {
		*field = "qp";
		snprintf(why, why_len, "%u does not exist (device %s has %u)", qp, d->cfg.name,
		         d->cfg.queue_pairs);
		return -EINVAL;
	}
	*field = "core";
	if (core >= BE_MAX_CORES || !CPU_ISSET(core, &d->be->allowed)) {
		snprintf(why, why_len, "%u is not available to this process", core);
		return -EINVAL;
	}
	from = d->qp[qp].pmd;
	to = be_pmd_for_core(d->be, &d->cfg, core);
	if (to == NULL) {
		snprintf(why, why_len, "cannot start a poll thread on core %u", core);
		return -EIO;
	}
	if (to == from)
		return 0;
	/* Stop the pair's rings and park it: no thread lists it after one grace
	 * period. Only then may the new thread touch its rings and port queue,
	 * so the hand-over is two transactions. The rings resume from the
	 * guest's used index: nothing is lost. */
	be_park_for_move(d, qp, &t);
	for (int k = 0; k < 2; k++) {
		was[k] = be_ring(d, vqi[k])->running;
		be_ring_stop(d, vqi[k], &t);
	}
	t.wait = true;
	be_txn_publish(d->be, &t);
	d->qp[qp].pmd = to;
	be_tx_assign(d);
	for (uint16_t k = 0; k < d->cfg.queue_pairs; k++)
		d->qp[k].parked = false;
	if (d->conn != NULL)
		for (int k = 0; k < 2; k++)
			be_ring_start(d, vqi[k], &t);
	be_txn_replan(&t, from);
	be_txn_replan_dev(&t, d);
	be_txn_publish(d->be, &t);
	vlog_info("device %s: queue pair %u moved from core %u to core %u%s", d->cfg.name, qp,
	          pmd_core(from), core, was[0] || was[1] ? " (rings restarted)" : "");
	return 0;
}

/* RFC 903 over Ethernet: a reverse request from mac about itself, to the
 * broadcast address, padded to the Ethernet minimum (what QEMU itself sends
 * for a guest that cannot announce). */
static void
rarp_frame(uint8_t *f, const uint8_t mac[6])
{
	static const uint8_t arp[8] = { 0, 1, 0x08, 0x00, 6, 4, 0, 3 };   /* Ethernet, IPv4,
	                                                                    reverse request */
	memset(f, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x80;
	f[13] = 0x35;                            /* RARP */
	memcpy(f + 14, arp, sizeof(arp));
	memcpy(f + 22, mac, 6);                  /* sender hardware address */
	memcpy(f + 32, mac, 6);                  /* target hardware address */
}

int
be_send_rarp(struct be_dev *d, const uint8_t mac[6], char *why, size_t why_len)
{
	struct be_txn t = { .wait = true };
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
	uint16_t len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	char *f = m != NULL ? rte_pktmbuf_append(m, len) : NULL;
	uint16_t sent;

	if (f == NULL) {
		rte_pktmbuf_free(m);
		snprintf(why, why_len, "no mbuf for the RARP frame");
		return -ENOMEM;
	}
	rarp_frame((uint8_t *)f, mac);
	/* Port TX queue 0 belongs to the threads of the pairs that send on
	 * it: park those pairs for the send (their rings keep running state;
	 * held frames stay). */
	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++)
		if (d->qp[qp].txq == 0) {
			d->qp[qp].parked = true;
			be_txn_replan(&t, d->qp[qp].pmd);
		}
	be_txn_publish(d->be, &t);
	sent = d->port->ops->tx(d->port, 0, &m, 1);
	t = (struct be_txn){ .wait = false };
	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++)
		if (d->qp[qp].parked) {
			d->qp[qp].parked = false;
			be_txn_replan(&t, d->qp[qp].pmd);
		}
	be_txn_publish(d->be, &t);
	if (sent != 1) {
		rte_pktmbuf_free(m);
		snprintf(why, why_len, "the port did not take the RARP frame");
		return -EIO;
	}
	return 0;
}
