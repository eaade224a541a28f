/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/gro.c - TCP receive offload for GUEST_TSO4/6 guests (see gro.h): the
 * candidate check, runs of TCP/IPv4 candidates through rte_gro, runs of
 * TCP/IPv6 ones through the merge here (DPDK 22.11's rte_gro has none), and
 * the two ways a merged frame leaves: whole (its header fixed up in a copy)
 * or taken apart again. */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include "pmd/gro.h"
#include "pmd/pmd.h"
#include "pmd/steer.h"

#define ETH_HLEN   14
#define IPV4_HLEN  20
#define IPV6_HLEN  40
#define TCP_ACK    0x10
#define IP_ECN_CE  0x03

/* The IPv6 half of pmd_gro_candidate(): no extension headers, payload
 * length matching the frame, not CE-marked. */
static bool
gro_candidate6(const struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *,
	                                                        ETH_HLEN);
	uint32_t tc = rte_be_to_cpu_32(ip->vtc_flow) >> 20 & 0xff;

	return rte_be_to_cpu_16(ip->payload_len) == m->pkt_len - ETH_HLEN - IPV6_HLEN &&
	       (tc & IP_ECN_CE) != IP_ECN_CE;
}

/* The IPv4 half: lengths, not CE-marked, the header checksum holds. */
static bool
gro_candidate4(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
	                                                        ETH_HLEN);

	/* rte_gro takes the payload to run to the frame's end. */
	if (rte_be_to_cpu_16(ip->total_length) != m->pkt_len - ETH_HLEN ||
	    (ip->type_of_service & IP_ECN_CE) == IP_ECN_CE)
		return false;
	return (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD ||
	       rte_raw_cksum(ip, IPV4_HLEN) == 0xffff;
}

bool
pmd_gro_candidate(struct rte_mbuf *m)
{
	const struct rte_tcp_hdr *tcp;
	struct pmd_flow f;
	uint32_t tcp_len, l3_len;

	m->ol_flags &= ~RTE_MBUF_F_RX_LRO;      /* the mark is ours alone */
	if (m->nb_segs != 1 ||
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
	    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	pmd_flow_of(m, &f);
	/* Plain Ethernet, IPv4 without options or IPv6 without extension
	 * headers, TCP, not a fragment. */
	l3_len = f.family == 4 ? IPV4_HLEN : IPV6_HLEN;
	if ((f.family != 4 && f.family != 6) || f.proto != IPPROTO_TCP || !f.has_ports ||
	    f.l3_off != ETH_HLEN || f.l4_off != ETH_HLEN + l3_len ||
	    m->data_len < ETH_HLEN + l3_len + 20)
		return false;
	tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, ETH_HLEN + l3_len);
	tcp_len = (uint32_t)(tcp->data_off >> 4) * 4;
	if (tcp->tcp_flags != TCP_ACK || tcp_len < 20 ||
	    m->pkt_len <= ETH_HLEN + l3_len + tcp_len || m->data_len < ETH_HLEN + l3_len + tcp_len)
		return false;
	if (!(f.family == 4 ? gro_candidate4(m) : gro_candidate6(m)))
		return false;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L4_TCP |
	                 (f.family == 4 ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6);
	m->l2_len = ETH_HLEN;
	m->l3_len = l3_len & 0x1ff;
	m->l4_len = (uint8_t)tcp_len & 0x7f;
	return true;
}

static inline bool
gro_is6(const struct rte_mbuf *m)
{
	return (m->packet_type & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV6;
}

/* TCP/IPv6 merge, what rte_gro does for IPv4: b joins a's frame when both
 * are the same flow (addresses, ports), their IPv6 headers agree but for
 * the length, their TCP headers agree but for the sequence number and the
 * checksum (options included: timestamps that differ keep them apart, as
 * in Linux), and b's sequence number is where a's frame ends. */
static bool
gro_joins6(const struct rte_mbuf *a, uint32_t a_end, const struct rte_mbuf *b)
{
	const uint8_t *pa = rte_pktmbuf_mtod(a, const uint8_t *);
	const uint8_t *pb = rte_pktmbuf_mtod(b, const uint8_t *);
	const struct rte_tcp_hdr *tb = (const struct rte_tcp_hdr *)(pb + ETH_HLEN + IPV6_HLEN);
	uint16_t l4 = ETH_HLEN + IPV6_HLEN;

	if (b->l4_len != a->l4_len || rte_be_to_cpu_32(tb->sent_seq) != a_end)
		return false;
	/* Ethernet, then IPv6 with its payload length (bytes 4-5) left out. */
	if (memcmp(pa, pb, ETH_HLEN + 4) != 0 ||
	    memcmp(pa + ETH_HLEN + 6, pb + ETH_HLEN + 6, IPV6_HLEN - 6) != 0)
		return false;
	/* TCP: ports; then acknowledgement, offset, flags, window (8-15) and
	 * the options; not the sequence number or the checksum. */
	return memcmp(pa + l4, pb + l4, 4) == 0 && memcmp(pa + l4 + 8, pb + l4 + 8, 8) == 0 &&
	       memcmp(pa + l4 + 20, pb + l4 + 20, (size_t)a->l4_len - 20) == 0;
}

/* Merges a run of TCP/IPv6 candidates pk[0..n) in place; returns the frames
 * left. A frame is its first segment's mbuf, the others chained behind it
 * with their headers skipped (still in front of their data, for
 * pmd_gro_unmerge()), its IPv6 payload length the whole frame's; no frame
 * grows past VNET_MAX_FRAME. Each frame stays where its first segment was. */
static uint16_t
gro_merge6(struct rte_mbuf **pk, uint16_t n)
{
	bool taken[PMD_BURST_MAX] = { false };
	uint16_t out = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *head = pk[i], *last = head;
		uint32_t hdrs, end;
		const struct rte_tcp_hdr *t;
		struct rte_ipv6_hdr *ip;

		if (taken[i])
			continue;
		hdrs = (uint32_t)head->l2_len + head->l3_len + head->l4_len;
		t = rte_pktmbuf_mtod_offset(head, const struct rte_tcp_hdr *, ETH_HLEN + IPV6_HLEN);
		end = rte_be_to_cpu_32(t->sent_seq) + (head->pkt_len - hdrs);
		for (uint16_t j = (uint16_t)(i + 1); j < n; j++) {
			struct rte_mbuf *b = pk[j];
			uint32_t pay = b->pkt_len - hdrs;

			if (taken[j] || head->pkt_len + pay > VNET_MAX_FRAME ||
			    !gro_joins6(head, end, b))
				continue;
			rte_pktmbuf_adj(b, (uint16_t)hdrs);
			last->next = b;
			last = b;
			head->nb_segs++;
			head->pkt_len += pay;
			end += pay;
			taken[j] = true;
		}
		ip = rte_pktmbuf_mtod_offset(head, struct rte_ipv6_hdr *, ETH_HLEN);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(head->pkt_len - ETH_HLEN - IPV6_HLEN));
		pk[out++] = head;
	}
	return out;
}

/* A frame rte_gro returned: merged if it is more than one mbuf (candidates
 * are one each); then marked, with the largest payload among its segments. */
static void
gro_mark(struct rte_mbuf *m)
{
	uint32_t hdrs = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint16_t mss = (uint16_t)(m->data_len - hdrs);

	if (m->nb_segs == 1)
		return;
	for (const struct rte_mbuf *s = m->next; s != NULL; s = s->next)
		mss = s->data_len > mss ? s->data_len : mss;
	m->ol_flags |= RTE_MBUF_F_RX_LRO;
	m->tso_segsz = mss & 0x3fff;   /* at most a frame's payload: fits */
}

uint16_t
pmd_gro_burst(struct rte_mbuf **pkts, uint16_t n, bool v4, bool v6)
{
	const struct rte_gro_param param = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = PMD_BURST_MAX,
		.max_item_per_flow = PMD_BURST_MAX,
	};
	uint16_t out = 0, i = 0;

	while (i < n) {
		uint16_t j = i;
		bool is6 = false, next_run = false;

		/* A run: consecutive candidates of one IP version the guest
		 * takes merged, at most a burst. A candidate of the other
		 * version ends it and starts the next. */
		while (j < n && j - i < PMD_BURST_MAX && pmd_gro_candidate(pkts[j])) {
			if (j == i)
				is6 = gro_is6(pkts[j]);
			if (gro_is6(pkts[j]) != is6) {
				next_run = true;
				break;
			}
			if (!(is6 ? v6 : v4))
				break;
			j++;
		}
		/* pkts[i..j) are a run, pkts[j] (if any) is not in it. */
		if (j - i >= 2) {
			uint16_t k = is6 ? gro_merge6(&pkts[i], (uint16_t)(j - i))
			                 : rte_gro_reassemble_burst(&pkts[i], (uint16_t)(j - i), &param);

			for (uint16_t u = 0; u < k; u++) {
				gro_mark(pkts[i + u]);
				pkts[out++] = pkts[i + u];
			}
		} else if (j > i) {
			pkts[out++] = pkts[i];
		}
		if (next_run) {
			i = j;
			continue;
		}
		if (j < n)
			pkts[out++] = pkts[j];
		i = (uint16_t)(j + 1);
	}
	return out;
}

unsigned
pmd_gro_frame(const struct rte_mbuf *m, uint8_t *hdr, struct vnet_rx_meta *meta,
              struct iovec *iov, unsigned max)
{
	uint16_t l3 = m->l2_len, l4 = (uint16_t)(l3 + m->l3_len), hdrs = (uint16_t)(l4 + m->l4_len);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(hdr + l4);
	bool is6 = gro_is6(m);
	unsigned n = 2;

	if (max < 2 || m->nb_segs > max - 1)
		return 0;
	/* The merge set the length; the rest is the first segment's. */
	memcpy(hdr, rte_pktmbuf_mtod(m, const void *), hdrs);
	if (is6) {
		tcp->cksum = rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)(hdr + l3), 0);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + l3);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
	}
	iov[0] = (struct iovec){ hdr, hdrs };
	iov[1] = (struct iovec){ rte_pktmbuf_mtod_offset(m, char *, hdrs),
	                         (size_t)(m->data_len - hdrs) };
	for (const struct rte_mbuf *s = m->next; s != NULL; s = s->next)
		iov[n++] = (struct iovec){ rte_pktmbuf_mtod(s, void *), s->data_len };
	*meta = (struct vnet_rx_meta){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = is6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = hdrs, .gso_size = m->tso_segsz,
		.csum_start = l4, .csum_offset = offsetof(struct rte_tcp_hdr, cksum),
	};
	return n;
}

bool
pmd_gro_is_v6(const struct rte_mbuf *m)
{
	return gro_is6(m);
}

uint16_t
pmd_gro_unmerge(struct rte_mbuf *m, struct rte_mbuf **out)
{
	uint16_t hdrs = (uint16_t)(m->l2_len + m->l3_len + m->l4_len), n = 0;
	struct rte_mbuf *s = m;

	/* The only bytes the merge wrote: the first segment's IP length. */
	if (gro_is6(m))
		rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len)->payload_len =
			rte_cpu_to_be_16((uint16_t)(m->data_len - m->l2_len - m->l3_len));
	else
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len)->total_length =
			rte_cpu_to_be_16((uint16_t)(m->data_len - m->l2_len));
	while (s != NULL) {
		struct rte_mbuf *next = s->next;

		/* A later segment's headers are still in front of its data:
		 * rte_gro only moved data_off past them. */
		if (s != m)
			rte_pktmbuf_prepend(s, hdrs);
		s->next = NULL;
		s->nb_segs = 1;
		s->pkt_len = s->data_len;
		s->ol_flags &= ~RTE_MBUF_F_RX_LRO;
		out[n++] = s;
		s = next;
	}
	return n;
}
