/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/dev.c - devices: turning vhost-user events into poll-thread plans.
 * vhost-user tells us (struct vhu_ops) when a vring must stop and when it may
 * run; we map its vq and republish the plan of the thread serving its queue
 * pair. The only module that publishes with RCU: every plan change goes
 * through be_replan(), which returns after a grace period. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "backend/be.h"
#include "vhost-user/conn.h"
#include "vhost-user/guard.h"
#include "vhost-user/sock.h"
#include "common/log.h"
#include "vhostmq_conf.h"

_Static_assert(VHOSTMQ_MAX_QP <= VHU_MAX_QP, "more queue pairs than vhost-user can address");

/* Mbufs per queue pair: a loopback ring (1024) plus a burst in each direction
 * plus the held frames, with room for 9000-byte frames that take five 2 KiB
 * mbufs each in flight. */
#define BE_MBUFS_PER_QP 4096u
#define BE_MBUF_CACHE 256u

uint64_t
be_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct be_dev *
owner_dev(void *owner)
{
	return owner;
}

/* Entries of a steering device stay in the plans while any RX ring can
 * receive: every port queue must be drained into the enabled rings, also
 * those of pairs the guest has disabled (ethtool -L). */
static bool
be_qp_listed(const struct be_dev *d, uint16_t qp)
{
	if (d->running[vnet_vqi(qp, VNET_RX)] || d->running[vnet_vqi(qp, VNET_TX)])
		return true;
	return d->conn != NULL && d->steer != NULL && d->steer->rss.n_enabled > 0;
}

/* Rebuilds and publishes the plan of one poll thread from every device's
 * running rings. Returns after a grace period. */
static void
be_replan(struct be *be, struct pmd *pmd)
{
	uint32_t n = 0, k = 0;
	struct pmd_plan *plan;

	for (unsigned i = 0; i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i];

		for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++)
			if (d->qp_pmd[qp] == pmd && be_qp_listed(d, qp))
				n++;
	}
	plan = pmd_plan_new(n);
	if (plan == NULL) {
		/* Cannot happen short of OOM; keeping the old plan would let a
		 * thread touch a ring we are about to change, so stop instead. */
		vlog_err("out of memory building a poll plan");
		abort();
	}
	for (unsigned i = 0; i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i];

		for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++) {
			uint32_t rx = vnet_vqi(qp, VNET_RX), tx = vnet_vqi(qp, VNET_TX);
			const struct vhu_vring *vrx, *vtx;
			uint64_t features;

			if (d->qp_pmd[qp] != pmd || !be_qp_listed(d, qp))
				continue;
			vrx = vhu_conn_vring(d->conn, rx);
			vtx = vhu_conn_vring(d->conn, tx);
			features = vhu_conn_features(d->conn);
			plan->q[k++] = (struct pmd_qp){
				.rx = { d->running[rx] ? &d->vq[rx] : NULL, vrx->call_fd, vrx->err_fd },
				.tx = { d->running[tx] ? &d->vq[tx] : NULL, vtx->call_fd, vtx->err_fd },
				.mem = vhu_conn_mem(d->conn),
				.rx_fmt = { .hdr_len = vnet_hdr_len(features),
				            .mrg_rxbuf = features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) },
				.tx_hdr_len = vnet_hdr_len(features),
				.port = d->port, .port_q = qp, .pool = d->pool, .st = &d->qps[qp],
				.dev_name = d->cfg.name, .qp = qp, .steer = d->steer,
				.unwatched = (d->running[rx] && !d->watched[rx]) ||
				             (d->running[tx] && !d->watched[tx]),
			};
		}
	}
	pmd_publish(pmd, plan);
}

/* Republishes the plan of every thread serving d. */
static void
be_replan_dev(struct be_dev *d)
{
	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++) {
		bool seen = false;

		for (uint16_t k = 0; k < qp && !seen; k++)
			seen = d->qp_pmd[k] == d->qp_pmd[qp];
		if (!seen)
			be_replan(d->be, d->qp_pmd[qp]);
	}
}

/* A snapshot and the enabled flags it was built over, in one allocation. */
struct be_steer_snap {
	struct pmd_steer steer;
	bool enabled[];
};

int
be_steer_update(struct be_dev *d, char *why, size_t why_len)
{
	uint16_t nq = d->cfg.queue_pairs;
	struct be_steer_snap *snap, *old;
	int rc;

	if (d->inbox == NULL)
		return 0;                /* loopback: answers on the same pair */
	snap = calloc(1, sizeof(*snap) + nq * sizeof(snap->enabled[0]));
	if (snap == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint16_t qp = 0; qp < nq; qp++)
		snap->enabled[qp] = d->running[vnet_vqi(qp, VNET_RX)];
	rc = pmd_rss_build(&snap->steer.rss, &d->rss_cfg, snap->enabled, nq, why, why_len);
	if (rc != 0) {
		free(snap);
		return rc;
	}
	snap->steer.mode = d->cfg.steering == CFG_STEER_FLOW_AFFINITY ? PMD_STEER_FLOW_AFFINITY
	                                                               : PMD_STEER_RSS;
	snap->steer.rx_enabled = snap->enabled;
	snap->steer.inbox = d->inbox;
	snap->steer.affinity = d->affinity;
	old = (struct be_steer_snap *)d->steer;
	d->steer = &snap->steer;
	be_replan_dev(d);                /* after this no thread sees old */
	free(old);
	return 0;
}

/* An RX ring started or stopped: steering must name exactly the running ones
 * (no frame may land on a disabled queue). */
static void
be_rx_changed(struct be_dev *d, struct pmd *pmd)
{
	char why[200];

	if (d->inbox == NULL) {
		be_replan(d->be, pmd);
		return;
	}
	if (be_steer_update(d, why, sizeof(why)) != 0) {
		/* Only memory can fail here (settings were checked when set); the
		 * ring's own thread must still stop or start touching it. */
		vlog_err("device %s: steering not updated: %s", d->cfg.name, why);
		be_replan(d->be, pmd);
	}
}

static void
be_quiesce(void *owner, uint32_t vqi)
{
	struct be_dev *d = owner_dev(owner);
	struct pmd *pmd = d->qp_pmd[vnet_vqi_qp(vqi)];
	const struct vhu_vring *v;

	if (!d->running[vqi])            /* also whenever no frontend is attached */
		return;
	v = vhu_conn_vring(d->conn, vqi);
	d->running[vqi] = false;
	if (d->watched[vqi])
		pmd_unwatch_fd(pmd, v->kick_fd);
	d->watched[vqi] = false;
	if (vnet_vqi_dir(vqi) == VNET_RX)
		be_rx_changed(d, pmd);
	else
		be_replan(d->be, pmd);
}

/* The guest disabled (or has not yet enabled) pair qp's RX ring: what waits
 * for it in its held slots and inbox would otherwise arrive whenever the ring
 * comes back, long after. No plan lists the ring (quiesced) and steering no
 * longer names it, so this thread is the only consumer now. */
/* Frees what waits for pair qp's guest RX in its held slots and inbox; the
 * caller has made sure no poll thread reads either. Returns how many. */
static unsigned
be_drop_waiting(struct be_dev *d, uint16_t qp)
{
	unsigned n = pmd_qp_state_drop_held(&d->qps[qp]);
	void *m;

	while (d->inbox != NULL && rte_ring_sc_dequeue(d->inbox[qp], &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static void
be_drop_for_disabled(struct be_dev *d, uint16_t qp)
{
	struct pmd_qp_state *st = &d->qps[qp];
	unsigned n = be_drop_waiting(d, qp);

	if (n)
		__atomic_store_n(&st->stats.rx_drop_disabled, st->stats.rx_drop_disabled + n,
		                 __ATOMIC_RELAXED);
}

static void
be_resume(void *owner, uint32_t vqi)
{
	struct be_dev *d = owner_dev(owner);
	struct pmd *pmd = d->qp_pmd[vnet_vqi_qp(vqi)];
	const struct vhu_vring *v = vhu_conn_vring(d->conn, vqi);
	enum vnet_dir dir = vnet_vqi_dir(vqi);
	enum vq_err e;

	if (d->running[vqi])
		return;
	if (!vhu_vring_ready(d->conn, vqi)) {
		if (dir == VNET_RX)
			be_drop_for_disabled(d, vnet_vqi_qp(vqi));
		return;
	}
	e = vq_map(&d->vq[vqi], vhu_conn_mem(d->conn), &v->addrs, v->num,
	           dir == VNET_TX ? VQ_DIR_DEVICE_READS : VQ_DIR_DEVICE_WRITES,
	           vhu_conn_features(d->conn));
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
		d->qps[vnet_vqi_qp(vqi)].tx_broken_logged = false;
		d->qps[vnet_vqi_qp(vqi)].tx_drop_logged = false;
	} else {
		d->qps[vnet_vqi_qp(vqi)].rx_broken_logged = false;
		d->qps[vnet_vqi_qp(vqi)].rx_drop_logged = false;
	}
	d->has_pos[vqi] = true;
	d->running[vqi] = true;
	/* NOFD: the driver never kicks, so the thread must look on its own. */
	d->watched[vqi] = v->kick_fd >= 0 && pmd_watch_fd(pmd, v->kick_fd) == 0;
	if (v->kick_fd >= 0 && !d->watched[vqi])
		vlog_warn("device %s: vring %u: cannot watch its kick fd; an idle thread "
		          "looks at it every millisecond instead", d->cfg.name, vqi);
	if (dir == VNET_RX)
		be_rx_changed(d, pmd);
	else
		be_replan(d->be, pmd);
	vlog_debug("device %s: vring %u running on core %u", d->cfg.name, vqi, pmd_core(pmd));
}

static bool
be_position(void *owner, uint32_t vqi, uint16_t *last_avail)
{
	struct be_dev *d = owner_dev(owner);

	if (!d->has_pos[vqi])
		return false;
	*last_avail = d->vq[vqi].last_avail;
	return true;
}

static void be_reset(void *owner);

static const struct vhu_ops be_vhu_ops = {
	.quiesce = be_quiesce, .resume = be_resume, .position = be_position,
	.reset = be_reset,
};

void
be_dev_attach(struct be_dev *d, int fd)
{
	struct vhu_conn_params p = { .name = d->cfg.name, .max_qp = d->cfg.queue_pairs,
	                            .ops = &be_vhu_ops, .owner = d,
	                            .log_limit = &d->log_limit };

	if (d->conn != NULL) {
		vlog_warn("device %s: refusing a second frontend on %s", d->cfg.name,
		          d->cfg.socket);
		close(fd);
		return;
	}
	memset(d->has_pos, 0, 2u * d->cfg.queue_pairs * sizeof(d->has_pos[0]));
	d->conn = vhu_conn_new(&p, fd);
	if (d->conn == NULL) {
		vlog_err("device %s: out of memory for a connection", d->cfg.name);
		return;
	}
	d->connections++;
	d->connect_start_ns = be_now_ns();
	vlog_info("device %s: frontend connected on %s%s", d->cfg.name, d->cfg.socket,
	          d->cfg.client ? " (client mode)" : "");
}

/* vhost-user reset the device (RESET_OWNER, or the frontend left): every
 * vring is quiesced, so no plan lists a ring of d and steering names no RX
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
	if (d->affinity != NULL)         /* the next driver's flows are its own */
		memset(d->affinity, 0, PMD_AFFINITY_SLOTS * sizeof(d->affinity[0]));
	if (dropped)
		vlog_info("device %s: reset; %u frames that waited for the old driver's RX "
		          "rings dropped", d->cfg.name, dropped);
}

static void
be_dev_detach(struct be_dev *d)
{
	vhu_conn_free(d->conn);           /* quiesces every vring, then be_reset() */
	d->conn = NULL;
	be_replan_dev(d);                /* no entry of d is listed any more */
	d->connected_ns += be_now_ns() - d->connect_start_ns;
	vlog_info("device %s: frontend detached", d->cfg.name);
}

int
be_dev_try_connect(struct be_dev *d)
{
	int fd;

	if (!d->cfg.client || d->conn != NULL)
		return -EALREADY;
	fd = vhu_connect(d->cfg.socket);
	if (fd < 0) {
		if (!d->waiting_logged)
			vlog_info("device %s: no frontend listening on %s yet (%s); trying every "
			          "%u ms", d->cfg.name, d->cfg.socket, strerror(-fd),
			          BE_RECONNECT_MS);
		d->waiting_logged = true;
		return fd;
	}
	d->waiting_logged = false;
	be_dev_attach(d, fd);
	return d->conn != NULL ? fd : -ENOMEM;
}

void
be_dev_conn_event(struct be_dev *d)
{
	if (vhu_conn_readable(d->conn) != 0)
		be_dev_detach(d);
}

/* The guard already put zero pages where the lost ones were, so the poll
 * threads run on; detaching is the normal path: quiesce (grace period),
 * then unmap, which also frees the guard's slots. */
void
be_guard_event(struct be *be)
{
	struct vhu_guard_fault f;

	while (vhu_guard_next_fault(&f)) {
		struct be_dev *d = NULL;

		/* The fault names the memory table: the device using it now.
		 * A replaced table is unmapped (and its slots gone) before the
		 * control thread gets here, so one always matches. */
		for (unsigned i = 0; i < be->ndev && d == NULL; i++)
			if (be->dev[i].conn != NULL && vhu_conn_mem(be->dev[i].conn) == f.owner)
				d = &be->dev[i];
		if (d == NULL) {
			vlog_warn("guest memory region %u of no current device faulted (SIGBUS at "
			          "offset 0x%" PRIx64 ")", f.tag, f.file_off);
			continue;
		}
		if (f.sealed)
			vlog_err("device %s: guest memory region %u could not be read (SIGBUS at "
			         "offset 0x%" PRIx64 "; its file is sealed against shrinking, so an "
			         "I/O or hugepage error); closing the connection", d->cfg.name, f.tag,
			         f.file_off);
		else
			vlog_err("device %s: guest memory region %u shrank under us (SIGBUS at "
			         "offset 0x%" PRIx64 "); closing the connection", d->cfg.name, f.tag,
			         f.file_off);
		be_dev_detach(d);
	}
}

/* The thread serving core c, started on first use. */
static struct pmd *
be_pmd_for_core(struct be *be, const struct cfg_device *c, unsigned core)
{
	struct pmd_params p = { .core = core, .busy = c->poll_mode == CFG_POLL_BUSY,
	                        .idle_us = c->idle_us };
	char why[200];

	if (be->pmd_by_core[core] == NULL) {
		be->pmd_by_core[core] = pmd_start(&p, why, sizeof(why));
		if (be->pmd_by_core[core] == NULL)
			vlog_err("device %s: %s", c->name, why);
		else
			vlog_info("poll thread started on core %u (%s)", core,
			          p.busy ? "busy polling" : "adaptive");
	}
	return be->pmd_by_core[core];
}

/* Inboxes, affinity slots and the RSS settings of an ethdev device; the
 * first snapshot (no RX ring running yet) checks the settings against it. */
static int
be_steer_create(struct be_dev *d, char *why, size_t why_len)
{
	const struct cfg_device *c = &d->cfg;
	uint16_t nq = c->queue_pairs;

	d->inbox = calloc(nq, sizeof(d->inbox[0]));
	d->affinity = calloc(PMD_AFFINITY_SLOTS, sizeof(d->affinity[0]));
	if (d->inbox == NULL || d->affinity == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint16_t qp = 0; qp < nq; qp++) {
		char name[RTE_RING_NAMESIZE];

		/* 1024: a full burst from every pair's port queue four times over. */
		snprintf(name, sizeof(name), "ib-%.18s-%u", c->name, qp);
		d->inbox[qp] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (d->inbox[qp] == NULL) {
			snprintf(why, why_len, "inbox ring %s: %s", name, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	d->rss_cfg = c->rss;
	return be_steer_update(d, why, why_len);
}

/* Who can attach, as the socket file says after vhu_listen_as(). */
static void
be_log_access(const struct be_dev *d)
{
	struct stat st;

	if (lstat(d->cfg.socket, &st) == 0)
		vlog_info("device %s: socket owner %u, group %u, mode %04o: who can attach",
		          d->cfg.name, (unsigned)st.st_uid, (unsigned)st.st_gid,
		          (unsigned)(st.st_mode & 07777));
}

static int
be_dev_create(struct be *be, struct be_dev *d, const struct cfg_device *c)
{
	uint16_t nq = c->queue_pairs;
	unsigned nmbufs = nq * BE_MBUFS_PER_QP;
	char name[RTE_MEMPOOL_NAMESIZE], why[256];
	int rc;

	*d = (struct be_dev){ .be = be, .cfg = *c, .listen_fd = -1,
	                      .log_limit = VLOG_RATELIMIT_INIT };
	d->qps = rte_zmalloc("qp-state", nq * sizeof(d->qps[0]), RTE_CACHE_LINE_SIZE);
	d->qp_pmd = calloc(nq, sizeof(d->qp_pmd[0]));
	d->vq = calloc(2u * nq, sizeof(d->vq[0]));
	d->running = calloc(2u * nq, sizeof(d->running[0]));
	d->has_pos = calloc(2u * nq, sizeof(d->has_pos[0]));
	d->watched = calloc(2u * nq, sizeof(d->watched[0]));
	if (!d->qps || !d->qp_pmd || !d->vq || !d->running || !d->has_pos || !d->watched) {
		vlog_err("device %s: out of memory", c->name);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "mb-%.20s", c->name);
	d->pool = rte_pktmbuf_pool_create(name, nmbufs, BE_MBUF_CACHE, 0,
	                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (d->pool == NULL) {
		vlog_err("device %s: mbuf pool of %u: %s (with your own eal_args, give EAL "
		         "more memory: -m)", c->name, nmbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = c->port_kind == CFG_PORT_LOOPBACK
	     ? pmd_port_loopback_new(c->name, nq, &d->port, why, sizeof(why))
	     : pmd_port_ethdev_new(c->port_devargs, nq, d->pool, &d->port, why, sizeof(why));
	if (rc != 0) {
		vlog_err("device %s: port: %s", c->name, why);
		return rc;
	}
	for (uint16_t qp = 0; qp < nq; qp++) {
		unsigned core = c->cores[qp % c->n_cores];

		if ((d->qp_pmd[qp] = be_pmd_for_core(be, c, core)) == NULL)
			return -EINVAL;
	}
	if (c->port_kind == CFG_PORT_ETHDEV && (rc = be_steer_create(d, why, sizeof(why))) != 0) {
		vlog_err("device %s: steering: %s", c->name, why);
		return rc;
	}
	if (!c->client) {
		const struct vhu_sock_access a = {
			.mode = (mode_t)c->socket_mode,
			.uid = c->socket_uid == CFG_ID_NONE ? (uid_t)-1 : (uid_t)c->socket_uid,
			.gid = c->socket_gid == CFG_ID_NONE ? (gid_t)-1 : (gid_t)c->socket_gid,
		};

		d->listen_fd = vhu_listen_as(c->socket, &a, why, sizeof(why));
		if (d->listen_fd < 0) {
			vlog_err("device %s: socket: %s", c->name, why);
			return d->listen_fd;
		}
	}
	vlog_info("device %s: %u queue pair(s), port %s%s%s, %s %s", c->name, nq,
	          d->port->kind, c->port_kind == CFG_PORT_ETHDEV ? " " : "",
	          c->port_kind == CFG_PORT_ETHDEV ? c->port_devargs : "",
	          c->client ? "connecting to" : "listening on", c->socket);
	if (!c->client)
		be_log_access(d);
	return 0;
}

static void
be_dev_destroy(struct be_dev *d)
{
	if (d->conn != NULL)
		be_dev_detach(d);        /* after it, no plan lists d */
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg.socket);
	}
	pmd_port_free(d->port);
	for (uint16_t qp = 0; d->inbox != NULL && qp < d->cfg.queue_pairs; qp++)
		rte_ring_free(d->inbox[qp]);   /* emptied by the detach above */
	free(d->inbox);
	free(d->affinity);
	free(d->steer);                  /* the snapshot's first member */
	rte_mempool_free(d->pool);
	rte_free(d->qps);
	free(d->qp_pmd);
	free(d->vq);
	free(d->running);
	free(d->has_pos);
	free(d->watched);
}

int
be_devs_create(struct be *be, const struct cfg *cfg)
{
	be->dev = calloc(cfg->n_devices, sizeof(be->dev[0]));
	if (be->dev == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_devices; i++) {
		int rc = be_dev_create(be, &be->dev[i], &cfg->dev[i]);

		be->ndev = i + 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
be_devs_destroy(struct be *be)
{
	/* Detach every device first: detaching replans threads that other
	 * devices share, which reads every device's arrays. */
	for (unsigned i = 0; i < be->ndev; i++)
		if (be->dev[i].conn != NULL)
			be_dev_detach(&be->dev[i]);
	for (unsigned i = 0; i < be->ndev; i++)
		be_dev_destroy(&be->dev[i]);
	for (unsigned c = 0; c < BE_MAX_CORES; c++)
		pmd_stop(be->pmd_by_core[c]);
	free(be->dev);
}

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
	struct rss_settings old = d->rss_cfg;
	int rc;

	if (d->inbox == NULL) {
		snprintf(why, why_len, "device %s has a loopback port: frames come back on the "
		         "pair they left by, there is no RSS to set", d->cfg.name);
		return -EINVAL;
	}
	d->rss_cfg = *cfg;
	rc = be_steer_update(d, why, why_len);
	if (rc != 0)
		d->rss_cfg = old;        /* the old snapshot is still published */
	else
		vlog_info("device %s: RSS settings changed", d->cfg.name);
	return rc;
}

int
be_move_qp(struct be_dev *d, uint16_t qp, unsigned core, char *why, size_t why_len)
{
	uint32_t vqi[2] = { vnet_vqi(qp, VNET_RX), vnet_vqi(qp, VNET_TX) };
	bool was[2];
	struct pmd *from, *to;

	if (qp >= d->cfg.queue_pairs) {
		snprintf(why, why_len, "qp: %u does not exist (device %s has %u)", qp, d->cfg.name,
		         d->cfg.queue_pairs);
		return -EINVAL;
	}
	if (core >= BE_MAX_CORES || !CPU_ISSET(core, &d->be->allowed)) {
		snprintf(why, why_len, "core: %u is not available to this process", core);
		return -EINVAL;
	}
	from = d->qp_pmd[qp];
	to = be_pmd_for_core(d->be, &d->cfg, core);
	if (to == NULL) {
		snprintf(why, why_len, "core: cannot start a poll thread on core %u", core);
		return -EIO;
	}
	if (to == from)
		return 0;
	/* Stop the pair's rings, take the pair out of the old thread's plan
	 * (grace period), hand it over, restart the rings on the new thread:
	 * the rings resume from the guest's used index, nothing is lost. */
	for (int k = 0; k < 2; k++) {
		was[k] = d->running[vqi[k]];
		be_quiesce(d, vqi[k]);
	}
	d->qp_pmd[qp] = to;
	be_replan(d->be, from);
	if (d->conn != NULL)
		for (int k = 0; k < 2; k++)
			be_resume(d, vqi[k]);
	be_replan(d->be, to);
	vlog_info("device %s: queue pair %u moved from core %u to core %u%s", d->cfg.name, qp,
	          pmd_core(from), core, was[0] || was[1] ? " (rings restarted)" : "");
	return 0;
}
