/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/vhu_test.c - the fake owner, the socketpair device and the
 * message, fd and mapping helpers declared in vhu_test.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tests/vhost-user/vhu_test.h"
#include "tests/wire.h"

/* ---- fake owner --------------------------------------------------------- */

/* One owner call: op and the vrings of its set, with vhu_vring_ready() of
 * each at the time. */
static void
vt_record(struct vt_owner *o, char op, const struct vhu_vring_set *set)
{
	struct vt_call c = { .op = op };

	assert_non_null(o->dev);
	for (uint32_t vqi = 0; vqi < VHU_MAX_VRINGS; vqi++) {
		if (!vhu_set_has(set, vqi))
			continue;
		assert_true(vqi < vhu_conn_nvrings(o->dev));
		assert_true(c.n < VT_MAX_SET);
		c.vqi[c.n] = vqi;
		c.ready[c.n++] = vhu_vring_ready(o->dev, vqi);
	}
	assert_true(c.n > 0);            /* an empty transaction is never handed over */
	if (o->ncalls < VT_MAX_CALLS)
		o->calls[o->ncalls] = c;
	o->ncalls++;
}

static void
vt_stop(void *owner, const struct vhu_vring_set *set)
{
	struct vt_owner *o = owner;

	vt_record(o, 's', set);
	for (uint32_t vqi = 0; vqi < VHU_MAX_VRINGS; vqi++)
		if (vhu_set_has(set, vqi))
			o->running[vqi] = false;
}

static void
vt_commit(void *owner, const struct vhu_vring_set *set)
{
	struct vt_owner *o = owner;

	vt_record(o, 'c', set);
	for (uint32_t vqi = 0; vqi < VHU_MAX_VRINGS; vqi++) {
		if (!vhu_set_has(set, vqi))
			continue;
		/* vhu_ops: what a running vring was started with may change
		 * only after a stop; vt_check_running() compares. */
		if (o->running[vqi]) {
			o->running[vqi] = vhu_vring_ready(o->dev, vqi);
			continue;
		}
		o->running[vqi] = vhu_vring_ready(o->dev, vqi);
		if (o->running[vqi])
			o->snap[vqi] = (struct vt_snap){ .v = *vhu_conn_vring(o->dev, vqi),
			                                 .mem = vhu_conn_mem(o->dev),
			                                 .features = vhu_conn_features(o->dev) };
	}
}

static bool
vt_position(void *owner, uint32_t vqi, uint16_t *last_avail)
{
	struct vt_owner *o = owner;

	assert_true(vqi < VT_MAX_VRINGS);
	o->npos++;
	if (!o->has_pos[vqi])
		return false;
	*last_avail = o->pos[vqi];
	return true;
}

static void
vt_reset(void *owner)
{
	struct vt_owner *o = owner;

	for (uint32_t vqi = 0; vqi < VT_MAX_VRINGS; vqi++)
		assert_false(o->running[vqi]);      /* vhu_ops: every vring stopped */
	o->nresets++;
}

const struct vhu_ops vt_ops = {
	.stop = vt_stop,
	.commit = vt_commit,
	.position = vt_position,
	.reset = vt_reset,
};

void
vt_check_running(const struct vt *t)
{
	for (uint32_t i = 0; i < vhu_conn_nvrings(t->d); i++) {
		const struct vt_snap *s = &t->o.snap[i];
		const struct vhu_vring *v = vhu_conn_vring(t->d, i);

		if (!t->o.running[i])
			continue;
		assert_ptr_equal(vhu_conn_mem(t->d), s->mem);
		assert_int_equal(vhu_conn_features(t->d), s->features);
		assert_int_equal(v->num, s->v.num);
		assert_int_equal(v->addrs.desc_fva, s->v.addrs.desc_fva);
		assert_int_equal(v->addrs.avail_fva, s->v.addrs.avail_fva);
		assert_int_equal(v->addrs.used_fva, s->v.addrs.used_fva);
		assert_int_equal(v->base, s->v.base);
		assert_int_equal(v->kick_fd, s->v.kick_fd);
		assert_int_equal(v->call_fd, s->v.call_fd);
		assert_int_equal(v->err_fd, s->v.err_fd);
		assert_true(vhu_vring_ready(t->d, i));
	}
}

/* ---- device on a socketpair --------------------------------------------- */

struct vt *
vt_try_new_offer(uint16_t max_qp, struct vnet_offer offer, uint16_t mtu)
{
	struct vt *t = test_calloc(1, sizeof(*t));
	struct vhu_conn_params p = { .name = "vhut", .max_qp = max_qp, .offer = offer,
	                             .mtu = mtu, .ops = &vt_ops };
	int sv[2];

	assert_non_null(t);
	assert_true(2u * max_qp <= VT_MAX_VRINGS);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	                            sv), 0);
	p.owner = &t->o;
	t->max_qp = max_qp;
	t->peer = sv[1];
	t->d = vhu_conn_new(&p, sv[0]);       /* owns sv[0] from here, also on failure */
	if (t->d == NULL) {
		close(t->peer);
		test_free(t);
		return NULL;
	}
	t->o.dev = t->d;
	assert_int_equal(vhu_conn_sock(t->d), sv[0]);
	assert_int_equal(vhu_conn_nvrings(t->d), 2u * max_qp);
	return t;
}

struct vt *
vt_try_new(uint16_t max_qp)
{
	return vt_try_new_offer(max_qp, (struct vnet_offer){ .mq = false }, 0);
}

struct vt *
vt_new_offer(uint16_t max_qp, struct vnet_offer offer, uint16_t mtu)
{
	struct vt *t = vt_try_new_offer(max_qp, offer, mtu);

	assert_non_null(t);
	return t;
}

struct vt *
vt_new(uint16_t max_qp)
{
	return vt_new_offer(max_qp, (struct vnet_offer){ .mq = false }, 0);
}

void
vt_close_dev(struct vt *t)
{
	if (t->d == NULL)
		return;
	vhu_conn_free(t->d);
	t->d = NULL;
	for (uint32_t i = 0; i < VT_MAX_VRINGS; i++)
		assert_false(t->o.running[i]);      /* free stopped every vring */
	t->o.dev = NULL;
}

void
vt_free(struct vt *t)
{
	vt_close_dev(t);
	if (t->peer >= 0)
		close(t->peer);
	test_free(t);
}

void
vt_calls_clear(struct vt *t)
{
	t->o.ncalls = 0;
}

/* ---- messages ----------------------------------------------------------- */

struct vhu_msg
vt_msg(uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	struct vhu_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = (struct vhu_hdr){ .request = req, .flags = VHOST_USER_VERSION | flags,
	                          .size = size };
	if (payload != NULL)
		memcpy(&m.p, payload, size < sizeof(m.p) ? size : sizeof(m.p));
	for (unsigned i = 0; i < VHU_MAX_FDS; i++)
		m.fds[i] = -1;
	return m;
}

void
vt_msg_fd(struct vhu_msg *m, int fd)
{
	assert_true(m->nfds < VHU_MAX_FDS);
	m->fds[m->nfds++] = fd;
}

int
vt_dispatch(struct vt *t, struct vhu_msg *m)
{
	int rc = vhu_dispatch(t->d, m);

	vt_check_running(t);
	return rc;
}

int
vt_send0(struct vt *t, uint32_t req, uint32_t flags)
{
	struct vhu_msg m = vt_msg(req, flags, NULL, 0);

	return vt_dispatch(t, &m);
}

int
vt_send_u64(struct vt *t, uint32_t req, uint32_t flags, uint64_t v)
{
	struct vhu_msg m = vt_msg(req, flags, &v, sizeof(v));

	return vt_dispatch(t, &m);
}

int
vt_send_state(struct vt *t, uint32_t req, uint32_t flags, uint32_t index, uint32_t num)
{
	struct vhu_vring_state s = { .index = index, .num = num };
	struct vhu_msg m = vt_msg(req, flags, &s, sizeof(s));

	return vt_dispatch(t, &m);
}

int
vt_send_file(struct vt *t, uint32_t req, uint32_t flags, uint32_t vqi, int fd)
{
	uint64_t v = vqi | (fd < 0 ? VHOST_USER_VRING_NOFD : 0);
	struct vhu_msg m = vt_msg(req, flags, &v, sizeof(v));

	if (fd >= 0)
		vt_msg_fd(&m, fd);
	return vt_dispatch(t, &m);
}

int
vt_send_addr(struct vt *t, uint32_t flags, uint32_t vqi, uint64_t desc,
             uint64_t avail, uint64_t used, uint32_t addr_flags)
{
	struct vhu_vring_addr a = { .index = vqi, .flags = addr_flags, .desc_fva = desc,
	                            .avail_fva = avail, .used_fva = used };
	struct vhu_msg m = vt_msg(VHOST_USER_SET_VRING_ADDR, flags, &a, sizeof(a));

	return vt_dispatch(t, &m);
}

int
vt_send_mem(struct vt *t, uint32_t flags, const struct vhu_mem_region *r,
            const int *fds, uint32_t n)
{
	struct vhu_mem_table tbl = { .nregions = n };
	struct vhu_msg m;

	assert_true(n <= VHU_MAX_FDS);
	memcpy(tbl.r, r, n * sizeof(*r));
	m = vt_msg(VHOST_USER_SET_MEM_TABLE, flags, &tbl,
	           (uint32_t)(8 + n * sizeof(struct vhu_mem_region)));
	for (uint32_t i = 0; i < n; i++)
		vt_msg_fd(&m, fds[i]);
	return vt_dispatch(t, &m);
}

/* ---- replies ------------------------------------------------------------ */

static void
vt_read_all(int sock, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, VT_REPLY_WAIT_MS), 1);
		n = recv(sock, (uint8_t *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		assert_true(n > 0);
		got += (size_t)n;
	}
}

void
vt_reply(struct vt *t, uint32_t req, void *payload, uint32_t size)
{
	struct vhu_hdr h;

	vt_read_all(t->peer, &h, sizeof(h));
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, VHOST_USER_VERSION | VHOST_USER_REPLY);
	assert_int_equal(h.size, size);
	vt_read_all(t->peer, payload, size);
}

uint64_t
vt_reply_u64(struct vt *t, uint32_t req)
{
	uint64_t v;

	vt_reply(t, req, &v, sizeof(v));
	return v;
}

void
vt_no_reply(struct vt *t)
{
	uint8_t b;
	ssize_t n = recv(t->peer, &b, 1, MSG_DONTWAIT | MSG_PEEK);

	assert_int_equal(n, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- wire --------------------------------------------------------------- */

void
vt_write(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	assert_int_equal(wire_send(sock, buf, len, fds, nfds), (ssize_t)len);
}

void
vt_write_msg(int sock, const struct vhu_msg *m)
{
	uint8_t buf[sizeof(struct vhu_hdr) + VHU_MAX_PAYLOAD];

	assert_true(m->hdr.size <= VHU_MAX_PAYLOAD);
	memcpy(buf, &m->hdr, sizeof(m->hdr));
	memcpy(buf + sizeof(m->hdr), &m->p, m->hdr.size);
	vt_write(sock, buf, sizeof(m->hdr) + m->hdr.size, m->fds, m->nfds);
}

/* ---- resources ---------------------------------------------------------- */

int
vt_memfd(const char *name, uint64_t size)
{
	char full[64];
	int fd;

	snprintf(full, sizeof(full), "vhut-%s", name);
	fd = memfd_create(full, MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

int
vt_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

unsigned
vt_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

unsigned
vt_count_maps(const char *needle)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, needle) != NULL)
			n++;
	free(line);
	fclose(f);
	return n;
}

bool
vt_fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}
