/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_device_port.c - two devices of one vhostmq wired to
 * each other ("port": "device:..."), driven by two test frontends as two VMs
 * on one virtual wire: vm0 (2 queue pairs) and vm1 (4). Frames of many UDP
 * flows from vm0 arrive intact on vm1, spread by RSS over all of vm1's RX
 * queues, each flow on one queue; frames from vm1 arrive on vm0. Then vm1's
 * frontend leaves and vm0 keeps sending: vhostmq stays up, vm0's TX ring
 * keeps moving (its used ring advances), and what vm1's port rings cannot
 * hold is dropped and counted as vm0's tx_drop_port (control API and exit
 * table), exactly the frames past the rings' size. vm1 comes back: the
 * frames that waited in its port rings (the first of each of vm0's TX
 * queues) arrive first, then traffic flows both ways again.
 * Both devices run on one poll thread (the default core), so while both
 * frontends are there every frame goes guest to guest in one copy
 * (tx_direct counts all of them), and while vm1 is away none does.
 * Usage: test-device-port PATH-TO-VHOSTMQ */
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
#include <jansson.h>
#include "common/tunables.h"
#include "tests/frontend/frontend.h"

#define NQP0 2
#define NQP1 4
#define NFLOWS 512
#define FLOW_PORT0 1024              /* flow k: 10.0.0.1:(1024+k) -> 10.0.0.2:dport */
#define FRAME_LEN 64
#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MQ) | \
                  VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
                  VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
/* Destination ports: which phase a frame belongs to. */
enum { TO_VM1 = 9, TO_VM0 = 10, WHILE_AWAY = 11, AGAIN_TO_VM1 = 12, AGAIN_TO_VM0 = 13 };
/* Frames vm0 sends on each TX queue while vm1 is away: more than a port
 * ring holds. */
#define AWAY_PER_QP 1500

static const char *vhostmq_bin;
static char cfg_path[128], log_path[128], sock0[108], sock1[108], ctl_path[108];
static pid_t backend;

static void
sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Flow k's frame of phase dport: Ethernet/IPv4/UDP, the payload a pattern
 * of k, so a frame that arrives can be compared whole. */
static void
udp_frame(uint8_t f[FRAME_LEN], uint16_t k, uint16_t dport)
{
	uint16_t v;
	uint32_t a;

	memset(f, 0, FRAME_LEN);
	memcpy(f, (uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 }, 14);
	f[14] = 0x45;
	v = htons(FRAME_LEN - 14);
	memcpy(f + 16, &v, 2);
	f[22] = 64;
	f[23] = 17;
	a = htonl(0x0a000001);
	memcpy(f + 26, &a, 4);
	a = htonl(0x0a000002);
	memcpy(f + 30, &a, 4);
	v = htons((uint16_t)(FLOW_PORT0 + k));
	memcpy(f + 34, &v, 2);
	v = htons(dport);
	memcpy(f + 36, &v, 2);
	v = htons(FRAME_LEN - 34);
	memcpy(f + 38, &v, 2);
	for (unsigned i = 42; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(k * 7 + i);
}

static void
send_flows(struct fe *f, uint16_t nqp, uint16_t nflows, uint16_t dport)
{
	uint8_t frame[FRAME_LEN];

	for (uint16_t k = 0; k < nflows; k++) {
		udp_frame(frame, k, dport);
		assert_int_equal(fe_tx(f, k % nqp, frame, sizeof(frame), false), 0);
	}
}

/* Receives until every flow 0..nflows-1 of phase dport arrived once, intact;
 * frames of other phases (sent before a reconnect) are counted in *other.
 * where[k]: the RX queue flow k arrived on; per_qp: flows per queue. */
static void
recv_flows(struct fe *f, uint16_t nqp, uint16_t nflows, uint16_t dport, int *where,
           unsigned *per_qp, unsigned *other)
{
	static uint8_t buf[2048];
	int64_t end = now_ms() + 20000;
	unsigned got = 0;

	for (uint16_t k = 0; k < nflows; k++)
		where[k] = -1;
	while (got < nflows) {
		bool any = false;

		if (now_ms() >= end)
			fail_msg("%u of %u frames of phase %u arrived (and %u of others)", got,
			         nflows, dport, *other);
		for (uint16_t qp = 0; qp < nqp; qp++) {
			uint8_t want[FRAME_LEN];
			int len = fe_rx(f, qp, buf, sizeof(buf), 1);
			uint16_t k;

			if (len == 0)
				continue;
			any = true;
			assert_int_equal(len, FRAME_LEN);
			if ((buf[36] << 8 | buf[37]) != dport) {
				(*other)++;
				continue;
			}
			k = (uint16_t)((buf[34] << 8 | buf[35]) - FLOW_PORT0);
			assert_true(k < nflows);
			udp_frame(want, k, dport);
			assert_memory_equal(buf, want, FRAME_LEN);
			assert_int_equal(where[k], -1);   /* each frame once */
			where[k] = qp;
			per_qp[qp]++;
			got++;
		}
		if (!any)
			sleep_ms(1);
	}
}

/* Receives n frames of phase dport, intact: the first TUNE_DEVICE_RING
 * sent on each of the sender's nqp_from queues (flow k went on k % nqp_from). */
static void
recv_waiting(struct fe *f, uint16_t nqp, unsigned n, uint16_t nqp_from, uint16_t dport)
{
	static uint8_t buf[2048];
	int64_t end = now_ms() + 20000;
	unsigned got = 0;

	while (got < n) {
		bool any = false;

		if (now_ms() >= end)
			fail_msg("%u of %u frames that waited arrived", got, n);
		for (uint16_t qp = 0; qp < nqp; qp++) {
			uint8_t want[FRAME_LEN];
			int len = fe_rx(f, qp, buf, sizeof(buf), 1), k;

			if (len == 0)
				continue;
			any = true;
			assert_int_equal(len, FRAME_LEN);
			assert_int_equal(buf[36] << 8 | buf[37], dport);
			k = (buf[34] << 8 | buf[35]) - FLOW_PORT0;
			udp_frame(want, (uint16_t)k, dport);
			assert_memory_equal(buf, want, FRAME_LEN);
			got++;
			/* Per sending queue, the first ones waited; the rest
			 * were dropped. */
			assert_true(k / nqp_from < (int)TUNE_DEVICE_RING);
		}
		if (!any)
			sleep_ms(1);
	}
}

/* ---- the control socket ------------------------------------------------- */

/* One counter of device dev: of pair qp, or the device's own when qp < 0
 * ("frontend" reads 0 or 1); -1 when vhostmq does not answer. */
static long long
stat_get(const char *dev, int qp, const char *key)
{
	static char buf[65536];
	ssize_t n = fe_ctl_request(ctl_path, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf), 10000);
	json_t *st = n < 0 ? NULL : json_loadb(buf, (size_t)n, JSON_DISABLE_EOF_CHECK, NULL);
	const json_t *d;
	long long r = -1;
	size_t i;

	json_array_foreach(json_object_get(st, "devices"), i, d) {
		const json_t *v;

		if (strcmp(json_string_value(json_object_get(d, "name")), dev) != 0)
			continue;
		if (qp >= 0)
			d = json_array_get(json_object_get(d, "queue_pairs"), (size_t)qp);
		v = json_object_get(d, key);
		r = json_is_integer(v) ? json_integer_value(v) : json_is_boolean(v) ? json_is_true(v)
		                                                                       : -1;
	}
	json_decref(st);
	return r;
}

/* A counter of dev summed over its nqp pairs; -1 when vhostmq does not
 * answer. */
static long long
stat_sum(const char *dev, int nqp, const char *key)
{
	long long sum = 0;

	for (int qp = 0; qp < nqp; qp++) {
		long long v = stat_get(dev, qp, key);

		if (v < 0)
			return -1;
		sum += v;
	}
	return sum;
}

static long long
vm0_drops(void)
{
	return stat_sum("vm0", NQP0, "tx_drop_port");
}

static void
wait_frontend(const char *dev, long long want)
{
	int64_t end = now_ms() + 10000;

	while (stat_get(dev, -1, "frontend") != want && now_ms() < end)
		sleep_ms(10);
	assert_int_equal(stat_get(dev, -1, "frontend"), want);
}

/* ---- vhostmq ------------------------------------------------------------ */

static int
start_backend(void **state)
{
	FILE *f;

	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/vhostmq-devport-%d.json", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-devport-%d.log", getpid());
	snprintf(sock0, sizeof(sock0), "/tmp/vhostmq-devport-%d-0.sock", getpid());
	snprintf(sock1, sizeof(sock1), "/tmp/vhostmq-devport-%d-1.sock", getpid());
	snprintf(ctl_path, sizeof(ctl_path), "/tmp/vhostmq-devport-%d.ctl", getpid());
	f = fopen(cfg_path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "{ \"log_level\": \"info\", \"devices\": [\n"
	        "  { \"name\": \"vm0\", \"socket\": \"%s\", \"queue_pairs\": %d,"
	        " \"port\": \"device:vm1\" },\n"
	        "  { \"name\": \"vm1\", \"socket\": \"%s\", \"queue_pairs\": %d,"
	        " \"port\": \"device:vm0\" } ] }\n", sock0, NQP0, sock1, NQP1);
	if (fclose(f) != 0)
		return -1;
	backend = fe_spawn_backend(log_path, (char *[]){
		(char *)vhostmq_bin, "--config", cfg_path, "--control", ctl_path, NULL });
	for (int64_t end = now_ms() + 30000; access(ctl_path, F_OK) != 0; sleep_ms(20))
		if (backend <= 0 || now_ms() > end)
			return -1;
	return 0;
}

static int
stop_backend(void **state)
{
	(void)state;
	if (backend > 0)
		fe_stop_backend(backend);
	unlink(cfg_path);
	unlink(log_path);
	return 0;
}

/* Connects and starts a frontend, and returns once vhostmq runs every RX
 * ring of dev: from then on the peer's frames can go straight into them. */
static void
bring_up(struct fe *f, const char *sock, const char *dev, uint16_t nqp)
{
	assert_int_equal(fe_connect(f, sock, nqp, 5000), 0);
	assert_int_equal(fe_qemu_init(f), 0);
	assert_int_equal(fe_qemu_start(f, FEATURES, 256, 2048), 0);
	for (int64_t end = now_ms() + 10000; stat_sum(dev, nqp, "rx_enabled") != nqp;
	     sleep_ms(5))
		assert_true(now_ms() < end);
}

/* The sum of the tx_drops column of dev's rows in the exit table; -1 when
 * the table has no such device. */
static long long
exit_table_tx_drops(const char *dev, unsigned nqp)
{
	char line[512], head[128];
	long long sum = -1;
	FILE *f = fopen(log_path, "r");

	assert_non_null(f);
	snprintf(head, sizeof(head), "device %s  port device:", dev);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, head, strlen(head)) != 0)
			continue;
		sum = 0;
		assert_non_null(fgets(line, sizeof(line), f));   /* column names */
		for (unsigned qp = 0; qp < nqp; qp++) {
			unsigned q, core;
			unsigned long long tx, drops;
			double mpps;

			assert_non_null(fgets(line, sizeof(line), f));
			assert_int_equal(sscanf(line, "%u %u %llu %lf %llu", &q, &core, &tx, &mpps,
			                        &drops), 5);
			sum += (long long)drops;
		}
	}
	fclose(f);
	return sum;
}

static bool
log_has(const char *s)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(log_path, "r");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static void
test_two_vms(void **state)
{
	static int where[NFLOWS];
	unsigned per1[NQP1] = { 0 }, per0[NQP0] = { 0 }, other = 0;
	const long long away = (long long)NQP0 * AWAY_PER_QP;
	long long drops, want_drops;
	uint16_t done[NQP0];
	struct fe f0, f1;
	int status;

	(void)state;
	assert_true(log_has("device vm0: port device:vm1 (2 queue pairs each way)"));
	assert_true(log_has("device vm1: port device:vm0 (4 queue pairs each way)"));
	bring_up(&f0, sock0, "vm0", NQP0);
	bring_up(&f1, sock1, "vm1", NQP1);

	/* vm0 -> vm1: every flow once, intact, RSS over all 4 RX queues. */
	send_flows(&f0, NQP0, NFLOWS, TO_VM1);
	recv_flows(&f1, NQP1, NFLOWS, TO_VM1, where, per1, &other);
	for (uint16_t qp = 0; qp < NQP1; qp++) {
		print_message("vm1 RX queue %u: %u flows\n", qp, per1[qp]);
		assert_true(per1[qp] > NFLOWS / NQP1 / 2);
	}
	assert_int_equal(other, 0);
	assert_int_equal(stat_sum("vm0", NQP0, "tx_direct"), NFLOWS);
	/* vm1 -> vm0, over its 4 TX queues into vm0's 2 port queues. */
	send_flows(&f1, NQP1, NFLOWS / 2, TO_VM0);
	recv_flows(&f0, NQP0, NFLOWS / 2, TO_VM0, where, per0, &other);
	assert_true(per0[0] > 0 && per0[1] > 0);
	assert_int_equal(other, 0);
	assert_int_equal(vm0_drops(), 0);
	assert_int_equal(stat_sum("vm1", NQP1, "tx_direct"), NFLOWS / 2);

	/* vm1's frontend leaves; vm0 sends on, more than vm1's rings hold. */
	fe_close(&f1);
	wait_frontend("vm1", 0);
	for (uint16_t qp = 0; qp < NQP0; qp++)
		done[qp] = fe_tx_done(&f0, qp);
	send_flows(&f0, NQP0, (uint16_t)away, WHILE_AWAY);   /* fe_tx fails if TX stalls */
	for (uint16_t qp = 0; qp < NQP0; qp++) {
		int64_t end = now_ms() + 10000;

		while ((uint16_t)(fe_tx_done(&f0, qp) - done[qp]) != AWAY_PER_QP && now_ms() < end)
			sleep_ms(1);
		assert_int_equal((uint16_t)(fe_tx_done(&f0, qp) - done[qp]), AWAY_PER_QP);
	}
	/* vm0's TX queue i feeds vm1's port ring i: each holds TUNE_DEVICE_RING. */
	want_drops = away - (long long)NQP0 * TUNE_DEVICE_RING;
	for (int64_t end = now_ms() + 5000; (drops = vm0_drops()) < want_drops && now_ms() < end;)
		sleep_ms(10);
	print_message("vm0 sent %lld frames while vm1 was away, %lld dropped\n", away, drops);
	assert_int_equal(drops, want_drops);
	assert_int_equal(stat_get("vm0", -1, "frontend"), 1);   /* vhostmq is still up */
	assert_int_equal(stat_sum("vm0", NQP0, "tx_direct"), NFLOWS);   /* none while away */

	/* vm1 is back: what waited in its port rings comes first, then new
	 * traffic flows both ways. */
	bring_up(&f1, sock1, "vm1", NQP1);
	recv_waiting(&f1, NQP1, NQP0 * TUNE_DEVICE_RING, NQP0, WHILE_AWAY);
	memset(per1, 0, sizeof(per1));
	other = 0;
	send_flows(&f0, NQP0, NFLOWS, AGAIN_TO_VM1);
	recv_flows(&f1, NQP1, NFLOWS, AGAIN_TO_VM1, where, per1, &other);
	assert_int_equal(other, 0);
	for (uint16_t qp = 0; qp < NQP1; qp++)
		assert_true(per1[qp] > 0);
	memset(per0, 0, sizeof(per0));
	other = 0;
	send_flows(&f1, NQP1, 64, AGAIN_TO_VM0);
	recv_flows(&f0, NQP0, 64, AGAIN_TO_VM0, where, per0, &other);
	assert_int_equal(other, 0);
	assert_int_equal(vm0_drops(), want_drops);
	fe_close(&f0);
	fe_close(&f1);

	/* The exit table counts the same drops. */
	status = fe_stop_backend(backend);
	backend = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fe_dump_log(log_path);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(exit_table_tx_drops("vm0", NQP0), want_drops);
	assert_int_equal(exit_table_tx_drops("vm1", NQP1), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_two_vms),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("device_port", t, start_backend, stop_backend);
}
