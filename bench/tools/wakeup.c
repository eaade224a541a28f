/* SPDX-License-Identifier: BSD-3-Clause */
/* bench/tools/wakeup.c - vhostmq-wakeup: what adaptive polling costs and saves.
 * As a vhost-user frontend (tests/frontend), it attaches one queue pair to a
 * running vhostmq that reflects frames (--port loopback --poll-mode adaptive),
 * leaves the device attached and idle while it reads vhostmq's CPU time from
 * /proc/PID/stat, then times the first packet after silences long enough for
 * the poll thread to fall asleep: frontend TX and kick, vhostmq wakes, copies
 * the frame to the loopback and back into the guest RX ring. The clock stops
 * when the RX used index moves (busy-polled), so a sample is the round trip
 * including one wake-up. With --floor-cpu it also times the same number of
 * bare wake-ups of a thread sleeping in epoll_wait on that CPU (an eventfd
 * write, no vhostmq): what this machine's scheduler and hypervisor charge
 * any sleeping poller, so vhostmq's figure can be read against it. Prints one
 * JSON line. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "tests/frontend/frontend.h"
#include "virtio/spec.h"

/* QEMU's usual set for a vhost-user netdev (mergeable RX, event idx). */
#define WANT (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
              VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
#define RING       256
#define RX_BUF     1536u                 /* Linux's mergeable buffer at MTU 1500 */
#define FRAME      64u
#define CONNECT_MS 5000
#define SAMPLE_TIMEOUT_NS INT64_C(1000000000)  /* a lost frame, not a slow one */

static const char usage[] =
"Usage: vhostmq-wakeup --socket PATH --pid PID [--idle-seconds S] [--samples N]\n"
"                      [--gap-ms M] [--floor-cpu C]\n"
"Attaches to a running vhostmq (started with --port loopback --poll-mode\n"
"adaptive --queues 1 --cores X) as a vhost-user frontend with one queue\n"
"pair, and measures:\n"
"  idle: vhostmq's CPU use (utime + stime from /proc/PID/stat, percent of one\n"
"        core) while the device sits attached and idle for S seconds\n"
"        (default 5);\n"
"  wake-up: N times (default 200), after M ms of silence (default 20), the\n"
"        ROUND-TRIP latency of the first packet: one 64-byte frame sent,\n"
"        vhostmq wakes, reflects it through its loopback port into the guest\n"
"        RX ring, and the used index moving stops the clock (busy-polled,\n"
"        CLOCK_MONOTONIC). It is frontend -> wake -> loopback -> guest RX, not\n"
"        the wake-up alone.\n"
"  floor (--floor-cpu C): N bare wake-ups, after the same silences, of a\n"
"        thread of this tool sleeping in epoll_wait on CPU C (an eventfd\n"
"        write; the clock stops when it runs): the platform's own cost of\n"
"        waking a sleeper, vhostmq's lower bound.\n"
"Prints one JSON line:\n"
"{\"idle_seconds\":..,\"idle_cpu_percent\":..,\"samples\":N,\n"
" \"wakeup_us\":{\"p50\":..,\"p99\":..,\"max\":..}[,\"floor_us\":{...}]}\n";

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* utime + stime of a process in clock ticks, or -1. The command name (field
 * 2) may hold spaces and parentheses, so fields are counted after its last
 * ')'. */
static long long
proc_cpu_ticks(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt
	 * cminflt majflt cmajflt utime(14) stime(15). */
	if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	                        &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct_us(const int64_t *v, unsigned n, unsigned pct)
{
	unsigned rank = (unsigned)(((uint64_t)pct * n + 99) / 100);

	return (double)v[rank ? rank - 1 : 0] / 1000.0;
}

/* A 64-byte Ethernet frame from one locally administered MAC to another. */
static void
make_frame(uint8_t *f, uint32_t seq)
{
	static const uint8_t head[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5 };

	memset(f, 0, FRAME);
	memcpy(f, head, sizeof(head));
	memcpy(f + sizeof(head), &seq, sizeof(seq));
}

/* Sends one frame and busy-waits for its reflection; the round trip in ns,
 * or -1 (lost, malformed or refused). */
static int64_t
one_sample(struct fe *f, uint32_t seq)
{
	uint8_t frame[FRAME], back[RX_BUF * 4];
	uint16_t seen = fe_used_idx(f, 0);
	int64_t t0, t1;
	int len;

	make_frame(frame, seq);
	t0 = now_ns();
	if (fe_tx(f, 0, frame, FRAME, false) != 0)
		return -1;
	while ((t1 = now_ns()) - t0 < SAMPLE_TIMEOUT_NS)
		if (fe_used_idx(f, 0) != seen)
			break;
	if (t1 - t0 >= SAMPLE_TIMEOUT_NS)
		return -1;
	/* Consumes and re-posts the RX buffer; it is already there. */
	len = fe_rx(f, 0, back, sizeof(back), 1000);
	if (len != (int)FRAME || memcmp(back + 14, frame + 14, FRAME - 14) != 0)
		return -1;
	return t1 - t0;
}

/* The floor: a thread that sleeps in epoll_wait on an eventfd and says when
 * it ran. */
struct sleeper {
	int efd, epfd;
	unsigned cpu;
	int woke;                        /* atomic: set by the sleeper */
};

static void *
sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct epoll_event ev;
	cpu_set_t set;
	eventfd_t v = 0;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return NULL;
	for (;;) {
		if (epoll_wait(s->epfd, &ev, 1, -1) != 1)
			continue;
		if (eventfd_read(s->efd, &v) == 0)
			__atomic_store_n(&s->woke, 1, __ATOMIC_RELEASE);
		if (v == 2)
			return NULL;             /* asked to stop */
	}
}

/* n wake-ups after gap_ms silences, sorted into lat; 0 or -1. */
static int
floor_samples(unsigned cpu, unsigned n, unsigned gap_ms, int64_t *lat)
{
	struct sleeper s = { .cpu = cpu };
	struct epoll_event ev = { .events = EPOLLIN };
	pthread_t t;
	int rc = -1;

	s.efd = eventfd(0, EFD_NONBLOCK);
	s.epfd = epoll_create1(0);
	if (s.efd < 0 || s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.efd, &ev) != 0 ||
	    pthread_create(&t, NULL, sleeper_main, &s) != 0)
		goto out;
	for (unsigned k = 0; k < n; k++) {
		int64_t t0;

		sleep_ns((int64_t)gap_ms * 1000000);
		__atomic_store_n(&s.woke, 0, __ATOMIC_RELAXED);
		t0 = now_ns();
		if (eventfd_write(s.efd, 1) != 0)
			break;
		while (!__atomic_load_n(&s.woke, __ATOMIC_ACQUIRE))
			if (now_ns() - t0 > SAMPLE_TIMEOUT_NS)
				break;
		lat[k] = now_ns() - t0;
		rc = k + 1 == n ? 0 : -1;
	}
	(void)eventfd_write(s.efd, 2);
	pthread_join(t, NULL);
	qsort(lat, n, sizeof(lat[0]), cmp_i64);
out:
	if (s.efd >= 0)
		close(s.efd);
	if (s.epfd >= 0)
		close(s.epfd);
	return rc;
}

struct args {
	const char *socket;
	long pid;
	double idle_s;
	unsigned samples, gap_ms;
	long floor_cpu;                  /* -1: no floor */
};

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "idle-seconds", required_argument, NULL, 'i' },
		{ "samples", required_argument, NULL, 'n' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "floor-cpu", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "s:p:i:n:g:f:h", opts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 's':
			a->socket = optarg;
			break;
		case 'p':
			a->pid = strtol(optarg, &end, 10);
			if (errno || *end || a->pid <= 0) {
				fprintf(stderr, "vhostmq-wakeup: --pid: a process id\n");
				return 2;
			}
			break;
		case 'i':
			a->idle_s = strtod(optarg, &end);
			if (*end || !(a->idle_s > 0 && a->idle_s <= 3600)) {
				fprintf(stderr, "vhostmq-wakeup: --idle-seconds: more than 0, at most 3600\n");
				return 2;
			}
			break;
		case 'n':
		case 'g':
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > 100000) {
				fprintf(stderr, "vhostmq-wakeup: --%s: 1..100000\n",
				        c == 'n' ? "samples" : "gap-ms");
				return 2;
			}
			*(c == 'n' ? &a->samples : &a->gap_ms) = (unsigned)v;
			break;
		case 'f':
			a->floor_cpu = strtol(optarg, &end, 10);
			if (errno || *end || a->floor_cpu < 0 || a->floor_cpu >= CPU_SETSIZE) {
				fprintf(stderr, "vhostmq-wakeup: --floor-cpu: a CPU number\n");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || a->socket == NULL || a->pid == 0) {
		fputs(usage, stderr);
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a = { .idle_s = 5.0, .samples = 200, .gap_ms = 20, .floor_cpu = -1 };
	long long c0, c1;
	int64_t t0, t1, *lat = NULL;
	double idle_pct;
	long hz = sysconf(_SC_CLK_TCK);
	struct fe f;
	int rc = parse_args(argc, argv, &a);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	lat = calloc(a.samples, sizeof(lat[0]));
	if (lat == NULL || hz <= 0) {
		fprintf(stderr, "vhostmq-wakeup: out of memory\n");
		return 1;
	}
	rc = fe_connect(&f, a.socket, 1, CONNECT_MS);
	if (rc == 0 && (rc = fe_qemu_init(&f)) == 0)
		rc = fe_qemu_start(&f, WANT, RING, RX_BUF);
	if (rc != 0) {
		fprintf(stderr, "vhostmq-wakeup: attaching to %s: %s\n", a.socket, strerror(-rc));
		goto fail;
	}
	/* One frame through first: the rings work before anything is measured. */
	if (one_sample(&f, 0) < 0) {
		fprintf(stderr, "vhostmq-wakeup: no frame came back through %s\n", a.socket);
		goto fail;
	}

	c0 = proc_cpu_ticks(a.pid);
	t0 = now_ns();
	sleep_ns((int64_t)(a.idle_s * 1e9));
	c1 = proc_cpu_ticks(a.pid);
	t1 = now_ns();
	if (c0 < 0 || c1 < 0) {
		fprintf(stderr, "vhostmq-wakeup: cannot read /proc/%ld/stat\n", a.pid);
		goto fail;
	}
	idle_pct = (double)(c1 - c0) / (double)hz / ((double)(t1 - t0) / 1e9) * 100.0;

	for (unsigned k = 0; k < a.samples; k++) {
		sleep_ns((int64_t)a.gap_ms * 1000000);
		lat[k] = one_sample(&f, k + 1);
		if (lat[k] < 0) {
			fprintf(stderr, "vhostmq-wakeup: sample %u: frame lost or malformed\n", k);
			goto fail;
		}
	}
	qsort(lat, a.samples, sizeof(lat[0]), cmp_i64);
	printf("{\"idle_seconds\":%.3f,\"idle_cpu_percent\":%.3f,\"samples\":%u,"
	       "\"wakeup_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
	       (double)(t1 - t0) / 1e9, idle_pct, a.samples, pct_us(lat, a.samples, 50),
	       pct_us(lat, a.samples, 99), (double)lat[a.samples - 1] / 1000.0);
	if (a.floor_cpu >= 0) {
		if (floor_samples((unsigned)a.floor_cpu, a.samples, a.gap_ms, lat) != 0) {
			fprintf(stderr, "vhostmq-wakeup: floor: a sleeper on CPU %ld did not wake\n",
			        a.floor_cpu);
			goto fail;
		}
		printf(",\"floor_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
		       pct_us(lat, a.samples, 50), pct_us(lat, a.samples, 99),
		       (double)lat[a.samples - 1] / 1000.0);
	}
	printf("}\n");
	fe_close(&f);
	free(lat);
	return 0;
fail:
	fe_close(&f);
	free(lat);
	return 1;
}
