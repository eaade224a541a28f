/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fake_guest.c - the fake virtio driver behind fake_guest.h. Memory comes
 * from one memfd; each region is a MAP_SHARED window of it placed inside a
 * PROT_NONE reservation, one guard page after the previous region. Rings are
 * laid out at the start of region 0 (desc, then avail, then used on its own
 * page, as a legacy driver would), and fg_alloc() hands out the rest of region 0. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tests/fake_guest.h"

#define FG_PAGE UINT64_C(4096)

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

uint64_t
fg_region_gpa(const struct fake_guest *g, uint32_t k)
{
	return g->region[k].gpa;
}

uint64_t
fg_region_end(const struct fake_guest *g, uint32_t k)
{
	return g->region[k].gpa + g->region[k].size;
}

static const struct gmem_region *
fg_region_of(const struct fake_guest *g, uint64_t gpa)
{
	for (uint32_t k = 0; k < g->n_regions; k++)
		if (gpa - g->region[k].gpa < g->region[k].size)
			return &g->region[k];
	return NULL;
}

uint64_t
fg_fva(const struct fake_guest *g, uint64_t gpa)
{
	const struct gmem_region *r = fg_region_of(g, gpa);

	/* Outside guest memory: an fva that is in no region either. */
	return r != NULL ? r->fva + (gpa - r->gpa) : UINT64_C(0x10);
}

void *
fg_hva(const struct fake_guest *g, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = fg_region_of(g, gpa);
	uint64_t off;

	if (r == NULL)
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return (uint8_t *)r->hva + off;
}

uint64_t
fg_alloc(struct fake_guest *g, uint64_t len, uint64_t align)
{
	uint64_t gpa = align_up(g->heap_gpa, align ? align : 1);

	if (gpa > g->heap_end || len > g->heap_end - gpa)
		abort();                 /* a test asked for more than region 0 holds */
	g->heap_gpa = gpa + len;
	return gpa;
}

/* Calls fn on each contiguous host piece of [gpa, gpa + len). */
static int
fg_pieces(const struct fake_guest *g, uint64_t gpa, uint64_t len,
          void (*fn)(void *hva, uint64_t off, uint64_t n, void *arg), void *arg)
{
	uint64_t done = 0;

	while (done < len) {
		const struct gmem_region *r = fg_region_of(g, gpa + done);
		uint64_t off, n;

		if (r == NULL)
			return -1;
		off = gpa + done - r->gpa;
		n = r->size - off;
		if (n > len - done)
			n = len - done;
		fn((uint8_t *)r->hva + off, done, n, arg);
		done += n;
	}
	return 0;
}

static void
piece_write(void *hva, uint64_t off, uint64_t n, void *arg)
{
	memcpy(hva, (const uint8_t *)arg + off, n);
}

static void
piece_read(void *hva, uint64_t off, uint64_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, hva, n);
}

static void
piece_fill(void *hva, uint64_t off, uint64_t n, void *arg)
{
	(void)off;
	memset(hva, *(const int *)arg, n);
}

int
fg_write(struct fake_guest *g, uint64_t gpa, const void *src, uint64_t len)
{
	if (gpa + len < gpa)
		return -1;
	return fg_pieces(g, gpa, len, piece_write, (void *)src);
}

int
fg_read(const struct fake_guest *g, uint64_t gpa, void *dst, uint64_t len)
{
	if (gpa + len < gpa)
		return -1;
	return fg_pieces(g, gpa, len, piece_read, dst);
}

int
fg_fill(struct fake_guest *g, uint64_t gpa, int byte, uint64_t len)
{
	if (gpa + len < gpa)
		return -1;
	return fg_pieces(g, gpa, len, piece_fill, &byte);
}

static struct vring_desc
desc_le(uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	return (struct vring_desc){
		.addr = htole64(gpa), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};
}

void
fg_desc(struct fake_guest *g, uint16_t i, uint64_t gpa, uint32_t len,
        uint16_t flags, uint16_t next)
{
	if (i >= g->qsize)
		abort();                 /* test bug: the device would never see it */
	g->desc[i] = desc_le(gpa, len, flags, next);
}

int
fg_table(struct fake_guest *g, uint64_t gpa, const struct vring_desc *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc le = desc_le(d[k].addr, d[k].len, d[k].flags, d[k].next);

		if (fg_write(g, gpa + 16ull * k, &le, sizeof(le)) != 0)
			return -1;
	}
	return 0;
}

uint16_t
fg_avail_idx(const struct fake_guest *g)
{
	return le16toh(__atomic_load_n(&g->avail->idx, __ATOMIC_RELAXED));
}

void
fg_set_avail_idx(struct fake_guest *g, uint16_t idx)
{
	/* Release pairs with the device's acquire load in vq_avail_snapshot(). */
	__atomic_store_n(&g->avail->idx, htole16(idx), __ATOMIC_RELEASE);
}

void
fg_avail(struct fake_guest *g, uint16_t head)
{
	uint16_t idx = fg_avail_idx(g);

	g->avail->ring[idx & (g->qsize - 1)] = htole16(head);
	fg_set_avail_idx(g, (uint16_t)(idx + 1));
}

void
fg_set_avail_flags(struct fake_guest *g, uint16_t flags)
{
	__atomic_store_n(&g->avail->flags, htole16(flags), __ATOMIC_RELAXED);
}

void
fg_set_used_event(struct fake_guest *g, uint16_t v)
{
	__atomic_store_n(&g->avail->ring[g->qsize], htole16(v), __ATOMIC_RELAXED);
}

void
fg_set_used_idx(struct fake_guest *g, uint16_t idx)
{
	__atomic_store_n(&g->used->idx, htole16(idx), __ATOMIC_RELAXED);
}

uint16_t
fg_used_idx(const struct fake_guest *g)
{
	/* Acquire pairs with the device's release store in vq_publish(). */
	return le16toh(__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE));
}

uint16_t
fg_used_flags(const struct fake_guest *g)
{
	return le16toh(__atomic_load_n(&g->used->flags, __ATOMIC_RELAXED));
}

uint16_t
fg_avail_event(const struct fake_guest *g)
{
	const uint16_t *p = (const uint16_t *)&g->used->ring[g->qsize];

	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

struct vring_used_elem
fg_used_elem(const struct fake_guest *g, uint16_t idx)
{
	const struct vring_used_elem *u = &g->used->ring[idx & (g->qsize - 1)];

	return (struct vring_used_elem){ .id = le32toh(u->id), .len = le32toh(u->len) };
}

enum vq_err
fg_map(struct fake_guest *g, enum vq_dir dir, uint64_t features)
{
	/* The driver starts where the device does (a packed ring's base). */
	g->pk_next = g->pk_used = g->base & 0x7fff;
	g->pk_out = 0;
	g->pk_wrap = g->pk_used_wrap = (g->base >> 15) & 1;
	return vq_map(g->vq, g->mem, &g->addrs, g->qsize, dir, features, g->base);
}

uint16_t
fg_pk_avail_bits(const struct fake_guest *g)
{
	return g->pk_wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}

void
fg_pk_raw(struct fake_guest *g, uint16_t i, uint64_t gpa, uint32_t len, uint16_t id,
          uint16_t flags)
{
	struct vring_packed_desc *d;

	if (i >= g->qsize)
		abort();                 /* test bug */
	d = &g->pdesc[i];
	d->addr = htole64(gpa);
	d->len = htole32(len);
	d->id = htole16(id);
	/* Release pairs with the device's acquire load of a head's flags. */
	__atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELEASE);
}

uint16_t
fg_pk_post(struct fake_guest *g, const struct fg_pk_elem *e, unsigned n, uint16_t id)
{
	uint16_t head = g->pk_next, head_flags = 0;

	if (n == 0 || n > g->qsize || id >= g->qsize)
		abort();                 /* test bug */
	for (unsigned k = 0; k < n; k++) {
		uint16_t i = g->pk_next;
		uint16_t flags = (uint16_t)(e[k].flags | fg_pk_avail_bits(g) |
		                            (k + 1 < n ? VRING_DESC_F_NEXT : 0));

		g->pdesc[i].addr = htole64(e[k].gpa);
		g->pdesc[i].len = htole32(e[k].len);
		g->pdesc[i].id = htole16(k + 1 == n ? id : 0);
		if (k == 0)
			head_flags = flags;
		else
			g->pdesc[i].flags = htole16(flags);
		if (++g->pk_next == g->qsize) {
			g->pk_next = 0;
			g->pk_wrap = !g->pk_wrap;
		}
	}
	g->pk_ndesc[id] = (uint16_t)n;
	g->pk_out += n;
	__atomic_store_n(&g->pdesc[head].flags, htole16(head_flags), __ATOMIC_RELEASE);
	return head;
}

int
fg_pk_table(struct fake_guest *g, uint64_t gpa, const struct fg_pk_elem *e, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct vring_packed_desc le = { .addr = htole64(e[k].gpa), .len = htole32(e[k].len),
		                                .flags = htole16(e[k].flags) };

		if (fg_write(g, gpa + 16ull * k, &le, sizeof(le)) != 0)
			return -1;
	}
	return 0;
}

bool
fg_pk_used(struct fake_guest *g, uint16_t *id, uint32_t *len, uint16_t *flags)
{
	const struct vring_packed_desc *d = &g->pdesc[g->pk_used];
	uint16_t f = le16toh(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));
	uint16_t n;

	if (g->pk_out == 0 ||
	    ((f & VRING_PACKED_DESC_F_USED) != 0) != g->pk_used_wrap ||
	    ((f & VRING_PACKED_DESC_F_AVAIL) != 0) != g->pk_used_wrap)
		return false;
	*id = le16toh(d->id);
	*len = le32toh(d->len);
	*flags = f;
	if (*id >= g->qsize)
		abort();                 /* the device named a buffer we never posted */
	n = g->pk_ndesc[*id];
	g->pk_out = n < g->pk_out ? g->pk_out - n : 0;
	g->pk_used = (uint16_t)(g->pk_used + n);
	if (g->pk_used >= g->qsize) {
		g->pk_used = (uint16_t)(g->pk_used - g->qsize);
		g->pk_used_wrap = !g->pk_used_wrap;
	}
	return true;
}

void
fg_pk_set_driver_event(struct fake_guest *g, uint16_t flags, uint16_t off_wrap)
{
	struct vring_packed_event *e = (struct vring_packed_event *)(void *)g->avail;

	__atomic_store_n(&e->off_wrap, htole16(off_wrap), __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, htole16(flags), __ATOMIC_RELAXED);
}

uint16_t
fg_pk_device_event_flags(const struct fake_guest *g)
{
	const struct vring_packed_event *e = (const struct vring_packed_event *)(void *)g->used;

	return le16toh(__atomic_load_n(&e->flags, __ATOMIC_RELAXED));
}

/* Maps the memfd as n adjacent-gpa regions, each followed by a guard page. */
static int
fg_map_regions(struct fake_guest *g, uint32_t n, uint64_t size)
{
	uint8_t *at;

	g->fd = memfd_create("vhostmq-fake-guest", MFD_CLOEXEC);
	if (g->fd < 0)
		return -1;
	if (ftruncate(g->fd, (off_t)(n * size)) != 0)
		return -1;
	g->resv_len = (size_t)(n * (size + FG_PAGE));
	g->resv = mmap(NULL, g->resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->resv == MAP_FAILED) {
		g->resv = NULL;
		return -1;
	}
	at = g->resv;
	for (uint32_t k = 0; k < n; k++) {
		void *p = mmap(at, (size_t)size, PROT_READ | PROT_WRITE,
		               MAP_SHARED | MAP_FIXED, g->fd, (off_t)(k * size));

		if (p == MAP_FAILED)
			return -1;
		g->region[k] = (struct gmem_region){
			.gpa = FG_GPA_BASE + k * size,
			.fva = FG_FVA_BASE + k * FG_FVA_STRIDE,
			.size = size,
			.hva = p,
			.map_base = p,
			.map_len = (size_t)size,
		};
		at += size + FG_PAGE;
	}
	g->n_regions = n;
	return 0;
}

struct fake_guest *
fg_new_opts(const struct fg_opts *o)
{
	uint32_t qsize = o->qsize ? o->qsize : FG_QSIZE;
	uint32_t n = o->n_regions ? o->n_regions : 1;
	uint64_t size = o->region_size ? o->region_size : FG_REGION_SIZE;
	struct fake_guest *g;
	uint64_t end;
	uint32_t bad;

	if (n > GMEM_MAX_REGIONS || size % FG_PAGE != 0 || qsize > VQ_SIZE_MAX)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->fd = -1;
	g->vq = &g->vq_s;
	g->qsize = qsize;
	if (fg_map_regions(g, n, size) != 0)
		goto err;
	if (gmem_new(g->region, n, &g->mem, &bad) != GMEM_OK)
		goto err;

	/* Spec 2.7 alignment (16 / 2 / 4); used on its own page as legacy does. */
	g->desc_gpa = FG_GPA_BASE;
	g->avail_gpa = align_up(g->desc_gpa + vring_desc_bytes(qsize), 64);
	g->used_gpa = align_up(g->avail_gpa + vring_avail_bytes(qsize), FG_PAGE);
	end = align_up(g->used_gpa + vring_used_bytes(qsize), FG_PAGE);
	if (end > fg_region_end(g, 0))
		goto err;
	g->heap_gpa = end;
	g->heap_end = fg_region_end(g, 0);
	g->desc = fg_hva(g, g->desc_gpa, vring_desc_bytes(qsize));
	g->avail = fg_hva(g, g->avail_gpa, vring_avail_bytes(qsize));
	g->used = fg_hva(g, g->used_gpa, vring_used_bytes(qsize));
	g->addrs = (struct vq_addrs){
		.desc_fva = fg_fva(g, g->desc_gpa),
		.avail_fva = fg_fva(g, g->avail_gpa),
		.used_fva = fg_fva(g, g->used_gpa),
	};
	g->pdesc = (struct vring_packed_desc *)(void *)g->desc;   /* the same area */
	g->pk_ndesc = calloc(qsize, sizeof(g->pk_ndesc[0]));
	if (g->pk_ndesc == NULL)
		goto err;
	g->base = o->start_idx;
	if (o->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) {
		/* A packed ring's areas start zeroed (spec 2.8.12). */
		memset(g->desc, 0, vring_desc_bytes(qsize));
	} else {
		fg_set_avail_idx(g, o->start_idx);
		fg_set_used_idx(g, o->start_idx);
		fg_set_used_event(g, o->start_idx);
	}
	if (!o->no_map && fg_map(g, o->dir, o->features) != VQ_OK)
		goto err;
	return g;
err:
	fg_free(g);
	return NULL;
}

struct fake_guest *
fg_new(uint32_t qsize, enum vq_dir dir, uint64_t features)
{
	const struct fg_opts o = { .qsize = qsize, .dir = dir, .features = features };

	return fg_new_opts(&o);
}

void
fg_free(struct fake_guest *g)
{
	if (g == NULL)
		return;
	gmem_free(g->mem);
	free(g->pk_ndesc);
	if (g->resv != NULL)
		munmap(g->resv, g->resv_len);   /* takes the region windows with it */
	if (g->fd >= 0)
		close(g->fd);
	free(g);
}
