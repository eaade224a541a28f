/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vq_internal.h - what vq.c (split rings, and the calls of vq.h that
 * pick a layout) and vq_packed.c (packed rings) share. Not an interface:
 * nothing outside these two files includes it. */
#ifndef VHOSTMQ_VIRTIO_VQ_INTERNAL_H
#define VHOSTMQ_VIRTIO_VQ_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include "common/base.h"
#include "virtio/vq.h"

/* Marks vq broken by ring violation e (sticky until vq_map()); returns e. */
enum vq_err vq_fail(struct vq *vq, enum vq_err e);

/* Appends one checked descriptor's buffer (gpa, len, writable) to c, split
 * at region boundaries: VQ_E_LAYOUT, VQ_E_ADDR or VQ_E_TOO_MANY_SEGS when
 * it cannot. */
enum vq_err vq_chain_add(struct vq *vq, const struct gmem *mem, struct vq_chain *c,
                         uint64_t gpa, uint32_t len, bool writable);

/* What a burst of pops keeps in registers: the flags a one-descriptor
 * chain has for the queue's direction, and the region cursor. */
struct vq_pop_ctx {
	uint16_t one_buf_flags;          /* WRITE where the device writes, else 0 */
	struct gmem_cursor cur;
};

static inline __attribute__((always_inline)) struct vq_pop_ctx
vq_pop_ctx(const struct vq *vq, const struct gmem *mem)
{
	return (struct vq_pop_ctx){
		.one_buf_flags = vq->dir == VQ_DIR_DEVICE_WRITES ? VRING_DESC_F_WRITE : 0,
		.cur = gmem_cursor(mem, vq->hint),
	};
}

/* The usual chain, both layouts: one descriptor (flags: neither NEXT nor
 * INDIRECT), of the queue's direction, not empty, in one region (what
 * DPDK's and Linux's drivers post for a frame or a receive buffer). The
 * same checks the full walk makes, in fewer steps. True: *seg is its
 * buffer; false: the chain needs the walk, which says what is wrong. */
static inline __attribute__((always_inline)) bool
vq_one_buf(struct vq_pop_ctx *x, const struct gmem *mem, uint64_t addr, uint32_t len,
           uint16_t flags, struct iovec *seg)
{
	void *hva;

	if (unlikely((flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE)) !=
	             x->one_buf_flags || len == 0))
		return false;
	hva = gmem_cursor_whole(mem, &x->cur, addr, len);
	if (unlikely(hva == NULL))
		return false;
	*seg = (struct iovec){ .iov_base = hva, .iov_len = len };
	return true;
}

/* A chain of one buffer as vq_pop() hands it out. */
static inline __attribute__((always_inline)) void
vq_chain_of_buf(const struct vq *vq, const struct vq_buf *b, struct vq_chain *c)
{
	bool out = vq->dir == VQ_DIR_DEVICE_READS;

	c->head = b->head;
	c->seg[0] = b->seg;
	c->n_out = out;
	c->n_in = !out;
	c->out_len = out ? b->seg.iov_len : 0;
	c->in_len = out ? 0 : b->seg.iov_len;
}

/* Prefetches the first two lines of a buffer a descriptor names (a frame
 * and the header in front of it usually span two), for writing on a queue
 * the device writes (PREFETCHW where the caller is built for it: see
 * vq_split_prefetch()). A hint only: the address is checked just enough to
 * stay inside guest memory. hint: the caller's copy of the region cache. */
static inline __attribute__((always_inline)) void
vq_prefetch_buffer(const struct vq *vq, const struct gmem *mem, uint64_t gpa, uint32_t len,
                   uint32_t *hint)
{
	uint64_t got = len < 2 * VQ_CACHE_LINE ? len : 2 * VQ_CACHE_LINE;
	const char *hva = gmem_gpa_to_hva(mem, gpa, &got, hint);

	if (hva == NULL)
		return;
	if (vq->dir == VQ_DIR_DEVICE_WRITES) {
		__builtin_prefetch(hva, 1, 3);
		if (got > VQ_CACHE_LINE)
			__builtin_prefetch(hva + VQ_CACHE_LINE, 1, 3);
	} else {
		__builtin_prefetch(hva, 0, 3);
		if (got > VQ_CACHE_LINE)
			__builtin_prefetch(hva + VQ_CACHE_LINE, 0, 3);
	}
}

/* A chain violation: counted, and the chain given back with length 0. */
void vq_chain_refused(struct vq *vq, uint32_t head, enum vq_err e);

/* A packed position as SET_VRING_BASE/GET_VRING_BASE carry it: the
 * descriptor index, its wrap counter in bit 15. */
static inline uint16_t
vq_packed_base(const struct vq *vq, uint16_t c)
{
	return c < vq->size ? (uint16_t)(c | 0x8000) : (uint16_t)(c - vq->size);
}

/* The packed ring's halves of vq.h's calls that are not in vq.h (vq_packed.c). */
enum vq_err vq_packed_map(struct vq *vq, const struct gmem *mem, const struct vq_addrs *a,
                          uint32_t size, uint16_t base);
void vq_packed_set_notify(struct vq *vq, bool on);

#endif
