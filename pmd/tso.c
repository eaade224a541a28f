/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/tso.c - TCP segmentation in software (see tso.h). Each segment is a
 * fresh mbuf chain: the frame's headers, then its share of the payload; the
 * lengths, sequence numbers, flags and checksums are then rewritten from the
 * offsets the gate checked, never from what the header bytes say. */
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include "pmd/tso.h"
#include "virtio/vnet.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* Adds the 64-bit word at p to sum, counting the wrap-around in carry:
 * 2^64 is 1 in one's complement arithmetic (2^16 is), so every wrap adds 1. */
#define SUM64(sum, carry, p) do {                                    \
		uint64_t v_;                                         \
		memcpy(&v_, (p), sizeof(v_));                        \
		(sum) += v_;                                         \
		(carry) += (sum) < v_;                               \
	} while (0)

/* The one's complement sum of len bytes as 16-bit words in host order,
 * folded (what rte_raw_cksum() gives), 64 bits per add with the carries
 * counted aside, 32 bytes per loop: about half of rte_raw_cksum()'s
 * instructions per byte (bench/tools/ipp.c, pmd-loopback-csum). */
static uint16_t
sum16(const uint8_t *p, size_t len)
{
	uint64_t sum = 0, carry = 0;

	for (; len >= 32; p += 32, len -= 32) {
		SUM64(sum, carry, p);
		SUM64(sum, carry, p + 8);
		SUM64(sum, carry, p + 16);
		SUM64(sum, carry, p + 24);
	}
	for (; len >= 8; p += 8, len -= 8)
		SUM64(sum, carry, p);
	sum = (sum & 0xffffffff) + (sum >> 32) + carry;
	if (len >= 4) {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		sum += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len)
		sum += rte_le_to_cpu_16(*p);     /* the odd byte, zero-padded */
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t
pmd_mbuf_sum(const struct rte_mbuf *m, uint32_t off)
{
	uint32_t sum = 0, done = 0;

	for (; m != NULL; m = m->next) {
		uint16_t part;

		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		part = sum16(rte_pktmbuf_mtod_offset(m, const uint8_t *, off),
		             (size_t)(m->data_len - off));
		/* A piece that starts at an odd position has its bytes in the
		 * other halves of the words. */
		sum += done & 1 ? rte_bswap16(part) : part;
		done += m->data_len - off;
		off = 0;
	}
	return sum;
}

void
pmd_csum_fill(struct rte_mbuf *m, uint32_t start, uint32_t offset)
{
	uint32_t off = start + offset;
	uint16_t csum = vnet_csum_finish(pmd_mbuf_sum(m, start));
	struct rte_mbuf *seg = m;

	if (likely(off + sizeof(csum) <= m->data_len)) {
		memcpy(rte_pktmbuf_mtod_offset(m, char *, off), &csum, sizeof(csum));
		return;
	}
	/* The field may straddle two segments of a large frame. */
	for (unsigned i = 0; i < sizeof(csum); i++, off++) {
		while (off >= seg->data_len) {
			off -= seg->data_len;
			seg = seg->next;
		}
		*rte_pktmbuf_mtod_offset(seg, uint8_t *, off) = ((const uint8_t *)&csum)[i];
	}
}

bool
pmd_csum_mark(struct rte_mbuf *m, uint16_t start, uint16_t offset)
{
	const uint16_t l2 = 14;

	if ((offset != 16 && offset != 6) || start < l2 || start - l2 > 511)
		return false;
	m->ol_flags |= offset == 16 ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
	m->l2_len = l2;
	m->l3_len = (uint64_t)(start - l2) & 0x1ff;
	return true;
}

/* Appends len bytes of src from offset off to the chain whose last mbuf is
 * *tail, taking more mbufs from pool as it fills. 0, or -1 (pool empty). */
static int
chain_append(struct rte_mbuf *head, struct rte_mbuf **tail, struct rte_mempool *pool,
             const struct rte_mbuf *src, uint32_t off, uint32_t len)
{
	while (len > 0) {
		struct rte_mbuf *t = *tail;
		uint32_t n;
		char *dst;
		const void *p;

		if (rte_pktmbuf_tailroom(t) == 0) {
			struct rte_mbuf *more = rte_pktmbuf_alloc(pool);

			if (more == NULL)
				return -1;
			t->next = more;
			*tail = t = more;
			head->nb_segs++;
		}
		n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(t));
		dst = rte_pktmbuf_mtod_offset(t, char *, t->data_len);
		p = rte_pktmbuf_read(src, off, n, dst);
		if (p == NULL)
			return -1;               /* cannot happen: off + len is in src */
		if (p != dst)
			memcpy(dst, p, n);
		t->data_len = (uint16_t)(t->data_len + n);
		head->pkt_len += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Rewrites segment s's headers: it carries payload bytes [pos, pos + len) of
 * the frame, and is number i of n. */
static void
segment_headers(struct rte_mbuf *s, const struct rte_mbuf *m, uint32_t i, uint32_t n,
                uint32_t pos, uint16_t ip_id, uint32_t seq)
{
	uint32_t l2 = m->l2_len, l3 = m->l3_len, l4 = m->l4_len;
	struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(s, struct rte_tcp_hdr *, l2 + l3);
	uint32_t sum;

	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(s, struct rte_ipv4_hdr *, l2);

		ip->version_ihl = (uint8_t)(0x40 | l3 / 4);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(s->pkt_len - l2));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(ip_id + i));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		sum = rte_ipv4_phdr_cksum(ip, 0);
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(s, struct rte_ipv6_hdr *, l2);

		ip->payload_len = rte_cpu_to_be_16((uint16_t)(s->pkt_len - l2 - l3));
		sum = rte_ipv6_phdr_cksum(ip, 0);
	}
	tcp->sent_seq = rte_cpu_to_be_32(seq + pos);
	tcp->data_off = (uint8_t)((l4 / 4) << 4 | (tcp->data_off & 0x0f));
	if (i + 1 < n)
		tcp->tcp_flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		tcp->tcp_flags &= (uint8_t)~TCP_CWR;
	tcp->cksum = 0;
	tcp->cksum = vnet_csum_finish(sum + pmd_mbuf_sum(s, l2 + l3));
}

uint16_t
pmd_tso_segment(const struct rte_mbuf *m, struct rte_mempool *pool, struct rte_mbuf **out,
                uint16_t max)
{
	uint32_t hdrs = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint32_t mss = m->tso_segsz, payload, n;
	uint8_t h[14 + 4 + 60 + 60];     /* Ethernet, VLAN, IPv4 and TCP with options */
	const uint8_t *hp;
	uint16_t ip_id = 0;
	uint32_t seq;

	if (mss == 0 || m->pkt_len <= hdrs || hdrs > sizeof(h))
		return 0;
	payload = m->pkt_len - hdrs;
	n = (payload + mss - 1) / mss;
	if (n > max || (hp = rte_pktmbuf_read(m, 0, hdrs, h)) == NULL)
		return 0;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		const uint8_t *id = hp + m->l2_len + offsetof(struct rte_ipv4_hdr, packet_id);

		ip_id = (uint16_t)(id[0] << 8 | id[1]);
	}
	{
		const uint8_t *sp = hp + m->l2_len + m->l3_len + offsetof(struct rte_tcp_hdr, sent_seq);

		seq = (uint32_t)sp[0] << 24 | (uint32_t)sp[1] << 16 | (uint32_t)sp[2] << 8 | sp[3];
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pos = i * mss, len = RTE_MIN(mss, payload - pos);
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool), *tail = s;

		if (s == NULL || rte_pktmbuf_append(s, (uint16_t)hdrs) == NULL ||
		    chain_append(s, &tail, pool, m, hdrs + pos, len) != 0) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free_bulk(out, i);
			return 0;
		}
		memcpy(rte_pktmbuf_mtod(s, void *), hp, hdrs);
		segment_headers(s, m, i, n, pos, ip_id, seq);
		out[i] = s;
	}
	return (uint16_t)n;
}
