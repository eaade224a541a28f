/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/backend/test_resume.c - backend/resume.c: a position saved for a
 * packed ring is found again by the next process for that very ring only
 * (same guest memory file, areas and size), never after a clean stop
 * (forget), never for another vring; a file of another layout starts empty;
 * the file stays while a successor needs it and goes when nothing in it
 * does; one process holds it at a time; a file that is not ours alone (a
 * link, others' permissions) is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "backend/resume.h"

static char sock[64];

static const struct be_ring_id ring_a = { .file_id = 77, .desc_gpa = 0x1000,
                                          .driver_gpa = 0x3000, .device_gpa = 0x4000,
                                          .size = 256 };

static int
setup(void **state)
{
	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/vhostmq-test-resume-%d.sock", getpid());
	return 0;
}

static void
test_survives_a_crash(void **state)
{
	char why[200] = "";
	struct be_resume *r = be_resume_open(sock, 8, why, sizeof(why));
	struct be_ring_id other = ring_a;
	uint16_t *p, base = 0;
	char path[64];

	(void)state;
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", be_resume_path(r));
	assert_false(be_resume_find(r, 3, &ring_a, &base));
	p = be_resume_claim(r, 3, &ring_a, 0x8000);
	assert_non_null(p);
	*p = 0x8000 | 44;                    /* what the poll thread publishes */
	assert_null(be_resume_claim(r, 8, &ring_a, 0));   /* beyond the file */
	be_resume_close(r);                  /* a ring was running: kept */
	assert_int_equal(access(path, F_OK), 0);

	r = be_resume_open(sock, 8, why, sizeof(why));
	assert_non_null(r);
	assert_true(be_resume_find(r, 3, &ring_a, &base));
	assert_int_equal(base, 0x8000 | 44);
	assert_false(be_resume_find(r, 2, &ring_a, &base));     /* another vring */
	other.file_id = 78;                  /* another guest's memory */
	assert_false(be_resume_find(r, 3, &other, &base));
	other = ring_a;
	other.desc_gpa += 4096;              /* the driver placed it anew */
	assert_false(be_resume_find(r, 3, &other, &base));
	other = ring_a;
	other.size = 512;
	assert_false(be_resume_find(r, 3, &other, &base));
	other.file_id = 0;                   /* not known: never matched */
	assert_false(be_resume_find(r, 3, &other, &base));
	be_resume_forget(r, 3);              /* GET_VRING_BASE */
	assert_false(be_resume_find(r, 3, &ring_a, &base));
	be_resume_close(r);                  /* nothing left to keep */
	assert_int_equal(access(path, F_OK), -1);
}

/* Another vring count is another layout: nothing from before is used. */
static void
test_other_layout_starts_empty(void **state)
{
	char why[200] = "";
	struct be_resume *r = be_resume_open(sock, 8, why, sizeof(why));
	uint16_t base;

	(void)state;
	assert_non_null(r);
	*be_resume_claim(r, 1, &ring_a, 5) = 5;
	be_resume_close(r);
	r = be_resume_open(sock, 16, why, sizeof(why));
	assert_non_null(r);
	assert_false(be_resume_find(r, 1, &ring_a, &base));
	be_resume_close(r);
}

/* One process at a time: a second vhostmq on the same socket runs without
 * (it would overwrite the first one's positions); and a file others may
 * read or write is not used. */
static void
test_one_owner(void **state)
{
	char why[200] = "", path[64];
	struct be_resume *r = be_resume_open(sock, 8, why, sizeof(why)), *r2;

	(void)state;
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", be_resume_path(r));
	r2 = be_resume_open(sock, 8, why, sizeof(why));
	assert_null(r2);
	assert_non_null(strstr(why, "in use by another vhostmq"));
	*be_resume_claim(r, 0, &ring_a, 1) = 1;   /* kept at close */
	be_resume_close(r);
	assert_int_equal(chmod(path, 0644), 0);
	assert_null(be_resume_open(sock, 8, why, sizeof(why)));
	assert_non_null(strstr(why, "not a file of this user's alone"));
	unlink(path);
}

/* A link in /dev/shm where the file goes is not followed. */
static void
test_refuses_a_link(void **state)
{
	char why[200] = "", path[64];
	struct be_resume *r = be_resume_open(sock, 8, why, sizeof(why));

	(void)state;
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", be_resume_path(r));
	be_resume_close(r);
	assert_int_equal(symlink("/tmp/nowhere-vhostmq", path), 0);
	r = be_resume_open(sock, 8, why, sizeof(why));
	unlink(path);
	assert_null(r);
	assert_non_null(strstr(why, path));
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_survives_a_crash),
		cmocka_unit_test(test_other_layout_starts_empty),
		cmocka_unit_test(test_one_owner),
		cmocka_unit_test(test_refuses_a_link),
	};

	return cmocka_run_group_tests_name("backend_resume", t, setup, NULL);
}
