/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/seeds.c - writes the binary seed corpora of the fuzz targets, so
 * what is committed is this readable program and not opaque files. Each seed
 * replays a scenario of the unit tests in the target's input layout (fuzz.h):
 * QEMU's message order and the hostile-message table of tests/vhost-user/,
 * the chains, indirect tables, region straddles and hostile rings of
 * tests/virtio/test_vq*.c, and the command-line values of tests/config/.
 * Usage: fuzz_seeds DIR writes DIR/<target>/<seed> for every target. */
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include "tests/fake_guest.h"
#include "tests/fuzz/fuzz.h"
#include "vhost-user/proto.h"
#include "virtio/spec.h"
#include "virtio/vnet.h"

static const char *seed_dir;
static unsigned seed_count;

static void
seed_write(const char *target, const char *name, const struct fz_out *o)
{
	char path[512];
	FILE *f;

	if (o->overflow) {
		fprintf(stderr, "fuzz_seeds: %s/%s is larger than %d bytes\n", target, name,
		        FZ_OUT_MAX);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", seed_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", seed_dir, target, name);
	f = fopen(path, "wbe");
	if (f == NULL || fwrite(o->b, 1, o->n, f) != o->n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	seed_count++;
}

/* ---- fuzz_vhu_dispatch -------------------------------------------------------- */

#define NR         VHOST_USER_NEED_REPLY
#define FVA        UINT64_C(0x7f0000000000)
#define MEM_PAGES  16                /* one 64 KiB region holds every ring */
#define RING_NUM   64

enum { MEMFD = FZ_VHU_MEMFD << FZ_VHU_KIND_SHIFT, EVFD = FZ_VHU_EVENTFD << FZ_VHU_KIND_SHIFT,
       MIXED = FZ_VHU_MIXED << FZ_VHU_KIND_SHIFT, PIPE = FZ_VHU_PIPE << FZ_VHU_KIND_SHIFT };

/* One record: ctl (fd count and kind, DEFER, SAME), memfd pages, raw bytes. */
static void
rec(struct fz_out *o, uint8_t ctl, uint8_t pages, const void *bytes, size_t len)
{
	fz_put8(o, ctl);
	fz_put8(o, pages);
	fz_put16(o, (uint16_t)len);
	fz_put(o, bytes, len);
}

/* A whole message as one record; flags get VHOST_USER_VERSION. */
static void
msg_pages(struct fz_out *o, uint8_t ctl, uint8_t pages, uint32_t req, uint32_t flags,
          const void *p, uint32_t size)
{
	uint8_t b[sizeof(struct vhu_hdr) + VHU_MAX_PAYLOAD];
	struct vhu_hdr h = { .request = req, .flags = VHOST_USER_VERSION | flags, .size = size };

	memcpy(b, &h, sizeof(h));
	if (size > 0)
		memcpy(b + sizeof(h), p, size);
	rec(o, ctl, pages, b, sizeof(h) + size);
}

static void
msg(struct fz_out *o, uint8_t ctl, uint32_t req, uint32_t flags, const void *p, uint32_t size)
{
	msg_pages(o, ctl, MEM_PAGES, req, flags, p, size);
}

static void
msg0(struct fz_out *o, uint32_t req, uint32_t flags)
{
	msg(o, 0, req, flags, NULL, 0);
}

static void
msg_u64(struct fz_out *o, uint8_t ctl, uint32_t req, uint32_t flags, uint64_t v)
{
	msg(o, ctl, req, flags, &v, sizeof(v));
}

static void
msg_state(struct fz_out *o, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_vring_state s = { .index = index, .num = num };

	msg(o, 0, req, 0, &s, sizeof(s));
}

/* KICK/CALL/ERR with an eventfd. */
static void
msg_file(struct fz_out *o, uint32_t req, uint32_t vqi)
{
	msg_u64(o, 1 | EVFD, req, 0, vqi);
}

static uint64_t
ring_fva(uint32_t vqi, unsigned part)
{
	return FVA + vqi * UINT64_C(0x1000) + part * UINT64_C(0x400);
}

/* One region over a memfd of MEM_PAGES, sealed against shrinking or not. */
static void
msg_mem1(struct fz_out *o, uint32_t flags, uint64_t size, uint64_t off, bool seal)
{
	struct vhu_mem_table t = { .nregions = 1 };

	t.r[0] = (struct vhu_mem_region){ .gpa = 0, .size = size, .fva = FVA, .mmap_offset = off };
	msg_pages(o, 1 | MEMFD, MEM_PAGES | (seal ? FZ_VHU_SEAL : 0), VHOST_USER_SET_MEM_TABLE,
	          flags, &t, 8 + sizeof(struct vhu_mem_region));
}

static uint64_t
qemu_features(uint16_t qp)
{
	const struct vnet_offer o = { .mq = qp > 1 };

	return vnet_features_offered(&o) & ~VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT);
}

/* tests/vhost-user/test_dispatch.c: qemu_sequence(), QEMU's order. */
static void
qemu_start(struct fz_out *o, uint16_t qp)
{
	uint64_t pf = (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
	              (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK);

	msg0(o, VHOST_USER_GET_FEATURES, 0);
	msg0(o, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	msg_u64(o, 0, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf);
	msg0(o, VHOST_USER_GET_QUEUE_NUM, 0);
	for (uint16_t q = 0; q < qp; q++) {
		msg0(o, VHOST_USER_SET_OWNER, 0);
		msg0(o, VHOST_USER_GET_FEATURES, 0);
	}
	for (uint32_t i = 0; i < 2u * qp; i++)
		msg_file(o, VHOST_USER_SET_VRING_CALL, i);
	msg_u64(o, 0, VHOST_USER_SET_FEATURES, 0, qemu_features(qp));
	msg_mem1(o, NR, MEM_PAGES * 4096, 0, qp == 2);
	for (uint32_t i = 0; i < 2u * qp; i++) {
		struct vhu_vring_addr a = { .index = i, .desc_fva = ring_fva(i, 0),
		                            .avail_fva = ring_fva(i, 1), .used_fva = ring_fva(i, 2) };

		msg_state(o, VHOST_USER_SET_VRING_NUM, i, RING_NUM);
		msg_state(o, VHOST_USER_SET_VRING_BASE, i, 7 + i);
		msg(o, 0, VHOST_USER_SET_VRING_ADDR, 0, &a, sizeof(a));
		msg_file(o, VHOST_USER_SET_VRING_KICK, i);
		msg_file(o, VHOST_USER_SET_VRING_CALL, i);
	}
	for (uint32_t i = 0; i < 2u * qp; i++)
		msg_state(o, VHOST_USER_SET_VRING_ENABLE, i, 1);
}

static void
qemu_stop(struct fz_out *o, uint16_t qp)
{
	for (uint32_t i = 0; i < 2u * qp; i++)
		msg_state(o, VHOST_USER_GET_VRING_BASE, i, 0);
}

static void
seeds_vhu_sequences(void)
{
	static struct fz_out o;
	uint8_t b[4096];
	size_t n;

	for (uint16_t qp = 1; qp <= 4; qp *= 2) {
		char name[32];

		o = (struct fz_out){ 0 };
		fz_put8(&o, (uint8_t)((qp - 1) | (qp == 2 ? FZ_VHU_POSITION : 0)));
		qemu_start(&o, qp);
		qemu_stop(&o, qp);
		snprintf(name, sizeof(name), "qemu-%uqp", qp);
		seed_write("fuzz_vhu_dispatch", name, &o);
	}

	/* A migration and memory hotplug, as QEMU 7.2 runs them (vm-check.sh
	 * migrate, hotplug): the log mapped, logging on with each ring's used
	 * ring address, a region added and removed, RARP, status, reset. */
	{
		const uint64_t pf = (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_LOG_SHMFD) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_RARP) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
		                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_STATUS);
		const struct vhu_log log = { .mmap_size = 64, .mmap_offset = 0 };
		const struct vhu_mem_reg reg = { .r = { .gpa = 0x10000000, .size = 4096,
		                                        .fva = FVA + 0x10000000 } };

		o = (struct fz_out){ 0 };
		fz_put8(&o, 0);
		qemu_start(&o, 1);
		msg_u64(&o, 0, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf);
		msg(&o, 1 | MEMFD, VHOST_USER_SET_LOG_BASE, 0, &log, sizeof(log));
		msg_u64(&o, 0, VHOST_USER_SET_FEATURES, 0,
		        qemu_features(1) | VIRTIO_BIT(VHOST_F_LOG_ALL));
		for (uint32_t i = 0; i < 2; i++) {
			struct vhu_vring_addr a = { .index = i, .flags = VHOST_VRING_F_LOG,
			                            .desc_fva = ring_fva(i, 0),
			                            .avail_fva = ring_fva(i, 1),
			                            .used_fva = ring_fva(i, 2),
			                            .log_gpa = ring_fva(i, 2) - FVA };

			msg(&o, 0, VHOST_USER_SET_VRING_ADDR, NR, &a, sizeof(a));
		}
		msg_u64(&o, 0, VHOST_USER_SET_STATUS, NR, VIRTIO_STATUS_ACKNOWLEDGE |
		        VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
		msg0(&o, VHOST_USER_GET_STATUS, 0);
		msg_u64(&o, 0, VHOST_USER_SEND_RARP, NR, UINT64_C(0x5254001234));
		msg0(&o, VHOST_USER_GET_MAX_MEM_SLOTS, 0);
		msg(&o, 1 | MEMFD, VHOST_USER_ADD_MEM_REG, NR, &reg, sizeof(reg));
		msg(&o, 1 | MEMFD, VHOST_USER_ADD_MEM_REG, NR, &reg, sizeof(reg));
		msg(&o, 0, VHOST_USER_REM_MEM_REG, NR, &reg, sizeof(reg));
		msg(&o, 0, VHOST_USER_REM_MEM_REG, NR, &reg, sizeof(reg));
		msg_u64(&o, 0, VHOST_USER_SET_STATUS, NR, 0);
		qemu_stop(&o, 1);
		msg0(&o, VHOST_USER_RESET_DEVICE, 0);
		seed_write("fuzz_vhu_dispatch", "qemu-migrate-hotplug", &o);
	}

	/* test_restart_after_get_vring_base */
	o = (struct fz_out){ 0 };
	fz_put8(&o, 0);
	qemu_start(&o, 1);
	qemu_stop(&o, 1);
	msg_state(&o, VHOST_USER_SET_VRING_NUM, 1, 512);
	msg_state(&o, VHOST_USER_SET_VRING_BASE, 1, 55);
	msg_file(&o, VHOST_USER_SET_VRING_KICK, 1);
	msg_state(&o, VHOST_USER_GET_VRING_BASE, 1, 0);
	seed_write("fuzz_vhu_dispatch", "restart", &o);

	/* Running rings, then device-wide changes under them: a new memory
	 * table (two regions of one file), new features, RESET_OWNER, and the
	 * sequence again. */
	o = (struct fz_out){ 0 };
	fz_put8(&o, 1);
	qemu_start(&o, 2);
	{
		struct vhu_mem_table t = { .nregions = 2 };

		t.r[0] = (struct vhu_mem_region){ .gpa = 0, .size = 0x8000, .fva = FVA };
		t.r[1] = (struct vhu_mem_region){ .gpa = 0x10000, .size = 0x8000,
		                                  .fva = FVA + 0x8000, .mmap_offset = 0x8000 };
		msg(&o, 2 | MEMFD | FZ_VHU_SAME, VHOST_USER_SET_MEM_TABLE, NR, &t,
		    8 + 2 * sizeof(struct vhu_mem_region));
	}
	msg_u64(&o, 0, VHOST_USER_SET_FEATURES, NR, qemu_features(2) &
	        ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	msg_u64(&o, 0, VHOST_USER_RESET_OWNER, 0, 0);
	qemu_start(&o, 2);
	seed_write("fuzz_vhu_dispatch", "replace-under-running", &o);

	/* The same 1-qp sequence, every message split after its header (the
	 * fds travel with the header), then everything in one write. */
	o = (struct fz_out){ 0 };
	{
		static struct fz_out whole;

		whole = (struct fz_out){ 0 };
		qemu_start(&whole, 1);
		fz_put8(&o, 0);
		for (size_t at = 0; at < whole.n;) {
			uint8_t ctl = whole.b[at];
			uint16_t len = (uint16_t)(whole.b[at + 2] | whole.b[at + 3] << 8);
			const uint8_t *m = whole.b + at + 4;

			rec(&o, ctl | FZ_VHU_DEFER, MEM_PAGES, m, sizeof(struct vhu_hdr));
			rec(&o, 0, MEM_PAGES, m + sizeof(struct vhu_hdr),
			    len - sizeof(struct vhu_hdr));
			at += 4u + len;
		}
	}
	seed_write("fuzz_vhu_dispatch", "split-headers", &o);

	/* Ten messages without fds in one write: one readable event. */
	o = (struct fz_out){ 0 };
	fz_put8(&o, 0);
	n = 0;
	for (unsigned k = 0; k < 10; k++) {
		struct vhu_hdr h = { .request = VHOST_USER_GET_FEATURES,
		                     .flags = VHOST_USER_VERSION };

		memcpy(b + n, &h, sizeof(h));
		n += sizeof(h);
	}
	rec(&o, 0, 0, b, n);
	seed_write("fuzz_vhu_dispatch", "burst", &o);

	/* test_mtu: the protocol feature MTU, NET_SET_MTU confirming the
	 * device's 1500, then another value (refused, acked 1). */
	o = (struct fz_out){ 0 };
	fz_put8(&o, FZ_VHU_MTU);
	msg0(&o, VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	msg_u64(&o, 0, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
	        (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	        (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MTU));
	msg_u64(&o, 0, VHOST_USER_NET_SET_MTU, NR, 1500);
	msg_u64(&o, 0, VHOST_USER_NET_SET_MTU, NR, 9000);
	qemu_start(&o, 1);
	seed_write("fuzz_vhu_dispatch", "mtu", &o);
}

/* tests/vhost-user/test_dispatch_hostile.c, one seed per kind of row. */
static void
seeds_vhu_hostile(void)
{
	static struct fz_out o;
	const uint64_t pf_ack = UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	struct vhu_mem_table t = { .nregions = 2 };
	struct vhu_vring_state st = { .index = 0, .num = 256 };
	struct vhu_hdr big = { .request = VHOST_USER_SET_MEM_TABLE, .flags = VHOST_USER_VERSION,
	                       .size = VHU_MAX_PAYLOAD + 1 };

#define HOSTILE(name, ...) do {                                    \
		o = (struct fz_out){ 0 };                          \
		fz_put8(&o, 0);                                    \
		msg_u64(&o, 0, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf_ack); \
		__VA_ARGS__;                                       \
		seed_write("fuzz_vhu_dispatch", name, &o);         \
	} while (0)

	HOSTILE("unknown-request-nack", msg(&o, 2 | MIXED, 1000, NR, NULL, 0);
	        msg0(&o, VHOST_USER_GET_FEATURES, 0));
	HOSTILE("log-base-with-fd", msg_u64(&o, 1 | MEMFD, VHOST_USER_SET_LOG_BASE, NR, 0));
	HOSTILE("version-0", msg(&o, 0, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st));
	        o.b[o.n - sizeof(st) - 8] ^= VHOST_USER_VERSION);
	HOSTILE("size-mismatch", msg(&o, 0, VHOST_USER_SET_FEATURES, 0, &st, 7));
	HOSTILE("size-too-big", rec(&o, 0, 0, &big, sizeof(big)));
	HOSTILE("nine-fds", msg(&o, 9 | EVFD, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st)));
	HOSTILE("kick-memfd", msg_u64(&o, 1 | MEMFD, VHOST_USER_SET_VRING_KICK, NR, 0));
	HOSTILE("kick-pipe", msg_u64(&o, 1 | PIPE, VHOST_USER_SET_VRING_CALL, NR, 1));
	HOSTILE("kick-nofd-with-fd", msg_u64(&o, 1 | EVFD, VHOST_USER_SET_VRING_KICK, NR,
	                                     VHOST_USER_VRING_NOFD));
	HOSTILE("kick-reserved-bits", msg_u64(&o, 1 | EVFD, VHOST_USER_SET_VRING_ERR, NR,
	                                      UINT64_C(0x100000001)));
	HOSTILE("vring-index-range", msg_state(&o, VHOST_USER_SET_VRING_ENABLE, 2, 1));
	HOSTILE("vring-num-not-pow2", msg_state(&o, VHOST_USER_SET_VRING_NUM, 0, 3));
	HOSTILE("mem-beyond-file", msg_mem1(&o, NR, (MEM_PAGES + 1) * 4096, 0, false));
	HOSTILE("mem-offset-wraps", msg_mem1(&o, NR, 4096, UINT64_MAX - 100, false));
	HOSTILE("mem-zero-size", msg_mem1(&o, NR, 0, 0, false));
	t.r[0] = (struct vhu_mem_region){ .gpa = 0x1000, .size = 0x4000, .fva = FVA };
	t.r[1] = (struct vhu_mem_region){ .gpa = 0x3000, .size = 0x4000, .fva = FVA + 0x10000 };
	HOSTILE("mem-overlap", msg(&o, 2 | MEMFD, VHOST_USER_SET_MEM_TABLE, NR, &t,
	                           8 + 2 * sizeof(struct vhu_mem_region)));
	t.r[0] = (struct vhu_mem_region){ .gpa = UINT64_MAX - 0xfff, .size = 0x2000,
	                                  .fva = FVA };
	HOSTILE("mem-gpa-wraps", msg(&o, 1 | MEMFD, VHOST_USER_SET_MEM_TABLE, NR, &t,
	                             8 + sizeof(struct vhu_mem_region)));
	HOSTILE("mem-fd-count", msg(&o, 1 | MEMFD, VHOST_USER_SET_MEM_TABLE, NR, &t,
	                            8 + 2 * sizeof(struct vhu_mem_region)));
	HOSTILE("mem-pipe", msg_mem1(&o, NR, 4096, 0, false); o.b[o.n - 4 - 12 - 40] = 1 | PIPE);
	HOSTILE("eof-mid-message", rec(&o, 0, 0, &big, 5));
	HOSTILE("nack-flood", for (unsigned k = 0; k < 40; k++) msg0(&o, 21, NR));
#undef HOSTILE
}

/* ---- fuzz_vq_walk ------------------------------------------------------------- */

/* Where the fake guest of this shape puts its heap (fz_vq_hdr.nheap bytes). */
static uint64_t
vq_heap_gpa(uint8_t shape)
{
	const struct fg_opts opts = { .qsize = 1u << FZ_VQ_QSIZE_LOG2(shape),
	                              .n_regions = FZ_VQ_NREGIONS(shape),
	                              .region_size = FZ_VQ_REGION_SIZE(shape), .no_map = true };
	struct fake_guest *g = fg_new_opts(&opts);
	uint64_t gpa;

	if (g == NULL) {
		fprintf(stderr, "fuzz_seeds: shape 0x%02x makes no fake guest\n", shape);
		exit(1);
	}
	gpa = g->heap_gpa;
	fg_free(g);
	return gpa;
}

struct vq_seed {
	struct fz_vq_hdr h;
	struct vring_desc desc[128];     /* CPU order; addr is a gpa */
	uint16_t avail[128];
	uint8_t heap[8192];
	uint8_t ops[256];
	unsigned nops;
};

static void
vq_indirect(struct vq_seed *s, unsigned at, const struct vring_desc *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct fz_out one = { 0 };

		fz_put64(&one, d[k].addr);
		fz_put32(&one, d[k].len);
		fz_put16(&one, d[k].flags);
		fz_put16(&one, d[k].next);
		memcpy(s->heap + at + 16 * k, one.b, 16);
	}
}

static void
vq_op(struct vq_seed *s, unsigned n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (unsigned k = 0; k < n; k++)
		s->ops[s->nops++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

static void
vq_write(const char *name, const struct vq_seed *s)
{
	static struct fz_out o;

	o = (struct fz_out){ 0 };
	fz_vq_hdr_write(&o, &s->h);
	for (unsigned i = 0; i < s->h.ndesc; i++) {
		const struct vring_desc *d = &s->desc[i];

		fz_put64(&o, (d->addr & FZ_VQ_RAW_ADDR) == FZ_VQ_RAW_ADDR ? d->addr
		                                                          : d->addr - FZ_VQ_ADDR_LO);
		fz_put32(&o, d->len);
		fz_put16(&o, d->flags);
		fz_put16(&o, d->next);
	}
	for (unsigned k = 0; k < s->h.navail; k++)
		fz_put16(&o, s->avail[k]);
	fz_put(&o, s->heap, s->h.nheap);
	fz_put(&o, s->ops, s->nops);
	seed_write("fuzz_vq_walk", name, &o);
}

/* A seed with ndesc descriptors and navail entries made available. */
static void
vq_init(struct vq_seed *s, uint8_t shape, uint8_t flags, uint16_t start)
{
	memset(s, 0, sizeof(*s));
	s->h = (struct fz_vq_hdr){ .shape = shape, .flags = flags, .start_idx = start,
	                           .avail_idx = start };
}

static void
vq_chain(struct vq_seed *s, uint16_t head)
{
	s->avail[s->h.navail++] = head;
	s->h.avail_idx++;
}

static void
vq_desc(struct vq_seed *s, uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags,
        uint16_t next)
{
	s->desc[i] = (struct vring_desc){ .addr = gpa, .len = len, .flags = flags, .next = next };
	if (i >= s->h.ndesc)
		s->h.ndesc = (uint16_t)(i + 1);
}

static void
seeds_vq(void)
{
	static struct vq_seed s;
	const uint8_t q16 = FZ_VQ_SHAPE(4, 1, 0), q16r2 = FZ_VQ_SHAPE(4, 2, 0);
	const uint8_t q128 = FZ_VQ_SHAPE(7, 1, 1);
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE, I = VRING_DESC_F_INDIRECT;
	uint64_t heap = vq_heap_gpa(q16), end0 = FG_GPA_BASE + FZ_VQ_REGION_SIZE(q16r2);
	struct vring_desc ind[4];

	vq_init(&s, q16, 0, 0);
	vq_write("empty", &s);

	vq_init(&s, q16, 0, 0);
	vq_desc(&s, 0, heap, 64, 0, 0);
	vq_chain(&s, 0);
	vq_write("tx-one", &s);

	vq_init(&s, q16, FZ_VQF_EVENT_IDX, 0);
	vq_desc(&s, 3, heap, 12, N, 5);
	vq_desc(&s, 5, heap + 64, 100, N, 1);
	vq_desc(&s, 1, heap + 512, 1400, 0, 0);
	vq_desc(&s, 0, heap + 2048, 60, 0, 0);
	vq_chain(&s, 3);
	vq_chain(&s, 0);
	vq_op(&s, 9, FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUBLISH, FZ_OP_KICK, FZ_OP_POP);
	vq_op(&s, 8, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUBLISH, FZ_OP_KICK, FZ_OP_COUNT_AVAIL);
	vq_write("tx-chains-event-idx", &s);

	vq_init(&s, q16, FZ_VQF_RX | FZ_VQF_HDR10 | FZ_VQF_HOST_USED, 0);
	vq_desc(&s, 0, heap, 2048, W, 0);
	vq_desc(&s, 1, heap + 2048, 10, W | N, 2);
	vq_desc(&s, 2, heap + 2058, 2038, W, 0);
	vq_chain(&s, 0);
	vq_chain(&s, 1);
	vq_op(&s, 8, FZ_OP_RX, 0xea, 0x05, 0, FZ_OP_RX, 60, 0, 2);
	vq_op(&s, 2, FZ_OP_PUBLISH, FZ_OP_KICK);
	vq_write("rx", &s);

	/* Mergeable: a 3000-byte frame over four 1 KiB buffers; then a 100-byte
	 * frame to what is left, with notifications off and on. */
	vq_init(&s, q16, FZ_VQF_RX | FZ_VQF_MRG_RXBUF | FZ_VQF_EVENT_IDX | FZ_VQF_HOST_USED,
	        0);
	for (uint16_t i = 0; i < 5; i++) {
		vq_desc(&s, i, heap + 1024u * i, 1024, W, 0);
		vq_chain(&s, i);
	}
	vq_op(&s, 4, FZ_OP_RX, 0xb8, 0x0b, 3);
	vq_op(&s, 2, FZ_OP_NOTIFY, 1);
	vq_op(&s, 4, FZ_OP_RX, 100, 0, 0);
	vq_op(&s, 5, FZ_OP_PUBLISH, FZ_OP_KICK, FZ_OP_NOTIFY, 0, FZ_OP_RX);
	vq_write("rx-mergeable", &s);

	/* Indirect: a contiguous table, and one straddling regions 0 and 1. */
	vq_init(&s, q16r2, FZ_VQF_INDIRECT, 0);
	ind[0] = (struct vring_desc){ .addr = heap + 1024, .len = 12, .flags = N, .next = 1 };
	ind[1] = (struct vring_desc){ .addr = heap + 2048, .len = 1500, .flags = N, .next = 2 };
	ind[2] = (struct vring_desc){ .addr = end0 - 100, .len = 300 };
	vq_indirect(&s, 0, ind, 3);
	s.h.nheap = (uint16_t)(end0 - heap);
	vq_indirect(&s, s.h.nheap - 24, ind, 2);   /* 8 bytes of entry 1 in region 1 */
	vq_desc(&s, 0, heap, 48, I, 0);
	vq_desc(&s, 1, end0 - 24, 32, I, 0);
	vq_chain(&s, 0);
	vq_chain(&s, 1);
	vq_write("indirect", &s);

	/* Indices wrapping at 2^16. */
	vq_init(&s, q16, FZ_VQF_EVENT_IDX | FZ_VQF_HOST_USED, 65534);
	for (uint16_t i = 0; i < 4; i++) {
		vq_desc(&s, i, heap + 256u * i, 256, 0, 0);
		vq_chain(&s, i);
	}
	vq_op(&s, 12, FZ_OP_MARK, FZ_OP_POP, FZ_OP_POP, FZ_OP_REWIND, FZ_OP_POP, FZ_OP_POP,
	      FZ_OP_POP, FZ_OP_PUSH, 1, 0, 0, 0);
	vq_op(&s, 7, FZ_OP_VOID, FZ_OP_PUBLISH, FZ_OP_EVENT, 0xff, 0xff, 0, 0);
	vq_op(&s, 5, FZ_OP_KICK, FZ_OP_REMAP, FZ_OP_POP, FZ_OP_AVAIL_IDX, 0);
	vq_op(&s, 2, 0, FZ_OP_POP);
	vq_write("wrap-and-ops", &s);

	/* Bursts: three one-descriptor chains, a chain of two, three more; a
	 * burst takes three, gives two back, takes them again and pushes them;
	 * vq_pop() takes the chain; then the rest, one given back. */
	vq_init(&s, q16, 0, 0);
	for (uint16_t i = 0; i < 8; i++)
		vq_desc(&s, i, heap + 256u * i, 200, i == 3 ? N : 0, (uint16_t)(i + 1));
	for (uint16_t i = 0; i < 8; i++)
		if (i != 4)
			vq_chain(&s, i);
	vq_op(&s, 6, FZ_OP_POP_BUFS, 8, 2, FZ_OP_POP_BUFS, 8, FZ_BUFS_PUSH);
	vq_op(&s, 11, FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUSH, 0, 0, 0, 0);
	vq_op(&s, 5, FZ_OP_POP_BUFS, 8, FZ_BUFS_PUSH | 1, FZ_OP_PUBLISH, FZ_OP_KICK);
	vq_write("tx-bufs", &s);

	/* RX bursts in front of a buffer across regions 0 and 1, and a frame
	 * into it through vnet_rx_packet(). */
	vq_init(&s, q16r2, FZ_VQF_RX | FZ_VQF_HOST_USED, 0);
	for (uint16_t i = 0; i < 5; i++) {
		vq_desc(&s, i, i == 2 ? end0 - 100 : heap + 1600u * i, 1600, W, 0);
		vq_chain(&s, i);
	}
	vq_op(&s, 3, FZ_OP_POP_BUFS, 8, FZ_BUFS_PUSH);
	vq_op(&s, 4, FZ_OP_RX, 0xea, 0x05, 0);
	vq_op(&s, 5, FZ_OP_POP_BUFS, 8, FZ_BUFS_PUSH, FZ_OP_PUBLISH, FZ_OP_KICK);
	vq_write("rx-bufs", &s);

	/* 64 segments of one chain, then 65 (VQ_E_TOO_MANY_SEGS). */
	vq_init(&s, q128, 0, 0);
	heap = vq_heap_gpa(q128);
	for (uint16_t i = 0; i < 65; i++)
		vq_desc(&s, i, heap + 16u * i, 16, i < 63 ? N : 0, (uint16_t)(i + 1));
	vq_desc(&s, 64, heap, 16, 0, 0);
	vq_chain(&s, 0);
	vq_chain(&s, 64);
	vq_write("max-segs", &s);
	s.desc[63].flags = N;
	vq_write("too-many-segs", &s);

	/* tests/virtio/test_vq_hostile.c */
	heap = vq_heap_gpa(q16);
#define HOSTILE(name, flags, ...) do {                   \
		vq_init(&s, q16, flags, 0);              \
		__VA_ARGS__;                             \
		vq_write(name, &s);                      \
	} while (0)
	HOSTILE("next-range", 0, vq_desc(&s, 0, heap, 64, N, 999); vq_chain(&s, 0));
	HOSTILE("loop", 0, vq_desc(&s, 0, heap, 64, N, 1); vq_desc(&s, 1, heap, 64, N, 0);
	        vq_chain(&s, 0));
	HOSTILE("avail-jump", 0, vq_desc(&s, 0, heap, 64, 0, 0); s.h.avail_idx = 17);
	HOSTILE("head-range", 0, vq_desc(&s, 0, heap, 64, 0, 0); vq_chain(&s, 16));
	HOSTILE("layout-w-then-r", FZ_VQF_RX, vq_desc(&s, 0, heap, 64, W | N, 1);
	        vq_desc(&s, 1, heap, 64, 0, 0); vq_chain(&s, 0));
	HOSTILE("direction", 0, vq_desc(&s, 0, heap, 64, W, 0); vq_chain(&s, 0));
	HOSTILE("zero-len", 0, vq_desc(&s, 0, heap, 0, 0, 0); vq_chain(&s, 0));
	HOSTILE("addr-outside", 0, vq_desc(&s, 0, FG_GPA_BASE + FZ_VQ_REGION_SIZE(q16) - 8, 64,
	                                   0, 0); vq_chain(&s, 0));
	HOSTILE("addr-wraps", 0, vq_desc(&s, 0, UINT64_C(0xfffffffffffff000),
	                                 FZ_VQ_RAW_LEN | 0x2000, 0, 0); vq_chain(&s, 0));
	HOSTILE("indirect-no-feature", 0, vq_desc(&s, 0, heap, 16, I, 0); vq_chain(&s, 0));
	HOSTILE("indirect-len", FZ_VQF_INDIRECT, vq_desc(&s, 0, heap, 24, I, 0);
	        vq_chain(&s, 0));
	HOSTILE("indirect-next", FZ_VQF_INDIRECT, vq_desc(&s, 0, heap, 16, I | N, 1);
	        vq_chain(&s, 0));
	ind[0] = (struct vring_desc){ .addr = heap, .len = 16, .flags = I };
	HOSTILE("indirect-nested", FZ_VQF_INDIRECT, vq_indirect(&s, 0, ind, 1); s.h.nheap = 16;
	        vq_desc(&s, 0, heap, 16, I, 0); vq_chain(&s, 0));
	ind[0] = (struct vring_desc){ .addr = heap, .len = 16, .flags = N, .next = 0 };
	HOSTILE("indirect-loop", FZ_VQF_INDIRECT, vq_indirect(&s, 0, ind, 1); s.h.nheap = 16;
	        vq_desc(&s, 0, heap, 16, I, 0); vq_chain(&s, 0));
	HOSTILE("rx-into-used-ring", FZ_VQF_RX,
	        vq_desc(&s, 0, FG_GPA_BASE + 0x1000, 256, W, 0); vq_chain(&s, 0);
	        vq_op(&s, 4, FZ_OP_RX, 200, 0, 0));
#undef HOSTILE
}

/* ---- fuzz_vq_packed ------------------------------------------------------------ */

/* A packed seed: the header (base 0x8000 | index, a ring of full minus trim),
 * then ops; with none, the target's driver posts navail chains. */
static void
pk_write(const char *name, uint8_t shape, uint8_t flags, uint16_t base, uint16_t trim,
         uint16_t navail, const uint8_t *ops, unsigned nops)
{
	static struct fz_out o;
	const struct fz_vq_hdr h = { .shape = shape, .flags = flags, .start_idx = base,
	                             .avail_idx = trim, .navail = navail };

	o = (struct fz_out){ 0 };
	fz_vq_hdr_write(&o, &h);
	if (nops > 0)
		fz_put(&o, ops, nops);
	seed_write("fuzz_vq_packed", name, &o);
}

static void
seeds_vq_packed(void)
{
	const uint8_t q16 = FZ_VQ_SHAPE(4, 1, 0), q256 = FZ_VQ_SHAPE(8, 2, 1);
	/* post 3 chains, pop/push them, publish, kick; wrap with more */
	static const uint8_t laps[] = {
		FZ_OP_AVAIL_IDX, 2, 1, 0, FZ_OP_AVAIL_IDX, 0, 2, 0, FZ_OP_AVAIL_IDX, 1, 3, 0,
		FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0,
		FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUBLISH, FZ_OP_KICK,
		FZ_OP_AVAIL_IDX, 3, 4, 0, FZ_OP_AVAIL_IDX, 3, 5, 0, FZ_OP_COUNT_AVAIL,
		FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_POP, FZ_OP_PUSH, 0, 0, 0, 0,
		FZ_OP_PUBLISH, FZ_OP_KICK,
	};
	/* RX: a mark, a frame, a rewind, the frame again, void since the mark */
	static const uint8_t rx[] = {
		FZ_OP_AVAIL_IDX, 0, 1, 0, FZ_OP_AVAIL_IDX, 0, 2, 0, FZ_OP_MARK,
		FZ_OP_RX, 0xea, 0x05, 0, FZ_OP_REWIND, FZ_OP_RX, 0xea, 0x05, 1, FZ_OP_VOID,
		FZ_OP_PUBLISH, FZ_OP_EVENT, 2, 0x80, RING_EVENT_FLAGS_DESC, 0, FZ_OP_KICK,
	};

	/* Bursts across the end of a ring of 16 (from descriptor 13): six
	 * buffers, a chain of two, two more; a burst takes six and gives three
	 * back, takes them again and pushes them, vq_pop() takes the chain. */
	static const uint8_t bufs[] = {
		FZ_OP_AVAIL_IDX, 0, 1, 0, FZ_OP_AVAIL_IDX, 0, 2, 0, FZ_OP_AVAIL_IDX, 0, 3, 0,
		FZ_OP_AVAIL_IDX, 0, 4, 0, FZ_OP_AVAIL_IDX, 0, 5, 0, FZ_OP_AVAIL_IDX, 0, 6, 0,
		FZ_OP_AVAIL_IDX, 1, 7, 0, FZ_OP_AVAIL_IDX, 0, 8, 0, FZ_OP_AVAIL_IDX, 0, 9, 0,
		FZ_OP_POP_BUFS, 16, 3, FZ_OP_POP_BUFS, 16, FZ_BUFS_PUSH, FZ_OP_POP,
		FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_PUSH, 0, 0, 0, 0,
		FZ_OP_PUSH, 0, 0, 0, 0, FZ_OP_POP_BUFS, 16, FZ_BUFS_PUSH | 1,
		FZ_OP_PUBLISH, FZ_OP_KICK, FZ_OP_POP_BUFS, 16, FZ_BUFS_PUSH, FZ_OP_PUBLISH,
	};

	pk_write("tx-default", q16, 0, 0x8000, 0, 12, NULL, 0);
	pk_write("tx-bufs-wrap", q16, 0, 0x8000 | 13, 0, 0, bufs, sizeof(bufs));
	pk_write("tx-ring-13-in-order", q16, FZ_VQF_HOST_USED | FZ_VQF_EVENT_IDX, 0x8000 | 11, 3,
	         0, laps, sizeof(laps));
	pk_write("rx-mrg-default", q256, FZ_VQF_RX | FZ_VQF_MRG_RXBUF, 0x8000 | 200, 0, 40,
	         NULL, 0);
	pk_write("rx-ops", q16, FZ_VQF_RX | FZ_VQF_MRG_RXBUF | FZ_VQF_EVENT_IDX, 0x8000 | 15, 0,
	         0, rx, sizeof(rx));
	pk_write("tx-indirect-wrap0", q16, FZ_VQF_INDIRECT, 5, 1, 9, NULL, 0);
}

/* ---- fuzz_cfg (the JSON seeds are files in corpus/fuzz_cfg) ------------------- */

static void
seeds_cfg(void)
{
	static const struct { uint8_t sel, arg; const char *name, *text; } c[] = {
		{ 1, 0, "cli-port", "ethdev:0000:3b:00.0,rxq=2" },
		{ 1, 1, "cli-cores", "1,3-5" },
		{ 1, 2, "cli-qp", "4" },
		{ 1, 3, "cli-poll", "busy" },
		{ 1, 4, "cli-log", "debug" },
		{ 1, 5, "cli-socket", "/run/vhostmq/vm0.sock" },
		{ 1, 6, "cli-steering", "flow-affinity" },
		{ 1, 7, "cli-rss-key",
		  "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa" },
		{ 1, 8, "cli-mtu", "9000" },
		{ 1, 9, "cli-offload", "guest_csum=off" },
		{ 2, 0, "got-string", "\"a\\u0001b\\\"c\\\\d\\u007f\\n\"" },
		{ 2, 200, "got-long", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u0002aaaaaaaa\"" },
		{ 2, 8, "got-real", "-1.5e300" },
		{ 2, 8, "got-int", "-9223372036854775808" },
	};
	static struct fz_out o;

	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		o = (struct fz_out){ 0 };
		fz_put8(&o, c[k].sel);
		fz_put8(&o, c[k].arg);
		fz_put(&o, c[k].text, strlen(c[k].text));
		seed_write("fuzz_cfg", c[k].name, &o);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	seed_dir = argv[1];
	seeds_vhu_sequences();
	seeds_vhu_hostile();
	seeds_vq();
	seeds_vq_packed();
	seeds_cfg();
	printf("fuzz_seeds: %u seeds in %s\n", seed_count, seed_dir);
	return 0;
}
