/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/fuzz_vq_packed.c - libFuzzer target for the packed ring
 * (virtio/vq_packed.c), the packed layout's one gate for guest ring data.
 * The input lays out a fake guest as fuzz_vq_walk's does (struct fz_vq_hdr:
 * shape, flags; for a packed ring start_idx is the base, index and wrap
 * counter, avail_idx trims the ring to any size, avail_flags and used_event
 * are the driver's event suppression, FZ_VQF_HOST_USED means IN_ORDER
 * here), writes nheap bytes where indirect tables live, then ndesc raw
 * descriptors from the base on (u64
 * addr, u32 len, u16 id, u16 flags; addr and len folded as fz_vq_addr() and
 * fz_vq_len() say), and then runs operations (FZ_OP_*, packed meanings below) interleaved with guest writes;
 * with none, the fake driver posts navail good chains and a poll loop takes
 * them. Invariants checked, beyond the sanitizers and the guard pages:
 * - a chain from vq_pop() has 1..VQ_MAX_SEGS segments inside one guest
 *   region each, only the queue's direction, lengths that add up, an id
 *   below the ring size and 1..size ring descriptors;
 * - a burst's pop (vq_pop_bufs_as()) takes, in order and across the end of
 *   the ring, the available descriptors from the position on while each is
 *   one descriptor of the queue's direction, not empty, wholly in one
 *   region (its buffer exactly that descriptor's bytes), with an id below
 *   the ring size; it stops early only in front of another shape or a
 *   descriptor not available, moves the position by what it took and
 *   nothing else; buffers given back (vq_unpop_bufs_as()) come again the
 *   same, and vq_push_bufs_as() adds shadow entries of length 0 in order;
 * - each vq_pop() result moves the position as vq.h says: by the chain's
 *   descriptors for a chain (and a chain violation is one shadow entry of
 *   length 0 under its id), not at all for empty, broken or a ring
 *   violation (which breaks the queue);
 * - positions stay below 2 * size, the shadow below VQ_SHADOW_MAX, and a
 *   publish empties it; vnet_rx_packet_packed() adds shadow entries whose lengths
 *   sum to header + frame when the packet went in and to 0 otherwise. */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "tests/fake_guest.h"
#include "tests/fuzz/fuzz.h"
#include "virtio/vnet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


struct fz_pk {
	struct fake_guest *g;
	uint64_t features;
	enum vq_dir dir;
	struct vnet_rx_fmt fmt;
	uint64_t end_gpa;
	struct fz_pend pend;
};

#define FZ_DEFAULT_POPS 256u

static bool fz_verbose;
static uint8_t fz_frame[VNET_MAX_FRAME];

static void
fz_check_positions(const struct fz_pk *f)
{
	const struct vq *vq = f->g->vq;
	uint32_t lim = 2u * vq->size;

	FZ_CHECK(vq->last_avail < lim && vq->used_idx < lim && vq->published_used < lim &&
	         vq->shadow_avail < lim, "positions %u/%u/%u/%u, ring of %u", vq->last_avail,
	         vq->used_idx, vq->published_used, vq->shadow_avail, vq->size);
	FZ_CHECK(vq->nshadow < VQ_SHADOW_MAX, "shadow of %u", vq->nshadow);
}

static uint16_t
fz_dist(const struct vq *vq, uint16_t a, uint16_t b)
{
	return (uint16_t)(b >= a ? b - a : b + 2u * vq->size - a);
}

static void
fz_pop(struct fz_pk *f)
{
	struct vq *vq = f->g->vq;
	uint16_t la0 = vq->last_avail, ns0 = vq->nshadow;
	bool broken0 = vq->broken;
	struct vq_chain c;
	enum vq_err e = vq_pop(vq, f->g->mem, &c);
	uint16_t moved = fz_dist(vq, la0, vq->last_avail), ndesc = (uint16_t)(c.head >> 16);

	if (fz_verbose)
		fprintf(stderr, "pop: %s (id %u, %u descs)\n", vq_strerror(e),
		        (unsigned)(uint16_t)c.head, ndesc);
	FZ_CHECK((unsigned)e < VQ_ERR_COUNT, "vq_pop returned %d", e);
	FZ_CHECK(!broken0 || e == VQ_E_BROKEN, "broken queue popped: %s", vq_strerror(e));
	switch (e) {
	case VQ_OK:
		FZ_CHECK(ndesc >= 1 && ndesc <= vq->size && moved == ndesc && vq->nshadow == ns0,
		         "ok: %u descriptors, moved %u", ndesc, moved);
		FZ_CHECK((uint16_t)c.head < vq->size, "id %u, ring of %u", (uint16_t)c.head,
		         vq->size);
		fz_check_segments(f->g, &c, f->dir);
		fz_pend_add(&f->pend, c.head);
		break;
	case VQ_EMPTY:
	case VQ_E_BROKEN:
	case VQ_E_ID_RANGE:
	case VQ_E_RING_CHAIN:
		FZ_CHECK(moved == 0 && vq->nshadow == ns0, "%s: moved %u", vq_strerror(e), moved);
		FZ_CHECK(e == VQ_EMPTY ? !vq->broken : vq->broken, "%s: broken %d",
		         vq_strerror(e), vq->broken);
		break;
	default:                         /* chain violations */
		FZ_CHECK(!vq->broken, "chain violation broke the queue: %s", vq_strerror(e));
		FZ_CHECK(ndesc >= 1 && moved == ndesc && vq->nshadow == ns0 + 1 &&
		         vq->shadow[ns0].len == 0 && vq->shadow[ns0].id == (uint16_t)c.head,
		         "%s: moved %u of %u, shadow %u", vq_strerror(e), moved, ndesc,
		         vq->nshadow);
		break;
	}
	fz_check_positions(f);
}

/* The descriptor at position c (CPU order), and whether the driver made it
 * available in c's lap. */
static struct vring_packed_desc
fz_pdesc_at(const struct fz_pk *f, uint16_t c, bool *avail)
{
	const struct vq *vq = f->g->vq;
	bool wrap = c < vq->size;
	const struct vring_packed_desc *d = &f->g->pdesc[wrap ? c : c - vq->size];
	uint16_t flags = le16toh(d->flags);

	*avail = (flags & (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED)) ==
	         (wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED);
	return (struct vring_packed_desc){ .addr = le64toh(d->addr), .len = le32toh(d->len),
	                                   .id = le16toh(d->id), .flags = flags };
}

/* A burst's pop: up to n buffers (no more than the shadow can hold once
 * every chain popped so far is pushed: a device pushes what it pops before
 * it publishes), each the available, usual descriptor at the next position,
 * in order, across the end of the ring, under an id below the ring size;
 * it stops early only in front of an available descriptor of another shape
 * (more) or one not available, and never breaks the ring. Then the last
 * (ctl & FZ_BUFS_BACK) % (taken + 1) go back, and the rest are pushed at
 * once (FZ_BUFS_PUSH: shadow entries of length 0) or wait for FZ_OP_PUSH. */
static void
fz_pop_bufs(struct fz_pk *f, uint8_t want, uint8_t ctl)
{
	static struct vq_buf b[UINT8_MAX];
	struct vq *vq = f->g->vq;
	uint16_t la0 = vq->last_avail, ns0 = vq->nshadow, ui0 = vq->used_idx, back, keep;
	uint32_t held = vq->nshadow + (f->pend.tail - f->pend.head);
	uint32_t room = held < VQ_SHADOW_MAX - 1 ? VQ_SHADOW_MAX - 1 - held : 0;
	uint16_t n = fz_pend_room(&f->pend, (uint16_t)(want < room ? want : room));
	uint64_t errs0 = vq->chain_errs;
	bool broken0 = vq->broken, more, avail;
	uint16_t got = vq_pop_bufs_as(vq, f->g->mem, b, n, &more, true);
	struct vring_packed_desc d;

	if (fz_verbose)
		fprintf(stderr, "pop_bufs %u: %u%s\n", n, got, more ? ", more" : "");
	FZ_CHECK(got <= n && !(more && got == n), "%u of %u taken, more %d", got, n, more);
	FZ_CHECK(fz_dist(vq, la0, vq->last_avail) == got && vq->nshadow == ns0 &&
	         vq->used_idx == ui0 && vq->chain_errs == errs0 && vq->broken == broken0,
	         "%u taken: moved %u, shadow %u, broken %d", got, fz_dist(vq, la0, vq->last_avail),
	         vq->nshadow, vq->broken);
	FZ_CHECK(!broken0 || (got == 0 && !more), "a broken ring gave %u buffers", got);
	for (uint16_t k = 0; k < got; k++) {
		d = fz_pdesc_at(f, vq_packed_advance(vq, la0, k), &avail);
		FZ_CHECK(avail && d.id < vq->size && b[k].head == (d.id | UINT32_C(1) << 16),
		         "buffer %u: head 0x%x, descriptor id %u, available %d", k, b[k].head, d.id,
		         avail);
		fz_check_buf(f->g, f->dir, &b[k], d.addr, d.len, d.flags);
	}
	d = fz_pdesc_at(f, vq_packed_advance(vq, la0, got), &avail);
	if (more)
		FZ_CHECK(avail && (d.id >= vq->size || !fz_usual(f->g, f->dir, d.addr, d.len, d.flags)),
		         "stopped in front of a usual buffer, or one not available");
	else if (got < n && !broken0)
		FZ_CHECK(!avail, "stopped in front of an available descriptor");
	back = (uint16_t)((ctl & FZ_BUFS_BACK) % (got + 1));
	fz_bufs_give_back(vq, f->g->mem, b, got, back, true);
	keep = (uint16_t)(got - back);
	FZ_CHECK(vq->last_avail == vq_packed_advance(vq, la0, keep),
	         "position %u after %u kept from %u", vq->last_avail, keep, la0);
	if (ctl & FZ_BUFS_PUSH) {
		vq_push_bufs_as(vq, b, NULL, keep, true);
		FZ_CHECK(vq->nshadow == ns0 + keep && fz_dist(vq, ui0, vq->used_idx) == keep,
		         "%u pushed: shadow %u, used moved %u", keep, vq->nshadow,
		         fz_dist(vq, ui0, vq->used_idx));
		for (uint16_t k = 0; k < keep; k++)
			FZ_CHECK(vq->shadow[ns0 + k].id == (uint16_t)b[k].head &&
			         vq->shadow[ns0 + k].ndesc == 1 && vq->shadow[ns0 + k].len == 0,
			         "shadow entry %u: id %u, %u descriptors, %u bytes", k,
			         vq->shadow[ns0 + k].id, vq->shadow[ns0 + k].ndesc,
			         vq->shadow[ns0 + k].len);
	} else {
		for (uint16_t k = 0; k < keep; k++)
			fz_pend_add(&f->pend, b[k].head);
	}
	fz_check_positions(f);
}

static void
fz_push(struct fz_pk *f, uint32_t written)
{
	struct vq *vq = f->g->vq;
	uint16_t ui0 = vq->used_idx, ns0 = vq->nshadow;
	uint32_t head;

	if (!fz_pend_take(&f->pend, &head))
		return;                      /* a device pushes only what it popped */
	vq_push(vq, head, written);
	FZ_CHECK(vq->nshadow == ns0 + 1 && fz_dist(vq, ui0, vq->used_idx) == head >> 16,
	         "vq_push: shadow %u, used moved %u for %u descriptors", vq->nshadow,
	         fz_dist(vq, ui0, vq->used_idx), head >> 16);
	fz_check_positions(f);
}

static void
fz_publish(struct fz_pk *f)
{
	struct vq *vq = f->g->vq;
	bool want = vq->nshadow != 0;

	FZ_CHECK(vq_publish(vq) == want, "vq_publish: want %d", want);
	FZ_CHECK(vq->nshadow == 0 && vq->published_used == vq->used_idx,
	         "published %u, used %u, shadow %u", vq->published_used, vq->used_idx,
	         vq->nshadow);
	if (want)
		f->pend.mark_ok = false;
}

static void
fz_rx(struct fz_pk *f, uint16_t len, uint8_t pieces)
{
	struct vq *vq = f->g->vq;
	uint16_t ns0 = vq->nshadow;
	unsigned npkt = 1 + pieces % 4;
	struct iovec pkt[4];
	uint32_t off = 0;
	uint64_t sum = 0;
	enum vnet_rx_res r;

	if (f->dir != VQ_DIR_DEVICE_WRITES)
		return;
	for (unsigned k = 0; k < npkt; k++) {
		uint32_t n = k + 1 == npkt ? len - off : len / npkt;

		pkt[k] = (struct iovec){ .iov_base = fz_frame + off, .iov_len = n };
		off += n;
	}
	r = vnet_rx_packet_packed(vq, f->g->mem, &f->fmt, 0, pkt, npkt, len);
	if (fz_verbose)
		fprintf(stderr, "rx %u bytes in %u pieces: %d, %u buffers\n", len, npkt, r,
		        vq->nshadow - ns0);
	FZ_CHECK(r <= VNET_RX_BROKEN, "vnet_rx_packet returned %d", r);
	FZ_CHECK(r != VNET_RX_BROKEN || vq->broken, "rx broken, queue is not");
	for (uint16_t k = ns0; k < vq->nshadow; k++)
		sum += vq->shadow[k].len;
	if (r == VNET_RX_OK)
		FZ_CHECK(sum == (uint64_t)f->fmt.hdr_len + len, "rx ok: %llu bytes used for %u",
		         (unsigned long long)sum, f->fmt.hdr_len + len);
	else
		FZ_CHECK(sum == 0, "rx %d: %llu bytes used", r, (unsigned long long)sum);
	fz_check_positions(f);
}

/* The fake driver posts a well-formed chain of 1 + n % 4 elements carved
 * from the heap (writable on RX), id folded into the ring, if the ring has
 * room for it (a driver never overwrites what it has not got back). */
static void
fz_post(struct fz_pk *f, uint8_t n, uint16_t id)
{
	struct fg_pk_elem e[4];
	unsigned k = 1 + n % 4;

	if (f->g->pk_out + k > f->g->qsize)
		return;
	for (unsigned i = 0; i < k; i++)
		e[i] = (struct fg_pk_elem){ f->g->heap_gpa + 2048u * i, 1500,
		                            f->dir == VQ_DIR_DEVICE_WRITES ? VRING_DESC_F_WRITE : 0 };
	fg_pk_post(f->g, e, k, (uint16_t)(id % f->g->qsize));
}

static void
fz_desc(struct fz_pk *f, struct fz_in *in, uint16_t i)
{
	uint64_t addr = fz_u64(in);
	uint32_t len = fz_u32(in);
	uint16_t id = fz_u16(in), flags = fz_u16(in);

	fg_pk_raw(f->g, (uint16_t)(i % f->g->qsize), fz_vq_addr(addr, f->end_gpa),
	          fz_vq_len(len), id, flags);
}

static void
fz_remap(struct fz_pk *f)
{
	FZ_CHECK(fg_map(f->g, f->dir, f->features) == VQ_OK, "the fake guest's rings");
	fz_pend_reset(&f->pend);
}

static void
fz_op(struct fz_pk *f, struct fz_in *in)
{
	struct vq *vq = f->g->vq;
	enum fz_vq_op op = (enum fz_vq_op)(fz_u8(in) % FZ_OP_COUNT);
	uint16_t a, b;

	switch (op) {
	case FZ_OP_POP:
		fz_pop(f);
		break;
	case FZ_OP_PUSH:
		fz_push(f, fz_u32(in));
		break;
	case FZ_OP_PUBLISH:
		fz_publish(f);
		break;
	case FZ_OP_RX:
		a = fz_u16(in);
		fz_rx(f, a, fz_u8(in));
		break;
	case FZ_OP_AVAIL_IDX:            /* packed: the driver posts a chain */
		a = fz_u8(in);
		fz_post(f, (uint8_t)a, fz_u16(in));
		break;
	case FZ_OP_AVAIL_ENTRY:          /* packed: u16 index, u16 flags */
		a = fz_u16(in);
		b = fz_u16(in);
		f->g->pdesc[a % f->g->qsize].flags = htole16(b);
		break;
	case FZ_OP_DESC:
		fz_desc(f, in, fz_u16(in));
		break;
	case FZ_OP_COUNT_AVAIL:
		a = vq_avail_count(vq);
		FZ_CHECK(a <= vq->size && (!vq->broken || a == 0), "%u avail descriptors", a);
		fz_check_positions(f);
		break;
	case FZ_OP_REMAP:
		fz_remap(f);
		break;
	case FZ_OP_EVENT:                /* packed: the driver's event suppression */
		a = fz_u16(in);
		fg_pk_set_driver_event(f->g, fz_u16(in), a);
		break;
	case FZ_OP_TX_GATE:              /* the TX gate on a packed chain */
		if (f->dir == VQ_DIR_DEVICE_READS) {
			struct vnet_tx_fmt fmt = { .hdr_len = 12, .csum = true, .tso4 = true,
			                           .tso6 = true, .max_frame = 1518 };
			struct vq_chain c;
			struct vnet_tx_req req;

			(void)fz_u8(in);
			(void)fz_u16(in);
			if (vq_pop(vq, f->g->mem, &c) == VQ_OK) {
				fz_pend_add(&f->pend, c.head);
				(void)vnet_tx_check(&fmt, &c, &req);
			}
		}
		break;
	case FZ_OP_POP_BUFS:
		a = fz_u8(in);
		fz_pop_bufs(f, (uint8_t)a, fz_u8(in));
		break;
	default:                         /* the operations both targets share */
		(void)fz_ring_op(op, vq, f->g->mem, &f->pend, in);
		fz_check_positions(f);       /* a rewind moves them back */
		break;
	}
}

static void
fz_default(struct fz_pk *f, uint16_t navail)
{
	struct vq *vq = f->g->vq;

	for (uint16_t k = 0; k < navail && k < f->g->qsize; k++)
		fz_post(f, (uint8_t)k, k);
	for (uint32_t k = 0; k < FZ_DEFAULT_POPS; k++) {
		uint16_t ns0 = vq->nshadow;

		if (f->dir == VQ_DIR_DEVICE_WRITES) {
			fz_rx(f, (uint16_t)(k & 1 ? 60 : 1514), (uint8_t)k);
			if (vq->nshadow == ns0)
				break;
		} else {
			fz_pop(f);
			if (f->pend.head == f->pend.tail && vq->nshadow == ns0)
				break;
			fz_push(f, 0);
		}
		if (k % 32 == 31)
			fz_publish(f);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_report_init();
	fz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_pk f;
	struct fz_in in = { .p = data, .n = size };
	struct fz_vq_hdr h;
	struct fg_opts o;
	uint32_t full;
	size_t got;
	const uint8_t *heap;

	fz_vq_hdr_read(&in, &h);
	memset(&f, 0, sizeof(f));
	f.dir = h.flags & FZ_VQF_RX ? VQ_DIR_DEVICE_WRITES : VQ_DIR_DEVICE_READS;
	f.features = VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
	             (h.flags & FZ_VQF_EVENT_IDX ? VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
	             (h.flags & FZ_VQF_INDIRECT ? VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0) |
	             (h.flags & FZ_VQF_HOST_USED ? VIRTIO_BIT(VIRTIO_F_IN_ORDER) : 0);
	f.fmt = (struct vnet_rx_fmt){
		.mrg_rxbuf = h.flags & FZ_VQF_MRG_RXBUF,
		.hdr_len = (h.flags & FZ_VQF_HDR10) && !(h.flags & FZ_VQF_MRG_RXBUF) ? 10 : 12,
	};
	/* Any size a packed ring may have: a power of two trimmed by up to half. */
	full = 1u << FZ_VQ_QSIZE_LOG2(h.shape);
	o = (struct fg_opts){
		.qsize = full - h.avail_idx % (full / 2 + 1),
		.n_regions = FZ_VQ_NREGIONS(h.shape),
		.region_size = FZ_VQ_REGION_SIZE(h.shape),
		.dir = f.dir, .features = f.features, .no_map = true,
	};
	if (o.qsize == 0)
		o.qsize = 1;
	f.g = fg_new_opts(&o);
	if (f.g == NULL)
		return 0;                    /* the rings do not fit region 0: no guest */
	/* The base: an index past the ring would be refused; fold it in. */
	f.g->base = (uint16_t)((h.start_idx & 0x8000) | ((h.start_idx & 0x7fff) % f.g->qsize));
	f.end_gpa = fg_region_end(f.g, f.g->n_regions - 1);
	heap = fz_span(&in, h.nheap, &got);
	if (got > f.g->heap_end - f.g->heap_gpa)
		got = f.g->heap_end - f.g->heap_gpa;
	FZ_CHECK(fg_write(f.g, f.g->heap_gpa, heap, got) == 0, "heap write");
	fz_remap(&f);
	fg_pk_set_driver_event(f.g, h.avail_flags, h.used_event);
	for (uint32_t i = 0; i < h.ndesc && i < f.g->qsize; i++)
		fz_desc(&f, &in, (uint16_t)((f.g->base & 0x7fff) + i));

	if (fz_left(&in) == 0)
		fz_default(&f, h.navail);
	while (fz_left(&in) > 0)
		fz_op(&f, &in);
	fz_publish(&f);
	(void)vq_kick_needed(f.g->vq);
	fg_free(f.g);
	return 0;
}
