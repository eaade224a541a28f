/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_iov.c - the iovec byte cursors of virtio/iov.h: copies
 * between arrays whose segment boundaries do not line up, zero-length segments
 * anywhere, and either side running out first. Every test checks the bytes
 * moved, the returned count and where both cursors stopped; iov_peek() is
 * checked at every offset and length. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/iov.h"

/* Fills buf with a pattern that differs at every offset mod 251. */
static void
pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(seed + k % 251);
}

/* Splits flat into segments of the given lengths (0 allowed). */
static unsigned
split(uint8_t *flat, const size_t *lens, unsigned n, struct iovec *v)
{
	size_t off = 0;

	for (unsigned k = 0; k < n; k++) {
		v[k] = (struct iovec){ .iov_base = flat + off, .iov_len = lens[k] };
		off += lens[k];
	}
	return n;
}

static void
test_copy_mismatched(void **state)
{
	static const size_t sl[] = { 3, 5, 8 }, dl[] = { 4, 4, 4, 4 };
	uint8_t s[16], d[16];
	struct iovec sv[3], dv[4];
	struct iov_cursor src, dst;

	(void)state;
	pattern(s, sizeof(s), 1);
	memset(d, 0, sizeof(d));
	src = iov_cursor(sv, split(s, sl, 3, sv));
	dst = iov_cursor(dv, split(d, dl, 4, dv));
	assert_int_equal(iov_copy(&dst, &src, 16), 16);
	assert_memory_equal(d, s, 16);
	assert_int_equal(src.i, 3);
	assert_int_equal(src.off, 0);
	assert_int_equal(dst.i, 4);
	assert_int_equal(dst.off, 0);
}

static void
test_copy_partial_then_resume(void **state)
{
	static const size_t sl[] = { 7, 9 }, dl[] = { 5, 5, 6 };
	uint8_t s[16], d[16];
	struct iovec sv[2], dv[3];
	struct iov_cursor src, dst;

	(void)state;
	pattern(s, sizeof(s), 9);
	memset(d, 0xee, sizeof(d));
	src = iov_cursor(sv, split(s, sl, 2, sv));
	dst = iov_cursor(dv, split(d, dl, 3, dv));
	assert_int_equal(iov_copy(&dst, &src, 6), 6);
	assert_int_equal(src.i, 0);
	assert_int_equal(src.off, 6);
	assert_int_equal(dst.i, 1);
	assert_int_equal(dst.off, 1);
	assert_int_equal(d[6], 0xee);          /* nothing past the requested length */
	assert_int_equal(iov_copy(&dst, &src, 5), 5);
	assert_int_equal(src.i, 1);
	assert_int_equal(src.off, 4);
	assert_int_equal(dst.i, 2);
	assert_int_equal(dst.off, 1);
	assert_int_equal(iov_copy(&dst, &src, 100), 5);
	assert_memory_equal(d, s, 16);
}

static void
test_copy_zero_len_segments(void **state)
{
	static const size_t sl[] = { 0, 0, 4, 0, 6, 0 }, dl[] = { 0, 5, 0, 0, 5, 0 };
	uint8_t s[10], d[10];
	struct iovec sv[6], dv[6];
	struct iov_cursor src, dst;

	(void)state;
	pattern(s, sizeof(s), 3);
	memset(d, 0, sizeof(d));
	src = iov_cursor(sv, split(s, sl, 6, sv));
	dst = iov_cursor(dv, split(d, dl, 6, dv));
	assert_int_equal(iov_copy(&dst, &src, 10), 10);
	assert_memory_equal(d, s, 10);
	/* The trailing empty segments were not needed: a further copy moves nothing. */
	assert_int_equal(iov_copy(&dst, &src, 10), 0);
}

static void
test_copy_len_zero(void **state)
{
	uint8_t s[4] = { 1, 2, 3, 4 }, d[4] = { 0 };
	struct iovec sv = { s, 4 }, dv = { d, 4 };
	struct iov_cursor src = iov_cursor(&sv, 1), dst = iov_cursor(&dv, 1);

	(void)state;
	assert_int_equal(iov_copy(&dst, &src, 0), 0);
	assert_int_equal(src.i, 0);
	assert_int_equal(src.off, 0);
	assert_int_equal(dst.i, 0);
	assert_int_equal(dst.off, 0);
	assert_int_equal(d[0], 0);
}

static void
test_copy_dst_runs_out(void **state)
{
	static const size_t sl[] = { 12, 8 }, dl[] = { 6, 0, 4 };
	uint8_t s[20], d[10];
	struct iovec sv[2], dv[3];
	struct iov_cursor src, dst;

	(void)state;
	pattern(s, sizeof(s), 5);
	src = iov_cursor(sv, split(s, sl, 2, sv));
	dst = iov_cursor(dv, split(d, dl, 3, dv));
	assert_int_equal(iov_copy(&dst, &src, 20), 10);
	assert_memory_equal(d, s, 10);
	assert_int_equal(dst.i, 3);
	assert_int_equal(src.i, 0);
	assert_int_equal(src.off, 10);
	assert_int_equal(iov_copy(&dst, &src, 20), 0);
}

static void
test_copy_src_runs_out(void **state)
{
	static const size_t sl[] = { 2, 0, 3 }, dl[] = { 4, 16 };
	uint8_t s[5], d[20];
	struct iovec sv[3], dv[2];
	struct iov_cursor src, dst;

	(void)state;
	pattern(s, sizeof(s), 7);
	memset(d, 0xcc, sizeof(d));
	src = iov_cursor(sv, split(s, sl, 3, sv));
	dst = iov_cursor(dv, split(d, dl, 2, dv));
	assert_int_equal(iov_copy(&dst, &src, 20), 5);
	assert_memory_equal(d, s, 5);
	assert_int_equal(d[5], 0xcc);
	assert_int_equal(src.i, 3);
	assert_int_equal(dst.i, 1);
	assert_int_equal(dst.off, 1);
}

static void
test_copy_empty_arrays(void **state)
{
	uint8_t d[4] = { 0 };
	struct iovec dv = { d, 4 };
	struct iov_cursor src = iov_cursor(NULL, 0), dst = iov_cursor(&dv, 1);
	struct iov_cursor none = iov_cursor(NULL, 0);
	uint8_t s[4] = { 9, 9, 9, 9 };
	struct iovec sv = { s, 4 };
	struct iov_cursor src2 = iov_cursor(&sv, 1);

	(void)state;
	assert_int_equal(iov_copy(&dst, &src, 4), 0);
	assert_int_equal(iov_copy(&none, &src2, 4), 0);
	assert_int_equal(src2.off, 0);
	assert_int_equal(d[0], 0);
}

static void
test_skip(void **state)
{
	static const size_t l[] = { 4, 0, 3, 5 };
	uint8_t buf[12];
	struct iovec v[4];
	struct iov_cursor c;

	(void)state;
	c = iov_cursor(v, split(buf, l, 4, v));
	assert_int_equal(iov_skip(&c, 0), 0);
	assert_int_equal(c.i, 0);
	assert_int_equal(iov_skip(&c, 2), 2);
	assert_int_equal(c.i, 0);
	assert_int_equal(c.off, 2);
	/* Exactly to the end of segment 0: the cursor moves to the next one. */
	assert_int_equal(iov_skip(&c, 2), 2);
	assert_int_equal(c.i, 1);
	assert_int_equal(c.off, 0);
	/* Across the empty segment into segment 2. */
	assert_int_equal(iov_skip(&c, 1), 1);
	assert_int_equal(c.i, 2);
	assert_int_equal(c.off, 1);
	assert_int_equal(iov_skip(&c, 4), 4);
	assert_int_equal(c.i, 3);
	assert_int_equal(c.off, 2);
	/* Past the end: only what is left. */
	assert_int_equal(iov_skip(&c, 100), 3);
	assert_int_equal(c.i, 4);
	assert_int_equal(iov_skip(&c, 1), 0);
}

static void
test_skip_then_read(void **state)
{
	static const size_t l[] = { 3, 3, 3, 3 };
	uint8_t buf[12], out[12];
	struct iovec v[4];
	struct iov_cursor c;

	(void)state;
	pattern(buf, sizeof(buf), 11);
	c = iov_cursor(v, split(buf, l, 4, v));
	assert_int_equal(iov_skip(&c, 5), 5);
	memset(out, 0, sizeof(out));
	assert_int_equal(iov_read(&c, out, 4), 4);
	assert_memory_equal(out, buf + 5, 4);
	assert_int_equal(iov_read(&c, out, sizeof(out)), 3);
	assert_memory_equal(out, buf + 9, 3);
	assert_int_equal(iov_read(&c, out, sizeof(out)), 0);
}

static void
test_write_read_roundtrip(void **state)
{
	static const size_t l[] = { 1, 0, 2, 7, 0, 3 };
	uint8_t flat[13], in[13], out[13];
	struct iovec v[6];
	struct iov_cursor w, r;

	(void)state;
	memset(flat, 0, sizeof(flat));
	pattern(in, sizeof(in), 17);
	w = iov_cursor(v, split(flat, l, 6, v));
	assert_int_equal(iov_write(&w, in, 5), 5);
	assert_int_equal(iov_write(&w, in + 5, 8), 8);
	assert_memory_equal(flat, in, 13);
	assert_int_equal(iov_write(&w, in, 1), 0);     /* destination full */
	r = iov_cursor(v, 6);
	memset(out, 0, sizeof(out));
	assert_int_equal(iov_read(&r, out, 13), 13);
	assert_memory_equal(out, in, 13);
}

static void
test_write_truncates(void **state)
{
	static const size_t l[] = { 2, 2 };
	uint8_t flat[6] = { 0 }, in[6] = { 1, 2, 3, 4, 5, 6 };
	struct iovec v[2];
	struct iov_cursor w;

	(void)state;
	w = iov_cursor(v, split(flat, l, 2, v));
	assert_int_equal(iov_write(&w, in, 6), 4);
	assert_memory_equal(flat, in, 4);
	assert_int_equal(flat[4], 0);              /* past the array: untouched */
}

/* iov_peek: every (offset, length) of a 12-byte frame in pieces of 3, 0, 5
 * and 4 bytes gives the frame's bytes, pointing into the piece when one
 * holds them all and copied into the caller's buffer when they span pieces;
 * anything reaching past the frame gives NULL. */
static void
test_peek(void **state)
{
	static const size_t l[] = { 3, 0, 5, 4 };
	uint8_t flat[12], buf[12];
	struct iovec v[4];
	unsigned n;

	(void)state;
	pattern(flat, sizeof(flat), 9);
	n = split(flat, l, 4, v);
	for (size_t off = 0; off <= sizeof(flat); off++)
		for (size_t len = 1; len <= sizeof(flat); len++) {
			const uint8_t *p = iov_peek(v, n, off, len, buf);
			bool one_piece = (off < 3 && off + len <= 3) ||
			                 (off >= 3 && off < 8 && off + len <= 8) ||
			                 (off >= 8 && off + len <= 12);

			if (off + len > sizeof(flat)) {
				assert_null(p);
				continue;
			}
			assert_non_null(p);
			assert_memory_equal(p, flat + off, len);
			assert_true(one_piece ? p == flat + off : p == buf);
		}
	assert_null(iov_peek(v, 0, 0, 1, buf));
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_copy_mismatched),
		cmocka_unit_test(test_copy_partial_then_resume),
		cmocka_unit_test(test_copy_zero_len_segments),
		cmocka_unit_test(test_copy_len_zero),
		cmocka_unit_test(test_copy_dst_runs_out),
		cmocka_unit_test(test_copy_src_runs_out),
		cmocka_unit_test(test_copy_empty_arrays),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_skip_then_read),
		cmocka_unit_test(test_write_read_roundtrip),
		cmocka_unit_test(test_write_truncates),
		cmocka_unit_test(test_peek),
	};

	return cmocka_run_group_tests_name("virtio_iov", t, NULL, NULL);
}
