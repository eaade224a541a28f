/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_datapath.c - the burst loops of pmd/datapath.c and the poll
 * thread of pmd/pmd.c, driven end to end through a loopback port: a fake guest
 * posts frames on its TX ring, pmd_poll_qp() moves them to the port, the port
 * reflects them with MACs swapped, and the same visit writes them into the
 * guest's RX ring, which lives in the same guest memory (so one struct pmd_qp
 * with one gmem covers both). Every test checks what a driver would see (used
 * entries, lengths, net headers, num_buffers, payload bytes, call-eventfd
 * counts) and every counter of the queue pair exactly, then that every mbuf
 * went back to its pool. The hostile cases feed bad chains, starve the guest
 * RX ring, fill the loopback, drain the mbuf pool and break the rings. EAL
 * runs without hugepages, PCI or shared config, so the tests run anywhere. */
/* Full tables: tests/virtio/test_vq_hostile.c (chains, rings), test_vnet.c (TX header). */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "pmd/gro.h"
#include "pmd/pmd.h"
#include "pmd/port.h"
#include "common/base.h"
#include "virtio/vnet.h"
#include "virtio/vq.h"
#include "tests/tcp_frame.h"
#include "tests/task.h"
#include "tests/wait.h"
#include "tests/fake_guest.h"
#include "tests/steer_one.h"

#define V1      VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define MRG     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)
#define CSUM    VIRTIO_BIT(VIRTIO_NET_F_CSUM)
#define GCSUM   VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)
#define TSO     (VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6))
#define GTSO    (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6))
#define HECN    VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN)
#define GECN    VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)
#define EVIDX   VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define FILL    0xaa                     /* guest RX buffers before the device writes */
#define ANY     UINT64_MAX               /* expect_stats(): counter not checked */
#define POOL_N  4096u
#define TINY_N  48u                      /* mbufs in the pool-exhaustion test's pool */
#define REGION  (UINT64_C(8) << 20)      /* guest memory: one 8 MiB region */
#define MAX_FRAME_BUF (VNET_MAX_FRAME + 64)

/* Shared by every test: created by the group setup. */
static struct rte_mempool *pool;
static struct pmd_port *port;
static unsigned last_cpu;                /* last CPU this process may run on */
/* Steering over one RX queue, as a device: port's peer has: its inbox is
 * where frames from the port wait. Built by the group set-up. */
static struct steer_one one_q;

/* One device queue pair and the fake driver on the other side of it. */
struct rig {
	struct pmd_qp_state st;              /* cache-aligned: rig is aligned_alloc'd */
	struct pmd_qp q;
	struct fake_guest *g;                /* owns guest memory; its ring is guest TX */
	/* The guest RX ring: a view of g with its own ring addresses and vq, so
	 * the fg_* builders work on it. It shares g's memory and is never freed;
	 * its bump allocator is empty, so all allocation goes through g. */
	struct fake_guest rxv;
	int tx_call, rx_call, tx_err, rx_err;
	uint16_t hdr_len;
	bool mrg;
	uint8_t rx_flags;                    /* net header flags rx_take expects */
	uint8_t rx_hdr[10];                  /* ... or, if rx_hdr_any, keeps here */
	bool rx_hdr_any;
	uint16_t tx_desc;                    /* next free TX descriptor (mod size) */
	uint16_t rx_desc;                    /* next free RX descriptor (mod size) */
	uint16_t rx_seen;                    /* RX used entries the driver consumed */
	uint64_t *rx_gpa;                    /* per RX descriptor: buffer, capacity, */
	uint32_t *rx_cap, *rx_len;           /* posted length, */
	bool *rx_pending;                    /* and whether the device owns it */
	struct rte_mempool *own_pool;        /* a test's private pool, or NULL */
};

struct rig_opts {
	uint32_t tx_qsize, rx_qsize;         /* 0: FG_QSIZE */
	uint64_t features;
	struct rte_mempool *pool;            /* NULL: the shared pool */
	bool spy;                            /* port: the spy around the loopback */
	uint32_t mtu;                        /* 0: no MTU below VNET_MAX_FRAME */
};

/* The running test's rig and poll thread: the teardown frees them even
 * when an assertion cut the test short. */
static struct rig *cur;
static struct pmd *cur_pmd;

static uint8_t frame_buf[MAX_FRAME_BUF], want_buf[MAX_FRAME_BUF];

/* --- frames -------------------------------------------------------------- */

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* Frame `id`: dst mac_a, src mac_b, ethertype 0x88b5, id (big-endian), then
 * bytes that depend on id and offset, so a frame delivered twice, out of
 * order or shifted shows. Frames under 18 bytes are cut short. */
static void
make_frame(uint8_t *f, uint32_t len, uint32_t id)
{
	const uint8_t head[18] = {
		mac_a[0], mac_a[1], mac_a[2], mac_a[3], mac_a[4], mac_a[5],
		mac_b[0], mac_b[1], mac_b[2], mac_b[3], mac_b[4], mac_b[5],
		0x88, 0xb5, (uint8_t)(id >> 24), (uint8_t)(id >> 16),
		(uint8_t)(id >> 8), (uint8_t)id,
	};

	for (uint32_t k = 0; k < len; k++)
		f[k] = (uint8_t)(id * 131u + k * 7u + (k >> 8) + 1u);
	if (len >= 14)
		memcpy(f, head, len < sizeof(head) ? len : sizeof(head));
}

/* Frame `id` as the loopback returns it: MACs swapped. */
static void
make_reflected(uint8_t *f, uint32_t len, uint32_t id)
{
	make_frame(f, len, id);
	if (len < 14)
		return;
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
}

static struct rte_mbuf *
mbuf_frame(uint32_t id, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	make_frame((uint8_t *)p, len, id);
	return m;
}

/* --- a port that records what it is given ------------------------------- */

/* Wraps the loopback port and records the shape of every mbuf it is handed,
 * so tests can see the chains the datapath builds. */
#define SPY_MAX 64

struct spy {
	struct pmd_port port;
	unsigned n;
	uint16_t nb_segs[SPY_MAX];
	uint32_t pkt_len[SPY_MAX];
	uint32_t data_sum[SPY_MAX];              /* sum of the segments' data_len */
	uint64_t ol_flags[SPY_MAX], tx_offload[SPY_MAX];
};

static struct spy spy;

static uint16_t
spy_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	(void)p;
	return port->ops->rx(port, q, m, n);
}

static uint16_t
spy_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	(void)p;
	for (uint16_t i = 0; i < n && spy.n < SPY_MAX; i++, spy.n++) {
		spy.nb_segs[spy.n] = m[i]->nb_segs;
		spy.pkt_len[spy.n] = m[i]->pkt_len;
		spy.data_sum[spy.n] = 0;
		spy.ol_flags[spy.n] = m[i]->ol_flags;
		spy.tx_offload[spy.n] = m[i]->tx_offload;
		for (const struct rte_mbuf *s = m[i]; s != NULL; s = s->next)
			spy.data_sum[spy.n] += s->data_len;
	}
	return port->ops->tx(port, q, m, n);
}

static uint16_t
spy_tx_room(struct pmd_port *p, uint16_t q)
{
	(void)p;
	return port->ops->tx_room(port, q);
}

static bool
spy_rx_pending(struct pmd_port *p, uint16_t q)
{
	(void)p;
	return port->ops->rx_pending(port, q);
}

static void
spy_free(struct pmd_port *p)
{
	(void)p;
}

static const struct pmd_port_ops spy_ops = {
	.rx = spy_rx, .tx = spy_tx, .tx_room = spy_tx_room, .rx_pending = spy_rx_pending,
	.free = spy_free,
};

/* --- counters and eventfds ----------------------------------------------- */

static uint64_t
stat_at(const struct pmd_qstats *s, size_t off)
{
	return pmd_stat_read((const uint64_t *)((const char *)s + off));
}

/* Every counter equals want's (ANY: not checked); names each one that differs. */
static void
expect_stats(const struct rig *r, const struct pmd_qstats *want)
{
	unsigned bad = 0;

	for (size_t k = 0; k < pmd_qstat_nfields; k++) {
		uint64_t w = stat_at(want, pmd_qstat_fields[k].off);
		uint64_t got = stat_at(&r->st.stats, pmd_qstat_fields[k].off);

		if (w != ANY && w != got) {
			print_error("stats.%s: expected %" PRIu64 ", got %" PRIu64 "\n",
			            pmd_qstat_fields[k].name, w, got);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static struct pmd_qstats
stats_now(const struct rig *r)
{
	struct pmd_qstats s;

	for (size_t k = 0; k < pmd_qstat_nfields; k++)
		*(uint64_t *)((char *)&s + pmd_qstat_fields[k].off) =
			stat_at(&r->st.stats, pmd_qstat_fields[k].off);
	return s;
}

static int
efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* Reads (and resets) an eventfd's counter: how many writes since last time. */
static uint64_t
efd_take(int fd)
{
	eventfd_t v;

	if (eventfd_read(fd, &v) == 0)
		return v;
	assert_int_equal(errno, EAGAIN);
	return 0;
}

/* --- the rig --------------------------------------------------------------- */

/* Lays out the guest RX ring in g's memory and maps it as a second vq. */
static void
rx_ring_init(struct rig *r, uint32_t qsize, uint64_t features)
{
	struct fake_guest *v = &r->rxv;
	uint64_t desc = fg_alloc(r->g, vring_desc_bytes(qsize), 16);
	uint64_t avail = fg_alloc(r->g, vring_avail_bytes(qsize), 2);
	uint64_t used = fg_alloc(r->g, vring_used_bytes(qsize), 4);

	*v = *r->g;
	v->qsize = qsize;
	v->desc_gpa = desc;
	v->avail_gpa = avail;
	v->used_gpa = used;
	v->desc = fg_hva(r->g, desc, vring_desc_bytes(qsize));
	v->avail = fg_hva(r->g, avail, vring_avail_bytes(qsize));
	v->used = fg_hva(r->g, used, vring_used_bytes(qsize));
	v->addrs = (struct vq_addrs){
		.desc_fva = fg_fva(r->g, desc),
		.avail_fva = fg_fva(r->g, avail),
		.used_fva = fg_fva(r->g, used),
	};
	v->heap_gpa = v->heap_end = 0;
	v->vq = &v->vq_s;
	assert_int_equal(vq_map(v->vq, r->g->mem, &v->addrs, qsize, VQ_DIR_DEVICE_WRITES,
	                        features, 0), VQ_OK);
}

static struct rig *
rig_new(const struct rig_opts *o)
{
	uint32_t txq = o->tx_qsize ? o->tx_qsize : FG_QSIZE;
	uint32_t rxq = o->rx_qsize ? o->rx_qsize : FG_QSIZE;
	const struct fg_opts fo = { .qsize = txq, .region_size = REGION,
	                            .dir = VQ_DIR_DEVICE_READS, .features = o->features };
	size_t align = _Alignof(struct rig);
	struct rig *r = aligned_alloc(align, (sizeof(*r) + align - 1) / align * align);

	assert_non_null(r);
	memset(r, 0, sizeof(*r));
	r->tx_call = r->rx_call = r->tx_err = r->rx_err = -1;
	cur = r;
	r->g = fg_new_opts(&fo);
	assert_non_null(r->g);
	rx_ring_init(r, rxq, o->features);
	r->rx_gpa = calloc(rxq, sizeof(r->rx_gpa[0]));
	r->rx_cap = calloc(rxq, sizeof(r->rx_cap[0]));
	r->rx_len = calloc(rxq, sizeof(r->rx_len[0]));
	r->rx_pending = calloc(rxq, sizeof(r->rx_pending[0]));
	assert_true(r->rx_gpa && r->rx_cap && r->rx_len && r->rx_pending);
	r->tx_call = efd();
	r->rx_call = efd();
	r->tx_err = efd();
	r->rx_err = efd();
	r->hdr_len = vnet_hdr_len(o->features);
	r->mrg = (o->features & MRG) != 0;
	spy = (struct spy){ .port = { .ops = &spy_ops, .kind = "spy", .nrxq = 1, .ntxq = 1 } };
	r->q = (struct pmd_qp){
		.rx = { r->rxv.vq, r->rx_call, r->rx_err },
		.tx = { r->g->vq, r->tx_call, r->tx_err },
		.mem = r->g->mem,
		.rx_fmt = { .hdr_len = r->hdr_len, .mrg_rxbuf = r->mrg,
		            .guest_csum = (o->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) != 0,
		            .tso4 = (o->features & GCSUM) &&
		                    (o->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)),
		            .tso6 = (o->features & GCSUM) &&
		                    (o->features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)),
		            .ecn = (o->features & GCSUM) && (o->features & GECN) },
		.tx_fmt = { .hdr_len = r->hdr_len,
		            .csum = (o->features & VIRTIO_BIT(VIRTIO_NET_F_CSUM)) != 0,
		            .tso4 = (o->features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)) != 0,
		            .tso6 = (o->features & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6)) != 0,
		            .ecn = (o->features & HECN) != 0,
		            .max_frame = o->mtu ? vnet_max_frame(o->mtu) : VNET_MAX_FRAME },
		.port = o->spy ? &spy.port : port,
		.port_txq = 0, .port_rxq = 0, .port_rxq_step = 1,
		.burst = PMD_BURST, .burst_bytes = PMD_TX_BYTE_BUDGET,
		.pool = o->pool ? o->pool : pool,
		.st = &r->st,
		.dev_name = "pmdt",
		.qp = 0,
	};
	return r;
}

/* Frees every frame the port, the steering inbox or the queue pair still
 * holds. */
static unsigned
port_drain(struct rig *r)
{
	struct rte_mbuf *m[PMD_BURST];
	unsigned n = 0, k;

	while ((k = port->ops->rx(port, 0, m, PMD_BURST)) > 0) {
		rte_pktmbuf_free_bulk(m, k);
		n += k;
	}
	return n + steer_one_drain(&one_q) + pmd_qp_state_drop_held(&r->st);
}

/* End-of-test check: once the port and the held frames are drained, every
 * mbuf is back in its pool (none leaked, e.g. by an undone copy). */
static void
expect_pool_whole(struct rig *r)
{
	port_drain(r);
	assert_int_equal(rte_mempool_avail_count(r->q.pool), r->q.pool->size);
	assert_int_equal(rte_mempool_avail_count(pool), pool->size);
}

static void
close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int
rig_teardown(void **state)
{
	struct rig *r = cur;

	(void)state;
	port->carries_offloads = false;      /* test_carried set it */
	if (cur_pmd != NULL) {
		pmd_stop(cur_pmd);
		cur_pmd = NULL;
	}
	if (r == NULL)
		return 0;
	port_drain(r);
	if (r->own_pool != NULL)
		rte_mempool_free(r->own_pool);
	close_fd(r->tx_call);
	close_fd(r->rx_call);
	close_fd(r->tx_err);
	close_fd(r->rx_err);
	free(r->rx_gpa);
	free(r->rx_cap);
	free(r->rx_len);
	free(r->rx_pending);
	fg_free(r->g);
	free(r);
	cur = NULL;
	return 0;
}

static void
poll_n(struct rig *r, unsigned n)
{
	while (n-- > 0)
		pmd_poll_qp(&r->q);
}

/* --- driver side: TX ------------------------------------------------------- */

/* Posts frame `id` of len bytes behind a zeroed net header, as one guest
 * buffer cut into descriptors: first the lengths in cut (0-terminated, may be
 * NULL), then one descriptor for the rest. Returns the head. */
static uint16_t
tx_post(struct rig *r, uint32_t id, uint32_t len, const uint32_t *cut)
{
	struct fake_guest *g = r->g;
	uint16_t mask = (uint16_t)(g->qsize - 1), head = (uint16_t)(r->tx_desc & mask);
	uint32_t total = r->hdr_len + len, off = 0;
	uint64_t gpa = fg_alloc(g, total, 16);
	unsigned n = 0;

	assert_true(total <= sizeof(frame_buf));
	memset(frame_buf, 0, r->hdr_len);
	make_frame(frame_buf + r->hdr_len, len, id);
	assert_int_equal(fg_write(g, gpa, frame_buf, total), 0);
	while (cut != NULL && cut[n] != 0 && off + cut[n] < total)
		off += cut[n++];
	off = 0;
	for (unsigned k = 0; k <= n; k++) {
		uint32_t l = k < n ? cut[k] : total - off;
		uint16_t i = (uint16_t)((head + k) & mask);

		fg_desc(g, i, gpa + off, l, k < n ? VRING_DESC_F_NEXT : 0,
		        (uint16_t)((i + 1) & mask));
		off += l;
	}
	r->tx_desc = (uint16_t)(r->tx_desc + n + 1);
	fg_avail(g, head);
	return head;
}

static void
tx_post_n(struct rig *r, uint32_t first_id, unsigned n, uint32_t len)
{
	for (unsigned k = 0; k < n; k++)
		tx_post(r, first_id + k, len, NULL);
}

/* Guest TX used entries [from, to) hand back, in order, the heads the guest
 * made available at the same ring positions, each with length 0. */
static void
expect_tx_used(const struct rig *r, uint16_t from, uint16_t to)
{
	const struct fake_guest *g = r->g;

	assert_int_equal(fg_used_idx(g), to);
	for (uint16_t i = from; i != to; i++) {
		struct vring_used_elem u = fg_used_elem(g, i);

		assert_int_equal(u.id, le16toh(g->avail->ring[i & (g->qsize - 1)]));
		assert_int_equal(u.len, 0);
	}
}

/* --- driver side: RX ------------------------------------------------------- */

/* Makes one writable buffer of len bytes, pre-filled with FILL, available. */
static uint16_t
rx_post(struct rig *r, uint32_t len)
{
	struct fake_guest *v = &r->rxv;
	uint16_t head = (uint16_t)(r->rx_desc++ & (v->qsize - 1));

	assert_false(r->rx_pending[head]);          /* test bug: ring over-full */
	if (r->rx_cap[head] < len) {
		r->rx_gpa[head] = fg_alloc(r->g, len, 16);
		r->rx_cap[head] = len;
	}
	assert_int_equal(fg_fill(r->g, r->rx_gpa[head], FILL, len), 0);
	fg_desc(v, head, r->rx_gpa[head], len, VRING_DESC_F_WRITE, 0);
	r->rx_len[head] = len;
	r->rx_pending[head] = true;
	fg_avail(v, head);
	return head;
}

static void
rx_post_n(struct rig *r, unsigned n, uint32_t len)
{
	while (n-- > 0)
		rx_post(r, len);
}

/* Takes the next packet from the guest RX ring as a driver does: num_buffers
 * used entries, starting with the one carrying the net header. Checks the
 * header (all zero but num_buffers, and flags as r->rx_flags), that each entry names a buffer the
 * device owned, that no length exceeds its buffer, that every buffer but the
 * last is full, and that nothing was written past a used length. Returns the
 * frame length (frame copied to out), or -1 if no packet is there. */
static long
rx_take(struct rig *r, uint8_t *out, size_t cap, uint16_t *nbufs)
{
	struct fake_guest *v = &r->rxv;
	uint16_t used = fg_used_idx(v), nb = 1;
	size_t got = 0;

	if (r->rx_seen == used)
		return -1;
	for (uint16_t k = 0; k < nb; k++) {
		struct vring_used_elem u;
		uint32_t skip = 0;

		assert_true(r->rx_seen != used);     /* used idx covers whole packets */
		u = fg_used_elem(v, r->rx_seen++);
		assert_true(u.id < v->qsize);
		assert_true(r->rx_pending[u.id]);
		r->rx_pending[u.id] = false;
		assert_true(u.len <= r->rx_len[u.id]);
		if (k == 0) {
			uint8_t h[12];

			assert_true(u.len >= r->hdr_len);
			assert_int_equal(fg_read(v, r->rx_gpa[u.id], h, r->hdr_len), 0);
			if (r->rx_hdr_any) {
				memcpy(r->rx_hdr, h, sizeof(r->rx_hdr));
			} else {
				assert_int_equal(h[0], r->rx_flags);
				for (unsigned b = 1; b < 10; b++)
					assert_int_equal(h[b], 0);
			}
			if (r->hdr_len == 12)
				nb = (uint16_t)(h[10] | h[11] << 8);
			assert_true(nb >= 1);
			if (!r->mrg)
				assert_int_equal(nb, 1);
			skip = r->hdr_len;
		}
		if (k + 1 < nb) {
			assert_int_equal(u.len, r->rx_len[u.id]);
		} else if (u.len < r->rx_len[u.id]) {
			uint8_t past;

			assert_int_equal(fg_read(v, r->rx_gpa[u.id] + u.len, &past, 1), 0);
			assert_int_equal(past, FILL);
		}
		assert_true(got + u.len - skip <= cap);
		assert_int_equal(fg_read(v, r->rx_gpa[u.id] + skip, out + got, u.len - skip), 0);
		got += u.len - skip;
	}
	if (nbufs != NULL)
		*nbufs = nb;
	return (long)got;
}

/* The next packet on the guest RX ring is frame id, intact: as sent, or
 * reflected (by the loopback). Returns the buffers it took. */
static uint16_t
expect_rx_frame(struct rig *r, uint32_t id, uint32_t len, bool reflected)
{
	uint16_t nb = 0;
	long n = rx_take(r, frame_buf, sizeof(frame_buf), &nb);

	assert_int_equal(n, len);
	if (reflected)
		make_reflected(want_buf, len, id);
	else
		make_frame(want_buf, len, id);
	assert_memory_equal(frame_buf, want_buf, len);
	return nb;
}

static uint16_t
expect_rx(struct rig *r, uint32_t id, uint32_t len)
{
	return expect_rx_frame(r, id, len, true);
}

static void
expect_rx_none(struct rig *r)
{
	assert_int_equal(fg_used_idx(&r->rxv), r->rx_seen);
}

/* --- unit: frames round trip ----------------------------------------------- */

struct variant {
	const char *name;
	uint64_t features;
	uint32_t rx_buf;                     /* bytes per guest RX buffer */
	unsigned n_rx_bufs;
};

static const struct variant variants[] = {
	{ "mergeable 2048-byte buffers", V1 | MRG, 2048, 64 },
	{ "non-mergeable 64 KiB buffers", V1, 65562, 5 },
	{ "legacy 10-byte header, 64 KiB buffers", 0, 65562, 5 },
};

/* Frames of 60, 1514, 4000, 9000 and 65535 (VNET_MAX_FRAME) bytes, each cut
 * into guest descriptors differently (header split, header alone, one buffer,
 * several), go out as mbuf chains of full 2048-byte segments and come back
 * whole with MACs swapped. */
static void
test_round_trip(void **state)
{
	const struct variant *v = *state;
	struct rig *r = rig_new(&(struct rig_opts){ .features = v->features, .spy = true });
	const uint32_t seg = RTE_MBUF_DEFAULT_DATAROOM;
	const uint32_t len[] = { 60, 1514, 4000, 9000, VNET_MAX_FRAME };
	const uint32_t cut_split_hdr[] = { 7, 0 };
	const uint32_t cut_hdr_alone[] = { r->hdr_len, 1000, 0 };
	const uint32_t cut_many[] = { 100, 3000, 3000, 0 };
	const uint32_t cut_half[] = { r->hdr_len + 32768, 0 };
	const uint32_t *cut[] = { cut_split_hdr, NULL, cut_hdr_alone, cut_many, cut_half };
	uint64_t bytes = 0;
	uint16_t bufs = 0;

	rx_post_n(r, v->n_rx_bufs, v->rx_buf);
	for (uint32_t k = 0; k < ARRAY_SIZE(len); k++) {
		tx_post(r, k, len[k], cut[k]);
		bytes += len[k];
	}
	poll_n(r, 3);
	expect_tx_used(r, 0, ARRAY_SIZE(len));
	assert_int_equal(spy.n, ARRAY_SIZE(len));
	for (uint32_t k = 0; k < ARRAY_SIZE(len); k++) {
		assert_int_equal(spy.pkt_len[k], len[k]);
		assert_int_equal(spy.data_sum[k], len[k]);
		assert_int_equal(spy.nb_segs[k], (len[k] + seg - 1) / seg);
	}
	for (uint32_t k = 0; k < ARRAY_SIZE(len); k++) {
		uint16_t nb = expect_rx(r, k, len[k]);
		uint32_t want = r->mrg ? (r->hdr_len + len[k] + v->rx_buf - 1) / v->rx_buf : 1;

		assert_int_equal(nb, want);
		bufs = (uint16_t)(bufs + nb);
	}
	expect_rx_none(r);
	assert_int_equal(fg_used_idx(&r->rxv), bufs);
	assert_int_equal(r->rxv.vq->last_avail, bufs);    /* spare buffers untouched */
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = ARRAY_SIZE(len), .tx_bytes = bytes, .tx_notify = 1,
		.rx_packets = ARRAY_SIZE(len), .rx_bytes = bytes, .rx_notify = 1,
	});
	assert_int_equal(efd_take(r->tx_call), 1);
	assert_int_equal(efd_take(r->rx_call), 1);
	assert_int_equal(efd_take(r->tx_err), 0);
	assert_int_equal(efd_take(r->rx_err), 0);
	expect_pool_whole(r);
}

/* --- unit: notifications --------------------------------------------------- */

/* A burst of 32 frames costs one call-eventfd write per queue. */
static void
test_notify_once_per_burst(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	for (unsigned round = 0; round < 2; round++) {
		rx_post_n(r, PMD_BURST, 2048);
		tx_post_n(r, round * PMD_BURST, PMD_BURST, 60);
		pmd_poll_qp(&r->q);
		expect_tx_used(r, (uint16_t)(round * PMD_BURST),
		               (uint16_t)((round + 1) * PMD_BURST));
		for (unsigned k = 0; k < PMD_BURST; k++)
			expect_rx(r, round * PMD_BURST + k, 60);
		assert_int_equal(efd_take(r->tx_call), 1);
		assert_int_equal(efd_take(r->rx_call), 1);
	}
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 64, .tx_bytes = 64 * 60, .tx_notify = 2,
		.rx_packets = 64, .rx_bytes = 64 * 60, .rx_notify = 2,
	});
	expect_pool_whole(r);
}

/* VRING_AVAIL_F_NO_INTERRUPT: frames move, no eventfd is written; clearing
 * the flag brings notifications back. */
static void
test_notify_no_interrupt(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	fg_set_avail_flags(r->g, VRING_AVAIL_F_NO_INTERRUPT);
	fg_set_avail_flags(&r->rxv, VRING_AVAIL_F_NO_INTERRUPT);
	rx_post_n(r, 64, 2048);
	tx_post_n(r, 0, PMD_BURST, 60);
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, PMD_BURST);
	for (unsigned k = 0; k < PMD_BURST; k++)
		expect_rx(r, k, 60);
	assert_int_equal(efd_take(r->tx_call), 0);
	assert_int_equal(efd_take(r->rx_call), 0);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = PMD_BURST, .tx_bytes = PMD_BURST * 60,
		.rx_packets = PMD_BURST, .rx_bytes = PMD_BURST * 60,
	});

	fg_set_avail_flags(r->g, 0);
	fg_set_avail_flags(&r->rxv, 0);
	tx_post_n(r, PMD_BURST, 4, 60);
	pmd_poll_qp(&r->q);
	for (unsigned k = 0; k < 4; k++)
		expect_rx(r, PMD_BURST + k, 60);
	assert_int_equal(efd_take(r->tx_call), 1);
	assert_int_equal(efd_take(r->rx_call), 1);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = PMD_BURST + 4, .tx_bytes = (PMD_BURST + 4) * 60, .tx_notify = 1,
		.rx_packets = PMD_BURST + 4, .rx_bytes = (PMD_BURST + 4) * 60, .rx_notify = 1,
	});
	expect_pool_whole(r);
}

/* EVENT_IDX: rounds of 4 frames publish used idx 4, 8, 12, ...; the device
 * notifies iff used_event lies in [old used idx, new used idx) (spec 2.7.10),
 * on each ring separately, and ignores NO_INTERRUPT. */
static void
test_notify_event_idx(void **state)
{
	static const struct {
		uint16_t used_event;
		uint16_t avail_flags;
		bool kick;
	} rounds[] = {
		{ 0,   0, true },                    /* 0 -> 4 */
		{ 100, 0, false },                   /* 4 -> 8, event far ahead */
		{ 9,   VRING_AVAIL_F_NO_INTERRUPT, true },   /* 8 -> 12: flag ignored */
		{ 12,  0, true },                    /* 12 -> 16: event == old idx */
		{ 20,  0, false },                   /* 16 -> 20: event == new idx */
		{ 20,  0, true },                    /* 20 -> 24: now inside */
		{ 23,  0, false },                   /* 24 -> 28: already passed */
	};
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | EVIDX });
	uint64_t kicks = 0, tx_kicks, rx_kicks;

	(void)state;
	rx_post_n(r, 4 * ARRAY_SIZE(rounds), 2048);
	for (unsigned k = 0; k < ARRAY_SIZE(rounds); k++) {
		fg_set_used_event(r->g, rounds[k].used_event);
		fg_set_used_event(&r->rxv, rounds[k].used_event);
		fg_set_avail_flags(r->g, rounds[k].avail_flags);
		fg_set_avail_flags(&r->rxv, rounds[k].avail_flags);
		tx_post_n(r, 4 * k, 4, 60);
		pmd_poll_qp(&r->q);
		assert_int_equal(fg_used_idx(r->g), 4 * (k + 1));
		assert_int_equal(fg_used_idx(&r->rxv), 4 * (k + 1));
		tx_kicks = efd_take(r->tx_call);
		rx_kicks = efd_take(r->rx_call);
		if (tx_kicks != rounds[k].kick || rx_kicks != rounds[k].kick)
			fail_msg("round %u (used_event %u): expected %u kick(s) per ring, got "
			         "%" PRIu64 " on TX, %" PRIu64 " on RX", k, rounds[k].used_event,
			         rounds[k].kick, tx_kicks, rx_kicks);
		kicks += rounds[k].kick;
	}
	for (unsigned k = 0; k < 4 * ARRAY_SIZE(rounds); k++)
		expect_rx(r, k, 60);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 4 * ARRAY_SIZE(rounds), .tx_bytes = 4 * 60 * ARRAY_SIZE(rounds),
		.rx_packets = 4 * ARRAY_SIZE(rounds), .rx_bytes = 4 * 60 * ARRAY_SIZE(rounds),
		.tx_notify = kicks, .rx_notify = kicks,
	});
	expect_pool_whole(r);
}

/* --- hostile: starved guest RX ring, backpressure ------------------------- */

/* No RX buffers: frames wait (nothing dropped) and arrive in order once the
 * guest posts buffers. */
static void
test_rx_starved_frames_wait(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	tx_post_n(r, 0, 8, 100);
	poll_n(r, 4);
	expect_tx_used(r, 0, 8);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 8, .tx_bytes = 800, .tx_notify = 1, .rx_wait_no_buf = ANY,
	});
	assert_int_equal(efd_take(r->rx_call), 0);

	rx_post_n(r, 8, 2048);
	poll_n(r, 2);
	for (unsigned k = 0; k < 8; k++)
		expect_rx(r, k, 100);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 8, .tx_bytes = 800, .tx_notify = 1,
		.rx_packets = 8, .rx_bytes = 800, .rx_notify = 1, .rx_wait_no_buf = ANY,
	});
	expect_pool_whole(r);
}

/* pmd.h: rx_wait_no_buf counts visits where frames waited for guest RX buffers.
 * Frames waiting in the port while the guest RX ring is empty are such visits. */
static void
test_rx_starved_counts_wait(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	tx_post_n(r, 0, 8, 100);
	poll_n(r, 4);
	expect_rx_none(r);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_drop_too_big) +
	                 pmd_stat_read(&r->st.stats.rx_drop_broken) +
	                 pmd_stat_read(&r->st.stats.rx_drop_bad_chain), 0);
	assert_true(pmd_stat_read(&r->st.stats.rx_wait_no_buf) >= 1);
	expect_pool_whole(r);
}

/* Mergeable, too few buffers for the second frame: it is held (counted once
 * per visit that could not place it), the frame behind it does not overtake
 * it, and both arrive once the guest posts more. */
static void
test_rx_short_holds_in_order(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	rx_post_n(r, 3, 2048);
	tx_post(r, 0, 4000, NULL);                   /* two buffers each */
	tx_post(r, 1, 4000, NULL);
	tx_post(r, 2, 60, NULL);                     /* would fit the third */
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 3);
	assert_int_equal(expect_rx(r, 0, 4000), 2);
	expect_rx_none(r);
	assert_int_equal(r->rxv.vq->last_avail, 2);  /* third buffer given back */
	assert_int_equal(r->st.held_n - r->st.held_next, 2);
	pmd_poll_qp(&r->q);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 3, .tx_bytes = 8060, .tx_notify = 1,
		.rx_packets = 1, .rx_bytes = 4000, .rx_notify = 1, .rx_wait_no_buf = 2,
	});

	rx_post_n(r, 3, 2048);
	pmd_poll_qp(&r->q);
	assert_int_equal(expect_rx(r, 1, 4000), 2);
	assert_int_equal(expect_rx(r, 2, 60), 1);
	expect_rx_none(r);
	assert_int_equal(r->st.held_n, r->st.held_next);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 3, .tx_bytes = 8060, .tx_notify = 1,
		.rx_packets = 3, .rx_bytes = 8060, .rx_notify = 2, .rx_wait_no_buf = 2,
	});
	expect_pool_whole(r);
}

/* RX starved: guest TX keeps going until the loopback ring is full, then its
 * chains stay in the guest's avail ring (used idx stops) instead of being
 * dropped; once the guest posts RX buffers all of them arrive in order. */
static void
test_loopback_backpressure(void **state)
{
	enum { FRAMES = 1100, LEN = 60 };
	struct rig *r = rig_new(&(struct rig_opts){ .tx_qsize = 2048, .features = V1 | MRG });
	uint16_t room = port->ops->tx_room(port, 0);
	uint32_t got = 0;

	(void)state;
	assert_int_equal(room, PMD_LOOPBACK_RING);    /* exactly: the pool counts on it */
	tx_post_n(r, 0, FRAMES, LEN);
	poll_n(r, 2 * FRAMES / PMD_BURST);
	expect_tx_used(r, 0, room);
	assert_int_equal(r->g->vq->last_avail, room);
	assert_int_equal(fg_avail_idx(r->g), FRAMES);
	assert_int_equal(port->ops->tx_room(port, 0), 0);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = room, .tx_bytes = (uint64_t)room * LEN,
		.tx_notify = (room + PMD_BURST - 1) / PMD_BURST, .rx_wait_no_buf = ANY,
	});
	poll_n(r, 8);
	assert_int_equal(fg_used_idx(r->g), room);   /* still stopped */

	for (unsigned visit = 0; got < FRAMES && visit < 4 * FRAMES / PMD_BURST; visit++) {
		uint16_t free_bufs = (uint16_t)(r->rxv.qsize - (uint16_t)(r->rx_desc - r->rx_seen));

		rx_post_n(r, free_bufs < PMD_BURST ? free_bufs : PMD_BURST, 2048);
		pmd_poll_qp(&r->q);
		while (fg_used_idx(&r->rxv) != r->rx_seen)
			expect_rx(r, got++, LEN);
	}
	assert_int_equal(got, FRAMES);
	expect_tx_used(r, 0, FRAMES);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = FRAMES, .tx_bytes = FRAMES * LEN, .tx_notify = ANY,
		.rx_packets = FRAMES, .rx_bytes = FRAMES * LEN, .rx_notify = ANY,
		.rx_wait_no_buf = ANY,
	});
	expect_pool_whole(r);
}

/* Big frames: a visit ends once PMD_TX_BYTE_BUDGET bytes went out, so one
 * guest's 9000-byte frames do not hold the thread for 32 of them; the rest
 * go on the next visits, in order, none lost. */
static void
test_tx_byte_budget(void **state)
{
	enum { FRAMES = 32, LEN = 9000 };
	const unsigned per_visit = (PMD_TX_BYTE_BUDGET + LEN - 1) / LEN;
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	uint32_t got = 0;

	(void)state;
	assert_true(per_visit < FRAMES);
	tx_post_n(r, 0, FRAMES, LEN);
	pmd_poll_qp(&r->q);
	assert_int_equal(r->g->vq->last_avail, per_visit);
	expect_tx_used(r, 0, (uint16_t)per_visit);
	for (unsigned visit = 0; got < FRAMES && visit < 4 * FRAMES; visit++) {
		rx_post_n(r, 8, 16384);
		pmd_poll_qp(&r->q);
		while (fg_used_idx(&r->rxv) != r->rx_seen)
			expect_rx(r, got++, LEN);
	}
	assert_int_equal(got, FRAMES);
	expect_tx_used(r, 0, FRAMES);
	expect_pool_whole(r);
}

/* --- hostile: bad TX chains -------------------------------------------------- */

struct bad_tx {
	const char *name;
	void (*build)(struct rig *r);
	size_t counter;                      /* offsetof the pmd_qstats field */
	enum vq_err err;                     /* vq error counted, VQ_OK: none */
};

static uint16_t
desc_take(struct rig *r, unsigned n)
{
	uint16_t head = (uint16_t)(r->tx_desc & (r->g->qsize - 1));

	r->tx_desc = (uint16_t)(r->tx_desc + n);
	return head;
}

/* A readable buffer of len bytes (zeroed) and its descriptor. */
static uint16_t
one_desc(struct rig *r, uint32_t len, uint16_t flags, uint16_t next)
{
	uint16_t d = desc_take(r, 1);
	uint64_t gpa = fg_alloc(r->g, len ? len : 1, 16);

	if (len)
		assert_int_equal(fg_fill(r->g, gpa, 0, len), 0);
	fg_desc(r->g, d, gpa, len, flags, next);
	return d;
}

static void
bad_outside(struct rig *r)
{
	uint16_t d = desc_take(r, 1);

	fg_desc(r->g, d, fg_region_end(r->g, 0) + 0x1000, 72, 0, 0);
	fg_avail(r->g, d);
}

static void
bad_zero_len(struct rig *r)
{
	fg_avail(r->g, one_desc(r, 0, 0, 0));
}

static void
runt_hdr_only(struct rig *r)
{
	fg_avail(r->g, one_desc(r, r->hdr_len, 0, 0));
}

/* A 60-byte frame whose header's first two bytes (flags, gso_type) are set. */
static void
hdr_asks(struct rig *r, uint8_t flags, uint8_t gso_type)
{
	uint16_t d = one_desc(r, r->hdr_len + 60, 0, 0);
	uint8_t h[2] = { flags, gso_type };

	assert_int_equal(fg_write(r->g, le64toh(r->g->desc[d].addr), h, sizeof(h)), 0);
	fg_avail(r->g, d);
}

static void bad_hdr_csum(struct rig *r) { hdr_asks(r, 1, 0); }      /* NEEDS_CSUM */
static void bad_hdr_gso(struct rig *r) { hdr_asks(r, 0, 1); }       /* GSO_TCPV4 */

/* VNET_MAX_FRAME + 1 bytes after the header, in four descriptors. */
static void
too_big(struct rig *r)
{
	const uint32_t len = VNET_MAX_FRAME + 1;
	const uint32_t cut[] = { r->hdr_len + 16384, 16384, 16384, 0 };

	tx_post(r, 99, len, cut);
}

static const struct bad_tx bad_tx_rows[] = {
	{ "tx: buffer past the end of guest memory", bad_outside,
	  offsetof(struct pmd_qstats, tx_drop_bad_chain), VQ_E_ADDR },
	{ "tx: runt, header only", runt_hdr_only,
	  offsetof(struct pmd_qstats, tx_drop_runt), VQ_OK },
	{ "tx: frame of VNET_MAX_FRAME + 1 bytes", too_big,
	  offsetof(struct pmd_qstats, tx_drop_too_big), VQ_OK },
	{ "tx: header asks for a checksum, not negotiated", bad_hdr_csum,
	  offsetof(struct pmd_qstats, tx_drop_bad_hdr), VQ_OK },
};

/* One bad chain, then a good frame in the same burst: the bad one comes back
 * with length 0 and is counted where it belongs; the good one goes through. */
static void
test_bad_tx(void **state)
{
	const struct bad_tx *b = *state;
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	struct pmd_qstats want = {
		.tx_packets = 1, .tx_bytes = 60, .tx_notify = 1,
		.rx_packets = 1, .rx_bytes = 60, .rx_notify = 1,
	};

	rx_post_n(r, 4, 2048);
	b->build(r);
	tx_post(r, 1, 60, NULL);
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 2);
	assert_false(r->g->vq->broken);
	expect_rx(r, 1, 60);
	expect_rx_none(r);
	*(uint64_t *)((char *)&want + b->counter) = 1;
	expect_stats(r, &want);
	for (int e = VQ_E_BROKEN; e < VQ_ERR_COUNT; e++)
		assert_int_equal(r->g->vq->stats.err[e], e == (int)b->err ? 1 : 0);
	assert_int_equal(efd_take(r->tx_err), 0);
	expect_pool_whole(r);
}

/* Counts lines of text holding needle. */
static unsigned
count_lines_with(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A guest can make every packet a bad one: each ring logs its first drop and
 * counts the rest, over several bursts, until the ring restarts. */
static void
test_drops_logged_once_per_ring(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	struct fake_guest *v = &r->rxv;
	int saved = dup(2), mfd = memfd_create("log", 0);
	char text[8192];
	ssize_t got;

	(void)state;
	assert_true(saved >= 0 && mfd >= 0);
	fflush(stderr);
	assert_int_equal(dup2(mfd, 2), 2);
	for (int round = 0; round < 3; round++) {
		uint16_t h = (uint16_t)(r->rx_desc++ & (v->qsize - 1));

		bad_zero_len(r);
		bad_hdr_csum(r);
		bad_hdr_gso(r);
		/* RX: a readable buffer is a chain the device cannot write */
		fg_desc(v, h, fg_alloc(r->g, 64, 16), 64, 0, 0);
		fg_avail(v, h);
		tx_post(r, (uint32_t)round, 60, NULL);   /* a frame to receive */
		pmd_poll_qp(&r->q);
	}
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	got = pread(mfd, text, sizeof(text) - 1, 0);
	close(mfd);
	assert_true(got > 0);
	text[got] = '\0';
	assert_int_equal(count_lines_with(text, "queue pair 0 TX: dropped a guest buffer"), 1);
	assert_int_equal(count_lines_with(text, "queue pair 0 RX: dropped a guest buffer"), 1);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_drop_bad_chain), 3);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_drop_bad_hdr), 6);
	assert_int_equal(r->rxv.vq->stats.err[VQ_E_DIRECTION], 3);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_bad_chain), 3);
}

/* --- hostile: RX buffer too small, bad RX chain ----------------------------- */

/* Non-mergeable buffer of 12 + 1514: a 4000-byte frame is dropped and the
 * buffer stays available for the next frame, which lands in it. */
static void
test_rx_too_big_keeps_buffer(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 });
	uint16_t head;

	(void)state;
	head = rx_post(r, 12 + 1514);
	tx_post(r, 0, 4000, NULL);
	tx_post(r, 1, 60, NULL);
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 2);
	expect_rx_none(r);
	assert_int_equal(r->rxv.vq->last_avail, 0);  /* buffer not consumed */
	assert_int_equal(efd_take(r->rx_call), 0);
	pmd_poll_qp(&r->q);
	assert_int_equal(fg_used_elem(&r->rxv, 0).id, head);
	expect_rx(r, 1, 60);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 2, .tx_bytes = 4060, .tx_notify = 1,
		.rx_packets = 1, .rx_bytes = 60, .rx_notify = 1, .rx_drop_too_big = 1,
	});
	expect_pool_whole(r);
}

/* Mergeable: a readable (bad) chain between the two buffers a 4000-byte
 * frame needs drops the frame; both of its buffers go back empty, and the
 * next frame uses fresh ones. */
static void
test_rx_bad_chain_mid_packet(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	struct fake_guest *v = &r->rxv;
	uint16_t first, bad;
	uint64_t gpa;

	(void)state;
	first = rx_post(r, 2048);
	bad = (uint16_t)(r->rx_desc++ & (v->qsize - 1));
	gpa = fg_alloc(r->g, 2048, 16);
	fg_desc(v, bad, gpa, 2048, 0, 0);            /* readable on an RX ring */
	fg_avail(v, bad);
	tx_post(r, 0, 4000, NULL);
	pmd_poll_qp(&r->q);
	assert_int_equal(fg_used_idx(v), 2);
	assert_int_equal(fg_used_elem(v, 0).id, first);
	assert_int_equal(fg_used_elem(v, 0).len, 0);
	assert_int_equal(fg_used_elem(v, 1).id, bad);
	assert_int_equal(fg_used_elem(v, 1).len, 0);
	assert_false(v->vq->broken);
	assert_int_equal(v->vq->stats.err[VQ_E_DIRECTION], 1);
	r->rx_pending[first] = r->rx_pending[bad] = false;
	r->rx_seen = 2;

	rx_post_n(r, 2, 2048);
	tx_post(r, 1, 4000, NULL);
	pmd_poll_qp(&r->q);
	assert_int_equal(expect_rx(r, 1, 4000), 2);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 2, .tx_bytes = 8000, .tx_notify = 2,
		.rx_packets = 1, .rx_bytes = 4000, .rx_notify = 2, .rx_drop_bad_chain = 1,
		.rx_bad_chain = 1,
	});
	expect_pool_whole(r);
}

/* --- hostile: ring violations ---------------------------------------------- */

static void
violate_avail_jump(struct fake_guest *g)
{
	fg_set_avail_idx(g, (uint16_t)(fg_avail_idx(g) + g->qsize + 1));
}

static void
violate_head_range(struct fake_guest *g)
{
	fg_avail(g, (uint16_t)(g->qsize + 3));
}

struct violation {
	const char *name;
	void (*build)(struct fake_guest *g);
	enum vq_err err;
};

static const struct violation tx_violations[] = {
	{ "tx ring: avail idx jump", violate_avail_jump, VQ_E_AVAIL_JUMP },
};

/* A TX ring violation breaks the TX queue for good, signals its err eventfd
 * once however often it is polled, and leaves RX working: frames that reach
 * the port another way still arrive. */
static void
test_tx_violation(void **state)
{
	const struct violation *v = *state;
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	struct rte_mbuf *m[2];

	rx_post_n(r, 8, 2048);
	tx_post_n(r, 0, 2, 60);
	pmd_poll_qp(&r->q);
	expect_rx(r, 0, 60);
	expect_rx(r, 1, 60);
	v->build(r->g);
	tx_post(r, 2, 60, NULL);                     /* behind the violation */
	poll_n(r, 5);
	assert_true(r->g->vq->broken);
	assert_int_equal(r->g->vq->stats.err[v->err], 1);
	assert_int_equal(fg_used_idx(r->g), 2);
	assert_int_equal(efd_take(r->tx_err), 1);
	poll_n(r, 3);
	assert_int_equal(efd_take(r->tx_err), 0);
	assert_int_equal(efd_take(r->rx_err), 0);

	m[0] = mbuf_frame(10, 60);
	m[1] = mbuf_frame(11, 1514);
	assert_int_equal(port->ops->tx(port, 0, m, 2), 2);
	poll_n(r, 2);
	assert_false(r->rxv.vq->broken);
	expect_rx(r, 10, 60);
	expect_rx(r, 11, 1514);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 2, .tx_bytes = 120, .tx_notify = 1,
		.rx_packets = 4, .rx_bytes = 120 + 60 + 1514, .rx_notify = 2,
	});
	assert_int_equal(efd_take(r->tx_err), 0);
	assert_int_equal(efd_take(r->rx_err), 0);
	expect_pool_whole(r);
}

/* --- guest to guest in one copy (device: ports, pmd_qp.peer) ---------------- */

/* Makes r its own peer, as a device wired to another on this thread: its
 * TX frames go straight into its RX ring when they can (not reflected),
 * else through the loopback and the steering inbox (reflected). reader:
 * whether the pair that reads the port queue is on this thread too. */
static void
rig_direct(struct rig *r, bool reader)
{
	static const struct pmd_qp *peers[1];

	peers[0] = reader ? &r->q : NULL;
	r->q.steer = &one_q.s;
	r->q.peer = peers;
	r->q.peer_nq = 1;
}

/* Guest to guest in order: frames go straight in while the receiving ring
 * has room (as sent); the first that finds none takes the port path with
 * the rest of its burst (reflected by the loopback); while frames wait
 * there, new ones follow them instead of overtaking; once nothing waits,
 * frames go straight in again. With the pair that reads the port queue on
 * another thread, nothing goes straight in. */
static void
test_direct_order(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	rig_direct(r, true);
	rx_post_n(r, 3, 2048);
	tx_post_n(r, 0, 5, 1000);
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 5);
	for (uint32_t id = 0; id < 3; id++)
		expect_rx_frame(r, id, 1000, false);
	expect_rx_none(r);                   /* 3 and 4 wait for buffers */
	assert_int_equal(efd_take(r->rx_call), 1);
	tx_post(r, 5, 1000, NULL);
	rx_post_n(r, 4, 2048);
	pmd_poll_qp(&r->q);
	for (uint32_t id = 3; id < 6; id++)
		expect_rx_frame(r, id, 1000, true);
	tx_post(r, 6, 1000, NULL);
	pmd_poll_qp(&r->q);
	expect_rx_frame(r, 6, 1000, false);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 7, .tx_bytes = 7000, .tx_direct = 4, .tx_notify = ANY,
		.rx_packets = 7, .rx_bytes = 7000, .rx_notify = ANY, .rx_wait_no_buf = ANY,
	});

	rig_direct(r, false);
	rx_post(r, 2048);
	tx_post(r, 7, 1000, NULL);
	pmd_poll_qp(&r->q);
	expect_rx_frame(r, 7, 1000, true);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_direct), 4);
	expect_pool_whole(r);
}

/* --- unit: a port that carries offloads (device:) --------------------------- */

enum carried_want { WHOLE, CUT, PARTIAL, FILLED };

struct carried_row {
	const char *name;
	uint64_t rx_features;            /* the receiving side's, beyond CSUM, TSO, HECN */
	uint32_t rx_buf;
	unsigned n_rx_bufs, frames;      /* frames: sent in one burst */
	int ip;
	uint32_t payload;
	uint16_t mss;                    /* 0: NEEDS_CSUM without TSO */
	uint8_t tcp_flags;
	enum carried_want want;
};

static const struct carried_row carried_rows[] = {
	{ "carried: TSO4 64 KiB whole to GUEST_TSO4, mergeable", MRG | GCSUM | GTSO, 2048, 64, 1,
	  4, 65000, 1448, 0x18, WHOLE },
	{ "carried: TSO6 whole to GUEST_TSO6, big buffers", GCSUM | GTSO, 65562, 4, 1,
	  6, 30000, 1428, 0x18, WHOLE },
	{ "carried: TSO4 with CWR whole to GUEST_ECN", MRG | GCSUM | GTSO | GECN, 2048, 64, 1,
	  4, 20000, 1448, 0x98, WHOLE },
	{ "carried: TSO4 with CWR, no GUEST_ECN: cut", MRG | GCSUM | GTSO, 2048, 64, 1,
	  4, 20000, 1448, 0x98, CUT },
	{ "carried: TSO4, no GUEST_TSO: cut", MRG | GCSUM, 2048, 64, 1, 4, 65000, 1448, 0x18, CUT },
	{ "carried: TSO6, no GUEST_CSUM: cut", MRG, 2048, 64, 1, 6, 30000, 1428, 0x18, CUT },
	{ "carried: TSO4, guest buffers too small: cut", GCSUM | GTSO, 2048, 64, 1,
	  4, 20000, 1448, 0x18, CUT },
	{ "carried: three 64-segment frames cut in one burst", MRG, 2048, 200, 3,
	  4, 65000, 1024, 0x10, CUT },
	{ "carried: checksum to GUEST_CSUM as NEEDS_CSUM", MRG | GCSUM, 2048, 8, 2,
	  4, 1000, 0, 0x18, PARTIAL },
	{ "carried: checksum, no GUEST_CSUM: filled", MRG, 2048, 8, 2, 6, 1000, 0, 0x18, FILLED },
};

/* Completes a NEEDS_CSUM frame as the guest does: the sum from csum_start
 * plus the seed in the field. */
static void
csum_complete(uint8_t *f, size_t len, uint16_t start, uint16_t offset)
{
	uint32_t sum = rte_raw_cksum(f + start, len - start);
	uint16_t c;

	sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	memcpy(f + start + offset, &c, sizeof(c));
}

/* A port that carries offloads (device:) takes a guest's TSO frames and
 * partial checksums as they were sent: a receiving guest that negotiated
 * them gets them so (64 KiB frames whole, the net header saying what is
 * left, the seed still in the checksum field), and one that did not gets
 * them finished on the way in (cut into segments, or the checksum filled
 * in), each a segment a receiver accepts with the stream's bytes. The
 * loopback plays the wire, with carries_offloads set. */
static void
carried_run(const struct carried_row *w, bool direct)
{
	struct rig *r = rig_new(&(struct rig_opts){
		.features = V1 | CSUM | TSO | HECN | w->rx_features, .rx_qsize = 256 });
	const struct tcp_frame_opts o = { .ip = w->ip, .payload = w->payload, .seq = 1000,
	                                  .flags = w->tcp_flags, .ip_id = 7 };
	uint16_t l3, l4, l4_len;
	size_t len = tcp_frame(want_buf, sizeof(want_buf), &o, &l3, &l4, &l4_len);
	const uint8_t gso = (uint8_t)(w->mss == 0 ? VIRTIO_NET_HDR_GSO_NONE
	                              : (w->ip == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
	                                            : VIRTIO_NET_HDR_GSO_TCPV6) |
	                                (w->tcp_flags & 0x80 ? VIRTIO_NET_HDR_GSO_ECN : 0));
	const uint16_t hdrs = w->mss ? (uint16_t)(l4 + l4_len) : 0;
	const uint8_t h[10] = { VIRTIO_NET_HDR_F_NEEDS_CSUM, gso, (uint8_t)hdrs,
	                        (uint8_t)(hdrs >> 8), (uint8_t)w->mss, (uint8_t)(w->mss >> 8),
	                        (uint8_t)l4, 0, 16, 0 };
	uint32_t per = w->want == CUT ? (w->payload + w->mss - 1) / w->mss : 1, delivered = 0;

	port->carries_offloads = true;
	if (direct)
		rig_direct(r, true);
	rx_post_n(r, w->n_rx_bufs, w->rx_buf);
	for (unsigned k = 0; k < w->frames; k++) {
		uint64_t gpa = le64toh(r->g->desc[tx_post(r, k, (uint32_t)len, NULL)].addr);

		assert_int_equal(fg_write(r->g, gpa, h, sizeof(h)), 0);
		assert_int_equal(fg_write(r->g, gpa + r->hdr_len, want_buf, len), 0);
	}
	poll_n(r, 4 + w->frames * per / PMD_BURST);
	expect_tx_used(r, 0, w->frames);
	for (unsigned k = 0; k < w->frames; k++) {
		uint32_t got = 0;

		for (uint32_t i = 0; i < per; i++) {
			long flen;
			size_t pl, plen;
			const char *why;

			r->rx_hdr_any = true;
			flen = rx_take(r, frame_buf, sizeof(frame_buf), NULL);
			r->rx_hdr_any = false;
			if (flen <= 0)
				fail_msg("frame %u, piece %u: not delivered", k, i);
			if (w->want == WHOLE || w->want == PARTIAL) {
				/* As sent, behind a header that says what is left. */
				assert_int_equal((size_t)flen, len);
				assert_memory_equal(frame_buf + 12, want_buf + 12, len - 12);
				assert_memory_equal(r->rx_hdr, h, sizeof(h));
				csum_complete(frame_buf, len, l4, 16);
			} else {
				for (unsigned b = 0; b < 10; b++)
					assert_int_equal(r->rx_hdr[b], 0);
			}
			why = tcp_frame_check(frame_buf, (size_t)flen, l3, NULL, NULL, &pl, &plen);
			if (why != NULL)
				fail_msg("frame %u, piece %u: %s", k, i, why);
			assert_memory_equal(frame_buf + pl, want_buf + l4 + l4_len + got, plen);
			got += (uint32_t)plen;
			delivered++;
		}
		assert_int_equal(got, w->payload);
	}
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = w->frames, .tx_bytes = w->frames * len, .tx_notify = ANY,
		.tx_tso_whole = w->mss ? w->frames : 0,
		/* What the guest can take as sent goes straight in; the rest
		 * is finished on the port path. */
		.tx_direct = direct && (w->want == WHOLE || w->want == PARTIAL) ? w->frames : 0,
		.rx_packets = delivered, .rx_bytes = ANY, .rx_notify = ANY,
		.rx_gso_frames = w->want == WHOLE ? w->frames : 0,
		.rx_csum_partial = w->want == PARTIAL ? w->frames : 0,
		.rx_tso_frames = w->want == CUT ? w->frames : 0,
		.rx_tso_segments = w->want == CUT ? delivered : 0,
		.rx_csum_sw = w->want == FILLED ? w->frames : 0,
	});
	expect_pool_whole(r);
}

static void
test_carried(void **state)
{
	carried_run(*state, false);
}

/* The same frames between two guests on one thread: straight from one
 * guest's TX chain into the other's RX ring when it can take them as sent
 * (header carried over), else on the port path as above. */
static void
test_carried_direct(void **state)
{
	carried_run(*state, true);
}

/* A partial checksum that DPDK's offload fields cannot say (not at TCP's
 * or UDP's offset) is filled in before a port that carries offloads, and
 * arrives plain. */
static void
test_carried_odd_offset(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | CSUM | GCSUM });
	const uint8_t h[10] = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 0x3c, 0x0f, 98, 0 };
	uint16_t head;
	uint32_t sum;
	uint16_t seed;

	(void)state;
	port->carries_offloads = true;
	rx_post_n(r, 4, 2048);
	head = tx_post(r, 0, 4000, NULL);              /* csum_start 3900, offset 98 */
	assert_int_equal(fg_write(r->g, le64toh(r->g->desc[head].addr), h, sizeof(h)), 0);
	poll_n(r, 3);
	assert_int_equal(rx_take(r, frame_buf, sizeof(frame_buf), NULL), 4000);
	make_reflected(want_buf, 4000, 0);
	memcpy(&seed, want_buf + 3998, sizeof(seed));
	sum = (uint32_t)rte_raw_cksum(frame_buf + 3900, 100) + seed;
	sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_csum_sw), 1);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_csum_partial), 0);
	expect_pool_whole(r);
}

/* --- unit: checksum offloads and the MTU ------------------------------------ */

/* CSUM negotiated: a frame whose header asks for its checksum (NEEDS_CSUM)
 * leaves with it filled in: the one's complement sum from csum_start to the
 * frame's end, plus the seed the guest left in the field (the pseudo
 * header's sum), is 0xffff, as a receiver checks; the field may be the
 * frame's last two bytes or straddle two mbuf segments of a large frame.
 * Every other byte arrives as sent. Counted in tx_csum_sw. */
static void
test_tx_csum_filled(void **state)
{
	static const struct { uint32_t len; uint16_t start, offset; } rows[] = {
		{ 60, 34, 16 },              /* TCP over IPv4 */
		{ 1514, 54, 6 },             /* UDP over IPv6 */
		{ 4000, 3900, 98 },          /* the frame's last two bytes */
		{ 9000, 2041, 6 },           /* bytes 2047 and 2048: two segments */
	};
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | CSUM });

	(void)state;
	rx_post_n(r, 16, 2048);
	for (uint32_t k = 0; k < ARRAY_SIZE(rows); k++) {
		uint16_t head = tx_post(r, k, rows[k].len, NULL);
		const uint8_t h[10] = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0,
		                        (uint8_t)rows[k].start, (uint8_t)(rows[k].start >> 8),
		                        (uint8_t)rows[k].offset, (uint8_t)(rows[k].offset >> 8) };

		assert_int_equal(fg_write(r->g, le64toh(r->g->desc[head].addr), h, sizeof(h)), 0);
	}
	poll_n(r, 3);
	expect_tx_used(r, 0, ARRAY_SIZE(rows));
	for (uint32_t k = 0; k < ARRAY_SIZE(rows); k++) {
		uint32_t field = (uint32_t)rows[k].start + rows[k].offset, sum;
		uint16_t seed;

		assert_int_equal(rx_take(r, frame_buf, sizeof(frame_buf), NULL), rows[k].len);
		make_reflected(want_buf, rows[k].len, k);
		assert_memory_equal(frame_buf, want_buf, field);
		assert_memory_equal(frame_buf + field + 2, want_buf + field + 2,
		                    rows[k].len - field - 2);
		/* The field held the guest's seed (for TCP and UDP, the pseudo
		 * header's sum), which a receiver adds back in. */
		memcpy(&seed, want_buf + field, sizeof(seed));
		sum = (uint32_t)rte_raw_cksum(frame_buf + rows[k].start,
		                              rows[k].len - rows[k].start) + seed;
		sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff)
			fail_msg("frame %u (%u bytes, csum_start %u): checksum does not verify", k,
			         rows[k].len, rows[k].start);
	}
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_csum_sw), ARRAY_SIZE(rows));
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_packets), ARRAY_SIZE(rows));
	expect_pool_whole(r);
}

/* Posts a guest TSO frame (tcp_frame() of o, behind a net header asking
 * NEEDS_CSUM at its TCP header and TCPV4/TCPV6 segmentation at mss) as
 * frame id; its length, and the header offsets in *l3, *l4, *l4_len. */
static size_t
tso_post(struct rig *r, uint32_t id, const struct tcp_frame_opts *o, uint16_t mss,
         uint16_t *l3, uint16_t *l4, uint16_t *l4_len)
{
	size_t len = tcp_frame(want_buf, sizeof(want_buf), o, l3, l4, l4_len);
	uint64_t gpa = le64toh(r->g->desc[tx_post(r, id, (uint32_t)len, NULL)].addr);
	const uint8_t h[10] = { VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                        o->ip == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
	                        (uint8_t)(*l4 + *l4_len), 0, (uint8_t)mss, (uint8_t)(mss >> 8),
	                        (uint8_t)*l4, 0, 16, 0 };

	assert_int_equal(fg_write(r->g, gpa, h, sizeof(h)), 0);
	assert_int_equal(fg_write(r->g, gpa + r->hdr_len, want_buf, len), 0);
	return len;
}

/* HOST_TSO4/6: a 64 KiB TCP frame over IPv4 and a 30 KB one over IPv6, and
 * TSO frames small enough for one mbuf, leave as segments of gso_size that a
 * receiver accepts (the loopback hands them back to the guest), counted as
 * TSO frames and segments. */
static void
test_tx_tso_cut(void **state)
{
	static const struct { int ip; uint32_t payload; uint16_t mss; } rows[] = {
		{ 4, 65000, 1448 }, { 6, 30000, 1428 },
		{ 4, 1449, 1448 },           /* fits one mbuf: still cut */
		{ 6, 1200, 536 },            /* a small MSS, one mbuf */
	};
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | CSUM | TSO });
	uint64_t segs = 0;

	(void)state;
	rx_post_n(r, 96, 2048);
	for (uint32_t k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct tcp_frame_opts o = { .ip = rows[k].ip, .payload = rows[k].payload,
		                                  .seq = 1000, .flags = 0x18 };
		uint16_t l3, l4, l4_len;
		uint32_t n = (rows[k].payload + rows[k].mss - 1) / rows[k].mss, got = 0;

		tso_post(r, k, &o, rows[k].mss, &l3, &l4, &l4_len);
		poll_n(r, 4);
		for (uint32_t i = 0; i < n; i++) {
			long flen = rx_take(r, frame_buf, sizeof(frame_buf), NULL);
			size_t pl, plen;
			const char *why;

			assert_true(flen > 0);
			why = tcp_frame_check(frame_buf, (size_t)flen, l3, NULL, NULL, &pl, &plen);
			if (why != NULL)
				fail_msg("frame %u, segment %u: %s", k, i, why);
			assert_memory_equal(frame_buf + pl, want_buf + l4 + l4_len + got, plen);
			got += (uint32_t)plen;
		}
		assert_int_equal(got, rows[k].payload);
		expect_rx_none(r);
		segs += n;
	}
	expect_tx_used(r, 0, ARRAY_SIZE(rows));
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_tso_frames), ARRAY_SIZE(rows));
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_tso_segments), segs);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_packets), segs);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_packets), segs);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_drop_port), 0);
	expect_pool_whole(r);
}

/* A port that cuts TSO frames itself (an ethdev with TSO) gets a guest's
 * TSO frames whole, with DPDK's offload fields from the offsets the gate
 * checked: TCP_SEG, IPV4 with IP_CKSUM or IPV6, l2/l3/l4 lengths and the
 * MSS; vhostmq cuts none (tx_tso_whole, not tx_tso_frames). */
static void
test_tx_tso_to_port(void **state)
{
	static const struct { int ip; bool vlan; uint32_t payload; uint16_t mss; } rows[] = {
		{ 4, false, 65000, 1448 }, { 6, false, 30000, 1428 }, { 4, true, 5000, 1000 },
	};
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | CSUM | TSO,
	                                            .spy = true });

	(void)state;
	spy.port.takes_tso = true;
	for (uint32_t k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct tcp_frame_opts o = { .ip = rows[k].ip, .vlan = rows[k].vlan,
		                                  .payload = rows[k].payload, .seq = 1, .flags = 0x18 };
		uint16_t l3, l4, l4_len;
		size_t len = tso_post(r, k, &o, rows[k].mss, &l3, &l4, &l4_len);
		uint64_t want = RTE_MBUF_F_TX_TCP_SEG |
		                (rows[k].ip == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM
		                                 : RTE_MBUF_F_TX_IPV6);

		poll_n(r, 1);
		assert_int_equal(spy.n, k + 1);
		assert_int_equal(spy.pkt_len[k], len);
		assert_int_equal(spy.ol_flags[k], want);
		assert_int_equal(spy.tx_offload[k],
		                 rte_mbuf_tx_offload(l3, l4 - l3, l4_len, rows[k].mss, 0, 0, 0));
	}
	expect_tx_used(r, 0, ARRAY_SIZE(rows));
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_tso_whole), ARRAY_SIZE(rows));
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_tso_frames), 0);
	assert_int_equal(pmd_stat_read(&r->st.stats.tx_packets), ARRAY_SIZE(rows));
	expect_pool_whole(r);
}

/* Frames above the MTU (plus Ethernet header and a VLAN tag) are dropped
 * and counted, the chain returned; the largest allowed one goes through. */
static void
test_tx_mtu(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG, .mtu = 1500 });

	(void)state;
	rx_post_n(r, 4, 2048);
	tx_post(r, 1, 1519, NULL);
	tx_post(r, 2, 1518, NULL);
	poll_n(r, 2);
	expect_tx_used(r, 0, 2);
	expect_rx(r, 2, 1518);
	expect_rx_none(r);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 1, .tx_bytes = 1518, .tx_drop_too_big = 1, .tx_notify = 1,
		.rx_packets = 1, .rx_bytes = 1518, .rx_notify = 1,
	});
	expect_pool_whole(r);
}

/* A checksum the port verified reaches a GUEST_CSUM guest as DATA_VALID
 * (counted in rx_csum_valid); a bad or unknown one reaches it with no flag,
 * and a guest without GUEST_CSUM never sees the flag. */
static void
test_rx_data_valid(void **state)
{
	static const uint64_t flags[3] = { RTE_MBUF_F_RX_L4_CKSUM_GOOD,
	                                   RTE_MBUF_F_RX_L4_CKSUM_BAD,
	                                   RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN };

	(void)state;
	for (int guest_csum = 0; guest_csum < 2; guest_csum++) {
		struct rig *r = rig_new(&(struct rig_opts){
			.features = V1 | MRG | (guest_csum ? GCSUM : 0) });
		struct rte_mbuf *m[3];

		rx_post_n(r, 4, 2048);
		for (int k = 0; k < 3; k++) {
			m[k] = mbuf_frame((uint32_t)k, 60);
			m[k]->ol_flags = flags[k];
		}
		assert_int_equal(port->ops->tx(port, 0, m, 3), 3);
		poll_n(r, 2);
		for (int k = 0; k < 3; k++) {
			r->rx_flags = guest_csum && k == 0 ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
			expect_rx(r, (uint32_t)k, 60);
		}
		expect_rx_none(r);
		assert_int_equal(pmd_stat_read(&r->st.stats.rx_csum_valid), guest_csum ? 1 : 0);
		expect_pool_whole(r);
		rig_teardown(NULL);
	}
}

/* --- GRO: TCP segments from the port, merged for a GUEST_TSO4/6 guest ---- */

#define GRO_MSS 1428u                 /* an IPv6 segment of it fits 1514 */

static uint8_t stream_buf[MAX_FRAME_BUF];     /* one flow's frame, uncut */
static uint16_t stream_hdrs;                  /* its Ethernet + IP + TCP */
static uint16_t stream_l4;                    /* where its TCP header is */
static int stream_ip = 4;                     /* its IP version */

/* The whole flow as one frame from tcp_frame(): payload bytes depend on
 * their stream offset, TCP flags ACK, source port sport, IP version
 * stream_ip. */
static void
gro_stream(uint32_t payload, uint16_t sport)
{
	const struct tcp_frame_opts o = { .ip = stream_ip, .payload = payload, .seq = 1000,
	                                  .flags = 0x10, .ip_id = 7 };
	uint16_t l4, l4_len;

	assert_true(tcp_frame(stream_buf, sizeof(stream_buf), &o, NULL, &l4, &l4_len) > 0);
	stream_buf[l4] = (uint8_t)(sport >> 8);
	stream_buf[l4 + 1] = (uint8_t)sport;
	stream_hdrs = (uint16_t)(l4 + l4_len);
	stream_l4 = l4;
}

/* Segment k of the stream (payload [k*GRO_MSS, +GRO_MSS)) as a port hands
 * it over: its own lengths, sequence number, IP id and flags, both
 * checksums complete, the TCP one marked verified (good = false: unknown). */
static struct rte_mbuf *
gro_seg(uint32_t k, uint8_t flags, bool good)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t len = stream_hdrs + GRO_MSS;
	uint8_t *p;
	struct rte_tcp_hdr *tcp;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, stream_buf, stream_hdrs);
	memcpy(p + stream_hdrs, stream_buf + stream_hdrs + k * GRO_MSS, GRO_MSS);
	tcp = (struct rte_tcp_hdr *)(p + stream_l4);
	tcp->sent_seq = rte_cpu_to_be_32(1000 + k * GRO_MSS);
	tcp->tcp_flags = flags;
	tcp->cksum = 0;
	if (stream_ip == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(len - 14));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(7 + k));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + 14);

		ip->payload_len = rte_cpu_to_be_16((uint16_t)(len - 14 - 40));
		tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	}
	m->ol_flags = good ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	return m;
}

/* The next frame on the guest RX ring, checked as a guest takes it: a GSO
 * header (NEEDS_CSUM from the TCP header, TCPV4, gso_size GRO_MSS, hdr_len
 * the headers) if gso, else none; for GSO, the checksum completed from
 * csum_start as the guest would; then IPv4 and TCP checked as a receiver
 * does, and the payload the stream's bytes from its sequence number. Returns
 * the payload's stream offset; *segs gets its length in segments. */
static uint32_t
gro_expect(struct rig *r, uint16_t sport, bool gso, uint32_t *segs)
{
	long len;
	uint32_t seq, off;
	size_t pl, plen;
	uint8_t flags;
	const char *why;

	r->rx_hdr_any = true;
	len = rx_take(r, frame_buf, sizeof(frame_buf), NULL);
	r->rx_hdr_any = false;
	assert_true(len > (long)stream_hdrs);
	if (gso) {
		uint32_t sum;
		uint16_t c;

		assert_int_equal(r->rx_hdr[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(r->rx_hdr[1], stream_ip == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
		                                              : VIRTIO_NET_HDR_GSO_TCPV6);
		assert_int_equal(r->rx_hdr[2] | r->rx_hdr[3] << 8, stream_hdrs);
		assert_int_equal(r->rx_hdr[4] | r->rx_hdr[5] << 8, GRO_MSS);
		assert_int_equal(r->rx_hdr[6] | r->rx_hdr[7] << 8, stream_l4);
		assert_int_equal(r->rx_hdr[8] | r->rx_hdr[9] << 8, 16);
		/* CHECKSUM_PARTIAL: the field holds the pseudo header's sum. */
		sum = rte_raw_cksum(frame_buf + stream_l4, (size_t)len - stream_l4);
		sum = (sum & 0xffff) + (sum >> 16);
		c = (uint16_t)~sum;
		memcpy(frame_buf + stream_l4 + 16, &c, 2);
	} else {
		for (unsigned b = 1; b < 10; b++)
			assert_int_equal(r->rx_hdr[b], 0);
	}
	why = tcp_frame_check(frame_buf, (size_t)len, 14, &seq, &flags, &pl, &plen);
	if (why != NULL)
		fail_msg("frame of %ld bytes: %s", len, why);
	assert_int_equal(frame_buf[stream_l4] << 8 | frame_buf[stream_l4 + 1], sport);
	off = seq - 1000;
	assert_int_equal(off % GRO_MSS, 0);
	assert_int_equal(plen % GRO_MSS, 0);
	assert_memory_equal(frame_buf + pl, stream_buf + stream_hdrs + off, plen);
	*segs = (uint32_t)(plen / GRO_MSS);
	return off / GRO_MSS;
}

struct gro_variant {
	const char *name;
	uint64_t features;
	uint32_t rx_buf;
	unsigned n_rx_bufs;
	bool merges;                         /* one large frame expected */
	int ip;
};

#define GTSO4 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4)
#define GTSO6 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6)

static const struct gro_variant gro_variants[] = {
	{ "gro: GUEST_TSO4, mergeable", V1 | MRG | GCSUM | GTSO, 2048, 64, true, 4 },
	{ "gro: GUEST_TSO4, big buffers", V1 | GCSUM | GTSO, 65562, 4, true, 4 },
	{ "gro: GUEST_TSO4, small buffers: segments", V1 | GCSUM | GTSO, 2048, 32, false, 4 },
	{ "gro: no GUEST_TSO, mergeable", V1 | MRG | GCSUM, 2048, 64, false, 4 },
	{ "gro: no GUEST_TSO, big buffers", V1 | GCSUM, 65562, 32, false, 4 },
	{ "gro: GUEST_TSO without GUEST_CSUM", V1 | MRG | GTSO, 2048, 64, false, 4 },
	{ "gro: IPv6, GUEST_TSO6, mergeable", V1 | MRG | GCSUM | GTSO6, 2048, 64, true, 6 },
	{ "gro: IPv6, GUEST_TSO6, big buffers", V1 | GCSUM | GTSO6, 65562, 4, true, 6 },
	{ "gro: IPv6, GUEST_TSO6, small buffers: segments", V1 | GCSUM | GTSO6, 2048, 32,
	  false, 6 },
	{ "gro: IPv6, GUEST_TSO4 only: segments", V1 | MRG | GCSUM | GTSO4, 2048, 64, false, 6 },
	{ "gro: IPv4, GUEST_TSO6 only: segments", V1 | MRG | GCSUM | GTSO6, 2048, 64, false, 4 },
};

/* 20 consecutive segments of one flow, verified by the port, reach a
 * GUEST_TSO4 guest as one frame (both buffer shapes) that is the flow's
 * payload in one piece; a guest without GUEST_TSO, or whose buffers cannot
 * hold the frame, gets the 20 segments unchanged. */
static void
test_gro(void **state)
{
	const struct gro_variant *v = *state;
	struct rig *r = rig_new(&(struct rig_opts){ .features = v->features });
	struct rte_mbuf *m[20];
	uint32_t next = 0, segs, frames = 0;

	stream_ip = v->ip;
	rx_post_n(r, v->n_rx_bufs, v->rx_buf);
	gro_stream(20 * GRO_MSS, 40000);
	for (uint32_t k = 0; k < 20; k++)
		m[k] = gro_seg(k, 0x10, true);
	assert_int_equal(port->ops->tx(port, 0, m, 20), 20);
	poll_n(r, 3);
	while (next < 20) {
		assert_int_equal(gro_expect(r, 40000, v->merges, &segs), next);
		next += segs;
		frames++;
	}
	expect_rx_none(r);
	assert_int_equal(frames, v->merges ? 1 : 20);
	expect_stats(r, &(struct pmd_qstats){
		.rx_packets = frames, .rx_bytes = ANY, .rx_notify = ANY,
		.rx_csum_valid = v->merges ? 0 : ANY,
		.rx_gro_frames = v->merges ? 1 : 0, .rx_gro_merged = v->merges ? 20 : 0,
	});
	expect_pool_whole(r);
}

/* What must not merge: segments out of order merge only with their true
 * neighbours, another flow's only with its own, a PSH segment (rte_gro
 * leaves it) stays between the frames before and after it, one the port
 * did not verify goes alone, and every frame the guest gets is a valid TCP
 * segment carrying the stream's bytes at its sequence number. */
static void
test_gro_not_wrongly(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG | GCSUM | GTSO });
	/* stream offsets (in segments) of flow A (sport 40000) and B (40001) */
	static const struct { uint16_t sport; uint32_t k; uint8_t flags; bool good; } in[] = {
		{ 40000, 0, 0x10, true }, { 40000, 1, 0x10, true }, { 40001, 0, 0x10, true },
		{ 40000, 3, 0x10, true }, { 40001, 1, 0x10, true }, { 40000, 2, 0x10, true },
		{ 40000, 4, 0x18, true },                        /* PSH: a run ends */
		{ 40000, 5, 0x10, true }, { 40000, 6, 0x10, false },   /* not verified */
		{ 40000, 7, 0x10, true }, { 40000, 8, 0x10, true },
	};
	struct rte_mbuf *m[ARRAY_SIZE(in)];
	bool seen_a[9] = { false }, seen_b[2] = { false };
	uint32_t frames = 0, merged = 0, gro_frames = 0, last_a = 0;

	(void)state;
	stream_ip = 4;
	rx_post_n(r, 64, 2048);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		gro_stream(9 * GRO_MSS, in[i].sport);
		m[i] = gro_seg(in[i].k, in[i].flags, in[i].good);
	}
	assert_int_equal(port->ops->tx(port, 0, m, ARRAY_SIZE(in)), ARRAY_SIZE(in));
	poll_n(r, 3);
	for (;;) {
		uint16_t used = fg_used_idx(&r->rxv), sport;
		uint32_t k, segs;
		bool gso;

		if (used == r->rx_seen)
			break;
		/* Peek at the header to know which flow and shape to expect. */
		{
			struct vring_used_elem u = fg_used_elem(&r->rxv, r->rx_seen);
			uint8_t h[12 + 36];

			assert_int_equal(fg_read(&r->rxv, r->rx_gpa[u.id], h, sizeof(h)), 0);
			gso = h[1] != 0;
			sport = (uint16_t)(h[12 + 34] << 8 | h[12 + 35]);
		}
		gro_stream(9 * GRO_MSS, sport);
		k = gro_expect(r, sport, gso, &segs);
		frames++;
		if (gso) {
			gro_frames++;
			merged += segs;
			assert_true(segs > 1);
		} else {
			assert_int_equal(segs, 1);
		}
		for (uint32_t s2 = k; s2 < k + segs; s2++) {
			bool *seen = sport == 40000 ? &seen_a[s2] : &seen_b[s2];

			assert_true(sport == 40000 ? s2 < 9 : s2 < 2);
			assert_false(*seen);
			*seen = true;
		}
		/* Flow A never goes backwards across the PSH segment or the
		 * unverified one: what comes after them comes after them. */
		if (sport == 40000) {
			if (k >= 4)
				assert_true(k >= last_a);
			last_a = k + segs;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(seen_a); i++)
		assert_true(seen_a[i]);
	assert_true(seen_b[0] && seen_b[1]);
	/* A0-A2 merge (A3 came before A2 and stays alone: rte_gro does not
	 * join two merged frames), B0-B1 merge; A4 (PSH) and A6 (unverified)
	 * go alone, and so does A5 between them; A7-A8 merge. */
	assert_int_equal(frames, 7);
	assert_int_equal(gro_frames, 3);
	assert_int_equal(merged, 7);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_gro_frames), 3);
	assert_int_equal(pmd_stat_read(&r->st.stats.rx_gro_merged), 7);
	expect_pool_whole(r);
}

/* pmd_gro_candidate() row by row, and pmd_gro_burst() then
 * pmd_gro_unmerge() giving back the segments bit for bit. */
static void
test_gro_helpers(void **state)
{
	enum { OK, PSH, UNVERIFIED, IP_BAD, LEN, CE, VLAN_LIKE } rows[] = {
		OK, PSH, UNVERIFIED, IP_BAD, LEN, CE, VLAN_LIKE,
	};
	struct rte_mbuf *m[3];
	uint8_t copy[3][2048];

	(void)state;
	stream_ip = 4;
	gro_stream(3 * GRO_MSS, 40000);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct rte_mbuf *x = gro_seg(0, rows[i] == PSH ? 0x18 : 0x10, rows[i] != UNVERIFIED);
		uint8_t *p = rte_pktmbuf_mtod(x, uint8_t *);

		if (rows[i] == IP_BAD)
			p[14 + 8] ^= 1;              /* TTL, checksum left stale */
		if (rows[i] == LEN)
			assert_non_null(rte_pktmbuf_append(x, 1));
		if (rows[i] == CE) {
			p[14 + 1] |= 3;
			x->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		}
		if (rows[i] == VLAN_LIKE)
			p[12] = 0x81, p[13] = 0x00;
		assert_int_equal(pmd_gro_candidate(x), rows[i] == OK);
		if (rows[i] == OK) {
			assert_int_equal(x->l2_len, 14);
			assert_int_equal(x->l3_len, 20);
			assert_int_equal(x->l4_len, 20);
		}
		rte_pktmbuf_free(x);
	}
	for (uint32_t k = 0; k < 3; k++) {
		m[k] = gro_seg(2 - k, 0x10, true);       /* in reverse: rte_gro prepends */
		memcpy(copy[2 - k], rte_pktmbuf_mtod(m[k], void *), m[k]->pkt_len);
	}
	assert_int_equal(pmd_gro_burst(m, 3, true, false), 1);
	assert_true(pmd_gro_merged(m[0]));
	assert_int_equal(m[0]->nb_segs, 3);
	assert_int_equal(m[0]->tso_segsz, GRO_MSS);
	assert_int_equal(pmd_gro_unmerge(m[0], m), 3);
	for (uint32_t k = 0; k < 3; k++) {
		assert_int_equal(m[k]->pkt_len, stream_hdrs + GRO_MSS);
		assert_int_equal(m[k]->nb_segs, 1);
		assert_false(pmd_gro_merged(m[k]));
		assert_memory_equal(rte_pktmbuf_mtod(m[k], void *), copy[k], m[k]->pkt_len);
	}
	rte_pktmbuf_free_bulk(m, 3);
	assert_int_equal(rte_mempool_avail_count(pool), pool->size);
}

/* TCP/IPv6 (merged here, not by rte_gro): segments join their flow's frame
 * only in sequence and only with the same headers (another flow label, or
 * TCP options that differ, keep a segment apart), a frame stays where its
 * first segment was, a merged frame comes apart again bit for bit, and
 * IPv4 then IPv6 segments make two runs, each merged. */
static void
test_gro6_merge(void **state)
{
	struct rte_mbuf *m[6];
	uint8_t copy[3][2048];

	(void)state;
	stream_ip = 6;
	gro_stream(6 * GRO_MSS, 40000);
	m[0] = gro_seg(0, 0x10, true);
	m[1] = gro_seg(1, 0x10, true);
	m[2] = gro_seg(3, 0x10, true);           /* out of order */
	m[3] = gro_seg(2, 0x10, true);
	m[4] = gro_seg(4, 0x10, true);
	m[5] = gro_seg(5, 0x10, true);
	/* m[4]: another flow label; m[5]: another byte of the ack number */
	rte_pktmbuf_mtod(m[4], uint8_t *)[14 + 3] ^= 1;
	rte_pktmbuf_mtod(m[5], uint8_t *)[stream_l4 + 11] ^= 1;
	for (int k = 4; k < 6; k++) {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m[k], struct rte_ipv6_hdr *, 14);
		struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m[k], struct rte_tcp_hdr *,
		                                                  stream_l4);

		tcp->cksum = 0;
		tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	}
	for (int k = 0; k < 6; k++)
		assert_true(pmd_gro_candidate(m[k]));
	assert_int_equal(pmd_gro_burst(m, 6, false, true), 4);
	assert_true(pmd_gro_merged(m[0]) && pmd_gro_is_v6(m[0]));
	assert_int_equal(m[0]->nb_segs, 3);      /* segments 0, 1 and 2 */
	assert_int_equal(m[0]->pkt_len, stream_hdrs + 3 * GRO_MSS);
	assert_int_equal(rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(
		m[0], struct rte_ipv6_hdr *, 14)->payload_len), m[0]->pkt_len - 54);
	for (int k = 1; k < 4; k++)
		assert_false(pmd_gro_merged(m[k]));   /* 3, 4 and 5 alone, in order */
	assert_int_equal(rte_be_to_cpu_32(rte_pktmbuf_mtod_offset(
		m[1], struct rte_tcp_hdr *, stream_l4)->sent_seq), 1000 + 3 * GRO_MSS);
	rte_pktmbuf_free_bulk(&m[1], 3);
	/* Not merged for a guest that takes IPv4 only. */
	for (uint32_t k = 0; k < 3; k++) {
		struct rte_mbuf *x[2] = { gro_seg(k, 0x10, true), gro_seg(k + 1, 0x10, true) };

		assert_int_equal(pmd_gro_burst(x, 2, true, false), 2);
		rte_pktmbuf_free_bulk(x, 2);
	}
	/* Three in order merge, and come apart as they came. */
	rte_pktmbuf_free(m[0]);
	for (uint32_t k = 0; k < 3; k++) {
		m[k] = gro_seg(k, 0x10, true);
		memcpy(copy[k], rte_pktmbuf_mtod(m[k], void *), m[k]->pkt_len);
	}
	assert_int_equal(pmd_gro_burst(m, 3, false, true), 1);
	assert_int_equal(pmd_gro_unmerge(m[0], m), 3);
	for (uint32_t k = 0; k < 3; k++) {
		assert_int_equal(m[k]->pkt_len, stream_hdrs + GRO_MSS);
		assert_false(pmd_gro_merged(m[k]));
		assert_memory_equal(rte_pktmbuf_mtod(m[k], void *), copy[k], m[k]->pkt_len);
	}
	rte_pktmbuf_free_bulk(m, 3);
	/* Two IPv4 segments then two IPv6 ones: two runs, both merged. */
	stream_ip = 4;
	gro_stream(2 * GRO_MSS, 40000);
	m[0] = gro_seg(0, 0x10, true);
	m[1] = gro_seg(1, 0x10, true);
	stream_ip = 6;
	gro_stream(2 * GRO_MSS, 40000);
	m[2] = gro_seg(0, 0x10, true);
	m[3] = gro_seg(1, 0x10, true);
	assert_int_equal(pmd_gro_burst(m, 4, true, true), 2);
	assert_true(pmd_gro_merged(m[0]) && !pmd_gro_is_v6(m[0]));
	assert_true(pmd_gro_merged(m[1]) && pmd_gro_is_v6(m[1]));
	rte_pktmbuf_free_bulk(m, 2);
	stream_ip = 4;
	assert_int_equal(rte_mempool_avail_count(pool), pool->size);
}

/* An RX ring violation breaks the RX queue, signals its err eventfd once,
 * and guest TX keeps flowing into the port. */
static void
test_rx_violation(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	rx_post_n(r, 2, 2048);
	tx_post_n(r, 0, 2, 60);
	pmd_poll_qp(&r->q);
	expect_rx(r, 0, 60);
	expect_rx(r, 1, 60);
	violate_avail_jump(&r->rxv);
	tx_post_n(r, 2, 4, 60);
	poll_n(r, 4);
	assert_true(r->rxv.vq->broken);
	assert_int_equal(r->rxv.vq->stats.err[VQ_E_AVAIL_JUMP], 1);
	assert_int_equal(efd_take(r->rx_err), 1);
	poll_n(r, 3);
	assert_int_equal(efd_take(r->rx_err), 0);
	assert_int_equal(efd_take(r->tx_err), 0);
	expect_tx_used(r, 0, 6);
	assert_false(r->g->vq->broken);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 6, .tx_bytes = 360, .tx_notify = 2,
		.rx_packets = 2, .rx_bytes = 120, .rx_notify = 1,
		.rx_drop_broken = ANY, .rx_wait_no_buf = ANY,   /* frames wait in the port */
	});
	expect_pool_whole(r);
}

/* The RX ring breaks between two frames of one burst: the delivered one
 * stays delivered, the one that met the violation is counted as dropped. */
static void
test_rx_violation_mid_burst(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	rx_post(r, 2048);
	violate_head_range(&r->rxv);
	tx_post_n(r, 0, 2, 60);
	pmd_poll_qp(&r->q);
	assert_true(r->rxv.vq->broken);
	expect_rx(r, 0, 60);
	expect_rx_none(r);
	assert_int_equal(efd_take(r->rx_err), 1);
	assert_int_equal(efd_take(r->rx_call), 1);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 2, .tx_bytes = 120, .tx_notify = 1,
		.rx_packets = 1, .rx_bytes = 60, .rx_notify = 1, .rx_drop_broken = 1,
	});
	expect_pool_whole(r);
}

/* --- hostile: mbuf pool exhaustion ----------------------------------------- */

/* --- port queues of the port's own ---------------------------------------- */

/* A port of five RX queues that all read the loopback's one, counting the
 * reads per queue: which port RX queues an entry reads. */
static struct {
	struct pmd_port port;
	unsigned reads[5];
} multi;

static uint16_t
multi_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	(void)p;
	assert_true(q < ARRAY_SIZE(multi.reads));
	multi.reads[q]++;
	return port->ops->rx(port, 0, m, n);
}

static uint16_t
multi_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	(void)p;
	assert_int_equal(q, 0);
	return port->ops->tx(port, 0, m, n);
}

static uint16_t
multi_tx_room(struct pmd_port *p, uint16_t q)
{
	(void)p;
	return port->ops->tx_room(port, q);
}

static const struct pmd_port_ops multi_ops = {
	.rx = multi_rx, .tx = multi_tx, .tx_room = multi_tx_room, .free = spy_free,
};

/* An entry with port RX queues 1 and 3 of five (port_rxq 1, step 2: pair 1
 * of two reading a five-queue port) reads those, once a visit, and no
 * other; what it reads is steered to the guest. */
static void
test_port_rx_queues_read(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });

	(void)state;
	memset(&multi, 0, sizeof(multi));
	multi.port = (struct pmd_port){ .ops = &multi_ops, .kind = "multi", .nrxq = 5,
	                                .ntxq = 1 };
	r->q.port = &multi.port;
	r->q.steer = &one_q.s;
	r->q.port_rxq = 1;
	r->q.port_rxq_step = 2;
	rx_post_n(r, 4, 2048);
	tx_post_n(r, 0, 4, 100);
	pmd_poll_qp(&r->q);
	pmd_poll_qp(&r->q);
	assert_int_equal(multi.reads[0], 0);
	assert_int_equal(multi.reads[1], 2);
	assert_int_equal(multi.reads[2], 0);
	assert_int_equal(multi.reads[3], 2);
	assert_int_equal(multi.reads[4], 0);
	for (uint32_t k = 0; k < 4; k++)
		expect_rx(r, k, 100);
	/* An entry past the port's queues reads none, and sends all the same. */
	r->q.port_rxq = 5;
	tx_post_n(r, 4, 1, 100);
	pmd_poll_qp(&r->q);
	assert_int_equal(multi.reads[1] + multi.reads[3], 4);
	assert_int_equal(r->st.stats.tx_packets, 5);
	r->q.port = port;
	expect_pool_whole(r);
}

/* Holds a shared TX queue's lock for a while, as another thread's send. */
struct lock_holder {
	struct pmd_txq_lock *lock;
	bool taken;                          /* atomic */
};

static void *
hold_lock(void *arg)
{
	struct lock_holder *h = arg;

	rte_spinlock_lock(&h->lock->lock);
	__atomic_store_n(&h->taken, true, __ATOMIC_RELEASE);
	usleep(20000);
	rte_spinlock_unlock(&h->lock->lock);
	return NULL;
}

/* A shared port TX queue: a send that finds it taken counts tx_lock_wait,
 * waits for it and goes out; an uncontended send counts nothing. */
static void
test_tx_shared_queue_lock(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	static struct pmd_txq_lock lock;
	struct lock_holder h = { .lock = &lock, .taken = false };
	pthread_t t;

	(void)state;
	rte_spinlock_init(&lock.lock);
	r->q.txq_lock = &lock;
	rx_post_n(r, 8, 2048);
	tx_post_n(r, 0, 2, 60);
	pmd_poll_qp(&r->q);
	assert_int_equal(r->st.stats.tx_lock_wait, 0);
	assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
	while (!__atomic_load_n(&h.taken, __ATOMIC_ACQUIRE))
		sched_yield();
	tx_post_n(r, 2, 3, 60);
	pmd_poll_qp(&r->q);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r->st.stats.tx_lock_wait, 1);
	assert_int_equal(r->st.stats.tx_packets, 5);
	assert_false(rte_spinlock_is_locked(&lock.lock));
	pmd_poll_qp(&r->q);
	for (uint32_t k = 0; k < 5; k++)
		expect_rx(r, k, 60);
	expect_pool_whole(r);
}

/* 48 mbufs, 9000-byte frames (5 mbufs each): the chain that no longer fits
 * is rewound into the guest's ring (tx_nombuf, nothing dropped), and every
 * frame goes through, in order, once the guest's RX side frees mbufs. */
static void
test_tx_pool_exhausted(void **state)
{
	enum { FRAMES = 40, LEN = 9000 };
	struct rte_mempool *tiny;
	struct rig *r;
	uint32_t got = 0;

	(void)state;
	tiny = rte_pktmbuf_pool_create("pmdt-tiny", TINY_N, 0, 0,
	                               RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(tiny);
	r = rig_new(&(struct rig_opts){ .features = V1, .pool = tiny });
	r->own_pool = tiny;
	tx_post_n(r, 0, FRAMES, LEN);

	/* Visit 1: 32 heads, 16 mbufs left for tails: 4 frames (within the
	 * byte budget); the 5th is rewound. Visit 2: 28 free < 32 wanted: the
	 * bulk allocation fails. */
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 4);
	assert_int_equal(r->g->vq->last_avail, 4);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 4, .tx_bytes = 4 * LEN, .tx_notify = 1, .tx_nombuf = 1,
		.rx_wait_no_buf = ANY,
	});
	pmd_poll_qp(&r->q);
	expect_tx_used(r, 0, 4);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 4, .tx_bytes = 4 * LEN, .tx_notify = 1, .tx_nombuf = 2,
		.rx_wait_no_buf = ANY,
	});
	assert_int_equal(rte_mempool_avail_count(tiny), TINY_N - 4 * 5);

	rx_post_n(r, FRAMES, 12 + LEN);
	for (unsigned visit = 0; got < FRAMES && visit < 64; visit++) {
		pmd_poll_qp(&r->q);
		while (fg_used_idx(&r->rxv) != r->rx_seen)
			expect_rx(r, got++, LEN);
	}
	assert_int_equal(got, FRAMES);
	expect_tx_used(r, 0, FRAMES);
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = FRAMES, .tx_bytes = FRAMES * LEN, .tx_notify = ANY,
		.tx_nombuf = ANY, .rx_packets = FRAMES, .rx_bytes = FRAMES * LEN,
		.rx_notify = ANY, .rx_wait_no_buf = ANY,
	});
	assert_true(pmd_stat_read(&r->st.stats.tx_nombuf) > 2);
	expect_pool_whole(r);
}

/* --- unit: the poll thread ------------------------------------------------- */


/* Cpus_allowed_list of this process's thread named comm, or "" if none. */
static void
thread_cpus(const char *comm, char *out, size_t cap)
{
	int tid = task_by_name(comm);
	char path[64], line[256], cpus[64];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (tid < 0 || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Cpus_allowed_list: %63s", cpus) == 1)
			snprintf(out, cap, "%s", cpus);
	fclose(f);
}

/* Starts a poll thread on the last CPU, lets it wake on the kick fds, and
 * publishes a plan with the rig's queue pair. */
static struct pmd *
start_thread(struct rig *r, bool busy, int tx_kick, int rx_kick)
{
	const struct pmd_params pp = { .core = last_cpu, .busy = busy, .idle_us = 50 };
	struct pmd_plan *plan;
	char why[256] = "";

	cur_pmd = pmd_start(&pp, why, sizeof(why));
	if (cur_pmd == NULL)
		fail_msg("pmd_start: %s", why);
	assert_int_equal(pmd_core(cur_pmd), last_cpu);
	assert_int_equal(pmd_watch_fd(cur_pmd, tx_kick), 0);
	assert_int_equal(pmd_watch_fd(cur_pmd, rx_kick), 0);
	plan = pmd_plan_new(1, 0);
	assert_non_null(plan);
	plan->q[0] = r->q;
	pmd_publish(cur_pmd, plan);
	return cur_pmd;
}

static void
stop_thread(int tx_kick, int rx_kick)
{
	pmd_unwatch_fd(cur_pmd, tx_kick);
	pmd_unwatch_fd(cur_pmd, rx_kick);
	pmd_stop(cur_pmd);
	cur_pmd = NULL;
	close(tx_kick);
	close(rx_kick);
}

/* An adaptive thread (idle_us 50) pinned to the last CPU: idle, it sleeps
 * with guest notifications enabled; a kick brings the frames back within a
 * bounded time; once an empty plan is published (pmd_publish returns after a
 * grace period) it no longer touches the rings. The test thread is not an
 * RCU reader, as vhostmq's control thread is not. */
static void
test_thread_adaptive(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	int tx_kick = efd(), rx_kick = efd();
	struct pmd_qstats before;
	char comm[16], cpus[64], want_cpus[16];
	uint64_t t0;

	(void)state;
	rx_post_n(r, 64, 2048);
	start_thread(r, false, tx_kick, rx_kick);
	snprintf(comm, sizeof(comm), "vhostmq-pmd%u", last_cpu);
	snprintf(want_cpus, sizeof(want_cpus), "%u", last_cpu);
	thread_cpus(comm, cpus, sizeof(cpus));
	assert_string_equal(cpus, want_cpus);

	/* Idle: asleep, having asked the guest for kicks on both rings. */
	usleep(20000);
	assert_true(WAIT_UNTIL(fg_used_flags(r->g) == 0 && fg_used_flags(&r->rxv) == 0,
	                       1000));
	usleep(20000);
	assert_int_equal(fg_used_idx(r->g), 0);

	tx_post_n(r, 0, 8, 1514);
	t0 = now_ms();
	assert_int_equal(eventfd_write(tx_kick, 1), 0);
	if (!WAIT_UNTIL(fg_used_idx(&r->rxv) == 8, 2000))
		fail_msg("after a kick: %u of 8 frames back in %" PRIu64 " ms",
		         fg_used_idx(&r->rxv), now_ms() - t0);
	expect_tx_used(r, 0, 8);
	for (unsigned k = 0; k < 8; k++)
		expect_rx(r, k, 1514);
	/* Asleep again: a second round the same way. */
	assert_true(WAIT_UNTIL(fg_used_flags(r->g) == 0, 1000));
	usleep(20000);
	tx_post_n(r, 8, 4, 60);
	assert_int_equal(eventfd_write(tx_kick, 1), 0);
	assert_true(WAIT_UNTIL(fg_used_idx(&r->rxv) == 12, 2000));
	for (unsigned k = 8; k < 12; k++)
		expect_rx(r, k, 60);
	/* Counters are added after the used idx store the guest saw. */
	assert_true(WAIT_UNTIL(pmd_stat_read(&r->st.stats.rx_packets) == 12 &&
	                       pmd_stat_read(&r->st.stats.rx_notify) == 2, 1000));
	expect_stats(r, &(struct pmd_qstats){
		.tx_packets = 12, .tx_bytes = 8 * 1514 + 4 * 60, .tx_notify = 2,
		.rx_packets = 12, .rx_bytes = 8 * 1514 + 4 * 60, .rx_notify = 2,
		.busy_cycles = ANY,
	});
	/* The visits that moved them were charged to the pair and the thread
	 * (after each visit returns); the idle ones were not. */
	assert_true(WAIT_UNTIL(pmd_stat_read(&r->st.stats.busy_cycles) > 0 &&
	                       pmd_cycles(cur_pmd).busy >=
	                       pmd_stat_read(&r->st.stats.busy_cycles), 1000));
	assert_int_equal(efd_take(r->tx_call), 2);
	assert_int_equal(efd_take(r->rx_call), 2);

	/* After the grace period the thread must leave the rings alone. */
	pmd_publish(cur_pmd, pmd_plan_new(0, 0));
	before = stats_now(r);
	tx_post_n(r, 12, 4, 60);
	assert_int_equal(eventfd_write(tx_kick, 1), 0);
	assert_int_equal(eventfd_write(rx_kick, 1), 0);
	usleep(50000);
	assert_int_equal(fg_used_idx(r->g), 12);
	assert_int_equal(r->g->vq->last_avail, 12);
	assert_int_equal(fg_used_idx(&r->rxv), 12);
	expect_stats(r, &before);
	assert_int_equal(efd_take(r->tx_call), 0);

	stop_thread(tx_kick, rx_kick);
	/* Joined; the kernel drops the task from /proc right after. */
	assert_true(WAIT_UNTIL((thread_cpus(comm, cpus, sizeof(cpus)), cpus[0] == '\0'), 1000));
	expect_pool_whole(r);
}

/* A frame held because the guest posted fewer mergeable buffers than it
 * needs can only move once the guest posts more, and the guest kicks when it
 * does: an adaptive thread must sleep meanwhile, not spin re-trying it. */
static void
test_thread_sleeps_while_frame_held(void **state)
{
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 | MRG });
	int tx_kick = efd(), rx_kick = efd();
	uint64_t held_visits;

	(void)state;
	rx_post(r, 2048);
	start_thread(r, false, tx_kick, rx_kick);
	assert_true(WAIT_UNTIL(fg_used_flags(r->g) == 0, 1000));
	usleep(20000);
	tx_post(r, 0, 4000, NULL);                   /* needs two buffers */
	assert_int_equal(eventfd_write(tx_kick, 1), 0);
	assert_true(WAIT_UNTIL(pmd_stat_read(&r->st.stats.rx_wait_no_buf) >= 1, 2000));
	usleep(20000);                               /* 400 times idle_us */
	held_visits = pmd_stat_read(&r->st.stats.rx_wait_no_buf);
	usleep(50000);
	if (pmd_stat_read(&r->st.stats.rx_wait_no_buf) != held_visits)
		fail_msg("thread still polling after 70 ms idle: rx_wait_no_buf %" PRIu64
		         " -> %" PRIu64 " in 50 ms", held_visits,
		         pmd_stat_read(&r->st.stats.rx_wait_no_buf));
	expect_rx_none(r);

	rx_post(r, 2048);
	assert_int_equal(eventfd_write(rx_kick, 1), 0);
	assert_true(WAIT_UNTIL(fg_used_idx(&r->rxv) == 2, 2000));
	assert_int_equal(expect_rx(r, 0, 4000), 2);
	stop_thread(tx_kick, rx_kick);
	expect_pool_whole(r);
}

/* A busy thread in the middle of moving 48 frames of 64 KiB (the guest
 * sees the first burst's TX used entries before the thread copies that burst
 * into its RX ring): once pmd_publish() of an empty plan returns, nothing of
 * the old plan moves any more, and the counters already cover everything the
 * guest can see. */
static void
test_thread_publish_grace_period(void **state)
{
	enum { FRAMES = 48, LEN = VNET_MAX_FRAME };
	struct rig *r = rig_new(&(struct rig_opts){ .features = V1 });
	int tx_kick = efd(), rx_kick = efd();
	struct pmd_qstats after;
	uint16_t tx_used, rx_used;
	uint32_t got = 0;
	uint64_t t_end;

	(void)state;
	rx_post_n(r, FRAMES, 12 + LEN);
	tx_post_n(r, 0, FRAMES, LEN);
	start_thread(r, true, tx_kick, rx_kick);
	t_end = now_ms() + 2000;
	while (fg_used_idx(r->g) == 0 && now_ms() < t_end)
		;                                    /* no sleep: catch it mid-visit */
	pmd_publish(cur_pmd, pmd_plan_new(0, 0));
	after = stats_now(r);
	tx_used = fg_used_idx(r->g);
	rx_used = fg_used_idx(&r->rxv);
	usleep(20000);
	assert_int_equal(fg_used_idx(r->g), tx_used);
	assert_int_equal(fg_used_idx(&r->rxv), rx_used);
	expect_stats(r, &after);
	assert_int_equal(after.tx_packets, tx_used);
	assert_int_equal(after.rx_packets, rx_used);
	expect_tx_used(r, 0, tx_used);
	while (got < rx_used)
		expect_rx(r, got++, LEN);
	stop_thread(tx_kick, rx_kick);
	expect_pool_whole(r);
}

/* --- group set-up ----------------------------------------------------------- */

static int
group_setup(void **state)
{
	char lcores[64], why[256] = "";
	char *argv[] = {
		"test-pmd-datapath", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
		lcores, "--log-level=lib.eal:warning", NULL,
	};
	cpu_set_t set;
	int first = -1, last = -1;

	(void)state;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (first < 0)
			first = c;
		last = c;
	}
	if (CPU_COUNT(&set) == last - first + 1)
		snprintf(lcores, sizeof(lcores), "--lcores=0@(%d-%d)", first, last);
	else
		snprintf(lcores, sizeof(lcores), "--lcores=0@(%d)", first);
	last_cpu = (unsigned)last;
	if (rte_eal_init((int)ARRAY_SIZE(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	pool = rte_pktmbuf_pool_create("pmdt-pool", POOL_N, 32, 0,
	                               RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (pmd_port_loopback_new("pmdt", 1, &port, why, sizeof(why)) != 0) {
		fprintf(stderr, "loopback port: %s\n", why);
		return -1;
	}
	if (steer_one_init(&one_q, "pmdt-inbox", why, sizeof(why)) != 0) {
		fprintf(stderr, "steering: %s\n", why);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	steer_one_fini(&one_q);
	pmd_port_free(port);
	rte_mempool_free(pool);
	return rte_eal_cleanup() == 0 ? 0 : -1;
}

#define T(f) { #f, f, NULL, rig_teardown, NULL }

/* An optional argument runs only the tests whose names match it (cmocka
 * pattern, e.g. "test_thread*"). */
int
main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
		T(test_notify_once_per_burst),
		T(test_notify_no_interrupt),
		T(test_notify_event_idx),
		T(test_rx_starved_frames_wait),
		T(test_rx_starved_counts_wait),
		T(test_rx_short_holds_in_order),
		T(test_loopback_backpressure),
		T(test_tx_byte_budget),
		T(test_rx_too_big_keeps_buffer),
		T(test_drops_logged_once_per_ring),
		T(test_rx_bad_chain_mid_packet),
		T(test_rx_violation),
		T(test_rx_violation_mid_burst),
		T(test_tx_csum_filled),
		T(test_tx_mtu),
		T(test_tx_tso_cut),
		T(test_carried_odd_offset),
		T(test_direct_order),
		T(test_tx_tso_to_port),
		T(test_rx_data_valid),
		T(test_gro_not_wrongly),
		T(test_gro_helpers),
		T(test_gro6_merge),
		T(test_tx_pool_exhausted),
		T(test_port_rx_queues_read),
		T(test_tx_shared_queue_lock),
		T(test_thread_adaptive),
		T(test_thread_publish_grace_period),
		T(test_thread_sleeps_while_frame_held),
	};
	static char direct_names[ARRAY_SIZE(carried_rows)][96];
	struct CMUnitTest t[ARRAY_SIZE(variants) + ARRAY_SIZE(gro_variants) +
	                    2 * ARRAY_SIZE(carried_rows) + ARRAY_SIZE(bad_tx_rows) +
	                    ARRAY_SIZE(tx_violations) + ARRAY_SIZE(fixed)];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(variants); k++)
		t[n++] = (struct CMUnitTest){ variants[k].name, test_round_trip, NULL,
		                              rig_teardown, (void *)&variants[k] };
	for (size_t k = 0; k < ARRAY_SIZE(gro_variants); k++)
		t[n++] = (struct CMUnitTest){ gro_variants[k].name, test_gro, NULL, rig_teardown,
		                              (void *)&gro_variants[k] };
	for (size_t k = 0; k < ARRAY_SIZE(carried_rows); k++) {
		t[n++] = (struct CMUnitTest){ carried_rows[k].name, test_carried, NULL, rig_teardown,
		                              (void *)&carried_rows[k] };
		snprintf(direct_names[k], sizeof(direct_names[k]), "direct %s", carried_rows[k].name);
		t[n++] = (struct CMUnitTest){ direct_names[k], test_carried_direct, NULL,
		                              rig_teardown, (void *)&carried_rows[k] };
	}
	for (size_t k = 0; k < ARRAY_SIZE(bad_tx_rows); k++)
		t[n++] = (struct CMUnitTest){ bad_tx_rows[k].name, test_bad_tx, NULL,
		                              rig_teardown, (void *)&bad_tx_rows[k] };
	for (size_t k = 0; k < ARRAY_SIZE(tx_violations); k++)
		t[n++] = (struct CMUnitTest){ tx_violations[k].name, test_tx_violation, NULL,
		                              rig_teardown, (void *)&tx_violations[k] };
	for (size_t k = 0; k < ARRAY_SIZE(fixed); k++)
		t[n++] = fixed[k];
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("pmd_datapath", t, group_setup, group_teardown);
}
