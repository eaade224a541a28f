/* SPDX-License-Identifier: BSD-3-Clause */
/* bench/tools/memcpy.c - vhostmq-memcpy: how many N-byte copies one core can
 * do per second with glibc's memcpy, the ceiling a vhost backend's copy loop
 * runs into on one core. Sources cycle through an 8 MiB ring of buffers, more
 * than a core's L2, as guest TX buffers written by another core would be;
 * destinations cycle through a small ring that stays cached, as recycled mbufs
 * do. Prints one JSON line. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Default source ring: larger than the L2 of current x86 and arm64 server
 * cores (1-2 MiB), so every source line comes from L3 (or memory, on parts
 * with less L3), not from the previous lap. --src-mib picks another size,
 * e.g. one far beyond L3 for a DRAM-bound figure. */
#define SRC_MIB_DEFAULT 8u
#define SRC_MIB_MAX 16384u
/* A mempool cache's worth of mbufs (DPDK's default cache is 512 per lcore). */
#define DST_SLOTS 512u
#define MAX_SIZE  (1u << 20)
/* Copies between clock reads: at ~10 ns per copy, a read every ~10 us keeps
 * the clock out of the measurement and the overshoot of --seconds tiny. */
#define CHECK_EVERY 1024u

static const char usage[] =
"Usage: vhostmq-memcpy [--size N] [--seconds S] [--src-mib M]\n"
"Single-thread memcpy bandwidth of N-byte copies (default 1518) from a ring\n"
"of source buffers of M MiB (default 8: more than L2, so sources come from L3\n"
"or memory) into a cached ring of 512 destination buffers, for S seconds\n"
"(default 1): the single-core ceiling of a vhost backend's copy. Gbps counts\n"
"the bytes copied. Prints one JSON line:\n"
"{\"size\":N,\"copies\":..,\"seconds\":..,\"mpps\":..,\"gbps\":..}\n"
"Pin it (taskset -c CPU) to measure one core.\n";

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

static int
parse_args(int argc, char **argv, unsigned *size, double *seconds, unsigned *src_mib)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "src-mib", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:m:h", opts, NULL)) != -1) {
		unsigned long v;

		errno = 0;
		switch (c) {
		case 'n':
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > MAX_SIZE) {
				fprintf(stderr, "vhostmq-memcpy: --size: 1..%u bytes\n", MAX_SIZE);
				return 2;
			}
			*size = (unsigned)v;
			break;
		case 'm':
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > SRC_MIB_MAX) {
				fprintf(stderr, "vhostmq-memcpy: --src-mib: 1..%u\n", SRC_MIB_MAX);
				return 2;
			}
			*src_mib = (unsigned)v;
			break;
		case 's':
			*seconds = strtod(optarg, &end);
			if (*end || !(*seconds > 0 && *seconds <= 3600)) {
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
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned size = 1518, src_mib = SRC_MIB_DEFAULT;
	double seconds = 1.0, t0, t1 = 0;
	uint64_t copies = 0;
	size_t stride, n_src, si = 0, di = 0;
	uint8_t *src, *dst;
	int rc = parse_args(argc, argv, &size, &seconds, &src_mib);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	/* Cache-line stride, as mbuf data rooms and guest buffers are laid out. */
	stride = (size + 63u) & ~(size_t)63;
	n_src = ((size_t)src_mib << 20) / stride;
	if (n_src == 0)
		n_src = 1;
	src = aligned_alloc(64, n_src * stride);
	dst = aligned_alloc(64, DST_SLOTS * stride);
	if (src == NULL || dst == NULL) {
		fprintf(stderr, "vhostmq-memcpy: out of memory\n");
		return 1;
	}
	/* Fault every page in (and make the source non-zero pages) before timing. */
	memset(src, 0x5a, n_src * stride);
	memset(dst, 0, DST_SLOTS * stride);
	for (size_t k = 0; k < n_src; k++) {
		memcpy(dst + (k % DST_SLOTS) * stride, src + k * stride, size);
		escape(dst);
	}
	t0 = now_s();
	for (;;) {
		for (unsigned k = 0; k < CHECK_EVERY; k++) {
			memcpy(dst + di * stride, src + si * stride, size);
			escape(dst);
			if (++si == n_src)
				si = 0;
			if (++di == DST_SLOTS)
				di = 0;
		}
		copies += CHECK_EVERY;
		t1 = now_s();
		if (t1 - t0 >= seconds)
			break;
	}
	t1 -= t0;
	printf("{\"size\":%u,\"copies\":%llu,\"seconds\":%.6f,\"mpps\":%.3f,\"gbps\":%.3f}\n",
	       size, (unsigned long long)copies, t1, (double)copies / t1 / 1e6,
	       (double)copies * size * 8 / t1 / 1e9);
	free(src);
	free(dst);
	return 0;
}
