/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/rings.c - what a frontend connection asks of its device (struct
 * vhu_ops): stop rings before their configuration changes, and, once per
 * message, start the rings that are ready and stop those that no longer are,
 * as one transaction (plan.c). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "backend/be.h"
#include "vhost-user/conn.h"

static struct be_dev *
owner_dev(void *owner)
{
	return owner;
}

void
be_ring_stop(struct be_dev *d, uint32_t vqi, struct be_txn *t)
{
	struct be_ring *r = be_ring(d, vqi);
	struct pmd *pmd = d->qp[vnet_vqi_qp(vqi)].pmd;

	if (!r->running)                 /* also whenever no frontend is attached */
		return;
	r->running = false;
	if (r->watched)
		pmd_unwatch_fd(pmd, vhu_conn_vring(d->conn, vqi)->kick_fd);
	r->watched = false;
	be_txn_replan(t, pmd);
	/* Steering must name exactly the running RX rings. */
	if (vnet_vqi_dir(vqi) == VNET_RX)
		be_txn_steer(t, d);
	t->wait = true;
}

/* What a packed ring is (backend/resume.h): the guest memory file its
 * descriptors are in and its three areas' guest addresses. */
static struct be_ring_id
be_ring_identity(const struct be_dev *d, const struct vhu_vring *v)
{
	const struct gmem *mem = vhu_conn_mem(d->conn);
	struct be_ring_id id = { .size = v->num };

	if (!gmem_fva_to_gpa(mem, v->addrs.desc_fva, &id.desc_gpa) ||
	    !gmem_fva_to_gpa(mem, v->addrs.avail_fva, &id.driver_gpa) ||
	    !gmem_fva_to_gpa(mem, v->addrs.used_fva, &id.device_gpa))
		return id;               /* vq_map() will say why */
	for (uint32_t k = 0; k < mem->n; k++)
		if (id.desc_gpa - mem->r[k].gpa < mem->r[k].size)
			id.file_id = mem->r[k].file_id;
	return id;
}

/* Where packed ring vqi starts: the frontend's base, unless a vhostmq before
 * this one ran the very same ring and did not stop it cleanly (it crashed,
 * or was killed): QEMU 7.2 then resends a base from before, which the
 * guest's driver has long left behind. */
static uint16_t
be_packed_base(struct be_dev *d, uint32_t vqi, struct be_ring_id *id)
{
	const struct vhu_vring *v = vhu_conn_vring(d->conn, vqi);
	uint16_t saved;

	*id = be_ring_identity(d, v);
	if (!be_resume_find(d->resume, vqi, id, &saved) || saved == v->base)
		return v->base;
	if (!vq_packed_resumable(vhu_conn_mem(d->conn), &v->addrs, v->num, saved)) {
		vlog_info("device %s: vring %u: not resuming the packed ring where the previous "
		          "vhostmq left it (descriptor %u, wrap %u): the driver has set it up "
		          "anew since", d->cfg.name, vqi, saved & 0x7fff, saved >> 15);
		return v->base;
	}
	vlog_info("device %s: vring %u: resuming the packed ring at descriptor %u (wrap %u) "
	          "where the previous vhostmq left it; the frontend's base %u (wrap %u) is "
	          "from before", d->cfg.name, vqi, saved & 0x7fff, saved >> 15,
	          v->base & 0x7fff, v->base >> 15);
	return saved;
}

void
be_ring_start(struct be_dev *d, uint32_t vqi, struct be_txn *t)
{
	struct be_ring *r = be_ring(d, vqi);
	struct be_qp *q = &d->qp[vnet_vqi_qp(vqi)];
	const struct vhu_vring *v = vhu_conn_vring(d->conn, vqi);
	enum vnet_dir dir = vnet_vqi_dir(vqi);
	struct be_ring_id id;
	uint16_t base = v->base;
	bool packed;
	struct vq vq;
	enum vq_err e;

	if (r->running || !vhu_vring_ready(d->conn, vqi))
		return;
	packed = vhu_conn_features(d->conn) & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (packed)
		base = be_packed_base(d, vqi, &id);
	/* Mapped aside: a ring that cannot start keeps the position it had,
	 * for GET_VRING_BASE. */
	e = vq_map(&vq, vhu_conn_mem(d->conn), &v->addrs, v->num,
	           dir == VNET_TX ? VQ_DIR_DEVICE_READS : VQ_DIR_DEVICE_WRITES,
	           vhu_conn_features(d->conn), base);
	if (e != VQ_OK) {
		vlog_err("device %s: vring %u (%s of pair %u): cannot start: %s", d->cfg.name,
		         vqi, dir == VNET_TX ? "TX" : "RX", vnet_vqi_qp(vqi), vq_strerror(e));
		/* The driver learns of it as of a ring broken later. */
		if (v->err_fd >= 0 && eventfd_write(v->err_fd, 1) != 0)
			vlog_warn("device %s: vring %u: cannot signal its err eventfd: %s",
			          d->cfg.name, vqi, strerror(errno));
		return;
	}
	/* A re-initialised ring may break (and be reported) again. The pair's
	 * other ring may be running: these are separate bytes of the state. */
	if (dir == VNET_TX) {
		q->st.tx_broken_logged = false;
		q->st.tx_drop_logged = false;
	} else {
		q->st.rx_broken_logged = false;
		q->st.rx_drop_logged = false;
	}
	/* A migration's dirty log (or none) is fixed for as long as the ring
	 * runs: the poll thread learns of it with the ring, and the path
	 * without one tests nothing per packet. */
	vq_set_log(&vq, vhu_conn_log(d->conn), vhu_vring_log_gpa(d->conn, vqi));
	if (packed)
		vq_set_resume(&vq, be_resume_claim(d->resume, vqi, &id, base));
	r->vq = vq;
	r->has_pos = true;
	r->running = true;
	/* NOFD: the driver never kicks, so the thread must look on its own. */
	r->watched = v->kick_fd >= 0 && pmd_watch_fd(q->pmd, v->kick_fd) == 0;
	if (v->kick_fd >= 0 && !r->watched)
		vlog_warn("device %s: vring %u: cannot watch its kick fd; an idle thread "
		          "looks at it every millisecond instead", d->cfg.name, vqi);
	be_txn_replan(t, q->pmd);
	if (dir == VNET_RX)
		be_txn_steer(t, d);
	vlog_debug("device %s: vring %u running on core %u", d->cfg.name, vqi, pmd_core(q->pmd));
}

unsigned
be_drop_waiting(struct be_dev *d, uint16_t qp)
{
	unsigned n = pmd_qp_state_drop_held(&d->qp[qp].st);
	void *m;

	while (d->steer != NULL && rte_ring_sc_dequeue(d->steer->inbox[qp], &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* The guest disabled (or has not yet enabled) pair qp's RX ring: what waits
 * for it in its held slots and inbox would otherwise arrive whenever the ring
 * comes back, long after. A ring that is only stopped (GET_VRING_BASE, a new
 * address) keeps them: the guest still wants them. No plan lists the ring
 * and steering no longer names it (after a grace period), so this thread is
 * the only consumer. */
static void
be_drop_for_disabled(struct be_dev *d, uint16_t qp)
{
	struct pmd_qp_state *st = &d->qp[qp].st;
	unsigned n = be_drop_waiting(d, qp);

	if (n)
		__atomic_store_n(&st->stats.rx_drop_disabled, st->stats.rx_drop_disabled + n,
		                 __ATOMIC_RELAXED);
}

static void
be_stop(void *owner, const struct vhu_vring_set *set)
{
	struct be_dev *d = owner_dev(owner);
	struct be_txn t = { .wait = false };

	for (uint32_t vqi = 0; vqi < 2u * d->cfg.queue_pairs; vqi++)
		if (vhu_set_has(set, vqi))
			be_ring_stop(d, vqi, &t);
	be_txn_publish(d->be, &t);
}

static void
be_commit(void *owner, const struct vhu_vring_set *set)
{
	struct be_dev *d = owner_dev(owner);
	struct be_txn t = { .wait = false };

	for (uint32_t vqi = 0; vqi < 2u * d->cfg.queue_pairs; vqi++) {
		if (!vhu_set_has(set, vqi))
			continue;
		if (vhu_vring_ready(d->conn, vqi))
			be_ring_start(d, vqi, &t);
		else
			be_ring_stop(d, vqi, &t);
	}
	be_txn_publish(d->be, &t);               /* a grace period if a ring stopped */
	for (uint32_t vqi = 0; vqi < 2u * d->cfg.queue_pairs; vqi++)
		if (vhu_set_has(set, vqi) && vnet_vqi_dir(vqi) == VNET_RX &&
		    !vhu_conn_vring(d->conn, vqi)->enabled)
			be_drop_for_disabled(d, vnet_vqi_qp(vqi));
}

static bool
be_position(void *owner, uint32_t vqi, uint16_t *last_avail)
{
	struct be_ring *r = be_ring(owner_dev(owner), vqi);

	if (!r->has_pos)
		return false;
	*last_avail = vq_position(&r->vq);
	/* A clean stop: the frontend now knows where the ring is. */
	be_resume_forget(owner_dev(owner)->resume, vqi);
	return true;
}

/* vhost-user reset the device (RESET_OWNER, or the frontend left): every
 * vring is stopped, so no plan lists a ring of d and steering names no RX
 * queue (nothing reads or fills d's held frames, inboxes or port queues).
 * What waited for the old driver is not for the next one. */
static void
be_reset(void *owner)
{
	struct be_dev *d = owner_dev(owner);
	unsigned dropped = 0;

	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++) {
		dropped += be_drop_waiting(d, qp);
		if (d->port->ops->drain != NULL)
			dropped += d->port->ops->drain(d->port, qp);
	}
	if (d->steer != NULL)            /* the next driver's flows are its own */
		memset(d->steer->affinity, 0, PMD_AFFINITY_SLOTS * sizeof(d->steer->affinity[0]));
	if (dropped)
		vlog_info("device %s: reset; %u frames that waited for the old driver's RX "
		          "rings dropped", d->cfg.name, dropped);
}

static void
be_rarp(void *owner, const uint8_t mac[6])
{
	struct be_dev *d = owner_dev(owner);
	char why[160];

	if (be_send_rarp(d, mac, why, sizeof(why)) != 0)
		vlog_warn("device %s: SEND_RARP: %s", d->cfg.name, why);
	else
		vlog_info("device %s: announced %02x:%02x:%02x:%02x:%02x:%02x (RARP) on its "
		          "port: the guest moved here", d->cfg.name, mac[0], mac[1], mac[2],
		          mac[3], mac[4], mac[5]);
}

const struct vhu_ops be_vhu_ops = {
	.stop = be_stop, .commit = be_commit, .position = be_position, .reset = be_reset,
	.rarp = be_rarp,
};
