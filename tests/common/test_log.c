/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/common/test_log.c - the rate limiter a device's rejection lines go
 * through: a repeated line is dropped while recent, distinct lines pass up to
 * the burst, and the next line that passes says how many were dropped. And
 * the line prefix: a syslog priority when stderr is the journal (systemd's
 * JOURNAL_STREAM names fd 2), the time otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
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

/* Logs one line per level with stderr on a fresh temporary file, after
 * setting JOURNAL_STREAM by set_env (NULL: unset), and returns what was
 * written (malloc'd). *journal: what vlog_detect_sink() said. */
static char *
log_levels_to_file(void (*set_env)(const struct stat *), bool *journal)
{
	char path[] = "/tmp/vhostmq-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;
	char *text = calloc(1, 4096);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && text != NULL);
	unlink(path);
	assert_int_equal(fstat(fd, &st), 0);
	if (set_env != NULL)
		set_env(&st);
	else
		unsetenv("JOURNAL_STREAM");
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	*journal = vlog_detect_sink();
	vlog_set_level(VLOG_DEBUG);
	vlog_err("e %d", 1);
	vlog_warn("w %d", 2);
	vlog_info("i %d", 3);
	vlog_debug("d %d", 4);
	vlog_set_level(VLOG_INFO);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	vlog_detect_sink();
	n = pread(fd, text, 4095, 0);
	assert_true(n > 0);
	close(fd);
	return text;
}

static void
env_this_file(const struct stat *st)
{
	char v[64];

	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st->st_dev,
	         (unsigned long long)st->st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

/* Inherited from a parent whose stderr was the journal, but ours is not. */
static void
env_other_inode(const struct stat *st)
{
	char v[64];

	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st->st_dev,
	         (unsigned long long)st->st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
}

static void
env_trailing_junk(const struct stat *st)
{
	char v[64];

	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st->st_dev,
	         (unsigned long long)st->st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

static void
test_journal_lines_carry_priority(void **state)
{
	bool journal;
	char *text = log_levels_to_file(env_this_file, &journal);

	(void)state;
	assert_true(journal);
	assert_string_equal(text, "<3>e 1\n<4>w 2\n<6>i 3\n<7>d 4\n");
	free(text);
}

/* Not the journal: each line starts with the time ("hh:mm:ss.mmm vhostmq
 * LEVEL: "), never with a priority. */
static void
check_plain(void (*set_env)(const struct stat *))
{
	static const char *const want[] = { "ERR: e 1", "WARN: w 2", "INFO: i 3",
	                                    "DEBUG: d 4" };
	bool journal = true;
	char *text = log_levels_to_file(set_env, &journal), *line, *save = NULL;
	unsigned k = 0;

	assert_false(journal);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), k++) {
		unsigned hh, mm, ss, ms;
		int at = 0;

		assert_true(k < 4);
		assert_int_equal(sscanf(line, "%2u:%2u:%2u.%3u vhostmq %n", &hh, &mm, &ss,
		                        &ms, &at), 4);
		assert_true(at > 0);
		assert_string_equal(line + at, want[k]);
	}
	assert_int_equal(k, 4);
	free(text);
}

static void
test_no_journal_stream(void **state)
{
	(void)state;
	check_plain(NULL);
}

static void
test_journal_stream_of_another_file(void **state)
{
	(void)state;
	check_plain(env_other_inode);
}

static void
test_journal_stream_malformed(void **state)
{
	(void)state;
	check_plain(env_trailing_junk);
	setenv("JOURNAL_STREAM", "", 1);
	assert_false(vlog_detect_sink());
	setenv("JOURNAL_STREAM", "12", 1);
	assert_false(vlog_detect_sink());
	unsetenv("JOURNAL_STREAM");
	assert_false(vlog_detect_sink());
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats_dropped_and_counted),
		cmocka_unit_test(test_burst_caps_distinct_lines),
		cmocka_unit_test(test_interval_expires),
		cmocka_unit_test(test_no_limiter),
		cmocka_unit_test(test_journal_lines_carry_priority),
		cmocka_unit_test(test_no_journal_stream),
		cmocka_unit_test(test_journal_stream_of_another_file),
		cmocka_unit_test(test_journal_stream_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
