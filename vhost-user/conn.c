/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/conn.c - the per-connection state machine and its dispatcher.
 * Security model: vhu_dispatch() is the gate. A message whose version,
 * size, fd count or vring index is wrong never reaches a handler and closes
 * the connection. A handler that rejects a value logs the message and field; the
 * frontend gets a non-zero REPLY_ACK when it asked for one (and the
 * connection stays), otherwise the connection closes. Every fd a message
 * carries is either taken by its handler or closed here. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vhost-user/conn.h"
#include "vhost-user/mem.h"
#include "common/base.h"
#include "common/log.h"
#include "common/tunables.h"
#include "virtio/vnet.h"

struct vhu_conn {
	char name[64];
	int sock;
	uint16_t max_qp;
	struct vnet_offer offer;
	uint16_t mtu;                    /* configured: the one in force */
	const struct vhu_ops *ops;
	void *owner;
	struct vlog_ratelimit *log_limit;
	struct vhu_rx rx;
	unsigned nacks;                  /* rejections answered by REPLY_ACK */
	struct vhu_vring_set pending;    /* touched since the last commit */

	uint64_t features;               /* acked by SET_FEATURES */
	uint64_t protocol_features;      /* acked by SET_PROTOCOL_FEATURES */
	uint16_t frontend_mtu;           /* confirmed by NET_SET_MTU; 0: none */
	uint8_t status;                  /* SET_STATUS (protocol feature STATUS) */
	struct gmem *mem;                /* NULL until SET_MEM_TABLE */
	struct dirty_log log;            /* SET_LOG_BASE; bits NULL: none */
	void *log_map;                   /* what to munmap */
	size_t log_map_len;
	uint32_t nvrings;
	struct vhu_vring vring[];
};

/* Handler requirements, checked by the dispatcher. */
#define VHU_VAR          UINT32_MAX    /* size: variable, handler checks */
#define VHU_QIDX_STATE   (1u << 0)     /* payload is vring_state: index in range */
#define VHU_QIDX_ADDR    (1u << 1)     /* payload is vring_addr: index in range */
#define VHU_QIDX_FILE    (1u << 2)     /* payload is u64 index|NOFD, fd iff !NOFD */
#define VHU_QIDX_STOPPED (1u << 3)     /* the vring must not be started */
#define VHU_REPLIES      (1u << 4)     /* handler sends its own reply */

/* Messages handled per readable event: one chatty frontend cannot keep the
 * control thread from the other devices (epoll reports the rest again). */
#define VHU_MSGS_PER_EVENT 64
/* Rejections a frontend may have answered with a negative REPLY_ACK before we
 * stop answering and close: bounds the log lines one frontend can cause. */
#define VHU_MAX_NACKS 32

struct vhu_handler {
	const char *name;
	uint32_t size;
	uint8_t fds_min, fds_max;
	uint8_t need;
	int (*fn)(struct vhu_conn *d, struct vhu_msg *m);
	/* Framing of a variable-size message; NULL if none. Returns NULL or
	 * what is wrong (the connection closes). */
	const char *(*frame)(const struct vhu_msg *m);
};

static const char *
req_name(uint32_t req);

/* Logs a rejection naming device, message and field; returns err. */
static int __attribute__((format(printf, 4, 5)))
vhu_reject(struct vhu_conn *d, const struct vhu_msg *m, int err, const char *fmt, ...)
{
	char what[256], line[320];
	unsigned missed;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", req_name(m->hdr.request), what);
	if (!vlog_ratelimit_ok(d->log_limit, line, &missed))
		return err;
	if (missed)
		vlog_err("device %s: %s (%u similar lines not logged)", d->name, line, missed);
	else
		vlog_err("device %s: %s", d->name, line);
	return err;
}

static bool
vhu_has_protocol(const struct vhu_conn *d, unsigned bit)
{
	return d->protocol_features & (UINT64_C(1) << bit);
}

uint64_t
vhu_protocol_features_offered(const struct vnet_offer *o)
{
	return (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_LOG_SHMFD) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_RARP) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
	       (UINT64_C(1) << VHOST_USER_PROTOCOL_F_STATUS) |
	       (o->mtu ? UINT64_C(1) << VHOST_USER_PROTOCOL_F_MTU : 0);
}

static uint32_t
msg_vqi(const struct vhu_msg *m, uint8_t need)
{
	if (need & VHU_QIDX_STATE)
		return m->p.state.index;
	if (need & VHU_QIDX_ADDR)
		return m->p.addr.index;
	return (uint32_t)(m->p.u64 & VHOST_USER_VRING_IDX_MASK);
}

static void vhu_commit(struct vhu_conn *d);

/* Every reply goes out here. A frontend that does not read its replies fills
 * the socket; we never block the control thread on it: the connection closes.
 * What the frontend asked for so far is in effect before it hears back. */
static int
send_reply(struct vhu_conn *d, const struct vhu_msg *m, const void *payload, uint32_t size)
{
	int rc;

	vhu_commit(d);
	rc = vhu_msg_send(d->sock, m->hdr.request, payload, size);

	if (rc != 0)
		return vhu_reject(d, m, rc, "cannot send the reply (%s): the frontend does "
		                  "not read its socket; closing the connection",
		                  rc == -EAGAIN ? "socket buffer full" : strerror(-rc));
	return 0;
}

static int
reply_u64(struct vhu_conn *d, const struct vhu_msg *m, uint64_t v)
{
	return send_reply(d, m, &v, sizeof(v));
}

/* ---- transactions -------------------------------------------------------
 * A handler stops what it is about to change (vhu_stop*), changes it, and
 * marks what it touched (vhu_touch*); vhu_commit() hands the touched vrings
 * to the owner once. */

static struct vhu_vring_set
vhu_all(const struct vhu_conn *d)
{
	struct vhu_vring_set s = { .w = { 0 } };

	for (uint32_t i = 0; i < d->nvrings; i++)
		vhu_set_add(&s, i);
	return s;
}

static void
vhu_stop_all(struct vhu_conn *d)
{
	struct vhu_vring_set s = vhu_all(d);

	d->ops->stop(d->owner, &s);
}

static void
vhu_stop_one(struct vhu_conn *d, uint32_t vqi)
{
	struct vhu_vring_set s = { .w = { 0 } };

	vhu_set_add(&s, vqi);
	d->ops->stop(d->owner, &s);
}

static void
vhu_touch_all(struct vhu_conn *d)
{
	d->pending = vhu_all(d);
}

static void
vhu_touch(struct vhu_conn *d, uint32_t vqi)
{
	vhu_set_add(&d->pending, vqi);
}

static void
vhu_commit(struct vhu_conn *d)
{
	struct vhu_vring_set s = d->pending;

	if (vhu_set_empty(&s))
		return;
	d->pending = (struct vhu_vring_set){ .w = { 0 } };
	d->ops->commit(d->owner, &s);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
vring_reset(struct vhu_vring *v)
{
	close_fd(&v->kick_fd);
	close_fd(&v->call_fd);
	close_fd(&v->err_fd);
	*v = (struct vhu_vring){ .kick_fd = -1, .call_fd = -1, .err_fd = -1 };
}

/* The dirty log's mapping goes (its vrings were stopped first). */
static void
log_unmap(struct vhu_conn *d)
{
	if (d->log_map != NULL)
		munmap(d->log_map, d->log_map_len);
	d->log_map = NULL;
	d->log_map_len = 0;
	d->log = (struct dirty_log){ .bits = NULL };
}

/* Back to the state of a new connection (RESET_OWNER, and teardown). */
static void
vhu_reset(struct vhu_conn *d)
{
	vhu_stop_all(d);
	d->pending = (struct vhu_vring_set){ .w = { 0 } };
	for (uint32_t i = 0; i < d->nvrings; i++)
		vring_reset(&d->vring[i]);
	log_unmap(d);
	vhu_mem_unmap(d->mem);
	d->mem = NULL;
	d->features = 0;
	d->protocol_features = 0;
	d->frontend_mtu = 0;
	d->status = 0;
	if (d->ops->reset != NULL)
		d->ops->reset(d->owner);
}

/* ---- handlers ---------------------------------------------------------- */

static uint64_t
vhu_features_offered(const struct vhu_conn *d)
{
	return vnet_features_offered(&d->offer);
}

static int
h_get_features(struct vhu_conn *d, struct vhu_msg *m)
{
	return reply_u64(d, m, vhu_features_offered(d));
}

static int
h_set_features(struct vhu_conn *d, struct vhu_msg *m)
{
	int bad = vnet_features_check(vhu_features_offered(d), m->p.u64);

	if (bad >= 0)
		return vhu_reject(d, m, -EINVAL, "features: bit %d was not offered", bad);
	if (m->p.u64 == d->features)
		return 0;
	if ((m->p.u64 & VIRTIO_BIT(VHOST_F_LOG_ALL)) && d->log.bits == NULL)
		vlog_warn("device %s: SET_FEATURES: logging on (VHOST_F_LOG_ALL) without a log "
		          "(SET_LOG_BASE): writes are not logged; a migration would lose them",
		          d->name);
	/* Ring layout choices (event idx, header length) and logging change:
	 * restart rings. */
	vhu_stop_all(d);
	d->features = m->p.u64;
	vhu_touch_all(d);
	return 0;
}

static int
h_set_owner(struct vhu_conn *d, struct vhu_msg *m)
{
	/* QEMU sends one per queue pair's vhost device: nothing to do. */
	(void)d;
	(void)m;
	return 0;
}

static int
h_reset_owner(struct vhu_conn *d, struct vhu_msg *m)
{
	(void)m;
	vhu_reset(d);
	return 0;
}

static int
h_set_mem_table(struct vhu_conn *d, struct vhu_msg *m)
{
	const struct vhu_mem_table *t = &m->p.mem;
	struct gmem *mem, *old;
	char why[200];
	int rc;

	rc = vhu_mem_map(t->r, m->fds, t->nregions, &mem, why, sizeof(why));
	if (rc != 0)
		return vhu_reject(d, m, rc, "%s", why);
	/* Build, validate, swap: no poll thread sees the old table after this. */
	vhu_stop_all(d);
	old = d->mem;
	d->mem = mem;
	vhu_mem_unmap(old);
	vhu_touch_all(d);
	vlog_info("device %s: memory table: %u region(s), %u sealed against shrinking",
	          d->name, t->nregions, vhu_mem_nsealed(mem));
	return 0;                        /* the dispatcher closes the fds: mmap holds its own */
}

/* Protocol feature CONFIGURE_MEM_SLOTS: the memory table grows and shrinks
 * a region at a time (QEMU sends its whole table so, and each DIMM it
 * hot-plugs or unplugs), up to TUNE_MEM_SLOTS regions. Each message builds
 * a new table from the old one (vhost-user/mem.c); the rings stop, take it,
 * and start again, and only then does the old table go (for a removal, the
 * removed region's mapping with it). QEMU keeps a table per queue pair and
 * sends each region's ADD and REM once per pair: a region added again
 * exactly (gpa, size, fva) is counted, not mapped again, and goes with the
 * last REM. */
_Static_assert(TUNE_MEM_SLOTS <= GMEM_MAX_SLOTS, "a table holds every slot offered");

static int
h_get_max_mem_slots(struct vhu_conn *d, struct vhu_msg *m)
{
	return reply_u64(d, m, TUNE_MEM_SLOTS);
}

static int
need_mem_slots(struct vhu_conn *d, struct vhu_msg *m)
{
	if (vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		return 0;
	return vhu_reject(d, m, -EPROTO, "protocol feature CONFIGURE_MEM_SLOTS (bit %d) was not "
	                  "negotiated", VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
}

/* The new table in, the old one out (gone: the region only the old one
 * has, UINT32_MAX for none). */
static void
mem_swap(struct vhu_conn *d, struct gmem *mem, uint32_t gone)
{
	struct gmem *old = d->mem;

	vhu_stop_all(d);
	d->mem = mem;
	vhu_mem_retire(old, gone);
	vhu_touch_all(d);
}

static int
h_add_mem_reg(struct vhu_conn *d, struct vhu_msg *m)
{
	const struct vhu_mem_region *r = &m->p.reg.r;
	struct gmem *mem;
	uint32_t have;
	char why[200];
	int rc;

	if ((rc = need_mem_slots(d, m)) != 0)
		return rc;
	if ((have = vhu_mem_find(d->mem, r)) != UINT32_MAX) {
		d->mem->r[have].refs++;          /* read by the control thread only */
		return 0;
	}
	rc = vhu_mem_add(d->mem, r, m->fds[0], TUNE_MEM_SLOTS, &mem, why, sizeof(why));
	if (rc != 0)
		return vhu_reject(d, m, rc, "gpa 0x%" PRIx64 " size 0x%" PRIx64 ": %s", r->gpa,
		                  r->size, why);
	mem_swap(d, mem, UINT32_MAX);
	vlog_info("device %s: memory region added: gpa 0x%" PRIx64 " size 0x%" PRIx64 " (%u "
	          "regions)", d->name, r->gpa, r->size, mem->n);
	return 0;
}

/* A region that a started vring's rings lie in is refused: the ring would
 * have nothing to run on. The frontend stops the ring first (or sends the
 * ring's new address). */
static int
h_rem_mem_reg(struct vhu_conn *d, struct vhu_msg *m)
{
	const struct vhu_mem_region *r = &m->p.reg.r;
	struct gmem *mem;
	uint32_t gone;
	char why[200];
	int rc;

	if ((rc = need_mem_slots(d, m)) != 0)
		return rc;
	if ((gone = vhu_mem_find(d->mem, r)) != UINT32_MAX && d->mem->r[gone].refs > 1) {
		d->mem->r[gone].refs--;
		return 0;
	}
	rc = vhu_mem_remove(d->mem, r, &mem, &gone, why, sizeof(why));
	if (rc != 0)
		return vhu_reject(d, m, rc, "%s", why);
	for (uint32_t i = 0; i < d->nvrings; i++) {
		const struct vhu_vring *v = &d->vring[i];
		const uint64_t fva[3] = { v->addrs.desc_fva, v->addrs.avail_fva,
		                          v->addrs.used_fva };

		for (unsigned k = 0; v->started && v->addr_set && k < 3; k++)
			if (fva[k] - d->mem->r[gone].fva < d->mem->r[gone].size) {
				vhu_mem_retire(mem, UINT32_MAX);     /* never published */
				return vhu_reject(d, m, -EBUSY, "gpa 0x%" PRIx64 " size 0x%" PRIx64
				                  ": vring %u is started and its rings lie in it "
				                  "(GET_VRING_BASE first)", r->gpa, r->size, i);
			}
	}
	mem_swap(d, mem, gone);
	vlog_info("device %s: memory region removed: gpa 0x%" PRIx64 " size 0x%" PRIx64 " (%u "
	          "regions)", d->name, r->gpa, r->size, mem != NULL ? mem->n : 0);
	return 0;
}

static const char *
frame_mem_table(const struct vhu_msg *m)
{
	const struct vhu_mem_table *t = &m->p.mem;

	if (m->hdr.size < 8)
		return "size: shorter than the table header";
	if (t->nregions == 0 || t->nregions > GMEM_MAX_REGIONS)
		return "nregions: outside 1..8";
	if (m->hdr.size != 8 + t->nregions * sizeof(struct vhu_mem_region))
		return "size: does not match nregions";
	if (m->nfds != t->nregions)
		return "nregions: not the number of fds that came with it";
	return NULL;
}

/* QEMU sends RESET_OWNER without a payload, some frontends with a u64 (and
 * SET_LOG_FD is specified either way). */
static const char *
frame_none_or_u64(const struct vhu_msg *m)
{
	return m->hdr.size == 0 || m->hdr.size == sizeof(uint64_t) ? NULL
	       : "size: neither 0 nor 8 bytes";
}

static int
h_set_vring_num(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t num = m->p.state.num;

	/* A packed ring may have any size (spec 2.8), a split one a power of
	 * two (2.7); frontends set the features first. */
	if (num == 0 || num > VQ_SIZE_MAX)
		return vhu_reject(d, m, -EINVAL, "num: %u is not in 1..%u", num, VQ_SIZE_MAX);
	if (!(d->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) && (num & (num - 1)) != 0)
		return vhu_reject(d, m, -EINVAL, "num: %u is not a power of two (split rings; "
		                  "packed rings were not negotiated)", num);
	d->vring[m->p.state.index].num = num;
	return 0;
}

/* Whether log covers guest physical [gpa, gpa + len). */
static bool
log_covers(const struct dirty_log *l, uint64_t gpa, uint64_t len)
{
	return gpa + len >= gpa && dirty_log_bytes(gpa + len) <= l->len;
}

static int
h_set_vring_addr(struct vhu_conn *d, struct vhu_msg *m)
{
	const struct vhu_vring_addr *a = &m->p.addr;
	struct vhu_vring *v = &d->vring[a->index];

	bool log = a->flags & VHOST_VRING_F_LOG;

	if (a->flags & ~VHOST_VRING_F_LOG)
		return vhu_reject(d, m, -EINVAL, "flags: 0x%x: only bit 0 (log) is defined",
		                  a->flags);
	if (log && d->log.bits != NULL &&
	    !log_covers(&d->log, a->log_gpa, vring_used_bytes(v->num ? v->num : VQ_SIZE_MAX)))
		return vhu_reject(d, m, -EINVAL, "log_gpa: 0x%" PRIx64 ": the used ring lies "
		                  "beyond the dirty log (%" PRIu64 " bytes)", a->log_gpa,
		                  d->log.len);
	vhu_stop_one(d, a->index);
	v->addrs = (struct vq_addrs){ .desc_fva = a->desc_fva, .avail_fva = a->avail_fva,
	                              .used_fva = a->used_fva };
	v->addr_set = true;
	v->log_set = log;
	v->log_gpa = log ? a->log_gpa : 0;
	vhu_touch(d, a->index);
	return 0;
}

/* SET_LOG_BASE (protocol feature LOG_SHMFD): the dirty log of a migration,
 * mmap_size bytes at mmap_offset of the fd that came with it. Checked once
 * here: offset and size do not wrap and lie inside the fd, and the log
 * covers every page of the memory table and every used ring that logs.
 * The rings stop, take the new log (or none), and start again; the old
 * mapping is released then, and on disconnect. QEMU waits for a reply with
 * no payload; a refusal sends none and closes the connection (QEMU then
 * fails the migration, naming the backend). */
static int
h_set_log_base(struct vhu_conn *d, struct vhu_msg *m)
{
	const struct vhu_log *l = &m->p.log;
	uint64_t end = 0, page = (uint64_t)sysconf(_SC_PAGESIZE), skew;
	struct dirty_log log;
	struct stat st;
	void *map;

	if (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_LOG_SHMFD))
		return vhu_reject(d, m, -EPROTO, "protocol feature LOG_SHMFD (bit %d) was not "
		                  "negotiated", VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	if (l->mmap_size == 0 || l->mmap_size > SIZE_MAX / 2)
		return vhu_reject(d, m, -EINVAL, "mmap_size: %" PRIu64 " bytes", l->mmap_size);
	if (l->mmap_offset + l->mmap_size < l->mmap_offset)
		return vhu_reject(d, m, -EINVAL, "mmap_offset: 0x%" PRIx64 " + mmap_size "
		                  "wraps", l->mmap_offset);
	if (fstat(m->fds[0], &st) != 0 || (uint64_t)st.st_size < l->mmap_offset + l->mmap_size)
		return vhu_reject(d, m, -EINVAL, "mmap_size: offset 0x%" PRIx64 " + %" PRIu64
		                  " bytes exceeds the fd (%lld bytes)", l->mmap_offset,
		                  l->mmap_size, (long long)st.st_size);
	for (uint32_t k = 0; d->mem != NULL && k < d->mem->n; k++)
		if (d->mem->r[k].gpa + d->mem->r[k].size > end)
			end = d->mem->r[k].gpa + d->mem->r[k].size;
	if (dirty_log_bytes(end) > l->mmap_size)
		return vhu_reject(d, m, -EINVAL, "mmap_size: %" PRIu64 " bytes cannot log guest "
		                  "memory up to 0x%" PRIx64 " (needs %" PRIu64 ")", l->mmap_size,
		                  end, dirty_log_bytes(end));
	log = (struct dirty_log){ .len = l->mmap_size };
	for (uint32_t i = 0; i < d->nvrings; i++)
		if (d->vring[i].log_set &&
		    !log_covers(&log, d->vring[i].log_gpa, vring_used_bytes(d->vring[i].num)))
			return vhu_reject(d, m, -EINVAL, "mmap_size: %" PRIu64 " bytes cannot log "
			                  "vring %u's used ring at 0x%" PRIx64, l->mmap_size, i,
			                  d->vring[i].log_gpa);
	skew = l->mmap_offset % page;
	map = mmap(NULL, l->mmap_size + skew, PROT_READ | PROT_WRITE, MAP_SHARED, m->fds[0],
	           (off_t)(l->mmap_offset - skew));
	if (map == MAP_FAILED)
		return vhu_reject(d, m, -errno, "mmap of the log (%" PRIu64 " bytes at 0x%" PRIx64
		                  "): %s", l->mmap_size, l->mmap_offset, strerror(errno));
	vhu_stop_all(d);
	log_unmap(d);
	d->log_map = map;
	d->log_map_len = l->mmap_size + skew;
	d->log = (struct dirty_log){ .bits = (uint8_t *)map + skew, .len = l->mmap_size };
	vhu_touch_all(d);
	vlog_info("device %s: dirty log: %" PRIu64 " bytes (guest memory up to 0x%" PRIx64 ")",
	          d->name, l->mmap_size, l->mmap_size * 8 << DIRTY_PAGE_SHIFT);
	return send_reply(d, m, NULL, 0);
}

/* SET_STATUS (protocol feature STATUS): the driver's device status (spec
 * 2.1). With it negotiated, rings run only while DRIVER_OK is set (spec
 * 3.1.1: no buffers are used before); a driver that clears it, or resets
 * the device (0), has its rings stopped and the frames that waited for it
 * dropped. Their positions and everything else stay: QEMU sends status 0
 * when it stops the device, before its GET_VRING_BASE of the last pair,
 * whose answer a migration takes to the destination. A status
 * FEATURES_OK is kept: SET_FEATURES already refused what we cannot do. */
static int
h_set_status(struct vhu_conn *d, struct vhu_msg *m)
{
	uint8_t was = d->status;

	if (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_STATUS))
		return vhu_reject(d, m, -EPROTO, "protocol feature STATUS (bit %d) was not "
		                  "negotiated", VHOST_USER_PROTOCOL_F_STATUS);
	if (m->p.u64 > UINT8_MAX)
		return vhu_reject(d, m, -EINVAL, "status: 0x%" PRIx64 " is not a status byte",
		                  m->p.u64);
	d->status = (uint8_t)m->p.u64;
	if ((was ^ d->status) & VIRTIO_STATUS_DRIVER_OK) {
		if (was & VIRTIO_STATUS_DRIVER_OK)
			vhu_stop_all(d);
		vhu_touch_all(d);
	}
	if (d->status == 0 && was != 0 && d->ops->reset != NULL) {
		vhu_stop_all(d);
		d->ops->reset(d->owner);
	}
	vlog_debug("device %s: status 0x%02x", d->name, d->status);
	return 0;
}

static int
h_get_status(struct vhu_conn *d, struct vhu_msg *m)
{
	if (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_STATUS))
		return vhu_reject(d, m, -EPROTO, "protocol feature STATUS (bit %d) was not "
		                  "negotiated", VHOST_USER_PROTOCOL_F_STATUS);
	return reply_u64(d, m, d->status);
}

/* SET_LOG_FD: the kernel vhost's eventfd for "log written". The log in
 * shared memory (SET_LOG_BASE) is all a frontend reads here; the fd is
 * taken and closed, never signalled. */
static int
h_set_log_fd(struct vhu_conn *d, struct vhu_msg *m)
{
	(void)d;
	(void)m;
	return 0;
}

/* SEND_RARP (protocol feature RARP): the guest moved here and cannot
 * announce itself (no GUEST_ANNOUNCE): the owner announces its MAC, the
 * first 6 bytes of the payload. */
static int
h_send_rarp(struct vhu_conn *d, struct vhu_msg *m)
{
	uint8_t mac[6];

	if (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_RARP))
		return vhu_reject(d, m, -EPROTO, "protocol feature RARP (bit %d) was not "
		                  "negotiated", VHOST_USER_PROTOCOL_F_RARP);
	memcpy(mac, &m->p.u64, sizeof(mac));
	if (mac[0] & 1)
		return vhu_reject(d, m, -EINVAL, "mac: %02x:%02x:%02x:%02x:%02x:%02x is a "
		                  "multicast address", mac[0], mac[1], mac[2], mac[3], mac[4],
		                  mac[5]);
	if (d->ops->rarp != NULL)
		d->ops->rarp(d->owner, mac);
	return 0;
}

/* Packed rings (vhost-user spec): the next available descriptor in bits
 * 0-14 and its wrap counter in bit 15; QEMU adds the used side in bits
 * 16-31, which is the same place here (nothing is in flight when a ring
 * stops, vq.h), so the low half is the position. */
static bool
vring_base_packed(const struct vhu_conn *d)
{
	return d->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
}

static int
h_set_vring_base(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t num = m->p.state.num;

	if (!vring_base_packed(d) && num > UINT16_MAX)
		return vhu_reject(d, m, -EINVAL, "num: %u is not a 16-bit ring index", num);
	/* A used side behind the available one means buffers in flight,
	 * which this backend never leaves (vq.h): start at the used side, so
	 * those the driver still waits for are taken again, not lost. */
	if (vring_base_packed(d) && num > UINT16_MAX && (num >> 16) != (num & 0xffff)) {
		vlog_warn("device %s: vring %u: SET_VRING_BASE: used side %#x differs from "
		          "available side %#x: starting at the used side", d->name,
		          m->p.state.index, num >> 16, num & 0xffff);
		num >>= 16;
	}
	d->vring[m->p.state.index].base = (uint16_t)num;
	return 0;
}

static int
h_get_vring_base(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t vqi = m->p.state.index;
	struct vhu_vring *v = &d->vring[vqi];
	struct vhu_vring_state st = { .index = vqi, .num = v->base };
	uint16_t pos;

	/* What came before in this batch takes effect first (a ring started
	 * by it has a position to report). */
	vhu_commit(d);
	/* Stopped, the ring has given back every chain it took: a TX chain is
	 * pushed as soon as it is copied, an RX chain as soon as a frame is
	 * written into it, and a frame that did not fit was rewound, its
	 * chains not consumed. So the position is used->idx, every used entry
	 * and the bytes it names were marked in a migration's log before the
	 * stop returned, and the destination resumes at exactly the first
	 * buffer nobody used: no frame is lost or seen twice. */
	vhu_stop_one(d, vqi);
	if (d->ops->position(d->owner, vqi, &pos))
		st.num = pos;
	v->started = false;
	v->base = (uint16_t)st.num;
	if (vring_base_packed(d))
		st.num = (uint32_t)v->base << 16 | v->base;    /* used = available */
	close_fd(&v->kick_fd);
	/* Not touched: a stopped ring keeps what waits for it (held frames)
	 * until it starts again, or the guest disables it. */
	return send_reply(d, m, &st, sizeof(st));
}

/* The spec says eventfd; a poll thread writes call and err fds in its burst
 * loop, where a blocking fd (a full pipe, an eventfd at its limit) would
 * stall the thread and, through the grace period, every device. So only
 * eventfds are taken, and they are made non-blocking (QEMU's and DPDK's
 * already are: the shared file flag changes nothing for them). */
static int
vring_check_fd(struct vhu_conn *d, const struct vhu_msg *m, int fd)
{
	char link[64], path[32];
	ssize_t n;
	int fl;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(link, "anon_inode:[eventfd]") != 0))
		return vhu_reject(d, m, -EINVAL, "fd: not an eventfd");
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return vhu_reject(d, m, -EINVAL, "fd: cannot make it non-blocking");
	return 0;
}

/* SET_VRING_KICK / CALL / ERR: swap one of the vring's fds. */
static int
vring_set_fd(struct vhu_conn *d, struct vhu_msg *m, int *(*slot)(struct vhu_vring *))
{
	uint32_t vqi = (uint32_t)(m->p.u64 & VHOST_USER_VRING_IDX_MASK);
	int *fd = slot(&d->vring[vqi]);
	int rc;

	if (m->nfds == 1 && (rc = vring_check_fd(d, m, m->fds[0])) != 0)
		return rc;
	vhu_stop_one(d, vqi);
	close_fd(fd);
	if (m->nfds == 1) {
		*fd = m->fds[0];
		m->fds[0] = -1;              /* taken */
	}
	vhu_touch(d, vqi);
	return 0;
}

static int *slot_kick(struct vhu_vring *v) { return &v->kick_fd; }
static int *slot_call(struct vhu_vring *v) { return &v->call_fd; }
static int *slot_err(struct vhu_vring *v)  { return &v->err_fd; }

static int
h_set_vring_kick(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t vqi = (uint32_t)(m->p.u64 & VHOST_USER_VRING_IDX_MASK);
	struct vhu_vring *v = &d->vring[vqi];

	int rc = vring_set_fd(d, m, slot_kick);

	if (rc != 0)
		return rc;
	v->started = true;
	/* Spec: without VHOST_USER_F_PROTOCOL_FEATURES a ring is enabled as soon
	 * as it starts; with it, rings wait for SET_VRING_ENABLE. */
	if (!(d->features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		v->enabled = true;
	return 0;
}

static int
h_set_vring_call(struct vhu_conn *d, struct vhu_msg *m)
{
	return vring_set_fd(d, m, slot_call);
}

static int
h_set_vring_err(struct vhu_conn *d, struct vhu_msg *m)
{
	return vring_set_fd(d, m, slot_err);
}

/* Asked before any feature is known (QEMU's vhost_user_backend_init): the
 * answer comes from the device's offer alone. */
static int
h_get_protocol_features(struct vhu_conn *d, struct vhu_msg *m)
{
	return reply_u64(d, m, vhu_protocol_features_offered(&d->offer));
}

static int
h_set_protocol_features(struct vhu_conn *d, struct vhu_msg *m)
{
	uint64_t extra = m->p.u64 & ~vhu_protocol_features_offered(&d->offer);

	if (extra)
		return vhu_reject(d, m, -EINVAL, "protocol features: bit %d was not offered",
		                  __builtin_ctzll(extra));
	if (!((m->p.u64 ^ d->protocol_features) & (UINT64_C(1) << VHOST_USER_PROTOCOL_F_STATUS))) {
		d->protocol_features = m->p.u64;
		return 0;
	}
	/* STATUS changes what a ready ring is (DRIVER_OK): rings restart by
	 * the new rules. */
	vhu_stop_all(d);
	d->protocol_features = m->p.u64;
	vhu_touch_all(d);
	return 0;
}

static int
h_get_queue_num(struct vhu_conn *d, struct vhu_msg *m)
{
	return reply_u64(d, m, d->max_qp);
}

static int
h_set_vring_enable(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t vqi = m->p.state.index;

	if (m->p.state.num > 1)
		return vhu_reject(d, m, -EINVAL, "num: %u is neither 0 (disable) nor 1 (enable)",
		                  m->p.state.num);
	/* Nothing a poll thread reads changes here: the commit stops a ring
	 * being disabled, together with the rest of the burst. */
	d->vring[vqi].enabled = m->p.state.num == 1;
	vhu_touch(d, vqi);
	vlog_debug("device %s: vring %u %s", d->name, vqi,
	           d->vring[vqi].enabled ? "enabled" : "disabled");
	return 0;
}

/* QEMU sends its virtio-net's host_mtu= property once the guest acked
 * VIRTIO_NET_F_MTU (virtio_net_vhost_status(), before SET_FEATURES of that
 * start, so the features acked so far say nothing here). The guest learns
 * the MTU from QEMU's config space, not from us; the MTU in force is the
 * configured one (the datapath enforces it), so the frontend may only
 * confirm it: any other value is refused and changes nothing. */
static int
h_net_set_mtu(struct vhu_conn *d, struct vhu_msg *m)
{
	uint64_t mtu = m->p.u64;

	if (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_MTU))
		return vhu_reject(d, m, -EPROTO, "protocol feature MTU (bit %d) was not "
		                  "negotiated", VHOST_USER_PROTOCOL_F_MTU);
	if (mtu < VNET_MTU_MIN || mtu > VNET_MTU_MAX)
		return vhu_reject(d, m, -EINVAL, "mtu: %" PRIu64 " is outside %u..%u", mtu,
		                  VNET_MTU_MIN, VNET_MTU_MAX);
	if (mtu != d->mtu)
		return vhu_reject(d, m, -EINVAL, "mtu: %" PRIu64 " (the frontend's; QEMU: "
		                  "host_mtu=) is not this device's MTU %u: configure vhostmq "
		                  "with the same MTU (\"mtu\" in its config, --mtu)", mtu,
		                  d->mtu);
	d->frontend_mtu = (uint16_t)mtu;
	vlog_info("device %s: MTU %u confirmed by the frontend", d->name, d->frontend_mtu);
	return 0;
}

/* ---- dispatcher -------------------------------------------------------- */

#define STATE sizeof(struct vhu_vring_state)
#define U64   sizeof(uint64_t)

static const struct vhu_handler vhu_handlers[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = { "GET_FEATURES", 0, 0, 0, VHU_REPLIES, h_get_features },
	[VHOST_USER_SET_FEATURES] = { "SET_FEATURES", U64, 0, 0, 0, h_set_features },
	[VHOST_USER_SET_OWNER]    = { "SET_OWNER", 0, 0, 0, 0, h_set_owner },
	[VHOST_USER_RESET_OWNER]  = { "RESET_OWNER", VHU_VAR, 0, 0, 0, h_reset_owner,
	                              frame_none_or_u64 },
	[VHOST_USER_SET_MEM_TABLE] = { "SET_MEM_TABLE", VHU_VAR, 1, VHU_MAX_FDS, 0,
	                               h_set_mem_table, frame_mem_table },
	[VHOST_USER_SET_VRING_NUM] = { "SET_VRING_NUM", STATE, 0, 0,
	                               VHU_QIDX_STATE | VHU_QIDX_STOPPED, h_set_vring_num },
	[VHOST_USER_SET_VRING_ADDR] = { "SET_VRING_ADDR", sizeof(struct vhu_vring_addr), 0, 0,
	                                VHU_QIDX_ADDR, h_set_vring_addr },
	[VHOST_USER_SET_VRING_BASE] = { "SET_VRING_BASE", STATE, 0, 0,
	                                VHU_QIDX_STATE | VHU_QIDX_STOPPED, h_set_vring_base },
	[VHOST_USER_GET_VRING_BASE] = { "GET_VRING_BASE", STATE, 0, 0,
	                                VHU_QIDX_STATE | VHU_REPLIES, h_get_vring_base },
	[VHOST_USER_SET_VRING_KICK] = { "SET_VRING_KICK", U64, 0, 1, VHU_QIDX_FILE,
	                                h_set_vring_kick },
	[VHOST_USER_SET_VRING_CALL] = { "SET_VRING_CALL", U64, 0, 1, VHU_QIDX_FILE,
	                                h_set_vring_call },
	[VHOST_USER_SET_VRING_ERR]  = { "SET_VRING_ERR", U64, 0, 1, VHU_QIDX_FILE,
	                                h_set_vring_err },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", 0, 0, 0, VHU_REPLIES,
	                                       h_get_protocol_features },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", U64, 0, 0, 0,
	                                       h_set_protocol_features },
	[VHOST_USER_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", 0, 0, 0, VHU_REPLIES, h_get_queue_num },
	[VHOST_USER_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", STATE, 0, 0, VHU_QIDX_STATE,
	                                  h_set_vring_enable },
	[VHOST_USER_NET_SET_MTU] = { "NET_SET_MTU", U64, 0, 0, 0, h_net_set_mtu },
	[VHOST_USER_SET_LOG_BASE] = { "SET_LOG_BASE", sizeof(struct vhu_log), 1, 1, VHU_REPLIES,
	                              h_set_log_base },
	[VHOST_USER_SET_LOG_FD] = { "SET_LOG_FD", VHU_VAR, 1, 1, 0, h_set_log_fd,
	                            frame_none_or_u64 },
	[VHOST_USER_SEND_RARP] = { "SEND_RARP", U64, 0, 0, 0, h_send_rarp },
	[VHOST_USER_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS", 0, 0, 0, VHU_REPLIES,
	                                   h_get_max_mem_slots },
	[VHOST_USER_ADD_MEM_REG] = { "ADD_MEM_REG", sizeof(struct vhu_mem_reg), 1, 1, 0,
	                             h_add_mem_reg },
	/* QEMU sends no fd with REM_MEM_REG, other frontends the region's. */
	[VHOST_USER_REM_MEM_REG] = { "REM_MEM_REG", sizeof(struct vhu_mem_reg), 0, 1, 0,
	                             h_rem_mem_reg },
	[VHOST_USER_SET_STATUS] = { "SET_STATUS", U64, 0, 0, 0, h_set_status },
	[VHOST_USER_GET_STATUS] = { "GET_STATUS", 0, 0, 0, VHU_REPLIES, h_get_status },
	/* RESET_DEVICE (protocol feature RESET_DEVICE) is RESET_OWNER's
	 * successor: the same clean reset. */
	[VHOST_USER_RESET_DEVICE] = { "RESET_DEVICE", VHU_VAR, 0, 0, 0, h_reset_owner,
	                              frame_none_or_u64 },
};

/* Names of requests we know but do not implement, for clear log lines. */
static const char *const vhu_unhandled_names[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG", [VHOST_USER_SET_CONFIG] = "SET_CONFIG",
};

static const char *
req_name(uint32_t req)
{
	static __thread char unknown[32];

	if (req < VHOST_USER_REQUEST_MAX && vhu_handlers[req].name)
		return vhu_handlers[req].name;
	if (req < VHOST_USER_REQUEST_MAX && vhu_unhandled_names[req])
		return vhu_unhandled_names[req];
	snprintf(unknown, sizeof(unknown), "request %u", req);
	return unknown;
}

/* A negative REPLY_ACK, while the frontend has not used up its allowance. */
static int
vhu_nack(struct vhu_conn *d, const struct vhu_msg *m)
{
	if (++d->nacks > VHU_MAX_NACKS)
		return vhu_reject(d, m, -EPROTO, "more than %u rejected messages: closing",
		                  VHU_MAX_NACKS);
	return reply_u64(d, m, 1);
}

/* Structural checks: anything failing here closes the connection. */
static int
vhu_check(struct vhu_conn *d, const struct vhu_msg *m, const struct vhu_handler *h)
{
	const char *why;
	uint32_t vqi;

	if (h->size != VHU_VAR && m->hdr.size != h->size)
		return vhu_reject(d, m, -EBADMSG, "size: %u bytes, expected %u",
		                  m->hdr.size, h->size);
	if (m->nfds < h->fds_min || m->nfds > h->fds_max)
		return vhu_reject(d, m, -EBADMSG, "carries %u fds, expected %u..%u",
		                  m->nfds, h->fds_min, h->fds_max);
	if (h->frame != NULL && (why = h->frame(m)) != NULL)
		return vhu_reject(d, m, -EBADMSG, "%s (payload %u bytes, %u fds)", why,
		                  m->hdr.size, m->nfds);
	if (!(h->need & (VHU_QIDX_STATE | VHU_QIDX_ADDR | VHU_QIDX_FILE)))
		return 0;
	vqi = msg_vqi(m, h->need);
	if (h->need & VHU_QIDX_FILE) {
		uint64_t rest = m->p.u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
		                                       VHOST_USER_VRING_NOFD);
		bool nofd = m->p.u64 & VHOST_USER_VRING_NOFD;

		if (rest != 0)
			return vhu_reject(d, m, -EINVAL, "payload: reserved bits 0x%" PRIx64 " set",
			                  rest);
		if (nofd != (m->nfds == 0))
			return vhu_reject(d, m, -EBADMSG, "invalid-fd flag is %u but %u fd(s) came",
			                  nofd, m->nfds);
	}
	if (vqi >= d->nvrings)
		return vhu_reject(d, m, -ERANGE, "index: vring %u, device has %u", vqi,
		                  d->nvrings);
	if ((h->need & VHU_QIDX_STOPPED) && d->vring[vqi].started)
		return vhu_reject(d, m, -EBUSY, "vring %u is started (send GET_VRING_BASE first)",
		                  vqi);
	return 0;
}

/* One message, not yet committed (its changes wait in d->pending, unless a
 * reply went out). */
static int
vhu_handle(struct vhu_conn *d, struct vhu_msg *m)
{
	uint32_t req = m->hdr.request;
	const struct vhu_handler *h = req < VHOST_USER_REQUEST_MAX ? &vhu_handlers[req] : NULL;
	bool ack = (m->hdr.flags & VHOST_USER_NEED_REPLY) &&
	           vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int rc;

	if ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		vhu_msg_close_fds(m);
		return vhu_reject(d, m, -EPROTO, "flags: version %u, expected %u",
		                  m->hdr.flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
	}
	if (h == NULL || h->fn == NULL) {
		rc = vhu_reject(d, m, -ENOTSUP, "not supported%s",
		                ack ? " (negative REPLY_ACK sent)" : "");
		vhu_msg_close_fds(m);
		/* The frontend asked how it went: tell it and keep the connection. */
		return ack ? vhu_nack(d, m) : rc;
	}
	rc = vhu_check(d, m, h);
	if (rc != 0) {
		vhu_msg_close_fds(m);
		return rc;               /* malformed: the connection closes */
	}
	vlog_debug("device %s: %s", d->name, h->name);
	rc = h->fn(d, m);
	vhu_msg_close_fds(m);
	if (h->need & VHU_REPLIES)
		return rc;
	if (ack)                         /* answered: the connection stays */
		return rc == 0 ? reply_u64(d, m, 0) : vhu_nack(d, m);
	return rc;
}

int
vhu_dispatch(struct vhu_conn *d, struct vhu_msg *m)
{
	int rc = vhu_handle(d, m);

	if (rc == 0)
		vhu_commit(d);
	return rc;
}

/* ---- connection -------------------------------------------------------- */

struct vhu_conn *
vhu_conn_new(const struct vhu_conn_params *p, int sock)
{
	uint32_t n = 2u * p->max_qp;
	struct vhu_conn *d = NULL;
	bool mtu_ok = p->mtu == 0 ? !p->offer.mtu
	              : p->mtu >= VNET_MTU_MIN && p->mtu <= VNET_MTU_MAX;

	if (p->max_qp >= 1 && p->max_qp <= VHU_MAX_QP && mtu_ok)
		d = calloc(1, sizeof(*d) + n * sizeof(d->vring[0]));
	if (d == NULL) {
		close(sock);
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->sock = sock;
	d->max_qp = p->max_qp;
	d->offer = p->offer;
	d->offer.mq = p->max_qp > 1;
	d->mtu = p->mtu;
	d->ops = p->ops;
	d->owner = p->owner;
	d->log_limit = p->log_limit;
	d->nvrings = n;
	vhu_rx_init(&d->rx);
	for (uint32_t i = 0; i < n; i++)
		d->vring[i] = (struct vhu_vring){ .kick_fd = -1, .call_fd = -1, .err_fd = -1 };
	return d;
}

void
vhu_conn_free(struct vhu_conn *d)
{
	if (d == NULL)
		return;
	vhu_reset(d);
	vhu_rx_reset(&d->rx);
	close(d->sock);
	free(d);
}

int
vhu_conn_sock(const struct vhu_conn *d)
{
	return d->sock;
}

int
vhu_conn_readable(struct vhu_conn *d)
{
	for (unsigned n = 0; n < VHU_MSGS_PER_EVENT; n++) {
		struct vhu_msg m;
		const char *why = NULL;
		int rc;

		switch (vhu_msg_recv(d->sock, &d->rx, &m, &why)) {
		case VHU_RX_MORE:
			vhu_commit(d);   /* the batch read together: one commit */
			return 0;
		case VHU_RX_EOF:
			vlog_info("device %s: frontend disconnected", d->name);
			return -ECONNRESET;
		case VHU_RX_BAD:
			vlog_err("device %s: bad message: %s", d->name, why);
			return -EBADMSG;
		case VHU_RX_MSG:
			rc = vhu_handle(d, &m);
			if (rc != 0)
				return rc;   /* closing: vhu_conn_free() stops everything */
			break;
		}
	}
	vhu_commit(d);
	return 0;
}

uint32_t vhu_conn_nvrings(const struct vhu_conn *d) { return d->nvrings; }
const struct gmem *vhu_conn_mem(const struct vhu_conn *d) { return d->mem; }
uint64_t vhu_conn_features(const struct vhu_conn *d) { return d->features; }
uint16_t vhu_conn_mtu(const struct vhu_conn *d) { return d->mtu; }
uint16_t vhu_conn_frontend_mtu(const struct vhu_conn *d) { return d->frontend_mtu; }

const struct dirty_log *
vhu_conn_log(const struct vhu_conn *d)
{
	return (d->features & VIRTIO_BIT(VHOST_F_LOG_ALL)) && d->log.bits != NULL ? &d->log
	                                                                          : NULL;
}

uint64_t
vhu_vring_log_gpa(const struct vhu_conn *d, uint32_t vqi)
{
	const struct vhu_vring *v = &d->vring[vqi];
	uint64_t gpa = 0;

	if (v->log_set)
		return v->log_gpa;
	if (d->mem != NULL)
		gmem_fva_to_gpa(d->mem, v->addrs.used_fva, &gpa);
	return gpa;
}

const struct vhu_vring *
vhu_conn_vring(const struct vhu_conn *d, uint32_t vqi)
{
	return vqi < d->nvrings ? &d->vring[vqi] : NULL;
}

bool
vhu_vring_ready(const struct vhu_conn *d, uint32_t vqi)
{
	const struct vhu_vring *v = vhu_conn_vring(d, vqi);

	return v != NULL && d->mem != NULL && v->started && v->enabled && v->num != 0 &&
	       v->addr_set && (!vhu_has_protocol(d, VHOST_USER_PROTOCOL_F_STATUS) ||
	                       (d->status & VIRTIO_STATUS_DRIVER_OK));
}
