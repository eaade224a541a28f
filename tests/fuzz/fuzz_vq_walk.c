/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/fuzz_vq_walk.c - libFuzzer target for the split-ring walker, the
 * one gate for guest ring data: the input lays out a fake guest (ring size,
 * regions, features, direction), fills its descriptor table, avail ring and an
 * area for indirect tables, then runs a sequence of device operations (vq_pop,
 * vq_pop_bufs_as with unpop and push, vq_push, vq_publish, vq_kick_needed,
 * vq_set_notify, mark/rewind/void, vnet_rx_packet) interleaved with guest
 * writes to its rings; layout in
 * fuzz.h. Guest memory is a memfd with a PROT_NONE page after every region
 * (tests/fake_guest.c), so a read or write past a region's host mapping
 * faults even where ASan, which does not track mmap'd memory, would not see it.
 * Invariants checked, beyond the sanitizers:
 * - a chain from vq_pop() has 1..VQ_MAX_SEGS segments, each non-empty and
 *   entirely inside one guest region's host mapping, readable ones before
 *   writable ones, only the direction the queue allows, lengths summing to
 *   out_len/in_len, and the head the guest put in the avail ring;
 * - a burst's pop (vq_pop_bufs_as()) takes, in order, the chains at the
 *   next avail slots while each is one descriptor of the queue's direction,
 *   not empty, wholly in one region (its buffer exactly that descriptor's
 *   bytes), and stops early only in front of another shape or where the
 *   ring has no more; it moves last_avail by what it took and nothing else
 *   (but for a jumped avail index, which breaks the ring); chains given back
 *   (vq_unpop_bufs_as()) come again the same, and vq_push_bufs_as() writes
 *   their used entries, length 0, in order;
 * - each vq_pop() result moves the indices as vq.h says (a chain violation
 *   consumes one entry and returns it with length 0, a ring violation breaks
 *   the queue for good), and vnet_rx_packet() gives every avail entry it
 *   consumed exactly one used entry (but for an out-of-range head, which
 *   breaks the queue), whose lengths add up to header + frame when it says
 *   the packet went in, 0, and to 0 when it says it did not. The lengths are
 *   checked when the input moves the used ring out of guest memory
 *   (FZ_VQF_HOST_USED): else a guest may aim a receive buffer at its own
 *   used ring, and the frame overwrites them. */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "tests/fake_guest.h"
#include "tests/fuzz/fuzz.h"
#include "virtio/vnet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


struct fz_vq {
	struct fake_guest *g;
	uint64_t features;
	enum vq_dir dir;
	struct vnet_rx_fmt fmt;
	uint64_t end_gpa;                /* one past the last region */
	struct fz_pend pend;
	/* FZ_VQF_HOST_USED: the used ring the device writes, moved out of guest
	 * memory into a malloc'd copy of exactly its size (so ASan bounds it). */
	struct vring_used *host_used;
};

#define FZ_DEFAULT_POPS 256u             /* 8 bursts of 32 */

static bool fz_verbose;                  /* FUZZ_VERBOSE=1: each result, for replays */
static uint8_t fz_frame[VNET_MAX_FRAME];
/* A used entry as the device wrote it (host copy or guest ring). */
static struct vring_used_elem
fz_used_elem(const struct fz_vq *f, uint16_t i)
{
	const struct vring_used_elem *u = &f->g->vq->used->ring[i & (f->g->qsize - 1)];

	return (struct vring_used_elem){ .id = le32toh(u->id), .len = le32toh(u->len) };
}

static uint16_t
fz_avail_entry(const struct fake_guest *g, uint16_t slot)
{
	return le16toh(g->avail->ring[slot & (g->qsize - 1)]);
}

static void
fz_check_chain(const struct fz_vq *f, const struct vq_chain *c, uint16_t want_head)
{
	FZ_CHECK(c->head == want_head, "head %u, avail entry says %u", c->head, want_head);
	FZ_CHECK(c->head < f->g->qsize, "head %u, ring of %u", c->head, f->g->qsize);
	fz_check_segments(f->g, c, f->dir);
}

static void
fz_pop(struct fz_vq *f)
{
	struct vq *vq = f->g->vq;
	uint16_t la0 = vq->last_avail, ui0 = vq->used_idx;
	uint16_t head = fz_avail_entry(f->g, la0);
	bool broken0 = vq->broken;
	struct vq_chain c;
	enum vq_err e = vq_pop(vq, f->g->mem, &c);
	uint16_t dla = (uint16_t)(vq->last_avail - la0), dui = (uint16_t)(vq->used_idx - ui0);

	if (fz_verbose)
		fprintf(stderr, "pop: %s (head %u, %u out, %u in)\n", vq_strerror(e),
		        e == VQ_OK ? c.head : head, e == VQ_OK ? c.n_out : 0,
		        e == VQ_OK ? c.n_in : 0);
	FZ_CHECK((unsigned)e < VQ_ERR_COUNT, "vq_pop returned %d", e);
	FZ_CHECK(!broken0 || e == VQ_E_BROKEN, "broken queue popped: %s", vq_strerror(e));
	switch (e) {
	case VQ_OK:
		FZ_CHECK(dla == 1 && dui == 0, "ok: avail +%u used +%u", dla, dui);
		fz_check_chain(f, &c, head);
		fz_pend_add(&f->pend, c.head);
		break;
	case VQ_EMPTY:
	case VQ_E_BROKEN:
		FZ_CHECK(dla == 0 && dui == 0, "%s: avail +%u used +%u", vq_strerror(e), dla, dui);
		FZ_CHECK(e == VQ_EMPTY ? !vq->broken : broken0, "%s", vq_strerror(e));
		break;
	case VQ_E_AVAIL_JUMP:
	case VQ_E_HEAD_RANGE:
		FZ_CHECK(vq->broken, "ring violation left the queue working: %s", vq_strerror(e));
		FZ_CHECK(dla == (e == VQ_E_HEAD_RANGE) && dui == 0, "%s: avail +%u used +%u",
		         vq_strerror(e), dla, dui);
		break;
	default:                         /* chain violations */
		FZ_CHECK(!vq->broken, "chain violation broke the queue: %s", vq_strerror(e));
		FZ_CHECK(dla == 1 && dui == 1, "%s: avail +%u used +%u", vq_strerror(e), dla, dui);
		FZ_CHECK(fz_used_elem(f, ui0).id == head && fz_used_elem(f, ui0).len == 0,
		         "%s: used entry %u/%u, want %u/0", vq_strerror(e),
		         fz_used_elem(f, ui0).id, fz_used_elem(f, ui0).len, head);
		break;
	}
}

/* Descriptor i of the table, in CPU order. */
static struct vring_desc
fz_desc_at(const struct fake_guest *g, uint16_t i)
{
	const struct vring_desc *d = &g->desc[i];

	return (struct vring_desc){ .addr = le64toh(d->addr), .len = le32toh(d->len),
	                            .flags = le16toh(d->flags), .next = le16toh(d->next) };
}

/* Whether the chain at avail slot is one a burst takes. */
static bool
fz_slot_usual(const struct fz_vq *f, uint16_t slot)
{
	uint16_t head = fz_avail_entry(f->g, slot);
	struct vring_desc d;

	if (head >= f->g->qsize)
		return false;
	d = fz_desc_at(f->g, head);
	return fz_usual(f->g, f->dir, d.addr, d.len, d.flags);
}

/* A burst's pop: up to n chains (no more than the list of chains to push
 * holds), each the usual chain at the next avail slot, in order, checked
 * against its descriptor; it stops early only in front of a chain of
 * another shape (more: vq_pop() gets that one) or where the ring has no
 * more, and breaks the ring only for a jumped avail index, which it reads.
 * Then the last (ctl & FZ_BUFS_BACK) % (taken + 1) go back, and the rest
 * are pushed at once (FZ_BUFS_PUSH: used entries of length 0 under their
 * heads) or wait for FZ_OP_PUSH. */
static void
fz_pop_bufs(struct fz_vq *f, uint8_t want, uint8_t ctl)
{
	static struct vq_buf b[UINT8_MAX];
	struct vq *vq = f->g->vq;
	uint16_t la0 = vq->last_avail, ui0 = vq->used_idx, n = fz_pend_room(&f->pend, want);
	uint64_t errs0 = vq->chain_errs;
	bool broken0 = vq->broken, more;
	uint16_t got = vq_pop_bufs_as(vq, f->g->mem, b, n, &more, false), back, keep;

	if (fz_verbose)
		fprintf(stderr, "pop_bufs %u: %u%s\n", n, got, more ? ", more" : "");
	FZ_CHECK(got <= n && !(more && got == n), "%u of %u taken, more %d", got, n, more);
	FZ_CHECK((uint16_t)(vq->last_avail - la0) == got && vq->used_idx == ui0 &&
	         vq->chain_errs == errs0, "%u taken: avail +%u used +%u, %llu chain errors",
	         got, (uint16_t)(vq->last_avail - la0), (uint16_t)(vq->used_idx - ui0),
	         (unsigned long long)(vq->chain_errs - errs0));
	FZ_CHECK(!vq->broken || (got == 0 && !more), "a broken ring gave %u chains", got);
	FZ_CHECK(vq->broken == broken0 || vq->broken_why == VQ_E_AVAIL_JUMP,
	         "the burst broke the ring: %s", vq_strerror(vq->broken_why));
	for (uint16_t k = 0; k < got; k++) {
		uint16_t head = fz_avail_entry(f->g, (uint16_t)(la0 + k));
		struct vring_desc d;

		FZ_CHECK(b[k].head == head && head < f->g->qsize,
		         "chain %u: head %u, avail entry says %u", k, b[k].head, head);
		d = fz_desc_at(f->g, head);
		fz_check_buf(f->g, f->dir, &b[k], d.addr, d.len, d.flags);
	}
	if (more)
		FZ_CHECK(!fz_slot_usual(f, (uint16_t)(la0 + got)),
		         "stopped in front of a usual chain");
	else if (got < n && !vq->broken)
		FZ_CHECK(vq->shadow_avail == vq->last_avail, "stopped with %u more available",
		         (uint16_t)(vq->shadow_avail - vq->last_avail));
	back = (uint16_t)((ctl & FZ_BUFS_BACK) % (got + 1));
	fz_bufs_give_back(vq, f->g->mem, b, got, back, false);
	keep = (uint16_t)(got - back);
	FZ_CHECK(vq->last_avail == (uint16_t)(la0 + keep), "position %u after %u kept from %u",
	         vq->last_avail, keep, la0);
	if (!(ctl & FZ_BUFS_PUSH)) {
		for (uint16_t k = 0; k < keep; k++)
			fz_pend_add(&f->pend, b[k].head);
		return;
	}
	vq_push_bufs_as(vq, b, NULL, keep, false);
	FZ_CHECK((uint16_t)(vq->used_idx - ui0) == keep, "%u pushed, used +%u", keep,
	         (uint16_t)(vq->used_idx - ui0));
	for (uint16_t k = 0; k < keep; k++)
		FZ_CHECK(fz_used_elem(f, (uint16_t)(ui0 + k)).id == b[k].head &&
		         fz_used_elem(f, (uint16_t)(ui0 + k)).len == 0,
		         "used entry %u: %u/%u, pushed %u/0", k, fz_used_elem(f, (uint16_t)(ui0 + k)).id,
		         fz_used_elem(f, (uint16_t)(ui0 + k)).len, b[k].head);
}

/* The virtio-net TX gate on a chain the walker accepted: bits choose the
 * negotiated offloads and header length, mtu the frame bound. Whatever it
 * says, what it hands the datapath lies inside the frame. */
static void
fz_tx_gate(struct fz_vq *f, uint8_t bits, uint16_t mtu)
{
	const struct vnet_tx_fmt fmt = {
		.hdr_len = bits & 1 ? 12 : 10, .csum = bits & 2, .tso4 = bits & 4,
		.tso6 = bits & 8, .ecn = bits & 16,
		.max_frame = vnet_max_frame(VNET_MTU_MIN + mtu % (VNET_MTU_MAX - VNET_MTU_MIN + 1)),
	};
	struct vq_chain c;
	struct vnet_tx_req req;
	enum vnet_tx_verdict v;
	uint32_t len;

	if (vq_pop(f->g->vq, f->g->mem, &c) != VQ_OK)
		return;
	fz_pend_add(&f->pend, c.head);
	v = vnet_tx_check(&fmt, &c, &req);
	FZ_CHECK((unsigned)v < VNET_TX_VERDICT_COUNT, "vnet_tx_check returned %d", v);
	if (v != VNET_TX_OK) {
		FZ_CHECK(!req.csum && req.tso == 0, "refused (%s) with a request",
		         vnet_tx_strerror(v));
		return;
	}
	FZ_CHECK(c.out_len > fmt.hdr_len && c.out_len - fmt.hdr_len <= VNET_MAX_FRAME,
	         "accepted a chain of %llu bytes", (unsigned long long)c.out_len);
	len = (uint32_t)(c.out_len - fmt.hdr_len);
	FZ_CHECK(req.tso != 0 || len <= fmt.max_frame, "frame of %u above the MTU", len);
	FZ_CHECK(!req.csum || ((fmt.csum) && (uint32_t)req.csum_start + req.csum_offset + 2 <= len),
	         "checksum at %u+%u outside a frame of %u", req.csum_start, req.csum_offset, len);
	if (req.tso != 0) {
		uint32_t hdrs = (uint32_t)req.l4_off + req.l4_len;

		FZ_CHECK(!req.csum && (req.tso == 4 ? fmt.tso4 : req.tso == 6 && fmt.tso6),
		         "TSO %u not negotiated", req.tso);
		FZ_CHECK(req.l3_off < req.l4_off && req.l4_len >= 20 && req.l4_len <= 60 &&
		         hdrs < len && req.gso_size > 0 && hdrs + req.gso_size <= fmt.max_frame &&
		         (len - hdrs + req.gso_size - 1) / req.gso_size <= VNET_TSO_MAX_SEGS,
		         "TSO request l3 %u l4 %u+%u gso %u in a frame of %u", req.l3_off,
		         req.l4_off, req.l4_len, req.gso_size, len);
	}
}

static void
fz_push(struct fz_vq *f, uint32_t written)
{
	struct vq *vq = f->g->vq;
	uint16_t ui0 = vq->used_idx;
	uint32_t head;

	if (!fz_pend_take(&f->pend, &head))
		return;                      /* a device pushes only what it popped */
	vq_push(vq, head, written);
	FZ_CHECK((uint16_t)(vq->used_idx - ui0) == 1, "vq_push moved used_idx by %u",
	         (uint16_t)(vq->used_idx - ui0));
}

static void
fz_publish(struct fz_vq *f)
{
	struct vq *vq = f->g->vq;
	bool want = vq->used_idx != vq->published_used;

	FZ_CHECK(vq_publish(vq) == want, "vq_publish: want %d", want);
	FZ_CHECK(vq->published_used == vq->used_idx &&
	         le16toh(vq->used->idx) == vq->used_idx,
	         "published %u, used->idx %u, used_idx %u", vq->published_used,
	         le16toh(vq->used->idx), vq->used_idx);
	if (want)
		f->pend.mark_ok = false;
}

static void
fz_rx(struct fz_vq *f, uint16_t len, uint8_t pieces)
{
	struct vq *vq = f->g->vq;
	uint16_t la0 = vq->last_avail, ui0 = vq->used_idx, dla, dui;
	unsigned npkt = 1 + pieces % 4;
	struct iovec pkt[4];
	uint32_t off = 0;
	uint64_t sum = 0;
	enum vnet_rx_res r;

	if (f->dir != VQ_DIR_DEVICE_WRITES)
		return;                      /* the datapath receives on RX queues only */
	for (unsigned k = 0; k < npkt; k++) {
		uint32_t n = k + 1 == npkt ? len - off : len / npkt;

		pkt[k] = (struct iovec){ .iov_base = fz_frame + off, .iov_len = n };
		off += n;
	}
	r = vnet_rx_packet(vq, f->g->mem, &f->fmt, 0, pkt, npkt, len);
	if (fz_verbose)
		fprintf(stderr, "rx %u bytes in %u pieces: %d, %u buffers\n", len, npkt, r,
		        (uint16_t)(vq->used_idx - ui0));
	dla = (uint16_t)(vq->last_avail - la0);
	dui = (uint16_t)(vq->used_idx - ui0);
	FZ_CHECK(r <= VNET_RX_BROKEN, "vnet_rx_packet returned %d", r);
	FZ_CHECK(r != VNET_RX_BROKEN || vq->broken, "rx broken, queue is not");
	/* An entry whose head is out of range breaks the queue without a used
	 * entry (there is no head to return); every other one gets exactly one. */
	FZ_CHECK(dla == dui || (r == VNET_RX_BROKEN && dla == dui + 1),
	         "rx %d: %u avail entries consumed, %u used entries", r, dla, dui);
	/* The lengths are only ours to check where no guest buffer can
	 * overlap the used ring (a frame written over it is the guest's doing). */
	if (f->host_used == NULL)
		return;
	for (uint16_t i = ui0; i != vq->used_idx; i++)
		sum += fz_used_elem(f, i).len;
	if (r == VNET_RX_OK)
		FZ_CHECK(sum == (uint64_t)f->fmt.hdr_len + len, "rx ok: %llu bytes used for %u",
		         (unsigned long long)sum, f->fmt.hdr_len + len);
	else
		FZ_CHECK(sum == 0, "rx %d: %llu bytes used", r, (unsigned long long)sum);
}

static void
fz_desc(struct fz_vq *f, struct fz_in *in, uint16_t i)
{
	uint64_t addr = fz_u64(in);
	uint32_t len = fz_u32(in);
	uint16_t flags = fz_u16(in), next = fz_u16(in);

	fg_desc(f->g, (uint16_t)(i & (f->g->qsize - 1)), fz_vq_addr(addr, f->end_gpa),
	        fz_vq_len(len), flags, next);
}

static void
fz_remap(struct fz_vq *f)
{
	FZ_CHECK(fg_map(f->g, f->dir, f->features) == VQ_OK, "the fake guest's rings");
	if (f->host_used != NULL) {
		memcpy(f->host_used, f->g->used, vring_used_bytes(f->g->qsize));
		f->g->vq->used = f->host_used;
	}
	fz_pend_reset(&f->pend);
}

static void
fz_op(struct fz_vq *f, struct fz_in *in)
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
	case FZ_OP_AVAIL_IDX:
		fg_set_avail_idx(f->g, fz_u16(in));
		break;
	case FZ_OP_AVAIL_ENTRY:
		a = fz_u16(in);
		b = fz_u16(in);
		f->g->avail->ring[a & (f->g->qsize - 1)] = htole16(b);
		break;
	case FZ_OP_DESC:
		fz_desc(f, in, fz_u16(in));
		break;
	case FZ_OP_COUNT_AVAIL:
		a = vq_avail_count(vq);
		FZ_CHECK(a <= f->g->qsize && (!vq->broken || a == 0), "%u avail entries", a);
		break;
	case FZ_OP_REMAP:
		fz_remap(f);
		break;
	case FZ_OP_EVENT:
		fg_set_used_event(f->g, fz_u16(in));
		fg_set_avail_flags(f->g, fz_u16(in));
		break;
	case FZ_OP_TX_GATE:
		a = fz_u8(in);
		fz_tx_gate(f, (uint8_t)a, fz_u16(in));
		break;
	case FZ_OP_POP_BUFS:
		a = fz_u8(in);
		fz_pop_bufs(f, (uint8_t)a, fz_u8(in));
		break;
	default:                         /* the operations both targets share */
		(void)fz_ring_op(op, vq, f->g->mem, &f->pend, in);
		break;
	}
}

/* No operations in the input: what a poll thread does with the queue in a
 * few bursts. Bounded: every bad chain may cost a walk of the whole ring. */
static void
fz_default(struct fz_vq *f)
{
	struct vq *vq = f->g->vq;

	for (uint32_t k = 0; k < FZ_DEFAULT_POPS; k++) {
		uint16_t ui0 = vq->used_idx;

		if (f->dir == VQ_DIR_DEVICE_WRITES) {
			fz_rx(f, (uint16_t)(k & 1 ? 60 : 1514), (uint8_t)k);
			if (vq->used_idx == ui0)
				break;
		} else {
			fz_pop(f);
			if (f->pend.head == f->pend.tail && vq->used_idx == ui0)
				break;       /* empty or broken */
			fz_push(f, 0);
		}
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
	static struct fz_vq f;
	struct fz_in in = { .p = data, .n = size };
	struct fz_vq_hdr h;
	struct fg_opts o;
	size_t got;
	const uint8_t *heap;

	fz_vq_hdr_read(&in, &h);
	memset(&f, 0, sizeof(f));
	f.dir = h.flags & FZ_VQF_RX ? VQ_DIR_DEVICE_WRITES : VQ_DIR_DEVICE_READS;
	f.features = (h.flags & FZ_VQF_EVENT_IDX ? VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
	             (h.flags & FZ_VQF_INDIRECT ? VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0);
	f.fmt = (struct vnet_rx_fmt){
		.mrg_rxbuf = h.flags & FZ_VQF_MRG_RXBUF,
		.hdr_len = (h.flags & FZ_VQF_HDR10) && !(h.flags & FZ_VQF_MRG_RXBUF) ? 10 : 12,
	};
	o = (struct fg_opts){
		.qsize = 1u << FZ_VQ_QSIZE_LOG2(h.shape),
		.n_regions = FZ_VQ_NREGIONS(h.shape),
		.region_size = FZ_VQ_REGION_SIZE(h.shape),
		.dir = f.dir, .features = f.features, .start_idx = h.start_idx,
		.no_map = true,
	};
	f.g = fg_new_opts(&o);
	if (f.g == NULL)
		return 0;                    /* the rings do not fit region 0: no guest */
	if (h.flags & FZ_VQF_HOST_USED) {
		f.host_used = malloc(vring_used_bytes(f.g->qsize));
		FZ_CHECK(f.host_used != NULL, "malloc");
	}
	f.end_gpa = fg_region_end(f.g, f.g->n_regions - 1);
	for (uint32_t i = 0; i < h.ndesc && i < f.g->qsize; i++)
		fz_desc(&f, &in, (uint16_t)i);
	for (uint32_t k = 0; k < h.navail && k < f.g->qsize; k++)
		f.g->avail->ring[(h.start_idx + k) & (f.g->qsize - 1)] = htole16(fz_u16(&in));
	heap = fz_span(&in, h.nheap, &got);
	if (got > f.g->heap_end - f.g->heap_gpa)
		got = f.g->heap_end - f.g->heap_gpa;
	FZ_CHECK(fg_write(f.g, f.g->heap_gpa, heap, got) == 0, "heap write");
	fg_set_avail_flags(f.g, h.avail_flags);
	fg_set_used_event(f.g, h.used_event);
	fz_remap(&f);
	fg_set_avail_idx(f.g, h.avail_idx);

	if (fz_left(&in) == 0)
		fz_default(&f);
	while (fz_left(&in) > 0)
		fz_op(&f, &in);
	fz_publish(&f);
	(void)vq_kick_needed(f.g->vq);
	fg_free(f.g);
	free(f.host_used);
	return 0;
}
