/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/gro.c - TCP/IPv4 receive offload for GUEST_TSO4 guests (see gro.h):
 * the candidate check, runs of candidates through rte_gro, and the two ways
 * a merged frame leaves: whole (its header fixed up in a copy) or taken
 * apart again. */
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
#define TCP_ACK    0x10
#define IP_ECN_CE  0x03

bool
pmd_gro_candidate(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	struct pmd_flow f;
	uint32_t tcp_len;

	m->ol_flags &= ~RTE_MBUF_F_RX_LRO;      /* the mark is ours alone */
	if (m->nb_segs != 1 ||
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
	    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	pmd_flow_of(m, &f);
	/* Plain Ethernet, IPv4 without options, TCP, not a fragment. */
	if (f.family != 4 || f.proto != IPPROTO_TCP || !f.has_ports || f.l3_off != ETH_HLEN ||
	    f.l4_off != ETH_HLEN + IPV4_HLEN || m->data_len < ETH_HLEN + IPV4_HLEN + 20)
		return false;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH_HLEN);
	tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, ETH_HLEN + IPV4_HLEN);
	tcp_len = (uint32_t)(tcp->data_off >> 4) * 4;
	/* rte_gro takes the payload to run to the frame's end. */
	if (rte_be_to_cpu_16(ip->total_length) != m->pkt_len - ETH_HLEN ||
	    (ip->type_of_service & IP_ECN_CE) == IP_ECN_CE ||
	    tcp->tcp_flags != TCP_ACK || tcp_len < 20 ||
	    m->pkt_len <= ETH_HLEN + IPV4_HLEN + tcp_len)
		return false;
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    rte_raw_cksum(ip, IPV4_HLEN) != 0xffff)
		return false;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	m->l2_len = ETH_HLEN;
	m->l3_len = IPV4_HLEN;
	m->l4_len = (uint8_t)tcp_len & 0x7f;
	return true;
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
pmd_gro_burst(struct rte_mbuf **pkts, uint16_t n)
{
	const struct rte_gro_param param = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = PMD_BURST,
		.max_item_per_flow = PMD_BURST,
	};
	uint16_t out = 0, i = 0;

	while (i < n) {
		uint16_t j = i;

		while (j < n && pmd_gro_candidate(pkts[j]))
			j++;
		/* pkts[i..j) are candidates, pkts[j] (if any) is not. */
		if (j - i >= 2) {
			uint16_t k = rte_gro_reassemble_burst(&pkts[i], (uint16_t)(j - i), &param);

			for (uint16_t u = 0; u < k; u++) {
				gro_mark(pkts[i + u]);
				pkts[out++] = pkts[i + u];
			}
		} else if (j > i) {
			pkts[out++] = pkts[i];
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
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + l3);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(hdr + l4);
	unsigned n = 2;

	if (max < 2 || m->nb_segs > max - 1)
		return 0;
	/* rte_gro set the total length; the rest is the first segment's. */
	memcpy(hdr, rte_pktmbuf_mtod(m, const void *), hdrs);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
	iov[0] = (struct iovec){ hdr, hdrs };
	iov[1] = (struct iovec){ rte_pktmbuf_mtod_offset(m, char *, hdrs),
	                         (size_t)(m->data_len - hdrs) };
	for (const struct rte_mbuf *s = m->next; s != NULL; s = s->next)
		iov[n++] = (struct iovec){ rte_pktmbuf_mtod(s, void *), s->data_len };
	*meta = (struct vnet_rx_meta){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = hdrs, .gso_size = m->tso_segsz,
		.csum_start = l4, .csum_offset = offsetof(struct rte_tcp_hdr, cksum),
	};
	return n;
}

uint16_t
pmd_gro_unmerge(struct rte_mbuf *m, struct rte_mbuf **out)
{
	uint16_t hdrs = (uint16_t)(m->l2_len + m->l3_len + m->l4_len), n = 0;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	struct rte_mbuf *s = m;

	/* The only byte rte_gro wrote: the first segment's total length. */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(m->data_len - m->l2_len));
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
