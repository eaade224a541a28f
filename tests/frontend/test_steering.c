/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_steering.c - multiqueue steering of the vhostmq binary,
 * seen from the guest (the test frontend) with 4 queue pairs and an ethdev
 * port (net_pcap replaying 1000 UDP flows forever on each port queue):
 * RSS gives every flow one RX queue and spreads flows evenly; an RX ring the
 * guest disables mid-traffic gets nothing while the others carry on, and gets
 * traffic again once re-enabled; in flow-affinity mode a flow's frames follow
 * the TX queue the guest last sent that flow on.
 * Usage: test-steering PATH-TO-VHOSTMQ */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
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

static const char *vhostmq_bin;
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

/* The classic pcap format, one frame per flow. */
static void
write_pcap(void)
{
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *fp = fopen(pcap_path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(gh, sizeof(gh), 1, fp), 1);
	for (uint16_t k = 0; k < NFLOWS; k++) {
		uint32_t rh[4] = { k, 0, 64, 64 };
		uint8_t f[64];

		udp_frame(f, 0x0a000001, (uint16_t)(FLOW_PORT0 + k), 0x0a000002, 9);
		assert_int_equal(fwrite(rh, sizeof(rh), 1, fp), 1);
		assert_int_equal(fwrite(f, sizeof(f), 1, fp), 1);
	}
	fclose(fp);
}

static int
start_backend(const char *steering)
{
	char port[1024];
	int n;

	snprintf(sock_path, sizeof(sock_path), "/tmp/vhostmq-steer-%d.sock", getpid());
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/vhostmq-steer-%d.pcap", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-steer-%d.log", getpid());
	write_pcap();
	n = snprintf(port, sizeof(port), "ethdev:net_pcap0");
	for (int q = 0; q < NQP; q++)
		n += snprintf(port + n, sizeof(port) - (size_t)n, ",rx_pcap=%s,tx_pcap=/dev/null",
		              pcap_path);
	snprintf(port + n, sizeof(port) - (size_t)n, ",infinite_rx=1");
	backend = fork();
	if (backend == 0) {
		if (freopen(log_path, "w", stderr) == NULL || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execl(vhostmq_bin, vhostmq_bin, "--socket", sock_path, "--queues", "4", "--port",
		      port, "--steering", steering, "--log-level", "info", (char *)NULL);
		_exit(127);
	}
	return backend > 0 ? 0 : -1;
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
	int status = 0;

	(void)state;
	kill(backend, SIGTERM);
	for (int i = 0; i < 100 && waitpid(backend, &status, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(backend, &status, WNOHANG) == 0) {
		kill(backend, SIGKILL);
		waitpid(backend, &status, 0);
	}
	unlink(pcap_path);
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

	for (int i = 0; i < frames; i++)
		for (uint16_t qp = 0; qp < NQP; qp++)
			if (enabled[qp])
				fe_rx(f, qp, buf, sizeof(buf), 50);
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
	fe_close(&f);
}

static void
test_disable_enable_mid_traffic(void **state)
{
	bool on[NQP] = { true, true, true, true };
	int where[NFLOWS], flows[NQP] = { 0 };
	uint16_t frozen;
	struct fe f;

	(void)state;
	bring_up(&f);
	drain(&f, on, IN_FLIGHT);
	/* ethtool -L combined 3: QEMU disables pair 3's rings */
	assert_int_equal(fe_set_vring_enable(&f, 6, false), 0);
	assert_int_equal(fe_set_vring_enable(&f, 7, false), 0);
	frozen = fe_used_idx(&f, 6);
	on[3] = false;
	drain(&f, on, IN_FLIGHT);
	memset(where, -1, sizeof(where));
	collect(&f, on, 1500, where, flows);
	assert_int_equal(fe_used_idx(&f, 6), frozen);           /* nothing landed there */
	assert_int_equal(flows[3], 0);
	assert_true(flows[0] > 0 && flows[1] > 0 && flows[2] > 0);
	/* and nothing is lost: pair 3's flows now arrive on the others */
	assert_true(flows[0] + flows[1] + flows[2] >= NFLOWS * 9 / 10);
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

int
main(int argc, char **argv)
{
	const struct CMUnitTest rss[] = {
		cmocka_unit_test(test_rss_spread),
		cmocka_unit_test(test_disable_enable_mid_traffic),
	};
	const struct CMUnitTest affinity[] = {
		cmocka_unit_test(test_flow_affinity),
	};
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("rss", rss, start_rss, stop_backend);
	failed += cmocka_run_group_tests_name("flow_affinity", affinity, start_affinity,
	                                      stop_backend);
	return failed;
}
