/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/plan.c - poll plans, steering snapshots and transactions: the only
 * code that publishes with RCU. A transaction (struct be_txn) collects the
 * threads and devices a change touched; be_txn_publish() builds each touched
 * thread's plan once from every device's running rings, swaps them all, and
 * waits for one grace period only when a ring stopped. DPDK's vhost brackets
 * each message by locking every queue; here the bracket is one plan swap per
 * thread and at most one grace period, and no lock is taken on the burst
 * path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "backend/be.h"
#include "vhost-user/conn.h"

void
be_txn_replan(struct be_txn *t, const struct pmd *pmd)
{
	unsigned c = pmd_core(pmd);

	t->replan[c / 64] |= UINT64_C(1) << (c % 64);
}

void
be_txn_replan_dev(struct be_txn *t, const struct be_dev *d)
{
	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++)
		be_txn_replan(t, d->qp[qp].pmd);
}

void
be_txn_steer(struct be_txn *t, struct be_dev *d)
{
	if (d->steer == NULL)
		return;
	d->steer_stale = true;
	be_txn_replan_dev(t, d);
}

void
be_sync(struct be *be)
{
	pmd_grace();
	for (unsigned i = 0; i < be->nretired; i++)
		free(be->retired[i]);
	be->nretired = 0;
}

/* p may still be read by a poll thread: freed after the next grace period.
 * Never waits itself: see BE_RETIRED_MAX. */
static void
be_retire(struct be *be, void *p)
{
	if (be->nretired == be->cap_retired) {
		unsigned cap = be->cap_retired ? 2 * be->cap_retired : BE_RETIRED_MAX;
		void **r = realloc(be->retired, cap * sizeof(r[0]));

		if (r == NULL) {
			/* Freeing p now could pull it from under a poll thread. */
			vlog_err("out of memory retiring a poll plan");
			abort();
		}
		be->retired = r;
		be->cap_retired = cap;
	}
	be->retired[be->nretired++] = p;
}

/* Entries of a steering device stay in the plans while any RX ring can
 * receive: every port queue must be drained into the enabled rings, also
 * those of pairs the guest has disabled (ethtool -L). */
static bool
be_qp_listed(const struct be_dev *d, uint16_t qp)
{
	if (d->qp[qp].parked)
		return false;
	if (be_ring_running(d, qp, VNET_RX) || be_ring_running(d, qp, VNET_TX))
		return true;
	return d->conn != NULL && d->steer != NULL && d->steer->snap->rss.n_enabled > 0;
}

static struct pmd_vring
be_plan_vring(struct be_dev *d, uint16_t qp, enum vnet_dir dir)
{
	struct be_ring *r = &d->qp[qp].ring[dir];
	const struct vhu_vring *v = vhu_conn_vring(d->conn, vnet_vqi(qp, dir));

	return (struct pmd_vring){ r->running ? &r->vq : NULL, v->call_fd, v->err_fd };
}

static struct pmd_qp
be_plan_entry(struct be_dev *d, uint16_t qp)
{
	uint64_t features = vhu_conn_features(d->conn);
	uint16_t hdr_len = vnet_hdr_len(features);
	/* GUEST_TSO and NEEDS_CSUM on RX are GUEST_CSUM's (spec 5.1.3.1): a
	 * driver that acked one without it gets plain frames. */
	bool gcsum = features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	const struct be_ring *rx = &d->qp[qp].ring[VNET_RX], *tx = &d->qp[qp].ring[VNET_TX];

	return (struct pmd_qp){
		.rx = be_plan_vring(d, qp, VNET_RX),
		.tx = be_plan_vring(d, qp, VNET_TX),
		.mem = vhu_conn_mem(d->conn),
		.rx_fmt = { .hdr_len = hdr_len,
		            .mrg_rxbuf = features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF),
		            .guest_csum = gcsum,
		            .tso4 = gcsum && (features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)),
		            .tso6 = gcsum && (features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)),
		            .ecn = gcsum && (features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)) },
		.tx_fmt = { .hdr_len = hdr_len,
		            .csum = features & VIRTIO_BIT(VIRTIO_NET_F_CSUM),
		            .tso4 = features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4),
		            .tso6 = features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6),
		            .ecn = features & VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN),
		            .max_frame = vnet_max_frame(d->cfg.mtu) },
		.port = d->port, .port_txq = d->qp[qp].txq,
		.txq_lock = d->qp[qp].txq_shared ? &d->txq_lock[d->qp[qp].txq] : NULL,
		.port_rxq = qp, .port_rxq_step = d->cfg.queue_pairs,
		.burst = (uint16_t)d->cfg.tune.burst_frames, .burst_bytes = d->cfg.tune.burst_bytes,
		.pool = d->pool, .st = &d->qp[qp].st,
		.dev_name = d->cfg.name, .qp = qp,
		.steer = d->steer != NULL ? d->steer->snap : NULL,
		.unwatched = (rx->running && !rx->watched) || (tx->running && !tx->watched),
	};
}

/* The plan entry of d's pair qp, or NULL when the plan has none. */
static const struct pmd_qp *
be_plan_find(const struct pmd_plan *plan, const struct be_dev *d, uint16_t qp)
{
	for (uint32_t k = 0; k < plan->n; k++)
		if (plan->q[k].st == &d->qp[qp].st)
			return &plan->q[k];
	return NULL;
}

/* Points the entries of a device: port at their peer's entries in the same
 * plan (pmd_qp.peer), where the peer's pair that reads the entry's port
 * queue is one of them. owner[k]: the device of entry k. */
static void
be_plan_link(struct pmd_plan *plan, struct be_dev *const *owner)
{
	const struct pmd_qp **peers = pmd_plan_peers(plan);

	for (uint32_t k = 0; k < plan->n; k++) {
		const struct be_dev *p = owner[k]->peer;
		struct pmd_qp *e = &plan->q[k];

		if (p == NULL || be_plan_find(plan, p, e->port_txq % p->cfg.queue_pairs) == NULL)
			continue;
		for (uint16_t qp = 0; qp < p->cfg.queue_pairs; qp++)
			peers[qp] = be_plan_find(plan, p, qp);
		e->peer = peers;
		e->peer_nq = p->cfg.queue_pairs;
		peers += p->cfg.queue_pairs;
	}
}

/* Builds the plan of one poll thread from every device's running rings and
 * swaps it in; the old one is retired. */
static void
be_replan(struct be *be, struct pmd *pmd)
{
	uint32_t n = 0, k = 0, npeer = 0;
	struct pmd_plan *plan;
	struct be_dev **owner;

	for (unsigned i = 0; i < be->ndev; i++)
		for (uint16_t qp = 0; qp < be->dev[i].cfg.queue_pairs; qp++)
			if (be->dev[i].qp[qp].pmd == pmd && be_qp_listed(&be->dev[i], qp)) {
				n++;
				if (be->dev[i].peer != NULL)
					npeer += be->dev[i].peer->cfg.queue_pairs;
			}
	plan = pmd_plan_new(n, npeer);
	owner = malloc((n ? n : 1) * sizeof(owner[0]));
	if (plan == NULL || owner == NULL) {
		/* Cannot happen short of OOM; keeping the old plan would let a
		 * thread touch a ring we are about to change, so stop instead. */
		vlog_err("out of memory building a poll plan");
		abort();
	}
	for (unsigned i = 0; i < be->ndev; i++)
		for (uint16_t qp = 0; qp < be->dev[i].cfg.queue_pairs; qp++)
			if (be->dev[i].qp[qp].pmd == pmd && be_qp_listed(&be->dev[i], qp)) {
				owner[k] = &be->dev[i];
				plan->q[k++] = be_plan_entry(&be->dev[i], qp);
			}
	be_plan_link(plan, owner);
	free(owner);
	be_retire(be, pmd_swap(pmd, plan));
}

/* A snapshot and the enabled flags it was built over, in one allocation. */
struct be_steer_snap {
	struct pmd_steer steer;
	bool enabled[];
};

/* d's steering over its running RX rings and settings cfg: 0, or -EINVAL
 * (cfg does not fit the device) or -ENOMEM, with why. */
static int
be_steer_build(const struct be_dev *d, const struct rss_settings *cfg, struct pmd_steer **out,
               char *why, size_t why_len)
{
	uint16_t nq = d->cfg.queue_pairs;
	struct be_steer_snap *snap = calloc(1, sizeof(*snap) + nq * sizeof(snap->enabled[0]));
	int rc;

	if (snap == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint16_t qp = 0; qp < nq; qp++)
		snap->enabled[qp] = be_ring_running(d, qp, VNET_RX);
	rc = pmd_rss_build(&snap->steer.rss, cfg, snap->enabled, nq, why, why_len);
	if (rc != 0) {
		free(snap);
		return rc;
	}
	snap->steer.mode = d->cfg.steering == CFG_STEER_FLOW_AFFINITY ? PMD_STEER_FLOW_AFFINITY
	                                                               : PMD_STEER_RSS;
	snap->steer.rx_enabled = snap->enabled;
	snap->steer.inbox = d->steer->inbox;
	snap->steer.affinity = d->steer->affinity;
	*out = &snap->steer;             /* the snapshot's first member: free() takes it */
	return 0;
}

int
be_steer_set(struct be_dev *d, const struct rss_settings *cfg, char *why, size_t why_len)
{
	struct pmd_steer *snap;
	int rc = be_steer_build(d, cfg, &snap, why, why_len);

	if (rc != 0)
		return rc;
	if (d->steer->snap != NULL)
		be_retire(d->be, d->steer->snap);
	d->steer->snap = snap;
	d->steer->cfg = *cfg;
	return 0;
}

void
be_txn_publish(struct be *be, struct be_txn *t)
{
	char why[200];

	for (unsigned i = 0; i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i];

		if (!d->steer_stale)
			continue;
		d->steer_stale = false;
		/* The settings were checked when set: only memory can fail
		 * here (logged; the old snapshot stays), and the rings' own
		 * threads must still be replanned. */
		if (be_steer_set(d, &d->steer->cfg, why, sizeof(why)) != 0)
			vlog_err("device %s: steering not updated: %s", d->cfg.name, why);
	}
	for (unsigned c = 0; c < BE_MAX_CORES; c++)
		if (t->replan[c / 64] >> (c % 64) & 1)
			be_replan(be, be->pmd_by_core[c]);
	/* Every plan is rebuilt now: nothing retired is in a current plan. */
	if (t->wait || be->nretired >= BE_RETIRED_MAX)
		be_sync(be);
	*t = (struct be_txn){ .wait = false };
}
