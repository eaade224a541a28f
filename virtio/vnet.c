/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/vnet.c - virtio-net feature set, header and guest receive.
 * Security model: see vnet.h. */
#include <endian.h>
#include <stddef.h>
#include <string.h>
#include "common/base.h"
#include "virtio/iov.h"
#include "virtio/vnet.h"

uint64_t
vnet_features_offered(const struct vnet_offer *o)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	             VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) |
	             VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	             VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
	             VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	             VIRTIO_BIT(VIRTIO_NET_F_MAC) |
	             VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
	             VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
	             /* Live migration: the frontend turns logging on with this
	              * bit (vhost-user/conn.c maps the log), and a guest that
	              * can announce itself after a move does (QEMU runs the
	              * control queue; otherwise it asks us to, SEND_RARP). */
	             VIRTIO_BIT(VHOST_F_LOG_ALL) |
	             VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	             /* We use buffers in the order they were made available
	              * anyway (bad chains and partial receives included), and
	              * drivers have faster paths when they know it. */
	             VIRTIO_BIT(VIRTIO_F_IN_ORDER);

	if (o->mq)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	if (o->packed)
		f |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	if (o->csum)
		f |= VIRTIO_BIT(VIRTIO_NET_F_CSUM);
	if (o->guest_csum)
		f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (o->mtu)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MTU);
	/* TSO needs the checksum offload it is built on (spec 5.1.3.1). */
	if (o->csum && o->host_tso4)
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
	if (o->csum && o->host_tso6)
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6);
	if (o->csum && (o->host_tso4 || o->host_tso6) && o->host_ecn)
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN);
	/* The same on RX: GUEST_TSO needs GUEST_CSUM, GUEST_ECN a GUEST_TSO. */
	if (o->guest_csum && o->guest_tso4)
		f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (o->guest_csum && o->guest_tso6)
		f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	if (o->guest_csum && (o->guest_tso4 || o->guest_tso6) && o->guest_ecn)
		f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN);
	return f;
}

int
vnet_features_check(uint64_t offered, uint64_t acked)
{
	uint64_t extra = acked & ~offered;

	return extra ? __builtin_ctzll(extra) : -1;
}

uint16_t
vnet_hdr_len(uint64_t features)
{
	if (features & (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		return 12;
	return 10;
}

const char *
vnet_tx_strerror(enum vnet_tx_verdict v)
{
	static const char *const names[VNET_TX_VERDICT_COUNT] = {
		[VNET_TX_OK]       = "ok",
		[VNET_TX_RUNT]     = "frame no longer than the net header (runt)",
		[VNET_TX_TOO_BIG]  = "frame above the device's MTU",
		[VNET_TX_FLAGS]    = "net header flags a driver must not set",
		[VNET_TX_CSUM]     = "net header asks for checksum offload, not negotiated",
		[VNET_TX_CSUM_RANGE] = "net header csum_start + csum_offset beyond the frame",
		[VNET_TX_GSO_TYPE] = "net header gso_type undefined",
		[VNET_TX_GSO]      = "net header asks for GSO, not negotiated",
		[VNET_TX_ECN]      = "net header asks for GSO with ECN, not negotiated",
		[VNET_TX_TSO_CSUM] = "net header asks for TSO without NEEDS_CSUM",
		[VNET_TX_TSO_FRAME] = "TSO frame is not TCP over the IP version its gso_type "
		                      "names (or csum_start is not its TCP header)",
		[VNET_TX_TSO_SIZE] = "TSO gso_size is 0, cuts more than 64 segments, or makes "
		                     "segments above the MTU",
	};
	return (unsigned)v < VNET_TX_VERDICT_COUNT ? names[v] : "unknown";
}

/* TSO: the frame's own headers must be what gso_type says, TCP over IPv4
 * or IPv6 (behind Ethernet and at most one VLAN tag, IPv4 not a fragment,
 * IPv6 without extension headers), with csum_start at the TCP header and
 * csum_offset at its checksum; the segments gso_size gives must fit the MTU
 * and be at most VNET_TSO_MAX_SEGS. Reads the headers once, into a copy. */
static enum vnet_tx_verdict
tso_verdict(const struct vnet_tx_fmt *fmt, const struct iovec *seg, unsigned nseg, uint64_t len,
            uint8_t type, const struct virtio_net_hdr *h, struct vnet_tx_req *req)
{
	uint8_t b[18 + 60 + 60];         /* Ethernet + VLAN, IPv4 options, TCP options */
	uint32_t frame_len = (uint32_t)(len - fmt->hdr_len), got, l3, l4, tcp_len;
	uint16_t ethertype, gso_size = le16toh(h->gso_size), payload, segs;
	struct iov_cursor src = iov_cursor(seg, nseg);

	iov_skip(&src, fmt->hdr_len);
	got = (uint32_t)iov_read(&src, b, frame_len < sizeof(b) ? frame_len : sizeof(b));
	if (got < 14)
		return VNET_TX_TSO_FRAME;
	l3 = 14;
	ethertype = (uint16_t)(b[12] << 8 | b[13]);
	if (ethertype == 0x8100) {       /* one VLAN tag */
		if (got < 18)
			return VNET_TX_TSO_FRAME;
		l3 = 18;
		ethertype = (uint16_t)(b[16] << 8 | b[17]);
	}
	if (type == VIRTIO_NET_HDR_GSO_TCPV4) {
		uint32_t ihl;

		if (ethertype != 0x0800 || got < l3 + 20 || (b[l3] >> 4) != 4)
			return VNET_TX_TSO_FRAME;
		ihl = (uint32_t)(b[l3] & 0x0f) * 4;
		/* TCP, and not a fragment (MF and offset clear) */
		if (ihl < 20 || b[l3 + 9] != 6 || ((b[l3 + 6] & 0x3f) | b[l3 + 7]) != 0)
			return VNET_TX_TSO_FRAME;
		l4 = l3 + ihl;
	} else {
		if (ethertype != 0x86dd || got < l3 + 40 || (b[l3] >> 4) != 6 || b[l3 + 6] != 6)
			return VNET_TX_TSO_FRAME;
		l4 = l3 + 40;
	}
	if (got < l4 + 20 || le16toh(h->csum_start) != l4 || le16toh(h->csum_offset) != 16)
		return VNET_TX_TSO_FRAME;
	tcp_len = (uint32_t)(b[l4 + 12] >> 4) * 4;
	if (tcp_len < 20 || got < l4 + tcp_len)
		return VNET_TX_TSO_FRAME;
	if (gso_size == 0 || frame_len <= l4 + tcp_len ||
	    l4 + tcp_len + gso_size > fmt->max_frame)
		return VNET_TX_TSO_SIZE;
	payload = (uint16_t)(frame_len - l4 - tcp_len);
	segs = (uint16_t)((payload + gso_size - 1) / gso_size);
	if (segs > VNET_TSO_MAX_SEGS)
		return VNET_TX_TSO_SIZE;
	*req = (struct vnet_tx_req){
		.csum = false,                   /* each segment gets its own */
		.csum_start = (uint16_t)l4, .csum_offset = 16,
		.tso = type == VIRTIO_NET_HDR_GSO_TCPV4 ? 4 : 6, .gso_size = gso_size,
		.l3_off = (uint16_t)l3, .l4_off = (uint16_t)l4, .l4_len = (uint16_t)tcp_len,
	};
	return VNET_TX_OK;
}

enum vnet_tx_verdict
vnet_tx_hdr_verdict(const struct vnet_tx_fmt *fmt, const struct iovec *seg, unsigned nseg,
                    uint64_t len, uint16_t lead, struct vnet_tx_req *req)
{
	uint8_t b[2], flags, gso_type, type;
	uint32_t frame_len = (uint32_t)(len - fmt->hdr_len);
	struct virtio_net_hdr h;
	struct iov_cursor src;
	bool tso = false;

	memcpy(b, &lead, sizeof(b));
	flags = b[offsetof(struct virtio_net_hdr, flags)];
	gso_type = b[offsetof(struct virtio_net_hdr, gso_type)];
	type = (uint8_t)(gso_type & ~VIRTIO_NET_HDR_GSO_ECN);
	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VNET_TX_FLAGS;
	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !fmt->csum)
		return VNET_TX_CSUM;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(type == VIRTIO_NET_HDR_GSO_TCPV4 ? fmt->tso4 : fmt->tso6))
			return VNET_TX_GSO;
		tso = true;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return VNET_TX_GSO;
	default:
		return VNET_TX_GSO_TYPE;
	}
	if ((gso_type & VIRTIO_NET_HDR_GSO_ECN) && (!tso || !fmt->ecn))
		return VNET_TX_ECN;
	if (!tso && frame_len > fmt->max_frame)
		return VNET_TX_TOO_BIG;
	if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return tso ? VNET_TX_TSO_CSUM : VNET_TX_OK;
	/* NEEDS_CSUM, negotiated: where the checksum goes must be inside the
	 * frame (the caller checked out_len > hdr_len >= 10, so csum_start and
	 * csum_offset are there to read, once). */
	src = iov_cursor(seg, nseg);
	iov_read(&src, &h, offsetof(struct virtio_net_hdr, num_buffers));
	if (tso)
		return tso_verdict(fmt, seg, nseg, len, type, &h, req);
	req->csum_start = le16toh(h.csum_start);
	req->csum_offset = le16toh(h.csum_offset);
	if ((uint64_t)req->csum_start + req->csum_offset + 2 > frame_len)
		return VNET_TX_CSUM_RANGE;
	req->csum = true;
	return VNET_TX_OK;
}

/* The first buffer of a packet: bad chains before it are final (vq_pop gave
 * them back and counted them), so the undo point is taken after them and a
 * retry never walks or counts them again. At most VNET_RX_MAX_SKIP of them per
 * packet: a ring of bad chains must not hold the poll thread for a whole ring
 * of walks; the packet is dropped instead (reported as a bad chain). */
#define VNET_RX_MAX_SKIP 32

static inline __attribute__((always_inline)) enum vq_err
rx_pop_first(struct vq *vq, const struct gmem *mem, struct vq_chain *c, struct vq_mark *m,
             bool packed)
{
	enum vq_err e;
	unsigned skipped = 0;

	do {
		*m = vq_mark_as(vq, packed);
		e = vq_pop_as(vq, mem, c, packed);
	} while (e > VQ_E_BROKEN && !vq->broken && ++skipped < VNET_RX_MAX_SKIP);
	return e;
}

static enum vnet_rx_res
rx_result(const struct vq *vq)
{
	return vq->broken ? VNET_RX_BROKEN : VNET_RX_NO_BUF;
}

/* A migration's dirty log: the first n bytes of chain c were written. */
static VHOSTMQ_COLD void
rx_log_chain(const struct dirty_log *log, const struct gmem *mem, const struct vq_chain *c,
             uint64_t n)
{
	for (uint16_t i = 0; n > 0 && i < c->n_in; i++) {
		uint64_t k = c->seg[i].iov_len < n ? c->seg[i].iov_len : n;

		dirty_log_hva(log, mem, c->seg[i].iov_base, k);
		n -= k;
	}
}

/* Header and frame of a plain packet into one buffer at d, which holds
 * them (num_buffers 1). */
static inline __attribute__((always_inline)) void
rx_put_plain(char *d, const struct vnet_rx_fmt *fmt, uint8_t hdr_flags, const void *frame,
             uint32_t len)
{
	/* A constant, not a header built on the stack: reading back a
	 * just-written partial struct fails store forwarding, and such a load
	 * waits for every older store, including those into guest buffers
	 * that are still missing the cache. */
	static const uint8_t hdr[sizeof(struct virtio_net_hdr)] = {
		[offsetof(struct virtio_net_hdr, num_buffers)] = 1,   /* LE 1 */
	};

	_Static_assert(VIRTIO_NET_HDR_GSO_NONE == 0, "an all-zero header is GSO_NONE");
	if (fmt->hdr_len == sizeof(hdr))
		memcpy(d, hdr, sizeof(hdr));
	else
		memcpy(d, hdr, offsetof(struct virtio_net_hdr, num_buffers));
	/* The flags byte over the constant: one store, and no load of a
	 * header chosen at run time. */
	d[offsetof(struct virtio_net_hdr, flags)] = (char)hdr_flags;
	memcpy(d + fmt->hdr_len, frame, len);
}

/* How many buffers ahead of its write one is fetched (for writing). */
#define RX_FETCH_AHEAD 8

/* Receive buffers are about to be written: fetch them for writing
 * (PREFETCHW), or each store later waits for the line's ownership. The
 * build's -march may predate the instruction; x86-64 CPUs without it run it
 * as a NOP. */
#if defined(__x86_64__)
__attribute__((target("prfchw")))
#endif
static inline void
rx_fetch(const struct vq_buf *b)
{
	__builtin_prefetch(b->seg.iov_base, 1, 3);
}

static inline __attribute__((always_inline)) uint16_t
rx_bufs(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
        const struct vnet_rx_frame *f, uint16_t n, bool packed)
{
	struct vq_buf b[VNET_RX_BURST_MAX];
	uint32_t written[VNET_RX_BURST_MAX];
	uint16_t nb, i;
	bool more;

	n = n < VNET_RX_BURST_MAX ? n : VNET_RX_BURST_MAX;
	nb = vq_pop_bufs_as(vq, mem, b, n, &more, packed);
	for (i = 0; i < nb && i < RX_FETCH_AHEAD; i++)
		rx_fetch(&b[i]);
	for (i = 0; i < nb; i++) {
		if (i + RX_FETCH_AHEAD < nb)
			rx_fetch(&b[i + RX_FETCH_AHEAD]);
		if (unlikely(b[i].seg.iov_len < (uint64_t)fmt->hdr_len + f[i].len))
			break;
		rx_put_plain(b[i].seg.iov_base, fmt, f[i].hdr_flags, f[i].data, f[i].len);
	}
	for (uint16_t k = 0; k < i; k++)
		written[k] = fmt->hdr_len + f[k].len;
	vq_push_bufs_as(vq, b, written, i, packed);
	if (i < nb)
		vq_unpop_bufs_as(vq, (uint16_t)(nb - i), packed);
	return i;
}

uint16_t
vnet_rx_bufs(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
             const struct vnet_rx_frame *f, uint16_t n)
{
	return rx_bufs(vq, mem, fmt, f, n, false);
}

uint16_t
vnet_rx_bufs_packed(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                    const struct vnet_rx_frame *f, uint16_t n)
{
	return rx_bufs(vq, mem, fmt, f, n, true);
}

/* Every entry point: meta is NULL (a constant when inlined into
 * vnet_rx_packet(), so its path keeps no trace of the other) or the header;
 * logging false (a constant: the path without a migration's dirty log has
 * no trace of it either) or true (then the vq's log, if any, is marked);
 * packed, the ring's layout (a constant in the plain entry points). */
static inline __attribute__((always_inline)) enum vnet_rx_res
rx_packet(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
          uint8_t hdr_flags, const struct vnet_rx_meta *meta, bool logging, bool packed,
          const struct iovec *pkt, unsigned npkt, uint32_t pkt_len)
{
	const struct dirty_log *log = logging ? vq->log : NULL;
	const struct virtio_net_hdr zero = meta == NULL
		? (struct virtio_net_hdr){ .flags = hdr_flags,
		                           .gso_type = VIRTIO_NET_HDR_GSO_NONE }
		: (struct virtio_net_hdr){ .flags = meta->flags, .gso_type = meta->gso_type,
		                           .hdr_len = htole16(meta->hdr_len),
		                           .gso_size = htole16(meta->gso_size),
		                           .csum_start = htole16(meta->csum_start),
		                           .csum_offset = htole16(meta->csum_offset) };
	struct iov_cursor src = iov_cursor(pkt, npkt);
	struct vq_chain first, more;
	struct vq_chain *c = &first;
	uint32_t left = pkt_len;         /* packet bytes not yet written */
	uint64_t first_written = 0;      /* for the log: bytes of the first chain */
	uint16_t nbufs = 0;
	struct vq_mark m;
	enum vq_err e;

	e = rx_pop_first(vq, mem, &first, &m, packed);
	if (e > VQ_E_BROKEN && !vq->broken)
		return VNET_RX_BAD_CHAIN;        /* VNET_RX_MAX_SKIP bad chains in a row */
	if (e != VQ_OK)
		return rx_result(vq);
	/* A buffer that cannot hold this packet (non-mergeable), or not even the
	 * header (mergeable: spec 5.1.6.3.2), stays with us for a later packet. */
	if (first.in_len < (fmt->mrg_rxbuf ? fmt->hdr_len : (uint64_t)fmt->hdr_len + pkt_len)) {
		vq_rewind_as(vq, m, packed);
		return VNET_RX_TOO_BIG;
	}
	/* The usual shape: header and frame fit the first piece of the first
	 * buffer, so neither needs a cursor (num_buffers is 1). */
	if (meta == NULL && npkt == 1 && first.seg[0].iov_len >= (uint64_t)fmt->hdr_len + pkt_len) {
		char *d = first.seg[0].iov_base;

		rx_put_plain(d, fmt, hdr_flags, pkt[0].iov_base, pkt_len);
		vq_push_as(vq, first.head, fmt->hdr_len + pkt_len, packed);
		if (log != NULL)
			dirty_log_hva(log, mem, d, (uint64_t)fmt->hdr_len + pkt_len);
		return VNET_RX_OK;
	}
	for (;;) {
		struct iov_cursor dst = iov_cursor(c->seg, c->n_in);
		size_t hdr = c == &first ? iov_write(&dst, &zero, fmt->hdr_len) : 0;
		size_t put = iov_copy(&dst, &src, left);

		vq_push_as(vq, c->head, (uint32_t)(hdr + put), packed);
		/* A page is marked after its last write: the frontend may copy
		 * and clear it in between. The first chain's num_buffers is
		 * written last, below. */
		if (log != NULL && c != &first)
			rx_log_chain(log, mem, c, hdr + put);
		else
			first_written = hdr + put;
		nbufs++;
		left -= (uint32_t)put;
		if (left == 0)
			break;
		/* Only mergeable receive gets here: more buffers for the rest. */
		c = &more;
		e = vq_pop_as(vq, mem, c, packed);
		if (e == VQ_OK)
			continue;
		if (e == VQ_EMPTY || vq->broken) {
			vq_rewind_as(vq, m, packed);  /* nothing bad consumed since m */
			return rx_result(vq);
		}
		/* A bad chain inside the packet's run of buffers: the run can no
		 * longer be contiguous, so the packet is dropped and every buffer
		 * it took goes back empty (the bad one already did). */
		vq_void_since(vq, m);
		return VNET_RX_BAD_CHAIN;
	}
	if (fmt->hdr_len == 12) {
		/* num_buffers sits at bytes 10..11 of the header, wherever the
		 * guest's layout put them (ANY_LAYOUT). */
		struct iov_cursor h = iov_cursor(first.seg, first.n_in);
		uint16_t le = htole16(nbufs);

		iov_skip(&h, offsetof(struct virtio_net_hdr, num_buffers));
		iov_write(&h, &le, sizeof(le));
	}
	if (log != NULL)
		rx_log_chain(log, mem, &first, first_written);
	return VNET_RX_OK;
}

enum vnet_rx_res
vnet_rx_packet(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
               uint8_t hdr_flags, const struct iovec *pkt, unsigned npkt, uint32_t pkt_len)
{
	return rx_packet(vq, mem, fmt, hdr_flags, NULL, false, false, pkt, npkt, pkt_len);
}

enum vnet_rx_res
vnet_rx_packet_packed(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                      uint8_t hdr_flags, const struct iovec *pkt, unsigned npkt,
                      uint32_t pkt_len)
{
	return rx_packet(vq, mem, fmt, hdr_flags, NULL, false, true, pkt, npkt, pkt_len);
}

enum vnet_rx_res
vnet_rx_packet_logged(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                      uint8_t hdr_flags, const struct iovec *pkt, unsigned npkt,
                      uint32_t pkt_len)
{
	return vq->packed
	       ? rx_packet(vq, mem, fmt, hdr_flags, NULL, true, true, pkt, npkt, pkt_len)
	       : rx_packet(vq, mem, fmt, hdr_flags, NULL, true, false, pkt, npkt, pkt_len);
}

enum vnet_rx_res
vnet_rx_packet_meta(struct vq *vq, const struct gmem *mem, const struct vnet_rx_fmt *fmt,
                    const struct vnet_rx_meta *meta, const struct iovec *pkt, unsigned npkt,
                    uint32_t pkt_len)
{
	return vq->packed ? rx_packet(vq, mem, fmt, 0, meta, true, true, pkt, npkt, pkt_len)
	                  : rx_packet(vq, mem, fmt, 0, meta, true, false, pkt, npkt, pkt_len);
}
