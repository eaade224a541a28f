/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_dirty.c - the dirty-page log of a migration: exactly the
 * bits of the pages written, for ranges that span pages and regions, never a
 * byte past the log; and the writes of the RX path and of a used ring that
 * mark them (every byte a guest receives while logging is on). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "tests/fake_guest.h"
#include "virtio/dirty.h"
#include "virtio/vnet.h"
#include "common/base.h"

#define PAGE 4096u

static uint8_t bits[64 + 8];             /* 64 bytes of log, then a guard */

static struct dirty_log
log_of(uint64_t len)
{
	memset(bits, 0, sizeof(bits));
	memset(bits + len, 0xa5, sizeof(bits) - len);
	return (struct dirty_log){ .bits = bits, .len = len };
}

static bool
page_marked(uint64_t p)
{
	return bits[p / 8] & (1u << (p % 8));
}

/* The marked pages, as a count, and that exactly [first, last] are among them. */
static unsigned
marked_count(uint64_t len)
{
	unsigned n = 0;

	for (uint64_t p = 0; p < len * 8; p++)
		n += page_marked(p);
	return n;
}

static void
test_gpa_ranges(void **state)
{
	static const struct { uint64_t gpa, len, first, last; } rows[] = {
		{ 0, 1, 0, 0 },                          /* one byte */
		{ PAGE - 1, 2, 0, 1 },                   /* straddles a page boundary */
		{ 5 * PAGE, PAGE, 5, 5 },                /* exactly one page */
		{ 5 * PAGE + 1, PAGE, 5, 6 },
		{ 7 * PAGE + 100, 9 * PAGE, 7, 16 },     /* bits of three bytes */
		{ 511 * PAGE, PAGE, 511, 511 },          /* the log's last page */
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		struct dirty_log l = log_of(64);

		dirty_log_gpa(&l, rows[k].gpa, rows[k].len);
		for (uint64_t p = rows[k].first; p <= rows[k].last; p++)
			if (!page_marked(p))
				fail_msg("row %zu: page %" PRIu64 " not marked", k, p);
		assert_int_equal(marked_count(64), rows[k].last - rows[k].first + 1);
	}
}

/* Pages the log does not cover (512 pages in 64 bytes) are skipped: the
 * bytes after it stay as they were, also for a range that wraps. */
static void
test_gpa_bounds(void **state)
{
	struct dirty_log l = log_of(64);

	(void)state;
	dirty_log_gpa(&l, 510 * PAGE, 10 * PAGE);
	assert_true(page_marked(510) && page_marked(511));
	assert_int_equal(marked_count(64), 2);
	dirty_log_gpa(&l, UINT64_MAX - PAGE, 2 * PAGE);
	dirty_log_gpa(&l, 0, 0);
	assert_int_equal(marked_count(64), 2);
	for (size_t i = 64; i < sizeof(bits); i++)
		assert_int_equal(bits[i], 0xa5);
	assert_int_equal(dirty_log_bytes(0), 0);
	assert_int_equal(dirty_log_bytes(1), 1);
	assert_int_equal(dirty_log_bytes(8 * PAGE), 1);
	assert_int_equal(dirty_log_bytes(8 * PAGE + 1), 2);
}

/* Host bytes are marked by the guest pages behind them: a range that
 * crosses from one region into the next (adjacent in gpa, apart in the
 * host) marks both sides, and bytes in no region mark nothing. */
static void
test_hva_regions(void **state)
{
	struct fake_guest *g = fg_new_opts(&(struct fg_opts){ .n_regions = 2,
	                                                      .region_size = 16 * PAGE });
	struct dirty_log l = log_of(64);
	uint64_t end0 = fg_region_end(g, 0);
	uint8_t *a = fg_hva(g, end0 - 10, 10), *b = fg_hva(g, end0, 10);
	uint8_t outside[32];

	(void)state;
	assert_non_null(g);
	assert_non_null(a);
	assert_non_null(b);
	dirty_log_hva(&l, g->mem, a, 10);
	dirty_log_hva(&l, g->mem, b, 5000);
	assert_true(page_marked((end0 - 1) / PAGE));
	assert_true(page_marked(end0 / PAGE) && page_marked(end0 / PAGE + 1));
	assert_int_equal(marked_count(64), 3);
	dirty_log_hva(&l, g->mem, outside, sizeof(outside));
	assert_int_equal(marked_count(64), 3);
	fg_free(g);
}

/* vnet_rx_packet_logged(): a frame written into two chains of a mergeable
 * guest marks the pages of the bytes written in each (and not the rest of
 * the buffers), and the publish marks the used ring's pages. Without a log
 * on the vq nothing is marked. */
static void
test_rx_marks(void **state)
{
	const uint64_t feat = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	struct fake_guest *g = fg_new(64, VQ_DIR_DEVICE_WRITES, feat);
	const struct vnet_rx_fmt fmt = { .hdr_len = 12, .mrg_rxbuf = true };
	struct dirty_log l = log_of(64);
	static uint8_t frame[6000];
	const struct iovec pkt = { frame, sizeof(frame) };
	uint64_t buf[3], used_lo, used_hi;

	(void)state;
	assert_non_null(g);
	for (int i = 0; i < 3; i++) {
		/* Page-aligned 4 KiB buffers, a page apart: their own pages. */
		buf[i] = fg_alloc(g, 2 * PAGE, PAGE);
		fg_desc(g, (uint16_t)i, buf[i], PAGE, VRING_DESC_F_WRITE, 0);
		fg_avail(g, (uint16_t)i);
	}
	vq_set_log(g->vq, &l, g->used_gpa);
	assert_int_equal(vnet_rx_packet_logged(g->vq, g->mem, &fmt, 0, &pkt, 1, sizeof(frame)),
	                 VNET_RX_OK);
	/* 12 + 6000 bytes: the first buffer whole, 1916 of the second. */
	assert_true(page_marked(buf[0] / PAGE) && page_marked(buf[1] / PAGE));
	assert_false(page_marked(buf[2] / PAGE));
	assert_int_equal(marked_count(64), 2);
	assert_true(vq_publish(g->vq));
	used_lo = g->used_gpa / PAGE;
	used_hi = (g->used_gpa + vring_used_bytes(64) - 1) / PAGE;
	for (uint64_t p = used_lo; p <= used_hi; p++)
		assert_true(page_marked(p));
	assert_int_equal(marked_count(64), 2 + (used_hi - used_lo + 1));

	/* Logging off: the plain path marks nothing. */
	l = log_of(64);
	vq_set_log(g->vq, NULL, 0);
	fg_desc(g, 3, fg_alloc(g, PAGE, PAGE), PAGE, VRING_DESC_F_WRITE, 0);
	fg_avail(g, 3);
	assert_int_equal(vnet_rx_packet(g->vq, g->mem, &fmt, 0, &pkt, 1, 100), VNET_RX_OK);
	assert_true(vq_publish(g->vq));
	assert_int_equal(marked_count(64), 0);
	fg_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpa_ranges),
		cmocka_unit_test(test_gpa_bounds),
		cmocka_unit_test(test_hva_regions),
		cmocka_unit_test(test_rx_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
