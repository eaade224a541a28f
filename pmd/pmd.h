/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/pmd.h - pinned poll-mode threads. Each thread runs a plan: the list of
 * (device, queue pair) entries it serves, built by the control thread as an
 * immutable snapshot and published with QSBR RCU. The burst path takes no lock:
 * a vq is owned by the one thread whose plan lists it, and the control thread
 * changes it only after republishing a plan without it and waiting for a grace
 * period (pmd_publish() returns after that grace period). */
#ifndef VHOSTMQ_PMD_PMD_H
#define VHOSTMQ_PMD_PMD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_spinlock.h>
#include "pmd/port.h"
#include "pmd/steer.h"
#include "common/base.h"
#include "common/tunables.h"
#include "virtio/vnet.h"
#include "virtio/vq.h"

/* Budgets of one visit: the defaults (common/tunables.h says why these
 * values; a device's config may set others, pmd_qp.burst and burst_bytes),
 * and the most frames a visit may move, which sizes the burst arrays. */
#define PMD_BURST TUNE_BURST
#define PMD_TX_BYTE_BUDGET TUNE_TX_BYTE_BUDGET
#define PMD_BURST_MAX 64
/* Frames held for a guest RX ring: a burst, and room for the segments of one
 * TSO frame cut in its place. */
#define PMD_HELD_MAX (PMD_BURST_MAX + VNET_TSO_MAX_SEGS)

/* Per-queue-pair counters. Directions are the guest's: tx = guest to port,
 * rx = port to guest. Single writer: the owning poll thread. Readers use
 * pmd_stat_read(). */
struct pmd_qstats {
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_drop_port;           /* port refused the frame */
	uint64_t tx_drop_runt;           /* chain shorter than the net header + 1 */
	uint64_t tx_drop_too_big;        /* frame over VNET_MAX_FRAME */
	uint64_t tx_drop_bad_chain;      /* chain rejected by vq_pop */
	uint64_t tx_drop_bad_hdr;        /* net header asks for offloads (checksum,
	                                    GSO) that were not negotiated */
	uint64_t tx_csum_sw;             /* partial checksums (NEEDS_CSUM) vhostmq
	                                    filled in before the port */
	uint64_t tx_tso_frames;          /* TSO frames vhostmq cut into segments */
	uint64_t tx_tso_segments;        /* the segments they made (in tx_packets) */
	uint64_t tx_tso_whole;           /* TSO frames handed whole to a port that
	                                    cuts them (ethdev TSO) or carries them
	                                    (device:) */
	uint64_t tx_direct;              /* frames copied straight into the peer
	                                    guest's RX ring (device: port, both
	                                    ends on this thread; in tx_packets) */
	uint64_t tx_nombuf;              /* bursts cut short by an empty mbuf pool */
	uint64_t tx_lock_wait;           /* sends that found the shared port TX
	                                    queue taken by another thread */
	uint64_t busy_cycles;            /* TSC cycles its thread spent on visits
	                                    of this pair that moved something
	                                    (empty polls not counted) */
	uint64_t tx_notify;              /* call eventfd writes */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_drop_too_big;        /* frame larger than the guest's buffers */
	uint64_t rx_drop_broken;         /* queue broken: frames dropped */
	uint64_t rx_drop_bad_chain;      /* a bad chain cut the frame's buffers */
	uint64_t rx_bad_chain;           /* malformed RX chains returned empty
	                                    (frames went to the next good one) */
	uint64_t rx_notify;
	uint64_t rx_csum_valid;          /* frames marked DATA_VALID: the port had
	                                    verified their checksum */
	uint64_t rx_gro_frames;          /* merged TCP frames delivered (GUEST_TSO4) */
	uint64_t rx_gro_merged;          /* the segments they were made of */
	/* Frames a device: port carried as the peer guest sent them (partial
	 * checksum, TSO up to 64 KiB): */
	uint64_t rx_gso_frames;          /* TSO frames delivered whole (GUEST_TSO) */
	uint64_t rx_csum_partial;        /* frames delivered NEEDS_CSUM (GUEST_CSUM) */
	uint64_t rx_tso_frames;          /* TSO frames cut for a guest that cannot
	                                    take them whole */
	uint64_t rx_tso_segments;        /* the segments they made (in rx_packets) */
	uint64_t rx_csum_sw;             /* partial checksums filled in for a guest
	                                    without GUEST_CSUM */
	uint64_t rx_nombuf;              /* TSO frames dropped: no mbufs to cut them */
	uint64_t rx_wait_no_buf;         /* visits where frames waited for guest
	                                    RX buffers (ports that can tell) */
	/* steering: frames this pair's port queue received, by outcome */
	uint64_t steer_handoff;          /* sent to another pair's inbox */
	uint64_t steer_drop_full;        /* target inbox full */
	/* frames that waited for an RX ring the guest disabled; the one counter
	 * written by the control thread (it drops them once no plan lists the
	 * ring) */
	uint64_t rx_drop_disabled;
};

/* Every counter of struct pmd_qstats by name, in struct order (for the
 * control API); pmd_qstat_nfields entries. */
struct pmd_qstat_field {
	const char *name;
	size_t off;
};
extern const struct pmd_qstat_field pmd_qstat_fields[];
extern const unsigned pmd_qstat_nfields;

static inline uint64_t
pmd_stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* State of one device queue pair that outlives plans (and connections). */
struct pmd_qp_state {
	struct pmd_qstats stats cache_aligned;
	/* Frames taken from the port that the guest had no room for yet; they go
	 * first next time, so a full guest RX ring applies backpressure to the
	 * port instead of losing frames. Owner: the serving poll thread. */
	uint16_t held_n, held_next;
	struct rte_mbuf *held[PMD_HELD_MAX];
	/* Why the last visit stopped short, so an idle thread sleeps instead of
	 * retrying what cannot succeed: the held frame needs more buffers than
	 * the guest had when avail->idx was rx_blocked_avail (a kick comes when
	 * it adds some); guest TX found the mbuf pool empty (nothing will kick:
	 * look again on a timer). Owner: the serving poll thread. */
	bool rx_blocked, tx_nombuf;
	uint16_t rx_blocked_avail;
	bool tx_broken_logged, rx_broken_logged;
	/* The first dropped chain or frame of a ring is logged, the rest only
	 * counted (a guest can make one per packet). */
	bool tx_drop_logged, rx_drop_logged;
};

/* A port TX queue that more than one poll thread sends on (a device with
 * more threads than port TX queues, as Open vSwitch shares them): taken
 * around each send. */
struct pmd_txq_lock {
	rte_spinlock_t lock;
} cache_aligned;

/* One virtqueue as a poll thread sees it; vq == NULL: not running. */
struct pmd_vring {
	struct vq *vq;
	int call_fd;                     /* -1: the guest polls */
	int err_fd;                      /* -1: none */
};

/* A plan entry: a snapshot the control thread built; immutable once published. */
struct pmd_qp {
	struct pmd_vring rx, tx;
	const struct gmem *mem;
	struct vnet_rx_fmt rx_fmt;
	struct vnet_tx_fmt tx_fmt;
	struct pmd_port *port;
	/* Guest TX goes out on port TX queue port_txq, under txq_lock when
	 * other threads send there too (NULL: this thread's alone). */
	uint16_t port_txq;
	struct pmd_txq_lock *txq_lock;
	/* The port RX queues this entry reads: port_rxq, port_rxq +
	 * port_rxq_step, ... below port->nrxq (none when port_rxq >= nrxq). */
	uint16_t port_rxq, port_rxq_step;
	/* The visit's budget: frames per ring (1..PMD_BURST_MAX), guest TX bytes. */
	uint16_t burst;
	uint32_t burst_bytes;
	struct rte_mempool *pool;
	struct pmd_qp_state *st;
	const char *dev_name;            /* for the once-per-queue log lines */
	uint16_t qp;
	/* NULL: the port answers on the same pair (loopback). Otherwise this
	 * entry also steers frames from its port RX queues, and its guest RX
	 * ring is fed from inbox[qp]. */
	const struct pmd_steer *steer;
	/* A running ring here has no kick fd the thread sleeps on (NOFD): an
	 * idle thread must look on a timer. */
	bool unwatched;
	/* device: port: the peer device's pairs by number (peer_nq of them),
	 * each the entry of this same plan that serves it, or NULL where
	 * another thread does. Frames then go guest to guest in one copy when
	 * the ends are both here (datapath.c, "direct"). NULL when the pair
	 * that reads this port queue on the peer's side is another thread's:
	 * every frame goes through the port. */
	const struct pmd_qp *const *peer;
	uint16_t peer_nq;
};

struct pmd_plan {
	uint32_t n;
	struct pmd_qp q[];
	/* then the pointers entries' peer arrays point into */
};

struct pmd_params {
	unsigned core;
	bool busy;                       /* never sleep */
	uint32_t idle_us;                /* adaptive: idle time before sleeping */
};

struct pmd;

/* Starts a thread pinned to p->core with an empty plan. NULL on failure (why). */
struct pmd *pmd_start(const struct pmd_params *p, char *why, size_t why_len);
/* Stops and joins the thread, frees its plan. */
void pmd_stop(struct pmd *p);
unsigned pmd_core(const struct pmd *p);

/* What a thread's time went to, in TSC cycles (rte_get_tsc_hz() a second):
 * busy is the cycles of visits that moved something, the sum of its pairs'
 * busy_cycles; now is the TSC when read. Any thread may read. */
struct pmd_cycles {
	uint64_t busy, now;
};
struct pmd_cycles pmd_cycles(const struct pmd *p);

/* Control thread: replaces the plan (taking ownership of next), wakes the
 * thread if it sleeps, and returns after a grace period, having freed the old
 * plan: from then on nothing of the old plan is touched by this thread. */
void pmd_publish(struct pmd *p, struct pmd_plan *next);
/* A plan of n entries and room for npeer peer pointers (pmd_plan_peers()),
 * in one allocation that free() releases; NULL when out of memory. */
struct pmd_plan *pmd_plan_new(uint32_t n, uint32_t npeer);

static inline const struct pmd_qp **
pmd_plan_peers(struct pmd_plan *p)
{
	return (const struct pmd_qp **)(void *)&p->q[p->n];
}

/* The two halves of pmd_publish(), so that one grace period serves the plans
 * of many threads (one vhost-user message, one control operation).
 * pmd_swap() installs next (taking ownership), wakes the thread and returns
 * the old plan, which the thread may still be running: free it only after the
 * next pmd_grace(). */
struct pmd_plan *pmd_swap(struct pmd *p, struct pmd_plan *next);
/* Returns once every poll thread has passed a quiescent state: none runs a
 * plan that was swapped out before the call. */
void pmd_grace(void);

/* Plans swapped in and grace periods waited for since the process started
 * (control thread: what one control-plane change costs the poll threads). */
struct pmd_rcu_counts {
	uint64_t publishes, grace_periods;
};
struct pmd_rcu_counts pmd_rcu_counts(void);

/* Control thread: kick eventfds a sleeping thread must wake on. */
int pmd_watch_fd(struct pmd *p, int fd);
void pmd_unwatch_fd(struct pmd *p, int fd);

/* One visit of a queue pair (exposed for benchmarks and tests); returns the
 * number of packets moved. */
uint32_t pmd_poll_qp(const struct pmd_qp *q);

/* Frames waiting for this pair's guest RX: in its inbox when the device
 * steers, else in its own port queue; false when the port cannot tell. */
bool pmd_qp_rx_pending(const struct pmd_qp *q);

/* Frees frames a stopped queue pair still held (control thread, after a grace
 * period); returns how many were freed. */
uint16_t pmd_qp_state_drop_held(struct pmd_qp_state *st);

#endif
