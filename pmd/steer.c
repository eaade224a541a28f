/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/steer.c - steering of frames going to the guest: the flow parser that
 * finds the IPv4/IPv6 addresses and TCP/UDP ports, the Toeplitz hash over
 * them (by per-byte tables built from the key), and the build of the
 * immutable indirection table from the operator's RSS settings (weights or an
 * explicit table) and the set of enabled RX queues. The table build runs on
 * the control thread; the parser and the hash run per frame on poll threads,
 * as do the flow-affinity and target helpers inlined from steer.h.
 * Security model: every byte of a frame is hostile. Frames may be segmented,
 * shorter than their headers claim, or carry lengths that point anywhere, so
 * every header is read through flow_read(), which refuses to read beyond the
 * frame (rte_pktmbuf_read() for an mbuf, iov_peek() for a guest's buffers);
 * a header that is cut short ends the parse, leaving "not IP" (no address)
 * or "no ports". Bytes are decoded one by one, never through a cast of a
 * possibly unaligned pointer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include "pmd/steer.h"
#include "virtio/iov.h"

#define ETH_HLEN        14
#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_VLAN  0x8100           /* 802.1Q C-tag */
#define ETHERTYPE_QINQ  0x88a8           /* 802.1ad S-tag */
#define VLAN_MAX_TAGS   2                /* QinQ: S-tag then C-tag */
#define IPV4_HLEN       20
#define IPV4_MF         0x2000
#define IPV4_OFFSET     0x1fff
#define IPV6_HLEN       40
/* Linux (ipv6_skip_exthdr) and DPDK (rte_net_skip_ip6_ext) walk a bounded
 * number of extension headers; real traffic carries one or two. */
#define IPV6_MAX_EXT    8

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the parsed frame is: an mbuf chain, or host pieces (a guest's TX
 * buffers, pmd_flow_of_iov()). is_mbuf is a constant in each caller, so the
 * always-inlined parse below has no test for it per read. */
struct flow_src {
	bool is_mbuf;
	const struct rte_mbuf *m;
	const struct iovec *v;
	unsigned n;
};

/* NULL when the frame holds fewer than len bytes at off. */
static inline __attribute__((always_inline)) const uint8_t *
flow_read(const struct flow_src *s, uint32_t off, uint32_t len, uint8_t *buf)
{
	if (s->is_mbuf)
		return rte_pktmbuf_read(s->m, off, len, buf);
	return iov_peek(s->v, s->n, off, len, buf);
}

/* Reads the TCP/UDP ports at off; has_ports stays false if they are cut. */
static inline __attribute__((always_inline)) void
flow_ports(const struct flow_src *m, uint32_t off, struct pmd_flow *f)
{
	uint8_t buf[4];
	const uint8_t *p;

	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		return;
	if ((p = flow_read(m, off, sizeof(buf), buf)) == NULL)
		return;
	memcpy(&f->sport, p, 2);             /* both stay in network order */
	memcpy(&f->dport, p + 2, 2);
	f->l4_off = (uint16_t)off;
	f->has_ports = true;
}

static inline __attribute__((always_inline)) void
flow_ipv4(const struct flow_src *m, uint32_t off, struct pmd_flow *f)
{
	uint8_t buf[IPV4_HLEN];
	const uint8_t *p;
	uint32_t ihl;

	if ((p = flow_read(m, off, IPV4_HLEN, buf)) == NULL)
		return;
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	if ((p[0] >> 4) != 4 || ihl < IPV4_HLEN)
		return;
	f->family = 4;
	f->l3_off = (uint16_t)off;
	f->proto = p[9];
	memcpy(f->src, p + 12, 4);
	memcpy(f->dst, p + 16, 4);
	/* Only the first fragment holds the ports, so no fragment hashes on
	 * them: all fragments of a datagram must land on the same queue. */
	if (rd16(p + 6) & (IPV4_MF | IPV4_OFFSET))
		return;
	flow_ports(m, off + ihl, f);
}

static inline __attribute__((always_inline)) void
flow_ipv6(const struct flow_src *m, uint32_t off, struct pmd_flow *f)
{
	uint8_t buf[IPV6_HLEN];
	const uint8_t *p;
	uint8_t nh;

	if ((p = flow_read(m, off, IPV6_HLEN, buf)) == NULL)
		return;
	if ((p[0] >> 4) != 6)
		return;
	f->family = 6;
	f->l3_off = (uint16_t)off;
	nh = p[6];
	memcpy(f->src, p + 8, 16);
	memcpy(f->dst, p + 24, 16);
	off += IPV6_HLEN;
	for (unsigned int k = 0; k < IPV6_MAX_EXT; k++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		if ((p = flow_read(m, off, 2, buf)) == NULL) {
			f->proto = nh;               /* cut inside the chain: no ports */
			return;
		}
		if (nh == IPPROTO_FRAGMENT) {
			f->proto = p[0];             /* addresses only, as for IPv4 */
			return;
		}
		nh = p[0];
		off += ((uint32_t)p[1] + 1) * 8; /* RFC 8200: length in 8-octet units */
	}
	f->proto = nh;
	flow_ports(m, off, f);               /* no-op if the chain was too long */
}

static inline __attribute__((always_inline)) void
flow_parse(const struct flow_src *m, struct pmd_flow *f)
{
	uint8_t buf[ETH_HLEN];
	const uint8_t *p;
	uint32_t off = ETH_HLEN;
	uint16_t type;

	memset(f, 0, sizeof(*f));
	if ((p = flow_read(m, 0, ETH_HLEN, buf)) == NULL)
		return;
	type = rd16(p + 12);
	for (unsigned int k = 0; k < VLAN_MAX_TAGS; k++) {
		if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ)
			break;
		if ((p = flow_read(m, off + 2, 2, buf)) == NULL)
			return;                      /* tag cut short: not IP */
		type = rd16(p);
		off += 4;
	}
	if (type == ETHERTYPE_IPV4)
		flow_ipv4(m, off, f);
	else if (type == ETHERTYPE_IPV6)
		flow_ipv6(m, off, f);
}

void
pmd_flow_of(const struct rte_mbuf *m, struct pmd_flow *f)
{
	const struct flow_src s = { .is_mbuf = true, .m = m };

	flow_parse(&s, f);
}

void
pmd_flow_of_iov(const struct iovec *v, unsigned n, struct pmd_flow *f)
{
	const struct flow_src s = { .is_mbuf = false, .v = v, .n = n };

	flow_parse(&s, f);
}

uint32_t
pmd_rss_hash(const struct pmd_rss *r, const struct pmd_flow *f)
{
	unsigned alen = f->family == 4 ? 4 : 16, i = 0;
	uint32_t h = 0;

	if (f->family != 4 && f->family != 6)
		return 0;
	/* Microsoft RSS input order, network byte order throughout. */
	for (unsigned k = 0; k < alen; k++, i++)
		h ^= r->byte_hash[i][f->src[k]];
	for (unsigned k = 0; k < alen; k++, i++)
		h ^= r->byte_hash[i][f->dst[k]];
	if (f->has_ports) {
		const uint8_t *sp = (const uint8_t *)&f->sport, *dp = (const uint8_t *)&f->dport;

		h ^= r->byte_hash[i][sp[0]] ^ r->byte_hash[i + 1][sp[1]] ^
		     r->byte_hash[i + 2][dp[0]] ^ r->byte_hash[i + 3][dp[1]];
	}
	return h;
}

/* byte_hash from the key: input bit b (0 = the first byte's top bit) selects
 * the 32 key bits starting at key bit b. */
static void
rss_fill_byte_hash(struct pmd_rss *r, const uint8_t *key)
{
	uint8_t k[RSS_KEY_LEN + 8] = { 0 };  /* windows read 8 bytes */

	memcpy(k, key, RSS_KEY_LEN);
	for (unsigned i = 0; i < PMD_RSS_INPUT_MAX; i++) {
		uint32_t win[8];

		for (unsigned j = 0; j < 8; j++) {
			unsigned bit = 8 * i + j;
			uint64_t w = 0;

			for (unsigned b = 0; b < 8; b++)
				w = w << 8 | k[bit / 8 + b];
			win[j] = (uint32_t)(w << (bit % 8) >> 32);
		}
		for (unsigned v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (unsigned j = 0; j < 8; j++)
				if (v & (0x80u >> j))
					h ^= win[j];
			r->byte_hash[i][v] = h;
		}
	}
}

/* The explicit table, with each entry naming a disabled pair moved to the
 * (entry % n_enabled)-th enabled pair: deterministic, and entries for
 * different disabled pairs spread over different enabled ones. */
static void
rss_fill_table(struct pmd_rss *out, const struct rss_settings *cfg,
               const bool *enabled, uint16_t nqp)
{
	for (uint16_t i = 0; i < cfg->table_size; i++) {
		uint16_t q = cfg->table[i], k;

		if (enabled[q]) {
			out->reta[i] = q;
			continue;
		}
		k = (uint16_t)(q % out->n_enabled);
		for (q = 0; q < nqp; q++)
			if (enabled[q] && k-- == 0)
				break;
		out->reta[i] = q;
	}
}

/* Weighted fill. Each candidate pair first gets its exact share of the
 * entries (largest-remainder rounding: every count is within one entry of
 * reta_size * w / sum), then entries are dealt out one at a time to the pair
 * whose share is least filled, placed / target smallest, ties to the lower
 * pair. Equal targets give round robin, as ethtool's default table
 * does; unequal ones interleave instead of forming ethtool -X weight's
 * blocks, so any run of consecutive entries is spread like the whole. */
static void
rss_fill_weights(struct pmd_rss *out, uint16_t reta_size, uint16_t n,
                 const uint16_t *pair, const uint16_t *weight)
{
	uint32_t target[RSS_TABLE_MAX], placed[RSS_TABLE_MAX];
	uint64_t rem[RSS_TABLE_MAX], sum = 0;
	uint32_t given = 0;

	for (uint16_t c = 0; c < n; c++)
		sum += weight[c];
	for (uint16_t c = 0; c < n; c++) {
		uint64_t share = (uint64_t)reta_size * weight[c];

		target[c] = (uint32_t)(share / sum);
		rem[c] = share % sum;
		placed[c] = 0;
		given += target[c];
	}
	/* Fewer than n entries are left over: one each to the largest
	 * remainders, ties to the lower pair. */
	while (given < reta_size) {
		uint16_t best = UINT16_MAX;

		for (uint16_t c = 0; c < n; c++)
			if (rem[c] > 0 && (best == UINT16_MAX || rem[c] > rem[best]))
				best = c;
		target[best]++;
		rem[best] = 0;
		given++;
	}
	for (uint16_t i = 0; i < reta_size; i++) {
		uint16_t best = UINT16_MAX;

		for (uint16_t c = 0; c < n; c++) {
			if (placed[c] == target[c])
				continue;
			/* placed[c] / target[c] < placed[b] / target[b],
			 * cross-multiplied: at most 512 * 512, no overflow. */
			if (best == UINT16_MAX ||
			    placed[c] * target[best] < placed[best] * target[c])
				best = c;
		}
		placed[best]++;
		out->reta[i] = pair[best];
	}
}

int
pmd_rss_build(struct pmd_rss *out, const struct rss_settings *cfg,
              const bool *enabled, uint16_t nqp, char *why, size_t why_len)
{
	uint16_t pair[RSS_TABLE_MAX], weight[RSS_TABLE_MAX];
	uint16_t n_enabled = 0, n = 0;
	struct rss_settings_err err;

	/* The settings' one gate, run again: this build indexes enabled[] with
	 * table entries, so it must never see settings that did not pass it. */
	if (rss_settings_check(cfg, nqp, &err) != 0) {
		if (why != NULL && why_len > 0)
			snprintf(why, why_len, "RSS settings refused: %s", err.reason);
		return -EINVAL;                  /* out untouched */
	}
	for (uint16_t q = 0; q < nqp; q++)
		n_enabled = (uint16_t)(n_enabled + (enabled != NULL && enabled[q]));

	/* Candidates for a weighted fill. Weights name at most
	 * RSS_TABLE_MAX pairs; with equal weights only the first reta_size
	 * enabled pairs can get an entry (largest-remainder rounding would
	 * give them one each), so both lists fit. */
	if (n_enabled > 0 && cfg->n_table == 0) {
		for (uint16_t q = 0; q < nqp; q++) {
			uint16_t w = 1;

			if (cfg->n_weights > 0)
				w = q < cfg->n_weights ? cfg->weights[q] : 0;
			else if (n == cfg->table_size)
				break;
			if (!enabled[q] || w == 0)
				continue;
			pair[n] = q;
			weight[n] = w;
			n++;
		}
		/* The guest enabled only pairs the weights leave out: the
		 * weights cannot be honoured, but frames must still land on
		 * enabled queues, never on a disabled one. Spread them equally
		 * until the guest enables a weighted pair again. */
		for (uint16_t q = 0; n == 0 && q < nqp; q++)
			for (uint16_t k = q; enabled[q] && k < nqp && n < cfg->table_size; k++)
				if (enabled[k]) {
					pair[n] = k;
					weight[n] = 1;
					n++;
				}
	}

	memset(out, 0, sizeof(*out));
	memcpy(out->key, cfg->key, RSS_KEY_LEN);
	rss_fill_byte_hash(out, cfg->key);
	out->reta_size = cfg->table_size;
	if ((cfg->table_size & (cfg->table_size - 1)) == 0)
		out->reta_mask = (uint16_t)(cfg->table_size - 1);
	out->n_enabled = n_enabled;
	if (n_enabled == 0)
		return 0;                        /* reta all 0, never consulted */
	if (cfg->n_table > 0)
		rss_fill_table(out, cfg, enabled, nqp);
	else
		rss_fill_weights(out, cfg->table_size, n, pair, weight);
	return 0;
}
