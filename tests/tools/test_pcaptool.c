/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/tools/test_pcaptool.c - self-test of pcaptool, the checker the
 * integration tests trust: it runs the real binary (path in argv[1]) on files
 * it generates, then edits copies byte by byte (MACs swapped, one byte
 * flipped, records cut, dropped, reordered, duplicated, rewritten big-endian
 * with nanosecond timestamps as DPDK's net_pcap writes them) and asserts
 * that "cmp" accepts exactly the faithful copies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define GHDR 24u
#define RHDR 16u

static char *pcaptool;
static char dir[] = "/tmp/test-pcaptool.XXXXXX";

struct blob {
	uint8_t *p;
	size_t n;
};

static char out[8192];                   /* output of the last run() */

/* Run pcaptool in dir with the given arguments; returns its exit status. */
static int
run(const char *fmt, ...)
{
	char cmd[4096], args[3000];
	va_list ap;
	FILE *fp;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd %s && %s %s 2>&1", dir, pcaptool, args);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	st = pclose(fp);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static struct blob
load(const char *name)
{
	char path[512];
	struct blob b = { 0 };
	FILE *fp;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	b.n = (size_t)len;
	b.p = malloc(b.n + 1);
	assert_non_null(b.p);
	assert_int_equal(fread(b.p, 1, b.n, fp), b.n);
	fclose(fp);
	return b;
}

static void
store(const char *name, const struct blob *b)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(b->p, 1, b->n, fp), b->n);
	assert_int_equal(fclose(fp), 0);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Offsets of the record headers of b, at most max of them; returns count. */
static size_t
records(const struct blob *b, size_t *off, size_t max)
{
	size_t n = 0;

	for (size_t o = GHDR; o + RHDR <= b->n && n < max;) {
		uint32_t incl = le32(b->p + o + 8);

		if (o + RHDR + incl > b->n)
			break;
		off[n++] = o;
		o += RHDR + incl;
	}
	return n;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
swap_macs(struct blob *b)
{
	size_t off[256], n = records(b, off, 256);

	for (size_t i = 0; i < n; i++) {
		uint8_t *f = b->p + off[i] + RHDR, t[6];

		memcpy(t, f, 6);
		memcpy(f, f + 6, 6);
		memcpy(f + 6, t, 6);
	}
}

/* A new blob with records taken from b in the order given by idx. */
static struct blob
reorder(const struct blob *b, const size_t *idx, size_t k)
{
	size_t off[256], n = records(b, off, 256);
	struct blob r = { .p = malloc(b->n * 2), .n = GHDR };

	assert_non_null(r.p);
	memcpy(r.p, b->p, GHDR);
	for (size_t i = 0; i < k; i++) {
		size_t o, len;

		assert_true(idx[i] < n);
		o = off[idx[i]];
		len = RHDR + le32(b->p + o + 8);
		memcpy(r.p + r.n, b->p + o, len);
		r.n += len;
	}
	return r;
}

static int
setup(void **state)
{
	struct blob b;

	(void)state;
	if (run("gen a.pcap --count 40 --sizes 60,64,1500,9000,2048 --seed 7 --flows 3"))
		return -1;
	b = load("a.pcap");
	swap_macs(&b);                           /* what a MAC-swapping peer returns */
	store("swapped.pcap", &b);
	free(b.p);
	return 0;
}

static void
test_gen_count(void **state)
{
	(void)state;
	assert_int_equal(run("count a.pcap"), 0);
	assert_string_equal(out, "40\n");
	assert_int_equal(run("gen b.pcap --count 40 --sizes 60,64,1500,9000,2048 "
			     "--seed 7 --flows 3"), 0);
	assert_int_equal(run("cmp a.pcap b.pcap"), 0);
	assert_int_equal(run("gen c.pcap --count 40 --sizes 60,64,1500,9000,2048 "
			     "--seed 8 --flows 3"), 0);
	assert_int_not_equal(run("cmp a.pcap c.pcap"), 0);
	assert_int_not_equal(run("gen d.pcap --count 4 --sizes 59"), 0);
	assert_int_not_equal(run("bogus"), 0);
}

static void
test_frame_layout(void **state)
{
	struct blob b = load("a.pcap");
	size_t off[64];
	const uint8_t *f;

	(void)state;
	assert_int_equal(records(&b, off, 64), 40);
	assert_int_equal(le32(b.p), 0xa1b2c3d4u);
	assert_int_equal(le32(b.p + 16), 65535);
	assert_int_equal(le32(b.p + 20), 1);
	f = b.p + off[3] + RHDR;                 /* fourth frame: 9000 bytes */
	assert_int_equal(le32(b.p + off[3] + 8), 9000);
	assert_memory_equal(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(f[23], 17);             /* UDP */
	assert_int_equal(f[16] << 8 | f[17], 9000 - 14);
	assert_int_equal(f[42], 'V');            /* magic, then seq 3 */
	assert_int_equal(f[49], 3);
	free(b.p);
}

static void
test_swap(void **state)
{
	(void)state;
	assert_int_equal(run("cmp a.pcap swapped.pcap --swap-mac"), 0);
	assert_non_null(strstr(out, "cmp: 40 expected, 40 got, 40 matched"));
	assert_int_equal(run("cmp a.pcap swapped.pcap --swap-mac --any-order"), 0);
	assert_int_equal(run("cmp a.pcap swapped.pcap"), 1);
	assert_non_null(strstr(out, "frame 0 differs at byte 5"));
	assert_int_equal(run("cmp a.pcap a.pcap --swap-mac"), 1);
}

static void
test_corrupt(void **state)
{
	struct blob b = load("a.pcap");
	size_t off[64];

	(void)state;
	swap_macs(&b);
	records(&b, off, 64);
	b.p[off[17] + RHDR + 700] ^= 0x40;       /* frame 17 is 2048 bytes */
	store("corrupt.pcap", &b);
	assert_int_equal(run("cmp a.pcap corrupt.pcap --swap-mac"), 1);
	assert_non_null(strstr(out, "frame 17 differs at byte 700"));
	assert_non_null(strstr(out, "40 got, 39 matched"));
	assert_int_equal(run("cmp a.pcap corrupt.pcap --swap-mac --any-order"), 1);
	assert_non_null(strstr(out, "frame 17 differs at byte 700"));
	free(b.p);
}

static void
test_truncated(void **state)
{
	struct blob b = load("a.pcap"), c;
	size_t off[64], idx[64];

	(void)state;
	swap_macs(&b);
	records(&b, off, 64);

	c = b;                                   /* file cut inside the last record */
	c.n -= 100;
	store("cut.pcap", &c);
	assert_int_equal(run("cmp a.pcap cut.pcap --swap-mac"), 1);
	assert_non_null(strstr(out, "partial record"));
	assert_int_equal(run("count cut.pcap"), 0);
	assert_non_null(strstr(out, "39\n"));

	for (size_t i = 0; i < 39; i++)          /* last record missing */
		idx[i] = i;
	c = reorder(&b, idx, 39);
	store("short.pcap", &c);
	assert_int_equal(run("cmp a.pcap short.pcap --swap-mac"), 1);
	assert_non_null(strstr(out, "40 expected, 39 got, 39 matched"));
	assert_int_equal(run("cmp a.pcap short.pcap --swap-mac --any-order"), 1);
	assert_non_null(strstr(out, "never arrived"));
	free(c.p);

	idx[39] = 39;                            /* frame 3 captured 1 byte short */
	c = reorder(&b, idx, 40);
	records(&c, off, 64);
	{
		uint8_t *r = c.p + off[3];
		size_t end = off[3] + RHDR + 9000;

		assert_int_equal(le32(r + 8), 9000);
		r[8]--;                              /* 0x2328 -> 0x2327, wire len stays */
		memmove(c.p + end - 1, c.p + end, c.n - end);
		c.n--;
	}
	store("snap.pcap", &c);
	assert_int_equal(run("count snap.pcap"), 0);
	assert_string_equal(out, "40\n");
	assert_int_equal(run("cmp a.pcap snap.pcap --swap-mac"), 1);
	assert_non_null(strstr(out, "frame 3 differs at byte 8999: length"));
	free(c.p);
	free(b.p);
}

static void
test_order(void **state)
{
	struct blob b = load("a.pcap"), c;
	size_t idx[40];

	(void)state;
	swap_macs(&b);
	for (size_t i = 0; i < 40; i++)
		idx[i] = i;
	idx[5] = 6;
	idx[6] = 5;
	c = reorder(&b, idx, 40);
	store("reordered.pcap", &c);
	assert_int_equal(run("cmp a.pcap reordered.pcap --swap-mac"), 1);
	assert_int_equal(run("cmp a.pcap reordered.pcap --swap-mac --any-order"), 0);
	free(c.p);

	idx[5] = 5;
	idx[6] = 5;                              /* 6 lost, 5 twice */
	c = reorder(&b, idx, 40);
	store("dup.pcap", &c);
	assert_int_equal(run("cmp a.pcap dup.pcap --swap-mac --any-order"), 1);
	assert_non_null(strstr(out, "duplicates sequence 5"));
	free(c.p);
	free(b.p);
}

static void
test_split(void **state)
{
	(void)state;
	assert_int_equal(run("split swapped.pcap 3 q"), 0);
	assert_int_equal(run("count q0.pcap"), 0);
	assert_string_equal(out, "14\n");
	assert_int_equal(run("count q2.pcap"), 0);
	assert_string_equal(out, "13\n");
	assert_int_equal(run("cmp a.pcap q0.pcap q1.pcap q2.pcap --swap-mac --any-order"), 0);
	assert_int_equal(run("cmp a.pcap q0.pcap q1.pcap q2.pcap --swap-mac"), 1);
	assert_int_equal(run("split a.pcap 2 e"), 0);
	assert_int_equal(run("split swapped.pcap 2 g"), 0);
	assert_int_equal(run("cmp e1.pcap g1.pcap --swap-mac"), 0);
}

/* net_pcap writes nanosecond pcap; other tools write big-endian files. */
static void
test_foreign_format(void **state)
{
	struct blob b = load("swapped.pcap");
	size_t off[64], n = records(&b, off, 64);

	(void)state;
	put_be32(b.p, 0xa1b23c4du);              /* nanosecond magic, big-endian */
	for (size_t w = 4; w < 8; w += 2) {      /* version: two 16-bit fields */
		uint8_t t = b.p[w];

		b.p[w] = b.p[w + 1];
		b.p[w + 1] = t;
	}
	for (size_t w = 8; w < GHDR; w += 4)
		put_be32(b.p + w, le32(b.p + w));
	for (size_t i = 0; i < n; i++)
		for (size_t w = 0; w < RHDR; w += 4)
			put_be32(b.p + off[i] + w, le32(b.p + off[i] + w));
	store("be.pcap", &b);
	assert_int_equal(run("count be.pcap"), 0);
	assert_string_equal(out, "40\n");
	assert_int_equal(run("cmp a.pcap be.pcap --swap-mac"), 0);
	free(b.p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_gen_count),
		cmocka_unit_test(test_frame_layout),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_foreign_format),
	};
	char cmd[600];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-PCAPTOOL\n", argv[0]);
		return 2;
	}
	pcaptool = realpath(argv[1], NULL);      /* meson passes it build-relative */
	if (pcaptool == NULL) {
		perror(argv[1]);
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	rc = cmocka_run_group_tests_name("pcaptool", t, setup, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(pcaptool);
	return rc;
}
