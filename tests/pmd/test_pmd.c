/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_pmd.c - the poll thread life cycle of pmd/pmd.c through its
 * public API, with plans whose entries poll a fake port that only counts
 * visits (per port queue, and the CPU each ran on): a started thread is
 * named, pinned, and runs the plan last published; pmd_publish() returns only
 * after the visit that still held the old plan finished, and with the old
 * plan freed; a sleeping thread wakes for a new plan and for a watched
 * eventfd, not for an unwatched one; pmd_stop() ends a sleeping thread
 * promptly and leaves no fd behind; a core the thread cannot run on fails
 * pmd_start() cleanly. The test thread is not an RCU reader, as vhostmq's
 * control thread is not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include "pmd/pmd.h"
#include "pmd/port.h"
#include "common/base.h"
#include "tests/task.h"
#include "tests/wait.h"
#include "tests/pmd/eal_test.h"
#ifdef __SANITIZE_ADDRESS__
/* The sanitizer runtime's own (sanitizer/allocator_interface.h, which gcc
 * does not install): whether p is a live allocation. */
int __sanitizer_get_ownership(const volatile void *p);
#endif

#define NQ 4

/* A port whose RX queues are always empty; each rx call is a visit of the
 * plan entry that polls that queue. Written by the poll thread, read by the
 * test: atomics. */
struct fake_port {
	struct pmd_port port;
	uint64_t visits[NQ];
	int cpu[NQ];                     /* where the last visit ran */
	/* One visit of queue stall_q takes STALL_MS: inside is set when it
	 * starts, left when it ends. */
	bool stall;
	int stall_q;
	bool inside, left;
};

#define STALL_MS 100

static struct fake_port fport;
static struct pmd_qp_state qstate[NQ];
static struct pmd_steer steer;           /* one RX queue enabled: rx is called */
static unsigned last_cpu;


static uint16_t
fp_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	struct fake_port *f = (struct fake_port *)p;

	(void)m;
	(void)n;
	__atomic_store_n(&f->cpu[q], sched_getcpu(), __ATOMIC_RELAXED);
	__atomic_fetch_add(&f->visits[q], 1, __ATOMIC_RELEASE);
	if (q == __atomic_load_n(&f->stall_q, __ATOMIC_ACQUIRE) &&
	    __atomic_exchange_n(&f->stall, false, __ATOMIC_ACQ_REL)) {
		__atomic_store_n(&f->inside, true, __ATOMIC_RELEASE);
		usleep(STALL_MS * 1000);
		__atomic_store_n(&f->left, true, __ATOMIC_RELEASE);
	}
	return 0;
}

static uint16_t
fp_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	(void)p;
	(void)q;
	(void)m;
	(void)n;
	return 0;
}

static uint16_t
fp_tx_room(struct pmd_port *p, uint16_t q)
{
	(void)p;
	(void)q;
	return UINT16_MAX;
}

static void
fp_free(struct pmd_port *p)
{
	(void)p;
}

static const struct pmd_port_ops fp_ops = {
	.rx = fp_rx, .tx = fp_tx, .tx_room = fp_tx_room, .free = fp_free,
};

static uint64_t
visits(unsigned q)
{
	return __atomic_load_n(&fport.visits[q], __ATOMIC_ACQUIRE);
}

/* A plan polling port queues qs[0..n). */
static struct pmd_plan *
plan_of(const unsigned *qs, uint32_t n)
{
	struct pmd_plan *plan = pmd_plan_new(n, 0);

	assert_non_null(plan);
	assert_int_equal(plan->n, n);
	for (uint32_t k = 0; k < n; k++)
		plan->q[k] = (struct pmd_qp){
			.rx.call_fd = -1, .rx.err_fd = -1, .tx.call_fd = -1, .tx.err_fd = -1,
			.port = &fport.port, .port_txq = (uint16_t)qs[k], .port_rxq = (uint16_t)qs[k],
			.port_rxq_step = NQ, .burst = PMD_BURST, .burst_bytes = PMD_TX_BYTE_BUDGET,
			.st = &qstate[qs[k]],
			.dev_name = "test", .qp = (uint16_t)qs[k], .steer = &steer,
		};
	return plan;
}

/* --- the thread as /proc shows it -------------------------------------------- */

/* The tid of the poll thread of core, or -1. */
static int
pmd_tid(unsigned core)
{
	char name[16];

	snprintf(name, sizeof(name), "vhostmq-pmd%u", core);
	return task_by_name(name);
}

/* The value of "key:" in the thread's status file, as a string. */
static void
task_status(int tid, const char *key, char *out, size_t cap)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(out, cap, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(f);
}

static unsigned long
task_vcsw(int tid)
{
	char v[32];

	task_status(tid, "voluntary_ctxt_switches", v, sizeof(v));
	return strtoul(v, NULL, 10);
}

/* Entries of a /proc/self directory: open fds (fd), threads (task). */
static unsigned
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#define count_fds() count_entries("/proc/self/fd")
#define count_threads() count_entries("/proc/self/task")

/* Asleep: blocked ('S') and not switching for a while, twice in a row. */
static bool
task_asleep(int tid)
{
	char st[32];
	unsigned long v0 = task_vcsw(tid);

	usleep(30000);
	task_status(tid, "State", st, sizeof(st));
	return st[0] == 'S' && task_vcsw(tid) == v0;
}

/* --- tests ---------------------------------------------------------------- */

static struct pmd *cur;                  /* stopped by the teardown */

static struct pmd *
start(bool busy)
{
	const struct pmd_params pp = { .core = last_cpu, .busy = busy, .idle_us = 50 };
	char why[256] = "";

	cur = pmd_start(&pp, why, sizeof(why));
	if (cur == NULL)
		fail_msg("pmd_start: %s", why);
	return cur;
}

static int
setup(void **state)
{
	(void)state;
	memset(fport.visits, 0, sizeof(fport.visits));
	for (unsigned q = 0; q < NQ; q++)
		fport.cpu[q] = -1;
	fport.stall = fport.inside = fport.left = false;
	fport.stall_q = -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pmd_stop(cur);
	cur = NULL;
	return 0;
}

/* Both modes: a named thread pinned to its core, two fds (its epoll and its
 * wake eventfd), all gone after pmd_stop(), which also ends an adaptive
 * thread asleep with nothing to wait for. */
static void
test_start_stop(void **state)
{
	char want_cpus[16], cpus[64];

	(void)state;
	snprintf(want_cpus, sizeof(want_cpus), "%u", last_cpu);
	for (int busy = 0; busy < 2; busy++) {
		unsigned fds = count_fds(), threads = count_threads();
		struct pmd *p = start(busy);
		uint64_t t0;
		int tid;

		assert_int_equal(pmd_core(p), last_cpu);
		assert_int_equal(count_fds(), fds + 2);
		assert_int_equal(count_threads(), threads + 1);
		tid = pmd_tid(last_cpu);
		assert_true(tid > 0);
		task_status(tid, "Cpus_allowed_list", cpus, sizeof(cpus));
		assert_string_equal(cpus, want_cpus);
		if (!busy)
			assert_true(WAIT_UNTIL(task_asleep(tid), 2000));
		t0 = now_ms();
		pmd_stop(p);
		cur = NULL;
		assert_true(now_ms() - t0 < 1000);
		assert_int_equal(pmd_tid(last_cpu), -1);
		assert_int_equal(count_threads(), threads);
		assert_int_equal(count_fds(), fds);
	}
	pmd_stop(NULL);
}

/* A core no thread can run on: NULL, the reason, nothing left over. */
static void
test_start_bad_core(void **state)
{
	const struct pmd_params pp = { .core = CPU_SETSIZE - 1, .idle_us = 50 };
	unsigned fds = count_fds(), threads = count_threads();
	char why[256] = "";

	(void)state;
	assert_null(pmd_start(&pp, why, sizeof(why)));
	assert_string_equal(why, "pmd core 1023: cannot pin to core 1023: Invalid argument");
	assert_int_equal(count_fds(), fds);
	assert_int_equal(count_threads(), threads);
}

static void
test_plan_new(void **state)
{
	static const struct pmd_qp zero;
	struct pmd_plan *p0 = pmd_plan_new(0, 0), *p3 = pmd_plan_new(3, 0);

	(void)state;
	assert_non_null(p0);
	assert_int_equal(p0->n, 0);
	assert_non_null(p3);
	assert_int_equal(p3->n, 3);
	for (unsigned k = 0; k < 3; k++)
		assert_memory_equal(&p3->q[k], &zero, sizeof(zero));
	free(p0);
	free(p3);
}

/* Each published plan replaces the one before: once pmd_publish() returns,
 * entries of the old plan get no visit, those of the new one do, on the
 * thread's core. An empty plan stops all visits. */
static void
test_publish_swaps(void **state)
{
	static const unsigned a[] = { 0 }, bc[] = { 1, 2 };
	struct pmd *p = start(true);
	uint64_t v0, v1, v2;

	(void)state;
	usleep(10000);
	assert_int_equal(visits(0) + visits(1) + visits(2) + visits(3), 0);  /* empty */
	pmd_publish(p, plan_of(a, 1));
	assert_true(WAIT_UNTIL(visits(0) > 10, 1000));
	assert_int_equal(__atomic_load_n(&fport.cpu[0], __ATOMIC_RELAXED), (int)last_cpu);

	pmd_publish(p, plan_of(bc, 2));
	v0 = visits(0);
	assert_true(WAIT_UNTIL(visits(1) > 10 && visits(2) > 10, 1000));
	assert_int_equal(visits(0), v0);
	assert_int_equal(visits(3), 0);

	pmd_publish(p, pmd_plan_new(0, 0));
	v1 = visits(1);
	v2 = visits(2);
	usleep(20000);
	assert_int_equal(visits(0), v0);
	assert_int_equal(visits(1), v1);
	assert_int_equal(visits(2), v2);
}

/* The grace period: published while the thread is inside a visit of the old
 * plan, pmd_publish() returns only after that visit ended, and the old plan
 * is freed by then (ASan: a thread that still read it would be a
 * use-after-free; the allocator says it is no longer ours). */
static void
test_publish_waits_for_visit(void **state)
{
	static const unsigned a[] = { 0, 1 };
	struct pmd *p = start(true);
	struct pmd_plan *old = plan_of(a, 2);
	uint64_t t0;

	(void)state;
	pmd_publish(p, old);
	assert_true(WAIT_UNTIL(visits(1) > 0, 1000));
	__atomic_store_n(&fport.stall_q, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fport.stall, true, __ATOMIC_RELEASE);
	assert_true(WAIT_UNTIL(__atomic_load_n(&fport.inside, __ATOMIC_ACQUIRE), 1000));
	t0 = now_ms();
	pmd_publish(p, pmd_plan_new(0, 0));
	assert_true(__atomic_load_n(&fport.left, __ATOMIC_ACQUIRE));
	assert_true(now_ms() - t0 < STALL_MS + 1000);
#ifdef __SANITIZE_ADDRESS__
	assert_false(__sanitizer_get_ownership(old));
#endif
}

/* An adaptive thread asleep with an empty plan (nothing to time out for)
 * sees a new plan at once: pmd_publish() wakes it. */
static void
test_publish_wakes_sleeper(void **state)
{
	static const unsigned a[] = { 3 };
	struct pmd *p = start(false);
	int tid = pmd_tid(last_cpu);

	(void)state;
	assert_true(WAIT_UNTIL(task_asleep(tid), 2000));
	pmd_publish(p, plan_of(a, 1));
	assert_true(WAIT_UNTIL(visits(3) > 0, 1000));
}

/* A watched eventfd wakes the sleeping thread once per write (edge
 * triggered: it never reads kick fds), an unwatched one does not; the
 * same fd twice or a closed fd are refused. */
static void
test_watch_fd_wakes(void **state)
{
	struct pmd *p = start(false);
	int tid = pmd_tid(last_cpu);
	int other = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned long v;

	(void)state;
	assert_true(other >= 0 && kick >= 0);
	assert_true(WAIT_UNTIL(task_asleep(tid), 2000));

	v = task_vcsw(tid);
	assert_int_equal(eventfd_write(other, 1), 0);
	usleep(50000);
	assert_int_equal(task_vcsw(tid), v);                     /* slept through it */

	assert_int_equal(pmd_watch_fd(p, kick), 0);
	assert_true(WAIT_UNTIL(task_asleep(tid), 2000));
	v = task_vcsw(tid);
	assert_int_equal(eventfd_write(kick, 1), 0);
	assert_true(WAIT_UNTIL(task_vcsw(tid) > v, 1000));      /* woke */
	assert_true(WAIT_UNTIL(task_asleep(tid), 2000));        /* and sleeps again */
	v = task_vcsw(tid);
	assert_int_equal(eventfd_write(kick, 1), 0);
	assert_true(WAIT_UNTIL(task_vcsw(tid) > v, 1000));      /* each write */

	assert_int_equal(pmd_watch_fd(p, kick), -EEXIST);
	assert_int_equal(pmd_watch_fd(p, 1000), -EBADF);

	pmd_unwatch_fd(p, kick);
	assert_true(WAIT_UNTIL(task_asleep(tid), 2000));
	v = task_vcsw(tid);
	assert_int_equal(eventfd_write(kick, 1), 0);
	usleep(50000);
	assert_int_equal(task_vcsw(tid), v);
	close(kick);
	close(other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static int
group_setup(void **state)
{
	(void)state;
	fport.port = (struct pmd_port){ .ops = &fp_ops, .kind = "fake", .nrxq = NQ, .ntxq = NQ };
	steer.mode = PMD_STEER_RSS;
	steer.rss.n_enabled = 1;
	return et_eal_init("test-pmd", &last_cpu);
}

static int
group_teardown(void **state)
{
	(void)state;
	return rte_eal_cleanup() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		T(test_start_stop),
		T(test_start_bad_core),
		T(test_plan_new),
		T(test_publish_swaps),
		T(test_publish_waits_for_visit),
		T(test_publish_wakes_sleeper),
		T(test_watch_fd_wakes),
	};

	return cmocka_run_group_tests_name("pmd", t, group_setup, group_teardown);
}
