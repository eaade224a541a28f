/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/tso.h - TCP segmentation in software, for TSO frames a guest handed us
 * (VIRTIO_NET_F_HOST_TSO4/6) and a port that cannot cut them. One place for
 * IPv4 and IPv6 (DPDK 22.11's rte_gso has no TCP over IPv6).
 * Security model: the frame's bytes came from a guest and are not trusted;
 * the offsets and sizes in the mbuf's offload fields are (the virtio-net gate
 * checked them against the frame when it was copied), so the cut reads and
 * writes only inside the frame, whatever its header bytes say now. */
#ifndef VHOSTMQ_PMD_TSO_H
#define VHOSTMQ_PMD_TSO_H
#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

/* A TSO request as DPDK spells it on an mbuf: RTE_MBUF_F_TX_TCP_SEG with
 * RTE_MBUF_F_TX_IPV4 or _IPV6, l2_len, l3_len, l4_len and tso_segsz. */
static inline bool
pmd_tso_wanted(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
}

/* Cuts m (a TSO request) into TCP segments of at most tso_segsz payload
 * bytes each, in new mbufs from pool written to out[0..max): headers copied,
 * IPv4 total length, id (+1 per segment) and header checksum, IPv6 payload
 * length, TCP sequence number, FIN/PSH only on the last segment and CWR only
 * on the first, and each TCP checksum computed in full. Returns the number of
 * segments; 0 if the pool ran dry or max is too small (nothing allocated is
 * left behind). m itself is not freed. */
uint16_t pmd_tso_segment(const struct rte_mbuf *m, struct rte_mempool *pool,
                         struct rte_mbuf **out, uint16_t max);

/* The one's complement sum of m's bytes from off to its end, in 16-bit
 * words counted from off (DPDK 22.11's rte_raw_cksum_mbuf is wrong for a
 * segment that starts at an odd position). */
uint32_t pmd_mbuf_sum(const struct rte_mbuf *m, uint32_t off);

/* Completes a partial checksum (NEEDS_CSUM, spec 5.1.6.2): the field at
 * start + offset holds a seed (the pseudo header's sum); the sum from start
 * to the end of the frame, folded, replaces it. The field may straddle two
 * segments. The caller has checked that it lies inside the frame. */
void pmd_csum_fill(struct rte_mbuf *m, uint32_t start, uint32_t offset);

/* A partial checksum left unfinished on an mbuf, for a port that carries
 * frames as the guest sent them (pmd_port.carries_offloads): DPDK's
 * RTE_MBUF_F_TX_TCP_CKSUM (offset 16) or _UDP_CKSUM (offset 6) with
 * l2_len + l3_len = start, the seed still in the field. A TSO request
 * (pmd_tso_wanted()) implies one at its TCP header. */
#define PMD_TX_UNFINISHED (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)

/* Marks m's checksum at start + offset as left unfinished; false when DPDK's
 * fields cannot say it (not TCP's or UDP's offset, start below an Ethernet
 * header or above 14 + 511): then the caller fills it in. */
bool pmd_csum_mark(struct rte_mbuf *m, uint16_t start, uint16_t offset);

/* Where m's unfinished checksum is (m carries one of PMD_TX_UNFINISHED). */
static inline void
pmd_csum_where(const struct rte_mbuf *m, uint16_t *start, uint16_t *offset)
{
	*start = (uint16_t)(m->l2_len + m->l3_len);
	*offset = (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM ? 6 : 16;
}

#endif
