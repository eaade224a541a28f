/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vnet.h - the virtio-net device model: which features we offer, queue
 * numbering, the net header (the guest-TX gate and the RX header we write),
 * and receive into guest buffers (mergeable or not).
 * Security model: chains come from vq_pop(), which has checked them; this file
 * checks sizes (frame against header, packet against buffer space) and is the
 * one gate for what a guest's TX net header asks for: vnet_tx_check(). */
#ifndef VHOSTMQ_VIRTIO_VNET_H
#define VHOSTMQ_VIRTIO_VNET_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include "common/base.h"
#include "virtio/iov.h"
#include "virtio/vq.h"

/* Spec 5.1.4: max_virtqueue_pairs is 1..0x8000. */
#define VNET_MAX_QP_SPEC 0x8000u

/* Largest frame we move in one piece; bigger needs GSO, which we do not offer. */
#define VNET_MAX_FRAME 65535u

/* The MTU a device announces (VIRTIO_NET_F_MTU) and enforces: 68 (IPv4's
 * minimum, RFC 791) up to 65535 - 14, so that a frame with its Ethernet
 * header stays within VNET_MAX_FRAME. The config (config/cfg.h) and the
 * check of vhost-user's NET_SET_MTU (vhost-user/conn.c) both take these. */
#define VNET_MTU_MIN 68
#define VNET_MTU_MAX 65521

/* What one device offers beyond the features every device offers, as its
 * config chose (ethtool -K for a NIC). */
struct vnet_offer {
	bool mq;                 /* VIRTIO_NET_F_MQ: more than one queue pair */
	bool csum;               /* VIRTIO_NET_F_CSUM: the guest may send partial
	                            checksums (NEEDS_CSUM) */
	bool guest_csum;         /* VIRTIO_NET_F_GUEST_CSUM: we may tell the guest
	                            a checksum was verified (DATA_VALID) */
	bool mtu;                /* VIRTIO_NET_F_MTU: the guest learns the MTU */
};

/* The virtio feature bits a device with offer o puts in GET_FEATURES. */
uint64_t vnet_features_offered(const struct vnet_offer *o);

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

/* What a TX queue's driver may put in its net headers, fixed at negotiation.
 * Offloads (checksum, TSO) join hdr_len here when we offer them. */
struct vnet_tx_fmt {
	uint16_t hdr_len;        /* vnet_hdr_len(): 10 or 12 */
};

/* Whether a guest TX chain is a frame we send, and if not, why not. Every
 * verdict but VNET_TX_OK drops the frame. */
enum vnet_tx_verdict {
	VNET_TX_OK = 0,          /* a plain frame: send it as is */
	VNET_TX_RUNT,            /* chain no longer than the net header */
	VNET_TX_TOO_BIG,         /* frame above VNET_MAX_FRAME */
	VNET_TX_FLAGS,           /* flags a driver never sends (DATA_VALID, RSC_INFO)
	                            or that the spec does not define */
	VNET_TX_CSUM,            /* NEEDS_CSUM, VIRTIO_NET_F_CSUM not negotiated */
	VNET_TX_GSO_TYPE,        /* gso_type the spec does not define */
	VNET_TX_GSO,             /* TCPV4, UDP, TCPV6 or UDP_L4 segmentation, its
	                            HOST_ feature not negotiated */
	VNET_TX_ECN,             /* GSO_ECN, HOST_ECN not negotiated */
	VNET_TX_VERDICT_COUNT
};

/* The reason for a verdict, for a log line (never NULL). */
const char *vnet_tx_strerror(enum vnet_tx_verdict v);

/* Why a header is refused whose first two bytes (flags, then gso_type),
 * loaded as one value in memory order, are not zero: the cold half of
 * vnet_tx_check(), out of line so the check itself stays small. */
VHOSTMQ_COLD enum vnet_tx_verdict
vnet_tx_hdr_verdict(struct vnet_tx_fmt fmt, uint16_t lead);

/* The one gate for a guest TX chain (spec 5.1.6.2): its length against the
 * net header and VNET_MAX_FRAME, then the header's flags and gso_type, read
 * once from the chain's first bytes wherever the guest put them. We
 * negotiate no checksum or segmentation offload, so a frame that asks for
 * one would leave unfinished: it is refused. Reads guest memory, writes
 * nothing. Inline: it runs for every TX frame, and its usual outcome (flags
 * and gso_type both zero) costs one load and a compare. */
static inline enum vnet_tx_verdict
vnet_tx_check(const struct vnet_tx_fmt *fmt, const struct vq_chain *c)
{
	uint16_t lead;           /* flags, gso_type: they lead the header */

	if (c->out_len <= fmt->hdr_len)
		return VNET_TX_RUNT;
	if (c->out_len - fmt->hdr_len > VNET_MAX_FRAME)
		return VNET_TX_TOO_BIG;
	/* out_len > hdr_len >= 2: seg[0] exists and the chain has both bytes. */
	if (c->seg[0].iov_len >= sizeof(lead)) {
		memcpy(&lead, c->seg[0].iov_base, sizeof(lead));
	} else {
		struct iov_cursor src = iov_cursor(c->seg, c->n_out);

		iov_read(&src, &lead, sizeof(lead));
	}
	_Static_assert(VIRTIO_NET_HDR_GSO_NONE == 0, "a plain header is all zero");
	if (unlikely(lead != 0))
		return vnet_tx_hdr_verdict(*fmt, lead);
	return VNET_TX_OK;
}

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
