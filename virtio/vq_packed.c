/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vq_packed.c - device side of a packed virtqueue (spec 2.8): one ring
 * of descriptors the driver makes available and the device marks used in
 * place, told apart by the AVAIL and USED flag bits against each side's wrap
 * counter; chains are runs of consecutive descriptors (NEXT), their buffer
 * id in the last one; one used descriptor per chain, written over the
 * chain's first. Positions count modulo 2 * size (vq.h), so the wrap counter
 * travels with the index.
 * Security model: see vq.h. The head's flags are loaded once with acquire
 * (the driver writes them last) and decide availability; every descriptor
 * is copied once and checked before use; a walk never reads more than the
 * ring (a chain that runs the whole ring breaks the queue) and never carries
 * more than VQ_MAX_CHAIN_DESCS. Used descriptors are written only by
 * vq_packed_publish(), the first of a batch last, with release. */
#include <endian.h>
#include <stddef.h>
#include "common/base.h"
#include "virtio/vq_internal.h"

static inline uint16_t
pos_index(const struct vq *vq, uint16_t c)
{
	return c < vq->size ? c : (uint16_t)(c - vq->size);
}

static inline bool
pos_wrap(const struct vq *vq, uint16_t c)
{
	return c < vq->size;
}

/* The AVAIL and USED bits of a descriptor the driver made available at
 * position c (spec 2.8.1): AVAIL equal to the wrap counter, USED not. */
#define AVAIL_USED (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED)
static inline uint16_t
avail_bits(const struct vq *vq, uint16_t c)
{
	return pos_wrap(vq, c) ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}

/* How far b is after a (modulo 2 * size). */
static inline uint16_t
pos_dist(const struct vq *vq, uint16_t a, uint16_t b)
{
	return (uint16_t)(b >= a ? (unsigned)(b - a) : b + 2u * vq->size - a);
}

/* The n descriptors from first on were taken: last_avail moves past them,
 * and the scan (vq_packed_avail_count()) stays at or ahead of it; one left
 * more than a ring ahead by a rewind starts over there. */
static inline void
packed_took(struct vq *vq, uint16_t first, uint16_t n)
{
	uint16_t ahead = pos_dist(vq, first, vq->shadow_avail);

	vq->last_avail = vq_packed_advance(vq, first, n);
	if (ahead < n || ahead > vq->size)
		vq->shadow_avail = vq->last_avail;
}

static inline uint16_t
flags_load(const struct vring_packed_desc *d, int order)
{
	return le16toh(__atomic_load_n(&d->flags, order));
}

/* One copy of a descriptor's address, length and id (its flags are the
 * caller's, loaded before). */
static inline struct vring_packed_desc
pdesc_load(const struct vring_packed_desc *p, uint16_t flags)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t a = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
	uint64_t b = le64toh(__atomic_load_n(&w[1], __ATOMIC_RELAXED));

	return (struct vring_packed_desc){ .addr = le64toh(a), .len = (uint32_t)b,
	                                   .id = (uint16_t)(b >> 32), .flags = flags };
}

enum vq_err
vq_packed_map(struct vq *vq, const struct gmem *mem, const struct vq_addrs *a, uint32_t size,
              uint16_t base)
{
	uint16_t idx = base & 0x7fff, start;

	if (size == 0 || size > VQ_SIZE_MAX)
		return VQ_E_RING_SIZE;
	/* Spec 2.8.10.1: 16 / 4 / 4 for descriptors / driver / device area. */
	if ((a->desc_fva & 15) != 0 || (a->avail_fva & 3) != 0 || (a->used_fva & 3) != 0)
		return VQ_E_RING_ALIGN;
	vq->pdesc = gmem_fva_to_hva_full(mem, a->desc_fva, vring_packed_desc_bytes(size));
	vq->driver_event = gmem_fva_to_hva_full(mem, a->avail_fva, sizeof(*vq->driver_event));
	vq->device_event = gmem_fva_to_hva_full(mem, a->used_fva, sizeof(*vq->device_event));
	if (vq->pdesc == NULL || vq->driver_event == NULL || vq->device_event == NULL ||
	    !gmem_fva_to_gpa(mem, a->desc_fva, &vq->pdesc_gpa) ||
	    !gmem_fva_to_gpa(mem, a->used_fva, &vq->device_event_gpa))
		return VQ_E_RING_ADDR;
	if (((uintptr_t)vq->pdesc & 15) != 0 || ((uintptr_t)vq->driver_event & 3) != 0 ||
	    ((uintptr_t)vq->device_event & 3) != 0)
		return VQ_E_RING_ALIGN;
	if (idx >= size)
		return VQ_E_RING_BASE;
	vq->size = (uint16_t)size;       /* 32768 fits */
	vq->packed = true;
	/* Nothing is in flight when a ring stops (vq.h), so used and
	 * available resume at the same place. */
	start = (uint16_t)(base >> 15 ? idx : idx + size);
	vq->last_avail = vq->shadow_avail = vq->used_idx = start;
	vq->published_used = vq->signalled_used = start;
	vq->broken = false;
	return VQ_OK;
}

bool
vq_packed_resumable(const struct gmem *mem, const struct vq_addrs *a, uint32_t size,
                    uint16_t base)
{
	uint16_t idx = base & 0x7fff, prev;
	bool wrap = base >> 15;
	const struct vring_packed_desc *ring;
	struct vring_packed_desc d;

	if (size == 0 || size > VQ_SIZE_MAX || idx >= size ||
	    (ring = gmem_fva_to_hva_full(mem, a->desc_fva, vring_packed_desc_bytes(size))) ==
	    NULL || ((uintptr_t)ring & 15) != 0)
		return false;
	/* The descriptor before base, in its own lap. */
	prev = idx == 0 ? (uint16_t)(size - 1) : (uint16_t)(idx - 1);
	if (idx == 0)
		wrap = !wrap;
	d = pdesc_load(&ring[prev], flags_load(&ring[prev], __ATOMIC_ACQUIRE));
	return d.addr != 0 && (d.flags & AVAIL_USED) == (wrap ? AVAIL_USED : 0);
}

uint16_t
vq_packed_avail_count(struct vq *vq)
{
	uint16_t seen = vq->shadow_avail, n = pos_dist(vq, vq->last_avail, seen), i;
	uint16_t want;                   /* the AVAIL/USED bits of "available" */

	if (vq->broken)
		return 0;
	/* A rewind may leave the scan ahead by more than a ring: start over. */
	if (n > vq->size) {
		seen = vq->last_avail;
		n = 0;
	}
	/* Walk index and wrap counter apart: no conversion per descriptor. */
	i = pos_index(vq, seen);
	want = avail_bits(vq, seen);
	while (n < vq->size && (flags_load(&vq->pdesc[i], __ATOMIC_ACQUIRE) & AVAIL_USED) == want) {
		n++;
		if (++i == vq->size) {
			i = 0;
			want ^= AVAIL_USED;
		}
	}
	vq->shadow_avail = vq_packed_advance(vq, vq->last_avail, n);
	return n;
}

bool
vq_packed_avail_any(struct vq *vq)
{
	uint16_t c = vq->last_avail, ahead = pos_dist(vq, c, vq->shadow_avail);

	if (vq->broken)
		return false;
	if (ahead > 0 && ahead <= vq->size)      /* counted before */
		return true;
	return (flags_load(&vq->pdesc[pos_index(vq, c)], __ATOMIC_ACQUIRE) & AVAIL_USED) ==
	       avail_bits(vq, c);
}

#if defined(__x86_64__)
__attribute__((target("prfchw")))
#endif
void
vq_packed_prefetch(const struct vq *vq, const struct gmem *mem, uint16_t n)
{
	uint32_t hint = vq->hint;        /* a copy: a hint must not steer vq_pop */
	uint16_t c = vq->last_avail, avail = pos_dist(vq, vq->last_avail, vq->shadow_avail);

	if (vq->broken)
		return;
	if (n > avail)
		n = avail;
	for (uint16_t i = 0; i < n; i++, c = vq_packed_advance(vq, c, 1)) {
		const struct vring_packed_desc *p = &vq->pdesc[pos_index(vq, c)];
		struct vring_packed_desc d = pdesc_load(p, flags_load(p, __ATOMIC_RELAXED));

		if (!(d.flags & VRING_DESC_F_INDIRECT))
			vq_prefetch_buffer(vq, mem, d.addr, d.len, &hint);
	}
}

/* An indirect table (spec 2.8.7): len / 16 descriptors, all of them used
 * (NEXT means nothing there), only WRITE valid. */
static enum vq_err
packed_indirect(struct vq *vq, const struct gmem *mem, struct vq_chain *c,
                const struct vring_packed_desc *d)
{
	const struct vring_packed_desc *tbl;
	uint32_t n = d->len / 16;
	enum vq_err e;

	if (!vq->indirect)
		return VQ_E_INDIRECT_FEATURE;
	if (d->len == 0 || d->len % 16 != 0 || n > VQ_SIZE_MAX)
		return VQ_E_INDIRECT_LEN;
	if (n > VQ_MAX_CHAIN_DESCS)
		return VQ_E_LOOP;
	if (d->addr + d->len < d->addr)
		return VQ_E_INDIRECT_ADDR;
	/* Split across regions, or not 8-byte aligned in our mapping for the
	 * word loads: copied piecewise instead. */
	tbl = gmem_gpa_to_hva_full(mem, d->addr, d->len);
	if (((uintptr_t)tbl & 7) != 0)
		tbl = NULL;
	for (uint32_t i = 0; i < n; i++) {
		struct vring_packed_desc raw, t;

		if (tbl == NULL) {
			if (gmem_read(mem, d->addr + 16ull * i, &raw, sizeof(raw)) != 0)
				return VQ_E_INDIRECT_ADDR;
			t = pdesc_load(&raw, flags_load(&raw, __ATOMIC_RELAXED));
		} else {
			t = pdesc_load(&tbl[i], flags_load(&tbl[i], __ATOMIC_RELAXED));
		}
		if (t.flags & VRING_DESC_F_INDIRECT)
			return VQ_E_NESTED_INDIRECT;
		/* On a queue we only read, WRITE is not held against a table
		 * entry: DPDK 22.11's virtio driver leaves it set on the
		 * header entry of every packed TX table, and reading a buffer
		 * the driver lets us write is allowed (spec 2.8.11: SHOULD
		 * NOT). Where we write, a readable entry stays an error. */
		e = vq_chain_add(vq, mem, c, t.addr, t.len,
		                 vq->dir == VQ_DIR_DEVICE_WRITES && (t.flags & VRING_DESC_F_WRITE));
		if (e != VQ_OK)
			return e;
	}
	return VQ_OK;
}

/* vq_packed_pop() for every other shape: chains, indirect tables, buffers
 * across regions, and what is wrong with them. d is the head, available
 * (its flags loaded with acquire) and copied. Out of line: the usual
 * buffer never comes here, and the fast path stays a leaf. */
static VHOSTMQ_COLD enum vq_err
packed_pop_walk(struct vq *vq, const struct gmem *mem, struct vq_chain *c,
                struct vring_packed_desc d)
{
	uint16_t first = vq->last_avail, pos = first, n = 0, flags = d.flags;
	enum vq_err e = VQ_OK;

	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		if (n > 0)
			d = pdesc_load(&vq->pdesc[pos_index(vq, pos)], flags);
		n++;
		if (e != VQ_OK) {
			/* keep walking: the chain's end is where the next begins */
		} else if (d.flags & VRING_DESC_F_INDIRECT) {
			/* Spec 2.8.7: an indirect descriptor stands alone. */
			e = n == 1 && !(d.flags & VRING_DESC_F_NEXT)
			    ? packed_indirect(vq, mem, c, &d) : VQ_E_INDIRECT_NEXT;
		} else {
			e = vq_chain_add(vq, mem, c, d.addr, d.len, d.flags & VRING_DESC_F_WRITE);
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		/* A chain we cannot carry, or one whose next descriptor the
		 * driver has not made available (spec 2.8.6: every descriptor
		 * of a chain is, before its head), has no end we may look for:
		 * walking on would read stale descriptors up to a whole ring
		 * per pop. The ring is broken instead. */
		if (n == VQ_MAX_CHAIN_DESCS || n == vq->size)
			return vq_fail(vq, VQ_E_RING_CHAIN);
		pos = vq_packed_advance(vq, pos, 1);
		flags = flags_load(&vq->pdesc[pos_index(vq, pos)], __ATOMIC_RELAXED);
		if ((flags & AVAIL_USED) != avail_bits(vq, pos))
			return vq_fail(vq, VQ_E_RING_CHAIN);
	}
	/* The id is the driver's only name for the buffer: one we could not
	 * give back is a broken ring, as a split ring's bad head is. */
	if (d.id >= vq->size)
		return vq_fail(vq, VQ_E_ID_RANGE);
	c->head = (uint32_t)d.id | (uint32_t)n << 16;
	packed_took(vq, first, n);
	if (e == VQ_OK && (vq->dir == VQ_DIR_DEVICE_READS ? c->n_in != 0 : c->n_out != 0))
		e = VQ_E_DIRECTION;
	if (e == VQ_OK && c->n_in + c->n_out == 0)
		e = VQ_E_ZERO_LEN;
	if (unlikely(e != VQ_OK))
		vq_chain_refused(vq, c->head, e);
	return e;
}

/* The usual chain (vq_one_buf()) at descriptor d, whose id must name a
 * buffer of a ring of size descriptors. */
static inline __attribute__((always_inline)) bool
packed_one_buf(struct vq_pop_ctx *x, const struct gmem *mem, uint16_t size,
               const struct vring_packed_desc *d, struct vq_buf *b)
{
	if (unlikely(d->id >= size) ||
	    unlikely(!vq_one_buf(x, mem, d->addr, d->len, d->flags, &b->seg)))
		return false;
	b->head = (uint32_t)d->id | UINT32_C(1) << 16;
	return true;
}

enum vq_err
vq_packed_pop(struct vq *vq, const struct gmem *mem, struct vq_chain *c)
{
	uint16_t first = vq->last_avail, flags;
	const struct vring_packed_desc *p = &vq->pdesc[pos_index(vq, first)];
	bool ok;
	struct vring_packed_desc d;
	struct vq_pop_ctx x;
	struct vq_buf b;

	if (unlikely(vq->broken))
		return VQ_E_BROKEN;
	if (unlikely(vq->nshadow >= VQ_SHADOW_MAX - 1))
		return VQ_EMPTY;             /* until the next publish */
	flags = flags_load(p, __ATOMIC_ACQUIRE);
	if ((flags & AVAIL_USED) != avail_bits(vq, first))
		return VQ_EMPTY;
	d = pdesc_load(p, flags);
	x = vq_pop_ctx(vq, mem);
	ok = packed_one_buf(&x, mem, vq->size, &d, &b);
	vq->hint = x.cur.hint;
	if (likely(ok)) {
		vq_chain_of_buf(vq, &b, c);
		packed_took(vq, first, 1);
		return VQ_OK;
	}
	return packed_pop_walk(vq, mem, c, d);
}

uint16_t
vq_packed_pop_bufs(struct vq *vq, const struct gmem *mem, struct vq_buf *b, uint16_t n,
                   bool *more)
{
	/* Locals for what the loop reads: its stores into b[] could alias
	 * the vq, and would make each a load again. */
	const struct vring_packed_desc *ring = vq->pdesc;
	uint16_t first = vq->last_avail, size = vq->size, i = pos_index(vq, first), k;
	uint16_t want = avail_bits(vq, first);
	uint16_t room = (uint16_t)(VQ_SHADOW_MAX - 1 - vq->nshadow);
	struct vq_pop_ctx x;

	*more = false;
	if (unlikely(vq->broken))
		return 0;
	/* Each chain takes a shadow entry until the next publish (vq_pop()
	 * says VQ_EMPTY when they run out). */
	n = n < room ? n : room;
	x = vq_pop_ctx(vq, mem);
	for (k = 0; k < n; k++) {
		const struct vring_packed_desc *p = &ring[i];
		uint16_t flags = flags_load(p, __ATOMIC_ACQUIRE);
		struct vring_packed_desc d;

		if ((flags & AVAIL_USED) != want)
			break;
		d = pdesc_load(p, flags);
		if (unlikely(!packed_one_buf(&x, mem, size, &d, &b[k]))) {
			*more = true;
			break;
		}
		if (unlikely(++i == size)) {
			i = 0;
			want ^= AVAIL_USED;
		}
	}
	vq->hint = x.cur.hint;
	packed_took(vq, first, k);
	return k;
}

/* One used descriptor at d, of wrap counter w: its length, id and flags in
 * one 8-byte store (the descriptor's second half; rings are 16-byte
 * aligned), so the driver never sees the flags without the rest. With
 * release, it also makes every store before it visible. */
static inline void
used_write(struct vring_packed_desc *d, bool w, uint16_t id, uint32_t len, int order)
{
	uint64_t flags = (w ? AVAIL_USED : 0) |
	                 (len != 0 ? VRING_DESC_F_WRITE : 0);

	_Static_assert(offsetof(struct vring_packed_desc, len) == 8 &&
	               offsetof(struct vring_packed_desc, id) == 12 &&
	               offsetof(struct vring_packed_desc, flags) == 14, "the spec's layout");
	__atomic_store_n((uint64_t *)&d->len,
	                 htole64((uint64_t)len | (uint64_t)id << 32 | flags << 48), order);
}

/* The descriptors from p for n positions, in the dirty log. */
static VHOSTMQ_COLD void
log_descs(const struct vq *vq, uint16_t p, uint16_t n)
{
	uint16_t i = pos_index(vq, p), room = (uint16_t)(vq->size - i);
	uint16_t first = n < room ? n : room;

	dirty_log_gpa(vq->log, vq->pdesc_gpa + 16ull * i, 16ull * first);
	if (n > first)
		dirty_log_gpa(vq->log, vq->pdesc_gpa, 16ull * (n - first));
}

bool
vq_packed_publish(struct vq *vq)
{
	uint16_t n = vq->nshadow, head = vq->published_used;

	if (n == 0)
		return false;
	if (vq->in_order) {
		/* Spec 2.8.9: one used descriptor, the last buffer's id, over the
		 * first of the batch; the driver skips the rest (TX: nothing was
		 * written into any of them). */
		used_write(&vq->pdesc[pos_index(vq, head)], pos_wrap(vq, head),
		           vq->shadow[n - 1].id, 0, __ATOMIC_RELEASE);
	} else {
		/* Every entry but the first, then the first: the driver looks
		 * only at the next position, so it sees all of them or none
		 * (spec 2.8.14, "multi-buffer requests"). Index and wrap
		 * counter are walked apart, in locals: the stores into the
		 * ring could alias the vq. */
		struct vring_packed_desc *ring = vq->pdesc;
		const struct vq_used_shadow *sh = vq->shadow;
		uint16_t size = vq->size, i0 = pos_index(vq, head), i = i0;
		bool w0 = pos_wrap(vq, head), w = w0;

		for (uint16_t k = 1; k < n; k++) {
			i = (uint16_t)(i + sh[k - 1].ndesc);
			if (i >= size) {
				i = (uint16_t)(i - size);
				w = !w;
			}
			used_write(&ring[i], w, sh[k].id, sh[k].len, __ATOMIC_RELAXED);
		}
		used_write(&ring[i0], w0, sh[0].id, sh[0].len, __ATOMIC_RELEASE);
	}
	if (unlikely(vq->log != NULL))
		log_descs(vq, head, pos_dist(vq, head, vq->used_idx));
	vq->published_used = vq->used_idx;
	vq->nshadow = 0;
	/* Everything before it is used: where a process that comes after a
	 * crash goes on (the driver still sees nothing past it as used).
	 * Release: never ahead of the used descriptors it vouches for. */
	if (vq->resume != NULL)
		__atomic_store_n(vq->resume, vq_packed_base(vq, vq->published_used),
		                 __ATOMIC_RELEASE);
	return true;
}

bool
vq_packed_kick_needed(struct vq *vq)
{
	uint16_t new_used = vq->published_used, old_used = vq->signalled_used;
	bool valid = vq->signalled_valid;
	uint16_t flags, off_wrap, e;

	/* Our used flags must be visible before we read the driver's wishes;
	 * pairs with the driver's barrier between writing them and its
	 * re-check of the ring (spec 2.8.21.3.1). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new_used;
	vq->signalled_valid = true;
	flags = le16toh(__atomic_load_n(&vq->driver_event->flags, __ATOMIC_RELAXED)) & 3;
	if (flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	/* ENABLE, or a value the driver may not use (DESC without EVENT_IDX,
	 * or the reserved 3): a notification never hurts. */
	if (flags != RING_EVENT_FLAGS_DESC || !vq->event_idx || !valid)
		return true;
	off_wrap = le16toh(__atomic_load_n(&vq->driver_event->off_wrap, __ATOMIC_RELAXED));
	e = off_wrap & 0x7fff;
	if (e >= vq->size)
		return true;
	if (!(off_wrap >> 15))
		e = (uint16_t)(e + vq->size);
	/* Notify if the descriptor the driver named was among those used
	 * since the last notification: [old_used, new_used). */
	return pos_dist(vq, old_used, e) < pos_dist(vq, old_used, new_used);
}

void
vq_packed_set_notify(struct vq *vq, bool on)
{
	/* ENABLE also serves a driver with EVENT_IDX: a kick for every
	 * addition, and the re-check after enabling (vq.h) covers the rest. */
	__atomic_store_n(&vq->device_event->flags,
	                 htole16(on ? RING_EVENT_FLAGS_ENABLE : RING_EVENT_FLAGS_DISABLE),
	                 __ATOMIC_RELAXED);
	if (on)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (unlikely(vq->log != NULL))
		dirty_log_gpa(vq->log, vq->device_event_gpa, sizeof(*vq->device_event));
}
