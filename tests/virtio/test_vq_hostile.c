/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_vq_hostile.c - vq_pop() and vq_map() as the gate for
 * guest-written rings. One table row per validation rule breaks exactly that
 * rule and asserts the exact enum vq_err and its consequence: a ring violation
 * breaks the queue for good (until vq_map()) and returns nothing to the guest;
 * a chain violation returns that chain with length 0, counts it once, and
 * leaves the queue working for the next good chain. Each row runs twice: the
 * second time the bursts' path (vq_pop_bufs_as()) meets the chain first and
 * must leave it, untouched, to vq_pop(). A second table covers the ring
 * checks vq_map() makes when a queue starts. */
#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/vq.h"
#include "tests/fake_guest.h"

#define TX VQ_DIR_DEVICE_READS
#define RX VQ_DIR_DEVICE_WRITES
#define F_INDIRECT VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)
#define START 500                    /* avail/used index the guest starts at */
#define N VRING_DESC_F_NEXT
#define W VRING_DESC_F_WRITE
#define I VRING_DESC_F_INDIRECT
#define OUTSIDE UINT64_C(0x10)       /* below FG_GPA_BASE: in no region */

struct hostile {
	const char *name;
	enum vq_dir dir;
	uint32_t qsize;                  /* 0: 16 */
	uint32_t n_regions;              /* 0: 1 */
	uint16_t (*build)(struct fake_guest *g);    /* returns the bad head */
	enum vq_err want;
};

static uint64_t
B(struct fake_guest *g, uint32_t len)
{
	return fg_alloc(g, len ? len : 1, 16);
}

/* Writes a table of n descriptors somewhere fresh and returns its gpa. */
static uint64_t
table(struct fake_guest *g, const struct vring_desc *d, unsigned n)
{
	uint64_t gpa = fg_alloc(g, 16ull * n, 16);

	if (fg_table(g, gpa, d, n) != 0)
		abort();
	return gpa;
}

/* --- ring violations ------------------------------------------------------ */

static uint16_t
avail_jump_by_size_plus_one(struct fake_guest *g)
{
	fg_set_avail_idx(g, (uint16_t)(START + g->qsize + 1));
	return 0;
}

static uint16_t
avail_jump_by_half_range(struct fake_guest *g)
{
	fg_set_avail_idx(g, (uint16_t)(START + 0x8000));
	return 0;
}

static uint16_t
avail_goes_backwards(struct fake_guest *g)
{
	fg_set_avail_idx(g, (uint16_t)(START - 1));
	return 0;
}

static uint16_t
head_eq_size(struct fake_guest *g)
{
	fg_desc(g, 0, B(g, 8), 8, 0, 0);
	fg_avail(g, (uint16_t)g->qsize);
	return 0;
}

static uint16_t
head_ffff(struct fake_guest *g)
{
	/* Where descriptor 0xffff would be, inside guest memory, a buffer a
	 * burst would take: only the range check can keep it out. */
	const struct vring_desc d = { htole64(B(g, 64)), htole32(64),
	                              htole16(g->vq->dir == RX ? W : 0), 0 };

	if (fg_write(g, g->desc_gpa + 16ull * 0xffff, &d, sizeof(d)) != 0)
		abort();
	fg_avail(g, 0xffff);
	return 0;
}

/* --- chain violations ----------------------------------------------------- */

static uint16_t
next_eq_size(struct fake_guest *g)
{
	fg_desc(g, 2, B(g, 8), 8, N, (uint16_t)g->qsize);
	fg_avail(g, 2);
	return 2;
}

static uint16_t
next_ffff(struct fake_guest *g)
{
	fg_desc(g, 0, B(g, 8), 8, N, 1);
	fg_desc(g, 1, B(g, 8), 8, N, 0xffff);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
next_past_indirect_table(struct fake_guest *g)
{
	const struct vring_desc t[2] = { { B(g, 8), 8, N, 1 }, { B(g, 8), 8, N, 2 } };

	fg_desc(g, 3, table(g, t, 2), sizeof(t), I, 0);
	fg_avail(g, 3);
	return 3;
}

static uint16_t
loop_self(struct fake_guest *g)
{
	fg_desc(g, 4, B(g, 8), 8, N, 4);
	fg_avail(g, 4);
	return 4;
}

static uint16_t
loop_two_cycle(struct fake_guest *g)
{
	fg_desc(g, 0, B(g, 8), 8, N, 1);
	fg_desc(g, 1, B(g, 8), 8, N, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
loop_long_cycle(struct fake_guest *g)
{
	/* 0 -> 1 -> ... -> 14 -> 0; descriptor 15 stays free for the good chain. */
	for (uint16_t i = 0; i < 15; i++)
		fg_desc(g, i, B(g, 8), 8, N, (uint16_t)((i + 1) % 15));
	fg_avail(g, 5);
	return 5;
}

static uint16_t
loop_zero_len(struct fake_guest *g)
{
	/* Costs no segments, so only the step budget can stop it. */
	fg_desc(g, 0, B(g, 8), 0, N, 1);
	fg_desc(g, 1, B(g, 8), 0, N, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
loop_in_indirect(struct fake_guest *g)
{
	const struct vring_desc t[3] = {
		{ B(g, 8), 8, N, 1 }, { B(g, 8), 8, N, 2 }, { B(g, 8), 0, N, 1 },
	};

	fg_desc(g, 0, table(g, t, 3), sizeof(t), I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
nested_indirect(struct fake_guest *g)
{
	const struct vring_desc inner[1] = { { B(g, 8), 8, 0, 0 } };
	const struct vring_desc outer[2] = {
		{ B(g, 8), 8, N, 1 }, { table(g, inner, 1), 16, I, 0 },
	};

	fg_desc(g, 6, table(g, outer, 2), sizeof(outer), I, 0);
	fg_avail(g, 6);
	return 6;
}

static uint16_t
indirect_with(struct fake_guest *g, uint32_t len, uint16_t flags)
{
	const struct vring_desc t[1] = { { B(g, 8), 8, 0, 0 } };
	uint64_t tbl = table(g, t, 1);

	fg_alloc(g, 16u * (VQ_SIZE_MAX + 1), 16);  /* so any length stays mapped */
	fg_desc(g, 7, tbl, len, flags, 8);
	fg_desc(g, 8, B(g, 8), 8, 0, 0);
	fg_avail(g, 7);
	return 7;
}

static uint16_t indirect_len_0(struct fake_guest *g) { return indirect_with(g, 0, I); }
static uint16_t indirect_len_8(struct fake_guest *g) { return indirect_with(g, 8, I); }
static uint16_t indirect_len_24(struct fake_guest *g) { return indirect_with(g, 24, I); }
static uint16_t indirect_len_17(struct fake_guest *g) { return indirect_with(g, 17, I); }
static uint16_t
indirect_len_too_many(struct fake_guest *g)
{
	return indirect_with(g, 16u * (VQ_SIZE_MAX + 1), I);
}
static uint16_t indirect_and_next(struct fake_guest *g) { return indirect_with(g, 16, I | N); }

static uint16_t
indirect_outside(struct fake_guest *g)
{
	fg_desc(g, 0, OUTSIDE, 32, I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
indirect_wraps(struct fake_guest *g)
{
	fg_desc(g, 0, UINT64_MAX - 15, 32, I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
indirect_partly_outside(struct fake_guest *g)
{
	/* Entry 0 is the last 16 bytes of memory; its NEXT entry is not. */
	const struct vring_desc t[1] = { { B(g, 8), 8, N, 1 } };
	uint64_t tbl = fg_region_end(g, 0) - 16;

	if (fg_table(g, tbl, t, 1) != 0)
		abort();
	fg_desc(g, 0, tbl, 32, I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
indirect_at_end(struct fake_guest *g)
{
	fg_desc(g, 0, fg_region_end(g, 0), 16, I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
addr_outside(struct fake_guest *g)
{
	fg_desc(g, 1, OUTSIDE, 64, 0, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
addr_just_below_memory(struct fake_guest *g)
{
	fg_desc(g, 1, FG_GPA_BASE - 1, 64, 0, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
addr_wraps(struct fake_guest *g)
{
	fg_desc(g, 1, UINT64_MAX - 10, 100, 0, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
addr_partly_outside(struct fake_guest *g)
{
	fg_desc(g, 1, fg_region_end(g, 0) - 10, 100, 0, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
addr_second_desc_outside(struct fake_guest *g)
{
	fg_desc(g, 1, B(g, 64), 64, N, 2);
	fg_desc(g, 2, fg_region_end(g, 0), 1, 0, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
addr_in_indirect(struct fake_guest *g)
{
	const struct vring_desc t[2] = { { B(g, 8), 8, N, 1 }, { OUTSIDE, 8, 0, 0 } };

	fg_desc(g, 1, table(g, t, 2), sizeof(t), I, 0);
	fg_avail(g, 1);
	return 1;
}

static uint16_t
layout_w_then_r(struct fake_guest *g)
{
	fg_desc(g, 0, B(g, 8), 8, W | N, 1);
	fg_desc(g, 1, B(g, 8), 8, 0, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
layout_w_then_r_indirect(struct fake_guest *g)
{
	const struct vring_desc t[3] = {
		{ B(g, 8), 8, W | N, 1 }, { B(g, 8), 8, W | N, 2 }, { B(g, 8), 8, 0, 0 },
	};

	fg_desc(g, 0, table(g, t, 3), sizeof(t), I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
layout_direct_w_then_indirect_r(struct fake_guest *g)
{
	const struct vring_desc t[1] = { { B(g, 8), 8, 0, 0 } };

	fg_desc(g, 0, B(g, 8), 8, W | N, 1);
	fg_desc(g, 1, table(g, t, 1), 16, I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
writable_only(struct fake_guest *g)
{
	fg_desc(g, 9, B(g, 64), 64, W, 0);
	fg_avail(g, 9);
	return 9;
}

static uint16_t
readable_only(struct fake_guest *g)
{
	fg_desc(g, 9, B(g, 64), 64, 0, 0);
	fg_avail(g, 9);
	return 9;
}

static uint16_t
readable_then_writable(struct fake_guest *g)
{
	fg_desc(g, 9, B(g, 64), 64, N, 10);
	fg_desc(g, 10, B(g, 64), 64, W, 0);
	fg_avail(g, 9);
	return 9;
}

static uint16_t
writable_in_indirect(struct fake_guest *g)
{
	const struct vring_desc t[2] = { { B(g, 8), 8, N, 1 }, { B(g, 8), 8, W, 0 } };

	fg_desc(g, 0, table(g, t, 2), sizeof(t), I, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
too_many_direct(struct fake_guest *g)
{
	for (uint16_t i = 0; i <= VQ_MAX_SEGS; i++)
		fg_desc(g, i, B(g, 1), 1, i < VQ_MAX_SEGS ? N : 0, (uint16_t)(i + 1));
	fg_avail(g, 0);
	return 0;
}

static uint16_t
too_many_indirect(struct fake_guest *g)
{
	struct vring_desc t[VQ_MAX_SEGS + 1];

	for (uint16_t i = 0; i <= VQ_MAX_SEGS; i++)
		t[i] = (struct vring_desc){ B(g, 1), 1, i < VQ_MAX_SEGS ? N : 0,
		                            (uint16_t)(i + 1) };
	fg_desc(g, 0, table(g, t, VQ_MAX_SEGS + 1), sizeof(t), I, 0);
	fg_avail(g, 0);
	return 0;
}

/* 63 one-byte descriptors are fine; the 64th straddles a region boundary and
 * becomes segments 64 and 65. */
static uint16_t
too_many_by_straddle(struct fake_guest *g)
{
	for (uint16_t i = 0; i < VQ_MAX_SEGS; i++)
		fg_desc(g, i, B(g, 1), 1, N, (uint16_t)(i + 1));
	fg_desc(g, VQ_MAX_SEGS - 1, fg_region_end(g, 0) - 1, 2, 0, 0);
	fg_avail(g, 0);
	return 0;
}

static uint16_t
zero_len_single(struct fake_guest *g)
{
	fg_desc(g, 3, B(g, 8), 0, 0, 0);
	fg_avail(g, 3);
	return 3;
}

static uint16_t
zero_len_chain(struct fake_guest *g)
{
	fg_desc(g, 3, B(g, 8), 0, N, 4);
	fg_desc(g, 4, OUTSIDE, 0, 0, 0);     /* no bytes, so no address to check */
	fg_avail(g, 3);
	return 3;
}

static uint16_t
zero_len_writable(struct fake_guest *g)
{
	fg_desc(g, 3, B(g, 8), 0, W, 0);
	fg_avail(g, 3);
	return 3;
}

static uint16_t
zero_len_indirect(struct fake_guest *g)
{
	const struct vring_desc t[2] = { { B(g, 8), 0, N, 1 }, { B(g, 8), 0, 0, 0 } };

	fg_desc(g, 3, table(g, t, 2), sizeof(t), I, 0);
	fg_avail(g, 3);
	return 3;
}

/* A well-formed indirect table, wrong only when the feature is off. */
static uint16_t
indirect_unnegotiated(struct fake_guest *g)
{
	const struct vring_desc t[1] = { { B(g, 64), 64, 0, 0 } };

	fg_desc(g, 4, table(g, t, 1), sizeof(t), I, 0);
	fg_avail(g, 4);
	return 4;
}

static const struct hostile cases[] = {
	{ "avail idx jumps by size + 1", TX, 0, 0, avail_jump_by_size_plus_one, VQ_E_AVAIL_JUMP },
	{ "avail idx jumps by 0x8000", RX, 0, 0, avail_jump_by_half_range, VQ_E_AVAIL_JUMP },
	{ "avail idx goes backwards", TX, 0, 0, avail_goes_backwards, VQ_E_AVAIL_JUMP },
	{ "avail head == size", TX, 0, 0, head_eq_size, VQ_E_HEAD_RANGE },
	{ "avail head 0xffff", RX, 0, 0, head_ffff, VQ_E_HEAD_RANGE },
	{ "next == size", TX, 0, 0, next_eq_size, VQ_E_NEXT_RANGE },
	{ "next 0xffff in second desc", TX, 0, 0, next_ffff, VQ_E_NEXT_RANGE },
	{ "next past indirect table", TX, 0, 0, next_past_indirect_table, VQ_E_NEXT_RANGE },
	{ "self loop", TX, 0, 0, loop_self, VQ_E_LOOP },
	{ "two-descriptor cycle", TX, 0, 0, loop_two_cycle, VQ_E_LOOP },
	{ "15-descriptor cycle", TX, 0, 0, loop_long_cycle, VQ_E_LOOP },
	{ "zero-length cycle", RX, 0, 0, loop_zero_len, VQ_E_LOOP },
	{ "cycle inside indirect table", TX, 0, 0, loop_in_indirect, VQ_E_LOOP },
	{ "nested indirect", TX, 0, 0, nested_indirect, VQ_E_NESTED_INDIRECT },
	{ "indirect len 0", TX, 0, 0, indirect_len_0, VQ_E_INDIRECT_LEN },
	{ "indirect len 8", TX, 0, 0, indirect_len_8, VQ_E_INDIRECT_LEN },
	{ "indirect len 17", TX, 0, 0, indirect_len_17, VQ_E_INDIRECT_LEN },
	{ "indirect len 24", TX, 0, 0, indirect_len_24, VQ_E_INDIRECT_LEN },
	{ "indirect len 32769 entries", TX, 0, 0, indirect_len_too_many, VQ_E_INDIRECT_LEN },
	{ "indirect and next", TX, 0, 0, indirect_and_next, VQ_E_INDIRECT_NEXT },
	{ "indirect without RING_INDIRECT_DESC", TX, 0, 0, indirect_unnegotiated,
	  VQ_E_INDIRECT_FEATURE },
	{ "indirect table outside memory", TX, 0, 0, indirect_outside, VQ_E_INDIRECT_ADDR },
	{ "indirect table wraps", TX, 0, 0, indirect_wraps, VQ_E_INDIRECT_ADDR },
	{ "indirect table partly outside", TX, 0, 0, indirect_partly_outside, VQ_E_INDIRECT_ADDR },
	{ "indirect table at end of memory", TX, 0, 0, indirect_at_end, VQ_E_INDIRECT_ADDR },
	{ "buffer outside memory", TX, 0, 0, addr_outside, VQ_E_ADDR },
	{ "buffer just below memory", TX, 0, 0, addr_just_below_memory, VQ_E_ADDR },
	{ "buffer gpa + len wraps", TX, 0, 0, addr_wraps, VQ_E_ADDR },
	{ "buffer partly outside", TX, 0, 0, addr_partly_outside, VQ_E_ADDR },
	{ "second buffer outside", TX, 0, 0, addr_second_desc_outside, VQ_E_ADDR },
	{ "buffer outside, in indirect", TX, 0, 0, addr_in_indirect, VQ_E_ADDR },
	{ "readable after writable (rx)", RX, 0, 0, layout_w_then_r, VQ_E_LAYOUT },
	{ "readable after writable (tx)", TX, 0, 0, layout_w_then_r, VQ_E_LAYOUT },
	{ "readable after writable, indirect", RX, 0, 0, layout_w_then_r_indirect, VQ_E_LAYOUT },
	{ "readable indirect after writable direct", RX, 0, 0,
	  layout_direct_w_then_indirect_r, VQ_E_LAYOUT },
	{ "writable buffer on tx", TX, 0, 0, writable_only, VQ_E_DIRECTION },
	{ "readable buffer on rx", RX, 0, 0, readable_only, VQ_E_DIRECTION },
	{ "readable then writable on tx", TX, 0, 0, readable_then_writable, VQ_E_DIRECTION },
	{ "readable then writable on rx", RX, 0, 0, readable_then_writable, VQ_E_DIRECTION },
	{ "writable in indirect on tx", TX, 0, 0, writable_in_indirect, VQ_E_DIRECTION },
	{ "65 descriptors", RX, 128, 0, too_many_direct, VQ_E_TOO_MANY_SEGS },
	{ "two-descriptor cycle, ring of 128: segments run out before steps", TX, 128, 0,
	  loop_two_cycle, VQ_E_TOO_MANY_SEGS },
	{ "65 indirect entries", TX, 0, 0, too_many_indirect, VQ_E_TOO_MANY_SEGS },
	{ "64 descriptors, one straddling", TX, 128, 2, too_many_by_straddle,
	  VQ_E_TOO_MANY_SEGS },
	{ "single zero-length", TX, 0, 0, zero_len_single, VQ_E_ZERO_LEN },
	{ "chain of zero-lengths", TX, 0, 0, zero_len_chain, VQ_E_ZERO_LEN },
	{ "zero-length writable", RX, 0, 0, zero_len_writable, VQ_E_ZERO_LEN },
	{ "zero-length indirect entries", TX, 0, 0, zero_len_indirect, VQ_E_ZERO_LEN },
};

static bool
is_ring_violation(enum vq_err e)
{
	return e == VQ_E_AVAIL_JUMP || e == VQ_E_HEAD_RANGE;
}

/* Adds a good one-buffer chain at the last descriptor; returns its head. */
static uint16_t
add_good(struct fake_guest *g, enum vq_dir dir)
{
	uint16_t head = (uint16_t)(g->qsize - 1);

	fg_desc(g, head, B(g, 128), 128, dir == RX ? W : 0, 0);
	fg_avail(g, head);
	return head;
}

/* Each row runs two ways: vq_pop() meets the bad chain, or the burst path
 * does first, as the datapath's does. */
struct hcase {
	const struct hostile *h;
	bool burst;
	char name[96];
};

/* The burst path (vq_pop_bufs_as()) meets the row's chain: it takes
 * nothing, moves nothing, counts nothing and leaves the chain to vq_pop()
 * (more), whose verdict is returned. Only a jumped avail index is its own
 * to find, as it reads the index first: it breaks the ring as vq_pop()
 * would, asks for nothing more, and the ring's verdict is returned. */
static enum vq_err
burst_then_pop(struct fake_guest *g, struct vq_chain *c)
{
	struct vq_buf b[4];
	bool more;

	assert_int_equal(vq_pop_bufs_as(g->vq, g->mem, b, ARRAY_SIZE(b), &more, false), 0);
	assert_int_equal(g->vq->last_avail, START);
	assert_int_equal(g->vq->used_idx, START);
	if (g->vq->broken) {
		assert_false(more);
		return g->vq->broken_why;
	}
	assert_true(more);
	assert_int_equal(g->vq->chain_errs, 0);
	return vq_pop(g->vq, g->mem, c);
}

static void
test_hostile(void **state)
{
	const struct hcase *hc = *state;
	const struct hostile *h = hc->h;
	const struct fg_opts o = { .qsize = h->qsize ? h->qsize : 16,
	                           .n_regions = h->n_regions, .dir = h->dir,
	                           /* every row negotiates indirect but the one
	                            * that tests its absence */
	                           .features = h->want == VQ_E_INDIRECT_FEATURE ? 0 : F_INDIRECT,
	                           .start_idx = START };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;
	struct vq look, before;
	uint16_t head;

	assert_non_null(g);
	head = h->build(g);
	/* The prefetch hint walks the same hostile ring (on a copy, so the
	 * checks below see a fresh queue): no fault and no state change. */
	look = *g->vq;
	(void)vq_avail_count(&look);
	before = look;
	vq_prefetch(&look, g->mem, UINT16_MAX);
	assert_memory_equal(&before, &look, sizeof(look));
	assert_int_equal(hc->burst ? burst_then_pop(g, &c) : vq_pop(g->vq, g->mem, &c), h->want);
	for (unsigned e = 0; e < VQ_ERR_COUNT; e++)
		assert_int_equal(g->vq->stats.err[e], e == (unsigned)h->want);
	if (is_ring_violation(h->want)) {
		/* Broken, sticky, nothing handed back, nothing counted twice. */
		assert_true(g->vq->broken);
		assert_int_equal(g->vq->broken_why, h->want);
		add_good(g, h->dir);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_BROKEN);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_BROKEN);
		assert_int_equal(vq_avail_count(g->vq), 0);
		assert_int_equal(g->vq->stats.err[h->want], 1);
		vq_publish(g->vq);
		assert_int_equal(fg_used_idx(g), START);
		/* Only a restart clears it; the guest has since fixed its ring. */
		fg_set_avail_idx(g, START);
		assert_int_equal(fg_map(g, h->dir, F_INDIRECT), VQ_OK);
		assert_false(g->vq->broken);
		head = add_good(g, h->dir);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(c.head, head);
	} else {
		/* Returned with length 0 exactly once; the queue goes on. */
		assert_false(g->vq->broken);
		vq_publish(g->vq);
		assert_int_equal(fg_used_idx(g), START + 1);
		assert_int_equal(fg_used_elem(g, START).id, head);
		assert_int_equal(fg_used_elem(g, START).len, 0);
		head = add_good(g, h->dir);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(c.head, head);
		assert_int_equal(c.n_out + c.n_in, 1);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
		assert_int_equal(g->vq->stats.err[h->want], 1);
		vq_publish(g->vq);
		assert_int_equal(fg_used_idx(g), START + 1);  /* good one not pushed */
	}
	fg_free(g);
}

/* --- vq_map(): ring checks at start --------------------------------------- */

struct map_case {
	const char *name;
	uint32_t n_regions;
	/* Edits the guest's (valid, size 16) ring addresses and size. */
	void (*edit)(struct fake_guest *g, struct vq_addrs *a, uint32_t *size);
	enum vq_err want;
};

/* Ring sizes spelled out from spec 2.7 (flags, idx, ring[size], event field),
 * rather than taken from spec.h, whose helpers vq_map() itself uses. */
#define DESC_BYTES(n)  (16ull * (n))
#define AVAIL_BYTES(n) (2ull + 2ull + 2ull * (n) + 2ull)
#define USED_BYTES(n)  (2ull + 2ull + 8ull * (n) + 2ull)

static uint64_t
end0(const struct fake_guest *g)
{
	return fg_region_end(g, 0);
}

static void size_0(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)a; *s = 0; }
static void size_3(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)a; *s = 3; }
static void size_12(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)a; *s = 12; }
static void size_32769(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)a; *s = VQ_SIZE_MAX + 1; }
static void size_65536(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)a; *s = 65536; }
static void desc_plus_8(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)s; a->desc_fva += 8; }
static void desc_plus_1(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)s; a->desc_fva += 1; }
static void avail_plus_1(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)s; a->avail_fva += 1; }
static void used_plus_2(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)s; a->used_fva += 2; }
static void used_plus_1(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{ (void)g; (void)s; a->used_fva += 1; }

static void
unchanged(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	(void)g;
	(void)a;
	(void)s;
}

static void
size_32768(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	*s = VQ_SIZE_MAX;
	a->desc_fva = fg_fva(g, fg_alloc(g, DESC_BYTES(*s), 16));
	a->avail_fva = fg_fva(g, fg_alloc(g, AVAIL_BYTES(*s), 2));
	a->used_fva = fg_fva(g, fg_alloc(g, USED_BYTES(*s), 4));
}

static void
desc_outside(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	(void)g;
	(void)s;
	a->desc_fva = 0x1000;
}

static void
desc_gpa_not_fva(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	(void)s;
	a->desc_fva = g->desc_gpa;           /* a gpa is not a frontend address */
}

static void
desc_last_entry_outside(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->desc_fva = fg_fva(g, end0(g) - DESC_BYTES(*s) + 16);
}

static void
desc_fits_at_end(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->desc_fva = fg_fva(g, end0(g) - DESC_BYTES(*s));
}

static void
desc_straddles_regions(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->desc_fva = fg_fva(g, end0(g) - DESC_BYTES(*s) / 2);
}

static void
avail_used_event_outside(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->avail_fva = fg_fva(g, end0(g) - AVAIL_BYTES(*s) + 2);
}

static void
avail_fits_at_end(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->avail_fva = fg_fva(g, end0(g) - AVAIL_BYTES(*s));
}

static void
avail_outside(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	(void)g;
	(void)s;
	a->avail_fva = 0x1000;
}

static void
used_avail_event_outside(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	/* Flags, idx and every element fit; only avail_event does not. */
	a->used_fva = fg_fva(g, end0(g) - (USED_BYTES(*s) - 2));
}

static void
used_fits_at_end(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	/* used_bytes is 2 mod 4, so the aligned fit leaves 2 spare bytes. */
	a->used_fva = fg_fva(g, end0(g) - USED_BYTES(*s) - 2);
}

static void
used_straddles_regions(struct fake_guest *g, struct vq_addrs *a, uint32_t *s)
{
	a->used_fva = fg_fva(g, end0(g) - 8 * (*s / 2));
}

static const struct map_case map_cases[] = {
	{ "vq_map: valid rings", 1, unchanged, VQ_OK },
	{ "vq_map: size 32768", 1, size_32768, VQ_OK },
	{ "vq_map: size 0", 1, size_0, VQ_E_RING_SIZE },
	{ "vq_map: size 3", 1, size_3, VQ_E_RING_SIZE },
	{ "vq_map: size 12", 1, size_12, VQ_E_RING_SIZE },
	{ "vq_map: size 32769", 1, size_32769, VQ_E_RING_SIZE },
	{ "vq_map: size 65536", 1, size_65536, VQ_E_RING_SIZE },
	{ "vq_map: desc misaligned by 8", 1, desc_plus_8, VQ_E_RING_ALIGN },
	{ "vq_map: desc misaligned by 1", 1, desc_plus_1, VQ_E_RING_ALIGN },
	{ "vq_map: avail misaligned by 1", 1, avail_plus_1, VQ_E_RING_ALIGN },
	{ "vq_map: used misaligned by 2", 1, used_plus_2, VQ_E_RING_ALIGN },
	{ "vq_map: used misaligned by 1", 1, used_plus_1, VQ_E_RING_ALIGN },
	{ "vq_map: desc outside memory", 1, desc_outside, VQ_E_RING_ADDR },
	{ "vq_map: desc given as gpa", 1, desc_gpa_not_fva, VQ_E_RING_ADDR },
	{ "vq_map: desc last entry outside", 1, desc_last_entry_outside, VQ_E_RING_ADDR },
	{ "vq_map: desc fits exactly at end", 1, desc_fits_at_end, VQ_OK },
	{ "vq_map: desc straddles two regions", 2, desc_straddles_regions, VQ_E_RING_ADDR },
	{ "vq_map: avail used_event outside", 1, avail_used_event_outside, VQ_E_RING_ADDR },
	{ "vq_map: avail fits exactly at end", 1, avail_fits_at_end, VQ_OK },
	{ "vq_map: avail outside memory", 1, avail_outside, VQ_E_RING_ADDR },
	{ "vq_map: used avail_event outside", 1, used_avail_event_outside, VQ_E_RING_ADDR },
	{ "vq_map: used avail_event outside (2 regions)", 2, used_avail_event_outside, VQ_E_RING_ADDR },
	{ "vq_map: used fits at end", 1, used_fits_at_end, VQ_OK },
	{ "vq_map: used straddles two regions", 2, used_straddles_regions, VQ_E_RING_ADDR },
};

static void
test_map(void **state)
{
	const struct map_case *m = *state;
	const struct fg_opts o = { .qsize = 16, .n_regions = m->n_regions, .no_map = true };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_addrs a;
	uint32_t size;
	struct vq vq;

	assert_non_null(g);
	a = g->addrs;
	size = g->qsize;
	m->edit(g, &a, &size);
	memset(&vq, 0, sizeof(vq));
	assert_int_equal(vq_map(&vq, g->mem, &a, size, VQ_DIR_DEVICE_WRITES, 0, 0), m->want);
	if (m->want == VQ_OK) {
		assert_int_equal(vq.size, size);
		assert_int_equal(vq.mask, size - 1);
		assert_false(vq.broken);
		assert_non_null(vq.desc);
		assert_non_null(vq.avail);
		assert_non_null(vq.used);
	} else {
		struct vq_chain c;

		/* A ring that failed to map is unusable, not a NULL dereference. */
		assert_true(vq.broken);
		assert_int_equal(vq_pop(&vq, g->mem, &c), VQ_E_BROKEN);
	}
	fg_free(g);
}

/* The frontend's addresses are aligned, but its region starts 2 bytes into a
 * page of our mapping (an odd fva or file offset): the rings would land
 * misaligned for the atomic accesses, so they are refused (fuzz_vhu_dispatch
 * found this). */
static void
test_map_host_misaligned(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct gmem_region r;
	struct gmem *m;
	struct vq vq;
	uint32_t bad;

	(void)state;
	assert_non_null(g);
	r = g->region[0];
	r.hva = (uint8_t *)r.hva + 2;
	r.size -= 2;
	assert_int_equal(gmem_new(&r, 1, &m, &bad), GMEM_OK);
	assert_int_equal(vq_map(&vq, m, &g->addrs, 16, TX, F_INDIRECT, 0), VQ_E_RING_ALIGN);
	assert_true(vq.broken);
	gmem_free(m);
	fg_free(g);
}

/* A chain reads at most VQ_MAX_CHAIN_DESCS descriptors, empty ones included,
 * even on a ring big enough for a longer one (a looping chain on a 32768-entry
 * ring would otherwise cost 32768 reads; fuzz_vq_walk found it). */
static void
test_chain_desc_cap(void **state)
{
	struct fake_guest *g = fg_new(1024, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (unsigned len = VQ_MAX_CHAIN_DESCS; len <= VQ_MAX_CHAIN_DESCS + 1; len++) {
		uint16_t head = (uint16_t)(len == VQ_MAX_CHAIN_DESCS ? 0 : 512);

		for (unsigned k = 0; k + 1 < len; k++)       /* empty, chained */
			fg_desc(g, (uint16_t)(head + k), B(g, 1), 0, N, (uint16_t)(head + k + 1));
		fg_desc(g, (uint16_t)(head + len - 1), B(g, 8), 8, 0, 0);
		fg_avail(g, head);
	}
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(c.n_out, 1);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_LOOP);
	assert_false(g->vq->broken);
	fg_free(g);
}

/* One broken queue does not leak into a fresh vq_map() of another ring. */
static void
test_counts_are_per_queue(void **state)
{
	struct fake_guest *a = fg_new(16, TX, 0), *b = fg_new(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	fg_avail(a, 0xffff);
	assert_int_equal(vq_pop(a->vq, a->mem, &c), VQ_E_HEAD_RANGE);
	add_good(b, TX);
	assert_int_equal(vq_pop(b->vq, b->mem, &c), VQ_OK);
	assert_int_equal(b->vq->stats.err[VQ_E_HEAD_RANGE], 0);
	fg_free(a);
	fg_free(b);
}

/* Several bad chains in one burst each come back once, in avail order. */
static void
test_bad_chains_in_a_row(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct vq_chain c;
	uint16_t good;

	(void)state;
	assert_non_null(g);
	fg_desc(g, 0, OUTSIDE, 8, 0, 0);
	fg_desc(g, 1, B(g, 8), 8, N, 1);
	fg_desc(g, 2, B(g, 8), 0, 0, 0);
	fg_avail(g, 0);
	fg_avail(g, 1);
	fg_avail(g, 2);
	good = add_good(g, TX);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_ADDR);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_LOOP);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_ZERO_LEN);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(c.head, good);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 3);
	for (uint16_t k = 0; k < 3; k++) {
		assert_int_equal(fg_used_elem(g, k).id, k);
		assert_int_equal(fg_used_elem(g, k).len, 0);
	}
	fg_free(g);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_counts_are_per_queue),
		cmocka_unit_test(test_map_host_misaligned),
		cmocka_unit_test(test_chain_desc_cap),
		cmocka_unit_test(test_bad_chains_in_a_row),
	};
	static struct hcase hcases[2 * ARRAY_SIZE(cases)];
	struct CMUnitTest t[ARRAY_SIZE(hcases) + ARRAY_SIZE(map_cases) + ARRAY_SIZE(fixed)];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(hcases); k++) {
		struct hcase *hc = &hcases[k];

		*hc = (struct hcase){ .h = &cases[k / 2], .burst = k % 2 };
		snprintf(hc->name, sizeof(hc->name), "%s [%s]", hc->h->name,
		         hc->burst ? "burst first" : "vq_pop");
		t[n++] = (struct CMUnitTest){ .name = hc->name, .test_func = test_hostile,
		                              .initial_state = hc };
	}
	for (size_t k = 0; k < ARRAY_SIZE(map_cases); k++)
		t[n++] = (struct CMUnitTest){ .name = map_cases[k].name,
		                              .test_func = test_map,
		                              .initial_state = (void *)&map_cases[k] };
	for (size_t k = 0; k < ARRAY_SIZE(fixed); k++)
		t[n++] = fixed[k];
	return cmocka_run_group_tests_name("virtio_vq_hostile", t, NULL, NULL);
}
