/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vnet.h - the virtio-net device model: which features we offer, queue
 * numbering, the net header, and receive into guest buffers (mergeable or not).
 * Security model: chains come from vq_pop(), which has checked them; this file
 * only checks sizes (packet against buffer space). */
#ifndef VHOSTMQ_VIRTIO_VNET_H
#define VHOSTMQ_VIRTIO_VNET_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "virtio/vq.h"

/* Spec 5.1.4: max_virtqueue_pairs is 1..0x8000. */
#define VNET_MAX_QP_SPEC 0x8000u

/* Largest frame we move in one piece; bigger needs GSO, which we do not offer. */
#define VNET_MAX_FRAME 65535u

/* Features offered to every frontend (before the device's own choices such
 * as MQ): see vnet_features_offered(). */
uint64_t vnet_features_offered(bool mq);

/* Checks a frontend's SET_FEATURES value against what we offered; on failure
 * returns the lowest bit that was not offered, else -1. */
int vnet_features_check(uint64_t offered, uint64_t acked);

/* 12 bytes with VERSION_1 or MRG_RXBUF (spec 5.1.6), 10 for legacy. */
uint16_t vnet_hdr_len(uint64_t features);

/* Queue numbering lives here alone: pair qp is RX vq 2qp and TX vq 2qp+1. */
enum vnet_dir { VNET_RX = 0, VNET_TX = 1 };
static inline uint32_t vnet_vqi(uint32_t qp, enum vnet_dir d) { return 2 * qp + d; }
static inline uint32_t vnet_vqi_qp(uint32_t vqi) { return vqi / 2; }
static inline enum vnet_dir vnet_vqi_dir(uint32_t vqi) { return (enum vnet_dir)(vqi & 1); }

/* How an RX queue's packets are laid out, fixed at negotiation. */
struct vnet_rx_fmt {
	uint16_t hdr_len;
	bool mrg_rxbuf;
};

enum vnet_rx_res {
	VNET_RX_OK = 0,
	VNET_RX_NO_BUF,      /* not enough guest buffers now: nothing consumed */
	VNET_RX_TOO_BIG,     /* can never fit (non-mergeable buffer too small):
	                        packet dropped, buffer kept for the next one */
	VNET_RX_BAD_CHAIN,   /* a bad chain interrupted the packet's buffers, or
	                        32 bad chains came before any good one: packet
	                        dropped, its buffers returned empty */
	VNET_RX_BROKEN,      /* queue broken */
};

/* Writes one packet (pkt_len bytes in npkt host pieces) with a zeroed net header
 * into the guest's RX buffers. Pushes used entries but does not publish. */
enum vnet_rx_res vnet_rx_packet(struct vq *vq, const struct gmem *mem,
                                const struct vnet_rx_fmt *fmt,
                                const struct iovec *pkt, unsigned npkt, uint32_t pkt_len);

#endif
