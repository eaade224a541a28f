/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/common/test_log.c - the rate limiter a device's rejection lines go
 * through: a repeated line is dropped while recent, distinct lines pass up to
 * the burst, and the next line that passes says how many were dropped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>
#include "common/log.h"

static void
test_repeats_dropped_and_counted(void **state)
{
	struct vlog_ratelimit rl = VLOG_RATELIMIT_INIT;
	unsigned missed = 99;

	(void)state;
	assert_true(vlog_ratelimit_ok(&rl, "SET_VRING_NUM: num: 3", &missed));
	assert_int_equal(missed, 0);
	for (int i = 0; i < 1000; i++)
		assert_false(vlog_ratelimit_ok(&rl, "SET_VRING_NUM: num: 3", &missed));
	/* A different line passes and carries the count of those dropped. */
	assert_true(vlog_ratelimit_ok(&rl, "SET_VRING_NUM: num: 5", &missed));
	assert_int_equal(missed, 1000);
	assert_true(vlog_ratelimit_ok(&rl, "SET_VRING_ADDR: index 9", &missed));
	assert_int_equal(missed, 0);
}

/* Lines that all differ (a frontend cycling through its bad messages) stop
 * at the burst. */
static void
test_burst_caps_distinct_lines(void **state)
{
	struct vlog_ratelimit rl = { .interval_s = 10, .burst = 5 };
	unsigned missed, passed = 0;
	char line[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line %d", i);
		passed += vlog_ratelimit_ok(&rl, line, &missed);
	}
	assert_int_equal(passed, 5);
	assert_int_equal(rl.missed, 95);
}

/* After the interval the same line may be logged again. */
static void
test_interval_expires(void **state)
{
	struct vlog_ratelimit rl = { .interval_s = 1, .burst = 10 };
	struct timespec pause = { 1, 100 * 1000 * 1000 };
	unsigned missed;

	(void)state;
	assert_true(vlog_ratelimit_ok(&rl, "again", &missed));
	assert_false(vlog_ratelimit_ok(&rl, "again", &missed));
	nanosleep(&pause, NULL);
	nanosleep(&pause, NULL);
	assert_true(vlog_ratelimit_ok(&rl, "again", &missed));
	assert_int_equal(missed, 1);
}

static void
test_no_limiter(void **state)
{
	unsigned missed = 7;

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true(vlog_ratelimit_ok(NULL, "x", &missed));
	assert_int_equal(missed, 0);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats_dropped_and_counted),
		cmocka_unit_test(test_burst_caps_distinct_lines),
		cmocka_unit_test(test_interval_expires),
		cmocka_unit_test(test_no_limiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
