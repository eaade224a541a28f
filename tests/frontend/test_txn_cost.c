/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_txn_cost.c - what one vhost-user message costs the poll
 * threads: a real vhostmq serving a 16-pair device on an ethdev port (so RX
 * ring changes also rebuild its RSS table) on two poll threads, driven by the
 * test frontend in QEMU's order. Each message is one transaction: SET_MEM_TABLE
 * and SET_FEATURES on the running device, one SET_VRING_ENABLE, and the burst
 * of SET_VRING_ENABLE that QEMU sends for `ethtool -L` cost one grace period
 * and one plan per thread for each round (a stop round and a start round),
 * read from the control API's "rcu" counters. Rings must be running (or not)
 * exactly as the guest asked after each.
 * Usage: test-txn-cost PATH-TO-VHOSTMQ */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "tests/frontend/frontend.h"
#include "tests/wire.h"

#define NQP FE_MAX_QP
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
                  VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

static const char *vhostmq_bin;
static char sock_path[108], ctl_path[108], log_path[128];
static pid_t backend;
static unsigned nthreads;
static struct fe fe;

struct cost {
	long long publishes, grace_periods;
};

/* vhostmq's "stats" reply, or NULL. */
static json_t *
ctl_stats(void)
{
	static char buf[1 << 20];
	ssize_t n = fe_ctl_request(ctl_path, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf), 10000);

	return n < 0 ? NULL : json_loadb(buf, (size_t)n, JSON_DISABLE_EOF_CHECK, NULL);
}

static struct cost
cost_now(void)
{
	json_t *j = ctl_stats(), *rcu;
	struct cost c;

	assert_non_null(j);
	rcu = json_object_get(j, "rcu");
	assert_true(json_is_integer(json_object_get(rcu, "publishes")));
	c.publishes = json_integer_value(json_object_get(rcu, "publishes"));
	c.grace_periods = json_integer_value(json_object_get(rcu, "grace_periods"));
	json_decref(j);
	return c;
}

/* Asserts which rings run: want[vqi] for every vring of the device. */
static void
expect_running(const bool *want)
{
	json_t *j = ctl_stats(), *qps;

	assert_non_null(j);
	qps = json_object_get(json_array_get(json_object_get(j, "devices"), 0), "queue_pairs");
	assert_int_equal(json_array_size(qps), NQP);
	for (unsigned qp = 0; qp < NQP; qp++) {
		json_t *q = json_array_get(qps, qp);

		assert_int_equal(json_is_true(json_object_get(q, "rx_enabled")), want[2 * qp]);
		assert_int_equal(json_is_true(json_object_get(q, "tx_enabled")), want[2 * qp + 1]);
	}
	json_decref(j);
}

/* The cost of what ran since before, checked against the expected numbers of
 * grace periods and plans. */
static void
expect_cost(const char *what, struct cost before, long long grace, long long publishes)
{
	struct cost now = cost_now();

	fprintf(stderr, "%-40s grace periods %lld, plans published %lld\n", what,
	        now.grace_periods - before.grace_periods, now.publishes - before.publishes);
	assert_int_equal(now.grace_periods - before.grace_periods, grace);
	assert_int_equal(now.publishes - before.publishes, publishes);
}

/* A round trip, so the backend has handled (and committed) what came before. */
static void
sync_backend(void)
{
	uint64_t v;

	assert_int_equal(fe_send(&fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_recv_reply(&fe, VHOST_USER_GET_FEATURES, &v, sizeof(v), 5000), 0);
}

/* Up to two CPUs this process may use, as a --cores list. */
static unsigned
pick_cores(char *buf, size_t len)
{
	cpu_set_t set;
	unsigned n = 0;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%d", n++ ? "," : "", c);
	return n;
}

static int
setup(void **state)
{
	char cores[32];
	bool all[2 * NQP];

	(void)state;
	nthreads = pick_cores(cores, sizeof(cores));
	snprintf(sock_path, sizeof(sock_path), "/tmp/vhostmq-txn-%d.sock", getpid());
	snprintf(ctl_path, sizeof(ctl_path), "/tmp/vhostmq-txn-%d.ctl", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-txn-%d.log", getpid());
	/* net_null without RX: an ethdev port (steering, RSS rebuilds) whose
	 * idle threads have nothing to move. */
	backend = fe_spawn_backend(log_path, (char *[]){
		(char *)vhostmq_bin, "--socket", sock_path, "--control", ctl_path,
		"--queues", "16", "--port", "ethdev:net_null0,no-rx=1", "--cores", cores,
		"--poll-mode", "adaptive", NULL });
	if (backend <= 0 || fe_connect(&fe, sock_path, NQP, 30000) != 0 ||
	    fe_qemu_init(&fe) != 0 || fe_qemu_start(&fe, FEATURES, 256, 2048) != 0) {
		fe_dump_log(log_path);
		return -1;
	}
	sync_backend();
	for (unsigned i = 0; i < 2 * NQP; i++)
		all[i] = true;
	expect_running(all);
	return 0;
}

static int
teardown(void **state)
{
	int st;

	(void)state;
	fe_close(&fe);
	st = fe_stop_backend(backend);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fe_dump_log(log_path);
	unlink(log_path);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A new memory table under 32 running rings: they stop together (one grace
 * period), the old table is unmapped, and they start again together. */
static void
test_mem_table(void **state)
{
	struct vhu_mem_table t = { .nregions = 1 };
	struct cost before = cost_now();
	bool all[2 * NQP];
	uint64_t ack = 1;

	(void)state;
	t.r[0] = (struct vhu_mem_region){ .gpa = FE_GPA_BASE, .size = fe.mem_size,
	                                  .fva = FE_FVA_BASE, .mmap_offset = 0 };
	assert_int_equal(fe_send(&fe, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY, &t,
	                         8 + sizeof(t.r[0]), &fe.memfd, 1), 0);
	assert_int_equal(fe_recv_reply(&fe, VHOST_USER_SET_MEM_TABLE, &ack, sizeof(ack), 5000),
	                 0);
	assert_int_equal(ack, 0);
	expect_cost("SET_MEM_TABLE, 16 pairs running", before, 1, 2 * nthreads);
	for (unsigned i = 0; i < 2 * NQP; i++)
		all[i] = true;
	expect_running(all);
}

/* New features (event index off) change every ring's layout: one transaction. */
static void
test_features(void **state)
{
	struct cost before = cost_now();
	uint64_t f = fe.features & ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	bool all[2 * NQP];

	(void)state;
	assert_int_equal(fe_send(&fe, VHOST_USER_SET_FEATURES, 0, &f, sizeof(f), NULL, 0), 0);
	sync_backend();
	expect_cost("SET_FEATURES, 16 pairs running", before, 1, 2 * nthreads);
	for (unsigned i = 0; i < 2 * NQP; i++)
		all[i] = true;
	expect_running(all);
}

/* One RX ring disabled: its thread and steering (every thread of the device)
 * republished once, one grace period before its frames are dropped; enabled
 * again: published once, nothing to wait for. */
static void
test_one_enable(void **state)
{
	struct cost before = cost_now();
	bool want[2 * NQP];

	(void)state;
	for (unsigned i = 0; i < 2 * NQP; i++)
		want[i] = i != 6;
	assert_int_equal(fe_set_vring_enable(&fe, 6, false), 0);
	expect_cost("SET_VRING_ENABLE 0 (RX of pair 3)", before, 1, nthreads);
	expect_running(want);
	before = cost_now();
	assert_int_equal(fe_set_vring_enable(&fe, 6, true), 0);
	expect_cost("SET_VRING_ENABLE 1 (RX of pair 3)", before, 0, nthreads);
	want[6] = true;
	expect_running(want);
}

/* The messages QEMU sends for `ethtool -L eth0 combined M` when a 16-pair
 * guest goes from 16 to 8 pairs and back: SET_VRING_ENABLE for both rings of
 * pairs 8..15, without replies, read together. */
static void
send_enable_burst(bool on)
{
	uint8_t buf[2 * NQP * (sizeof(struct vhu_hdr) + sizeof(struct vhu_vring_state))];
	size_t off = 0;

	for (uint32_t vqi = NQP; vqi < 2 * NQP; vqi++) {
		struct vhu_hdr h = { .request = VHOST_USER_SET_VRING_ENABLE,
		                     .flags = VHOST_USER_VERSION,
		                     .size = sizeof(struct vhu_vring_state) };
		struct vhu_vring_state st = { .index = vqi, .num = on };

		memcpy(buf + off, &h, sizeof(h));
		memcpy(buf + off + sizeof(h), &st, sizeof(st));
		off += sizeof(h) + sizeof(st);
	}
	assert_int_equal(wire_send(fe.sock, buf, off, NULL, 0), (ssize_t)off);
	sync_backend();
}

static void
test_ethtool_burst(void **state)
{
	struct cost before = cost_now();
	bool want[2 * NQP];

	(void)state;
	for (unsigned i = 0; i < 2 * NQP; i++)
		want[i] = i < NQP;
	send_enable_burst(false);
	expect_cost("ethtool -L 16 -> 8: 16 SET_VRING_ENABLE", before, 1, nthreads);
	expect_running(want);
	before = cost_now();
	send_enable_burst(true);
	expect_cost("ethtool -L 8 -> 16: 16 SET_VRING_ENABLE", before, 0, nthreads);
	for (unsigned i = 0; i < 2 * NQP; i++)
		want[i] = true;
	expect_running(want);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_table),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_one_enable),
		cmocka_unit_test(test_ethtool_burst),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
