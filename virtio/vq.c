/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vq.c - device side of a split virtqueue: ring translation at start,
 * the chain walker, used-ring updates and notification decisions; and each
 * call of vq.h handing a packed ring to vq_packed.c.
 * Security model: see vq.h. Every guest-written value is loaded exactly once
 * with a relaxed atomic load (so the compiler cannot re-read it after the
 * check), converted from little-endian once, and checked before use. */
#include <endian.h>
#include <stddef.h>
#include "common/base.h"
#include "virtio/vq_internal.h"

_Static_assert(VQ_MAX_CHAIN_DESCS == 256, "the VQ_E_LOOP text below says 256");

const char *
vq_strerror(enum vq_err e)
{
	static const char *const names[VQ_ERR_COUNT] = {
		[VQ_OK]                = "ok",
		[VQ_EMPTY]             = "empty",
		[VQ_E_BROKEN]          = "queue broken by an earlier violation",
		[VQ_E_AVAIL_JUMP]      = "avail index moved by more than the ring size",
		[VQ_E_HEAD_RANGE]      = "avail entry out of range",
		[VQ_E_ID_RANGE]        = "packed ring: buffer id out of range",
		[VQ_E_RING_CHAIN]      = ("packed ring: a descriptor chain longer than 256 or the "
		                          "ring, or running into one not made available"),
		[VQ_E_NEXT_RANGE]      = "descriptor next index out of range",
		[VQ_E_LOOP]            = "descriptor chain loops (or exceeds 256 descriptors)",
		[VQ_E_NESTED_INDIRECT] = "nested indirect table",
		[VQ_E_INDIRECT_LEN]    = "indirect table length invalid",
		[VQ_E_INDIRECT_NEXT]   = "descriptor has both INDIRECT and NEXT",
		[VQ_E_INDIRECT_ADDR]   = "indirect table outside guest memory",
		[VQ_E_INDIRECT_FEATURE] = "indirect descriptor but RING_INDIRECT_DESC not negotiated",
		[VQ_E_ADDR]            = "buffer outside guest memory",
		[VQ_E_LAYOUT]          = "readable descriptor after a writable one",
		[VQ_E_DIRECTION]       = "buffer direction wrong for this queue",
		[VQ_E_TOO_MANY_SEGS]   = "chain has too many segments",
		[VQ_E_ZERO_LEN]        = "chain carries no bytes",
		[VQ_E_RING_SIZE]       = "ring size is 0, not a power of two, or above 32768",
		[VQ_E_RING_ALIGN]      = ("ring address misaligned (descriptors 16, avail 2, "
		                          "used 4 bytes)"),
		[VQ_E_RING_ADDR]       = "ring not wholly inside one guest memory region",
		[VQ_E_RING_BASE]       = "packed ring: base index beyond the ring",
	};
	return (unsigned)e < VQ_ERR_COUNT ? names[e] : "unknown";
}

static inline uint16_t
guest_load16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

/* One copy of a descriptor, so the guest cannot change it between check and use. */
static inline struct vring_desc
desc_load(const struct vring_desc *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t a = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
	uint64_t b = le64toh(__atomic_load_n(&w[1], __ATOMIC_RELAXED));

	return (struct vring_desc){
		.addr = le64toh(a), .len = (uint32_t)b,
		.flags = (uint16_t)(b >> 32), .next = (uint16_t)(b >> 48),
	};
}

VHOSTMQ_COLD enum vq_err
vq_fail(struct vq *vq, enum vq_err e)
{
	vq->broken = true;              /* sticky until vq_map() */
	vq->broken_why = e;
	vq->stats.err[e]++;
	return e;
}

static uint16_t *
vq_used_event(const struct vq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *
vq_avail_event(const struct vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

/* A packed ring: the layout's own checks and start (vq_packed.c). */
static enum vq_err
vq_map_packed(struct vq *vq, const struct gmem *mem, const struct vq_addrs *a,
              uint32_t size, enum vq_dir dir, uint64_t features, uint16_t base)
{
	enum vq_err e;

	vq->dir = dir;
	vq->event_idx = (features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0;
	vq->indirect = (features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)) != 0;
	/* In order, a TX ring's used descriptors can be one per batch (its
	 * buffers carry no length back); an RX ring's each say how much of
	 * the buffer a frame took. */
	vq->in_order = dir == VQ_DIR_DEVICE_READS && (features & VIRTIO_BIT(VIRTIO_F_IN_ORDER));
	e = vq_packed_map(vq, mem, a, size, base);
	if (e != VQ_OK) {
		vq->broken = true;
		return e;
	}
	vq_set_notify(vq, false);
	return VQ_OK;
}

enum vq_err
vq_map(struct vq *vq, const struct gmem *mem, const struct vq_addrs *a,
       uint32_t size, enum vq_dir dir, uint64_t features, uint16_t base)
{
	uint16_t used_idx;

	*vq = (struct vq){ .broken = true };     /* until fully mapped */
	if (features & VIRTIO_BIT(VIRTIO_F_RING_PACKED))
		return vq_map_packed(vq, mem, a, size, dir, features, base);
	/* Spec 2.7: alignment 16 / 2 / 4 for desc / avail / used. */
	if (size == 0 || size > VQ_SIZE_MAX || (size & (size - 1)) != 0)
		return VQ_E_RING_SIZE;
	if ((a->desc_fva & 15) != 0 || (a->avail_fva & 1) != 0 || (a->used_fva & 3) != 0)
		return VQ_E_RING_ALIGN;
	*vq = (struct vq){
		.desc  = gmem_fva_to_hva_full(mem, a->desc_fva, vring_desc_bytes(size)),
		.avail = gmem_fva_to_hva_full(mem, a->avail_fva, vring_avail_bytes(size)),
		.used  = gmem_fva_to_hva_full(mem, a->used_fva, vring_used_bytes(size)),
		.size = (uint16_t)size,     /* 32768 fits; mask arithmetic is mod 2^16 */
		.mask = (uint16_t)(size - 1),
		.dir = dir,
		.event_idx = (features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0,
		.indirect = (features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)) != 0,
	};
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		vq->broken = true;
		return VQ_E_RING_ADDR;
	}
	/* Aligned frontend addresses can still land misaligned in our mapping
	 * (a region at an odd address or file offset); the ring accesses are
	 * atomics that need their natural alignment. */
	if (((uintptr_t)vq->desc & 15) != 0 || ((uintptr_t)vq->avail & 1) != 0 ||
	    ((uintptr_t)vq->used & 3) != 0) {
		vq->broken = true;
		return VQ_E_RING_ALIGN;
	}
	used_idx = guest_load16(&vq->used->idx);     /* see vq.h: no base needed */
	vq->last_avail = used_idx;
	vq->shadow_avail = used_idx;
	vq->used_idx = used_idx;
	vq->published_used = used_idx;
	vq_set_notify(vq, false);
	return VQ_OK;
}

/* The only reader of avail->idx. */
static enum vq_err
vq_avail_snapshot(struct vq *vq)
{
	/* Acquire pairs with the driver's write barrier before it publishes
	 * avail->idx (spec 2.7.13 "Supplying Buffers"), so entries are read after. */
	uint16_t idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));

	if ((uint16_t)(idx - vq->last_avail) > vq->size)
		return vq_fail(vq, VQ_E_AVAIL_JUMP);
	vq->shadow_avail = idx;
	return idx == vq->last_avail ? VQ_EMPTY : VQ_OK;
}

uint16_t
vq_position(const struct vq *vq)
{
	/* Packed: what the driver saw used last; anything taken since and not
	 * published the next device takes again. */
	return vq->packed ? vq_packed_base(vq, vq->published_used) : vq->last_avail;
}

void
vq_set_resume(struct vq *vq, uint16_t *p)
{
	vq->resume = vq->packed ? p : NULL;
	if (vq->resume != NULL)
		__atomic_store_n(vq->resume, vq_packed_base(vq, vq->published_used),
		                 __ATOMIC_RELAXED);
}

uint16_t
vq_split_avail_count(struct vq *vq)
{
	if (vq->broken || vq_avail_snapshot(vq) != VQ_OK)
		return 0;
	return (uint16_t)(vq->shadow_avail - vq->last_avail);
}

/* Receive buffers are about to be written: fetch them for writing
 * (PREFETCHW), or each store later waits for the line's ownership. The build's
 * -march may predate the instruction; x86-64 CPUs without it run it as a NOP. */
#if defined(__x86_64__)
__attribute__((target("prfchw")))
#endif
void
vq_split_prefetch(const struct vq *vq, const struct gmem *mem, uint16_t n)
{
	uint32_t hint = vq->hint;        /* a copy: a hint must not steer vq_pop */
	uint16_t avail = (uint16_t)(vq->shadow_avail - vq->last_avail);

	if (vq->broken)
		return;
	if (n > avail)
		n = avail;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t head = guest_load16(&vq->avail->ring[(vq->last_avail + i) & vq->mask]);
		struct vring_desc d;

		if (head >= vq->size)
			return;              /* vq_pop will say why */
		d = desc_load(&vq->desc[head]);
		if (!(d.flags & VRING_DESC_F_INDIRECT))
			vq_prefetch_buffer(vq, mem, d.addr, d.len, &hint);
	}
}

enum vq_err
vq_chain_add(struct vq *vq, const struct gmem *mem, struct vq_chain *c, uint64_t gpa,
             uint32_t len, bool writable)
{
	uint64_t left = len;

	if (!writable && c->n_in > 0)
		return VQ_E_LAYOUT;           /* spec 2.7.4.2: readable before writable */
	if (gpa + left < gpa)
		return VQ_E_ADDR;
	while (left > 0) {
		uint64_t got = left;
		void *hva = gmem_gpa_to_hva(mem, gpa, &got, &vq->hint);
		uint16_t k = (uint16_t)(c->n_out + c->n_in);

		if (hva == NULL)
			return VQ_E_ADDR;
		if (k == VQ_MAX_SEGS)
			return VQ_E_TOO_MANY_SEGS;
		c->seg[k] = (struct iovec){ .iov_base = hva, .iov_len = got };
		if (writable) {
			c->n_in++;
			c->in_len += got;
		} else {
			c->n_out++;
			c->out_len += got;
		}
		gpa += got;
		left -= got;
	}
	return VQ_OK;
}

/* Where descriptors of the current table come from: a host pointer when the
 * table is contiguous in one region, else copied piecewise from guest memory. */
struct desc_src {
	const struct vring_desc *tbl;
	uint64_t gpa;                    /* used when tbl == NULL */
};

static enum vq_err
desc_fetch(const struct desc_src *s, const struct gmem *mem, uint32_t i,
           struct vring_desc *d)
{
	struct vring_desc raw;

	if (s->tbl != NULL) {
		*d = desc_load(&s->tbl[i]);
		return VQ_OK;
	}
	if (gmem_read(mem, s->gpa + 16ull * i, &raw, sizeof(raw)) != 0)
		return VQ_E_INDIRECT_ADDR;
	*d = desc_load(&raw);
	return VQ_OK;
}

/* The general walk: chains, indirect tables, region splits. d is the head
 * descriptor, already loaded by vq_pop(). */
static enum vq_err
vq_walk(struct vq *vq, const struct gmem *mem, struct vring_desc d, struct vq_chain *c)
{
	struct desc_src src = { .tbl = vq->desc };
	uint32_t tbl_n = vq->size, i;
	uint32_t budget = (vq->size < VQ_MAX_CHAIN_DESCS ? vq->size : VQ_MAX_CHAIN_DESCS) - 1;
	bool in_indirect = false;
	enum vq_err e;

	for (;;) {
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)           /* spec 2.7.5.3.1 */
				return VQ_E_INDIRECT_FEATURE;
			if (in_indirect)
				return VQ_E_NESTED_INDIRECT;
			if (d.flags & VRING_DESC_F_NEXT)   /* spec 2.7.5.3.1 */
				return VQ_E_INDIRECT_NEXT;
			/* Spec: a chain is never longer than the queue size. */
			if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > VQ_SIZE_MAX)
				return VQ_E_INDIRECT_LEN;
			if (d.addr + d.len < d.addr)
				return VQ_E_INDIRECT_ADDR;
			/* A table that is split across regions, or not 8-byte
			 * aligned in our mapping for desc_load(), is copied
			 * piecewise instead. */
			src.tbl = gmem_gpa_to_hva_full(mem, d.addr, d.len);
			if (((uintptr_t)src.tbl & 7) != 0)
				src.tbl = NULL;
			src.gpa = d.addr;
			in_indirect = true;
			tbl_n = d.len / 16;
			budget = tbl_n < VQ_MAX_CHAIN_DESCS ? tbl_n : VQ_MAX_CHAIN_DESCS;
			i = 0;
		} else {
			if ((e = vq_chain_add(vq, mem, c, d.addr, d.len,
			                      d.flags & VRING_DESC_F_WRITE)) != VQ_OK)
				return e;
			if (!(d.flags & VRING_DESC_F_NEXT))
				break;
			i = d.next;
		}
		if (i >= tbl_n)
			return VQ_E_NEXT_RANGE;
		if (budget-- == 0)
			return VQ_E_LOOP;
		if ((e = desc_fetch(&src, mem, i, &d)) != VQ_OK)
			return e;
	}
	if (vq->dir == VQ_DIR_DEVICE_READS ? c->n_in != 0 : c->n_out != 0)
		return VQ_E_DIRECTION;
	if (c->n_in + c->n_out == 0)
		return VQ_E_ZERO_LEN;
	return VQ_OK;
}

enum vq_err
vq_split_pop(struct vq *vq, const struct gmem *mem, struct vq_chain *c)
{
	struct vring_desc d;
	struct vq_pop_ctx x;
	struct vq_buf b;
	enum vq_err e;
	uint16_t head;
	bool ok;

	if (unlikely(vq->broken))
		return VQ_E_BROKEN;
	if (vq->last_avail == vq->shadow_avail && (e = vq_avail_snapshot(vq)) != VQ_OK)
		return e;
	head = guest_load16(&vq->avail->ring[vq->last_avail & vq->mask]);
	vq->last_avail++;
	if (unlikely(head >= vq->size))
		return vq_fail(vq, VQ_E_HEAD_RANGE);
	d = desc_load(&vq->desc[head]);
	x = vq_pop_ctx(vq, mem);
	ok = vq_one_buf(&x, mem, d.addr, d.len, d.flags, &b.seg);
	vq->hint = x.cur.hint;
	if (likely(ok)) {
		b.head = head;
		vq_chain_of_buf(vq, &b, c);
		return VQ_OK;
	}
	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	e = vq_walk(vq, mem, d, c);
	if (unlikely(e != VQ_OK))
		vq_chain_refused(vq, head, e);
	return e;
}

uint16_t
vq_split_pop_bufs(struct vq *vq, const struct gmem *mem, struct vq_buf *b, uint16_t n,
                  bool *more)
{
	/* Locals for what the loop reads: its stores into b[] could alias
	 * the vq, and would make each a load again. */
	const struct vring_desc *desc = vq->desc;
	const uint16_t *ring = vq->avail->ring;
	uint16_t k, avail, first = vq->last_avail, size = vq->size, mask = vq->mask;
	struct vq_pop_ctx x;

	*more = false;
	if (unlikely(vq->broken))
		return 0;
	avail = (uint16_t)(vq->shadow_avail - first);
	if (avail < n) {
		if (vq_avail_snapshot(vq) == VQ_E_AVAIL_JUMP)
			return 0;
		avail = (uint16_t)(vq->shadow_avail - first);
		n = avail < n ? avail : n;
	}
	x = vq_pop_ctx(vq, mem);
	for (k = 0; k < n; k++) {
		uint16_t head = guest_load16(&ring[(uint16_t)(first + k) & mask]);
		struct vring_desc d;

		/* A bad head breaks the ring: vq_pop() does that. */
		if (unlikely(head >= size))
			break;
		d = desc_load(&desc[head]);
		if (unlikely(!vq_one_buf(&x, mem, d.addr, d.len, d.flags, &b[k].seg)))
			break;
		b[k].head = head;
	}
	*more = k < n;
	vq->hint = x.cur.hint;
	vq->last_avail = (uint16_t)(first + k);
	return k;
}

VHOSTMQ_COLD void
vq_chain_refused(struct vq *vq, uint32_t head, enum vq_err e)
{
	vq->stats.err[e]++;
	vq->chain_errs++;
	vq->last_chain_err = e;
	vq_push(vq, head, 0);
}

void
vq_void_since(struct vq *vq, struct vq_mark m)
{
	for (uint16_t k = m.nshadow; k < vq->nshadow; k++)      /* packed */
		vq->shadow[k].len = 0;
	for (uint16_t i = m.used_idx; !vq->packed && i != vq->used_idx; i++)
		vq->used->ring[i & vq->mask].len = 0;
}

void
vq_set_log(struct vq *vq, const struct dirty_log *log, uint64_t used_gpa)
{
	vq->log = log;
	vq->log_used_gpa = used_gpa;
}

/* Every byte of the used ring (flags, idx, entries, avail_event): a page or
 * two, once per burst while a migration runs. */
static VHOSTMQ_COLD void
vq_log_used(const struct vq *vq)
{
	dirty_log_gpa(vq->log, vq->log_used_gpa, vring_used_bytes(vq->size));
}

bool
vq_split_publish(struct vq *vq)
{
	if (vq->used_idx == vq->published_used)
		return false;
	/* Release pairs with the driver's read barrier after it loads used->idx
	 * (spec 2.7.14), so it sees the entries written by vq_push(). */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	vq->published_used = vq->used_idx;
	if (unlikely(vq->log != NULL))
		vq_log_used(vq);
	return true;
}

bool
vq_split_kick_needed(struct vq *vq)
{
	uint16_t new_used = vq->published_used, old_used = vq->signalled_used;
	bool valid = vq->signalled_valid;

	/* Full barrier: our used->idx store must be visible before we read the
	 * driver's suppression fields; pairs with the driver's barrier between its
	 * update of used_event/flags and its re-read of used->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new_used;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(guest_load16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	/* Spec 2.7.10: notify if used_event lies in [old_used, new_used). */
	return (uint16_t)(new_used - guest_load16(vq_used_event(vq)) - 1) <
	       (uint16_t)(new_used - old_used);
}

void
vq_set_notify(struct vq *vq, bool on)
{
	if (vq->packed) {
		vq_packed_set_notify(vq, on);
		return;
	}
	if (vq->event_idx) {
		/* Ask for a kick when the driver adds past what it has added so
		 * far, not past what we consumed: a receive waiting for more
		 * buffers than the guest posted must learn of the next ones
		 * (a driver kicks only when avail->idx crosses avail_event). */
		if (on && !vq->broken) {
			vq_avail_snapshot(vq);
			__atomic_store_n(vq_avail_event(vq), htole16(vq->shadow_avail),
			                 __ATOMIC_RELAXED);
		}
	} else {
		__atomic_store_n(&vq->used->flags, htole16(on ? 0 : VRING_USED_F_NO_NOTIFY),
		                 __ATOMIC_RELAXED);
	}
	/* Pairs with the driver's barrier between publishing avail->idx and reading
	 * our flags/avail_event: either it sees notifications on, or our re-check
	 * of avail->idx sees its new entries. */
	if (on)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (unlikely(vq->log != NULL))
		vq_log_used(vq);
}
