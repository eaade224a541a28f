/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/steer.h - steering: which guest RX queue a frame from the port goes
 * to. The flow parse finds a frame's addresses and ports; software
 * receive-side scaling hashes them (Toeplitz over the IPv4/IPv6 TCP/UDP
 * 4-tuple, 2-tuple for other IP, queue 0 for non-IP) into an indirection
 * table that names only enabled RX queues; flow affinity ("RX follows TX")
 * remembers on which pair the guest sent a flow and answers there. A struct
 * pmd_rss is immutable once built: changes (key, table, a queue enabled or
 * disabled) build a new one, which the control thread publishes with the
 * poll plans. The helpers that run per frame are static inline here, so the
 * burst loops in datapath.c inline them. */
#ifndef VHOSTMQ_PMD_STEER_H
#define VHOSTMQ_PMD_STEER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_hash_crc.h>
#include "virtio/rss_settings.h"

struct iovec;
struct rte_mbuf;
struct rte_ring;

/* A flow as the hash sees it; addresses and ports in network byte order. */
struct pmd_flow {
	/* Aligned for the word loads of rte_hash_crc (flow affinity). */
	_Alignas(8) uint8_t src[16];     /* IPv4 uses the first 4 bytes */
	_Alignas(8) uint8_t dst[16];
	uint16_t sport, dport;
	uint8_t family;                  /* 4, 6, or 0 (not IP) */
	uint8_t proto;                   /* IPPROTO_TCP / IPPROTO_UDP / other */
	bool has_ports;                  /* TCP or UDP, not a fragment */
	uint16_t l3_off;                 /* IP header (family 4 or 6) */
	uint16_t l4_off;                 /* TCP/UDP header (has_ports) */
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
 * addresses only), and where its IP and L4 headers start (l3_off, l4_off:
 * the GRO check, pmd/gro.c, reads them too). Reads only what the frame holds. */
void pmd_flow_of(const struct rte_mbuf *m, struct pmd_flow *f);
/* The same for a frame in host pieces v[0..n) (a guest's TX buffers, the
 * net header skipped): the same flow as the frame would have in an mbuf. */
void pmd_flow_of_iov(const struct iovec *v, unsigned n, struct pmd_flow *f);

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

/* How frames from the port choose a guest RX queue. */
enum pmd_steer_mode {
	PMD_STEER_RSS = 0,               /* Toeplitz hash + indirection table */
	PMD_STEER_FLOW_AFFINITY,         /* RX follows the flow's last TX queue,
	                                    RSS for flows not seen yet */
};

/* Flow-affinity table slots: a direct-mapped cache of recent flows. */
#define PMD_AFFINITY_SLOTS 4096

/* A device's steering, shared by its poll threads. The snapshot part (rss,
 * mode) is immutable and replaced as a whole when queues are enabled or
 * disabled or the table changes; the inboxes and the affinity table live as
 * long as the device. */
struct pmd_steer {
	enum pmd_steer_mode mode;
	struct pmd_rss rss;
	const bool *rx_enabled;          /* [nqp]: what rss was built over */
	struct rte_ring *const *inbox;   /* [nqp]: frames for pair i (MP/SC) */
	/* flow slot -> queue pair + 1 (0: unknown); written by guest TX of any
	 * thread, read by steering: single 16-bit relaxed stores and loads. */
	uint16_t *affinity;
};

/* The flow-affinity slot of a flow: the same for both directions of it. */
static inline uint32_t
pmd_affinity_slot(const struct pmd_flow *f)
{
	/* Both directions of a flow meet in one slot: hash the endpoints in a
	 * fixed order (the smaller address/port first). */
	unsigned alen = f->family == 6 ? 16 : 4;
	int c = memcmp(f->src, f->dst, alen);
	bool swap = c > 0 || (c == 0 && f->sport > f->dport);
	uint32_t h = rte_hash_crc(swap ? f->dst : f->src, alen, f->proto);

	h = rte_hash_crc(swap ? f->src : f->dst, alen, h);
	h = rte_hash_crc_4byte(swap ? (uint32_t)f->dport << 16 | f->sport
	                            : (uint32_t)f->sport << 16 | f->dport, h);
	return h & (PMD_AFFINITY_SLOTS - 1);
}

/* Flow affinity ("RX follows TX", as the Linux tun driver does): the guest
 * sent these flows on pair qp, so their replies go to qp's RX. A no-op
 * unless s steers by flow affinity. */
static inline bool
pmd_steer_remembers(const struct pmd_steer *s)
{
	return s != NULL && s->mode == PMD_STEER_FLOW_AFFINITY;
}

/* One flow the guest sent on pair qp (s remembers). */
static inline void
pmd_steer_remember_flow(const struct pmd_steer *s, uint16_t qp, const struct pmd_flow *f)
{
	if (f->family != 0)
		__atomic_store_n(&s->affinity[pmd_affinity_slot(f)], (uint16_t)(qp + 1),
		                 __ATOMIC_RELAXED);
}

static inline void
pmd_steer_remember(const struct pmd_steer *s, uint16_t qp, struct rte_mbuf **pkts,
                   uint16_t n)
{
	if (!pmd_steer_remembers(s))
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct pmd_flow f;

		pmd_flow_of(pkts[i], &f);
		pmd_steer_remember_flow(s, qp, &f);
	}
}

/* The guest RX queue a frame from the port goes to (control API's "rss hash"
 * uses the same function); only meaningful when s->rss.n_enabled > 0. */
static inline uint16_t
pmd_steer_target(const struct pmd_steer *s, const struct pmd_flow *f)
{
	if (s->mode == PMD_STEER_FLOW_AFFINITY && f->family != 0) {
		uint16_t v = __atomic_load_n(&s->affinity[pmd_affinity_slot(f)],
		                             __ATOMIC_RELAXED);

		/* A flow last sent on a queue the guest has since disabled
		 * falls back to RSS, which names only enabled queues. */
		if (v != 0 && s->rx_enabled[v - 1])
			return (uint16_t)(v - 1);
	}
	return pmd_rss_queue(&s->rss, pmd_rss_hash(&s->rss, f));
}

#endif
