/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/dev.c - device life cycle: a configured device (socket, port, mbuf
 * pool, per-pair state, steering) is created at start-up and outlives its
 * frontend connections; a frontend attaches, and detaching stops every ring
 * (rings.c) and republishes the plans that listed them. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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
#include "backend/pool.h"
#include "common/tunables.h"
#include "vhostmq_conf.h"

_Static_assert(VHOSTMQ_MAX_QP <= VHU_MAX_QP, "more queue pairs than vhost-user can address");

uint64_t
be_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
be_dev_attach(struct be_dev *d, int fd)
{
	struct vhu_conn_params p = { .name = d->cfg.name, .max_qp = d->cfg.queue_pairs,
	                             .offer = { .csum = d->cfg.offload.csum,
	                                        .guest_csum = d->cfg.offload.guest_csum,
	                                        .mtu = true,
	                                        .host_tso4 = d->cfg.offload.host_tso4,
	                                        .host_tso6 = d->cfg.offload.host_tso6,
	                                        .host_ecn = d->cfg.offload.host_ecn,
	                                        .guest_tso4 = d->cfg.offload.guest_tso4,
	                                        .guest_tso6 = d->cfg.offload.guest_tso6,
	                                        .guest_ecn = d->cfg.offload.guest_ecn,
	                                        .packed = d->cfg.offload.packed },
	                             .mtu = d->cfg.mtu,
	                             .ops = &be_vhu_ops, .owner = d,
	                             .log_limit = &d->log_limit };

	if (d->conn != NULL) {
		vlog_warn("device %s: refusing a second frontend on %s", d->cfg.name,
		          d->cfg.socket);
		close(fd);
		return;
	}
	for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++)
		d->qp[qp].ring[VNET_RX].has_pos = d->qp[qp].ring[VNET_TX].has_pos = false;
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

static void
be_dev_detach(struct be_dev *d)
{
	struct be_txn t = { .wait = false };

	vhu_conn_free(d->conn);          /* stops every ring, then be_vhu_ops.reset */
	d->conn = NULL;
	be_txn_replan_dev(&t, d);        /* no entry of d is listed any more */
	be_txn_publish(d->be, &t);
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
 * threads run on; detaching is the normal path: stop every ring (grace
 * period), then unmap, which also frees the guard's slots. */
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

struct pmd *
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
			be->pmd_mark[core] = pmd_cycles(be->pmd_by_core[core]);
		if (be->pmd_by_core[core] != NULL)
			vlog_info("poll thread started on core %u (%s)", core,
			          p.busy ? "busy polling" : "adaptive");
	}
	return be->pmd_by_core[core];
}

/* Inboxes, affinity slots and the first steering snapshot (no RX ring
 * running yet) of a device with an ethdev or device port, from the config's
 * RSS settings. */
static int
be_steer_create(struct be_dev *d, char *why, size_t why_len)
{
	const struct cfg_device *c = &d->cfg;
	uint16_t nq = c->queue_pairs;
	/* A device port is made later, with one RX queue per pair. */
	uint16_t nrxq = d->port != NULL ? d->port->nrxq : nq;
	struct be_steering *s;

	d->steer = s = calloc(1, sizeof(*s));
	if (s == NULL || (s->inbox = calloc(nq, sizeof(s->inbox[0]))) == NULL ||
	    (s->affinity = calloc(PMD_AFFINITY_SLOTS, sizeof(s->affinity[0]))) == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint16_t qp = 0; qp < nq; qp++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "ib-%.18s-%u", c->name, qp);
		s->inbox[qp] = rte_ring_create(name, pool_inbox_size(nrxq, nq), SOCKET_ID_ANY,
		                               RING_F_SC_DEQ);
		if (s->inbox[qp] == NULL) {
			snprintf(why, why_len, "inbox ring %s: %s", name, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return be_steer_set(d, &c->rss, why, why_len);
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

/* d's mbuf pool: tuning.mbufs, or what shape needs. */
static int
be_pool_create(struct be_dev *d, const struct pool_shape *shape)
{
	const struct cfg_device *c = &d->cfg;
	unsigned need = pool_mbufs_needed(shape), n = c->tune.mbufs ? c->tune.mbufs : need;
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "mb-%.20s", c->name);
	d->pool = pool_create(name, n);
	if (d->pool == NULL) {
		vlog_err("device %s: mbuf pool of %u mbufs (%" PRIu64 " MiB): %s; give EAL that "
		         "much more memory (eal_args: -m MB, or hugepages)%s", c->name, n,
		         pool_bytes(n) >> 20, rte_strerror(rte_errno),
		         c->tune.mbufs ? ", or lower tuning.mbufs" : "");
		return -ENOMEM;
	}
	if (n < need)
		vlog_warn("device %s: tuning.mbufs %u is below the %u its port and rings can "
		          "hold: guest TX waits (tx_nombuf) or the port drops while they do",
		          c->name, n, need);
	vlog_debug("device %s: %u mbufs (%u needed)", c->name, n, need);
	return 0;
}

/* d's port (an ethdev probed first, so that its pool fits its queues) and
 * mbuf pool. A device port is made with its peer's, once both devices
 * exist (be_devs_wire()); its pool is made here. */
static int
be_port_create(const struct cfg *cfg, unsigned idx, struct be_dev *d)
{
	const struct cfg_device *c = &d->cfg;
	struct pmd_ethdev_info info;
	struct pool_shape shape;
	char why[256];
	int rc = 0;

	pool_shape_of_cfg(cfg, idx, &shape);
	if (c->port_kind == CFG_PORT_ETHDEV) {
		const struct pmd_ethdev_shape want = {
			.want = c->queue_pairs, .nrxq = (uint16_t)c->tune.port_rx_queues,
			.ntxq = (uint16_t)c->tune.port_tx_queues,
			.rx_ring = (uint16_t)c->tune.port_rx_ring,
			.tx_ring = (uint16_t)c->tune.port_tx_ring,
		};

		if ((rc = pmd_port_ethdev_probe(c->port_devargs, &want, &info, why,
		                                sizeof(why))) != 0) {
			vlog_err("device %s: port: %s", c->name, why);
			return rc;
		}
		shape.nrxq = info.nrxq;
		shape.ntxq = info.ntxq;
		shape.rx_ring = info.rx_ring;
		shape.tx_ring = info.tx_ring;
	}
	if ((rc = be_pool_create(d, &shape)) != 0)
		return rc;
	rc = c->port_kind == CFG_PORT_LOOPBACK
	     ? pmd_port_loopback_new(c->name, c->queue_pairs, &d->port, why, sizeof(why))
	     : c->port_kind == CFG_PORT_ETHDEV
	     ? pmd_port_ethdev_new(c->port_devargs, &info, d->pool, &d->port, why, sizeof(why))
	     : 0;
	if (rc != 0) {
		vlog_err("device %s: port: %s", c->name, why);
		return rc;
	}
	if (c->port_kind == CFG_PORT_ETHDEV)
		vlog_info("device %s: port %s: %u rx / %u tx queue(s) of %u / %u descriptors for "
		          "%u queue pair(s)", c->name, info.driver, info.nrxq, info.ntxq,
		          info.rx_ring, info.tx_ring, c->queue_pairs);
	return 0;
}

static int
be_dev_create(struct be *be, struct be_dev *d, const struct cfg *cfg, unsigned idx)
{
	const struct cfg_device *c = &cfg->dev[idx];
	uint16_t nq = c->queue_pairs;
	char why[256];
	int rc;

	*d = (struct be_dev){ .be = be, .cfg = *c, .listen_fd = -1,
	                      .log_limit = VLOG_RATELIMIT_INIT };
	d->qp = rte_zmalloc("qp-state", nq * sizeof(d->qp[0]), RTE_CACHE_LINE_SIZE);
	if (d->qp == NULL) {
		vlog_err("device %s: out of memory", c->name);
		return -ENOMEM;
	}
	if ((rc = be_port_create(cfg, idx, d)) != 0)
		return rc;
	for (uint16_t qp = 0; qp < nq; qp++) {
		unsigned core = c->cores[qp % c->n_cores];

		if ((d->qp[qp].pmd = be_pmd_for_core(be, c, core)) == NULL)
			return -EINVAL;
	}
	if (c->port_kind != CFG_PORT_LOOPBACK && (rc = be_steer_create(d, why, sizeof(why))) != 0) {
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
	          c->port_kind == CFG_PORT_LOOPBACK ? "loopback"
	          : c->port_kind == CFG_PORT_ETHDEV ? "ethdev" : "device",
	          c->port_kind == CFG_PORT_ETHDEV ? " " : c->port_kind == CFG_PORT_DEVICE ? ":" : "",
	          c->port_kind == CFG_PORT_ETHDEV ? c->port_devargs
	          : c->port_kind == CFG_PORT_DEVICE ? c->port_peer : "",
	          c->client ? "connecting to" : "listening on", c->socket);
	if (d->port != NULL && d->port->takes_tso)
		vlog_info("device %s: the port cuts TSO frames itself: the guest's go to it whole",
		          c->name);
	if (!c->client)
		be_log_access(d);
	if (c->offload.packed) {
		d->resume = be_resume_open(c->socket, 2u * nq, why, sizeof(why));
		if (d->resume == NULL)
			vlog_warn("device %s: packed ring positions are not kept across a restart "
			          "(%s): a vhostmq started after a crash cannot resume them",
			          c->name, why);
		else
			vlog_debug("device %s: packed ring positions kept in %s", c->name,
			           be_resume_path(d->resume));
	}
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
	if (d->steer != NULL) {
		for (uint16_t qp = 0; d->steer->inbox != NULL && qp < d->cfg.queue_pairs; qp++)
			rte_ring_free(d->steer->inbox[qp]);   /* emptied by the detach above */
		free(d->steer->inbox);
		free(d->steer->affinity);
		free(d->steer->snap);    /* no plan lists d: the snapshot's first member */
		free(d->steer);
	}
	be_resume_close(d->resume);
	rte_mempool_free(d->pool);
	rte_free(d->txq_lock);
	rte_free(d->qp);
}

/* The device ports: each pair's rings are made once, when the loop reaches
 * the second of the two (the config checked that peers name each other). */
static int
be_devs_wire(struct be *be)
{
	char why[256];

	for (unsigned i = 0; i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i], *p = NULL;
		int rc;

		if (d->cfg.port_kind != CFG_PORT_DEVICE || d->port != NULL)
			continue;
		for (unsigned j = i + 1; j < be->ndev && p == NULL; j++)
			if (strcmp(be->dev[j].cfg.name, d->cfg.port_peer) == 0)
				p = &be->dev[j];
		if (p == NULL || p->cfg.port_kind != CFG_PORT_DEVICE ||
		    strcmp(p->cfg.port_peer, d->cfg.name) != 0) {
			vlog_err("device %s: port device:%s: no such device wired back",
			         d->cfg.name, d->cfg.port_peer);
			return -EINVAL;
		}
		rc = pmd_port_device_pair(d->cfg.name, d->cfg.queue_pairs, p->cfg.name,
		                          p->cfg.queue_pairs, &d->port, &p->port, why,
		                          sizeof(why));
		if (rc != 0) {
			vlog_err("device %s: port device:%s: %s", d->cfg.name, p->cfg.name, why);
			return rc;
		}
		d->peer = p;
		p->peer = d;
		vlog_info("device %s: port device:%s (%u queue pairs each way)", d->cfg.name,
		          p->cfg.name, d->cfg.queue_pairs);
		vlog_info("device %s: port device:%s (%u queue pairs each way)", p->cfg.name,
		          d->cfg.name, p->cfg.queue_pairs);
	}
	return 0;
}

int
be_devs_create(struct be *be, const struct cfg *cfg)
{
	be->dev = calloc(cfg->n_devices, sizeof(be->dev[0]));
	if (be->dev == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_devices; i++) {
		int rc = be_dev_create(be, &be->dev[i], cfg, i);

		be->ndev = i + 1;
		if (rc != 0)
			return rc;
	}
	int rc = be_devs_wire(be);

	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i];

		/* Shared port TX queues (fewer than pairs) each have a lock. */
		if (d->port->ntxq < d->cfg.queue_pairs) {
			d->txq_lock = rte_zmalloc("txq-lock", d->port->ntxq * sizeof(d->txq_lock[0]),
			                          RTE_CACHE_LINE_SIZE);
			if (d->txq_lock == NULL) {
				vlog_err("device %s: out of memory", d->cfg.name);
				return -ENOMEM;
			}
		}
		be_tx_assign(d);
	}
	return 0;
}

void
be_devs_destroy(struct be *be)
{
	/* Detach every device first: detaching replans threads that other
	 * devices share, which reads every device's state. */
	for (unsigned i = 0; i < be->ndev; i++)
		if (be->dev[i].conn != NULL)
			be_dev_detach(&be->dev[i]);
	be_sync(be);                     /* frees what the last transactions retired */
	/* Ports first: a device port's rings hold frames of its peer's pool. */
	for (unsigned i = 0; i < be->ndev; i++) {
		pmd_port_free(be->dev[i].port);
		be->dev[i].port = NULL;
	}
	for (unsigned i = 0; i < be->ndev; i++)
		be_dev_destroy(&be->dev[i]);
	for (unsigned c = 0; c < BE_MAX_CORES; c++)
		pmd_stop(be->pmd_by_core[c]);
	free(be->retired);
	free(be->dev);
}
