/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/tools/pcaptool.c - make and check the packet files of the real-peer
 * integration tests, without libpcap. "gen" writes classic pcap (24-byte
 * global header, 16-byte record headers, linktype 1, snaplen 65535) holding
 * IPv4/UDP frames whose payload carries a magic, the frame's sequence number,
 * its length, the seed and a pseudo-random pattern derived from (seed, seq),
 * so any corruption, truncation, loss, duplication or reordering shows up.
 * "cmp" checks that a captured file holds exactly the generated frames (MACs
 * swapped when the peer reflects them), in order or as a multiset keyed by
 * sequence number; "count" prints the number of complete records; "split"
 * deals a file round-robin into one file per queue. Reading accepts both
 * byte orders and microsecond or nanosecond timestamps, because DPDK's
 * net_pcap writes nanosecond files. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US     0xa1b2c3d4u
#define PCAP_MAGIC_NS     0xa1b23c4du
#define PCAP_SNAPLEN      65535u
#define PCAP_LINK_ETH     1u
#define PCAP_GHDR_LEN     24u
#define PCAP_RHDR_LEN     16u

#define FRAME_MIN         60u        /* Ethernet minimum without FCS */
#define FRAME_MAX         PCAP_SNAPLEN
#define MAX_SIZES         64u

/* Frame layout: Ethernet 14, IPv4 20, UDP 8, then our payload header. */
#define OFF_IP            14u
#define OFF_UDP           34u
#define OFF_MAGIC         42u
#define OFF_SEQ           46u
#define OFF_LEN           50u
#define OFF_SEED          54u
#define OFF_PATTERN       58u
#define PAYLOAD_MAGIC     0x564d5131u  /* "VMQ1" */

static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct frame {
	uint32_t len;                    /* captured length */
	uint32_t orig_len;               /* length on the wire */
	const uint8_t *data;             /* points into pcap_file.buf */
};

struct pcap_file {
	uint8_t *buf;
	size_t size;
	struct frame *f;
	size_t n;
	bool partial_tail;               /* bytes after the last whole record */
};

static void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pcaptool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void
put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
get_u32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? __builtin_bswap32(v) : v;
}

static void
put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static unsigned long
parse_ulong(const char *s, const char *what, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("%s: '%s' is not a number in %lu..%lu", what, s, min, max);
	return v;
}

/* Pattern generator: splitmix-seeded xorshift32, one stream per frame. */
static uint32_t
pattern_seed(uint32_t seed, uint32_t seq)
{
	uint64_t z = ((uint64_t)seed << 32 | seq) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)z | 1u;         /* xorshift state must not be 0 */
}

static uint32_t
xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static uint16_t
ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Fill buf[0..len) with frame number seq. len is in FRAME_MIN..FRAME_MAX. */
static void
frame_build(uint8_t *buf, uint32_t len, uint32_t seq, uint32_t seed, uint32_t flows)
{
	uint8_t *ip = buf + OFF_IP, *udp = buf + OFF_UDP;
	uint32_t st = pattern_seed(seed, seq);

	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	put_be16(buf + 12, 0x0800);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, len - OFF_IP);
	put_be16(ip + 4, seq & 0xffff);
	put_be16(ip + 6, 0x4000);        /* DF */
	ip[8] = 64;
	ip[9] = 17;                      /* UDP */
	put_be32(ip + 12, 0x0a000001);   /* 10.0.0.1 */
	put_be32(ip + 16, 0x0a000002);   /* 10.0.0.2 */
	put_be16(ip + 10, ip_csum(ip, 20));

	put_be16(udp, 1024 + seq % flows);
	put_be16(udp + 2, 9);            /* discard */
	put_be16(udp + 4, len - OFF_UDP);
	put_be16(udp + 6, 0);            /* no UDP checksum */

	put_be32(buf + OFF_MAGIC, PAYLOAD_MAGIC);
	put_be32(buf + OFF_SEQ, seq);
	put_be32(buf + OFF_LEN, len);
	put_be32(buf + OFF_SEED, seed);
	for (uint32_t i = OFF_PATTERN; i < len; i++)
		buf[i] = (uint8_t)xorshift32(&st);
}

static FILE *
open_out(const char *path)
{
	FILE *fp = fopen(path, "wb");
	uint8_t gh[PCAP_GHDR_LEN] = { 0 };

	if (fp == NULL)
		die("%s: %s", path, strerror(errno));
	put_le32(gh, PCAP_MAGIC_US);
	put_le16(gh + 4, 2);
	put_le16(gh + 6, 4);
	put_le32(gh + 16, PCAP_SNAPLEN);
	put_le32(gh + 20, PCAP_LINK_ETH);
	if (fwrite(gh, sizeof(gh), 1, fp) != 1)
		die("%s: write failed", path);
	return fp;
}

static void
write_record(FILE *fp, const char *path, const uint8_t *data, uint32_t len,
	     uint32_t orig_len, uint32_t idx)
{
	uint8_t rh[PCAP_RHDR_LEN];

	put_le32(rh, idx / 1000000u);    /* fake, monotonic timestamps */
	put_le32(rh + 4, idx % 1000000u);
	put_le32(rh + 8, len);
	put_le32(rh + 12, orig_len);
	if (fwrite(rh, sizeof(rh), 1, fp) != 1 ||
	    (len && fwrite(data, len, 1, fp) != 1))
		die("%s: write failed", path);
}

static void
close_out(FILE *fp, const char *path)
{
	if (fclose(fp) != 0)
		die("%s: %s", path, strerror(errno));
}

/* Read a whole pcap file. A record cut short at the end is not returned but
 * noted in partial_tail; every other format error is fatal. */
static void
pcap_load(const char *path, struct pcap_file *pf)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 1 << 20, off, fcap = 1024;
	uint32_t magic;
	bool swap;

	memset(pf, 0, sizeof(*pf));
	if (fp == NULL)
		die("%s: %s", path, strerror(errno));
	pf->buf = malloc(cap);
	for (;;) {
		size_t got;

		if (pf->buf == NULL)
			die("out of memory");
		got = fread(pf->buf + pf->size, 1, cap - pf->size, fp);
		pf->size += got;
		if (pf->size < cap)
			break;
		cap *= 2;
		pf->buf = realloc(pf->buf, cap);
	}
	if (ferror(fp))
		die("%s: read error", path);
	fclose(fp);

	if (pf->size < PCAP_GHDR_LEN)
		die("%s: too short for a pcap header (%zu bytes)", path, pf->size);
	memcpy(&magic, pf->buf, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		swap = false;
	else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
		 __builtin_bswap32(magic) == PCAP_MAGIC_NS)
		swap = true;
	else
		die("%s: not a classic pcap file (magic 0x%08" PRIx32 ")", path, magic);
	if (get_u32(pf->buf + 20, swap) != PCAP_LINK_ETH)
		die("%s: link type %" PRIu32 " is not Ethernet", path,
		    get_u32(pf->buf + 20, swap));

	pf->f = malloc(fcap * sizeof(*pf->f));
	for (off = PCAP_GHDR_LEN; off < pf->size;) {
		uint32_t incl, orig;

		if (pf->size - off < PCAP_RHDR_LEN) {
			pf->partial_tail = true;
			break;
		}
		incl = get_u32(pf->buf + off + 8, swap);
		orig = get_u32(pf->buf + off + 12, swap);
		if (incl > 0x4000000u)
			die("%s: record %zu claims %" PRIu32 " bytes", path, pf->n, incl);
		if (pf->size - off - PCAP_RHDR_LEN < incl) {
			pf->partial_tail = true;
			break;
		}
		if (pf->n == fcap) {
			fcap *= 2;
			pf->f = realloc(pf->f, fcap * sizeof(*pf->f));
		}
		if (pf->f == NULL)
			die("out of memory");
		pf->f[pf->n++] = (struct frame){ .len = incl, .orig_len = orig,
						 .data = pf->buf + off + PCAP_RHDR_LEN };
		off += PCAP_RHDR_LEN + incl;
	}
}

static void
pcap_free(struct pcap_file *pf)
{
	free(pf->f);
	free(pf->buf);
}

static int
cmd_gen(int argc, char **argv)
{
	uint32_t sizes[MAX_SIZES], n_sizes = 0, count = 0, seed = 1, flows = 1;
	uint32_t first = 0;
	const char *out = NULL;
	uint8_t *buf;
	FILE *fp;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			if (out != NULL)
				die("gen: more than one output file");
			out = a;
			continue;
		}
		if (i + 1 >= argc)
			die("gen: %s needs a value", a);
		if (strcmp(a, "--count") == 0) {
			count = (uint32_t)parse_ulong(argv[++i], "--count", 1, 100000000);
		} else if (strcmp(a, "--seed") == 0) {
			seed = (uint32_t)parse_ulong(argv[++i], "--seed", 0, UINT32_MAX);
		} else if (strcmp(a, "--flows") == 0) {
			flows = (uint32_t)parse_ulong(argv[++i], "--flows", 1, 64511);
		} else if (strcmp(a, "--first") == 0) {
			first = (uint32_t)parse_ulong(argv[++i], "--first", 0, UINT32_MAX / 2);
		} else if (strcmp(a, "--sizes") == 0) {
			char *list = strdup(argv[++i]), *save = NULL;

			for (char *t = strtok_r(list, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save)) {
				if (n_sizes == MAX_SIZES)
					die("gen: more than %u sizes", MAX_SIZES);
				sizes[n_sizes++] = (uint32_t)parse_ulong(t, "--sizes",
									 FRAME_MIN, FRAME_MAX);
			}
			free(list);
		} else {
			die("gen: unknown option %s", a);
		}
	}
	if (out == NULL || count == 0 || n_sizes == 0)
		die("usage: pcaptool gen OUT.pcap --count N --sizes A,B,... "
		    "[--seed S] [--flows F] [--first SEQ]");

	buf = malloc(FRAME_MAX);
	if (buf == NULL)
		die("out of memory");
	fp = open_out(out);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t len = sizes[i % n_sizes];

		frame_build(buf, len, first + i, seed, flows);
		write_record(fp, out, buf, len, len, i);
	}
	close_out(fp, out);
	free(buf);
	return 0;
}

/* Compare one received frame with the expected one; returns -1 when equal,
 * else the first differing byte offset (the length if only lengths differ). */
static long
frame_diff(const struct frame *exp, const struct frame *got, bool swap_mac)
{
	uint32_t n = exp->len < got->len ? exp->len : got->len;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;

		if (swap_mac && i < 12)
			j = i < 6 ? i + 6 : i - 6;   /* got[i] should be exp[j] */
		if (got->data[i] != exp->data[j])
			return (long)i;
	}
	if (exp->len != got->len || got->orig_len != got->len)
		return (long)n;
	return -1;
}

static void
report_diff(size_t got_idx, const struct frame *exp, const struct frame *got,
	    long off, bool swap_mac)
{
	uint32_t o = (uint32_t)off;

	if (o < exp->len && o < got->len) {
		uint32_t j = swap_mac && o < 12 ? (o < 6 ? o + 6 : o - 6) : o;

		printf("cmp: frame %zu differs at byte %" PRIu32 ": expected 0x%02x, "
		       "got 0x%02x\n", got_idx, o, exp->data[j], got->data[o]);
	} else {
		printf("cmp: frame %zu differs at byte %" PRIu32 ": length expected %"
		       PRIu32 ", got %" PRIu32 " (wire %" PRIu32 ")\n", got_idx, o,
		       exp->len, got->len, got->orig_len);
	}
}

static bool
frame_seq(const struct frame *f, uint32_t *seq)
{
	if (f->len < OFF_PATTERN || get_be32(f->data + OFF_MAGIC) != PAYLOAD_MAGIC)
		return false;
	*seq = get_be32(f->data + OFF_SEQ);
	return true;
}

struct seq_ent {
	uint32_t seq;
	uint32_t idx;
};

static int
seq_ent_cmp(const void *a, const void *b)
{
	const struct seq_ent *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmd_cmp(int argc, char **argv)
{
	const char *files[64];
	size_t n_files = 0, matched = 0, n_exp, n_got = 0, reported = 0;
	bool swap_mac = false, any_order = false, partial = false;
	struct pcap_file exp, got[63];
	struct frame **g;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--swap-mac") == 0)
			swap_mac = true;
		else if (strcmp(argv[i], "--any-order") == 0)
			any_order = true;
		else if (argv[i][0] == '-')
			die("cmp: unknown option %s", argv[i]);
		else if (n_files == 64)
			die("cmp: too many files");
		else
			files[n_files++] = argv[i];
	}
	if (n_files < 2)
		die("usage: pcaptool cmp EXPECTED.pcap GOT.pcap [GOT2.pcap...] "
		    "[--swap-mac] [--any-order]");

	pcap_load(files[0], &exp);
	n_exp = exp.n;
	for (size_t k = 1; k < n_files; k++) {
		pcap_load(files[k], &got[k - 1]);
		n_got += got[k - 1].n;
		if (got[k - 1].partial_tail) {
			printf("cmp: %s ends in a partial record\n", files[k]);
			partial = true;
		}
	}
	/* Received frames in file order: GOT files are concatenated. */
	g = malloc((n_got + 1) * sizeof(*g));
	if (g == NULL)
		die("out of memory");
	for (size_t k = 0, m = 0; k + 1 < n_files; k++)
		for (size_t i = 0; i < got[k].n; i++)
			g[m++] = &got[k].f[i];

	if (!any_order) {
		size_t n = n_exp < n_got ? n_exp : n_got;

		for (size_t i = 0; i < n; i++) {
			long off = frame_diff(&exp.f[i], g[i], swap_mac);

			if (off < 0)
				matched++;
			else if (reported++ == 0)
				report_diff(i, &exp.f[i], g[i], off, swap_mac);
		}
		if (n_exp != n_got)
			printf("cmp: %s after frame %zu\n",
			       n_got < n_exp ? "missing frames" : "extra frames", n);
	} else {
		struct seq_ent *idx = malloc((n_exp + 1) * sizeof(*idx));
		bool *seen = calloc(n_exp + 1, sizeof(*seen));

		if (idx == NULL || seen == NULL)
			die("out of memory");
		for (size_t i = 0; i < n_exp; i++) {
			uint32_t s;

			if (!frame_seq(&exp.f[i], &s))
				die("%s: frame %zu is not a pcaptool frame", files[0], i);
			idx[i] = (struct seq_ent){ .seq = s, .idx = (uint32_t)i };
		}
		qsort(idx, n_exp, sizeof(*idx), seq_ent_cmp);
		for (size_t i = 0; i < n_got; i++) {
			struct seq_ent key, *e = NULL;
			long off;

			if (frame_seq(g[i], &key.seq))
				e = bsearch(&key, idx, n_exp, sizeof(*idx), seq_ent_cmp);
			if (e == NULL) {
				if (reported++ == 0)
					printf("cmp: frame %zu has no valid sequence number\n", i);
				continue;
			}
			if (seen[e->idx]) {
				if (reported++ == 0)
					printf("cmp: frame %zu duplicates sequence %" PRIu32 "\n",
					       i, key.seq);
				continue;
			}
			seen[e->idx] = true;
			off = frame_diff(&exp.f[e->idx], g[i], swap_mac);
			if (off < 0)
				matched++;
			else if (reported++ == 0)
				report_diff(i, &exp.f[e->idx], g[i], off, swap_mac);
		}
		for (size_t i = 0; i < n_exp; i++) {
			if (!seen[i]) {
				printf("cmp: expected frame %zu (sequence %" PRIu32
				       ") never arrived\n", i, get_be32(exp.f[i].data + OFF_SEQ));
				break;
			}
		}
		free(seen);
		free(idx);
	}
	printf("cmp: %zu expected, %zu got, %zu matched\n", n_exp, n_got, matched);

	free(g);
	for (size_t k = 0; k + 1 < n_files; k++)
		pcap_free(&got[k]);
	pcap_free(&exp);
	return matched == n_exp && n_got == n_exp && !partial ? 0 : 1;
}

static int
cmd_count(int argc, char **argv)
{
	struct pcap_file pf;

	if (argc != 1)
		die("usage: pcaptool count FILE.pcap");
	pcap_load(argv[0], &pf);
	if (pf.partial_tail)
		fprintf(stderr, "pcaptool: %s ends in a partial record\n", argv[0]);
	printf("%zu\n", pf.n);
	pcap_free(&pf);
	return 0;
}

static int
cmd_split(int argc, char **argv)
{
	struct pcap_file pf;
	unsigned long n;
	char path[4096];

	if (argc != 3)
		die("usage: pcaptool split IN.pcap N PREFIX  (writes PREFIX0.pcap..)");
	n = parse_ulong(argv[1], "split N", 1, 64);
	pcap_load(argv[0], &pf);
	for (unsigned long q = 0; q < n; q++) {
		FILE *fp;
		uint32_t k = 0;

		snprintf(path, sizeof(path), "%s%lu.pcap", argv[2], q);
		fp = open_out(path);
		for (size_t i = q; i < pf.n; i += n)
			write_record(fp, path, pf.f[i].data, pf.f[i].len,
				     pf.f[i].orig_len, k++);
		close_out(fp, path);
	}
	pcap_free(&pf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: pcaptool gen|cmp|count|split ...");
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 2, argv + 2);
	if (strcmp(argv[1], "cmp") == 0)
		return cmd_cmp(argc - 2, argv + 2);
	if (strcmp(argv[1], "count") == 0)
		return cmd_count(argc - 2, argv + 2);
	if (strcmp(argv[1], "split") == 0)
		return cmd_split(argc - 2, argv + 2);
	die("unknown command '%s'", argv[1]);
}
