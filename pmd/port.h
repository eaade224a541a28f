/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/port.h - what a device is wired to. A port has its own numbers of RX
 * and TX queues: a loopback or device port one of each per queue pair, an
 * ethdev what its driver and the config allow. Each RX queue is read by one
 * poll thread; a TX queue is used by one thread, or shared under its
 * pmd_txq_lock (pmd.h) when a device has more threads than port TX queues
 * (the mapping of docs/architecture.md). A port itself takes no lock. */
#ifndef VHOSTMQ_PMD_PORT_H
#define VHOSTMQ_PMD_PORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct pmd_port;

struct pmd_port_ops {
	uint16_t (*rx)(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n);
	/* Takes what it returns; the caller frees the rest. */
	uint16_t (*tx)(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n);
	/* Room on TX queue q now; UINT16_MAX when the port cannot tell. */
	uint16_t (*tx_room)(struct pmd_port *p, uint16_t q);
	/* Packets waiting on RX queue q; NULL when the port cannot tell (then an
	 * idle thread must wake on a timer to look). */
	bool (*rx_pending)(struct pmd_port *p, uint16_t q);
	/* Frees what waits on RX queue q for a guest that is gone; returns how
	 * many (control thread, q in no plan). NULL: the port keeps nothing
	 * that belongs to one guest. */
	unsigned (*drain)(struct pmd_port *p, uint16_t q);
	void (*free)(struct pmd_port *p);
};

struct pmd_port {
	const struct pmd_port_ops *ops;
	const char *kind;                /* "loopback", "ethdev", "device" */
	uint16_t nrxq, ntxq;
	/* The port takes a guest's frames as they were sent: partial checksums
	 * and TSO frames unfinished (PMD_TX_UNFINISHED in pmd/tso.h), for the
	 * receiving side to deliver as they are to a guest that negotiated
	 * them, or to finish on the way in. Otherwise vhostmq finishes them
	 * before the port. */
	bool carries_offloads;
	/* The port cuts TSO frames itself (an ethdev with TCP TSO enabled): a
	 * guest's TSO frame goes to it whole, as DPDK's offload fields say. */
	bool takes_tso;
};

/* Frames sent on TX queue i come back on RX queue i with MACs swapped; nq
 * of each, each holding PMD_LOOPBACK_RING frames. */
#define PMD_LOOPBACK_RING 256u
int pmd_port_loopback_new(const char *name, uint16_t nq, struct pmd_port **out,
                          char *why, size_t why_len);

/* The shape asked of an ethdev port: queue counts (0: want, capped at the
 * driver's maximum) and descriptors per queue (the driver may adjust them). */
struct pmd_ethdev_shape {
	uint16_t want;                   /* queues when nrxq/ntxq is 0: the pairs */
	uint16_t nrxq, ntxq;             /* 0: automatic */
	uint16_t rx_ring, tx_ring;
};

/* What an ethdev port is, before it is started: its driver, and the queue
 * counts and descriptors a shape gives it. */
struct pmd_ethdev_info {
	char driver[32];
	uint16_t nrxq, ntxq;
	uint16_t rx_ring, tx_ring;
};

/* Probes devargs (once per process) and says what shape gives: 0, or a
 * negative errno with why (a queue count above the driver's maximum names
 * both). Nothing is configured. */
int pmd_port_ethdev_probe(const char *devargs, const struct pmd_ethdev_shape *shape,
                          struct pmd_ethdev_info *info, char *why, size_t why_len);
/* Configures and starts the probed device as info says: its own RSS over
 * its RX queues when it has more than one, promiscuous mode, checksum and
 * TSO offloads it has; RX queues fill from pool. */
int pmd_port_ethdev_new(const char *devargs, const struct pmd_ethdev_info *info,
                        struct rte_mempool *pool, struct pmd_port **out, char *why,
                        size_t why_len);

/* Two devices of one process wired to each other: frames sent on a's TX
 * queue i come out of b's RX queue i % nq_b, and b's TX queue j feeds a's RX
 * queue j % nq_a, in order per queue. Each RX queue is one multi-producer,
 * single-consumer ring of TUNE_DEVICE_RING frames; a full one drops (tx
 * returns fewer), it never holds back the sender. Frames keep the sender's
 * mbufs: free both ports before either device's pool. */
int pmd_port_device_pair(const char *name_a, uint16_t nq_a, const char *name_b, uint16_t nq_b,
                         struct pmd_port **a, struct pmd_port **b, char *why, size_t why_len);

static inline void
pmd_port_free(struct pmd_port *p)
{
	if (p != NULL)
		p->ops->free(p);
}

#endif
