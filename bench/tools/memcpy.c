/* SPDX-License-Identifier: BSD-3-Clause */
/* bench/tools/memcpy.c - vhostmq-memcpy: how many N-byte copies one core can
 * do per second with glibc's memcpy, the ceiling a vhost backend's copy loop
 * runs into. Destinations cycle through a small ring that stays cached, as
 * recycled mbufs do. Two kinds of source, one per mode:
 *   single-core  sources cycle through an 8 MiB ring of buffers, more than a
 *                core's L2, so they come from L3 (or memory);
 *   cross-core   (--writer-cpu W) a writer thread pinned to CPU W writes each
 *                frame into a 256-slot ring just before this thread copies
 *                it, as the frontend's core writes every frame a backend
 *                copies: each source line moves from W's cache to ours, the
 *                real limit of a frontend and a backend on two cores.
 * Prints one JSON line. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Default source ring: larger than the L2 of current x86 and arm64 server
 * cores (1-2 MiB), so every source line comes from L3 (or memory, on parts
 * with less L3), not from the previous lap. --src-mib picks another size,
 * e.g. one far beyond L3 for a DRAM-bound figure. */
#define SRC_MIB_DEFAULT 8u
#define SRC_MIB_MAX 16384u
/* A mempool cache's worth of mbufs (DPDK's default cache is 512 per lcore). */
#define DST_SLOTS 512u
/* The writer's ring: a virtqueue of the usual 256 buffers. */
#define XR_SLOTS 256u
#define MAX_SIZE  (1u << 20)
/* Copies between clock reads: at ~10 ns per copy, a read every ~10 us keeps
 * the clock out of the measurement and the overshoot of --seconds tiny. */
#define CHECK_EVERY 1024u
#define CACHE_LINE 64u

static const char usage[] =
"Usage: vhostmq-memcpy [--size N] [--seconds S] [--src-mib M | --writer-cpu W]\n"
"memcpy bandwidth of N-byte copies (default 1518) into a cached ring of 512\n"
"destination buffers, for S seconds (default 1), on the CPU it runs on: the\n"
"ceiling of a vhost backend's copy. Gbps counts the bytes copied.\n"
"  single-core (default): sources from a ring of buffers of M MiB (default 8:\n"
"    more than L2, so sources come from L3 or memory).\n"
"  cross-core (--writer-cpu W): a thread pinned to CPU W writes each frame\n"
"    into a ring of 256 buffers just before it is copied, as a frontend on\n"
"    another core does; W must not be a CPU the copier may run on.\n"
"Prints one JSON line:\n"
"{\"mode\":\"single-core\",\"size\":N,\"copies\":..,\"seconds\":..,\"mpps\":..,\"gbps\":..}\n"
"(cross-core: \"mode\":\"cross-core\",\"writer_cpu\":W,...)\n"
"Pin it (taskset -c CPU) to measure one core.\n";

struct opts {
	unsigned size, src_mib;
	double seconds;
	bool cross_core;         /* --writer-cpu given */
	unsigned writer_cpu;
};

struct result {
	uint64_t copies;
	double seconds;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Tells the compiler the copy's result is used, so it may neither drop nor
 * merge copies. */
static inline void
escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* One turn of a spin-wait: lets the sibling hyperthread run and keeps the
 * loop from flooding the memory pipeline on x86. */
static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" : : : "memory");
#endif
}

static size_t
line_stride(unsigned size)
{
	/* Cache-line stride, as mbuf data rooms and guest buffers are laid out. */
	return (size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
}

static bool
parse_uint(const char *opt, const char *arg, unsigned long lo, unsigned long hi,
           unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v < lo || v > hi) {
		fprintf(stderr, "vhostmq-memcpy: %s: %lu..%lu, not \"%s\"\n", opt, lo, hi, arg);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* CPUs the kernel knows (a cpu_set_t holds at most CPU_SETSIZE); whether
 * this process may use one is up to pthread_setaffinity_np. */
static unsigned long
known_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n >= 1 && n <= CPU_SETSIZE ? (unsigned long)n : CPU_SETSIZE;
}

/* 0: run; 1: --help printed; 2: bad arguments (reported). */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "src-mib", required_argument, NULL, 'm' },
		{ "writer-cpu", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool src_mib_set = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:m:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_uint("--size", optarg, 1, MAX_SIZE, &o->size))
				return 2;
			break;
		case 'm':
			if (!parse_uint("--src-mib", optarg, 1, SRC_MIB_MAX, &o->src_mib))
				return 2;
			src_mib_set = true;
			break;
		case 'w':
			if (!parse_uint("--writer-cpu", optarg, 0, known_cpus() - 1,
			                &o->writer_cpu))
				return 2;
			o->cross_core = true;
			break;
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 3600)) {
				fprintf(stderr, "vhostmq-memcpy: --seconds: more than 0, at most 3600\n");
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
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (src_mib_set && o->cross_core) {
		fprintf(stderr, "vhostmq-memcpy: --src-mib is for the single-core mode; "
		        "--writer-cpu writes its own 256-slot ring\n");
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------ single-core */
static int
single_core(const struct opts *o, struct result *res)
{
	size_t stride = line_stride(o->size), si = 0, di = 0;
	size_t n_src = ((size_t)o->src_mib << 20) / stride;
	double t0, t1 = 0;
	uint8_t *src, *dst;

	if (n_src == 0)
		n_src = 1;
	src = aligned_alloc(CACHE_LINE, n_src * stride);
	dst = aligned_alloc(CACHE_LINE, DST_SLOTS * stride);
	if (src == NULL || dst == NULL) {
		fprintf(stderr, "vhostmq-memcpy: out of memory\n");
		free(src);
		free(dst);
		return 1;
	}
	/* Fault every page in (and make the source non-zero pages) before timing. */
	memset(src, 0x5a, n_src * stride);
	memset(dst, 0, DST_SLOTS * stride);
	for (size_t k = 0; k < n_src; k++) {
		memcpy(dst + (k % DST_SLOTS) * stride, src + k * stride, o->size);
		escape(dst);
	}
	res->copies = 0;
	t0 = now_s();
	for (;;) {
		for (unsigned k = 0; k < CHECK_EVERY; k++) {
			memcpy(dst + di * stride, src + si * stride, o->size);
			escape(dst);
			if (++si == n_src)
				si = 0;
			if (++di == DST_SLOTS)
				di = 0;
		}
		res->copies += CHECK_EVERY;
		t1 = now_s();
		if (t1 - t0 >= o->seconds)
			break;
	}
	res->seconds = t1 - t0;
	free(src);
	free(dst);
	return 0;
}

/* ------------------------------------------------------------ cross-core */
/* One sequence word per slot, each on its own line: the two threads meet
 * only on the slot being handed over, never on its neighbours. */
struct xslot {
	_Alignas(CACHE_LINE) uint64_t seq;
};

enum xr_state { XR_WAIT, XR_RUN, XR_STOP };

/* The ring the writer fills and the copier drains (Vyukov's bounded queue):
 * slot n % XR_SLOTS is free for frame n when its seq is n, and holds frame n
 * when its seq is n + 1. */
struct xring {
	struct xslot *slot;      /* seq written by the writer (n + 1, full) and by
	                            the copier (n + XR_SLOTS, free for the next lap) */
	uint8_t *buf;            /* XR_SLOTS * stride bytes, written by the writer */
	size_t stride;
	unsigned size;
	int state;               /* enum xr_state, written by the copier only */
};

/* Frame n's bytes: its lap number, so every rewrite of a slot changes all of
 * its bytes and a copy of a stale frame shows. */
static inline uint8_t
frame_byte(uint64_t n)
{
	return (uint8_t)(n / XR_SLOTS + 1);
}

static void *
writer_main(void *arg)
{
	struct xring *r = arg;
	int state;

	/* Acquire pairs with the copier's release of XR_RUN or XR_STOP: this
	 * thread writes nothing before it is on its CPU. */
	while ((state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE)) == XR_WAIT)
		cpu_relax();
	if (state == XR_STOP)
		return NULL;
	for (uint64_t n = 0;; n++) {
		struct xslot *s = &r->slot[n % XR_SLOTS];

		/* Acquire pairs with the copier's release hand-back in
		 * copy_frame(): the slot is rewritten only after its copy. */
		while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != n) {
			if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) == XR_STOP)
				return NULL;
			cpu_relax();
		}
		memset(r->buf + (n % XR_SLOTS) * r->stride, frame_byte(n), r->size);
		/* Release pairs with the copier's acquire in copy_frame(): all of
		 * the frame is visible before the slot says it is full. */
		__atomic_store_n(&s->seq, n + 1, __ATOMIC_RELEASE);
	}
}

/* Waits for frame n, copies it to dst and hands its slot back; false when the
 * copy is not what the writer wrote. */
static inline bool
copy_frame(struct xring *r, uint8_t *dst, uint64_t n)
{
	struct xslot *s = &r->slot[n % XR_SLOTS];

	/* Acquire pairs with the writer's release: the frame is read only after
	 * all of it is written. */
	while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != n + 1)
		cpu_relax();
	memcpy(dst, r->buf + (n % XR_SLOTS) * r->stride, r->size);
	escape(dst);
	/* Release pairs with the writer's acquire wait: the copy has read the
	 * frame before the slot is rewritten. */
	__atomic_store_n(&s->seq, n + XR_SLOTS, __ATOMIC_RELEASE);
	return dst[r->size - 1] == frame_byte(n);
}

/* The writer must have a core of its own: if the copier may run on the
 * writer's CPU, the two share it and the figure means nothing. */
static bool
writer_cpu_is_apart(unsigned writer_cpu)
{
	cpu_set_t mine;

	if (sched_getaffinity(0, sizeof(mine), &mine) != 0) {
		perror("vhostmq-memcpy: sched_getaffinity");
		return false;
	}
	if (CPU_ISSET(writer_cpu, &mine)) {
		fprintf(stderr, "vhostmq-memcpy: --writer-cpu %u: the copier may run on "
		        "CPU %u too; pin it to other CPUs (taskset -c CPU)\n",
		        writer_cpu, writer_cpu);
		return false;
	}
	return true;
}

static int
pin_writer(pthread_t writer, unsigned writer_cpu)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(writer_cpu, &set);
	err = pthread_setaffinity_np(writer, sizeof(set), &set);
	if (err != 0)
		fprintf(stderr, "vhostmq-memcpy: --writer-cpu %u: pthread_setaffinity_np: "
		        "%s%s\n", writer_cpu, strerror(err),
		        err == EINVAL ? " (a CPU this process may not use)" : "");
	return err;
}

/* Runs on the copier's thread, timed, after a warm-up lap of both rings;
 * the writer is started, pinned and stopped here. */
static int
copy_from_writer(struct xring *r, const struct opts *o, uint8_t *dst, struct result *res)
{
	size_t di = 0;
	uint64_t n = 0, bad = 0;
	double t0, t1 = 0;
	pthread_t writer;
	int err = pthread_create(&writer, NULL, writer_main, r);

	if (err != 0) {
		fprintf(stderr, "vhostmq-memcpy: pthread_create: %s\n", strerror(err));
		return 1;
	}
	err = pin_writer(writer, o->writer_cpu);
	/* Release pairs with the writer's acquire of the state. */
	__atomic_store_n(&r->state, err == 0 ? XR_RUN : XR_STOP, __ATOMIC_RELEASE);
	if (err != 0) {
		pthread_join(writer, NULL);
		return 1;
	}
	for (; n < DST_SLOTS; n++)
		bad += !copy_frame(r, dst + n * r->stride, n);
	t0 = now_s();
	for (;;) {
		for (unsigned k = 0; k < CHECK_EVERY; k++, n++) {
			bad += !copy_frame(r, dst + di * r->stride, n);
			if (++di == DST_SLOTS)
				di = 0;
		}
		t1 = now_s();
		if (t1 - t0 >= o->seconds)
			break;
	}
	__atomic_store_n(&r->state, XR_STOP, __ATOMIC_RELEASE);
	pthread_join(writer, NULL);
	res->copies = n - DST_SLOTS;
	res->seconds = t1 - t0;
	if (bad != 0) {
		fprintf(stderr, "vhostmq-memcpy: %llu of %llu copies were not what the "
		        "writer wrote (slot hand-over broken)\n",
		        (unsigned long long)bad, (unsigned long long)n);
		return 1;
	}
	return 0;
}

static int
cross_core(const struct opts *o, struct result *res)
{
	struct xring r = { .stride = line_stride(o->size), .size = o->size,
	                   .state = XR_WAIT };
	uint8_t *dst;
	int rc = 1;

	if (!writer_cpu_is_apart(o->writer_cpu))
		return 2;
	r.slot = aligned_alloc(CACHE_LINE, XR_SLOTS * sizeof(*r.slot));
	r.buf = aligned_alloc(CACHE_LINE, XR_SLOTS * r.stride);
	dst = aligned_alloc(CACHE_LINE, DST_SLOTS * r.stride);
	if (r.slot == NULL || r.buf == NULL || dst == NULL) {
		fprintf(stderr, "vhostmq-memcpy: out of memory\n");
		goto out;
	}
	for (unsigned k = 0; k < XR_SLOTS; k++)
		r.slot[k].seq = k;       /* every slot free for the first lap */
	/* Fault every page in before the writer starts. */
	memset(r.buf, 0, XR_SLOTS * r.stride);
	memset(dst, 0, DST_SLOTS * r.stride);
	rc = copy_from_writer(&r, o, dst, res);
out:
	free(r.slot);
	free(r.buf);
	free(dst);
	return rc;
}

static void
print_result(const struct opts *o, const struct result *res)
{
	if (o->cross_core)
		printf("{\"mode\":\"cross-core\",\"writer_cpu\":%u,", o->writer_cpu);
	else
		printf("{\"mode\":\"single-core\",");
	printf("\"size\":%u,\"copies\":%llu,\"seconds\":%.6f,\"mpps\":%.3f,\"gbps\":%.3f}\n",
	       o->size, (unsigned long long)res->copies, res->seconds,
	       (double)res->copies / res->seconds / 1e6,
	       (double)res->copies * o->size * 8 / res->seconds / 1e9);
}

int
main(int argc, char **argv)
{
	struct opts o = { .size = 1518, .src_mib = SRC_MIB_DEFAULT, .seconds = 1.0 };
	struct result res;
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	rc = o.cross_core ? cross_core(&o, &res) : single_core(&o, &res);
	if (rc == 0)
		print_result(&o, &res);
	return rc;
}
