/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_vq.c - the split virtqueue in normal operation against the
 * fake guest: chains of one and many descriptors, indirect tables (contiguous,
 * and straddling a region boundary so the walker copies them piecewise),
 * buffers split at region boundaries, the used ring after vq_push() and
 * vq_publish(), 16-bit index wrap-around, the notification decisions with and
 * without event idx, vq_set_notify(), vq_avail_count() and vq_mark()/
 * vq_rewind(), and the bursts' calls: vq_pop_bufs_as() (which chains it
 * takes, where it stops), vq_unpop_bufs_as() and vq_push_bufs_as(). Hostile
 * chains live in test_vq_hostile.c. */
#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/vq.h"
#include "tests/fake_guest.h"

#define TX VQ_DIR_DEVICE_READS
#define RX VQ_DIR_DEVICE_WRITES
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define F_INDIRECT  VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)

static enum vq_err
pop(struct fake_guest *g, struct vq_chain *c)
{
	return vq_pop(g->vq, g->mem, c);
}

static uint64_t
buf(struct fake_guest *g, uint32_t len)
{
	return fg_alloc(g, len, 16);
}

/* Asserts that segment k of c is exactly [gpa, gpa + len) of guest memory. */
static void
assert_seg(const struct fake_guest *g, const struct vq_chain *c, unsigned k,
           uint64_t gpa, uint64_t len)
{
	assert_non_null(fg_hva(g, gpa, len));
	assert_ptr_equal(c->seg[k].iov_base, fg_hva(g, gpa, len));
	assert_int_equal(c->seg[k].iov_len, len);
}

static void
assert_no_errors(const struct fake_guest *g)
{
	for (unsigned e = 0; e < VQ_ERR_COUNT; e++)
		assert_int_equal(g->vq->stats.err[e], 0);
	assert_false(g->vq->broken);
}

static void
test_empty(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	assert_int_equal(vq_avail_count(g->vq), 0);
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_single_readable(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;
	uint64_t b;

	(void)state;
	assert_non_null(g);
	b = buf(g, 64);
	fg_desc(g, 3, b, 64, 0, 0);
	fg_avail(g, 3);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.n_out, 1);
	assert_int_equal(c.n_in, 0);
	assert_int_equal(c.out_len, 64);
	assert_int_equal(c.in_len, 0);
	assert_seg(g, &c, 0, b, 64);
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_single_writable(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);
	struct vq_chain c;
	uint64_t b;

	(void)state;
	assert_non_null(g);
	b = buf(g, 1500);
	fg_desc(g, 15, b, 1500, VRING_DESC_F_WRITE, 0);
	fg_avail(g, 15);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 15);
	assert_int_equal(c.n_out, 0);
	assert_int_equal(c.n_in, 1);
	assert_int_equal(c.in_len, 1500);
	assert_seg(g, &c, 0, b, 1500);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_heads_in_avail_order(void **state)
{
	static const uint16_t heads[] = { 5, 0, 9, 1 };
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (size_t k = 0; k < ARRAY_SIZE(heads); k++) {
		fg_desc(g, heads[k], buf(g, 32), (uint32_t)(10 + k), 0, 0);
		fg_avail(g, heads[k]);
	}
	assert_int_equal(vq_avail_count(g->vq), ARRAY_SIZE(heads));
	for (size_t k = 0; k < ARRAY_SIZE(heads); k++) {
		assert_int_equal(pop(g, &c), VQ_OK);
		assert_int_equal(c.head, heads[k]);
		assert_int_equal(c.out_len, 10 + k);
	}
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	fg_free(g);
}

static void
test_multi_desc_chain(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;
	uint64_t b0, b1, b2;

	(void)state;
	assert_non_null(g);
	b0 = buf(g, 10);
	b1 = buf(g, 20);
	b2 = buf(g, 30);
	fg_desc(g, 0, b0, 10, VRING_DESC_F_NEXT, 7);
	fg_desc(g, 7, b1, 20, VRING_DESC_F_NEXT, 2);
	fg_desc(g, 2, b2, 30, 0, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.n_out, 3);
	assert_int_equal(c.out_len, 60);
	assert_seg(g, &c, 0, b0, 10);
	assert_seg(g, &c, 1, b1, 20);
	assert_seg(g, &c, 2, b2, 30);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_multi_desc_writable(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);
	struct vq_chain c;
	uint64_t b0, b1;

	(void)state;
	assert_non_null(g);
	b0 = buf(g, 12);
	b1 = buf(g, 2048);
	fg_desc(g, 4, b0, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	fg_desc(g, 5, b1, 2048, VRING_DESC_F_WRITE, 0);
	fg_avail(g, 4);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_in, 2);
	assert_int_equal(c.n_out, 0);
	assert_int_equal(c.in_len, 2060);
	assert_seg(g, &c, 0, b0, 12);
	assert_seg(g, &c, 1, b1, 2048);
	fg_free(g);
}

static void
test_zero_len_desc_in_chain(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;
	uint64_t b0, b2;

	(void)state;
	assert_non_null(g);
	b0 = buf(g, 64);
	b2 = buf(g, 32);
	fg_desc(g, 0, b0, 64, VRING_DESC_F_NEXT, 1);
	fg_desc(g, 1, buf(g, 16), 0, VRING_DESC_F_NEXT, 2);   /* carries nothing */
	fg_desc(g, 2, b2, 32, 0, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_out, 2);
	assert_int_equal(c.out_len, 96);
	assert_seg(g, &c, 0, b0, 64);
	assert_seg(g, &c, 1, b2, 32);
	fg_free(g);
}

/* A chain of exactly the ring size is the longest legal one. */
static void
test_chain_as_long_as_ring(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 16; i++)
		fg_desc(g, i, buf(g, 8), 8, i < 15 ? VRING_DESC_F_NEXT : 0,
		        (uint16_t)(i + 1));
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_out, 16);
	assert_int_equal(c.out_len, 128);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_max_segs(void **state)
{
	struct fake_guest *g = fg_new(64, RX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < VQ_MAX_SEGS; i++)
		fg_desc(g, i, buf(g, 1), 1,
		        VRING_DESC_F_WRITE | (i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0),
		        (uint16_t)(i + 1));
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_in, VQ_MAX_SEGS);
	assert_int_equal(c.in_len, VQ_MAX_SEGS);
	fg_free(g);
}

/* Mixed chains (readable then writable, as the ctrl vq uses) are well
 * ordered, but neither net direction accepts them: the walker reports the
 * direction, not the layout. */
static void
test_readable_then_writable(void **state)
{
	static const enum vq_dir dirs[] = { TX, RX };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(dirs); k++) {
		struct fake_guest *g = fg_new(16, dirs[k], 0);
		struct vq_chain c;

		assert_non_null(g);
		fg_desc(g, 0, buf(g, 16), 16, VRING_DESC_F_NEXT, 1);
		fg_desc(g, 1, buf(g, 1), 1, VRING_DESC_F_WRITE, 0);
		fg_avail(g, 0);
		assert_int_equal(pop(g, &c), VQ_E_DIRECTION);
		assert_int_equal(g->vq->stats.err[VQ_E_DIRECTION], 1);
		assert_int_equal(g->vq->stats.err[VQ_E_LAYOUT], 0);
		fg_free(g);
	}
}

static void
test_indirect_contiguous(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct vq_chain c;
	uint64_t b[3], tbl;

	(void)state;
	assert_non_null(g);
	for (int k = 0; k < 3; k++)
		b[k] = buf(g, 100);
	const struct vring_desc t[3] = {
		{ b[0], 100, VRING_DESC_F_NEXT, 1 },
		{ b[1], 50, VRING_DESC_F_NEXT, 2 },
		{ b[2], 25, 0, 0 },
	};
	tbl = fg_alloc(g, sizeof(t), 16);
	assert_int_equal(fg_table(g, tbl, t, 3), 0);
	fg_desc(g, 6, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 6);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 6);
	assert_int_equal(c.n_out, 3);
	assert_int_equal(c.out_len, 175);
	assert_seg(g, &c, 0, b[0], 100);
	assert_seg(g, &c, 1, b[1], 50);
	assert_seg(g, &c, 2, b[2], 25);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_indirect_out_of_order(void **state)
{
	struct fake_guest *g = fg_new(16, RX, F_INDIRECT);
	struct vq_chain c;
	uint64_t b[3], tbl;

	(void)state;
	assert_non_null(g);
	for (int k = 0; k < 3; k++)
		b[k] = buf(g, 64);
	/* Entry 0 -> 2 -> 1; the table's own order does not matter. */
	const struct vring_desc t[3] = {
		{ b[0], 10, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2 },
		{ b[1], 30, VRING_DESC_F_WRITE, 0 },
		{ b[2], 20, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 },
	};
	tbl = fg_alloc(g, sizeof(t), 16);
	assert_int_equal(fg_table(g, tbl, t, 3), 0);
	fg_desc(g, 0, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_in, 3);
	assert_int_equal(c.in_len, 60);
	assert_seg(g, &c, 0, b[0], 10);
	assert_seg(g, &c, 1, b[2], 20);
	assert_seg(g, &c, 2, b[1], 30);
	fg_free(g);
}

static void
test_direct_then_indirect(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct vq_chain c;
	uint64_t d0, b[2], tbl;

	(void)state;
	assert_non_null(g);
	d0 = buf(g, 12);
	b[0] = buf(g, 40);
	b[1] = buf(g, 40);
	const struct vring_desc t[2] = {
		{ b[0], 40, VRING_DESC_F_NEXT, 1 },
		{ b[1], 39, 0, 0 },
	};
	tbl = fg_alloc(g, sizeof(t), 16);
	assert_int_equal(fg_table(g, tbl, t, 2), 0);
	fg_desc(g, 2, d0, 12, VRING_DESC_F_NEXT, 3);
	fg_desc(g, 3, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 2);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 2);
	assert_int_equal(c.n_out, 3);
	assert_int_equal(c.out_len, 91);
	assert_seg(g, &c, 0, d0, 12);
	assert_seg(g, &c, 1, b[0], 40);
	assert_seg(g, &c, 2, b[1], 39);
	fg_free(g);
}

/* The spec asks no alignment of an indirect table (only of the rings), so a
 * guest may put one at an odd address. */
static void
test_indirect_unaligned(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct vq_chain c;
	uint64_t b[2], tbl;

	(void)state;
	assert_non_null(g);
	b[0] = buf(g, 32);
	b[1] = buf(g, 32);
	const struct vring_desc t[2] = {
		{ b[0], 32, VRING_DESC_F_NEXT, 1 },
		{ b[1], 31, 0, 0 },
	};
	tbl = fg_alloc(g, sizeof(t) + 1, 16) + 1;
	assert_int_equal(fg_table(g, tbl, t, 2), 0);
	fg_desc(g, 0, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_out, 2);
	assert_int_equal(c.out_len, 63);
	assert_seg(g, &c, 0, b[0], 32);
	assert_seg(g, &c, 1, b[1], 31);
	fg_free(g);
}

/* The largest table the spec allows (a chain never exceeds 32768). */
static void
test_indirect_max_len(void **state)
{
	struct fake_guest *g = fg_new(16, TX, F_INDIRECT);
	struct vq_chain c;
	uint64_t b, tbl;

	(void)state;
	assert_non_null(g);
	b = buf(g, 64);
	tbl = fg_alloc(g, 16ull * VQ_SIZE_MAX, 16);
	const struct vring_desc t = { b, 64, 0, 0 };
	assert_int_equal(fg_table(g, tbl, &t, 1), 0);
	fg_desc(g, 0, tbl, 16u * VQ_SIZE_MAX, VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_out, 1);
	assert_seg(g, &c, 0, b, 64);
	fg_free(g);
}

/* Indirect table at boundary - off: the walker cannot use a host pointer and
 * copies each descriptor with gmem_read(). off 8 splits entry 0 itself. */
static void
indirect_straddle(uint64_t off)
{
	const struct fg_opts o = { .qsize = 16, .n_regions = 2, .dir = TX,
	                           .features = F_INDIRECT };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;
	uint64_t b[3], tbl;

	assert_non_null(g);
	for (int k = 0; k < 3; k++)
		b[k] = buf(g, 256);
	const struct vring_desc t[3] = {
		{ b[0], 256, VRING_DESC_F_NEXT, 1 },
		{ b[1], 128, VRING_DESC_F_NEXT, 2 },
		{ b[2], 7, 0, 0 },
	};
	tbl = fg_region_end(g, 0) - off;
	assert_null(fg_hva(g, tbl, sizeof(t)));          /* really straddles */
	assert_int_equal(fg_table(g, tbl, t, 3), 0);
	fg_desc(g, 1, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	fg_avail(g, 1);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 1);
	assert_int_equal(c.n_out, 3);
	assert_int_equal(c.out_len, 391);
	assert_seg(g, &c, 0, b[0], 256);
	assert_seg(g, &c, 1, b[1], 128);
	assert_seg(g, &c, 2, b[2], 7);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_indirect_straddle_between_entries(void **state)
{
	(void)state;
	indirect_straddle(16);
}

static void
test_indirect_straddle_inside_entry(void **state)
{
	(void)state;
	indirect_straddle(8);
}

static void
test_buffer_straddles_two_regions(void **state)
{
	const struct fg_opts o = { .qsize = 16, .n_regions = 2, .dir = TX };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;
	uint64_t edge;

	(void)state;
	assert_non_null(g);
	edge = fg_region_end(g, 0);
	fg_desc(g, 0, edge - 100, 300, 0, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_out, 2);
	assert_int_equal(c.out_len, 300);
	assert_seg(g, &c, 0, edge - 100, 100);
	assert_seg(g, &c, 1, edge, 200);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_buffer_spans_three_regions(void **state)
{
	const struct fg_opts o = { .qsize = 16, .n_regions = 3, .region_size = 0x10000,
	                           .dir = RX };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;
	uint64_t start;

	(void)state;
	assert_non_null(g);
	start = fg_region_end(g, 0) - 10;
	fg_desc(g, 0, buf(g, 4), 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fg_desc(g, 1, start, 10 + 0x10000 + 10, VRING_DESC_F_WRITE, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.n_in, 4);
	assert_int_equal(c.in_len, 4 + 10 + 0x10000 + 10);
	assert_seg(g, &c, 1, start, 10);
	assert_seg(g, &c, 2, fg_region_gpa(g, 1), 0x10000);
	assert_seg(g, &c, 3, fg_region_gpa(g, 2), 10);
	fg_free(g);
}

static void
test_used_after_push_publish(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);
	struct vq_chain c;
	struct vring_used_elem u;

	(void)state;
	assert_non_null(g);
	fg_desc(g, 9, buf(g, 256), 256, VRING_DESC_F_WRITE, 0);
	fg_desc(g, 4, buf(g, 256), 256, VRING_DESC_F_WRITE, 0);
	fg_avail(g, 9);
	fg_avail(g, 4);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, c.head, 60);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, c.head, 256);
	assert_int_equal(fg_used_idx(g), 0);         /* not visible before publish */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 2);
	u = fg_used_elem(g, 0);
	assert_int_equal(u.id, 9);
	assert_int_equal(u.len, 60);
	u = fg_used_elem(g, 1);
	assert_int_equal(u.id, 4);
	assert_int_equal(u.len, 256);
	/* Completion order is the device's: return 4 before 9 next time. */
	fg_avail(g, 9);
	fg_avail(g, 4);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, 4, 1);
	vq_push(g->vq, 9, 2);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 4);
	assert_int_equal(fg_used_elem(g, 2).id, 4);
	assert_int_equal(fg_used_elem(g, 3).id, 9);
	assert_int_equal(fg_used_elem(g, 3).len, 2);
	fg_free(g);
}

static void
test_publish_without_push_stores_nothing(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);

	(void)state;
	assert_non_null(g);
	fg_set_used_idx(g, 0x1234);     /* a store would overwrite this with 0 */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0x1234);
	fg_free(g);
}

static void
test_map_takes_start_from_used_idx(void **state)
{
	const struct fg_opts o = { .qsize = 16, .dir = TX, .start_idx = 777 };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	assert_int_equal(g->vq->last_avail, 777);
	assert_int_equal(g->vq->used_idx, 777);
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	fg_desc(g, 2, buf(g, 8), 8, 0, 0);
	fg_avail(g, 2);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, c.head, 0);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 778);
	assert_int_equal(fg_used_elem(g, 777).id, 2);
	fg_free(g);
}

static void
test_wrap_around(void **state)
{
	const struct fg_opts o = { .qsize = 8, .dir = TX, .start_idx = 65530 };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;
	uint16_t idx = 65530;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 8; i++)
		fg_desc(g, i, buf(g, 64), (uint32_t)(i + 1), 0, 0);
	/* 24 chains in bursts of 3: avail and used indices wrap past 65535. */
	for (int burst = 0; burst < 8; burst++) {
		for (int k = 0; k < 3; k++)
			fg_avail(g, (uint16_t)((idx + k) % 8));
		assert_int_equal(vq_avail_count(g->vq), 3);
		for (int k = 0; k < 3; k++) {
			assert_int_equal(pop(g, &c), VQ_OK);
			assert_int_equal(c.head, (uint16_t)(idx + k) % 8);
			assert_int_equal(c.out_len, (uint16_t)(idx + k) % 8 + 1);
			vq_push(g->vq, c.head, (uint32_t)(1000 + (uint16_t)(idx + k)));
		}
		assert_int_equal(pop(g, &c), VQ_EMPTY);
		vq_publish(g->vq);
		idx = (uint16_t)(idx + 3);
		assert_int_equal(fg_used_idx(g), idx);
	}
	assert_int_equal(idx, (uint16_t)(65530 + 24));
	for (uint16_t k = 65530; k != idx; k++) {
		struct vring_used_elem u = fg_used_elem(g, k);

		if ((uint16_t)(idx - k) > 8)
			continue;                /* overwritten by later laps */
		assert_int_equal(u.id, k % 8);
		assert_int_equal(u.len, 1000 + k);
	}
	assert_no_errors(g);
	fg_free(g);
}

static void
test_full_ring(void **state)
{
	const struct fg_opts o = { .qsize = 8, .dir = TX, .start_idx = 65533 };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 8; i++) {
		fg_desc(g, i, buf(g, 8), 8, 0, 0);
		fg_avail(g, (uint16_t)(7 - i));
	}
	/* avail->idx - last_avail == size exactly: legal. */
	assert_int_equal(vq_avail_count(g->vq), 8);
	for (uint16_t i = 0; i < 8; i++) {
		assert_int_equal(pop(g, &c), VQ_OK);
		assert_int_equal(c.head, 7 - i);
	}
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	assert_no_errors(g);
	fg_free(g);
}

static void
test_avail_count(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 4; i++)
		fg_desc(g, i, buf(g, 8), 8, 0, 0);
	assert_int_equal(vq_avail_count(g->vq), 0);
	fg_avail(g, 0);
	fg_avail(g, 1);
	fg_avail(g, 2);
	assert_int_equal(vq_avail_count(g->vq), 3);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(vq_avail_count(g->vq), 2);
	fg_avail(g, 3);
	assert_int_equal(vq_avail_count(g->vq), 3);   /* fresh snapshot */
	for (int k = 0; k < 3; k++)
		assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(vq_avail_count(g->vq), 0);
	fg_free(g);
}

static void
test_queue_size_one(void **state)
{
	struct fake_guest *g = fg_new(1, RX, 0);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	fg_desc(g, 0, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
	for (uint16_t k = 0; k < 3; k++) {
		fg_avail(g, 0);
		assert_int_equal(pop(g, &c), VQ_OK);
		assert_int_equal(c.head, 0);
		vq_push(g->vq, 0, k);
		vq_publish(g->vq);
		assert_int_equal(fg_used_idx(g), k + 1);
		assert_int_equal(fg_used_elem(g, k).len, k);
	}
	fg_free(g);
}

/* Pushes and publishes n chains (of descriptor 0). */
static void
complete(struct fake_guest *g, unsigned n)
{
	struct vq_chain c;

	for (unsigned k = 0; k < n; k++) {
		fg_avail(g, 0);
		assert_int_equal(pop(g, &c), VQ_OK);
		vq_push(g->vq, c.head, 1);
	}
	vq_publish(g->vq);
}

static void
test_kick_no_event_idx(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);

	(void)state;
	assert_non_null(g);
	fg_desc(g, 0, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
	complete(g, 1);
	assert_true(vq_kick_needed(g->vq));
	fg_set_avail_flags(g, VRING_AVAIL_F_NO_INTERRUPT);
	complete(g, 2);
	assert_false(vq_kick_needed(g->vq));
	/* used_event means nothing without the feature. */
	fg_set_used_event(g, 3);
	complete(g, 1);
	assert_false(vq_kick_needed(g->vq));
	fg_set_avail_flags(g, 0);
	complete(g, 1);
	assert_true(vq_kick_needed(g->vq));
	fg_free(g);
}

static void
test_kick_event_idx_first_is_unconditional(void **state)
{
	struct fake_guest *g = fg_new(16, RX, F_EVENT_IDX);

	(void)state;
	assert_non_null(g);
	fg_desc(g, 0, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
	fg_set_used_event(g, 0x8000);       /* far outside any window */
	complete(g, 1);
	assert_true(vq_kick_needed(g->vq)); /* nothing signalled yet */
	complete(g, 1);
	assert_false(vq_kick_needed(g->vq));
	/* No new entries since the last decision: nothing to signal. */
	fg_set_used_event(g, 2);
	assert_false(vq_kick_needed(g->vq));
	fg_free(g);
}

/* Notify only when used_event is in [old, new), old and new being the used
 * index at the previous decision and now; with both sides of a 16-bit wrap. */
static void
test_kick_event_idx_window(void **state)
{
	static const uint16_t starts[] = { 100, 65533, 65535 };
	static const struct { int16_t ev; bool want; } rows[] = {
		{ -100, false }, { -1, false }, { 0, true }, { 1, true }, { 2, true },
		{ 3, false }, { 4, false }, { 1000, false },
	};

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
		for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
			const struct fg_opts o = { .qsize = 16, .dir = RX,
			                           .features = F_EVENT_IDX,
			                           .start_idx = starts[s] };
			struct fake_guest *g = fg_new_opts(&o);
			uint16_t old;

			assert_non_null(g);
			fg_desc(g, 0, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
			complete(g, 1);
			assert_true(vq_kick_needed(g->vq));
			old = (uint16_t)(starts[s] + 1);
			complete(g, 3);
			fg_set_used_event(g, (uint16_t)(old + rows[r].ev));
			/* Event idx overrides NO_INTERRUPT. */
			fg_set_avail_flags(g, VRING_AVAIL_F_NO_INTERRUPT);
			assert_int_equal(vq_kick_needed(g->vq), rows[r].want);
			fg_free(g);
		}
	}
}

static void
test_kick_event_idx_suppressed_then_caught_up(void **state)
{
	struct fake_guest *g = fg_new(16, RX, F_EVENT_IDX);

	(void)state;
	assert_non_null(g);
	fg_desc(g, 0, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
	complete(g, 1);
	assert_true(vq_kick_needed(g->vq));             /* old = 1 */
	fg_set_used_event(g, 5);
	complete(g, 2);                                 /* [1, 3) */
	assert_false(vq_kick_needed(g->vq));
	complete(g, 2);                                 /* [3, 5) */
	assert_false(vq_kick_needed(g->vq));
	complete(g, 1);                                 /* [5, 6) */
	assert_true(vq_kick_needed(g->vq));
	fg_free(g);
}

static void
test_set_notify_flags(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);

	(void)state;
	assert_non_null(g);
	/* vq_map() starts with notifications off: we poll. */
	assert_int_equal(fg_used_flags(g), VRING_USED_F_NO_NOTIFY);
	vq_set_notify(g->vq, true);
	assert_int_equal(fg_used_flags(g), 0);
	vq_set_notify(g->vq, false);
	assert_int_equal(fg_used_flags(g), VRING_USED_F_NO_NOTIFY);
	assert_int_equal(fg_avail_event(g), 0);         /* not touched */
	fg_free(g);
}

static void
test_set_notify_event_idx(void **state)
{
	const struct fg_opts o = { .qsize = 16, .dir = TX, .features = F_EVENT_IDX,
	                           .start_idx = 40 };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	assert_int_equal(fg_used_flags(g), 0);          /* flags unused with event idx */
	vq_set_notify(g->vq, true);
	assert_int_equal(fg_avail_event(g), 40);
	fg_desc(g, 0, buf(g, 8), 8, 0, 0);
	fg_avail(g, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_set_notify(g->vq, true);
	assert_int_equal(fg_avail_event(g), 42);
	vq_set_notify(g->vq, false);
	assert_int_equal(fg_avail_event(g), 42);
	assert_int_equal(fg_used_flags(g), 0);
	/* Posted but not consumed (a receive waiting for more buffers than
	 * these): the kick must come for the next entry the driver adds, so
	 * avail_event is the avail index, not what we consumed. A driver kicks
	 * only when avail->idx moves past avail_event. */
	fg_avail(g, 0);
	fg_avail(g, 0);
	fg_avail(g, 0);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_set_notify(g->vq, true);
	assert_int_equal(fg_avail_event(g), 45);
	fg_free(g);
}

static void
test_mark_rewind(void **state)
{
	struct fake_guest *g = fg_new(16, RX, 0);
	struct vq_chain c;
	struct vq_mark m;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 3; i++) {
		fg_desc(g, i, buf(g, 64), 64, VRING_DESC_F_WRITE, 0);
		fg_avail(g, i);
	}
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, c.head, 10);
	m = vq_mark(g->vq);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 1);
	vq_push(g->vq, c.head, 20);
	assert_int_equal(pop(g, &c), VQ_OK);
	vq_push(g->vq, c.head, 30);
	vq_rewind(g->vq, m);
	assert_int_equal(g->vq->last_avail, 1);
	assert_int_equal(g->vq->used_idx, 1);
	assert_int_equal(vq_avail_count(g->vq), 2);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 1);            /* only the first chain */
	assert_int_equal(fg_used_elem(g, 0).len, 10);
	/* The rewound chains come back in the same order. */
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 1);
	vq_push(g->vq, c.head, 21);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 2);
	assert_int_equal(fg_used_elem(g, 1).id, 1);
	assert_int_equal(fg_used_elem(g, 1).len, 21);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 2);
	fg_free(g);
}

/* --- vq_pop_bufs_as(): the bursts' one-descriptor chains ----------------------- */

static uint16_t
pop_bufs(struct fake_guest *g, struct vq_buf *b, uint16_t n, bool *more)
{
	return vq_pop_bufs_as(g->vq, g->mem, b, n, more, false);
}

/* Asserts that b is head's buffer, exactly [gpa, gpa + len) of guest memory. */
static void
assert_buf(const struct fake_guest *g, const struct vq_buf *b, uint16_t head, uint64_t gpa,
           uint32_t len)
{
	assert_int_equal(b->head, head);
	assert_non_null(fg_hva(g, gpa, len));
	assert_ptr_equal(b->seg.iov_base, fg_hva(g, gpa, len));
	assert_int_equal(b->seg.iov_len, len);
}

/* One-descriptor chains of the queue's direction come out together, in
 * avail order, each with its head and buffer. A burst that asks for more
 * than there is takes what there is and does not ask for more (more: a
 * chain of another shape is waiting); vq_pop() then finds the ring empty. */
static void
test_bufs_in_order(void **state)
{
	static const uint16_t heads[] = { 5, 0, 9, 1, 15 };
	static const enum vq_dir dirs[] = { TX, RX };

	(void)state;
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		struct fake_guest *g = fg_new(16, dirs[d], 0);
		uint64_t gpa[ARRAY_SIZE(heads)];
		struct vq_buf b[8];
		struct vq_chain c;
		bool more = true;

		assert_non_null(g);
		for (size_t k = 0; k < ARRAY_SIZE(heads); k++) {
			gpa[k] = buf(g, 100);
			fg_desc(g, heads[k], gpa[k], (uint32_t)(60 + k),
			        dirs[d] == RX ? VRING_DESC_F_WRITE : 0, 0);
			fg_avail(g, heads[k]);
		}
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), ARRAY_SIZE(heads));
		assert_false(more);
		for (size_t k = 0; k < ARRAY_SIZE(heads); k++)
			assert_buf(g, &b[k], heads[k], gpa[k], (uint32_t)(60 + k));
		assert_int_equal(g->vq->last_avail, ARRAY_SIZE(heads));
		assert_int_equal(pop(g, &c), VQ_EMPTY);
		more = true;
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 0);
		assert_false(more);
		assert_no_errors(g);
		fg_free(g);
	}
}

/* n bounds a burst (and more stays false: what is left is for the next
 * burst), and n 0 takes nothing. */
static void
test_bufs_n_limits(void **state)
{
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_buf b[16];
	bool more = true;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 6; i++) {
		fg_desc(g, i, buf(g, 64), 64, 0, 0);
		fg_avail(g, i);
	}
	assert_int_equal(pop_bufs(g, b, 4, &more), 4);
	assert_false(more);
	for (uint16_t k = 0; k < 4; k++)
		assert_int_equal(b[k].head, k);
	more = true;
	assert_int_equal(pop_bufs(g, b, 0, &more), 0);
	assert_false(more);
	assert_int_equal(g->vq->last_avail, 4);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 2);
	assert_false(more);
	assert_int_equal(b[0].head, 4);
	assert_int_equal(b[1].head, 5);
	assert_int_equal(vq_avail_count(g->vq), 0);
	fg_free(g);
}

/* Chains vq_pop() carries but a burst does not take (test_vq_hostile.c runs
 * every bad chain past the burst path too): built at descriptor 8 (and 9). */
static void
other_next(struct fake_guest *g)
{
	fg_desc(g, 8, buf(g, 32), 32, VRING_DESC_F_NEXT, 9);
	fg_desc(g, 9, buf(g, 32), 32, 0, 0);
}

static void
other_indirect(struct fake_guest *g)
{
	const struct vring_desc t[2] = {
		{ buf(g, 32), 32, VRING_DESC_F_NEXT, 1 }, { buf(g, 32), 32, 0, 0 },
	};
	uint64_t tbl = fg_alloc(g, sizeof(t), 16);

	assert_int_equal(fg_table(g, tbl, t, 2), 0);
	fg_desc(g, 8, tbl, sizeof(t), VRING_DESC_F_INDIRECT, 0);
}

static void
other_straddle(struct fake_guest *g)
{
	fg_desc(g, 8, fg_region_end(g, 0) - 32, 64, 0, 0);
}

/* A burst stops in front of a chain of two descriptors, an indirect table,
 * or a buffer across two regions (more), takes nothing of it however often
 * it is asked, and vq_pop() then gets that chain whole; the next burst goes
 * on behind it. */
static void
test_bufs_stop_at_other_shapes(void **state)
{
	static const struct { const char *name; void (*build)(struct fake_guest *g);
	                      unsigned nseg; } rows[] = {
		{ "chain of two", other_next, 2 },
		{ "indirect table", other_indirect, 2 },
		{ "across two regions", other_straddle, 2 },
	};
	const struct fg_opts o = { .qsize = 16, .n_regions = 2, .dir = TX, .features = F_INDIRECT };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		struct fake_guest *g = fg_new_opts(&o);
		struct vq_buf b[8];
		struct vq_chain c;
		bool more = false;

		assert_non_null(g);
		for (uint16_t head = 0; head < 2; head++) {
			fg_desc(g, head, buf(g, 64), 64, 0, 0);
			fg_avail(g, head);
		}
		rows[k].build(g);
		fg_avail(g, 8);
		fg_desc(g, 12, buf(g, 64), 64, 0, 0);
		fg_avail(g, 12);
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 2);
		assert_true(more);
		assert_int_equal(b[0].head, 0);
		assert_int_equal(b[1].head, 1);
		more = false;
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 0);
		assert_true(more);
		assert_int_equal(g->vq->last_avail, 2);
		assert_int_equal(pop(g, &c), VQ_OK);
		if (c.head != 8 || c.n_out != rows[k].nseg || c.out_len != 64)
			fail_msg("%s: head %u, %u segments, %llu bytes", rows[k].name, c.head,
			         c.n_out, (unsigned long long)c.out_len);
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 1);
		assert_false(more);
		assert_int_equal(b[0].head, 12);
		assert_no_errors(g);
		fg_free(g);
	}
}

/* The last n chains a burst took, given back before any was pushed, come
 * out again the same, to a burst or to vq_pop(); here across the 16-bit
 * wrap of the avail index. */
static void
test_bufs_unpop(void **state)
{
	const struct fg_opts o = { .qsize = 8, .dir = RX, .start_idx = 65534 };
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_buf first[8], b[8];
	struct vq_chain c;
	bool more;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 5; i++) {
		fg_desc(g, i, buf(g, 128), 100u + i, VRING_DESC_F_WRITE, 0);
		fg_avail(g, i);
	}
	assert_int_equal(pop_bufs(g, first, ARRAY_SIZE(first), &more), 5);
	assert_int_equal(g->vq->last_avail, 3);
	vq_unpop_bufs_as(g->vq, 4, false);
	assert_int_equal(g->vq->last_avail, 65535);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 4);
	assert_false(more);
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(b[k].head, first[k + 1].head);
		assert_ptr_equal(b[k].seg.iov_base, first[k + 1].seg.iov_base);
		assert_int_equal(b[k].seg.iov_len, first[k + 1].seg.iov_len);
	}
	vq_unpop_bufs_as(g->vq, 2, false);
	vq_unpop_bufs_as(g->vq, 0, false);
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 3);
	assert_ptr_equal(c.seg[0].iov_base, first[3].seg.iov_base);
	assert_int_equal(c.in_len, 103);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 1);
	assert_int_equal(b[0].head, 4);
	assert_int_equal(pop(g, &c), VQ_EMPTY);
	assert_no_errors(g);
	fg_free(g);
}

/* vq_push_bufs_as() returns a burst's chains (length 0, or what the caller
 * says it wrote), in the order taken, over whatever the used ring held; a
 * publish shows them, and a chain given back before is not among them but
 * comes next. */
static void
test_bufs_push_publish(void **state)
{
	static const uint16_t heads[] = { 3, 7, 1, 12 };
	static const uint32_t written[] = { 1234 };
	struct fake_guest *g = fg_new(16, TX, 0);
	struct vq_buf b[8];
	struct vq_chain c;
	bool more;

	(void)state;
	assert_non_null(g);
	for (uint16_t i = 0; i < 16; i++)
		g->used->ring[i] = (struct vring_used_elem){ htole32(0xffff), htole32(0xdeadbeef) };
	for (size_t k = 0; k < ARRAY_SIZE(heads); k++) {
		fg_desc(g, heads[k], buf(g, 64), 64, 0, 0);
		fg_avail(g, heads[k]);
	}
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 4);
	vq_unpop_bufs_as(g->vq, 1, false);
	vq_push_bufs_as(g->vq, b, NULL, 2, false);
	vq_push_bufs_as(g->vq, &b[2], written, 1, false);
	assert_int_equal(fg_used_idx(g), 0);
	assert_true(vq_publish(g->vq));
	assert_int_equal(fg_used_idx(g), 3);
	for (uint16_t k = 0; k < 3; k++) {
		assert_int_equal(fg_used_elem(g, k).id, heads[k]);
		assert_int_equal(fg_used_elem(g, k).len, k < 2 ? 0 : written[0]);
	}
	assert_int_equal(fg_used_elem(g, 3).len, 0xdeadbeef);   /* not pushed */
	assert_int_equal(pop(g, &c), VQ_OK);
	assert_int_equal(c.head, 12);
	fg_free(g);
}

static void
test_strerror(void **state)
{
	(void)state;
	for (unsigned e = 0; e < VQ_ERR_COUNT; e++) {
		assert_non_null(vq_strerror((enum vq_err)e));
		assert_string_not_equal(vq_strerror((enum vq_err)e), "unknown");
		for (unsigned f = 0; f < e; f++)
			assert_string_not_equal(vq_strerror((enum vq_err)e),
			                        vq_strerror((enum vq_err)f));
	}
	assert_string_equal(vq_strerror(VQ_ERR_COUNT), "unknown");
	assert_string_equal(vq_strerror((enum vq_err)-1), "unknown");
}

/* vq_publish() says whether it stored anything: the datapath only decides on
 * an interrupt after a real publish. */
static void
test_publish_reports_nothing_to_do(void **state)
{
	struct fake_guest *g = fg_new(16, VQ_DIR_DEVICE_READS, 0);
	uint16_t before;

	(void)state;
	assert_non_null(g);
	before = fg_used_idx(g);
	assert_false(vq_publish(g->vq));
	vq_push(g->vq, 3, 0);
	assert_true(vq_publish(g->vq));
	assert_int_equal(fg_used_idx(g), (uint16_t)(before + 1));
	assert_false(vq_publish(g->vq));
	fg_free(g);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_readable),
		cmocka_unit_test(test_single_writable),
		cmocka_unit_test(test_heads_in_avail_order),
		cmocka_unit_test(test_multi_desc_chain),
		cmocka_unit_test(test_multi_desc_writable),
		cmocka_unit_test(test_zero_len_desc_in_chain),
		cmocka_unit_test(test_chain_as_long_as_ring),
		cmocka_unit_test(test_max_segs),
		cmocka_unit_test(test_readable_then_writable),
		cmocka_unit_test(test_publish_reports_nothing_to_do),
		cmocka_unit_test(test_indirect_contiguous),
		cmocka_unit_test(test_indirect_out_of_order),
		cmocka_unit_test(test_direct_then_indirect),
		cmocka_unit_test(test_indirect_unaligned),
		cmocka_unit_test(test_indirect_max_len),
		cmocka_unit_test(test_indirect_straddle_between_entries),
		cmocka_unit_test(test_indirect_straddle_inside_entry),
		cmocka_unit_test(test_buffer_straddles_two_regions),
		cmocka_unit_test(test_buffer_spans_three_regions),
		cmocka_unit_test(test_used_after_push_publish),
		cmocka_unit_test(test_publish_without_push_stores_nothing),
		cmocka_unit_test(test_map_takes_start_from_used_idx),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_avail_count),
		cmocka_unit_test(test_queue_size_one),
		cmocka_unit_test(test_kick_no_event_idx),
		cmocka_unit_test(test_kick_event_idx_first_is_unconditional),
		cmocka_unit_test(test_kick_event_idx_window),
		cmocka_unit_test(test_kick_event_idx_suppressed_then_caught_up),
		cmocka_unit_test(test_set_notify_flags),
		cmocka_unit_test(test_set_notify_event_idx),
		cmocka_unit_test(test_mark_rewind),
		cmocka_unit_test(test_bufs_in_order),
		cmocka_unit_test(test_bufs_n_limits),
		cmocka_unit_test(test_bufs_stop_at_other_shapes),
		cmocka_unit_test(test_bufs_unpop),
		cmocka_unit_test(test_bufs_push_publish),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("virtio_vq", t, NULL, NULL);
}
