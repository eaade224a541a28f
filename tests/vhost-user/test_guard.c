/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_guard.c - the SIGBUS guard with real memfds mapped by
 * vhu_mem_map(): a frontend that shrinks its file after the mapping costs a
 * zero page and one fault report (owner, region, file offset), not the
 * process; sealed files are noted; a SIGBUS outside guest memory, or one sent
 * with kill(), still kills; the registry frees its slots on unmap, refuses a
 * table when full without leaking a mapping; and the handler reads slots the
 * control thread is rewriting at the same time without a false hit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vhost-user/guard.h"
#include "vhost-user/mem.h"

#define PAGE 4096u

/* A memfd of npages pages; sealable when seal is set (then sealed against
 * shrinking). */
static int
memfd_pages(unsigned npages, bool seal)
{
	int fd = memfd_create("guard-test", MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0));

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)npages * PAGE), 0);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

/* One region of npages pages starting mmap_pages into the file. */
static struct gmem *
map_one(int fd, unsigned npages, unsigned mmap_pages)
{
	struct vhu_mem_region r = { .gpa = 0x100000, .size = (uint64_t)npages * PAGE,
	                            .fva = 0x7f0000000000, .mmap_offset = (uint64_t)mmap_pages * PAGE };
	struct gmem *m = NULL;
	char why[200] = "";

	if (vhu_mem_map(&r, &fd, 1, &m, why, sizeof(why)) != 0)
		fail_msg("vhu_mem_map: %s", why);
	return m;
}

/* cmocka catches SIGBUS around each test with a handler of its own (and
 * restores ours after): each test takes it back first, so a fault outside
 * guest memory still fails the test through cmocka. */
static void
arm(void)
{
	assert_int_equal(vhu_guard_install(), 0);
}

static bool
guard_fd_readable(void)
{
	struct pollfd p = { .fd = vhu_guard_fd(), .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static uint8_t
touch(const struct gmem *m, uint64_t off)
{
	return *(volatile uint8_t *)((uint8_t *)m->r[0].hva + off);
}

/* The frontend cuts its file to one page under a live mapping: the read
 * past it completes (zeros), and exactly one fault is reported, naming the
 * table, the region and the offset in the file. */
static void
test_shrunk_file_is_one_report(void **state)
{
	int fd = memfd_pages(8, false);
	struct gmem *m = map_one(fd, 8, 0);
	struct vhu_guard_fault f;

	(void)state;
	arm();
	memset(m->r[0].hva, 0xab, 8 * PAGE);
	assert_int_equal(vhu_mem_nsealed(m), 0);
	assert_false(guard_fd_readable());
	assert_int_equal(ftruncate(fd, PAGE), 0);
	assert_int_equal(touch(m, 0), 0xab);             /* the page that stayed */
	errno = 1234;
	assert_int_equal(touch(m, 5 * PAGE + 7), 0);     /* gone: a zero page */
	assert_int_equal(errno, 1234);                   /* the handler kept it */
	assert_int_equal(touch(m, 7 * PAGE), 0);         /* no second fault needed */
	assert_true(guard_fd_readable());
	assert_true(vhu_guard_next_fault(&f));
	assert_ptr_equal(f.owner, m);
	assert_int_equal(f.tag, 0);
	assert_int_equal(f.file_off, 5 * PAGE + 7);
	assert_false(f.sealed);
	assert_false(vhu_guard_next_fault(&f));          /* reported once */
	assert_false(guard_fd_readable());
	vhu_mem_unmap(m);
	close(fd);
}

/* The offset reported is the file's, also for a region that starts inside
 * the file; the second region of a table is named by its index. */
static void
test_offset_is_the_files(void **state)
{
	int fds[2] = { memfd_pages(4, false), memfd_pages(16, false) };
	struct vhu_mem_region r[2] = {
		{ .gpa = 0, .size = 4 * PAGE, .fva = 0x10000000, .mmap_offset = 0 },
		{ .gpa = 0x100000, .size = 4 * PAGE, .fva = 0x20000000, .mmap_offset = 9 * PAGE },
	};
	struct vhu_guard_fault f;
	struct gmem *m = NULL;
	char why[200] = "";

	(void)state;
	arm();
	assert_int_equal(vhu_mem_map(r, fds, 2, &m, why, sizeof(why)), 0);
	assert_int_equal(ftruncate(fds[1], 10 * PAGE), 0);
	assert_int_equal(*(volatile uint8_t *)((uint8_t *)m->r[1].hva + PAGE + 3), 0);
	assert_true(vhu_guard_next_fault(&f));
	assert_ptr_equal(f.owner, m);
	assert_int_equal(f.tag, 1);
	assert_int_equal(f.file_off, 10 * PAGE + 3);
	assert_false(vhu_guard_next_fault(&f));
	vhu_mem_unmap(m);
	close(fds[0]);
	close(fds[1]);
}

/* F_SEAL_SHRINK is noted per region: that file cannot be cut short. */
static void
test_sealed_region_is_noted(void **state)
{
	int fds[2] = { memfd_pages(4, true), memfd_pages(4, false) };
	struct vhu_mem_region r[2] = {
		{ .gpa = 0, .size = 4 * PAGE, .fva = 0x10000000 },
		{ .gpa = 0x100000, .size = 4 * PAGE, .fva = 0x20000000 },
	};
	struct gmem *m = NULL;
	char why[200] = "";
	bool sealed = false;

	(void)state;
	assert_int_equal(vhu_mem_map(r, fds, 2, &m, why, sizeof(why)), 0);
	assert_int_equal(vhu_mem_nsealed(m), 1);
	assert_true(vhu_guard_sealed(m, 0, &sealed));
	assert_true(sealed);
	assert_true(vhu_guard_sealed(m, 1, &sealed));
	assert_false(sealed);
	assert_int_equal(ftruncate(fds[0], PAGE), -1);   /* what the seal buys */
	assert_int_equal(errno, EPERM);
	vhu_mem_unmap(m);
	assert_false(vhu_guard_sealed(m, 0, &sealed));   /* slots went with it */
	close(fds[0]);
	close(fds[1]);
}

/* Runs fn in a child; returns its wait status. */
static int
in_child(void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* What vhostmq finds at start-up: the default action. */
		signal(SIGBUS, SIG_DFL);
		if (vhu_guard_install() != 0)
			_exit(4);
		fn();
		_exit(0);                /* survived: the test fails */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
child_touch_unguarded(void)
{
	int fd = memfd_pages(4, false);
	uint8_t *p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
		_exit(3);
	_exit(*(volatile uint8_t *)(p + PAGE));  /* not guest memory: dies here */
}

static void
child_raise(void)
{
	raise(SIGBUS);
}

/* What is not ours dies as it always did: a fault in memory no table owns,
 * and a SIGBUS sent by kill()/raise() (it has no faulting access). */
static void
test_other_sigbus_still_kills(void **state)
{
	int st;

	(void)state;
	st = in_child(child_touch_unguarded);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	st = in_child(child_raise);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
}

static size_t
count_maps(void)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* A full registry refuses a table (naming the guard) and leaves nothing
 * mapped; slots come back with vhu_guard_del(). */
static void
test_full_registry_refuses(void **state)
{
	static char fake[VHU_GUARD_SLOTS];
	const void *owner = &fake;
	int fd = memfd_pages(4, false);
	struct vhu_mem_region r = { .gpa = 0, .size = 4 * PAGE, .fva = 0x10000000 };
	struct gmem *m = NULL;
	char why[200] = "";
	size_t maps;

	(void)state;
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++)
		assert_int_equal(vhu_guard_add(owner, k, &fake[k], 1, 0, false), 0);
	assert_int_equal(vhu_guard_add(owner, 0, &fake[0], 1, 0, false), -ENOSPC);
	maps = count_maps();
	assert_int_equal(vhu_mem_map(&r, &fd, 1, &m, why, sizeof(why)), -ENOSPC);
	assert_null(m);
	assert_non_null(strstr(why, "SIGBUS guard"));
	assert_int_equal(count_maps(), maps);
	vhu_guard_del(owner);
	m = map_one(fd, 4, 0);
	vhu_mem_unmap(m);
	close(fd);
}

/* Faults on one thread while the control thread rewrites other slots: each
 * fault is found in its own slot, never in one being rewritten. */
#define RACE_TABLES 32

struct race {
	struct gmem *m[RACE_TABLES];
	int done;                        /* 1: all zeros read; -1: not */
};

static void *
race_toucher(void *arg)
{
	struct race *r = arg;
	unsigned sum = 0;

	for (unsigned k = 0; k < RACE_TABLES; k++)
		sum += touch(r->m[k], 2 * PAGE + k);
	__atomic_store_n(&r->done, sum == 0 ? 1 : -1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_faults_while_slots_change(void **state)
{
	static char fake[64];
	int fds[RACE_TABLES];
	struct race r = { .done = 0 };
	struct vhu_guard_fault f;
	bool seen[RACE_TABLES] = { false };
	unsigned nfaults = 0;
	pthread_t t;

	(void)state;
	arm();
	for (unsigned k = 0; k < RACE_TABLES; k++) {
		fds[k] = memfd_pages(4, false);
		r.m[k] = map_one(fds[k], 4, 0);
		assert_int_equal(ftruncate(fds[k], 0), 0);
	}
	assert_int_equal(pthread_create(&t, NULL, race_toucher, &r), 0);
	while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) == 0) {
		for (unsigned k = 0; k < sizeof(fake); k++)
			assert_int_equal(vhu_guard_add(fake, k, &fake[k], 1, 0, false), 0);
		vhu_guard_del(fake);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.done, 1);
	while (vhu_guard_next_fault(&f)) {
		unsigned k = 0;

		while (k < RACE_TABLES && r.m[k] != f.owner)
			k++;
		assert_true(k < RACE_TABLES);
		assert_false(seen[k]);
		assert_int_equal(f.file_off, 2 * PAGE + k);
		seen[k] = true;
		nfaults++;
	}
	assert_int_equal(nfaults, RACE_TABLES);
	for (unsigned k = 0; k < RACE_TABLES; k++) {
		vhu_mem_unmap(r.m[k]);
		close(fds[k]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrunk_file_is_one_report),
		cmocka_unit_test(test_offset_is_the_files),
		cmocka_unit_test(test_sealed_region_is_noted),
		cmocka_unit_test(test_other_sigbus_still_kills),
		cmocka_unit_test(test_full_registry_refuses),
		cmocka_unit_test(test_faults_while_slots_change),
	};

	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
