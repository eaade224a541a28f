/* SPDX-License-Identifier: BSD-3-Clause */
/* bench/tools/ipp.c - vhostmq-ipp: instructions per packet of the datapath,
 * counted by callgrind, so the figure is the same on every run and every
 * machine with the same build and libc (unlike cycles, it ignores caches and
 * branch predictors: it shows what the code asks the CPU to do).
 *
 * The real ring and copy code runs in-process against the fake guest of
 * tests/fake_guest.c (rings and buffers in a memfd, translated through the
 * same gmem table the backend builds). Each scenario repeats one burst of
 * PMD_BURST packets: the driver side posts the burst (not counted), then the
 * device side handles it (counted, between two CALLGRIND_TOGGLE_COLLECT), and
 * the scenario ends with a dump named after it. Scenarios:
 *   tx                guest TX: vq_pop, copy the frame out behind the net
 *                     header into a host buffer, vq_push; vq_publish and
 *                     vq_kick_needed once per burst.
 *   rx, rx-mrg        guest RX: vnet_rx_packet() of a host frame into posted
 *                     buffers (non-mergeable, mergeable), then publish and the
 *                     kick decision once per burst.
 *   pmd-loopback(-mrg) one pmd_poll_qp() visit per burst over the loopback
 *                     port: chain -> mbuf copies, 0, the port's ring and MAC
 *                     swap, mbuf -> guest RX, mbuf alloc and free. A packet
 *                     here crosses both directions. Needs DPDK's EAL
 *                     (started without hugepages or PCI).
 *   pmd-loopback-csum the same (mergeable), each guest TX frame asking for
 *                     its TCP checksum (NEEDS_CSUM, VIRTIO_NET_F_CSUM): the
 *                     software checksum fill's cost.
 *   pmd-loopback-logged  pmd-loopback-mrg while a live migration logs every
 *                     write (both rings with a dirty log): the logging's cost.
 *   pmd-loopback-256  pmd-loopback-mrg with a memory table of 256 regions
 *                     (memory hotplug; the rings and buffers in the first):
 *                     what many regions cost a translation that hits its
 *                     hint.
 *   tx-packed, rx-mrg-packed, pmd-loopback-packed  tx, rx-mrg and
 *                     pmd-loopback-mrg on packed rings (VIRTIO_F_RING_PACKED):
 *                     the driver posts one descriptor per buffer.
 *   pmd-direct        pmd-loopback-mrg's frames between two guests wired by
 *                     device: ports and served by one thread (here the fake
 *                     guest is its own peer): each goes from the TX chain
 *                     straight into the RX ring, one copy and no mbuf.
 * Notifications are left out (no call eventfds): their cost is a syscall,
 * which callgrind does not see. Every scenario runs a few warm-up bursts
 * first, so lazy symbol binding and first-touch paths stay out. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "pmd/pmd.h"
#include "pmd/port.h"
#include "common/base.h"
#include "virtio/iov.h"
#include "virtio/vnet.h"
#include "virtio/vq.h"
#include "tests/fake_guest.h"
#include "tests/steer_one.h"

#ifdef VHOSTMQ_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#define IPP_CALLGRIND true
#else
/* Built without valgrind's headers: the tool still runs (and cannot rot),
 * but reports that it counted nothing. */
#define CALLGRIND_ZERO_STATS do { } while (0)
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(s) do { (void)(s); } while (0)
#define IPP_CALLGRIND false
#endif

#define V1    VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define EVIDX VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define MRG   VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)

#define QSIZE     256u                   /* what QEMU and virtio-user default to */
#define BUF_BYTES 2048u                  /* per descriptor: header + 1518 fit */
/* What Linux posts for mergeable RX at MTU 1500 (virtio_net's
 * GOOD_PACKET_LEN + header, cache-line rounded), so 1518 takes one buffer. */
#define MRG_BUF   1536u
#define REGION    (UINT64_C(8) << 20)    /* rings + 2 x 256 buffers of 2 KiB */
#define WARM_BURSTS 4u
#define POOL_N    4096u                  /* many bursts more than one scenario holds */
#define POOL_CACHE TUNE_MBUF_CACHE

enum kind { K_TX, K_RX, K_PMD };

struct scenario {
	const char *name;
	enum kind kind;
	bool mrg;
	bool csum;                       /* guest TX asks for its TCP checksum */
	bool logged;                     /* the rings log their writes */
	uint32_t regions;                /* 0: the fake guest's one */
	bool direct;                     /* guest to guest in one copy (device:) */
	bool packed;                     /* packed rings */
};

static const struct scenario scenarios[] = {
	{ "tx", K_TX, false, false, false, 0, false, false },
	{ "rx", K_RX, false, false, false, 0, false, false },
	{ "rx-mrg", K_RX, true, false, false, 0, false, false },
	{ "pmd-loopback", K_PMD, false, false, false, 0, false, false },
	{ "pmd-loopback-mrg", K_PMD, true, false, false, 0, false, false },
	{ "pmd-loopback-csum", K_PMD, true, true, false, 0, false, false },
	{ "pmd-loopback-logged", K_PMD, true, false, true, 0, false, false },
	{ "pmd-loopback-256", K_PMD, true, false, false, 256, false, false },
	{ "pmd-direct", K_PMD, true, false, false, 0, true, false },
	{ "tx-packed", K_TX, false, false, false, 0, false, true },
	{ "rx-mrg-packed", K_RX, true, false, false, 0, false, true },
	{ "pmd-loopback-packed", K_PMD, true, false, false, 0, false, true },
};

/* pmd-loopback-logged: a dirty log covering the fake guest's memory. */
static uint8_t log_bits[(FG_GPA_BASE + REGION) / 4096 / 8 + 1];
static const struct dirty_log ipp_log = { .bits = log_bits, .len = sizeof(log_bits) };
/* pmd-loopback-256: what the other 255 regions point at. */
static uint8_t other_region[4096];

/* The net header of a frame whose TCP checksum (behind Ethernet and IPv4)
 * the guest leaves to the device (VIRTIO_NET_F_CSUM). */
static const uint8_t csum_hdr[10] = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 34, 0, 16, 0 };

static const uint32_t sizes[] = { 64, 1518 };

/* One device ring and the driver state behind it. The guest TX ring is the
 * fake guest's own; any second ring is a copy of the fake guest with other
 * ring addresses (as tests/pmd/test_datapath.c does), so fg_desc() and
 * fg_avail() work on it. */
struct ring {
	struct fake_guest *g;
	uint16_t next_head;              /* driver: next descriptor to post */
	/* Packed: buffer i's address and length (the driver writes a
	 * descriptor per buffer as it posts it). */
	bool packed, writes;
	uint64_t gpa[QSIZE];
	uint32_t len[QSIZE];
};

struct run {
	const struct scenario *s;
	uint32_t size;                   /* frame bytes, net header not counted */
	uint16_t hdr_len;
	struct fake_guest *g;            /* owns guest memory; ring: guest TX or RX */
	struct fake_guest rxv;           /* pmd only: the guest RX ring */
	struct ring tx, rx;
	struct vnet_rx_fmt fmt;
	struct pmd_qp q;
	struct pmd_qp_state *st;
	struct gmem *many;               /* pmd-loopback-256's table */
};

/* Host side buffers: where guest TX frames are copied to, and the frames
 * written into guest RX buffers (PMD_BURST of each, like a burst of mbufs). */
static uint8_t host_buf[PMD_BURST][BUF_BYTES] __attribute__((aligned(64)));

static struct rte_mempool *pool;
static struct pmd_port *port;
static struct steer_one one_q;           /* pmd-direct: the peer's steering */
static char eal_dir[256];
static bool eal_up;                      /* rte_eal_init() succeeded */

static const char usage[] =
"Usage: vhostmq-ipp [--bursts N] [--no-pmd]\n"
"Instructions per packet of vhostmq's datapath, for callgrind:\n"
"  valgrind --tool=callgrind --collect-atstart=no \\\n"
"           --callgrind-out-file=DIR/cg.out vhostmq-ipp\n"
"Each scenario (tx, rx, rx-mrg, pmd-loopback, pmd-loopback-mrg,\n"
"pmd-loopback-csum: guest TX leaves its TCP checksum to us,\n"
"pmd-loopback-logged: a migration logs every write, pmd-loopback-256: 256\n"
"memory regions, pmd-direct: guest to guest in one copy (device: ports); sizes 64 and 1518) counts only the device side of N bursts of 32 packets (default 64)\n"
"and dumps its counts under its own name (\"Client Request: tx-64\"); the\n"
"driver side is outside the count. Prints one JSON line per scenario:\n"
"{\"scenario\":..,\"size\":..,\"packets\":..,\"dump\":..,\"callgrind\":..}\n"
"Instructions per packet = the dump's total / packets. pmd-loopback\n"
"packets go guest TX -> loopback port -> guest RX; --no-pmd skips them\n"
"(they start DPDK's EAL without hugepages).\n";

/* --- driver side (not counted) -------------------------------------------- */

/* Writes every descriptor once: descriptor i is buffer i, so posting a burst
 * is only avail entries. TX buffers hold a zeroed header (or csum_hdr) and
 * the frame. */
static int
ring_init(struct ring *r, struct fake_guest *owner, struct fake_guest *g, bool writes,
          uint32_t buf_len, uint32_t hdr_len, uint32_t out_len, bool csum)
{
	uint8_t frame[BUF_BYTES];

	r->g = g;
	r->next_head = 0;
	r->packed = g->vq->packed;
	r->writes = writes;
	memset(frame, 0, sizeof(frame));
	if (csum)
		memcpy(frame, csum_hdr, sizeof(csum_hdr));
	for (uint32_t k = hdr_len; k < out_len; k++)
		frame[k] = (uint8_t)(k * 7 + 1);
	for (uint16_t i = 0; i < g->qsize; i++) {
		uint64_t gpa = fg_alloc(owner, BUF_BYTES, 64);

		r->gpa[i] = gpa;
		r->len[i] = writes ? buf_len : out_len;
		if (!writes && fg_write(owner, gpa, frame, out_len) != 0)
			return -1;
		if (!r->packed)
			fg_desc(g, i, gpa, r->len[i], writes ? VRING_DESC_F_WRITE : 0, 0);
	}
	return 0;
}

static void
ring_post_burst(struct ring *r)
{
	for (unsigned k = 0; k < PMD_BURST; k++) {
		uint16_t i = (uint16_t)(r->next_head++ & (r->g->qsize - 1));

		if (r->packed) {
			const struct fg_pk_elem e = { r->gpa[i], r->len[i],
			                              r->writes ? VRING_DESC_F_WRITE : 0 };

			fg_pk_post(r->g, &e, 1, i);
		} else {
			fg_avail(r->g, i);
		}
	}
}

/* A second ring in g's memory, mapped as its own vq. */
static int
rx_view_init(struct run *u, uint64_t features)
{
	struct fake_guest *v = &u->rxv, *g = u->g;
	uint64_t desc = fg_alloc(g, vring_desc_bytes(QSIZE), 16);
	uint64_t avail = fg_alloc(g, vring_avail_bytes(QSIZE), 2);
	uint64_t used = fg_alloc(g, vring_used_bytes(QSIZE), 4);

	*v = *g;
	v->desc_gpa = desc;
	v->avail_gpa = avail;
	v->used_gpa = used;
	v->desc = fg_hva(g, desc, vring_desc_bytes(QSIZE));
	v->avail = fg_hva(g, avail, vring_avail_bytes(QSIZE));
	v->used = fg_hva(g, used, vring_used_bytes(QSIZE));
	v->addrs = (struct vq_addrs){
		.desc_fva = fg_fva(g, desc),
		.avail_fva = fg_fva(g, avail),
		.used_fva = fg_fva(g, used),
	};
	v->heap_gpa = v->heap_end = 0;       /* all allocation goes through g */
	v->vq = &v->vq_s;
	v->pdesc = (struct vring_packed_desc *)(void *)v->desc;
	if (features & VIRTIO_BIT(VIRTIO_F_RING_PACKED))
		memset(v->desc, 0, vring_desc_bytes(QSIZE));    /* a new packed ring */
	return fg_map(v, VQ_DIR_DEVICE_WRITES, features) == VQ_OK ? 0 : -1;
}

/* --- device side (counted) ------------------------------------------------ */

/* Guest TX as pmd/datapath.c's guest_tx() does it, with a flat host buffer in
 * place of an mbuf; compiled per ring layout as the datapath is. */
static inline __attribute__((always_inline)) uint32_t
dev_tx_as(struct run *u, bool packed)
{
	struct vq *vq = u->g->vq;
	uint16_t n = vq_avail_count_as(vq, packed), done = 0;

	if (n > PMD_BURST)
		n = PMD_BURST;
	while (done < n) {
		struct vq_chain c;
		struct iov_cursor src;

		if (vq_pop_as(vq, u->g->mem, &c, packed) != VQ_OK)
			break;
		src = iov_cursor(c.seg, c.n_out);
		iov_skip(&src, u->hdr_len);
		iov_read(&src, host_buf[done], (size_t)(c.out_len - u->hdr_len));
		vq_push_as(vq, c.head, 0, packed);
		done++;
	}
	/* The decision is counted; the eventfd write it would lead to is not. */
	if (vq_publish_as(vq, packed))
		(void)vq_kick_needed_as(vq, packed);
	return done;
}

static inline __attribute__((always_inline)) uint32_t
dev_rx_as(struct run *u, bool packed)
{
	struct vq *vq = u->g->vq;
	uint32_t done = 0;

	for (unsigned k = 0; k < PMD_BURST; k++) {
		struct iovec pkt = { host_buf[k], u->size };

		if ((packed ? vnet_rx_packet_packed : vnet_rx_packet)(vq, u->g->mem, &u->fmt, 0,
		                                                      &pkt, 1, u->size) != VNET_RX_OK)
			break;
		done++;
	}
	/* The decision is counted; the eventfd write it would lead to is not. */
	if (vq_publish_as(vq, packed))
		(void)vq_kick_needed_as(vq, packed);
	return done;
}

static uint32_t
dev_tx(struct run *u)
{
	return u->s->packed ? dev_tx_as(u, true) : dev_tx_as(u, false);
}

static uint32_t
dev_rx(struct run *u)
{
	return u->s->packed ? dev_rx_as(u, true) : dev_rx_as(u, false);
}

/* One burst: the driver posts, the device handles (counted). Returns packets
 * the device handled: 2 per packet for pmd (TX and RX), 1 otherwise. */
static uint32_t
burst(struct run *u)
{
	uint32_t n;

	switch (u->s->kind) {
	case K_TX:
		ring_post_burst(&u->tx);
		CALLGRIND_TOGGLE_COLLECT;
		n = dev_tx(u);
		CALLGRIND_TOGGLE_COLLECT;
		return n;
	case K_RX:
		ring_post_burst(&u->rx);
		CALLGRIND_TOGGLE_COLLECT;
		n = dev_rx(u);
		CALLGRIND_TOGGLE_COLLECT;
		return n;
	case K_PMD:
		ring_post_burst(&u->tx);
		ring_post_burst(&u->rx);
		CALLGRIND_TOGGLE_COLLECT;
		n = pmd_poll_qp(&u->q);
		CALLGRIND_TOGGLE_COLLECT;
		return n;
	}
	return 0;
}

/* --- scenarios ------------------------------------------------------------- */

/* The fake guest's region and 255 more above it, all apart in gpa and fva. */
static int
many_regions(struct run *u, uint32_t n)
{
	struct gmem_region r[GMEM_MAX_SLOTS];
	uint32_t bad;

	r[0] = u->g->mem->r[0];
	for (uint32_t k = 1; k < n; k++)
		r[k] = (struct gmem_region){ .gpa = (UINT64_C(1) << 40) + k * (UINT64_C(1) << 20),
		                             .fva = (UINT64_C(1) << 45) + k * (UINT64_C(1) << 20),
		                             .size = sizeof(other_region), .hva = other_region };
	return gmem_new(r, n, &u->many, &bad) == GMEM_OK ? 0 : -1;
}

static int
run_setup(struct run *u, const struct scenario *s, uint32_t size)
{
	uint64_t features = V1 | EVIDX | (s->mrg ? MRG : 0) |
	                    (s->packed ? VIRTIO_BIT(VIRTIO_F_RING_PACKED) : 0);
	const struct fg_opts o = {
		.qsize = QSIZE, .region_size = REGION, .features = features,
		.dir = s->kind == K_RX ? VQ_DIR_DEVICE_WRITES : VQ_DIR_DEVICE_READS,
		.start_idx = s->packed ? 0x8000 : 0,      /* a new packed ring: wrap 1 */
	};
	uint32_t rx_buf = s->mrg ? MRG_BUF : BUF_BYTES;
	size_t align = _Alignof(struct pmd_qp_state);

	memset(u, 0, sizeof(*u));
	u->s = s;
	u->size = size;
	u->hdr_len = vnet_hdr_len(features);
	u->fmt = (struct vnet_rx_fmt){ .hdr_len = u->hdr_len, .mrg_rxbuf = s->mrg };
	for (unsigned k = 0; k < PMD_BURST; k++)
		for (uint32_t b = 0; b < size; b++)
			host_buf[k][b] = (uint8_t)(k * 31 + b * 7 + 1);
	u->g = fg_new_opts(&o);
	if (u->g == NULL)
		return -1;
	if (s->kind == K_RX)
		return ring_init(&u->rx, u->g, u->g, true, rx_buf, 0, 0, false);
	if (ring_init(&u->tx, u->g, u->g, false, 0, u->hdr_len, u->hdr_len + size, s->csum) != 0)
		return -1;
	if (s->kind == K_TX)
		return 0;
	if (rx_view_init(u, features) != 0 ||
	    ring_init(&u->rx, u->g, &u->rxv, true, rx_buf, 0, 0, false) != 0)
		return -1;
	u->st = aligned_alloc(align, (sizeof(*u->st) + align - 1) / align * align);
	if (u->st == NULL)
		return -1;
	memset(u->st, 0, sizeof(*u->st));
	u->q = (struct pmd_qp){
		.rx = { u->rxv.vq, -1, -1 },
		.tx = { u->g->vq, -1, -1 },
		.mem = u->g->mem,
		.rx_fmt = u->fmt,
		.tx_fmt = { .hdr_len = u->hdr_len, .csum = s->csum, .max_frame = VNET_MAX_FRAME },
		.port = port,
		.port_txq = 0, .port_rxq = 0, .port_rxq_step = 1,
		.burst = PMD_BURST, .burst_bytes = PMD_TX_BYTE_BUDGET,
		.pool = pool,
		.st = u->st,
		.dev_name = "ipp",
		.qp = 0,
	};
	if (s->logged) {
		vq_set_log(u->g->vq, &ipp_log, u->g->used_gpa);
		vq_set_log(u->rxv.vq, &ipp_log, u->rxv.used_gpa);
	}
	if (s->regions != 0) {
		if (many_regions(u, s->regions) != 0)
			return -1;
		u->q.mem = u->many;
	}
	if (s->direct) {
		static const struct pmd_qp *peer[1];

		peer[0] = &u->q;
		u->q.steer = &one_q.s;
		u->q.peer = peer;
		u->q.peer_nq = 1;
	}
	return 0;
}

static void
run_free(struct run *u)
{
	if (u->st != NULL)
		pmd_qp_state_drop_held(u->st);
	free(u->st);
	gmem_free(u->many);
	fg_free(u->g);
}



static int
run_scenario(const struct scenario *s, uint32_t size, unsigned bursts)
{
	/* A pmd visit handles each packet twice (guest TX, then guest RX),
	 * except that a direct one is done at guest TX. */
	uint32_t per_burst = s->kind == K_PMD && !s->direct ? 2 * PMD_BURST : PMD_BURST;
	char dump[64];
	uint64_t moved = 0;
	struct run u;
	int rc = -1;

	snprintf(dump, sizeof(dump), "%s-%u", s->name, size);
	if (run_setup(&u, s, size) != 0) {
		fprintf(stderr, "vhostmq-ipp: %s: set-up failed\n", dump);
		goto out;
	}
	for (unsigned k = 0; k < WARM_BURSTS; k++)
		if (burst(&u) != per_burst) {
			fprintf(stderr, "vhostmq-ipp: %s: warm-up burst cut short\n", dump);
			goto out;
		}
	CALLGRIND_ZERO_STATS;
	for (unsigned k = 0; k < bursts; k++)
		moved += burst(&u);
	CALLGRIND_DUMP_STATS_AT(dump);
	if (moved != (uint64_t)bursts * per_burst) {
		fprintf(stderr, "vhostmq-ipp: %s: moved %llu of %llu packets\n", dump,
		        (unsigned long long)moved, (unsigned long long)bursts * per_burst);
		goto out;
	}
	printf("{\"scenario\":\"%s\",\"size\":%u,\"packets\":%u,\"dump\":\"%s\","
	       "\"callgrind\":%s}\n", s->name, size, bursts * PMD_BURST, dump,
	       IPP_CALLGRIND ? "true" : "false");
	fflush(stdout);
	rc = 0;
out:
	run_free(&u);
	return rc;
}

/* --- DPDK ------------------------------------------------------------------ */

static int
pmd_env_init(void)
{
	char lcores[64], prefix[64], why[256] = "";
	char *argv[] = {
		"vhostmq-ipp", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", prefix, lcores, "--log-level=lib.eal:warning", NULL,
	};
	cpu_set_t set;
	int cpu = -1;

	/* The main thread's lcore: any CPU we may run on (no pinning matters
	 * for counting instructions). */
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
		if (CPU_ISSET(c, &set))
			cpu = c;
	snprintf(lcores, sizeof(lcores), "--lcores=0@%d", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=vhostmq-ipp-%d", (int)getpid());
	if (rte_eal_init((int)ARRAY_SIZE(argv) - 1, argv) < 0) {
		fprintf(stderr, "vhostmq-ipp: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	eal_up = true;
	snprintf(eal_dir, sizeof(eal_dir), "%s", rte_eal_get_runtime_dir());
	pool = rte_pktmbuf_pool_create("ipp-pool", POOL_N, POOL_CACHE, 0,
	                               RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "vhostmq-ipp: mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (pmd_port_loopback_new("ipp", 1, &port, why, sizeof(why)) != 0) {
		fprintf(stderr, "vhostmq-ipp: loopback port: %s\n", why);
		return -1;
	}
	if (steer_one_init(&one_q, "ipp-inbox", why, sizeof(why)) != 0) {
		fprintf(stderr, "vhostmq-ipp: steering: %s\n", why);
		return -1;
	}
	return 0;
}

/* EAL's runtime dir under our own prefix: nothing else uses it, so all of it
 * goes (as backend/main.c does for vhostmq's). */
static void
pmd_env_fini(void)
{
	DIR *dir;
	struct dirent *e;

	if (!eal_up)
		return;
	steer_one_fini(&one_q);
	pmd_port_free(port);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	if (eal_dir[0] == '\0' || (dir = opendir(eal_dir)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
	rmdir(eal_dir);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bursts", required_argument, NULL, 'b' },
		{ "no-pmd", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned bursts = 64;
	bool with_pmd = true, eal_tried = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "b:nh", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'b':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > 100000) {
				fprintf(stderr, "vhostmq-ipp: --bursts: 1..100000\n");
				return 2;
			}
			bursts = (unsigned)v;
			break;
		case 'n':
			with_pmd = false;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!IPP_CALLGRIND)
		fprintf(stderr, "vhostmq-ipp: built without valgrind/callgrind.h: nothing "
		        "is counted\n");
	for (size_t k = 0; k < ARRAY_SIZE(scenarios) && rc == 0; k++) {
		if (scenarios[k].kind == K_PMD) {
			if (!with_pmd)
				continue;
			if (!eal_tried && pmd_env_init() != 0) {
				rc = 1;
				break;
			}
			eal_tried = true;
		}
		for (size_t z = 0; z < ARRAY_SIZE(sizes) && rc == 0; z++)
			if (run_scenario(&scenarios[k], sizes[z], bursts) != 0)
				rc = 1;
	}
	pmd_env_fini();
	return rc;
}
