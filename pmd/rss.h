/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/rss.h - software receive-side scaling: which guest RX queue a frame from
 * the port goes to. Toeplitz over the IPv4/IPv6 TCP/UDP 4-tuple (2-tuple for
 * other IP, queue 0 for non-IP), then an indirection table that names only
 * enabled RX queues. A struct pmd_rss is immutable once built: changes (key,
 * table, a queue enabled or disabled) build a new one, which the control
 * thread publishes with the poll plans. */
#ifndef VHOSTMQ_PMD_RSS_H
#define VHOSTMQ_PMD_RSS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio/rss_settings.h"

struct rte_mbuf;

/* A flow as the hash sees it; addresses and ports in network byte order. */
struct pmd_flow {
	/* Aligned for the word loads of rte_hash_crc (flow affinity). */
	_Alignas(8) uint8_t src[16];     /* IPv4 uses the first 4 bytes */
	_Alignas(8) uint8_t dst[16];
	uint16_t sport, dport;
	uint8_t family;                  /* 4, 6, or 0 (not IP) */
	uint8_t proto;                   /* IPPROTO_TCP / IPPROTO_UDP / other */
	bool has_ports;                  /* TCP or UDP, not a fragment */
};

/* Longest hash input: IPv6 source and destination, then both ports. */
#define PMD_RSS_INPUT_MAX (16 + 16 + 2 + 2)

struct pmd_rss {
	/* Toeplitz by table: hash = XOR of byte_hash[i][input[i]], where each
	 * entry is the XOR of the 32-bit key windows of the bits set in that
	 * byte (one lookup per input byte instead of a loop per bit). */
	uint32_t byte_hash[PMD_RSS_INPUT_MAX][256];
	uint8_t key[RSS_KEY_LEN];
	uint16_t reta_size;
	uint16_t reta_mask;              /* reta_size - 1 if a power of two, else 0 */
	uint16_t n_enabled;              /* 0: nothing can receive */
	uint16_t reta[RSS_TABLE_MAX];    /* queue pair per entry */
};

/* Builds the table from settings that passed rss_settings_check() for nqp
 * pairs, over the pairs whose RX ring is enabled (enabled[qp], nqp entries).
 * 0; settings that do not pass are refused with -EINVAL and why, out
 * untouched, so unchecked settings can never index past enabled[]. With no
 * pair enabled the result has n_enabled 0. */
int pmd_rss_build(struct pmd_rss *out, const struct rss_settings *cfg,
                  const bool *enabled, uint16_t nqp, char *why, size_t why_len);

/* Extracts the flow of an Ethernet frame (VLAN tags skipped; IPv4 options and
 * IPv6 extension headers handled as far as the L4 header; fragments hash on
 * addresses only). Reads only what the frame holds. */
void pmd_flow_of(const struct rte_mbuf *m, struct pmd_flow *f);

/* Toeplitz hash of a flow with the table's key (Microsoft RSS input order:
 * src addr, dst addr, src port, dst port); 0 for non-IP. */
uint32_t pmd_rss_hash(const struct pmd_rss *r, const struct pmd_flow *f);

/* The queue pair a hash selects; only meaningful when n_enabled > 0. Non-IP
 * frames use entry 0 of the table (always an enabled queue). */
static inline uint16_t
pmd_rss_queue(const struct pmd_rss *r, uint32_t hash)
{
	/* A division per frame costs more than the rest of the lookup; the
	 * usual table sizes are powers of two and need none. */
	return r->reta[r->reta_mask ? hash & r->reta_mask : hash % r->reta_size];
}

#endif
