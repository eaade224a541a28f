/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_steer.c - the steering of pmd/steer.c: the Toeplitz hash
 * against the published Microsoft verification suite (every entry, with and
 * without ports, from tuples and from real frames), the flow parser on
 * crafted frames (VLAN/QinQ, IPv4 options and fragments, IPv6 extension
 * headers and fragments, ARP) cut at every length and split into two
 * segments at every point, each segment in its own exactly-sized heap block
 * so ASan catches any read past the frame, the indirection table build
 * (equal, weighted, explicit and remapped tables; settings that did not pass
 * their check refused), and the spread of random flows. Mbufs are fakes on the stack over malloc'd
 * data: rte_pktmbuf_read() needs only buf_addr, data_off, the lengths and
 * the segment chain, so no EAL is started. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <rte_mbuf.h>
#include "pmd/steer.h"
#include "common/base.h"

/* ---- Microsoft RSS verification suite ----
 * "Verifying the RSS Hash Calculation" (Microsoft Windows driver docs, RSS
 * section), with the default key. The same table is in Intel's 82599
 * datasheet 7.1.2.8.3 and in DPDK's app/test/test_thash.c; these entries were
 * taken from DPDK's copy and cross-checked against Knot DNS's and FreeBSD
 * testrss's copies. hash_l3 covers the addresses only, hash_l4 adds the ports. */
struct ms_vector {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t hash_l3, hash_l4;
};

static const struct ms_vector ms_v4[] = {
	{ "66.9.149.187",   "161.142.100.80", 2794,  1766,  0x323e8fc2, 0x51ccc178 },
	{ "199.92.111.2",   "65.69.140.83",   14230, 4739,  0xd718262a, 0xc626b0ea },
	{ "24.19.198.95",   "12.22.207.184",  12898, 38024, 0xd2d0a5de, 0x5c2b394a },
	{ "38.27.205.30",   "209.142.163.6",  48228, 2217,  0x82989176, 0xafc7327f },
	{ "153.39.163.191", "202.188.127.2",  44251, 1303,  0x5d1809c5, 0x10e828a2 },
};

static const struct ms_vector ms_v6[] = {
	{ "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1",
	  2794, 1766, 0x2cc18cd5, 0x40207d3d },
	{ "3ffe:501:8::260:97ff:fe40:efab", "ff02::1",
	  14230, 4739, 0x0f0c461c, 0xdde51bbf },
	{ "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf",
	  44251, 38024, 0x4b61e985, 0x02d1feef },
};

/* ---- fake mbufs ---- */

/* Runs pmd_flow_of() on len bytes of b, split into two segments at split
 * (0 or >= len: one segment), and checks that pmd_flow_of_iov() finds the
 * same flow in the same two pieces. Each segment is its own heap block of
 * exactly its length, so ASan flags a read past either. */
static void
flow_of(const uint8_t *b, uint32_t len, uint32_t split, struct pmd_flow *f)
{
	struct rte_mbuf m0, m1;
	uint32_t l0 = (split == 0 || split >= len) ? len : split;
	uint8_t *d0 = malloc(l0 ? l0 : 1), *d1 = malloc(len - l0 ? len - l0 : 1);

	assert_non_null(d0);
	assert_non_null(d1);
	memcpy(d0, b, l0);
	memcpy(d1, b + l0, len - l0);
	memset(&m0, 0, sizeof(m0));
	memset(&m1, 0, sizeof(m1));
	m0.buf_addr = d0;
	m0.data_len = (uint16_t)l0;
	m0.pkt_len = len;
	m0.nb_segs = 1;
	if (l0 < len) {
		m1.buf_addr = d1;
		m1.data_len = (uint16_t)(len - l0);
		m1.pkt_len = len - l0;
		m1.nb_segs = 1;
		m0.next = &m1;
		m0.nb_segs = 2;
	}
	memset(f, 0xee, sizeof(*f));         /* pmd_flow_of must set every field */
	pmd_flow_of(&m0, f);
	/* The same pieces as a guest's buffers: the very same flow. */
	{
		const struct iovec v[2] = { { d0, l0 }, { d1, len - l0 } };
		struct pmd_flow g;

		memset(&g, 0x55, sizeof(g));
		pmd_flow_of_iov(v, l0 < len ? 2 : 1, &g);
		assert_memory_equal(&g, f, sizeof(g));
	}
	free(d0);
	free(d1);
}

/* ---- frame builder ---- */

struct frame {
	uint8_t b[256];
	uint32_t len;
	uint32_t l3;                         /* offset of the IP header */
	uint32_t l3_min;                     /* fixed IP header: 20 or 40, 0 not IP */
	uint32_t l4;                         /* offset of the ports */
	struct pmd_flow want;                /* the flow of the whole frame */
};

static void
put16(struct frame *fr, uint16_t v)
{
	fr->b[fr->len++] = (uint8_t)(v >> 8);
	fr->b[fr->len++] = (uint8_t)v;
}

static void
put8(struct frame *fr, uint8_t v)
{
	fr->b[fr->len++] = v;
}

static void
put_bytes(struct frame *fr, const void *p, uint32_t n)
{
	memcpy(fr->b + fr->len, p, n);
	fr->len += n;
}

/* Ethernet with ntags VLAN tags (tpid[k]), then ethertype type. */
static void
b_eth(struct frame *fr, unsigned int ntags, const uint16_t *tpid, uint16_t type)
{
	static const uint8_t macs[12] = { 0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 2 };

	memset(fr, 0, sizeof(*fr));
	put_bytes(fr, macs, sizeof(macs));
	for (unsigned int k = 0; k < ntags; k++) {
		put16(fr, tpid[k]);
		put16(fr, (uint16_t)(100 + k));  /* TCI: VLAN id */
	}
	put16(fr, type);
}

static void
b_ipv4(struct frame *fr, uint8_t proto, unsigned int opt_words, uint16_t frag,
       const char *src, const char *dst)
{
	struct in_addr s, d;

	assert_int_equal(inet_pton(AF_INET, src, &s), 1);
	assert_int_equal(inet_pton(AF_INET, dst, &d), 1);
	fr->l3 = fr->len;
	fr->l3_min = 20;
	put8(fr, (uint8_t)(0x40 | (5 + opt_words)));
	put8(fr, 0);                         /* TOS */
	put16(fr, 1500);                     /* total length: deliberately a lie */
	put16(fr, 0x1234);                   /* id */
	put16(fr, frag);
	put8(fr, 64);
	put8(fr, proto);
	put16(fr, 0);                        /* checksum: not checked */
	put_bytes(fr, &s, 4);
	put_bytes(fr, &d, 4);
	for (unsigned int k = 0; k < opt_words; k++)
		put_bytes(fr, "\x01\x01\x01\x01", 4);    /* NOPs */
	fr->l4 = fr->len;
	fr->want.family = 4;
	fr->want.proto = proto;
	memcpy(fr->want.src, &s, 4);
	memcpy(fr->want.dst, &d, 4);
}

static void
b_ipv6(struct frame *fr, uint8_t nh, const char *src, const char *dst)
{
	struct in6_addr s, d;

	assert_int_equal(inet_pton(AF_INET6, src, &s), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, &d), 1);
	fr->l3 = fr->len;
	fr->l3_min = 40;
	put16(fr, 0x6000);                   /* version, traffic class, flow label */
	put16(fr, 0);
	put16(fr, 1500);                     /* payload length: a lie as well */
	put8(fr, nh);
	put8(fr, 64);
	put_bytes(fr, &s, 16);
	put_bytes(fr, &d, 16);
	fr->l4 = fr->len;
	fr->want.family = 6;
	fr->want.proto = nh;
	memcpy(fr->want.src, &s, 16);
	memcpy(fr->want.dst, &d, 16);
}

/* An options-style extension header (hop-by-hop, routing, destination
 * options) of (len8 + 1) * 8 bytes, filled by one experimental option
 * (RFC 4727, type 0x1e) whose data is 0xaa: a parser that steps wrongly
 * lands on 0xaa, not on zeros that read as another hop-by-hop header. */
static void
b_ext6(struct frame *fr, uint8_t nh, uint8_t len8)
{
	uint32_t body = (len8 + 1u) * 8 - 2;

	put8(fr, nh);
	put8(fr, len8);
	put8(fr, 0x1e);
	put8(fr, (uint8_t)(body - 2));
	for (uint32_t k = 2; k < body; k++)
		put8(fr, 0xaa);
	fr->l4 = fr->len;
	fr->want.proto = nh;
}

static void
b_frag6(struct frame *fr, uint8_t nh, uint16_t off_flags)
{
	put8(fr, nh);
	put8(fr, 0);
	put16(fr, off_flags);
	put16(fr, 0xabcd);                   /* identification */
	put16(fr, 0x0001);
	fr->l4 = fr->len;
	fr->want.proto = nh;
}

static void
b_ports(struct frame *fr, uint16_t sport, uint16_t dport, bool counted)
{
	fr->l4 = fr->len;
	put16(fr, sport);
	put16(fr, dport);
	for (unsigned int k = 0; k < 16; k++)
		put8(fr, 0);                     /* rest of a TCP header / payload */
	if (counted) {
		fr->want.has_ports = true;
		fr->want.sport = htons(sport);
		fr->want.dport = htons(dport);
	}
}

/* proto is checked only where the parse reached the last header: a chain of
 * IPv6 extension headers cut short reports the header it stopped at. */
static void
assert_flow_equal(const struct pmd_flow *got, const struct pmd_flow *want, bool proto)
{
	assert_int_equal(got->family, want->family);
	assert_int_equal(got->has_ports, want->has_ports);
	if (want->family != 0) {
		if (proto)
			assert_int_equal(got->proto, want->proto);
		assert_memory_equal(got->src, want->src, want->family == 4 ? 4 : 16);
		assert_memory_equal(got->dst, want->dst, want->family == 4 ? 4 : 16);
	}
	if (want->has_ports) {
		assert_int_equal(got->sport, want->sport);
		assert_int_equal(got->dport, want->dport);
	}
}

/* The whole frame, then every prefix of it, each contiguous and split into
 * two segments at every point: a prefix has the addresses only if it holds
 * the fixed IP header, and the ports only if it holds them too. */
static void
check_frame(const struct frame *fr)
{
	struct pmd_flow f, want;

	flow_of(fr->b, fr->len, 0, &f);
	assert_flow_equal(&f, &fr->want, true);
	for (uint32_t len = 0; len <= fr->len; len++) {
		want = fr->want;
		if (fr->l3_min == 0 || len < fr->l3 + fr->l3_min)
			want.family = 0;
		if (want.family == 0 || len < fr->l4 + 4)
			want.has_ports = false;
		for (uint32_t split = 0; split < (len ? len : 1); split++) {
			flow_of(fr->b, len, split, &f);
			assert_flow_equal(&f, &want, len >= fr->l4);
			if (want.family == 0)
				assert_int_equal(f.has_ports, false);
		}
	}
}

static const uint16_t tag_c[] = { 0x8100 };
static const uint16_t tag_qinq[] = { 0x88a8, 0x8100 };

static void
test_flow_ipv4_tcp(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 0, NULL, 0x0800);
	b_ipv4(&fr, IPPROTO_TCP, 0, 0x4000, "66.9.149.187", "161.142.100.80");  /* DF */
	b_ports(&fr, 2794, 1766, true);
	check_frame(&fr);
}

static void
test_flow_ipv4_udp(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 0, NULL, 0x0800);
	b_ipv4(&fr, IPPROTO_UDP, 0, 0, "10.0.0.1", "10.0.0.2");
	b_ports(&fr, 53, 40000, true);
	check_frame(&fr);
}

static void
test_flow_ipv4_options(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 0, NULL, 0x0800);
	b_ipv4(&fr, IPPROTO_TCP, 3, 0, "192.168.1.1", "192.168.1.2");   /* IHL 8 */
	b_ports(&fr, 12345, 80, true);
	assert_int_equal(fr.l4 - fr.l3, 32);
	check_frame(&fr);
	/* The largest header: IHL 15, 60 bytes. */
	b_eth(&fr, 0, NULL, 0x0800);
	b_ipv4(&fr, IPPROTO_UDP, 10, 0, "192.168.1.1", "192.168.1.2");
	b_ports(&fr, 4789, 4789, true);
	check_frame(&fr);
}

static void
test_flow_ipv4_bad_header(void **state)
{
	struct frame fr;
	struct pmd_flow f;

	(void)state;
	/* IHL below 5: not an IP header at all. */
	b_eth(&fr, 0, NULL, 0x0800);
	b_ipv4(&fr, IPPROTO_TCP, 0, 0, "10.0.0.1", "10.0.0.2");
	b_ports(&fr, 1, 2, true);
	fr.b[fr.l3] = 0x44;
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 0);
	assert_false(f.has_ports);
	/* Version 6 behind the IPv4 ethertype. */
	fr.b[fr.l3] = 0x65;
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 0);
	/* IHL 15 in a frame that ends inside the options: addresses, no ports. */
	fr.b[fr.l3] = 0x4f;
	flow_of(fr.b, fr.l3 + 40, 0, &f);
	assert_int_equal(f.family, 4);
	assert_false(f.has_ports);
}

static void
test_flow_ipv4_fragments(void **state)
{
	static const uint16_t frags[] = {
		0x2000,                          /* first fragment: MF, offset 0 */
		0x2000 | 185,                    /* middle: MF, offset 1480 */
		185,                             /* last: offset only */
		0x4000 | 0x2000 | 1,             /* DF and MF together: still a fragment */
	};
	struct frame fr;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(frags); k++) {
		b_eth(&fr, 0, NULL, 0x0800);
		b_ipv4(&fr, IPPROTO_UDP, 0, frags[k], "172.16.0.1", "172.16.0.2");
		b_ports(&fr, 1000, 2000, false);     /* hashed on addresses only */
		check_frame(&fr);
	}
}

static void
test_flow_vlan(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 1, tag_c, 0x0800);
	b_ipv4(&fr, IPPROTO_TCP, 0, 0, "10.1.1.1", "10.2.2.2");
	b_ports(&fr, 5000, 443, true);
	assert_int_equal(fr.l3, 18);
	check_frame(&fr);

	b_eth(&fr, 2, tag_qinq, 0x86dd);
	b_ipv6(&fr, IPPROTO_UDP, "2001:db8::1", "2001:db8::2");
	b_ports(&fr, 5353, 5353, true);
	assert_int_equal(fr.l3, 22);
	check_frame(&fr);

	/* 802.1Q inside 802.1Q works too. */
	static const uint16_t two_c[] = { 0x8100, 0x8100 };

	b_eth(&fr, 2, two_c, 0x0800);
	b_ipv4(&fr, IPPROTO_UDP, 0, 0, "10.1.1.1", "10.2.2.2");
	b_ports(&fr, 1, 2, true);
	check_frame(&fr);
}

static void
test_flow_vlan_three_tags(void **state)
{
	static const uint16_t three[] = { 0x88a8, 0x8100, 0x8100 };
	struct frame fr;

	(void)state;
	/* A third tag is not parsed: the frame is not IP as far as RSS goes. */
	b_eth(&fr, 3, three, 0x0800);
	b_ipv4(&fr, IPPROTO_TCP, 0, 0, "10.1.1.1", "10.2.2.2");
	b_ports(&fr, 1, 2, true);
	fr.l3_min = 0;
	fr.want = (struct pmd_flow){ 0 };
	check_frame(&fr);
}

static void
test_flow_ipv6_tcp(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_TCP, "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1");
	b_ports(&fr, 2794, 1766, true);
	check_frame(&fr);
}

static void
test_flow_ipv6_ext(void **state)
{
	struct frame fr;

	(void)state;
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_HOPOPTS, "fe80::1", "ff02::16");
	b_ext6(&fr, IPPROTO_TCP, 0);         /* 8-byte hop-by-hop */
	b_ports(&fr, 1024, 22, true);
	assert_int_equal(fr.l4 - fr.l3, 48);
	check_frame(&fr);

	/* Hop-by-hop, routing, destination options, of various lengths. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_HOPOPTS, "2001:db8::a", "2001:db8::b");
	b_ext6(&fr, IPPROTO_ROUTING, 1);
	b_ext6(&fr, IPPROTO_DSTOPTS, 2);
	b_ext6(&fr, IPPROTO_UDP, 0);
	b_ports(&fr, 7, 9, true);
	assert_int_equal(fr.l4 - fr.l3, 40 + 16 + 24 + 8);
	check_frame(&fr);

	/* A header RSS does not skip (ESP): addresses only. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, 50, "2001:db8::a", "2001:db8::b");
	b_ports(&fr, 7, 9, false);
	check_frame(&fr);
}

static void
test_flow_ipv6_fragment(void **state)
{
	struct frame fr;

	(void)state;
	/* First fragment (offset 0, M set) still carries the ports: unused. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_FRAGMENT, "2001:db8::1", "2001:db8::2");
	b_frag6(&fr, IPPROTO_UDP, 0x0001);
	b_ports(&fr, 4000, 5000, false);
	check_frame(&fr);

	/* Behind a hop-by-hop header, a later fragment. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_HOPOPTS, "2001:db8::1", "2001:db8::2");
	b_ext6(&fr, IPPROTO_FRAGMENT, 0);
	b_frag6(&fr, IPPROTO_TCP, 0x05a8);
	b_ports(&fr, 4000, 5000, false);
	check_frame(&fr);
}

static void
test_flow_ipv6_long_chain(void **state)
{
	struct frame fr;
	struct pmd_flow f;

	(void)state;
	/* More extension headers than the parser walks: addresses only. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_DSTOPTS, "2001:db8::1", "2001:db8::2");
	for (unsigned int k = 0; k < 12; k++)
		b_ext6(&fr, k == 11 ? IPPROTO_TCP : IPPROTO_DSTOPTS, 0);
	b_ports(&fr, 1, 2, true);
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 6);
	assert_false(f.has_ports);
	/* An extension length pointing far past the frame: addresses only. */
	b_eth(&fr, 0, NULL, 0x86dd);
	b_ipv6(&fr, IPPROTO_HOPOPTS, "2001:db8::1", "2001:db8::2");
	b_ext6(&fr, IPPROTO_TCP, 0);
	fr.b[fr.l3 + 41] = 255;
	b_ports(&fr, 1, 2, true);
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 6);
	assert_false(f.has_ports);
	/* Version 4 behind the IPv6 ethertype. */
	fr.b[fr.l3] = 0x45;
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 0);
}

static void
test_flow_not_ip(void **state)
{
	struct frame fr;
	struct pmd_flow f;

	(void)state;
	/* ARP request: 28 bytes of payload. */
	b_eth(&fr, 0, NULL, 0x0806);
	put16(&fr, 1);
	put16(&fr, 0x0800);
	put8(&fr, 6);
	put8(&fr, 4);
	put16(&fr, 1);
	for (unsigned int k = 0; k < 20; k++)
		put8(&fr, (uint8_t)k);
	check_frame(&fr);
	flow_of(fr.b, fr.len, 0, &f);
	assert_int_equal(f.family, 0);
	assert_int_equal(f.proto, 0);
	assert_false(f.has_ports);

	/* ARP inside a VLAN, and an LLDP frame. */
	b_eth(&fr, 1, tag_c, 0x0806);
	for (unsigned int k = 0; k < 28; k++)
		put8(&fr, 0);
	check_frame(&fr);
	b_eth(&fr, 0, NULL, 0x88cc);
	for (unsigned int k = 0; k < 40; k++)
		put8(&fr, 0xff);
	check_frame(&fr);
}

/* ---- hash ---- */

static void
build_one(struct pmd_rss *r, const uint8_t *key)
{
	struct rss_settings cfg;
	bool en[1] = { true };
	char why[128];

	rss_settings_default(&cfg);
	if (key != NULL)
		memcpy(cfg.key, key, RSS_KEY_LEN);
	assert_int_equal(pmd_rss_build(r, &cfg, en, 1, why, sizeof(why)), 0);
}

static void
test_default_key(void **state)
{
	static const uint8_t ms_key[RSS_KEY_LEN] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
		0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
		0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
		0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
		0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	struct pmd_rss r;

	(void)state;
	assert_memory_equal(rss_default_key, ms_key, RSS_KEY_LEN);
	build_one(&r, NULL);
	assert_memory_equal(r.key, ms_key, RSS_KEY_LEN);
	/* A byte's top bit selects the 32 key bits starting at that byte;
	 * a set of bits, the XOR of their windows. */
	assert_int_equal(r.byte_hash[0][0x80], 0x6d5a56da);
	assert_int_equal(r.byte_hash[1][0x80], 0x5a56da25);
	assert_int_equal(r.byte_hash[0][0x40], 0xdab4adb4);
	assert_int_equal(r.byte_hash[0][0xc0], 0x6d5a56da ^ 0xdab4adb4);
}

/* The flow of a Microsoft vector: family 4 or 6, with or without ports. */
static void
flow_vec(struct pmd_flow *f, const struct ms_vector *v, int family, bool ports)
{
	int af = family == 4 ? AF_INET : AF_INET6;

	memset(f, 0, sizeof(*f));
	f->family = (uint8_t)family;
	f->proto = IPPROTO_TCP;
	assert_int_equal(inet_pton(af, v->src, f->src), 1);
	assert_int_equal(inet_pton(af, v->dst, f->dst), 1);
	f->has_ports = ports;
	f->sport = htons(v->sport);
	f->dport = htons(v->dport);
}

/* Each vector hashed with ports (4-tuple) and without (2-tuple). */
static void
check_ms_vectors(const struct ms_vector *v, size_t n,
                 int family)
{
	struct pmd_rss r;
	struct pmd_flow f;

	build_one(&r, NULL);
	for (size_t k = 0; k < n; k++) {
		flow_vec(&f, &v[k], family, true);
		assert_int_equal(pmd_rss_hash(&r, &f), v[k].hash_l4);
		flow_vec(&f, &v[k], family, false);
		assert_int_equal(pmd_rss_hash(&r, &f), v[k].hash_l3);
	}
}

static void
test_ms_vectors_ipv4(void **state)
{
	(void)state;
	check_ms_vectors(ms_v4, ARRAY_SIZE(ms_v4), 4);
}

static void
test_ms_vectors_ipv6(void **state)
{
	(void)state;
	check_ms_vectors(ms_v6, ARRAY_SIZE(ms_v6), 6);
}

/* The same vectors through real frames: parser and hash agree on byte order.
 * TCP frames give the 4-tuple hash; fragments of the same flow give the
 * 2-tuple hash (UDP for IPv6, to cover both protocols). */
static void
test_ms_vectors_frames(void **state)
{
	struct pmd_rss r;
	struct pmd_flow f;
	struct frame fr;

	(void)state;
	build_one(&r, NULL);
	for (size_t k = 0; k < ARRAY_SIZE(ms_v4); k++) {
		const struct ms_vector *v = &ms_v4[k];

		b_eth(&fr, 0, NULL, 0x0800);
		b_ipv4(&fr, IPPROTO_TCP, 0, 0, v->src, v->dst);
		b_ports(&fr, v->sport, v->dport, true);
		flow_of(fr.b, fr.len, 0, &f);
		assert_int_equal(pmd_rss_hash(&r, &f), v->hash_l4);
		b_eth(&fr, 1, tag_c, 0x0800);
		b_ipv4(&fr, IPPROTO_TCP, 0, 0x2000, v->src, v->dst);
		b_ports(&fr, v->sport, v->dport, false);
		flow_of(fr.b, fr.len, 0, &f);
		assert_int_equal(pmd_rss_hash(&r, &f), v->hash_l3);
	}
	for (size_t k = 0; k < ARRAY_SIZE(ms_v6); k++) {
		const struct ms_vector *v = &ms_v6[k];

		b_eth(&fr, 0, NULL, 0x86dd);
		b_ipv6(&fr, IPPROTO_HOPOPTS, v->src, v->dst);
		b_ext6(&fr, IPPROTO_TCP, 0);
		b_ports(&fr, v->sport, v->dport, true);
		flow_of(fr.b, fr.len, 0, &f);
		assert_int_equal(pmd_rss_hash(&r, &f), v->hash_l4);
		b_eth(&fr, 2, tag_qinq, 0x86dd);
		b_ipv6(&fr, IPPROTO_FRAGMENT, v->src, v->dst);
		b_frag6(&fr, IPPROTO_UDP, 0x0001);
		b_ports(&fr, v->sport, v->dport, false);
		flow_of(fr.b, fr.len, 0, &f);
		assert_int_equal(pmd_rss_hash(&r, &f), v->hash_l3);
	}
}

static void
test_hash_not_ip(void **state)
{
	struct pmd_rss r;
	struct pmd_flow f;

	(void)state;
	build_one(&r, NULL);
	memset(&f, 0, sizeof(f));
	assert_int_equal(pmd_rss_hash(&r, &f), 0);
	memset(&f, 0xff, sizeof(f));         /* stale fields do not matter */
	f.family = 0;
	assert_int_equal(pmd_rss_hash(&r, &f), 0);
}

static void
test_hash_other_key(void **state)
{
	uint8_t key[RSS_KEY_LEN];
	struct pmd_rss r0, r1;
	struct pmd_flow f;

	(void)state;
	/* The key really is used: a different one gives a different hash. */
	for (unsigned int k = 0; k < RSS_KEY_LEN; k++)
		key[k] = (uint8_t)(k * 37 + 11);
	build_one(&r0, NULL);
	build_one(&r1, key);
	flow_vec(&f, &ms_v4[0], 4, true);
	assert_int_not_equal(pmd_rss_hash(&r0, &f), pmd_rss_hash(&r1, &f));
	assert_memory_equal(r1.key, key, RSS_KEY_LEN);
}

/* ---- table build ---- */

static void
count_reta(const struct pmd_rss *r, uint16_t nqp, unsigned int *cnt)
{
	memset(cnt, 0, nqp * sizeof(*cnt));
	for (uint16_t i = 0; i < r->reta_size; i++) {
		assert_in_range(r->reta[i], 0, nqp - 1);
		cnt[r->reta[i]]++;
	}
	for (uint16_t i = r->reta_size; i < RSS_TABLE_MAX; i++)
		assert_int_equal(r->reta[i], 0);
}

static void
build_ok(struct pmd_rss *r, const struct rss_settings *cfg, const bool *en, uint16_t nqp)
{
	char why[128] = "";

	assert_int_equal(pmd_rss_build(r, cfg, en, nqp, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
test_build_equal_all(void **state)
{
	static const bool en[4] = { true, true, true, true };
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	build_ok(&r, &cfg, en, 4);
	assert_int_equal(r.reta_size, 128);
	assert_int_equal(r.n_enabled, 4);
	count_reta(&r, 4, cnt);
	for (unsigned int q = 0; q < 4; q++)
		assert_int_equal(cnt[q], 32);
	for (uint16_t i = 0; i < 128; i++)       /* round robin, as ethtool's default */
		assert_int_equal(r.reta[i], i % 4);
}

/* The guest enabled only pairs the weights leave out (weight on pair 2,
 * which it disabled): frames still go to enabled queues, equally, and never
 * to the disabled one. Enabling pair 2 again honours the weights. */
static void
test_build_weights_on_disabled_pairs(void **state)
{
	static const bool without2[4] = { true, true, false, true };
	static const bool all[4] = { true, true, true, true };
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	cfg.n_weights = 4;
	memset(cfg.weights, 0, sizeof(cfg.weights));
	cfg.weights[2] = 5;
	build_ok(&r, &cfg, without2, 4);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[2], 0);
	assert_int_equal(cnt[0] + cnt[1] + cnt[3], 128);
	assert_in_range(cnt[0], 42, 43);
	assert_in_range(cnt[1], 42, 43);
	assert_in_range(cnt[3], 42, 43);
	build_ok(&r, &cfg, all, 4);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[2], 128);
}

static void
test_build_equal_three_of_four(void **state)
{
	static const bool masks[4][4] = {
		{ false, true, true, true }, { true, false, true, true },
		{ true, true, false, true }, { true, true, true, false },
	};
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	for (unsigned int off = 0; off < 4; off++) {
		unsigned int lo = 128, hi = 0;

		build_ok(&r, &cfg, masks[off], 4);
		assert_int_equal(r.n_enabled, 3);
		count_reta(&r, 4, cnt);
		assert_int_equal(cnt[off], 0);
		for (unsigned int q = 0; q < 4; q++) {
			if (q == off)
				continue;
			lo = cnt[q] < lo ? cnt[q] : lo;
			hi = cnt[q] > hi ? cnt[q] : hi;
		}
		assert_true(hi - lo <= 1);
		assert_int_equal(hi, 43);
		assert_int_equal(lo, 42);
	}
}

/* Every prefix of the table is spread like the whole: pair q has within one
 * entry of k * w[q] / sum among the first k entries. */
static void
assert_interleaved(const struct pmd_rss *r, const uint16_t *w, uint16_t nqp)
{
	unsigned int cnt[8] = { 0 }, sum = 0;

	for (uint16_t q = 0; q < nqp; q++)
		sum += w[q];
	for (uint16_t k = 1; k <= r->reta_size; k++) {
		cnt[r->reta[k - 1]]++;
		for (uint16_t q = 0; q < nqp; q++) {
			double ideal = (double)k * w[q] / sum;

			assert_true(cnt[q] <= ideal + 1.0 && cnt[q] + 1.0 >= ideal);
		}
	}
}

static void
test_build_weights(void **state)
{
	static const bool en[4] = { true, true, true, true };
	static const uint16_t w[4] = { 1, 1, 2, 0 };
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	cfg.n_weights = 4;
	memcpy(cfg.weights, w, sizeof(w));
	build_ok(&r, &cfg, en, 4);
	assert_int_equal(r.n_enabled, 4);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[0], 32);
	assert_int_equal(cnt[1], 32);
	assert_int_equal(cnt[2], 64);
	assert_int_equal(cnt[3], 0);
	assert_interleaved(&r, w, 4);
	/* Pair 2 disabled: its weight goes nowhere, 0 and 1 split evenly. */
	static const bool en3[4] = { true, true, false, true };

	build_ok(&r, &cfg, en3, 4);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[0], 64);
	assert_int_equal(cnt[1], 64);
	assert_int_equal(cnt[2], 0);
	assert_int_equal(cnt[3], 0);
}

static void
test_build_weights_uneven(void **state)
{
	static const bool en[5] = { true, true, true, true, true };
	static const uint16_t w[5] = { 3, 0, 5, 7, 1 };
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[5];

	(void)state;
	/* 128 * {3,5,7,1} / 16 = {24,40,56,8}: exact. */
	rss_settings_default(&cfg);
	cfg.n_weights = 5;
	memcpy(cfg.weights, w, sizeof(w));
	build_ok(&r, &cfg, en, 5);
	count_reta(&r, 5, cnt);
	assert_int_equal(cnt[0], 24);
	assert_int_equal(cnt[1], 0);
	assert_int_equal(cnt[2], 40);
	assert_int_equal(cnt[3], 56);
	assert_int_equal(cnt[4], 8);
	assert_interleaved(&r, w, 5);
	/* 100 entries over {3,5,7,1}: quotas 18.75, 31.25, 43.75, 6.25 round
	 * to 19, 31, 44, 6 (largest remainders), and the total is exact. */
	cfg.table_size = 100;
	build_ok(&r, &cfg, en, 5);
	count_reta(&r, 5, cnt);
	assert_int_equal(cnt[0], 19);
	assert_int_equal(cnt[2], 31);
	assert_int_equal(cnt[3], 44);
	assert_int_equal(cnt[4], 6);
	assert_interleaved(&r, w, 5);
	/* Fewer weights than pairs: the rest weigh 0. */
	cfg.table_size = 128;
	cfg.n_weights = 2;
	cfg.weights[0] = 1;
	cfg.weights[1] = 3;
	build_ok(&r, &cfg, en, 5);
	count_reta(&r, 5, cnt);
	assert_int_equal(cnt[0], 32);
	assert_int_equal(cnt[1], 96);
	/* Zero weights for all pairs but one. */
	cfg.n_weights = 5;
	memset(cfg.weights, 0, sizeof(cfg.weights));
	cfg.weights[4] = 1;
	build_ok(&r, &cfg, en, 5);
	count_reta(&r, 5, cnt);
	assert_int_equal(cnt[4], 128);
}

static void
test_build_table(void **state)
{
	static const bool all[4] = { true, true, true, true };
	static const bool no1[4] = { true, false, true, true };
	static const bool only3[4] = { false, false, false, true };
	struct rss_settings cfg;
	struct pmd_rss r;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	cfg.n_table = 128;
	for (uint16_t i = 0; i < 128; i++)
		cfg.table[i] = (uint16_t)((i / 3) % 4);  /* runs of three */
	build_ok(&r, &cfg, all, 4);
	assert_memory_equal(r.reta, cfg.table, 128 * sizeof(uint16_t));
	/* Pair 1 disabled: its entries go to the (1 % 3)-th enabled pair, 2. */
	build_ok(&r, &cfg, no1, 4);
	assert_int_equal(r.n_enabled, 3);
	for (uint16_t i = 0; i < 128; i++)
		assert_int_equal(r.reta[i], cfg.table[i] == 1 ? 2 : cfg.table[i]);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[1], 0);
	/* Only pair 3 left: everything goes there. */
	build_ok(&r, &cfg, only3, 4);
	count_reta(&r, 4, cnt);
	assert_int_equal(cnt[3], 128);
	/* A disabled pair numbered past n_enabled: 3 % 2 -> second enabled. */
	static const bool no3[4] = { false, true, true, false };

	build_ok(&r, &cfg, no3, 4);
	for (uint16_t i = 0; i < 128; i++) {
		static const uint16_t map[4] = { 1, 1, 2, 2 };  /* 0%2=0 -> 1, 3%2=1 -> 2 */

		assert_int_equal(r.reta[i], map[cfg.table[i]]);
	}
}

/* Every rule of the settings is tested in tests/virtio/test_rss_settings.c;
 * here only that the build never uses settings that break one: it indexes
 * enabled[] with table entries. */
static void
test_build_refuses_unchecked(void **state)
{
	static const bool en[4] = { true, true, false, true };
	struct rss_settings cfg;
	struct pmd_rss r, sentinel;
	char why[128], small[8];
	const char *want = "RSS settings refused: queue pair 7 does not exist (the device "
	                   "has pairs 0..3)";

	(void)state;
	memset(&sentinel, 0xa5, sizeof(sentinel));
	rss_settings_default(&cfg);
	cfg.n_table = 128;
	cfg.table[5] = 7;
	r = sentinel;
	assert_int_equal(pmd_rss_build(&r, &cfg, en, 4, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, want);
	assert_memory_equal(&r, &sentinel, sizeof(r));   /* nothing half-built */
	/* A short buffer gets a truncated, terminated message; none at all is
	 * allowed too. */
	assert_int_equal(pmd_rss_build(&r, &cfg, en, 4, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, want, sizeof(small) - 1);
	assert_int_equal(pmd_rss_build(&r, &cfg, en, 4, NULL, 0), -EINVAL);
	assert_memory_equal(&r, &sentinel, sizeof(r));
}

static void
test_build_none_enabled(void **state)
{
	static const bool off[4] = { false, false, false, false };
	struct rss_settings cfg;
	struct pmd_rss r;

	(void)state;
	rss_settings_default(&cfg);
	build_ok(&r, &cfg, off, 4);
	assert_int_equal(r.n_enabled, 0);
	assert_int_equal(r.reta_size, 128);
	assert_memory_equal(r.key, rss_default_key, RSS_KEY_LEN);
	/* Weights and tables are still checked, and still fine. */
	cfg.n_weights = 4;
	cfg.weights[1] = 1;
	build_ok(&r, &cfg, off, 4);
	assert_int_equal(r.n_enabled, 0);
	cfg.n_weights = 0;
	cfg.n_table = 128;
	build_ok(&r, &cfg, off, 4);
	assert_int_equal(r.n_enabled, 0);
	/* A device without queue pairs. */
	rss_settings_default(&cfg);
	build_ok(&r, &cfg, NULL, 0);
	assert_int_equal(r.n_enabled, 0);
}

static void
test_build_sizes(void **state)
{
	static const bool en[4] = { true, true, true, true };
	static const bool no0[4] = { false, true, true, true };
	struct rss_settings cfg;
	struct pmd_rss r;
	struct pmd_flow f;
	unsigned int cnt[4];

	(void)state;
	rss_settings_default(&cfg);
	cfg.table_size = 512;
	build_ok(&r, &cfg, en, 4);
	assert_int_equal(r.reta_size, 512);
	count_reta(&r, 4, cnt);
	for (unsigned int q = 0; q < 4; q++)
		assert_int_equal(cnt[q], 128);

	cfg.table_size = 1;
	build_ok(&r, &cfg, en, 4);
	assert_int_equal(r.reta[0], 0);
	count_reta(&r, 4, cnt);
	build_ok(&r, &cfg, no0, 4);
	assert_int_equal(r.reta[0], 1);
	flow_vec(&f, &ms_v4[2], 4, true);
	assert_int_equal(pmd_rss_queue(&r, pmd_rss_hash(&r, &f)), 1);
	/* Non-IP frames use entry 0, which is always enabled. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(pmd_rss_queue(&r, pmd_rss_hash(&r, &f)), 1);
}

static void
test_build_many_pairs(void **state)
{
	enum { NQP = 600 };
	struct rss_settings cfg;
	struct pmd_rss r;
	bool en[NQP];

	(void)state;
	/* More enabled pairs than entries: each entry its own pair. */
	for (unsigned int q = 0; q < NQP; q++)
		en[q] = q % 2 == 1;              /* 300 enabled */
	rss_settings_default(&cfg);
	build_ok(&r, &cfg, en, NQP);
	assert_int_equal(r.n_enabled, 300);
	for (uint16_t i = 0; i < 128; i++)
		assert_int_equal(r.reta[i], 2 * i + 1);
	cfg.table_size = 512;
	build_ok(&r, &cfg, en, NQP);
	for (uint16_t i = 0; i < 512; i++)
		assert_int_equal(r.reta[i], 2 * (i % 300) + 1);
}

/* ---- distribution ---- */

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_distribution(void **state)
{
	static const bool en[4] = { true, true, true, true };
	struct rss_settings cfg;
	struct pmd_rss r;
	struct pmd_flow f;
	unsigned int cnt[4] = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15;  /* fixed: the test is reproducible */

	(void)state;
	rss_settings_default(&cfg);
	build_ok(&r, &cfg, en, 4);
	for (unsigned int k = 0; k < 10000; k++) {
		uint64_t a = xorshift64(&seed), b = xorshift64(&seed);
		uint32_t src = (uint32_t)a, dst = (uint32_t)(a >> 32);

		memset(&f, 0, sizeof(f));
		f.family = 4;
		f.proto = IPPROTO_TCP;
		f.has_ports = true;
		memcpy(f.src, &src, 4);
		memcpy(f.dst, &dst, 4);
		f.sport = (uint16_t)b;
		f.dport = (uint16_t)(b >> 16);
		cnt[pmd_rss_queue(&r, pmd_rss_hash(&r, &f))]++;
	}
	for (unsigned int q = 0; q < 4; q++) {
		print_message("pair %u: %u flows\n", q, cnt[q]);
		assert_in_range(cnt[q], 2000, 3000);
	}
}

/* Entry hash mod size for every table size, whichever way it is computed. */
static void
test_queue_is_hash_mod_size(void **state)
{
	static const uint16_t sizes[] = { 1, 3, 64, 100, 128, 500, 512 };
	bool en[8] = { true, true, true, true, true, true, true, true };
	struct rss_settings cfg;
	struct pmd_rss r;

	(void)state;
	for (unsigned s = 0; s < ARRAY_SIZE(sizes); s++) {
		rss_settings_default(&cfg);
		cfg.table_size = sizes[s];
		build_ok(&r, &cfg, en, 8);
		for (uint32_t h = 0; h < 4096; h++) {
			uint32_t hash = h * 2654435761u;

			assert_int_equal(pmd_rss_queue(&r, hash), r.reta[hash % sizes[s]]);
		}
	}
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_key),
		cmocka_unit_test(test_queue_is_hash_mod_size),
		cmocka_unit_test(test_ms_vectors_ipv4),
		cmocka_unit_test(test_ms_vectors_ipv6),
		cmocka_unit_test(test_ms_vectors_frames),
		cmocka_unit_test(test_hash_not_ip),
		cmocka_unit_test(test_hash_other_key),
		cmocka_unit_test(test_flow_ipv4_tcp),
		cmocka_unit_test(test_flow_ipv4_udp),
		cmocka_unit_test(test_flow_ipv4_options),
		cmocka_unit_test(test_flow_ipv4_bad_header),
		cmocka_unit_test(test_flow_ipv4_fragments),
		cmocka_unit_test(test_flow_vlan),
		cmocka_unit_test(test_flow_vlan_three_tags),
		cmocka_unit_test(test_flow_ipv6_tcp),
		cmocka_unit_test(test_flow_ipv6_ext),
		cmocka_unit_test(test_flow_ipv6_fragment),
		cmocka_unit_test(test_flow_ipv6_long_chain),
		cmocka_unit_test(test_flow_not_ip),
		cmocka_unit_test(test_build_equal_all),
		cmocka_unit_test(test_build_equal_three_of_four),
		cmocka_unit_test(test_build_weights),
		cmocka_unit_test(test_build_weights_on_disabled_pairs),
		cmocka_unit_test(test_build_weights_uneven),
		cmocka_unit_test(test_build_table),
		cmocka_unit_test(test_build_refuses_unchecked),
		cmocka_unit_test(test_build_none_enabled),
		cmocka_unit_test(test_build_sizes),
		cmocka_unit_test(test_build_many_pairs),
		cmocka_unit_test(test_distribution),
	};

	return cmocka_run_group_tests_name("pmd_steer", tests, NULL, NULL);
}
