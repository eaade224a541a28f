/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_qemu_sequence.c - the vhostmq binary against the test
 * frontend speaking QEMU's message order: multiqueue bring-up, frames out on
 * every TX ring and back on the matching RX ring (loopback port, MACs
 * swapped) with contents compared, mergeable and non-mergeable receive, both
 * header layouts, GET_VRING_BASE positions, a reconnect getting a fresh
 * device, a malformed message closing only its own connection, an idle
 * device costing no CPU in adaptive mode, and an ethdev (net_null) port.
 * Usage: test-qemu-sequence PATH-TO-VHOSTMQ */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "tests/frontend/frontend.h"

static const char *vhostmq_bin;
static char sock_path[108], log_path[128];
static pid_t backend;

#define NQP 2
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
                  VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_NET_F_MQ) | \
                  VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

static const char *backend_port = "loopback";
static bool backend_client;          /* --client: the test is the socket server */
/* Frames each pair sent through the current backend, and the range its RX
 * count must fall in (its table must agree). */
static uint64_t sent[2], rx_min[2], rx_max[2];
static bool rx_may_drop;             /* an endless source outruns the guest */

static int
start_backend(void **state)
{
	(void)state;
	memset(sent, 0, sizeof(sent));
	memset(rx_min, 0, sizeof(rx_min));
	memset(rx_max, 0, sizeof(rx_max));
	snprintf(sock_path, sizeof(sock_path), "/tmp/vhostmq-qseq-%d.sock", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-qseq-%d.log", getpid());
	backend = fe_spawn_backend(log_path, (char *[]){
		(char *)vhostmq_bin, "--socket", sock_path, "--queues", "2", "--mtu", "9000", "--port",
		(char *)backend_port, "--poll-mode", "adaptive", "--log-level", "info",
		backend_client ? "--client" : NULL, NULL });
	return backend > 0 ? 0 : -1;
}

/* vhostmq prints its per-queue table on exit: tx/rx packets of each pair
 * must be what went through, with no drops. */
static int
check_table(void)
{
	unsigned long long qp, core, tx, txd, rx, rxd;
	char line[512];
	double txr, rxr;
	int rows = 0, bad = 0;
	FILE *f = fopen(log_path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %llu %llu %lf %llu %llu %lf %llu", &qp, &core, &tx, &txr,
		           &txd, &rx, &rxr, &rxd) != 8 || qp >= 2)
			continue;
		rows++;
		if (tx != sent[qp] || txd != 0 || (rxd != 0 && !rx_may_drop) || rx < rx_min[qp] ||
		    rx > rx_max[qp]) {
			fprintf(stderr, "table row of pair %llu: tx %llu rx %llu drops %llu/%llu, "
			        "sent %llu\n", qp, tx, rx, txd, rxd, (unsigned long long)sent[qp]);
			bad++;
		}
	}
	fclose(f);
	return rows == 2 && bad == 0 ? 0 : -1;
}

static int
terminate_backend(void)
{
	int status = fe_stop_backend(backend);

	backend = 0;
	return status;
}

/* The last test of each group: vhostmq exits cleanly on SIGTERM, removes its
 * socket, and its own table agrees with what went through. (A group teardown
 * cannot fail a cmocka run, so this is a test.) */
static void
test_backend_exits_cleanly(void **state)
{
	int status = terminate_backend();

	(void)state;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || access(sock_path, F_OK) == 0 ||
	    check_table() != 0) {
		fprintf(stderr, "vhostmq did not exit cleanly (status 0x%x), left its socket, "
		        "or its table disagrees with what was sent\n", status);
		fe_dump_log(log_path);
		fail();
	}
	if (getenv("KEEP_LOG") == NULL)
		unlink(log_path);
}

static int
stop_backend(void **state)
{
	(void)state;
	if (backend > 0) {           /* a test failed before the exit test */
		terminate_backend();
		fe_dump_log(log_path);
	}
	unlink(sock_path);
	return 0;
}

/* A frame with the test MACs and a payload that encodes (qp, seq). */
static uint32_t
make_frame(uint8_t *f, uint16_t qp, uint32_t seq, uint32_t len)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 1 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;                    /* local experimental ethertype 0x88b5 */
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i * 13 + qp);
	return len;
}

static void
check_frame(const uint8_t *got, int glen, uint16_t qp, uint32_t seq, uint32_t len)
{
	uint8_t want[9100];

	make_frame(want, qp, seq, len);
	/* loopback swaps the addresses */
	memcpy(want, (uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 6);
	memcpy(want + 6, (uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, 6);
	assert_int_equal(glen, (int)len);
	assert_memory_equal(got, want, len);
}

/* Sends count frames per pair, cycling through sizes, and checks each comes
 * back on the same pair's RX ring intact and in order. */
static void
exchange(struct fe *f, const uint32_t *sizes, unsigned nsizes, unsigned count, bool split)
{
	static uint8_t frame[9100], got[9100];

	for (uint16_t qp = 0; qp < f->nqp; qp++) {
		uint16_t done0 = fe_tx_done(f, qp);

		for (unsigned s = 0; s < count; s++) {
			uint32_t len = sizes[s % nsizes];
			int glen;

			make_frame(frame, qp, s, len);
			assert_int_equal(fe_tx(f, qp, frame, len, split), 0);
			sent[qp]++;
			rx_min[qp]++;            /* loopback: every frame comes back */
			rx_max[qp]++;
			glen = fe_rx(f, qp, got, sizeof(got), 3000);
			check_frame(got, glen, qp, s, len);
		}
		assert_int_equal((uint16_t)(fe_tx_done(f, qp) - done0), count);
	}
}

static void
bring_up(struct fe *f, uint64_t features, uint32_t rx_buf)
{
	assert_int_equal(fe_connect(f, sock_path, NQP, 5000), 0);
	assert_int_equal(fe_qemu_init(f), 0);
	assert_int_equal(f->queue_num, NQP);
	/* what we need offered: the feature list */
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	assert_true(f->backend_features & VIRTIO_BIT(VIRTIO_NET_F_MQ));
	assert_int_equal(fe_qemu_start(f, features, 256, rx_buf), 0);
}

static void
stop_and_check_bases(struct fe *f, unsigned count)
{
	uint16_t bases[2 * NQP];

	assert_int_equal(fe_qemu_stop(f, bases), 0);
	for (uint16_t qp = 0; qp < NQP; qp++) {
		assert_int_equal(bases[2 * qp + 1], count);                 /* TX consumed */
		assert_int_equal(bases[2 * qp], f->q[2 * qp].used_seen);    /* RX buffers used */
	}
}

static void
test_mergeable(void **state)
{
	static const uint32_t sizes[] = { 60, 64, 128, 1500, 1514, 4000, 9000 };
	struct fe f;

	(void)state;
	/* 1536-byte buffers: a 9000-byte frame takes six */
	bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 1536);
	assert_true(f.features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	exchange(&f, sizes, 7, 70, false);
	stop_and_check_bases(&f, 70);
	assert_true(f.q[0].used_seen > 70);  /* big frames spanned buffers */
	fe_close(&f);
}

static void
test_not_mergeable_split_header(void **state)
{
	static const uint32_t sizes[] = { 60, 1514, 9000 };
	struct fe f;

	(void)state;
	bring_up(&f, FEATURES, 9000 + 12);
	assert_false(f.features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	exchange(&f, sizes, 3, 30, true);
	stop_and_check_bases(&f, 30);
	assert_int_equal(f.q[0].used_seen, 30);
	fe_close(&f);
}

/* A new connection after a disconnect is a fresh device: rings start at 0. */
static void
test_reconnect_fresh_device(void **state)
{
	static const uint32_t sizes[] = { 64 };
	struct fe f;

	(void)state;
	for (int round = 0; round < 3; round++) {
		bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 2048);
		exchange(&f, sizes, 1, 10, false);
		fe_close(&f);            /* no GET_VRING_BASE: a frontend that died */
	}
}

/* A guest that leaves with frames still on their way back to it (its RX
 * ring full): the next guest on the socket never sees them. */
static void
test_reconnect_no_stale_frames(void **state)
{
	static const uint32_t sizes[] = { 80 };
	static uint8_t frame[128], got[2048];
	struct fe f;

	(void)state;
	bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 2048);
	for (uint32_t s = 0; s < 300; s++) {     /* 256 RX buffers: 44 left over */
		make_frame(frame, 0, s, 100);
		assert_int_equal(fe_tx(&f, 0, frame, 100, false), 0);
	}
	for (int i = 0; i < 300 && fe_tx_done(&f, 0) != 300; i++)
		usleep(10000);
	assert_int_equal(fe_tx_done(&f, 0), 300);
	sent[0] += 300;
	rx_min[0] += 256;                        /* the rest never reached a guest */
	rx_max[0] += 256;
	fe_close(&f);
	bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 2048);
	assert_int_equal(fe_rx(&f, 0, got, sizeof(got), 300), 0);
	exchange(&f, sizes, 1, 5, false);        /* and its own frames do come */
	fe_close(&f);
}

/* A malformed message closes that connection only; the next frontend works. */
static void
test_bad_message_closes_connection(void **state)
{
	static const uint32_t sizes[] = { 128 };
	struct vhu_vring_state bad = { .index = 0, .num = 3 };   /* not a power of two */
	uint8_t b;
	struct fe f;

	(void)state;
	assert_int_equal(fe_connect(&f, sock_path, NQP, 5000), 0);
	assert_int_equal(fe_qemu_init(&f), 0);
	/* wrong payload size for SET_VRING_NUM: a framing error */
	assert_int_equal(fe_send(&f, VHOST_USER_SET_VRING_NUM, 0, &bad, 4, NULL, 0), 0);
	assert_int_equal(read(f.sock, &b, 1), 0);                /* closed by vhostmq */
	fe_close(&f);
	bring_up(&f, FEATURES, 2048);
	exchange(&f, sizes, 1, 5, false);
	fe_close(&f);
}

/* CPU time (user + system, clock ticks) the backend has used so far. */
static long
backend_ticks(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", backend);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');          /* the command name may contain spaces */
	assert_non_null(p);
	/* after ") ": state is field 3; utime and stime are fields 14 and 15 */
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	                        &ut, &st), 2);
	return (long)(ut + st);
}

/* Adaptive mode: an attached but idle device costs (almost) no CPU, and the
 * guest's next kick wakes the poll thread. A busy-polling thread would use a
 * whole core: 100 ticks per second. */
static void
test_idle_sleeps_and_wakes(void **state)
{
	static const uint32_t sizes[] = { 64 };
	long hz = sysconf(_SC_CLK_TCK), t0;
	struct fe f;

	(void)state;
	bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 2048);
	exchange(&f, sizes, 1, 10, false);
	usleep(200000);                  /* well past idle_us */
	t0 = backend_ticks();
	sleep(1);
	assert_in_range(backend_ticks() - t0, 0, hz / 10);   /* < 10% of a core */
	exchange(&f, sizes, 1, 10, false);                   /* woken by kicks */
	fe_close(&f);
}

/* A driver that never kicks (SET_VRING_KICK with the no-fd flag: it expects
 * the backend to poll): an adaptive thread that went idle still serves it. */
static void
test_nofd_rings_polled(void **state)
{
	static const uint32_t sizes[] = { 100 };
	struct fe f;

	(void)state;
	assert_int_equal(fe_connect(&f, sock_path, NQP, 5000), 0);
	f.no_kick = true;
	assert_int_equal(fe_qemu_init(&f), 0);
	assert_int_equal(fe_qemu_start(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 256,
	                               2048), 0);
	exchange(&f, sizes, 1, 5, false);
	usleep(200000);                  /* idle: the thread sleeps */
	exchange(&f, sizes, 1, 5, false);
	fe_close(&f);
}

/* An ethdev port (net_null: a sink for TX, an endless source for RX). Its
 * frames are all zeros, not IP, so RSS sends every one of them to one queue:
 * the first entry of the indirection table, pair 0. */
static void
test_ethdev_null_port(void **state)
{
	static uint8_t frame[256], got[2048];
	uint16_t bases[2 * NQP];
	struct fe f;

	(void)state;
	bring_up(&f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 2048);
	for (uint16_t qp = 0; qp < NQP; qp++) {
		make_frame(frame, qp, 0, sizeof(frame));
		for (int i = 0; i < 40; i++)
			assert_int_equal(fe_tx(&f, qp, frame, sizeof(frame), false), 0);
		sent[qp] += 40;
		for (int i = 0; i < 300 && fe_tx_done(&f, qp) != 40; i++)
			usleep(10000);
		assert_int_equal(fe_tx_done(&f, qp), 40);
	}
	for (int i = 0; i < 40; i++)
		assert_int_equal(fe_rx(&f, 0, got, sizeof(got), 3000), 200);
	assert_int_equal(fe_rx(&f, 1, got, sizeof(got), 200), 0);   /* nothing */
	rx_min[0] = 40;
	rx_max[0] = UINT64_MAX;
	/* Stopping disables RX 0 first: pair 1 is then the only enabled queue
	 * and rightly gets the traffic until it is disabled too. */
	rx_max[1] = UINT64_MAX;
	assert_int_equal(fe_qemu_stop(&f, bases), 0);
	assert_int_equal(bases[1], 40);
	assert_int_equal(bases[3], 40);
	fe_close(&f);
}

/* Accepts vhostmq's connection within timeout_ms; the fd or -1. */
static int
accept_backend(int l, int timeout_ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

static void
bring_up_adopted(struct fe *f, int sock)
{
	assert_true(sock >= 0);
	assert_int_equal(fe_adopt(f, sock, NQP), 0);
	assert_int_equal(fe_qemu_init(f), 0);
	assert_int_equal(fe_qemu_start(f, FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 256,
	                               2048), 0);
}

/* Client mode (QEMU's chardev server=on): vhostmq, started before anyone
 * listens, connects once the frontend does; killed mid-session and
 * restarted, it connects again and traffic resumes. */
static void
test_client_connects_and_reconnects(void **state)
{
	static const uint32_t sizes[] = { 60, 1514 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct fe f;

	(void)state;
	usleep(300000);                  /* vhostmq is up and finds no listener */
	assert_true(l >= 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	bring_up_adopted(&f, accept_backend(l, 3000));
	exchange(&f, sizes, 2, 10, false);

	kill(backend, SIGKILL);          /* the backend dies mid-session */
	waitpid(backend, NULL, 0);
	fe_close(&f);
	assert_int_equal(start_backend(state), 0);
	bring_up_adopted(&f, accept_backend(l, 5000));
	exchange(&f, sizes, 2, 10, false);
	fe_close(&f);
	close(l);
	unlink(sock_path);               /* ours: vhostmq never creates it */
}

static int
start_backend_client(void **state)
{
	backend_port = "loopback";
	backend_client = true;
	rx_may_drop = false;
	return start_backend(state);
}

static int
start_backend_null(void **state)
{
	backend_port = "ethdev:net_null0,size=200";
	rx_may_drop = true;
	return start_backend(state);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mergeable),
		cmocka_unit_test(test_not_mergeable_split_header),
		cmocka_unit_test(test_reconnect_fresh_device),
		cmocka_unit_test(test_reconnect_no_stale_frames),
		cmocka_unit_test(test_bad_message_closes_connection),
		cmocka_unit_test(test_idle_sleeps_and_wakes),
		cmocka_unit_test(test_nofd_rings_polled),
		cmocka_unit_test(test_backend_exits_cleanly),
	};
	const struct CMUnitTest client_mode[] = {
		cmocka_unit_test(test_client_connects_and_reconnects),
		cmocka_unit_test(test_backend_exits_cleanly),
	};
	const struct CMUnitTest null_port[] = {
		cmocka_unit_test(test_ethdev_null_port),
		cmocka_unit_test(test_backend_exits_cleanly),
	};
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("qemu_sequence", tests, start_backend, stop_backend);
	failed += cmocka_run_group_tests_name("ethdev_null_port", null_port, start_backend_null,
	                                      stop_backend);
	failed += cmocka_run_group_tests_name("client_mode", client_mode, start_backend_client,
	                                      stop_backend);
	return failed;
}
