/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_gmem.c - the guest memory table as a gate for frontend
 * data: one table row per gmem_new() rule breaking exactly that rule (with the
 * offending index it must report), then the lookups the datapath trusts:
 * clamping at a region end, buffers split across adjacent regions, misses
 * (holes, just below a region, past the end) returning NULL with length 0,
 * the one-region lookup of a buffer (gmem_cursor_whole()) from any hint,
 * the whole-range gpa and fva lookups, and gmem_read() across a boundary and
 * into a hole. Regions are backed by static arrays; nothing is mapped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/gmem.h"

#define KB UINT64_C(1024)

static uint8_t mem_a[64 * 1024], mem_b[64 * 1024], mem_c[16 * 1024];

static struct gmem_region
reg(uint64_t gpa, uint64_t fva, uint64_t size, void *hva)
{
	return (struct gmem_region){ .gpa = gpa, .fva = fva, .size = size, .hva = hva };
}

/* --- gmem_new(): one row per rule ------------------------------------------ */

struct new_case {
	const char *name;
	struct gmem_region r[GMEM_MAX_REGIONS + 1];
	uint32_t n;
	enum gmem_err want;
	uint32_t bad;                            /* checked only when want != OK */
};

#define R(g, f, s) { .gpa = (g), .fva = (f), .size = (s), .hva = mem_a }
#define R8 R(0x0000, 0x10000, 0x100), R(0x1000, 0x11000, 0x100), \
	R(0x2000, 0x12000, 0x100), R(0x3000, 0x13000, 0x100), \
	R(0x4000, 0x14000, 0x100), R(0x5000, 0x15000, 0x100), \
	R(0x6000, 0x16000, 0x100), R(0x7000, 0x17000, 0x100)

static const struct new_case new_cases[] = {
	{ "count 0", { R(0x1000, 0x1000, 0x1000) }, 0, GMEM_E_COUNT, 0 },
	{ "count == GMEM_MAX_REGIONS is fine", { R8 }, GMEM_MAX_REGIONS, GMEM_OK, 0 },
	{ "size 0 first", { R(0x1000, 0x1000, 0) }, 1, GMEM_E_EMPTY, 0 },
	{ "size 0 third", { R(0x0, 0x0, 0x100), R(0x1000, 0x1000, 0x100),
	                    R(0x2000, 0x2000, 0) }, 3, GMEM_E_EMPTY, 2 },
	{ "gpa + size wraps", { R(0x0, 0x0, 0x100),
	                        R(UINT64_MAX - 0xfff, 0x1000, 0x2000) }, 2, GMEM_E_WRAP, 1 },
	{ "gpa + size ends at 2^64", { R(UINT64_MAX - 0xfff, 0x1000, 0x1000) }, 1,
	  GMEM_E_WRAP, 0 },
	{ "gpa + size == UINT64_MAX is fine", { R(UINT64_MAX - 0x1000, 0x1000, 0x1000) },
	  1, GMEM_OK, 0 },
	{ "fva + size wraps", { R(0x1000, UINT64_MAX - 0x7ff, 0x1000) }, 1,
	  GMEM_E_WRAP, 0 },
	{ "hva + size wraps", { { .gpa = 0x1000, .fva = 0x1000, .size = 0x1000,
	                          .hva = (void *)(UINTPTR_MAX - 0x10) } }, 1,
	  GMEM_E_WRAP, 0 },
	{ "overlap: second starts inside first", { R(0x1000, 0x10000, 0x1000),
	                                           R(0x1800, 0x20000, 0x1000) }, 2,
	  GMEM_E_OVERLAP, 1 },
	{ "overlap: second ends inside first", { R(0x1000, 0x10000, 0x1000),
	                                         R(0x0800, 0x20000, 0x1000) }, 2,
	  GMEM_E_OVERLAP, 1 },
	{ "overlap: by one byte", { R(0x1000, 0x10000, 0x1000),
	                            R(0x1fff, 0x20000, 0x1000) }, 2, GMEM_E_OVERLAP, 1 },
	{ "overlap: last byte on first byte", { R(0x2000, 0x10000, 0x1000),
	                                        R(0x1001, 0x20000, 0x1000) }, 2,
	  GMEM_E_OVERLAP, 1 },
	{ "overlap: contained", { R(0x1000, 0x10000, 0x4000),
	                          R(0x2000, 0x20000, 0x1000) }, 2, GMEM_E_OVERLAP, 1 },
	{ "overlap: containing", { R(0x2000, 0x10000, 0x1000),
	                           R(0x1000, 0x20000, 0x4000) }, 2, GMEM_E_OVERLAP, 1 },
	{ "overlap: identical", { R(0x1000, 0x10000, 0x1000),
	                          R(0x1000, 0x10000, 0x1000) }, 2, GMEM_E_OVERLAP, 1 },
	{ "overlap: third with first", { R(0x1000, 0x10000, 0x1000),
	                                 R(0x4000, 0x20000, 0x1000),
	                                 R(0x1ffc, 0x30000, 0x10) }, 3,
	  GMEM_E_OVERLAP, 2 },
	{ "fva overlap: second starts inside first", { R(0x1000, 0x10000, 0x1000),
	                                               R(0x8000, 0x10800, 0x1000) }, 2,
	  GMEM_E_OVERLAP_FVA, 1 },
	{ "fva overlap: contained", { R(0x1000, 0x10000, 0x4000),
	                              R(0x8000, 0x11000, 0x1000) }, 2, GMEM_E_OVERLAP_FVA, 1 },
	{ "fva overlap: third with second", { R(0x1000, 0x10000, 0x1000),
	                                      R(0x4000, 0x20000, 0x1000),
	                                      R(0x9000, 0x1f001, 0x1000) }, 3,
	  GMEM_E_OVERLAP_FVA, 2 },
	{ "adjacent regions are fine", { R(0x1000, 0x10000, 0x1000),
	                                 R(0x2000, 0x20000, 0x1000),
	                                 R(0x0000, 0x30000, 0x1000) }, 3, GMEM_OK, 0 },
	{ "first broken rule wins", { R(0x1000, 0x10000, 0x1000), R(0x9000, 0x9000, 0),
	                              R(0x1000, 0x30000, 0x1000) }, 3, GMEM_E_EMPTY, 1 },
};

static void
test_new_case(void **state)
{
	const struct new_case *c = *state;
	struct gmem *m = (struct gmem *)&m;      /* must be overwritten */
	uint32_t bad = 0xdead;

	assert_int_equal(gmem_new(c->r, c->n, &m, &bad), c->want);
	if (c->want != GMEM_OK) {
		assert_null(m);
		assert_int_equal(bad, c->bad);
		return;
	}
	assert_non_null(m);
	assert_int_equal(m->n, c->n);
	/* The same regions, sorted by gpa. */
	for (uint32_t i = 0; i < c->n; i++) {
		uint32_t k = 0;

		while (k < m->n && memcmp(&m->r[k], &c->r[i], sizeof(c->r[i])) != 0)
			k++;
		assert_true(k < m->n);
		if (i > 0)
			assert_true(m->r[i - 1].gpa < m->r[i].gpa);
	}
	gmem_free(m);
}

/* GMEM_MAX_SLOTS regions (memory hotplug) are a table, in any order, and
 * every byte of each translates to its region's; one more is refused. A
 * lookup with a stale hint costs a binary search, not a scan. */
static void
test_count_limit(void **state)
{
	static struct gmem_region r[GMEM_MAX_SLOTS + 1];
	static uint8_t host[GMEM_MAX_SLOTS + 1][64];
	struct gmem *m;
	uint32_t bad, hint = 0;

	(void)state;
	for (uint32_t i = 0; i <= GMEM_MAX_SLOTS; i++) {
		/* Every 7th slot of a shuffled order: gpa not ascending. */
		uint64_t k = (uint64_t)(i * 7) % (GMEM_MAX_SLOTS + 1);

		r[i] = reg(0x100000 * (k + 1), 0x7f0000000000 + 0x100000 * k, 64, host[i]);
	}
	assert_int_equal(gmem_new(r, GMEM_MAX_SLOTS + 1, &m, &bad), GMEM_E_COUNT);
	assert_int_equal(bad, GMEM_MAX_SLOTS + 1);
	assert_null(m);
	assert_int_equal(gmem_new(r, GMEM_MAX_SLOTS, &m, &bad), GMEM_OK);
	for (uint32_t i = 0; i < GMEM_MAX_SLOTS; i++) {
		uint64_t len = 100;

		assert_ptr_equal(gmem_gpa_to_hva(m, r[i].gpa + 10, &len, &hint), host[i] + 10);
		assert_int_equal(len, 54);
		assert_int_equal(m->r[hint].gpa, r[i].gpa);
	}
	gmem_free(m);
}

static void
test_new_copies(void **state)
{
	struct gmem_region r[2] = { reg(0x1000, 0x5000, 0x100, mem_a),
	                            reg(0x8000, 0x9000, 0x200, mem_b) };
	struct gmem *m;
	uint32_t bad;

	(void)state;
	assert_int_equal(gmem_new(r, 2, &m, &bad), GMEM_OK);
	r[0].gpa = 0x77777;                     /* the table is a copy */
	assert_int_equal(m->r[0].gpa, 0x1000);
	assert_ptr_equal(m->r[1].hva, mem_b);
	gmem_free(m);
}

static void
test_strerror(void **state)
{
	static const enum gmem_err all[] = { GMEM_OK, GMEM_E_COUNT, GMEM_E_EMPTY,
	                                     GMEM_E_WRAP, GMEM_E_OVERLAP, GMEM_E_OVERLAP_FVA,
	                                     GMEM_E_NOMEM };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(all); k++) {
		assert_non_null(gmem_strerror(all[k]));
		assert_string_not_equal(gmem_strerror(all[k]), "unknown");
		for (size_t j = 0; j < k; j++)
			assert_string_not_equal(gmem_strerror(all[k]), gmem_strerror(all[j]));
	}
	assert_string_equal(gmem_strerror((enum gmem_err)99), "unknown");
}

/* --- lookups --------------------------------------------------------------- */

/* Region 0 [0x10000, +64K) and region 1 [0x20000, +64K) are adjacent in gpa
 * (not in hva); region 2 [0x40000, +16K) leaves a hole at [0x30000, 0x40000). */
static struct gmem *
three(void)
{
	const struct gmem_region r[3] = {
		reg(0x10000, 0x7f0000010000, 64 * KB, mem_a),
		reg(0x20000, 0x7f0000900000, 64 * KB, mem_b),
		reg(0x40000, 0x7f0000040000, 16 * KB, mem_c),
	};
	struct gmem *m;
	uint32_t bad;

	if (gmem_new(r, 3, &m, &bad) != GMEM_OK)
		return NULL;
	return m;
}

static void
test_translate_inside(void **state)
{
	struct gmem *m = three();
	uint64_t len = 100;
	uint32_t hint = 0;

	(void)state;
	assert_non_null(m);
	assert_ptr_equal(gmem_gpa_to_hva(m, 0x10000, &len, &hint), mem_a);
	assert_int_equal(len, 100);
	len = 16;
	assert_ptr_equal(gmem_gpa_to_hva(m, 0x40010, &len, &hint), mem_c + 0x10);
	assert_int_equal(len, 16);
	assert_int_equal(hint, 2);              /* cache updated to the region hit */
	gmem_free(m);
}

static void
test_translate_clamps_at_end(void **state)
{
	struct gmem *m = three();
	uint64_t len = 4096;
	uint32_t hint = 0;

	(void)state;
	assert_non_null(m);
	/* Region 2 ends at 0x44000; asking for 4 KiB from 0x43f00 gives 256 bytes. */
	assert_ptr_equal(gmem_gpa_to_hva(m, 0x43f00, &len, &hint), mem_c + 0x3f00);
	assert_int_equal(len, 0x100);
	len = UINT64_MAX;                       /* no overflow on huge lengths */
	assert_ptr_equal(gmem_gpa_to_hva(m, 0x43fff, &len, &hint), mem_c + 0x3fff);
	assert_int_equal(len, 1);
	gmem_free(m);
}

static void
test_translate_straddle(void **state)
{
	struct gmem *m = three();
	uint64_t gpa = 0x1ff00, left = 0x300, len;
	uint32_t hint = 0;
	void *p;

	(void)state;
	assert_non_null(m);
	len = left;
	p = gmem_gpa_to_hva(m, gpa, &len, &hint);
	assert_ptr_equal(p, mem_a + sizeof(mem_a) - 0x100);
	assert_int_equal(len, 0x100);
	gpa += len;
	left -= len;
	len = left;
	p = gmem_gpa_to_hva(m, gpa, &len, &hint);
	assert_ptr_equal(p, mem_b);             /* next region's hva, not mem_a's end */
	assert_int_equal(len, 0x200);
	assert_int_equal(hint, 1);
	gmem_free(m);
}

static void
test_translate_misses(void **state)
{
	static const uint64_t miss[] = {
		0x0, 0xffff,            /* below region 0; just below its start */
		0x30000, 0x3ffff,       /* hole between regions 1 and 2 */
		0x44000,                /* one past the last region */
		UINT64_MAX,
	};
	struct gmem *m = three();

	(void)state;
	assert_non_null(m);
	for (size_t k = 0; k < ARRAY_SIZE(miss); k++) {
		for (uint32_t hint = 0; hint < 5; hint++) {  /* valid and stale hints */
			uint64_t len = 64;
			uint32_t h = hint;

			assert_null(gmem_gpa_to_hva(m, miss[k], &len, &h));
			assert_int_equal(len, 0);
			assert_int_equal(h, hint);  /* a miss leaves the cache alone */
		}
	}
	gmem_free(m);
}

static void
test_translate_hints(void **state)
{
	struct gmem *m = three();
	uint32_t hints[] = { 0, 1, 2, 3, 7, UINT32_MAX };

	(void)state;
	assert_non_null(m);
	for (size_t k = 0; k < ARRAY_SIZE(hints); k++) {
		uint64_t len = 8;
		uint32_t h = hints[k];

		/* Any hint, stale or wrong, still finds region 1. */
		assert_ptr_equal(gmem_gpa_to_hva(m, 0x20008, &len, &h), mem_b + 8);
		assert_int_equal(len, 8);
		assert_int_equal(h, 1);
	}
	gmem_free(m);
}

/* gmem_cursor_whole(), the fast paths' lookup of a buffer that must lie in
 * one region: found from a cursor built on any hint, one past the table (a
 * hint left from a bigger table) included, and the cursor then holds its
 * region (so the next lookup there needs no search); a buffer that
 * reaches one byte into the adjacent region, into a hole or past the end,
 * starts below, or wraps, is NULL whatever the hint. The table is malloc'd to
 * its size, so ASan sees a stale hint read past it. */
static void
test_translate_whole(void **state)
{
	static const uint32_t hints[] = { 0, 1, 2, 3, 7, UINT32_MAX };
	static const struct {
		uint64_t gpa, len;
		uint8_t *want;
		uint32_t region;                 /* where the hint ends for a hit */
	} rows[] = {
		{ 0x10000, 64 * KB, mem_a, 0 },              /* the whole region */
		{ 0x1fff0, 16, mem_a + 64 * KB - 16, 0 },    /* to its last byte */
		{ 0x20000, 1, mem_b, 1 },                    /* the next one's first */
		{ 0x20008, 64 * KB - 8, mem_b + 8, 1 },
		{ 0x43fff, 1, mem_c + 0x3fff, 2 },
		{ 0x1fff0, 17, NULL, 0 },                    /* one byte into region 1 */
		{ 0x1ff00, 0x300, NULL, 0 },                 /* well across into it */
		{ 0x10000, 64 * KB + 1, NULL, 0 },
		{ 0x2fff0, 32, NULL, 0 },                    /* into the hole */
		{ 0x30000, 1, NULL, 0 },                     /* in the hole */
		{ 0xffff, 2, NULL, 0 },                      /* from just below region 0 */
		{ 0x43ff0, 17, NULL, 0 },                    /* past the last region */
		{ 0x44000, 1, NULL, 0 },
		{ 0x10000, UINT64_MAX, NULL, 0 },
		{ UINT64_MAX - 10, 100, NULL, 0 },           /* gpa + len wraps */
	};
	struct gmem *m = three();

	(void)state;
	assert_non_null(m);
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		for (size_t j = 0; j < ARRAY_SIZE(hints); j++) {
			struct gmem_cursor c = gmem_cursor(m, hints[j]);

			assert_ptr_equal(gmem_cursor_whole(m, &c, rows[k].gpa, rows[k].len),
			                 rows[k].want);
			if (rows[k].want != NULL) {
				const struct gmem_region *r = &m->r[rows[k].region];

				assert_int_equal(c.hint, rows[k].region);
				assert_true(c.gpa == r->gpa && c.size == r->size && c.hva == r->hva);
			} else {
				assert_true(c.hint == hints[j] || c.hint < m->n);
			}
		}
	}
	gmem_free(m);
}

static void
test_gpa_full(void **state)
{
	struct gmem *m = three();

	(void)state;
	assert_non_null(m);
	assert_ptr_equal(gmem_gpa_to_hva_full(m, 0x10000, 64 * KB), mem_a);
	assert_ptr_equal(gmem_gpa_to_hva_full(m, 0x1fff0, 16), mem_a + 64 * KB - 16);
	assert_null(gmem_gpa_to_hva_full(m, 0x1fff0, 17));  /* straddles 0 and 1 */
	assert_null(gmem_gpa_to_hva_full(m, 0x10000, 64 * KB + 1));
	assert_null(gmem_gpa_to_hva_full(m, 0x43ff0, 32));  /* runs off the end */
	assert_null(gmem_gpa_to_hva_full(m, 0x30000, 1));   /* hole */
	assert_null(gmem_gpa_to_hva_full(m, 0xffff, 2));    /* starts just below */
	assert_null(gmem_gpa_to_hva_full(m, 0x10000, UINT64_MAX));
	gmem_free(m);
}

static void
test_fva_full(void **state)
{
	struct gmem *m = three();

	(void)state;
	assert_non_null(m);
	assert_ptr_equal(gmem_fva_to_hva_full(m, 0x7f0000900000, 64 * KB), mem_b);
	assert_ptr_equal(gmem_fva_to_hva_full(m, 0x7f0000043ffe, 2), mem_c + 0x3ffe);
	assert_null(gmem_fva_to_hva_full(m, 0x7f0000043ffe, 3));
	assert_null(gmem_fva_to_hva_full(m, 0x7f000000ffff, 1));  /* just below */
	assert_null(gmem_fva_to_hva_full(m, 0x7f0000020000, 1));  /* one past region 0 */
	/* gpa values are not fva values. */
	assert_null(gmem_fva_to_hva_full(m, 0x10000, 1));
	assert_null(gmem_fva_to_hva_full(m, 0x7f0000010000, UINT64_MAX));
	gmem_free(m);
}

static void
test_read_across_boundary(void **state)
{
	struct gmem *m = three();
	uint8_t out[32];

	(void)state;
	assert_non_null(m);
	for (size_t k = 0; k < 16; k++) {
		mem_a[sizeof(mem_a) - 16 + k] = (uint8_t)(0xa0 + k);
		mem_b[k] = (uint8_t)(0xb0 + k);
	}
	memset(out, 0, sizeof(out));
	assert_int_equal(gmem_read(m, 0x1fff0, out, 32), 0);
	for (size_t k = 0; k < 16; k++) {
		assert_int_equal(out[k], 0xa0 + k);
		assert_int_equal(out[16 + k], 0xb0 + k);
	}
	assert_int_equal(gmem_read(m, 0x30000, out, 0), 0);  /* nothing to read */
	gmem_free(m);
}

static void
test_read_fails_on_hole(void **state)
{
	struct gmem *m = three();
	uint8_t out[32];

	(void)state;
	assert_non_null(m);
	assert_int_equal(gmem_read(m, 0x2fff0, out, 32), -1);   /* runs into hole */
	assert_int_equal(gmem_read(m, 0x3fff0, out, 32), -1);   /* starts in hole */
	assert_int_equal(gmem_read(m, 0x43ff0, out, 17), -1);   /* past the end */
	assert_int_equal(gmem_read(m, 0x43ff0, out, 16), 0);    /* exactly to it */
	gmem_free(m);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_new_copies),
	cmocka_unit_test(test_count_limit),
	cmocka_unit_test(test_strerror),
	cmocka_unit_test(test_translate_inside),
	cmocka_unit_test(test_translate_clamps_at_end),
	cmocka_unit_test(test_translate_straddle),
	cmocka_unit_test(test_translate_misses),
	cmocka_unit_test(test_translate_hints),
	cmocka_unit_test(test_translate_whole),
	cmocka_unit_test(test_gpa_full),
	cmocka_unit_test(test_fva_full),
	cmocka_unit_test(test_read_across_boundary),
	cmocka_unit_test(test_read_fails_on_hole),
};

int
main(void)
{
	struct CMUnitTest t[ARRAY_SIZE(new_cases) + ARRAY_SIZE(fixed_tests)];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(new_cases); k++)
		t[n++] = (struct CMUnitTest){ .name = new_cases[k].name,
		                              .test_func = test_new_case,
		                              .initial_state = (void *)&new_cases[k] };
	for (size_t k = 0; k < ARRAY_SIZE(fixed_tests); k++)
		t[n++] = fixed_tests[k];
	return cmocka_run_group_tests_name("virtio_gmem", t, NULL, NULL);
}
