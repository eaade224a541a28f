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

struct rte_mbuf;

#define PMD_RSS_KEY_LEN   40             /* the Microsoft RSS key length */
#define PMD_RSS_RETA_MIN  1
#define PMD_RSS_RETA_MAX  512
#define PMD_RSS_RETA_DEFAULT 128         /* what most NICs expose (ethtool -x) */

/* The well-known default key from the Microsoft RSS specification. */
extern const uint8_t pmd_rss_default_key[PMD_RSS_KEY_LEN];

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

/* How the administrator wants the table filled (ethtool -X). */
struct pmd_rss_cfg {
	uint8_t key[PMD_RSS_KEY_LEN];
	uint16_t reta_size;              /* PMD_RSS_RETA_MIN..MAX */
	/* Either weights (per queue pair, 0 = never; n_weights 0 = equal over
	 * all enabled), or an explicit table of queue pair numbers (n_table ==
	 * reta_size). Entries naming a disabled queue are remapped to enabled
	 * ones so no frame lands on a disabled queue. */
	uint16_t n_weights;
	uint16_t weights[PMD_RSS_RETA_MAX];
	uint16_t n_table;
	uint16_t table[PMD_RSS_RETA_MAX];
};

/* Longest hash input: IPv6 source and destination, then both ports. */
#define PMD_RSS_INPUT_MAX (16 + 16 + 2 + 2)

struct pmd_rss {
	/* Toeplitz by table: hash = XOR of byte_hash[i][input[i]], where each
	 * entry is the XOR of the 32-bit key windows of the bits set in that
	 * byte (one lookup per input byte instead of a loop per bit). */
	uint32_t byte_hash[PMD_RSS_INPUT_MAX][256];
	uint8_t key[PMD_RSS_KEY_LEN];
	uint16_t reta_size;
	uint16_t reta_mask;              /* reta_size - 1 if a power of two, else 0 */
	uint16_t n_enabled;              /* 0: nothing can receive */
	uint16_t reta[PMD_RSS_RETA_MAX]; /* queue pair per entry */
};

/* Fills cfg with the default key, 128 entries, equal weights. */
void pmd_rss_cfg_default(struct pmd_rss_cfg *cfg);

/* Builds the table from cfg for the queue pairs whose RX ring is enabled
 * (enabled[qp], nqp entries). 0, or -EINVAL with why filled (a weight or table
 * entry naming a pair >= nqp, sizes out of range). With no pair enabled the
 * result has n_enabled 0. */
int pmd_rss_build(struct pmd_rss *out, const struct pmd_rss_cfg *cfg,
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
