/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_tso.c - pmd/tso.c: a TSO request cut into TCP segments that
 * a receiver accepts. Frames from tests/tcp_frame.c (IPv4 and IPv6, with a
 * VLAN tag and TCP options, small and large MSS so segments span mbufs and
 * start at odd positions); every segment is checked as a receiver checks it
 * (IP lengths and header checksum, the full TCP checksum, sequence numbers,
 * FIN/PSH only last, CWR only first) and the payloads put back together are
 * the original. The cut uses only the offload fields, so a frame whose header
 * bytes lie about their lengths is still cut inside the frame. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "pmd/tso.h"
#include "tests/pmd/eal_test.h"
#include "tests/tcp_frame.h"
#include "virtio/vnet.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static struct rte_mempool *pool;
static uint8_t frame[VNET_MAX_FRAME], flat[VNET_MAX_FRAME], joined[VNET_MAX_FRAME];

/* frame[0..len) in an mbuf chain of 2 KiB segments, with the TSO fields. */
static struct rte_mbuf *
tso_mbuf(size_t len, int ip, uint16_t l3, uint16_t l4, uint16_t l4_len, uint16_t mss)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *t = m;
	size_t off = 0;

	assert_non_null(m);
	while (off < len) {
		uint16_t n = (uint16_t)RTE_MIN(len - off, (size_t)rte_pktmbuf_tailroom(t));

		if (n == 0) {
			t->next = rte_pktmbuf_alloc(pool);
			assert_non_null(t->next);
			t = t->next;
			m->nb_segs++;
			continue;
		}
		memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len), frame + off, n);
		t->data_len = (uint16_t)(t->data_len + n);
		m->pkt_len += n;
		off += n;
	}
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG |
	              (ip == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM : RTE_MBUF_F_TX_IPV6);
	m->tx_offload = rte_mbuf_tx_offload(l3, (uint64_t)(l4 - l3), l4_len, mss, 0, 0, 0);
	return m;
}

struct tso_row {
	const char *name;
	int ip;
	bool vlan;
	uint8_t opt_len;
	uint32_t payload;
	uint16_t mss;
	uint8_t flags;
};

static void
check_cut(const struct tso_row *r)
{
	const struct tcp_frame_opts o = { .ip = r->ip, .vlan = r->vlan, .tcp_opt_len = r->opt_len,
	                                  .payload = r->payload, .seq = 0xfffff000,
	                                  .flags = r->flags, .ip_id = 0xfffe };
	uint16_t l3, l4, l4_len;
	size_t len = tcp_frame(frame, sizeof(frame), &o, &l3, &l4, &l4_len), joined_len = 0;
	struct rte_mbuf *m, *seg[VNET_TSO_MAX_SEGS];
	uint16_t n, want = (uint16_t)((r->payload + r->mss - 1) / r->mss);
	unsigned avail = rte_mempool_avail_count(pool);

	assert_true(len > 0);
	m = tso_mbuf(len, r->ip, l3, l4, l4_len, r->mss);
	n = pmd_tso_segment(m, pool, seg, VNET_TSO_MAX_SEGS);
	if (n != want)
		fail_msg("%s: %u segments, want %u", r->name, n, want);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t seq;
		uint8_t flags;
		size_t pl, plen, slen = rte_pktmbuf_pkt_len(seg[i]);
		const char *why;

		assert_true(slen <= sizeof(flat));
		assert_int_equal(seg[i]->ol_flags, 0);
		memcpy(flat, rte_pktmbuf_read(seg[i], 0, (uint32_t)slen, flat), slen);
		why = tcp_frame_check(flat, slen, l3, &seq, &flags, &pl, &plen);
		if (why != NULL)
			fail_msg("%s: segment %u: %s", r->name, i, why);
		assert_memory_equal(flat, frame, l3);        /* Ethernet (and VLAN) as sent */
		assert_int_equal(pl, (size_t)l4 + l4_len);
		assert_int_equal(plen, i + 1 < n ? r->mss : r->payload - (uint32_t)i * r->mss);
		assert_int_equal(seq, 0xfffff000u + (uint32_t)i * r->mss);     /* wraps */
		if (r->ip == 4)
			assert_int_equal(flat[l3 + 4] << 8 | flat[l3 + 5], (0xfffe + i) & 0xffff);
		assert_int_equal(flags & (TCP_FIN | TCP_PSH), i + 1 < n ? 0 : r->flags & (TCP_FIN | TCP_PSH));
		assert_int_equal(flags & TCP_CWR, i == 0 ? r->flags & TCP_CWR : 0);
		assert_int_equal(flags & TCP_ACK, r->flags & TCP_ACK);
		memcpy(joined + joined_len, flat + pl, plen);
		joined_len += plen;
		rte_pktmbuf_free(seg[i]);
	}
	assert_int_equal(joined_len, r->payload);
	assert_memory_equal(joined, frame + l4 + l4_len, r->payload);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(pool), avail);
}

static void
test_cut(void **state)
{
	static const struct tso_row rows[] = {
		{ "IPv4, 64 KiB at MSS 1448", 4, false, 12, 65000, 1448,
		  TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR },
		{ "IPv6, MSS 1428", 6, false, 12, 30000, 1428, TCP_ACK | TCP_PSH },
		{ "IPv4 behind a VLAN tag, no options", 4, true, 0, 9000, 1460, TCP_ACK },
		{ "IPv6, MSS 8948: segments span mbufs", 6, false, 0, 40000, 8948, TCP_ACK | TCP_CWR },
		{ "IPv4, odd MSS 1001: odd positions", 4, false, 4, 20001, 1001, TCP_ACK | TCP_FIN },
		{ "one segment", 4, false, 0, 100, 1448, TCP_ACK | TCP_PSH },
		{ "exactly two full segments", 6, false, 0, 2896, 1448, TCP_ACK },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		check_cut(&rows[k]);
}

/* Too many segments for out, and an empty pool: 0, and nothing leaks. */
static void
test_refusals(void **state)
{
	const struct tcp_frame_opts o = { .ip = 4, .payload = 10000, .flags = TCP_ACK };
	uint16_t l3, l4, l4_len;
	size_t len = tcp_frame(frame, sizeof(frame), &o, &l3, &l4, &l4_len);
	struct rte_mbuf *m = tso_mbuf(len, 4, l3, l4, l4_len, 1000), *seg[VNET_TSO_MAX_SEGS];
	struct rte_mbuf *hoard[8192];
	unsigned avail = rte_mempool_avail_count(pool), held = 0;

	(void)state;
	assert_int_equal(pmd_tso_segment(m, pool, seg, 9), 0);    /* 10 needed */
	assert_int_equal(rte_mempool_avail_count(pool), avail);
	while (held < 8192 && rte_mempool_avail_count(pool) > 5)
		hoard[held++] = rte_pktmbuf_alloc(pool);
	assert_int_equal(pmd_tso_segment(m, pool, seg, VNET_TSO_MAX_SEGS), 0);
	rte_pktmbuf_free_bulk(hoard, held);
	assert_int_equal(rte_mempool_avail_count(pool), avail);
	rte_pktmbuf_free(m);
}

/* The header bytes claim other lengths than the offload fields (the guest
 * rewrote them after the gate): the cut follows the fields and stays inside
 * the frame; the segments carry the lengths it wrote. */
static void
test_lying_headers(void **state)
{
	const struct tcp_frame_opts o = { .ip = 4, .payload = 5000, .flags = TCP_ACK };
	uint16_t l3, l4, l4_len;
	size_t len = tcp_frame(frame, sizeof(frame), &o, &l3, &l4, &l4_len);
	struct rte_mbuf *m, *seg[VNET_TSO_MAX_SEGS];
	uint16_t n;

	(void)state;
	frame[l3] = 0x4f;                    /* IHL 60 */
	frame[l4 + 12] = 0xf0;               /* data offset 60 */
	frame[l3 + 2] = frame[l3 + 3] = 0xff;
	m = tso_mbuf(len, 4, l3, l4, l4_len, 1448);
	n = pmd_tso_segment(m, pool, seg, VNET_TSO_MAX_SEGS);
	assert_int_equal(n, 4);
	for (uint16_t i = 0; i < n; i++) {
		size_t slen = rte_pktmbuf_pkt_len(seg[i]);

		memcpy(flat, rte_pktmbuf_read(seg[i], 0, (uint32_t)slen, flat), slen);
		assert_int_equal(flat[l3], 0x45);
		assert_int_equal(flat[l4 + 12] >> 4, 5);
		assert_null(tcp_frame_check(flat, slen, l3, NULL, NULL, NULL, NULL));
		rte_pktmbuf_free(seg[i]);
	}
	rte_pktmbuf_free(m);
}

/* The sum over an mbuf chain whose pieces start at odd positions (where
 * DPDK 22.11's rte_raw_cksum_mbuf goes wrong) equals the flat sum. */
static void
test_mbuf_sum(void **state)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *t = m;
	static const uint16_t pieces[] = { 7, 1, 2048, 1023, 3, 2000 };
	uint32_t total = 0, sum, want = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		if (k > 0) {
			t->next = rte_pktmbuf_alloc(pool);
			t = t->next;
			m->nb_segs++;
		}
		for (uint16_t b = 0; b < pieces[k]; b++)
			frame[total + b] = (uint8_t)(total + b * 13 + 0xa5);
		memcpy(rte_pktmbuf_append(t, pieces[k]), frame + total, pieces[k]);
		m->pkt_len = total + pieces[k];
		total += pieces[k];
	}
	for (uint32_t off = 0; off < 9; off++) {
		sum = pmd_mbuf_sum(m, off);
		want = rte_raw_cksum(frame + off, total - off);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, want);
	}
	rte_pktmbuf_free(m);
}

static int
setup(void **state)
{
	unsigned last_cpu;

	(void)state;
	if (et_eal_init("test-tso", &last_cpu) != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("tso", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	return pool != NULL ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_lying_headers),
		cmocka_unit_test(test_mbuf_sum),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
