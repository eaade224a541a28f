/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/port_ethdev.c - a port backed by any DPDK ethdev (net_null, net_tap,
 * net_pcap, net_ring, a NIC), probed at start-up from its devargs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_net.h>
#include "common/log.h"
#include "pmd/port.h"

struct ethdev_port {
	struct pmd_port port;
	uint16_t port_id;
};

static uint16_t
eth_port_id(struct pmd_port *p)
{
	return ((struct ethdev_port *)p)->port_id;
}

static uint16_t
eth_rx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_rx_burst(eth_port_id(p), q, m, n);
}

static uint16_t
eth_tx(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_tx_burst(eth_port_id(p), q, m, n);
}

/* A port that cuts TSO frames: their checksum fields as DPDK's TSO wants
 * them (the pseudo header's sum without the length, and an IPv4 header
 * checksum of 0), where a guest left the sum with the frame's whole
 * length, then the driver's own checks (rte_eth_tx_prepare). A frame the
 * driver refuses ends the burst: it and the ones after it are not taken. */
static uint16_t
eth_tx_tso(struct pmd_port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	uint16_t id = eth_port_id(p);

	for (uint16_t i = 0; i < n; i++)
		if ((m[i]->ol_flags & RTE_MBUF_F_TX_TCP_SEG) && rte_net_intel_cksum_prepare(m[i]) != 0)
			n = i;
	n = rte_eth_tx_prepare(id, q, m, n);
	return rte_eth_tx_burst(id, q, m, n);
}

static uint16_t
eth_tx_room(struct pmd_port *p, uint16_t q)
{
	(void)p;
	(void)q;
	return UINT16_MAX;
}

static void
eth_free(struct pmd_port *p)
{
	uint16_t id = eth_port_id(p);

	rte_eth_dev_stop(id);
	rte_eth_dev_close(id);
	free(p);
}

static const struct pmd_port_ops eth_ops = {
	.rx = eth_rx, .tx = eth_tx, .tx_room = eth_tx_room, .rx_pending = NULL,
	.drain = NULL, .free = eth_free,
};

static const struct pmd_port_ops eth_tso_ops = {
	.rx = eth_rx, .tx = eth_tx_tso, .tx_room = eth_tx_room, .rx_pending = NULL,
	.drain = NULL, .free = eth_free,
};

/* What a guest's TSO frame needs of a port that cuts it: TCP segmentation,
 * the TCP and IPv4 header checksums it asks for per segment, and chains
 * (a 64 KiB frame is many mbufs). */
#define ETHDEV_TSO_OFFLOADS (RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | \
                             RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS)

/* The device name is the devargs up to the first comma. */
static void
devargs_name(const char *devargs, char *name, size_t len)
{
	size_t n = strcspn(devargs, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, devargs, n);
	name[n] = '\0';
}

/* The port id of devargs' device, probed now if it was not yet. */
static int
eth_find(const char *devargs, uint16_t *id, char *why, size_t why_len)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	int rc;

	devargs_name(devargs, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	if ((rc = rte_dev_probe(devargs)) != 0) {
		snprintf(why, why_len, "ethdev:%s: probe failed: %s", devargs, rte_strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(name, id) != 0) {
		snprintf(why, why_len, "ethdev:%s: probed, but no port is named %s", devargs, name);
		return -ENODEV;
	}
	return 0;
}

/* DPDK 22.11's net_tap sends every queue's fd to secondary processes in one
 * message when it starts, into an array of RTE_MP_MAX_FD_NUM (8) without
 * checking: more than 8 RX + TX queues overflow its stack and the process
 * aborts. It also configures only as many RX as TX queues. */
#define TAP_DRIVER "net_tap"
#define TAP_QUEUES_MAX (RTE_MP_MAX_FD_NUM / 2)

/* One queue count of a shape: asked (0: want, capped at the driver's max). */
static int
eth_queues(uint16_t asked, uint16_t want, uint16_t max, const char *dir, const char *key,
           const char *driver, uint16_t *out, char *why, size_t why_len)
{
	if (asked > max) {
		snprintf(why, why_len, "tuning.%s %u: driver %s has at most %u %s queue(s)%s", key,
		         asked, driver, max, dir,
		         strcmp(driver, TAP_DRIVER) == 0 ? " (DPDK 22.11's net_tap starts at most "
		                                           "8 rx + tx queues)" : "");
		return -EINVAL;
	}
	*out = asked ? asked : (uint16_t)RTE_MIN(want, max);
	if (*out == 0) {
		snprintf(why, why_len, "driver %s has no %s queue", driver, dir);
		return -EINVAL;
	}
	return 0;
}

/* The driver's limits as vhostmq may use them. */
static void
eth_limits(const struct rte_eth_dev_info *di, uint16_t *max_rx, uint16_t *max_tx)
{
	*max_rx = di->max_rx_queues;
	*max_tx = di->max_tx_queues;
	if (strcmp(di->driver_name, TAP_DRIVER) == 0) {
		*max_rx = (uint16_t)RTE_MIN(*max_rx, TAP_QUEUES_MAX);
		*max_tx = (uint16_t)RTE_MIN(*max_tx, TAP_QUEUES_MAX);
	}
}

/* net_tap: one count asked, the other automatic, takes the asked one; two
 * that differ are refused. */
static int
eth_tap_equal(const struct pmd_ethdev_shape *shape, struct pmd_ethdev_info *info, char *why,
              size_t why_len)
{
	if (strcmp(info->driver, TAP_DRIVER) != 0 || info->nrxq == info->ntxq)
		return 0;
	if (shape->nrxq == 0 || shape->ntxq == 0) {
		info->nrxq = info->ntxq = shape->nrxq ? shape->nrxq : shape->ntxq;
		return 0;
	}
	snprintf(why, why_len, "tuning.port_rx_queues %u, port_tx_queues %u: driver %s needs as "
	         "many rx as tx queues", shape->nrxq, shape->ntxq, TAP_DRIVER);
	return -EINVAL;
}

int
pmd_port_ethdev_probe(const char *devargs, const struct pmd_ethdev_shape *shape,
                      struct pmd_ethdev_info *info, char *why, size_t why_len)
{
	struct rte_eth_dev_info di;
	uint16_t id, max_rx, max_tx;
	int rc;

	if ((rc = eth_find(devargs, &id, why, why_len)) != 0)
		return rc;
	if ((rc = rte_eth_dev_info_get(id, &di)) != 0) {
		snprintf(why, why_len, "ethdev:%s: dev_info_get: %s", devargs, rte_strerror(-rc));
		return rc;
	}
	*info = (struct pmd_ethdev_info){ .rx_ring = shape->rx_ring, .tx_ring = shape->tx_ring };
	snprintf(info->driver, sizeof(info->driver), "%s", di.driver_name);
	eth_limits(&di, &max_rx, &max_tx);
	if ((rc = eth_queues(shape->nrxq, shape->want, max_rx, "rx", "port_rx_queues",
	                     di.driver_name, &info->nrxq, why, why_len)) != 0 ||
	    (rc = eth_queues(shape->ntxq, shape->want, max_tx, "tx", "port_tx_queues",
	                     di.driver_name, &info->ntxq, why, why_len)) != 0 ||
	    (rc = eth_tap_equal(shape, info, why, why_len)) != 0)
		return rc;
	if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &info->rx_ring, &info->tx_ring)) != 0) {
		snprintf(why, why_len, "ethdev:%s: descriptors: %s", devargs, rte_strerror(-rc));
		return rc;
	}
	return 0;
}

/* The hash fields the port's own RSS uses: addresses and ports of IP, TCP
 * and UDP, as far as the driver has them. */
#define ETHDEV_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

static int
eth_setup(uint16_t id, const struct pmd_ethdev_info *shape, struct rte_mempool *pool, bool *tso,
          char *why, size_t why_len)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int socket = rte_eth_dev_socket_id(id), rc;

	if ((rc = rte_eth_dev_info_get(id, &info)) != 0) {
		snprintf(why, why_len, "dev_info_get: %s", rte_strerror(-rc));
		return rc;
	}
	/* More than one RX queue: the port spreads flows over them itself
	 * (a NIC's RSS, a tap's or af_packet's kernel fanout), and vhostmq
	 * spreads each queue's frames over the guest's queues. */
	if (shape->nrxq > 1 && (info.flow_type_rss_offloads & ETHDEV_RSS_HF) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & ETHDEV_RSS_HF;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* DPDK 22.11's net_tap advertises TSO but refuses every segment whose
	 * Ethernet frame exceeds the MTU (it adds the Ethernet header to the
	 * MSS before comparing): a guest's MSS 1448 frames all failed there.
	 * vhostmq cuts for it. */
	*tso = (info.tx_offload_capa & ETHDEV_TSO_OFFLOADS) == ETHDEV_TSO_OFFLOADS &&
	       strcmp(info.driver_name, TAP_DRIVER) != 0;
	if (*tso)
		conf.txmode.offloads |= ETHDEV_TSO_OFFLOADS;
	/* A checksum the port verifies the guest need not (DATA_VALID, when
	 * it negotiated GUEST_CSUM); a port that cannot leaves the flags
	 * unknown and the guest checks. */
	conf.rxmode.offloads |= info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
	                                                RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	if ((rc = rte_eth_dev_configure(id, shape->nrxq, shape->ntxq, &conf)) != 0) {
		snprintf(why, why_len, "configure %u rx / %u tx queue(s): %s", shape->nrxq,
		         shape->ntxq, rte_strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < shape->nrxq; q++)
		if ((rc = rte_eth_rx_queue_setup(id, q, shape->rx_ring, (unsigned)socket, NULL,
		                                 pool)) != 0) {
			snprintf(why, why_len, "rx queue %u setup (%u descriptors): %s", q,
			         shape->rx_ring, rte_strerror(-rc));
			return rc;
		}
	for (uint16_t q = 0; q < shape->ntxq; q++)
		if ((rc = rte_eth_tx_queue_setup(id, q, shape->tx_ring, (unsigned)socket,
		                                 NULL)) != 0) {
			snprintf(why, why_len, "tx queue %u setup (%u descriptors): %s", q,
			         shape->tx_ring, rte_strerror(-rc));
			return rc;
		}
	if ((rc = rte_eth_dev_start(id)) != 0) {
		snprintf(why, why_len, "start: %s", rte_strerror(-rc));
		return rc;
	}
	/* A port that is an uplink takes frames for the guests' MACs, not
	 * its own; not every driver has the mode, and those need none. */
	rc = rte_eth_promiscuous_enable(id);
	if (rc != 0 && rc != -ENOTSUP)
		vlog_warn("ethdev %s: promiscuous mode: %s", info.driver_name, rte_strerror(-rc));
	return 0;
}

int
pmd_port_ethdev_new(const char *devargs, const struct pmd_ethdev_info *info,
                    struct rte_mempool *pool, struct pmd_port **out, char *why, size_t why_len)
{
	struct ethdev_port *e;
	bool tso = false;
	uint16_t id;
	int rc;

	*out = NULL;
	if ((rc = eth_find(devargs, &id, why, why_len)) != 0)
		return rc;
	if ((rc = eth_setup(id, info, pool, &tso, why, why_len)) != 0) {
		char tmp[200];

		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, why_len, "ethdev:%s: %s", devargs, tmp);
		rte_eth_dev_close(id);
		return rc;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
		return -ENOMEM;
	}
	e->port = (struct pmd_port){ .ops = tso ? &eth_tso_ops : &eth_ops, .kind = "ethdev",
	                             .nrxq = info->nrxq, .ntxq = info->ntxq, .takes_tso = tso };
	e->port_id = id;
	*out = &e->port;
	return 0;
}
