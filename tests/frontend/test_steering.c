/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_steering.c - multiqueue steering of the vhostmq binary,
 * seen from the guest (the test frontend) with 4 queue pairs and an ethdev
 * port (net_pcap replaying 1000 UDP flows forever on each port queue):
 * RSS gives every flow one RX queue and spreads flows evenly; an RX ring the
 * guest disables mid-traffic gets nothing while the others carry on, and gets
 * traffic again once re-enabled; in flow-affinity mode a flow's frames follow
 * the TX queue the guest last sent that flow on; vhostmqctl predicts where a
 * flow lands, and changes to the table and key take effect under traffic.
 * Also 16 queue pairs served by threads on 2 cores, a pair moved between
 * cores while traffic flows.
 * Usage: test-steering PATH-TO-VHOSTMQ PATH-TO-VHOSTMQCTL */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "tests/frontend/frontend.h"

#define NQP 4
#define NFLOWS 1000
#define FLOW_PORT0 1024              /* flow k: 10.0.0.1:(1024+k) -> 10.0.0.2:9 */
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MQ) | \
                  VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
                  VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

static const char *vhostmq_bin, *ctl_bin;
static char sock_path[108], pcap_path[108], log_path[108];
static pid_t backend;

static void
put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* An Ethernet/IPv4/UDP frame of 64 bytes from (src, sport) to (dst, dport). */
static void
udp_frame(uint8_t f[64], uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	memset(f, 0, 64);
	memcpy(f, (uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 }, 14);
	f[14] = 0x45;
	put16(f + 16, 50);
	f[22] = 64;
	f[23] = 17;
	put32(f + 26, src);
	put32(f + 30, dst);
	put16(f + 34, sport);
	put16(f + 36, dport);
	put16(f + 38, 30);
}

/* The pcap port queue q replays. */
static const char *
pcap_of(int q)
{
	static char path[NQP][128];

	snprintf(path[q], sizeof(path[q]), "%s.%d", pcap_path, q);
	return path[q];
}

/* The classic pcap format, one frame per flow, each port queue's starting
 * at another flow, and one frame more than the flows. An inbox the guest
 * reads slower than the port replays takes the first frames of a burst
 * whenever it has room: with queues in step, or a replay length sharing a
 * factor with the burst (1000 and 32 share 8), it would sample the same
 * few flows over and over, as fast as vhostmq polls. */
static void
write_pcap(int q)
{
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *fp = fopen(pcap_of(q), "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(gh, sizeof(gh), 1, fp), 1);
	for (uint16_t i = 0; i < NFLOWS + 1; i++) {
		uint16_t k = (uint16_t)((i + q * (NFLOWS / NQP + 1)) % NFLOWS);
		uint32_t rh[4] = { i, 0, 64, 64 };
		uint8_t f[64];

		udp_frame(f, 0x0a000001, (uint16_t)(FLOW_PORT0 + k), 0x0a000002, 9);
		assert_int_equal(fwrite(rh, sizeof(rh), 1, fp), 1);
		assert_int_equal(fwrite(f, sizeof(f), 1, fp), 1);
	}
	fclose(fp);
}

static void
set_paths(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/vhostmq-steer-%d.sock", getpid());
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/vhostmq-steer-%d.pcap", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-steer-%d.log", getpid());
}

/* Runs vhostmqctl on this backend's control socket; its exit status, and
 * its first output line in out. */
static int __attribute__((format(printf, 3, 4)))
ctl(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024], args[384];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 10 %s -s %s.ctl %s 2>&1", ctl_bin, sock_path, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (fgets(out, (int)len, p) == NULL)
		out[0] = '\0';
	while (getc(p) != EOF)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The RX queue vhostmqctl says flow k goes to. */
static int
predicted(uint16_t k)
{
	char out[256];
	unsigned hash, entry;
	int q = -1;

	assert_int_equal(ctl(out, sizeof(out), "rss hash udp 10.0.0.1 10.0.0.2 %u 9",
	                     FLOW_PORT0 + k), 0);
	assert_int_equal(sscanf(out, "hash %x table entry %u queue %d", &hash, &entry, &q), 3);
	return q;
}

/* Every flow seen so far landed where vhostmqctl predicts. */
static void
check_predictions(const int *where)
{
	int checked = 0;

	for (uint16_t k = 0; k < NFLOWS && checked < 32; k++)
		if (where[k] >= 0) {
			assert_int_equal(predicted(k), where[k]);
			checked++;
		}
	assert_int_equal(checked, 32);
}

static int
exec_backend(const char *queues, const char *port, const char *steering, const char *cores)
{
	backend = fe_spawn_backend(log_path, (char *[]){
		(char *)vhostmq_bin, "--socket", sock_path, "--queues", (char *)queues, "--port",
		(char *)port, "--steering", (char *)steering, "--cores", (char *)cores,
		"--log-level", "info", NULL });
	return backend > 0 ? 0 : -1;
}

/* The highest CPU we may use, as vhostmq would pick by itself. */
static const char *
last_cpu(void)
{
	static char buf[16];
	cpu_set_t set;
	int last = 0;

	sched_getaffinity(0, sizeof(set), &set);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			last = c;
	snprintf(buf, sizeof(buf), "%d", last);
	return buf;
}

static int
start_backend(const char *steering)
{
	char port[1024];
	int n;

	set_paths();
	n = snprintf(port, sizeof(port), "ethdev:net_pcap0");
	for (int q = 0; q < NQP; q++) {
		write_pcap(q);
		n += snprintf(port + n, sizeof(port) - (size_t)n, ",rx_pcap=%s,tx_pcap=/dev/null",
		              pcap_of(q));
	}
	snprintf(port + n, sizeof(port) - (size_t)n, ",infinite_rx=1");
	return exec_backend("4", port, steering, last_cpu());
}

static int
start_rss(void **state)
{
	(void)state;
	return start_backend("rss");
}

static int
start_affinity(void **state)
{
	(void)state;
	return start_backend("flow-affinity");
}

static int
stop_backend(void **state)
{
	int status = fe_stop_backend(backend);

	(void)state;
	for (int q = 0; q < NQP; q++)
		unlink(pcap_of(q));
	unlink(sock_path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "cat %s >&2", log_path);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	unlink(log_path);
	return 0;
}

/* The flow number of a received frame, or -1 if it is not one of ours. */
static int
flow_of(const uint8_t *f, int len, bool reply)
{
	uint16_t sport, dport;

	if (len < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
		return -1;
	sport = (uint16_t)(f[34] << 8 | f[35]);
	dport = (uint16_t)(f[36] << 8 | f[37]);
	if (reply)
		return -1;
	if (dport != 9 || sport < FLOW_PORT0 || sport >= FLOW_PORT0 + NFLOWS)
		return -1;
	return sport - FLOW_PORT0;
}

/* Receives per frames from each enabled pair in turn; where[k] records the
 * pair flow k arrived on (-1: not seen), and it must always be the same. */
#define IN_FLIGHT 1400

static void
drain(struct fe *f, const bool *enabled, int frames)
{
	static uint8_t buf[2048];

	/* The source never stops: a round in which no enabled queue got a
	 * frame within 50 ms means vhostmq is gone. The checks after say so;
	 * waiting out every frame's timeout here would only hang the test. */
	for (int i = 0; i < frames; i++) {
		bool got = false;

		for (uint16_t qp = 0; qp < NQP; qp++)
			if (enabled[qp] && fe_rx(f, qp, buf, sizeof(buf), 50) > 0)
				got = true;
		if (!got)
			return;
	}
}

static void
collect(struct fe *f, const bool *enabled, int per, int *where, int *per_qp_flows)
{
	static uint8_t buf[2048];

	for (int round = 0; round < per; round++) {
		for (uint16_t qp = 0; qp < NQP; qp++) {
			int len, k;

			if (!enabled[qp])
				continue;
			len = fe_rx(f, qp, buf, sizeof(buf), 2000);
			assert_true(len > 0);
			k = flow_of(buf, len, false);
			assert_true(k >= 0);
			if (where[k] < 0) {
				where[k] = qp;
				per_qp_flows[qp]++;
			}
			assert_int_equal(where[k], qp);   /* a flow never moves */
		}
	}
}

static void
bring_up(struct fe *f)
{
	assert_int_equal(fe_connect(f, sock_path, NQP, 5000), 0);
	assert_int_equal(fe_qemu_init(f), 0);
	assert_int_equal(fe_qemu_start(f, FEATURES, 256, 2048), 0);
}

/* Frames steered before a change (an RX ring enabled or disabled re-spreads
 * the whole table, as ethtool -L does on a NIC) can still wait in an inbox
 * (1024) and the guest ring (256): let that many per queue through first. */
static void
test_rss_spread(void **state)
{
	const bool all[NQP] = { true, true, true, true };
	int where[NFLOWS], flows[NQP] = { 0 }, seen = 0;
	struct fe f;

	(void)state;
	memset(where, -1, sizeof(where));
	bring_up(&f);
	drain(&f, all, IN_FLIGHT);       /* rings were enabled one by one */
	collect(&f, all, 2500, where, flows);
	for (uint16_t qp = 0; qp < NQP; qp++) {
		seen += flows[qp];
		print_message("pair %u: %d flows\n", qp, flows[qp]);
	}
	assert_true(seen >= NFLOWS * 9 / 10);
	/* every RX queue gets flows, within 20% of an even share */
	for (uint16_t qp = 0; qp < NQP; qp++)
		assert_in_range(flows[qp], seen / NQP * 8 / 10, seen / NQP * 12 / 10);
	check_predictions(where);
	fe_close(&f);
}

/* ethtool -X at run time: weight 1 1 0 0 empties pairs 2 and 3 while 0 and 1
 * keep receiving every flow; a new key moves flows as vhostmqctl predicts. */
static void
test_table_and_key_change(void **state)
{
	static const char key[] = "01:23:45:67:89:ab:cd:ef:fe:dc:ba:98:76:54:32:10:"
	                          "0f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0:"
	                          "11:22:33:44:55:66:77:88";
	bool two[NQP] = { true, true, false, false };
	const bool all[NQP] = { true, true, true, true };
	int where[NFLOWS], old_where[NFLOWS], flows[NQP] = { 0 }, moved = 0;
	uint16_t frozen2, frozen3;
	char out[256];
	struct fe f;

	(void)state;
	bring_up(&f);
	drain(&f, all, IN_FLIGHT);
	memset(old_where, -1, sizeof(old_where));
	collect(&f, all, 500, old_where, flows);
	assert_int_equal(ctl(out, sizeof(out), "rss set-table weight 1 1 0 0"), 0);
	drain(&f, all, IN_FLIGHT);
	frozen2 = fe_used_idx(&f, 4);
	frozen3 = fe_used_idx(&f, 6);
	memset(where, -1, sizeof(where));
	memset(flows, 0, sizeof(flows));
	collect(&f, two, 4500, where, flows);
	assert_int_equal(fe_used_idx(&f, 4), frozen2);
	assert_int_equal(fe_used_idx(&f, 6), frozen3);
	/* every flow now on pairs 0 and 1 (a table still naming 2 and 3 would
	 * show about half; under flood not every flow shows up) */
	assert_true(flows[0] + flows[1] >= NFLOWS * 85 / 100);
	check_predictions(where);

	assert_int_equal(ctl(out, sizeof(out), "rss set-key %s", key), 0);
	assert_int_equal(ctl(out, sizeof(out), "rss set-table equal 4"), 0);
	drain(&f, all, IN_FLIGHT);
	memset(where, -1, sizeof(where));
	memset(flows, 0, sizeof(flows));
	collect(&f, all, 1000, where, flows);
	check_predictions(where);
	for (uint16_t k = 0; k < NFLOWS; k++)
		moved += where[k] >= 0 && old_where[k] >= 0 && where[k] != old_where[k];
	assert_true(moved > 100);        /* the key changed the mapping */
	fe_close(&f);
}

static void
test_disable_enable_mid_traffic(void **state)
{
	bool on[NQP] = { true, true, true, true };
	char out[256];
	int where[NFLOWS], flows[NQP] = { 0 };
	uint16_t frozen;
	struct fe f;

	(void)state;
	bring_up(&f);
	drain(&f, on, IN_FLIGHT);
	/* the guest stops reading pair 3 for a while: its ring fills, frames
	 * for it queue up behind */
	drain(&f, (const bool[NQP]){ true, true, true, false }, 600);
	/* ethtool -L combined 3: QEMU disables pair 3's rings */
	assert_int_equal(fe_set_vring_enable(&f, 6, false), 0);
	assert_int_equal(fe_set_vring_enable(&f, 7, false), 0);
	frozen = fe_used_idx(&f, 6);
	on[3] = false;
	/* What waited for pair 3 was dropped and counted at the disable, not
	 * kept to arrive whenever the ring comes back. */
	assert_int_equal(ctl(out, sizeof(out), "--json stats | python3 -c 'import json,sys; "
	                     "print(json.load(sys.stdin)[\"devices\"][0][\"queue_pairs\"][3]"
	                     "[\"rx_drop_disabled\"])'"), 0);
	assert_true(atol(out) > 0);
	drain(&f, on, IN_FLIGHT);
	memset(where, -1, sizeof(where));
	collect(&f, on, 3000, where, flows);
	assert_int_equal(fe_used_idx(&f, 6), frozen);           /* nothing landed there */
	assert_int_equal(flows[3], 0);
	assert_true(flows[0] > 0 && flows[1] > 0 && flows[2] > 0);
	/* and no flow is lost: pair 3's flows now arrive on the others (were
	 * they still steered to pair 3, at most 75% could be seen; under flood
	 * most frames drop at full inboxes, so not every flow shows up) */
	assert_true(flows[0] + flows[1] + flows[2] >= NFLOWS * 85 / 100);
	/* ethtool -L combined 4 again */
	assert_int_equal(fe_set_vring_enable(&f, 6, true), 0);
	assert_int_equal(fe_set_vring_enable(&f, 7, true), 0);
	on[3] = true;
	drain(&f, on, IN_FLIGHT);
	memset(where, -1, sizeof(where));
	memset(flows, 0, sizeof(flows));
	collect(&f, on, 1000, where, flows);
	assert_true(flows[3] > 0);
	fe_close(&f);
}

/* ethtool -L combined 1 on a pair other than 0 (the guest keeps pair 2):
 * with one RX queue left, every flow lands on it (the steering skips the
 * hash then, and must still name that queue, not queue 0). */
static void
test_one_queue_left(void **state)
{
	const bool only2[NQP] = { false, false, true, false };
	int where[NFLOWS], flows[NQP] = { 0 };
	uint16_t frozen[NQP];
	struct fe f;

	(void)state;
	bring_up(&f);
	drain(&f, (const bool[NQP]){ true, true, true, true }, IN_FLIGHT);
	for (uint32_t vqi = 0; vqi < 2 * NQP; vqi++)
		if (vqi / 2 != 2)
			assert_int_equal(fe_set_vring_enable(&f, vqi, false), 0);
	drain(&f, only2, IN_FLIGHT);
	for (uint16_t qp = 0; qp < NQP; qp++)
		frozen[qp] = fe_used_idx(&f, 2u * qp);
	memset(where, -1, sizeof(where));
	collect(&f, only2, 4000, where, flows);
	for (uint16_t qp = 0; qp < NQP; qp++)
		if (qp != 2)
			assert_int_equal(fe_used_idx(&f, 2u * qp), frozen[qp]);
	assert_true(flows[2] >= NFLOWS * 85 / 100);
	fe_close(&f);
}

/* Flow affinity: the guest answers flow k on TX queue k % 4, so flow k's
 * frames must from then on arrive on RX queue k % 4 (RX follows TX). */
static void
test_flow_affinity(void **state)
{
	static uint8_t buf[2048];
	const bool all[NQP] = { true, true, true, true };
	int checked = 0;
	struct fe f;

	(void)state;
	bring_up(&f);
	for (uint16_t k = 0; k < 64; k++) {
		uint8_t reply[64];

		udp_frame(reply, 0x0a000002, 9, 0x0a000001, (uint16_t)(FLOW_PORT0 + k));
		assert_int_equal(fe_tx(&f, k % NQP, reply, sizeof(reply), false), 0);
	}
	for (uint16_t qp = 0; qp < NQP; qp++)
		for (int i = 0; i < 300 && fe_tx_done(&f, qp) != 16; i++)
			usleep(10000);
	drain(&f, all, IN_FLIGHT);       /* steered before the TX was seen */
	for (int round = 0; round < 3000; round++) {
		for (uint16_t qp = 0; qp < NQP; qp++) {
			int len = fe_rx(&f, qp, buf, sizeof(buf), 2000), k;

			assert_true(len > 0);
			k = flow_of(buf, len, false);
			assert_true(k >= 0);
			if (k < 64) {
				assert_int_equal(qp, k % NQP);
				checked++;
			}
		}
	}
	print_message("%d frames of answered flows checked\n", checked);
	assert_true(checked > 100);
	fe_close(&f);
}

/* 16 queue pairs on 2 cores: pairs alternate between the two poll threads
 * (round-robin over the cores list), every pair passes traffic, and a pair
 * moved to the other core keeps passing it. Loopback port: frames come back
 * on the pair they left by. */
#define NQP16 16

static int
start_sixteen(void **state)
{
	(void)state;
	set_paths();
	return exec_backend("16", "loopback", "rss", "0,1");
}

static void
exchange16(struct fe *f, uint32_t seq)
{
	static uint8_t frame[64], got[2048];

	for (uint16_t qp = 0; qp < NQP16; qp++) {
		udp_frame(frame, 0x0a000001, (uint16_t)(qp * 100 + seq), 0x0a000002, 9);
		assert_int_equal(fe_tx(f, qp, frame, sizeof(frame), false), 0);
	}
	for (uint16_t qp = 0; qp < NQP16; qp++) {
		assert_int_equal(fe_rx(f, qp, got, sizeof(got), 3000), 64);
		assert_int_equal(got[34] << 8 | got[35], qp * 100 + seq);   /* its own */
	}
}

static void
test_sixteen_pairs_two_cores(void **state)
{
	char out[256];
	struct fe f;

	(void)state;
	assert_int_equal(fe_connect(&f, sock_path, NQP16, 5000), 0);
	assert_int_equal(fe_qemu_init(&f), 0);
	assert_int_equal(f.queue_num, NQP16);
	assert_int_equal(fe_qemu_start(&f, FEATURES, 256, 2048), 0);
	for (uint32_t seq = 0; seq < 20; seq++)
		exchange16(&f, seq);
	/* pair 0 is on core 0 (cores[0 % 2]); serve it from core 1 now */
	assert_int_equal(ctl(out, sizeof(out), "move 0 1"), 0);
	for (uint32_t seq = 20; seq < 40; seq++)
		exchange16(&f, seq);
	assert_int_equal(ctl(out, sizeof(out), "move 0 0"), 0);
	for (uint32_t seq = 40; seq < 60; seq++)
		exchange16(&f, seq);
	fe_close(&f);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest rss[] = {
		cmocka_unit_test(test_rss_spread),
		cmocka_unit_test(test_disable_enable_mid_traffic),
		cmocka_unit_test(test_one_queue_left),
		cmocka_unit_test(test_table_and_key_change),
	};
	const struct CMUnitTest sixteen[] = {
		cmocka_unit_test(test_sixteen_pairs_two_cores),
	};
	const struct CMUnitTest affinity[] = {
		cmocka_unit_test(test_flow_affinity),
	};
	int failed;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ PATH-TO-VHOSTMQCTL\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	ctl_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("rss", rss, start_rss, stop_backend);
	failed += cmocka_run_group_tests_name("flow_affinity", affinity, start_affinity,
	                                      stop_backend);
	failed += cmocka_run_group_tests_name("sixteen_pairs", sixteen, start_sixteen,
	                                      stop_backend);
	return failed;
}
