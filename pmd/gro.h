/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/gro.h - receive offload for a guest that negotiated GUEST_TSO4 or
 * GUEST_TSO6: TCP segments from a port, one burst of one guest RX queue at a
 * time, merged into one large frame that the guest takes as GSO (NEEDS_CSUM,
 * gso_type TCPV4 or TCPV6, gso_size the MSS): TCP/IPv4 by DPDK's rte_gro,
 * TCP/IPv6 here (DPDK 22.11's rte_gro has none), by the same rules.
 * Security model: frames from a port are hostile. A segment is merged only if
 * the port verified its TCP checksum (the guest will not check a merged
 * frame's), its IPv4 header checksum holds, its lengths agree with the frame,
 * and it has no IP options, IPv6 extension headers or VLAN tag; its header
 * fields are read once, here. A merged frame is the segments' own mbufs
 * chained with the later headers skipped, so it can be taken apart again,
 * bit for bit, when a guest buffer cannot hold it. */
#ifndef VHOSTMQ_PMD_GRO_H
#define VHOSTMQ_PMD_GRO_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <rte_mbuf.h>
#include "virtio/vnet.h"

/* Ethernet + IPv6 + TCP with the longest options: a merged frame's headers. */
#define PMD_GRO_HDR_MAX (14 + 40 + 60)

/* Whether m is a segment pmd_gro_burst() may merge (see the security model:
 * one mbuf, TCP over IPv4 or IPv6 behind plain Ethernet, checksums verified,
 * the IP length matching the frame, no IPv4 options or IPv6 extension
 * headers, not ECN CE-marked, TCP flags exactly ACK (rte_gro leaves the
 * others out) and a payload). If so, sets what the merge reads:
 * packet_type, l2_len, l3_len, l4_len. */
bool pmd_gro_candidate(struct rte_mbuf *m);

/* Merges the segments of pkts[0..n) in place and returns how many frames are
 * left: each run of consecutive candidates of one IP version (v4, v6: the
 * versions the guest takes merged) is merged on its own (IPv4 by
 * rte_gro_reassemble_burst()), so no segment passes a frame that came
 * before it outside the run, and a flow's frames keep their order. A merged
 * frame is marked RTE_MBUF_F_RX_LRO with tso_segsz its largest segment
 * payload. */
uint16_t pmd_gro_burst(struct rte_mbuf **pkts, uint16_t n, bool v4, bool v6);

/* Whether a merged frame is TCP/IPv6 (else TCP/IPv4). */
bool pmd_gro_is_v6(const struct rte_mbuf *m);

static inline bool
pmd_gro_merged(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0;
}

/* A merged frame as the guest gets it: its headers copied to hdr (at least
 * PMD_GRO_HDR_MAX bytes) with the IPv4 header checksum redone and the TCP
 * checksum field holding the pseudo header's sum (CHECKSUM_PARTIAL), then
 * the payload pieces; in iov[0..max). Returns the pieces, 0 if more than max;
 * meta gets the net header. m is not changed. */
unsigned pmd_gro_frame(const struct rte_mbuf *m, uint8_t *hdr, struct vnet_rx_meta *meta,
                       struct iovec *iov, unsigned max);

/* Takes a merged frame apart into the segments it was made of, as they came
 * from the port (out[0..m->nb_segs), in sequence order); returns how many. */
uint16_t pmd_gro_unmerge(struct rte_mbuf *m, struct rte_mbuf **out);

#endif
