/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_rss_settings.c - the one gate for the operator's RSS
 * settings (virtio/rss_settings.c). Every rule has a row that breaks exactly
 * that rule on a 4-pair device and asserts the field, the entry and the exact
 * reason; the edges each rule allows pass. The config file and the control
 * API keep one row per class of these errors: here is where they are tested
 * in full. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/rss_settings.h"

#define NQP 4

struct bad_row {
	const char *name;
	void (*edit)(struct rss_settings *s);
	enum rss_field field;
	int32_t entry;
	const char *reason;
};

static void size_0(struct rss_settings *s) { s->table_size = 0; }
static void size_513(struct rss_settings *s) { s->table_size = 513; }
static void size_max(struct rss_settings *s) { s->table_size = UINT16_MAX; }
static void both(struct rss_settings *s)
{ s->n_weights = 1; s->weights[0] = 1; s->n_table = 128; }
static void weights_600(struct rss_settings *s) { s->n_weights = 600; s->weights[0] = 1; }
static void weights_past_pairs(struct rss_settings *s)
{ s->n_weights = 5; s->weights[0] = 1; }           /* weights[4] is 0: still refused */
static void weights_zero(struct rss_settings *s) { s->n_weights = NQP; }
static void weights_one_zero(struct rss_settings *s) { s->n_weights = 1; }
static void table_600(struct rss_settings *s) { s->n_table = 600; }
static void table_short(struct rss_settings *s) { s->n_table = 100; }
static void table_long(struct rss_settings *s) { s->table_size = 8; s->n_table = 9; }
static void table_entry(struct rss_settings *s) { s->n_table = 128; s->table[5] = 7; }
static void table_entry_edge(struct rss_settings *s)
{ s->n_table = 128; s->table[127] = NQP; }

static const struct bad_row bad_rows[] = {
	{ "table size 0", size_0, RSS_FIELD_TABLE_SIZE, -1, "must be an integer 1..512, got 0" },
	{ "table size 513", size_513, RSS_FIELD_TABLE_SIZE, -1,
	  "must be an integer 1..512, got 513" },
	{ "table size 65535", size_max, RSS_FIELD_TABLE_SIZE, -1,
	  "must be an integer 1..512, got 65535" },
	{ "weights and table", both, RSS_FIELD_TABLE, -1,
	  "give either a table or weights, not both" },
	{ "600 weights", weights_600, RSS_FIELD_WEIGHTS, -1, "has 600 entries, at most 512" },
	{ "weight past the last pair", weights_past_pairs, RSS_FIELD_WEIGHTS, 4,
	  "queue pair 4 does not exist (the device has pairs 0..3)" },
	{ "weights all 0", weights_zero, RSS_FIELD_WEIGHTS, -1,
	  "are all 0: no queue would receive" },
	{ "one weight, 0", weights_one_zero, RSS_FIELD_WEIGHTS, -1,
	  "are all 0: no queue would receive" },
	{ "600 table entries", table_600, RSS_FIELD_TABLE, -1, "has 600 entries, at most 512" },
	{ "table shorter than its size", table_short, RSS_FIELD_TABLE_SIZE, -1,
	  "is 128, but the table has 100 entries (leave the size out: it is the table's "
	  "length)" },
	{ "table longer than its size", table_long, RSS_FIELD_TABLE_SIZE, -1,
	  "is 8, but the table has 9 entries (leave the size out: it is the table's length)" },
	{ "table entry past the pairs", table_entry, RSS_FIELD_TABLE, 5,
	  "queue pair 7 does not exist (the device has pairs 0..3)" },
	{ "last table entry one past", table_entry_edge, RSS_FIELD_TABLE, 127,
	  "queue pair 4 does not exist (the device has pairs 0..3)" },
};

static void
test_bad(void **state)
{
	const struct bad_row *row = *state;
	struct rss_settings s, before;
	struct rss_settings_err err;

	rss_settings_default(&s);
	row->edit(&s);
	before = s;
	memset(&err, 0xa5, sizeof(err));
	assert_int_equal(rss_settings_check(&s, NQP, &err), -1);
	assert_int_equal(err.field, row->field);
	assert_int_equal(err.entry, row->entry);
	assert_string_equal(err.reason, row->reason);
	assert_memory_equal(&s, &before, sizeof(s));       /* the check only reads */
	assert_int_equal(rss_settings_check(&s, NQP, NULL), -1);   /* no err: allowed */
}

static void
test_defaults(void **state)
{
	static const uint8_t ms_key[8] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2 };
	struct rss_settings s;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	rss_settings_default(&s);
	assert_memory_equal(s.key, rss_default_key, RSS_KEY_LEN);
	assert_memory_equal(s.key, ms_key, sizeof(ms_key));
	assert_int_equal(s.table_size, RSS_TABLE_DEFAULT);
	assert_int_equal(s.n_weights, 0);
	assert_int_equal(s.n_table, 0);
	assert_int_equal(rss_settings_check(&s, NQP, NULL), 0);
	assert_int_equal(rss_settings_check(&s, 1, NULL), 0);
	assert_int_equal(rss_settings_check(&s, 0, NULL), 0);   /* nothing names a pair */
}

/* The edges every rule allows. */
static void
test_good(void **state)
{
	struct rss_settings s;
	struct rss_settings_err err;

	(void)state;
	rss_settings_default(&s);
	s.table_size = RSS_TABLE_MIN;
	assert_int_equal(rss_settings_check(&s, NQP, &err), 0);
	s.table_size = RSS_TABLE_MAX;
	assert_int_equal(rss_settings_check(&s, NQP, &err), 0);
	/* One weight per pair, zeros allowed while one is not. */
	s.n_weights = NQP;
	s.weights[NQP - 1] = UINT16_MAX;
	assert_int_equal(rss_settings_check(&s, NQP, &err), 0);
	/* Fewer weights than pairs: the rest get none. */
	s.n_weights = 1;
	s.weights[0] = 1;
	assert_int_equal(rss_settings_check(&s, NQP, &err), 0);
	/* A full table naming the last pair. */
	rss_settings_default(&s);
	s.table_size = RSS_TABLE_MAX;
	s.n_table = RSS_TABLE_MAX;
	for (uint16_t i = 0; i < RSS_TABLE_MAX; i++)
		s.table[i] = (uint16_t)(i % NQP);
	s.table[RSS_TABLE_MAX - 1] = NQP - 1;
	assert_int_equal(rss_settings_check(&s, NQP, &err), 0);
	/* A one-entry table. */
	s.table_size = 1;
	s.n_table = 1;
	assert_int_equal(rss_settings_check(&s, 1, &err), 0);
}

int
main(void)
{
	struct CMUnitTest t[ARRAY_SIZE(bad_rows) + 2];

	for (size_t k = 0; k < ARRAY_SIZE(bad_rows); k++)
		t[k] = (struct CMUnitTest){ .name = bad_rows[k].name, .test_func = test_bad,
		                            .initial_state = (void *)&bad_rows[k] };
	t[ARRAY_SIZE(bad_rows)] = (struct CMUnitTest)cmocka_unit_test(test_defaults);
	t[ARRAY_SIZE(bad_rows) + 1] = (struct CMUnitTest)cmocka_unit_test(test_good);
	return cmocka_run_group_tests_name("virtio_rss_settings", t, NULL, NULL);
}
