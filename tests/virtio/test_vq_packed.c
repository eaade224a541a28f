/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_vq_packed.c - the packed ring (virtio/vq_packed.c)
 * through vq.h's calls, against the fake guest's packed driver (fg_pk_*).
 * Unit rows: single descriptors and chains on both directions, many laps of
 * rings whose size is not a power of two (the wrap counters in every used
 * descriptor), indirect tables, the shadow of used entries (nothing reaches
 * the ring before vq_publish(), the first of a batch written last, rewinds
 * and vq_void_since() before it), in-order TX (one used descriptor per
 * batch), event suppression both ways, the base a ring starts from and the
 * position it reports, and the dirty log; the bursts' calls
 * (vq_pop_bufs_as(): which buffers it takes, where it stops, across the end
 * of the ring, up to the shadow's room; vq_unpop_bufs_as(),
 * vq_push_bufs_as()). The hostile table breaks one rule
 * per row and checks the exact enum vq_err and its consequence (after the
 * burst path has met the buffer first and left it alone): a ring
 * violation (a bad buffer id; a chain longer than 256 descriptors or the
 * ring, or running into a descriptor not made available) breaks the queue
 * and gives nothing back; a chain violation gives
 * that chain back with length 0 under its own id, counted once, and the
 * next good chain pops as if nothing had happened. */
#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/dirty.h"
#include "virtio/vq.h"
#include "tests/fake_guest.h"

#define TX VQ_DIR_DEVICE_READS
#define RX VQ_DIR_DEVICE_WRITES
#define PACKED VIRTIO_BIT(VIRTIO_F_RING_PACKED)
#define F_INDIRECT VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)
#define F_EVIDX VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)
#define F_INORDER VIRTIO_BIT(VIRTIO_F_IN_ORDER)
#define W VRING_DESC_F_WRITE
#define I VRING_DESC_F_INDIRECT
#define OUTSIDE UINT64_C(0x10)       /* below FG_GPA_BASE: in no region */

static struct fake_guest *
pk_guest(uint32_t qsize, enum vq_dir dir, uint64_t features)
{
	/* A fresh ring: index 0, wrap counters 1 (spec 2.8.1), as QEMU's
	 * SET_VRING_BASE says it (0x8000). */
	const struct fg_opts o = { .qsize = qsize, .dir = dir, .features = PACKED | features,
	                           .start_idx = 0x8000 };
	struct fake_guest *g = fg_new_opts(&o);

	assert_non_null(g);
	assert_true(g->vq->packed);
	return g;
}

/* A buffer of len bytes, each byte its offset plus seed. */
static uint64_t
buf(struct fake_guest *g, uint32_t len, uint8_t seed)
{
	uint64_t gpa = fg_alloc(g, len ? len : 1, 16);

	for (uint32_t k = 0; k < len; k++) {
		uint8_t b = (uint8_t)(seed + k);

		assert_int_equal(fg_write(g, gpa + k, &b, 1), 0);
	}
	return gpa;
}

static uint16_t
chain_id(const struct vq_chain *c)
{
	return (uint16_t)c->head;
}

static void
expect_used(struct fake_guest *g, uint16_t id, uint32_t len)
{
	uint16_t got_id, flags;
	uint32_t got_len;

	assert_true(fg_pk_used(g, &got_id, &got_len, &flags));
	assert_int_equal(got_id, id);
	assert_int_equal(got_len, len);
	assert_int_equal(!!(flags & W), len != 0);
}

static void
expect_no_used(struct fake_guest *g)
{
	uint16_t id, flags;
	uint32_t len;

	assert_false(fg_pk_used(g, &id, &len, &flags));
}

/* --- unit ------------------------------------------------------------------ */

/* One-descriptor TX buffers: counted, popped in order with their bytes,
 * nothing used before vq_publish(), then each under its id. */
static void
test_single(void **state)
{
	struct fake_guest *g = pk_guest(16, TX, 0);
	struct vq_chain c;

	(void)state;
	assert_int_equal(vq_avail_count(g->vq), 0);
	for (uint16_t k = 0; k < 3; k++) {
		struct fg_pk_elem e = { buf(g, 100 + k, (uint8_t)k), 100u + k, 0 };

		fg_pk_post(g, &e, 1, (uint16_t)(7 + k));
	}
	assert_int_equal(vq_avail_count(g->vq), 3);
	for (uint16_t k = 0; k < 3; k++) {
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(chain_id(&c), 7 + k);
		assert_int_equal(c.n_out, 1);
		assert_int_equal(c.n_in, 0);
		assert_int_equal(c.out_len, 100 + k);
		assert_int_equal(((const uint8_t *)c.seg[0].iov_base)[5], (uint8_t)(k + 5));
		vq_push(g->vq, c.head, 0);
	}
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
	expect_no_used(g);                        /* shadowed until published */
	assert_true(vq_publish(g->vq));
	assert_false(vq_publish(g->vq));          /* nothing new */
	for (uint16_t k = 0; k < 3; k++)
		expect_used(g, (uint16_t)(7 + k), 0);
	expect_no_used(g);
	fg_free(g);
}

/* Chains of 1..5 descriptors on an RX ring of 7 (not a power of two) for
 * many laps: each chain's elements in order, its id from its last
 * descriptor, one used descriptor per chain with the length written and
 * WRITE, and the driver's wrap counter always agrees with ours. */
static void
test_chains_many_laps(void **state)
{
	struct fake_guest *g = pk_guest(7, RX, 0);
	uint64_t b = fg_alloc(g, 4096, 16);

	(void)state;
	for (unsigned round = 0; round < 60; round++) {
		unsigned n = 1 + round % 5;
		struct fg_pk_elem e[5];
		struct vq_chain c;
		uint16_t id = (uint16_t)(round % 7);

		for (unsigned k = 0; k < n; k++)
			e[k] = (struct fg_pk_elem){ b + 512 * k, 100 + (uint32_t)k, W };
		fg_pk_post(g, e, n, id);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(chain_id(&c), id);
		assert_int_equal(c.n_in, n);
		assert_int_equal(c.n_out, 0);
		for (unsigned k = 0; k < n; k++) {
			assert_ptr_equal(c.seg[k].iov_base, fg_hva(g, b + 512 * k, 1));
			assert_int_equal(c.seg[k].iov_len, 100 + k);
		}
		vq_push(g->vq, c.head, 42 + round);
		assert_true(vq_publish(g->vq));
		expect_used(g, id, 42 + round);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
	}
	fg_free(g);
}

/* An indirect RX buffer of three writable elements is one chain of three
 * segments that takes one ring descriptor. */
static void
test_indirect(void **state)
{
	struct fake_guest *g = pk_guest(8, RX, F_INDIRECT);
	const struct fg_pk_elem t[3] = {
		{ fg_alloc(g, 64, 16), 64, W }, { fg_alloc(g, 128, 16), 128, W },
		{ fg_alloc(g, 32, 16), 32, W },
	};
	uint64_t tbl = fg_alloc(g, sizeof(t) * 2, 16);
	struct fg_pk_elem e = { tbl, 48, I };
	struct fg_pk_elem one = { fg_alloc(g, 16, 16), 16, W };
	struct vq_chain c;

	(void)state;
	assert_int_equal(fg_pk_table(g, tbl, t, 3), 0);
	fg_pk_post(g, &e, 1, 3);
	fg_pk_post(g, &one, 1, 4);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(chain_id(&c), 3);
	assert_int_equal(c.n_in, 3);
	assert_int_equal(c.in_len, 224);
	assert_int_equal(c.head >> 16, 1);          /* one ring descriptor */
	vq_push(g->vq, c.head, 224);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(chain_id(&c), 4);
	vq_push(g->vq, c.head, 16);
	vq_publish(g->vq);
	expect_used(g, 3, 224);
	expect_used(g, 4, 16);
	fg_free(g);
}

/* The shadow: a rewind takes back pushes (nothing reached the ring), and
 * vq_void_since() empties what was pushed since a mark; several entries
 * published at once all arrive, each under its id and length. */
static void
test_rewind_and_void(void **state)
{
	struct fake_guest *g = pk_guest(16, RX, 0);
	struct vq_chain c;
	struct vq_mark m;

	(void)state;
	for (uint16_t k = 0; k < 4; k++) {
		struct fg_pk_elem e = { fg_alloc(g, 256, 16), 256, W };

		fg_pk_post(g, &e, 1, k);
	}
	m = vq_mark(g->vq);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	vq_push(g->vq, c.head, 256);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	vq_push(g->vq, c.head, 100);
	vq_rewind(g->vq, m);                        /* a frame that did not fit */
	assert_false(vq_publish(g->vq));
	expect_no_used(g);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(chain_id(&c), 0);          /* the same buffer again */
	vq_push(g->vq, c.head, 10);
	m = vq_mark(g->vq);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 256);
	}
	vq_void_since(g->vq, m);                    /* a bad chain mid-packet */
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	vq_push(g->vq, c.head, 7);
	assert_true(vq_publish(g->vq));
	expect_used(g, 0, 10);
	expect_used(g, 1, 0);
	expect_used(g, 2, 0);
	expect_used(g, 3, 7);
	expect_no_used(g);
	fg_free(g);
}

/* In order on a TX ring: one publish of five chains (one of them three
 * descriptors long) writes one used descriptor, the last id, at the first
 * position; the driver skips the batch and the ring goes on from there. */
static void
test_in_order_batch(void **state)
{
	struct fake_guest *g = pk_guest(16, TX, F_INORDER);
	uint64_t b = buf(g, 64, 1);
	struct vq_chain c;
	uint16_t id, flags;
	uint32_t len;

	(void)state;
	assert_true(g->vq->in_order);
	for (uint16_t k = 0; k < 5; k++) {
		struct fg_pk_elem e[3] = { { b, 20, 0 }, { b, 20, 0 }, { b, 24, 0 } };

		fg_pk_post(g, e, k == 2 ? 3 : 1, k);
	}
	for (int k = 0; k < 5; k++) {
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
	}
	vq_publish(g->vq);
	assert_true(fg_pk_used(g, &id, &len, &flags));
	assert_int_equal(id, 4);
	/* The driver of an in-order ring skips the whole batch: as it would
	 * with the ids it counted, it lands after the seven descriptors. */
	g->pk_used = 7;
	expect_no_used(g);
	fg_free(g);
}

/* Used-buffer notifications as the driver's event suppression says:
 * DISABLE never, ENABLE always, DESC (with EVENT_IDX) only once the named
 * descriptor, in the named lap, was used. */
static void
test_kick_suppression(void **state)
{
	struct fake_guest *g = pk_guest(4, TX, F_EVIDX);
	uint64_t b = buf(g, 64, 0);
	struct vq_chain c;

	(void)state;
	for (unsigned round = 0; round < 10; round++) {
		struct fg_pk_elem e = { b, 64, 0 };
		uint16_t pos = (uint16_t)(round % 4);
		bool wrap = (round / 4) % 2 == 0;

		switch (round % 3) {
		case 0:
			fg_pk_set_driver_event(g, RING_EVENT_FLAGS_DISABLE, 0);
			break;
		case 1:
			fg_pk_set_driver_event(g, RING_EVENT_FLAGS_ENABLE, 0);
			break;
		default:
			/* the descriptor being used now: notify */
			fg_pk_set_driver_event(g, RING_EVENT_FLAGS_DESC,
			                       (uint16_t)(pos | (wrap ? 0x8000 : 0)));
			break;
		}
		fg_pk_post(g, &e, 1, pos);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
		vq_publish(g->vq);
		assert_int_equal(vq_kick_needed(g->vq), round % 3 != 0);
		expect_used(g, pos, 0);
	}
	/* DESC naming a later descriptor, or this one in the other lap: no. */
	for (int later = 0; later < 2; later++) {
		struct fg_pk_elem e = { b, 64, 0 };
		uint16_t pos = g->pk_next;

		fg_pk_set_driver_event(g, RING_EVENT_FLAGS_DESC,
		                       later ? (uint16_t)(((pos + 1) % 4) | (g->pk_wrap ? 0x8000 : 0))
		                             : (uint16_t)(pos | (g->pk_wrap ? 0 : 0x8000)));
		fg_pk_post(g, &e, 1, 0);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
		vq_publish(g->vq);
		assert_false(vq_kick_needed(g->vq));
		expect_used(g, 0, 0);
	}
	/* Our own wishes: kicks off while we poll, on before we sleep. */
	vq_set_notify(g->vq, true);
	assert_int_equal(fg_pk_device_event_flags(g), RING_EVENT_FLAGS_ENABLE);
	vq_set_notify(g->vq, false);
	assert_int_equal(fg_pk_device_event_flags(g), RING_EVENT_FLAGS_DISABLE);
	fg_free(g);
}

/* A ring starts where SET_VRING_BASE says (index and wrap counter) and
 * reports where it stands the same way; the descriptors there are the
 * driver's next. */
static void
test_base_and_position(void **state)
{
	const struct fg_opts o = { .qsize = 10, .dir = TX, .features = PACKED,
	                           .start_idx = 7 };        /* index 7, wrap 0 */
	struct fake_guest *g = fg_new_opts(&o);
	uint64_t b;
	struct vq_chain c;

	(void)state;
	assert_non_null(g);
	b = buf(g, 64, 0);
	assert_int_equal(vq_position(g->vq), 7);
	for (uint16_t k = 0; k < 5; k++) {
		struct fg_pk_elem e = { b, 64, 0 };

		fg_pk_post(g, &e, 1, k);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(chain_id(&c), k);
		vq_push(g->vq, c.head, 0);
	}
	vq_publish(g->vq);
	for (uint16_t k = 0; k < 5; k++)
		expect_used(g, k, 0);
	/* 7 + 5 = 12: index 2 of the next lap, whose wrap counter is 1. */
	assert_int_equal(vq_position(g->vq), 0x8000 | 2);
	fg_free(g);
}

/* vq_packed_resumable(): a ring a device ran to a position has the
 * descriptor before it marked used in its lap; a ring set up anew (zeroed,
 * or made available again from the start) does not. */
static void
test_resumable(void **state)
{
	struct fake_guest *g = pk_guest(8, TX, 0);
	uint64_t b = buf(g, 64, 0);
	struct vq_chain c;

	(void)state;
	assert_false(vq_packed_resumable(g->mem, &g->addrs, 8, 0x8000 | 3));   /* zeroed */
	for (uint16_t k = 0; k < 11; k++) {      /* a lap and 3: position 3, wrap 0 */
		struct fg_pk_elem e = { b, 64, 0 };
		uint16_t id, fl;
		uint32_t len;

		fg_pk_post(g, &e, 1, k % 8);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
		vq_publish(g->vq);
		assert_true(fg_pk_used(g, &id, &len, &fl));
	}
	assert_int_equal(vq_position(g->vq), 3);
	assert_true(vq_packed_resumable(g->mem, &g->addrs, 8, 3));
	assert_false(vq_packed_resumable(g->mem, &g->addrs, 8, 0x8000 | 3));  /* other lap */
	assert_false(vq_packed_resumable(g->mem, &g->addrs, 8, 5));   /* not used yet */
	assert_false(vq_packed_resumable(g->mem, &g->addrs, 8, 9));   /* beyond the ring */
	/* A driver that starts over: zeroes the ring, posts from 0 in lap 1. */
	memset(g->pdesc, 0, 16 * 8);
	g->pk_next = 0;
	g->pk_wrap = true;
	for (uint16_t k = 0; k < 5; k++) {
		struct fg_pk_elem e = { b, 64, 0 };

		fg_pk_post(g, &e, 1, k);
	}
	assert_false(vq_packed_resumable(g->mem, &g->addrs, 8, 3));
	fg_free(g);
}

/* While a migration logs, a publish marks the pages of the descriptors it
 * wrote (also across the end of the ring) and turning kicks on marks the
 * device area. */
static void
test_dirty_log(void **state)
{
	static uint8_t bits[(FG_GPA_BASE + FG_REGION_SIZE) / 4096 / 8 + 1];
	const struct dirty_log log = { .bits = bits, .len = sizeof(bits) };
	struct fake_guest *g = pk_guest(512, TX, 0);   /* 8 KiB of descriptors: 2 pages */
	uint64_t b = buf(g, 64, 0);
	uint64_t first = g->desc_gpa / 4096, last = (g->desc_gpa + 16 * 511) / 4096;
	uint64_t dev = g->used_gpa / 4096;
	struct vq_chain c;

	(void)state;
	vq_set_log(g->vq, &log, g->used_gpa);
	for (int k = 0; k < 510; k++) {          /* to the ring's last page */
		struct fg_pk_elem e = { b, 64, 0 };

		fg_pk_post(g, &e, 1, 0);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
	}
	vq_publish(g->vq);
	memset(bits, 0, sizeof(bits));
	for (int k = 0; k < 4; k++) {            /* 510, 511, then 0, 1 */
		struct fg_pk_elem e = { b, 64, 0 };

		fg_pk_post(g, &e, 1, 0);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		vq_push(g->vq, c.head, 0);
	}
	vq_publish(g->vq);
	assert_true(bits[first / 8] >> (first % 8) & 1);
	assert_true(bits[last / 8] >> (last % 8) & 1);
	assert_false(bits[dev / 8] >> (dev % 8) & 1);
	vq_set_notify(g->vq, true);
	assert_true(bits[dev / 8] >> (dev % 8) & 1);
	fg_free(g);
}

/* --- vq_pop_bufs_as(): the bursts' one-descriptor chains ------------------------ */

static uint16_t
pop_bufs(struct fake_guest *g, struct vq_buf *b, uint16_t n, bool *more)
{
	return vq_pop_bufs_as(g->vq, g->mem, b, n, more, true);
}

/* Posts a one-descriptor buffer of len bytes under id; returns its gpa. */
static uint64_t
post_buf(struct fake_guest *g, uint16_t id, uint32_t len)
{
	struct fg_pk_elem e = { fg_alloc(g, len, 16), len, g->vq->dir == RX ? W : 0 };

	fg_pk_post(g, &e, 1, id);
	return e.gpa;
}

/* Asserts that b is buffer id, one ring descriptor, exactly [gpa, gpa + len). */
static void
assert_buf(const struct fake_guest *g, const struct vq_buf *b, uint16_t id, uint64_t gpa,
           uint32_t len)
{
	assert_int_equal(b->head, id | UINT32_C(1) << 16);
	assert_non_null(fg_hva(g, gpa, len));
	assert_ptr_equal(b->seg.iov_base, fg_hva(g, gpa, len));
	assert_int_equal(b->seg.iov_len, len);
}

/* One-descriptor buffers of the queue's direction come out together, in
 * ring order, each under its id; a burst that asks for more than there is
 * takes what there is and does not ask for more (more: a chain of another
 * shape is waiting); vq_pop() then finds the ring empty. */
static void
test_bufs_in_order(void **state)
{
	static const uint16_t ids[] = { 7, 2, 11, 0, 15 };
	static const enum vq_dir dirs[] = { TX, RX };

	(void)state;
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		struct fake_guest *g = pk_guest(16, dirs[d], 0);
		uint64_t gpa[ARRAY_SIZE(ids)];
		struct vq_buf b[8];
		struct vq_chain c;
		bool more = true;

		for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
			gpa[k] = post_buf(g, ids[k], (uint32_t)(60 + k));
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), ARRAY_SIZE(ids));
		assert_false(more);
		for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
			assert_buf(g, &b[k], ids[k], gpa[k], (uint32_t)(60 + k));
		assert_int_equal(g->vq->last_avail, ARRAY_SIZE(ids));
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
		more = true;
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 0);
		assert_false(more);
		assert_int_equal(g->vq->chain_errs, 0);
		fg_free(g);
	}
}

/* n bounds a burst (and more stays false), and n 0 takes nothing. */
static void
test_bufs_n_limits(void **state)
{
	struct fake_guest *g = pk_guest(16, TX, 0);
	struct vq_buf b[16];
	bool more = true;

	(void)state;
	for (uint16_t id = 0; id < 6; id++)
		post_buf(g, id, 64);
	assert_int_equal(pop_bufs(g, b, 4, &more), 4);
	assert_false(more);
	for (uint16_t k = 0; k < 4; k++)
		assert_int_equal((uint16_t)b[k].head, k);
	more = true;
	assert_int_equal(pop_bufs(g, b, 0, &more), 0);
	assert_false(more);
	assert_int_equal(g->vq->last_avail, 4);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 2);
	assert_false(more);
	assert_int_equal((uint16_t)b[0].head, 4);
	assert_int_equal((uint16_t)b[1].head, 5);
	fg_free(g);
}

/* Buffers vq_pop() carries but a burst does not take (the hostile table
 * below runs every bad one past the burst path too), under id 5. */
static void
other_chain(struct fake_guest *g)
{
	struct fg_pk_elem e[2] = { { fg_alloc(g, 32, 16), 32, 0 }, { fg_alloc(g, 32, 16), 32, 0 } };

	fg_pk_post(g, e, 2, 5);
}

static void
other_indirect(struct fake_guest *g)
{
	const struct fg_pk_elem t[2] = { { fg_alloc(g, 32, 16), 32, 0 },
	                                 { fg_alloc(g, 32, 16), 32, 0 } };
	uint64_t tbl = fg_alloc(g, sizeof(t), 16);
	struct fg_pk_elem e = { tbl, 32, I };

	assert_int_equal(fg_pk_table(g, tbl, t, 2), 0);
	fg_pk_post(g, &e, 1, 5);
}

static void
other_straddle(struct fake_guest *g)
{
	struct fg_pk_elem e = { fg_region_end(g, 0) - 32, 64, 0 };

	fg_pk_post(g, &e, 1, 5);
}

/* A burst stops in front of a chain of two descriptors, an indirect table,
 * or a buffer across two regions (more), takes nothing of it however often
 * it is asked, and vq_pop() then gets it whole; the next burst goes on
 * behind it. */
static void
test_bufs_stop_at_other_shapes(void **state)
{
	static const struct { const char *name; void (*build)(struct fake_guest *g);
	                      unsigned nseg; } rows[] = {
		{ "chain of two", other_chain, 2 },
		{ "indirect table", other_indirect, 2 },
		{ "across two regions", other_straddle, 2 },
	};
	const struct fg_opts o = { .qsize = 16, .n_regions = 2, .dir = TX,
	                           .features = PACKED | F_INDIRECT, .start_idx = 0x8000 };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		struct fake_guest *g = fg_new_opts(&o);
		struct vq_buf b[8];
		struct vq_chain c;
		bool more = false;

		assert_non_null(g);
		post_buf(g, 1, 64);
		post_buf(g, 2, 64);
		rows[k].build(g);
		post_buf(g, 6, 64);
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 2);
		assert_true(more);
		assert_int_equal((uint16_t)b[0].head, 1);
		assert_int_equal((uint16_t)b[1].head, 2);
		more = false;
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 0);
		assert_true(more);
		assert_int_equal(g->vq->last_avail, 2);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		if (chain_id(&c) != 5 || c.n_out != rows[k].nseg || c.out_len != 64)
			fail_msg("%s: id %u, %u segments, %llu bytes", rows[k].name, chain_id(&c),
			         c.n_out, (unsigned long long)c.out_len);
		assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 1);
		assert_false(more);
		assert_int_equal((uint16_t)b[0].head, 6);
		assert_int_equal(g->vq->chain_errs, 0);
		fg_free(g);
	}
}

/* A burst across the end of the ring, within one call: the wrap counter
 * turns with it, and the descriptors of the lap before (zeroed, then marked
 * used by us) are not taken for new ones. The driver gets each buffer back
 * after the publish, in order, in the lap it looks for. */
static void
test_bufs_wrap(void **state)
{
	const struct fg_opts o = { .qsize = 8, .dir = RX, .features = PACKED,
	                           .start_idx = 0x8000 | 5 };
	struct fake_guest *g = fg_new_opts(&o);
	uint64_t gpa[6];
	struct vq_buf b[8];
	bool more = true;

	(void)state;
	assert_non_null(g);
	for (uint16_t k = 0; k < 6; k++)                 /* descriptors 5, 6, 7, 0, 1, 2 */
		gpa[k] = post_buf(g, k, 100u + k);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 6);
	assert_false(more);
	for (uint16_t k = 0; k < 6; k++)
		assert_buf(g, &b[k], k, gpa[k], 100u + k);
	assert_int_equal(g->vq->last_avail, 8 + 3);     /* descriptor 3, wrap counter 0 */
	vq_push_bufs_as(g->vq, b, NULL, 6, true);
	assert_true(vq_publish(g->vq));
	for (uint16_t k = 0; k < 6; k++)
		expect_used(g, k, 0);
	expect_no_used(g);
	for (uint16_t k = 0; k < 4; k++)       /* descriptors 3, 4, 5, 6; ids back from the driver */
		gpa[k] = post_buf(g, k, 50);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 4);
	assert_false(more);                              /* 7 was used in the lap before */
	for (uint16_t k = 0; k < 4; k++)
		assert_buf(g, &b[k], k, gpa[k], 50);
	vq_push_bufs_as(g->vq, b, NULL, 4, true);
	vq_publish(g->vq);
	for (uint16_t k = 0; k < 4; k++)
		expect_used(g, k, 0);
	assert_int_equal(vq_position(g->vq), 7);        /* descriptor 7, wrap counter 0 */
	fg_free(g);
}

/* The last n buffers a burst took, given back before any was pushed, come
 * out again the same, to a burst or to vq_pop(); here the position goes
 * back over the end of its count (2 * size), from wrap counter 1 to 0. */
static void
test_bufs_unpop(void **state)
{
	const struct fg_opts o = { .qsize = 8, .dir = TX, .features = PACKED,
	                           .start_idx = 6 };    /* descriptor 6, wrap counter 0 */
	struct fake_guest *g = fg_new_opts(&o);
	struct vq_buf first[8], b[8];
	struct vq_chain c;
	bool more;

	(void)state;
	assert_non_null(g);
	for (uint16_t k = 0; k < 4; k++)                 /* descriptors 6, 7, 0, 1 */
		post_buf(g, k, 100u + k);
	assert_int_equal(pop_bufs(g, first, ARRAY_SIZE(first), &more), 4);
	assert_int_equal(g->vq->last_avail, 2);         /* descriptor 2, wrap counter 1 */
	vq_unpop_bufs_as(g->vq, 3, true);
	assert_int_equal(g->vq->last_avail, 8 + 7);     /* descriptor 7, wrap counter 0 */
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 3);
	assert_false(more);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(b[k].head, first[k + 1].head);
		assert_ptr_equal(b[k].seg.iov_base, first[k + 1].seg.iov_base);
		assert_int_equal(b[k].seg.iov_len, first[k + 1].seg.iov_len);
	}
	vq_unpop_bufs_as(g->vq, 2, true);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(chain_id(&c), 2);
	assert_ptr_equal(c.seg[0].iov_base, first[2].seg.iov_base);
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 1);
	assert_int_equal((uint16_t)b[0].head, 3);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
	vq_push_bufs_as(g->vq, first, NULL, 4, true);
	vq_publish(g->vq);
	for (uint16_t k = 0; k < 4; k++)
		expect_used(g, k, 0);
	expect_no_used(g);
	fg_free(g);
}

/* Each buffer a burst takes holds a shadow entry until the next publish:
 * with VQ_SHADOW_MAX - 1 entries pushed, bursts take no more (nor does
 * vq_pop()), the last one only what was left; a publish frees them. */
static void
test_bufs_shadow_limit(void **state)
{
	struct fake_guest *g = pk_guest(4096, TX, 0);
	struct fg_pk_elem e = { fg_alloc(g, 64, 16), 64, 0 };
	uint16_t total = 0, got, last = 0;
	struct vq_buf b[64];
	struct vq_chain c;
	bool more;

	(void)state;
	for (uint16_t id = 0; id < VQ_SHADOW_MAX + 9; id++)
		fg_pk_post(g, &e, 1, id);
	while ((got = pop_bufs(g, b, ARRAY_SIZE(b), &more)) > 0) {
		assert_false(more);
		for (uint16_t k = 0; k < got; k++)
			assert_int_equal((uint16_t)b[k].head, total + k);
		vq_push_bufs_as(g->vq, b, NULL, got, true);
		total = (uint16_t)(total + got);
		last = got;
	}
	assert_false(more);
	assert_int_equal(total, VQ_SHADOW_MAX - 1);
	assert_int_equal(last, (VQ_SHADOW_MAX - 1) % ARRAY_SIZE(b));
	assert_int_equal(g->vq->nshadow, VQ_SHADOW_MAX - 1);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_EMPTY);
	assert_true(vq_publish(g->vq));
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 10);
	assert_int_equal((uint16_t)b[0].head, VQ_SHADOW_MAX - 1);
	fg_free(g);
}

/* --- hostile ---------------------------------------------------------------- */

struct hostile {
	const char *name;
	enum vq_dir dir;
	uint64_t features;
	void (*build)(struct fake_guest *g);  /* posts the bad buffer, id 9 */
	enum vq_err want;                     /* VQ_EMPTY: not taken at all */
};

#define BAD_ID 9

static void
post1(struct fake_guest *g, uint64_t gpa, uint32_t len, uint16_t flags)
{
	struct fg_pk_elem e = { gpa, len, flags };

	fg_pk_post(g, &e, 1, BAD_ID);
}

static void id_range(struct fake_guest *g)
{
	struct fg_pk_elem e = { fg_alloc(g, 64, 16), 64, 0 };
	uint16_t head = g->pk_next, bits = fg_pk_avail_bits(g);

	fg_pk_post(g, &e, 1, 0);
	fg_pk_raw(g, head, e.gpa, 64, (uint16_t)g->qsize, bits);
}
static void wrap_both_set(struct fake_guest *g)
{
	fg_pk_raw(g, g->pk_next, fg_alloc(g, 64, 16), 64, BAD_ID,
	          VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED);
}
static void wrap_other_lap(struct fake_guest *g)
{
	fg_pk_raw(g, g->pk_next, fg_alloc(g, 64, 16), 64, BAD_ID, VRING_PACKED_DESC_F_USED);
}
static void chain_whole_ring(struct fake_guest *g)
{
	uint64_t b = fg_alloc(g, 64, 16);

	for (uint16_t i = 1; i < g->qsize; i++)
		fg_pk_raw(g, i, b, 64, BAD_ID, VRING_DESC_F_NEXT | VRING_PACKED_DESC_F_AVAIL);
	fg_pk_raw(g, 0, b, 64, BAD_ID, VRING_DESC_F_NEXT | VRING_PACKED_DESC_F_AVAIL);
}
static void chain_too_long(struct fake_guest *g)
{
	struct fg_pk_elem e[VQ_MAX_CHAIN_DESCS + 1];
	uint64_t b = fg_alloc(g, 64, 16);

	/* Empty descriptors add no segment: only the length counts. */
	for (unsigned k = 0; k < ARRAY_SIZE(e); k++)
		e[k] = (struct fg_pk_elem){ b, k == 0, 0 };
	fg_pk_post(g, e, ARRAY_SIZE(e), BAD_ID);
}
static void chain_into_stale(struct fake_guest *g)
{
	struct fg_pk_elem e[2] = { { fg_alloc(g, 64, 16), 64, W }, { fg_alloc(g, 64, 16), 64, W } };
	uint16_t second = (uint16_t)((g->pk_next + 1) % g->qsize);

	fg_pk_post(g, e, 2, BAD_ID);
	/* the second descriptor keeps the flags of a lap gone by */
	fg_pk_raw(g, second, e[1].gpa, 64, BAD_ID, 0);
}
static void ind_len_zero(struct fake_guest *g) { post1(g, fg_alloc(g, 64, 16), 0, I); }
static void ind_len_odd(struct fake_guest *g) { post1(g, fg_alloc(g, 64, 16), 24, I); }
static void ind_too_long(struct fake_guest *g)
{
	uint32_t n = VQ_MAX_CHAIN_DESCS + 1;
	uint64_t t = fg_alloc(g, 16ull * n, 16);
	struct fg_pk_elem e = { fg_alloc(g, 64, 16), 64, 0 };

	for (uint32_t k = 0; k < n; k++)
		assert_int_equal(fg_pk_table(g, t + 16ull * k, &e, 1), 0);
	post1(g, t, 16 * n, I);
}
static void ind_outside(struct fake_guest *g) { post1(g, OUTSIDE, 32, I); }
static void ind_in_chain(struct fake_guest *g)
{
	struct fg_pk_elem e[2] = { { fg_alloc(g, 64, 16), 64, 0 }, { fg_alloc(g, 32, 16), 32, I } };

	fg_pk_post(g, e, 2, BAD_ID);
}
static void ind_nested(struct fake_guest *g)
{
	uint64_t t = fg_alloc(g, 32, 16);
	const struct fg_pk_elem inner[2] = { { fg_alloc(g, 64, 16), 64, 0 }, { t, 16, I } };

	assert_int_equal(fg_pk_table(g, t, inner, 2), 0);
	post1(g, t, 32, I);
}
static void ind_readable_on_rx(struct fake_guest *g)
{
	uint64_t t = fg_alloc(g, 16, 16);
	const struct fg_pk_elem inner = { fg_alloc(g, 64, 16), 64, 0 };

	assert_int_equal(fg_pk_table(g, t, &inner, 1), 0);
	post1(g, t, 16, I);
}
static void tx_writable(struct fake_guest *g) { post1(g, fg_alloc(g, 64, 16), 64, W); }
static void rx_readable(struct fake_guest *g) { post1(g, fg_alloc(g, 64, 16), 64, 0); }
static void readable_after_writable(struct fake_guest *g)
{
	struct fg_pk_elem e[2] = { { fg_alloc(g, 64, 16), 64, W }, { fg_alloc(g, 64, 16), 64, 0 } };

	fg_pk_post(g, e, 2, BAD_ID);
}
static void addr_outside(struct fake_guest *g) { post1(g, OUTSIDE, 64, 0); }
static void addr_wraps(struct fake_guest *g) { post1(g, UINT64_MAX - 10, 64, 0); }
static void addr_past_end(struct fake_guest *g) { post1(g, fg_region_end(g, 0) - 10, 64, 0); }
static void zero_len_one(struct fake_guest *g) { post1(g, fg_alloc(g, 8, 16), 0, 0); }
static void zero_len(struct fake_guest *g)
{
	struct fg_pk_elem e[2] = { { fg_alloc(g, 8, 16), 0, 0 }, { fg_alloc(g, 8, 16), 0, 0 } };

	fg_pk_post(g, e, 2, BAD_ID);
}

static const struct hostile rows[] = {
	{ "packed: buffer id == ring size", TX, 0, id_range, VQ_E_ID_RANGE },
	{ "packed: AVAIL and USED both set (not available)", TX, 0, wrap_both_set, VQ_EMPTY },
	{ "packed: flags of the other lap (not available)", RX, 0, wrap_other_lap, VQ_EMPTY },
	{ "packed: a chain that runs the whole ring", TX, 0, chain_whole_ring, VQ_E_RING_CHAIN },
	{ "packed: chain longer than 256 descriptors", TX, 0, chain_too_long, VQ_E_RING_CHAIN },
	{ "packed: chain into a descriptor not made available", RX, 0, chain_into_stale,
	  VQ_E_RING_CHAIN },
	{ "packed: indirect without the feature", TX, 0, ind_len_odd, VQ_E_INDIRECT_FEATURE },
	{ "packed: indirect table length 0", TX, F_INDIRECT, ind_len_zero, VQ_E_INDIRECT_LEN },
	{ "packed: indirect table length 24", RX, F_INDIRECT, ind_len_odd, VQ_E_INDIRECT_LEN },
	{ "packed: indirect table of 257", TX, F_INDIRECT, ind_too_long, VQ_E_LOOP },
	{ "packed: indirect table outside memory", TX, F_INDIRECT, ind_outside,
	  VQ_E_INDIRECT_ADDR },
	{ "packed: indirect inside a chain", TX, F_INDIRECT, ind_in_chain, VQ_E_INDIRECT_NEXT },
	{ "packed: nested indirect", TX, F_INDIRECT, ind_nested, VQ_E_NESTED_INDIRECT },
	{ "packed: readable table entry on RX", RX, F_INDIRECT, ind_readable_on_rx,
	  VQ_E_DIRECTION },
	{ "packed: writable buffer on TX", TX, 0, tx_writable, VQ_E_DIRECTION },
	{ "packed: readable buffer on RX", RX, 0, rx_readable, VQ_E_DIRECTION },
	{ "packed: readable after writable", RX, 0, readable_after_writable, VQ_E_LAYOUT },
	{ "packed: buffer outside memory", TX, 0, addr_outside, VQ_E_ADDR },
	{ "packed: buffer address wraps", TX, 0, addr_wraps, VQ_E_ADDR },
	{ "packed: buffer runs past the end of memory", TX, 0, addr_past_end, VQ_E_ADDR },
	{ "packed: one zero-length buffer", TX, 0, zero_len_one, VQ_E_ZERO_LEN },
	{ "packed: chain of zero-length buffers (runt)", TX, 0, zero_len, VQ_E_ZERO_LEN },
};

/* The burst path (vq_pop_bufs_as()) meets the row's buffer first, as the
 * datapath's does: it takes nothing and changes nothing vq_pop() could see,
 * and asks for vq_pop() (more) unless nothing was made available. */
static void
burst_declines(struct fake_guest *g, bool more_wanted)
{
	static struct vq before;
	struct vq_buf b[4];
	bool more = !more_wanted;

	memcpy(&before, g->vq, sizeof(before));
	assert_int_equal(pop_bufs(g, b, ARRAY_SIZE(b), &more), 0);
	assert_int_equal(more, more_wanted);
	assert_memory_equal(&before, g->vq, sizeof(before));
}

static bool
ring_violation(enum vq_err e)
{
	return e == VQ_E_ID_RANGE || e == VQ_E_RING_CHAIN;
}

/* Two good buffers around the bad one (ids 1, BAD_ID, 2) on a ring of 12
 * started mid-lap, so the bad one's descriptors wrap past the end (the
 * first good one is taken before the bad one is written: a chain that runs
 * the whole ring overwrites it). */
static void
test_hostile(void **state)
{
	const struct hostile *h = *state;
	const struct fg_opts o = { .qsize = h->build == chain_too_long ? 300 : 12, .dir = h->dir,
	                           .features = PACKED | h->features, .start_idx = 0x8000 | 9 };
	struct fake_guest *g = fg_new_opts(&o);
	uint16_t flag = h->dir == RX ? W : 0;
	struct fg_pk_elem good = { 0, 64, flag };
	struct vq_chain c;
	enum vq_err e;

	assert_non_null(g);
	good.gpa = fg_alloc(g, 64, 16);
	fg_pk_post(g, &good, 1, 1);
	assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
	assert_int_equal(chain_id(&c), 1);
	vq_push(g->vq, c.head, 0);
	h->build(g);
	burst_declines(g, h->want != VQ_EMPTY);
	e = vq_pop(g->vq, g->mem, &c);
	assert_int_equal(e, h->want);
	if (h->want == VQ_EMPTY) {
		/* Not available: nothing taken, and nothing past it either. */
		assert_false(g->vq->broken);
		assert_int_equal(g->vq->chain_errs, 0);
		vq_publish(g->vq);
		expect_used(g, 1, 0);
		expect_no_used(g);
	} else if (ring_violation(h->want)) {
		assert_true(g->vq->broken);
		assert_int_equal(g->vq->broken_why, h->want);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_E_BROKEN);
		assert_int_equal(vq_avail_count(g->vq), 0);
	} else {
		/* Given back empty under its id, counted once; then the ring
		 * goes on with the next good buffer. */
		assert_false(g->vq->broken);
		assert_int_equal(g->vq->chain_errs, 1);
		assert_int_equal(g->vq->stats.err[h->want], 1);
		fg_pk_post(g, &good, 1, 2);
		assert_int_equal(vq_pop(g->vq, g->mem, &c), VQ_OK);
		assert_int_equal(chain_id(&c), 2);
		vq_push(g->vq, c.head, h->dir == RX ? 64 : 0);
		vq_publish(g->vq);
		expect_used(g, 1, 0);
		expect_used(g, BAD_ID, 0);
		expect_used(g, 2, h->dir == RX ? 64 : 0);
		expect_no_used(g);
	}
	fg_free(g);
}

/* vq_map() of a packed ring: a base beyond the ring, misaligned areas, a
 * size past 32768, areas outside memory. */
static void
test_map_refusals(void **state)
{
	struct fake_guest *g = pk_guest(64, TX, 0);
	struct vq vq;
	struct vq_addrs a = g->addrs;

	(void)state;
	assert_int_equal(vq_map(&vq, g->mem, &a, 64, TX, PACKED, 64), VQ_E_RING_BASE);
	assert_true(vq.broken);
	assert_int_equal(vq_map(&vq, g->mem, &a, 64, TX, PACKED, 0x8000 | 63), VQ_OK);
	assert_int_equal(vq_map(&vq, g->mem, &a, 0, TX, PACKED, 0), VQ_E_RING_SIZE);
	assert_int_equal(vq_map(&vq, g->mem, &a, 32769, TX, PACKED, 0), VQ_E_RING_SIZE);
	a.avail_fva += 2;
	assert_int_equal(vq_map(&vq, g->mem, &a, 64, TX, PACKED, 0), VQ_E_RING_ALIGN);
	a = g->addrs;
	a.desc_fva += 8;
	assert_int_equal(vq_map(&vq, g->mem, &a, 64, TX, PACKED, 0), VQ_E_RING_ALIGN);
	a = g->addrs;
	a.used_fva = 0x1000;
	assert_int_equal(vq_map(&vq, g->mem, &a, 64, TX, PACKED, 0), VQ_E_RING_ADDR);
	assert_true(vq.broken);
	fg_free(g);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_chains_many_laps),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_rewind_and_void),
		cmocka_unit_test(test_in_order_batch),
		cmocka_unit_test(test_kick_suppression),
		cmocka_unit_test(test_base_and_position),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_resumable),
		cmocka_unit_test(test_map_refusals),
		cmocka_unit_test(test_bufs_in_order),
		cmocka_unit_test(test_bufs_n_limits),
		cmocka_unit_test(test_bufs_stop_at_other_shapes),
		cmocka_unit_test(test_bufs_wrap),
		cmocka_unit_test(test_bufs_unpop),
		cmocka_unit_test(test_bufs_shadow_limit),
	};
	struct CMUnitTest t[ARRAY_SIZE(fixed) + ARRAY_SIZE(rows)];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(fixed); k++)
		t[n++] = fixed[k];
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++)
		t[n++] = (struct CMUnitTest){ rows[k].name, test_hostile, NULL, NULL,
		                              (void *)&rows[k] };
	return cmocka_run_group_tests_name("virtio_vq_packed", t, NULL, NULL);
}
