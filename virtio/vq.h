/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vq.h - device side of a virtqueue, split (spec 2.7, vq.c) or packed
 * (spec 2.8, vq_packed.c), behind one interface: the layout is fixed by
 * vq_map() when the queue starts, and each call below goes to its layout's
 * code on one test of vq->packed (a constant for the queue's life).
 * Security model: every field in guest memory is hostile and can change at any
 * time. vq_map() checks the rings once when the queue starts; vq_pop() is the
 * only reader of avail entries and descriptors afterwards: it reads each field
 * once, converts it from little-endian once, and checks it before use.
 *
 * Threading: a started vq has exactly one owner, the poll thread whose plan
 * lists it. The control thread touches it only while no plan lists it (after a
 * grace period), so no field here needs atomics except the guest-visible ones. */
#ifndef VHOSTMQ_VIRTIO_VQ_H
#define VHOSTMQ_VIRTIO_VQ_H
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "virtio/dirty.h"
#include "virtio/gmem.h"
#include "virtio/spec.h"

enum vq_err {
	VQ_OK = 0,
	VQ_EMPTY,                /* not an error: nothing available */
	VQ_E_BROKEN,             /* queue disabled by an earlier ring violation */
	/* ring violations: the queue becomes broken (sticky until re-initialised) */
	VQ_E_AVAIL_JUMP,         /* avail->idx moved by more than the ring size */
	VQ_E_HEAD_RANGE,         /* avail entry >= ring size */
	VQ_E_ID_RANGE,           /* packed: buffer id >= ring size */
	VQ_E_RING_CHAIN,         /* packed: a chain longer than VQ_MAX_CHAIN_DESCS
	                            or the ring, or running into a descriptor
	                            not made available (its end, so the next
	                            chain, cannot be looked for) */
	/* chain violations: the chain is returned with length 0 and counted */
	VQ_E_NEXT_RANGE,         /* next index >= table size */
	VQ_E_LOOP,               /* chain longer than its table (a cycle) or
	                            than VQ_MAX_CHAIN_DESCS */
	VQ_E_NESTED_INDIRECT,
	VQ_E_INDIRECT_LEN,       /* indirect table length 0, not a multiple of 16, too big */
	VQ_E_INDIRECT_NEXT,      /* INDIRECT and NEXT both set */
	VQ_E_INDIRECT_ADDR,      /* indirect table not in guest memory */
	VQ_E_INDIRECT_FEATURE,   /* indirect descriptor without RING_INDIRECT_DESC */
	VQ_E_ADDR,               /* buffer outside every region, or wrapping */
	VQ_E_LAYOUT,             /* readable descriptor after a writable one */
	VQ_E_DIRECTION,          /* writable buffer on a TX queue, readable on RX */
	VQ_E_TOO_MANY_SEGS,      /* more than VQ_MAX_SEGS host pieces */
	VQ_E_ZERO_LEN,           /* chain carries no bytes at all */
	/* vq_map(): the rings the frontend placed cannot be used */
	VQ_E_RING_SIZE,          /* 0, not a power of two, or above 32768 */
	VQ_E_RING_ALIGN,         /* a ring part misaligned (spec 2.7: 16/2/4) */
	VQ_E_RING_ADDR,          /* a ring part not wholly inside one region */
	VQ_E_RING_BASE,          /* packed: SET_VRING_BASE index beyond the ring */
	VQ_ERR_COUNT
};

const char *vq_strerror(enum vq_err e);

/* Enough for Linux's MAX_SKB_FRAGS + 2 chains even when every piece straddles
 * a region boundary; longer chains are dropped, not truncated. */
#define VQ_MAX_SEGS 64
/* Descriptors one walk reads at most, empty ones included: a chain that is
 * longer cannot be one we carry (only empty descriptors add no segment), and
 * the cap keeps a looping chain from costing a whole 32768-entry ring. */
#define VQ_MAX_CHAIN_DESCS (4 * VQ_MAX_SEGS)

struct vq_chain {
	/* What vq_push() takes to give the chain back: split, the head
	 * descriptor's index; packed, the buffer id | the ring descriptors the
	 * chain took << 16. */
	uint32_t head;
	uint16_t n_out, n_in;            /* seg[0..n_out) readable, then n_in writable */
	uint64_t out_len, in_len;        /* 64-bit: sums of 32-bit lengths */
	struct iovec seg[VQ_MAX_SEGS];
};

/* A chain of one descriptor (vq_pop_bufs_as()): its buffer, and what
 * vq_push() takes to give it back. */
struct vq_buf {
	struct iovec seg;
	uint32_t head;
};

/* What a queue expects of its chains: guest TX queues carry only readable
 * buffers, RX queues only writable ones. */
enum vq_dir { VQ_DIR_DEVICE_READS, VQ_DIR_DEVICE_WRITES };

/* Frontend-virtual addresses of the three ring parts (SET_VRING_ADDR). */
struct vq_addrs {
	uint64_t desc_fva, avail_fva, used_fva;
};

struct vq_stats {
	uint64_t err[VQ_ERR_COUNT];      /* single writer: the owning poll thread */
};

/* Packed rings: used entries pushed and not yet published, written into the
 * ring by vq_publish() (a rewind or vq_void_since() may still change them
 * before). One entry per chain: a burst of 32 frames of 64 KiB in 1536-byte
 * buffers needs 32 x 44; a guest that posts still smaller buffers waits on
 * its own ring (pops say VQ_EMPTY while this is full). */
#define VQ_SHADOW_MAX 2048
struct vq_used_shadow {
	uint16_t id, ndesc;
	uint32_t len;
};

struct vq {
	/* Set by the control thread while the queue is stopped. */
	struct vring_desc  *desc;
	struct vring_avail *avail;
	struct vring_used  *used;
	uint16_t size;                   /* power of two */
	uint16_t mask;
	enum vq_dir dir;
	bool event_idx;                  /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;                   /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	/* A migration's dirty log (NULL: not logging): the used ring's pages
	 * are marked at each publish; RX buffers by their writer (vnet). */
	const struct dirty_log *log;
	uint64_t log_used_gpa;           /* the used ring, guest physical */

	/* Owned by the poll thread while started. */
	uint16_t last_avail;             /* next avail entry to consume */
	uint16_t shadow_avail;           /* trusted copy of avail->idx */
	uint16_t used_idx;               /* next used entry to fill (shadow) */
	uint16_t published_used;         /* last value stored to used->idx */
	uint16_t signalled_used;         /* used idx at the last guest notification */
	bool signalled_valid;
	bool broken;
	uint32_t hint;                   /* gmem region cache for this queue */
	struct vq_stats stats;
	uint64_t chain_errs;             /* chain violations (sum of stats.err) */
	enum vq_err last_chain_err;      /* VQ_OK until a chain violation */
	enum vq_err broken_why;          /* the ring violation, if broken by one */

	/* Packed rings (VIRTIO_F_RING_PACKED; vq_packed.c). Positions
	 * (last_avail, shadow_avail: checked available so far, used_idx,
	 * published_used, signalled_used) count modulo 2 * size: descriptor
	 * c % size, wrap counter c < size, so one number is both and marks
	 * and rewinds need nothing more. Set by vq_map(). */
	bool packed;
	bool in_order;                   /* VIRTIO_F_IN_ORDER on a TX queue: one
	                                    used descriptor per publish */
	struct vring_packed_desc *pdesc;
	const struct vring_packed_event *driver_event;  /* the driver's wishes */
	struct vring_packed_event *device_event;        /* ours */
	uint64_t pdesc_gpa, device_event_gpa;           /* for the dirty log */
	/* Where each publish leaves the ring's position (as vq_position()
	 * says it) for a process that comes after a crash: a packed ring has
	 * no index in guest memory a frontend could resume from. NULL: none. */
	uint16_t *resume;
	uint16_t nshadow;
	struct vq_used_shadow shadow[VQ_SHADOW_MAX];
};

/* Prepares a stopped vq: translates rings through mem (each part must be fully
 * mapped), checks alignment and size, and finds where to start. A split ring
 * starts at the guest's used->idx: the frontend's SET_VRING_BASE value is
 * not needed, as we complete every chain before a queue stops, so nothing is
 * ever in flight and used->idx is what the guest last saw (a base that
 * disagreed would only lose or repeat buffers). A packed ring has no such
 * index in memory: it starts at base (SET_VRING_BASE: the descriptor in bits
 * 0-14, the wrap counter in bit 15), used and available alike. features
 * choose the layout (VIRTIO_F_RING_PACKED). Returns VQ_OK or VQ_E_RING_*; on
 * failure the vq is left broken, so a stray vq_pop() returns VQ_E_BROKEN.
 * Run by the control thread. */
enum vq_err vq_map(struct vq *vq, const struct gmem *mem, const struct vq_addrs *a,
                   uint32_t size, enum vq_dir dir, uint64_t features, uint16_t base);

/* Where a stopped vq would resume, as GET_VRING_BASE says it: split, the
 * next avail entry; packed, the next descriptor | its wrap counter << 15. */
uint16_t vq_position(const struct vq *vq);

/* Packed: keep the position of every publish at *p from now on (and now);
 * NULL stops it. Run by the control thread on a stopped vq. */
void vq_set_resume(struct vq *vq, uint16_t *p);

/* Packed: whether the ring at a (size entries) looks as a device left it
 * with base as its position: the descriptor before it was marked used in
 * its lap (and names a buffer). A ring a driver set up anew (zeroed, then
 * made available from 0) does not. Reads guest memory only. */
bool vq_packed_resumable(const struct gmem *mem, const struct vq_addrs *a, uint32_t size,
                         uint16_t base);

/* Starts (log != NULL) or ends logging the writes into this stopped vq's
 * used ring, at guest physical used_gpa. Run by the control thread. */
void vq_set_log(struct vq *vq, const struct dirty_log *log, uint64_t used_gpa);

/* The calls a burst makes, in two forms. vq_pop(), vq_push(), ... test
 * vq->packed. The _as forms take the layout as a constant (always inlined):
 * the burst loops of pmd/datapath.c and virtio/vnet.c are compiled once per
 * layout, and the poll loop takes the one of the ring's layout once per
 * visit, so nothing per packet asks which layout a ring has. Each layout's own functions
 * (vq_split_*: vq.c; vq_packed_*: vq_packed.c) are behind them. */
#define VQ_AS static inline __attribute__((always_inline))

enum vq_err vq_split_pop(struct vq *vq, const struct gmem *mem, struct vq_chain *c);
enum vq_err vq_packed_pop(struct vq *vq, const struct gmem *mem, struct vq_chain *c);
uint16_t vq_split_pop_bufs(struct vq *vq, const struct gmem *mem, struct vq_buf *b, uint16_t n,
                           bool *more);
uint16_t vq_packed_pop_bufs(struct vq *vq, const struct gmem *mem, struct vq_buf *b, uint16_t n,
                            bool *more);
uint16_t vq_split_avail_count(struct vq *vq);
uint16_t vq_packed_avail_count(struct vq *vq);
void vq_split_prefetch(const struct vq *vq, const struct gmem *mem, uint16_t n);
void vq_packed_prefetch(const struct vq *vq, const struct gmem *mem, uint16_t n);
bool vq_split_publish(struct vq *vq);
bool vq_packed_publish(struct vq *vq);
bool vq_split_kick_needed(struct vq *vq);
bool vq_packed_kick_needed(struct vq *vq);

/* The next chain. VQ_OK fills c. A chain violation is returned as its error
 * after the chain was given back with length 0 and counted: callers just go
 * on. VQ_EMPTY and VQ_E_BROKEN mean stop. */
VQ_AS enum vq_err
vq_pop_as(struct vq *vq, const struct gmem *mem, struct vq_chain *c, bool packed)
{
	return packed ? vq_packed_pop(vq, mem, c) : vq_split_pop(vq, mem, c);
}

/* Up to n chains of the usual shape from the head of the ring, into b, for
 * a burst that checks all its descriptors first and then copies with the
 * buffers fetched ahead: each one descriptor, of the queue's direction, in
 * one region, checked as vq_pop() checks it (the same code). Stops at the
 * first chain of any other shape, even a broken one, and leaves it for
 * vq_pop() (*more: true), or when the ring has no more. Returns how many. */
VQ_AS uint16_t
vq_pop_bufs_as(struct vq *vq, const struct gmem *mem, struct vq_buf *b, uint16_t n, bool *more,
               bool packed)
{
	return packed ? vq_packed_pop_bufs(vq, mem, b, n, more)
	              : vq_split_pop_bufs(vq, mem, b, n, more);
}

/* Prefetches the descriptors and first buffer lines of up to n of the entries
 * counted by the last vq_avail_count(), so a burst's cache misses overlap
 * instead of stalling one packet at a time. A hint only: guest values read
 * here are bounds-checked just enough to stay inside guest memory and are used
 * for nothing but prefetch addresses; vq_pop() reads and checks them again. */
#define VQ_CACHE_LINE 64
VQ_AS void
vq_prefetch_as(const struct vq *vq, const struct gmem *mem, uint16_t n, bool packed)
{
	if (packed)
		vq_packed_prefetch(vq, mem, n);
	else
		vq_split_prefetch(vq, mem, n);
}

/* Number of avail entries not yet consumed (takes a fresh snapshot); packed:
 * descriptors the driver made available, so at least the chains. */
VQ_AS uint16_t
vq_avail_count_as(struct vq *vq, bool packed)
{
	return packed ? vq_packed_avail_count(vq) : vq_split_avail_count(vq);
}

/* What a burst may plan for, at most max, cheaply: a split ring's count
 * (one index read); a packed ring's max as soon as its next descriptor is
 * available (counting on reads every descriptor's flags once more, and the
 * burst's pops find the end anyway). 0: nothing available. */
bool vq_packed_avail_any(struct vq *vq);
VQ_AS uint16_t
vq_avail_room_as(struct vq *vq, uint16_t max, bool packed)
{
	uint16_t n;

	if (packed)
		return vq_packed_avail_any(vq) ? max : 0;
	n = vq_split_avail_count(vq);
	return n < max ? n : max;
}

/* Packed: the position n descriptors after c (modulo 2 * size). */
static inline uint16_t
vq_packed_advance(const struct vq *vq, uint16_t c, uint16_t n)
{
	uint32_t v = (uint32_t)c + n;

	return (uint16_t)(v >= 2u * vq->size ? v - 2u * vq->size : v);
}

/* Gives back the last n chains vq_pop_bufs_as() took, none of them pushed
 * yet: the next pop takes them again. */
VQ_AS void
vq_unpop_bufs_as(struct vq *vq, uint16_t n, bool packed)
{
	if (packed)       /* one descriptor each */
		vq->last_avail = (uint16_t)(vq->last_avail >= n ? vq->last_avail - (unsigned)n
		                                                 : vq->last_avail + 2u * vq->size - n);
	else
		vq->last_avail = (uint16_t)(vq->last_avail - n);
}

/* Records a used entry (head: vq_chain.head) without publishing it: split,
 * in the guest's used ring; packed, in the shadow (vq_publish() writes it,
 * as the ring's own descriptors must stay unchanged until then). */
VQ_AS void
vq_push_as(struct vq *vq, uint32_t head, uint32_t written, bool packed)
{
	if (packed) {
		uint16_t ndesc = (uint16_t)(head >> 16);

		vq->shadow[vq->nshadow++] = (struct vq_used_shadow){
			.id = (uint16_t)head, .ndesc = ndesc, .len = written };
		vq->used_idx = vq_packed_advance(vq, vq->used_idx, ndesc);
	} else {
		struct vring_used_elem *u = &vq->used->ring[vq->used_idx & vq->mask];

		u->id = htole32((uint16_t)head);
		u->len = htole32(written);
		vq->used_idx++;
	}
}

/* vq_push_as(b[i].head, written ? written[i] : 0) for n chains
 * vq_pop_bufs_as() took (one descriptor each), in order. Positions in
 * locals: the stores into the ring or the shadow could alias the vq. */
VQ_AS void
vq_push_bufs_as(struct vq *vq, const struct vq_buf *b, const uint32_t *written, uint16_t n,
                bool packed)
{
	if (packed) {
		struct vq_used_shadow *sh = &vq->shadow[vq->nshadow];

		for (uint16_t i = 0; i < n; i++)
			sh[i] = (struct vq_used_shadow){ .id = (uint16_t)b[i].head, .ndesc = 1,
			                                 .len = written ? written[i] : 0 };
		vq->nshadow = (uint16_t)(vq->nshadow + n);
		vq->used_idx = vq_packed_advance(vq, vq->used_idx, n);
	} else {
		struct vring_used_elem *ring = vq->used->ring;
		uint16_t u = vq->used_idx, mask = vq->mask;

		for (uint16_t i = 0; i < n; i++, u++) {
			ring[u & mask].id = htole32((uint16_t)b[i].head);
			ring[u & mask].len = htole32(written ? written[i] : 0);
		}
		vq->used_idx = u;
	}
}

/* Undo point for multi-chain packets: pops and pushes after vq_mark() can be
 * taken back with vq_rewind() as long as nothing was published in between
 * (a split ring's shadow is always empty). */
struct vq_mark { uint16_t last_avail, used_idx, nshadow; };
VQ_AS struct vq_mark
vq_mark_as(const struct vq *vq, bool packed)
{
	return (struct vq_mark){ vq->last_avail, vq->used_idx, packed ? vq->nshadow : 0 };
}
VQ_AS void
vq_rewind_as(struct vq *vq, struct vq_mark m, bool packed)
{
	vq->last_avail = m.last_avail;
	vq->used_idx = m.used_idx;
	if (packed)
		vq->nshadow = m.nshadow;
}

/* Turns every used entry pushed since m into a zero-length return (a packet
 * abandoned half-way gives its buffers back empty). Not published yet. */
void vq_void_since(struct vq *vq, struct vq_mark m);

/* Publishes every push since the last call (split: one release store of
 * used->idx; packed: the used descriptors, the first one last); false if
 * there was nothing to publish. */
VQ_AS bool
vq_publish_as(struct vq *vq, bool packed)
{
	return packed ? vq_packed_publish(vq) : vq_split_publish(vq);
}

/* Event-idx / NO_INTERRUPT decision after a publish: true if the guest wants an
 * interrupt for the entries published since the last notification. */
VQ_AS bool
vq_kick_needed_as(struct vq *vq, bool packed)
{
	return packed ? vq_packed_kick_needed(vq) : vq_split_kick_needed(vq);
}

/* The same, the layout asked of the ring. */
static inline enum vq_err
vq_pop(struct vq *vq, const struct gmem *mem, struct vq_chain *c)
{
	return vq_pop_as(vq, mem, c, vq->packed);
}
static inline void
vq_prefetch(const struct vq *vq, const struct gmem *mem, uint16_t n)
{
	vq_prefetch_as(vq, mem, n, vq->packed);
}
static inline uint16_t vq_avail_count(struct vq *vq) { return vq_avail_count_as(vq, vq->packed); }
static inline void
vq_push(struct vq *vq, uint32_t head, uint32_t written)
{
	vq_push_as(vq, head, written, vq->packed);
}
static inline struct vq_mark vq_mark(const struct vq *vq) { return vq_mark_as(vq, vq->packed); }
static inline void vq_rewind(struct vq *vq, struct vq_mark m) { vq_rewind_as(vq, m, vq->packed); }
static inline bool vq_publish(struct vq *vq) { return vq_publish_as(vq, vq->packed); }
static inline bool vq_kick_needed(struct vq *vq) { return vq_kick_needed_as(vq, vq->packed); }

/* Asks the driver for kicks (true) or tells it not to bother (false), for
 * poll threads going to sleep and waking. With event idx, a kick comes when
 * the driver adds entries beyond the avail index seen now (so also for a
 * receive that waits for more buffers than were posted). After enabling,
 * callers must re-check vq_avail_count(): the driver may have added work in
 * between. */
void vq_set_notify(struct vq *vq, bool on);

#endif
