/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/datapath.c - the burst loops between a device's virtqueues and its port.
 * Guest TX: chains -> mbufs -> port TX queue. Guest RX: port RX queue -> guest
 * buffers. Per burst: one avail snapshot, one used-index store, at most one
 * call-eventfd write per queue; no locks, no allocation beyond the mbuf pool,
 * no logging except once per queue when it breaks.
 * Security model: chains come from vq_pop(), which has checked them; here we
 * only check lengths against what we can carry. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include "pmd/gro.h"
#include "pmd/pmd.h"
#include "pmd/tso.h"
#include "virtio/iov.h"
#include "common/log.h"

#define QSTAT(f) { #f, offsetof(struct pmd_qstats, f) }
const struct pmd_qstat_field pmd_qstat_fields[] = {
	QSTAT(tx_packets), QSTAT(tx_bytes), QSTAT(tx_drop_port), QSTAT(tx_drop_runt),
	QSTAT(tx_drop_too_big), QSTAT(tx_drop_bad_chain), QSTAT(tx_drop_bad_hdr),
	QSTAT(tx_csum_sw), QSTAT(tx_tso_frames), QSTAT(tx_tso_segments),
	QSTAT(tx_tso_whole), QSTAT(tx_direct), QSTAT(tx_nombuf), QSTAT(tx_lock_wait), QSTAT(busy_cycles),
	QSTAT(tx_notify),
	QSTAT(rx_packets), QSTAT(rx_bytes), QSTAT(rx_drop_too_big), QSTAT(rx_drop_broken),
	QSTAT(rx_drop_bad_chain), QSTAT(rx_bad_chain), QSTAT(rx_notify), QSTAT(rx_csum_valid),
	QSTAT(rx_gro_frames), QSTAT(rx_gro_merged), QSTAT(rx_gso_frames), QSTAT(rx_csum_partial),
	QSTAT(rx_tso_frames), QSTAT(rx_tso_segments), QSTAT(rx_csum_sw), QSTAT(rx_nombuf),
	QSTAT(rx_wait_no_buf), QSTAT(steer_handoff),
	QSTAT(steer_drop_full), QSTAT(rx_drop_disabled),
};
const unsigned pmd_qstat_nfields = ARRAY_SIZE(pmd_qstat_fields);
/* A counter added to struct pmd_qstats but not named above fails here. */
_Static_assert(sizeof(struct pmd_qstats) == ARRAY_SIZE(pmd_qstat_fields) * sizeof(uint64_t),
               "every pmd_qstats counter is named in pmd_qstat_fields");

#define STAT_ADD(st, field, v) \
	__atomic_store_n(&(st)->stats.field, (st)->stats.field + (v), __ATOMIC_RELAXED)

static void
notify(int fd)
{
	if (fd >= 0 && eventfd_write(fd, 1) != 0)
		return;                  /* guest gone; the control thread will notice */
}

static VHOSTMQ_COLD void
report_broken(const struct pmd_qp *q, const struct pmd_vring *r, bool *logged,
              const char *dir)
{
	if (*logged)
		return;
	*logged = true;
	vlog_err("device %s: queue pair %u %s ring broken by the guest: %s; it stays "
	         "stopped until the frontend re-initialises it", q->dev_name, q->qp, dir,
	         vq_strerror(r->vq->broken_why));
	notify(r->err_fd);
}

static VHOSTMQ_COLD void
report_drop(const struct pmd_qp *q, bool *logged, const char *dir, const char *why)
{
	if (*logged)
		return;
	*logged = true;
	vlog_warn("device %s: queue pair %u %s: dropped a guest buffer: %s (counted; "
	          "further drops on this ring are counted, not logged)",
	          q->dev_name, q->qp, dir, why);
}

/* Publishes the burst's used entries and tells the guest if it wants to know
 * (packed: the ring's layout, a constant where the burst loop has one). */
static inline __attribute__((always_inline)) void
finish_burst_as(struct vq *vq, int call_fd, struct pmd_qp_state *st, bool rx, bool packed)
{
	if (vq_publish_as(vq, packed) && vq_kick_needed_as(vq, packed) && call_fd >= 0) {
		notify(call_fd);
		if (rx)
			STAT_ADD(st, rx_notify, 1);
		else
			STAT_ADD(st, tx_notify, 1);
	}
}

static void
finish_burst(struct vq *vq, int call_fd, struct pmd_qp_state *st, bool rx)
{
	finish_burst_as(vq, call_fd, st, rx, vq->packed);
}

enum chain_copy { COPY_OK, COPY_NOMBUF };

/* A frame vnet_tx_check_iov() refused: counted where its verdict belongs. */
static VHOSTMQ_COLD void
tx_refused(const struct pmd_qp *q, enum vnet_tx_verdict v)
{
	if (v == VNET_TX_RUNT)
		STAT_ADD(q->st, tx_drop_runt, 1);
	else if (v == VNET_TX_TOO_BIG)
		STAT_ADD(q->st, tx_drop_too_big, 1);
	else
		STAT_ADD(q->st, tx_drop_bad_hdr, 1);
	report_drop(q, &q->st->tx_drop_logged, "TX", vnet_tx_strerror(v));
}

/* A TSO request becomes the mbuf's offload fields, as DPDK spells them for a
 * port that cuts TCP itself; tx_send_cut() cuts it for one that does not. */
static void
tx_tso_mark(struct rte_mbuf *m, const struct vnet_tx_req *req)
{
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG |
	               (req->tso == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM
	                              : RTE_MBUF_F_TX_IPV6);
	/* The gate bounds them: Ethernet + VLAN, IPv4 with options, TCP with
	 * options all fit DPDK's 7-, 9- and 8-bit fields. */
	m->tx_offload = rte_mbuf_tx_offload(req->l3_off, (uint64_t)(req->l4_off - req->l3_off),
	                                    req->l4_len, req->gso_size, 0, 0, 0);
}

/* What an accepted header asked of the copy just made (req->csum: NEEDS_CSUM
 * without TSO; req->tso: TSO, NEEDS_CSUM at its TCP header). A TSO frame is marked for the cut, which computes
 * its segments' checksums in full. A partial checksum (its field holds the
 * pseudo header's sum) travels unfinished through a port that carries
 * offloads and is completed here for any other (vnet_tx_check_iov() placed the
 * field inside the frame). */
static VHOSTMQ_COLD void
tx_offload_requests(const struct pmd_qp *q, struct rte_mbuf *m, const struct vnet_tx_req *req)
{
	if (req->tso) {
		tx_tso_mark(m, req);
	} else if (!q->port->carries_offloads ||
	           !pmd_csum_mark(m, req->csum_start, req->csum_offset)) {
		pmd_csum_fill(m, req->csum_start, req->csum_offset);
		STAT_ADD(q->st, tx_csum_sw, 1);
	}
}

/* Copies one guest TX frame that passed vnet_tx_check_iov() (len bytes in
 * nseg pieces, its net header of hdr_len bytes skipped) into m, chaining more mbufs from the
 * pool as needed, and marks what its header asked (req). Inlined: the usual
 * frame is one memcpy, and a call would cost as much again. */
static inline __attribute__((always_inline)) enum chain_copy
frame_to_mbuf(const struct pmd_qp *q, uint16_t hdr_len, const struct iovec *v, unsigned nseg,
              uint64_t len, const struct vnet_tx_req *req, struct rte_mbuf *m)
{
	struct iov_cursor src;
	struct rte_mbuf *seg = m;
	uint64_t left;

	left = len - hdr_len;
	src = iov_cursor(v, nseg);
	if (nseg == 1)           /* a vq_buf: the header in front (len > hdr_len) */
		src.off = hdr_len;
	else
		iov_skip(&src, hdr_len);
	m->pkt_len = (uint32_t)left;
	/* The usual shape (header pushed in front of the frame, or in a piece
	 * of its own): the frame is one guest piece and fits one mbuf. */
	if (src.i < src.n && src.v[src.i].iov_len - src.off >= left &&
	    left <= rte_pktmbuf_tailroom(m)) {
		/* glibc's memcpy, not rte_memcpy: it picks the widest moves the
		 * CPU has at run time, where rte_memcpy is built for the build's
		 * -march (SSE here); 1518 B took 290 instructions that way, 170
		 * this way, and 64 B no more. */
		memcpy(rte_pktmbuf_mtod(m, void *),
		       (const char *)src.v[src.i].iov_base + src.off, (size_t)left);
		m->data_len = (uint16_t)left;
		if (unlikely(req->csum || req->tso))   /* TSO: a small one, or a small MSS */
			tx_offload_requests(q, m, req);
		return COPY_OK;
	}
	for (;;) {
		uint16_t k = (uint16_t)RTE_MIN(left, (uint64_t)rte_pktmbuf_tailroom(seg));

		iov_read(&src, rte_pktmbuf_mtod_offset(seg, char *, seg->data_len), k);
		seg->data_len = (uint16_t)(seg->data_len + k);
		left -= k;
		if (left == 0) {
			if (req->csum || req->tso)
				tx_offload_requests(q, m, req);
			return COPY_OK;
		}
		seg->next = rte_pktmbuf_alloc(q->pool);
		if (seg->next == NULL) {
			/* Undo: the caller reuses m and retries this chain later. */
			rte_pktmbuf_free(m->next);
			rte_pktmbuf_reset(m);
			return COPY_NOMBUF;
		}
		seg = seg->next;
		m->nb_segs++;
	}
}

/* Port RX queue -> the inboxes of the guest RX queues the frames steer to
 * (RPS-like when the target pair is served by another thread). */
static uint32_t
port_rxq_steer(const struct pmd_qp *q, uint16_t port_rxq)
{
	const struct pmd_steer *s = q->steer;
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	uint16_t target[PMD_BURST_MAX], n;

	n = q->port->ops->rx(q->port, port_rxq, pkts, q->burst);
	if (s->rss.n_enabled == 1) {
		/* One RX queue enabled: every flow lands there, unparsed. */
		for (uint16_t i = 0; i < n; i++)
			target[i] = s->rss.reta[0];
	} else {
		/* The parse touches each frame's first line: start every miss
		 * of the burst before the first one is waited for. */
		for (uint16_t i = 0; i < n; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		for (uint16_t i = 0; i < n; i++) {
			struct pmd_flow f;

			pmd_flow_of(pkts[i], &f);
			target[i] = pmd_steer_target(s, &f);
		}
	}
	/* One enqueue per target inbox, frames in arrival order: the inboxes
	 * are multi-producer, and each enqueue is an atomic exchange. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *batch[PMD_BURST_MAX];
		uint16_t j = target[i], k = 0;
		unsigned sent;

		if (pkts[i] == NULL)
			continue;
		for (uint16_t u = i; u < n; u++)
			if (pkts[u] != NULL && target[u] == j) {
				batch[k++] = pkts[u];
				pkts[u] = NULL;
			}
		sent = rte_ring_mp_enqueue_burst(s->inbox[j], (void **)batch, k, NULL);
		if (sent < k) {
			rte_pktmbuf_free_bulk(&batch[sent], k - sent);
			STAT_ADD(q->st, steer_drop_full, k - sent);
		}
		if (j != q->qp)
			STAT_ADD(q->st, steer_handoff, sent);
	}
	return n;
}

/* Every port RX queue this entry reads (pmd_qp.port_rxq). */
static uint32_t
port_rx_steer(const struct pmd_qp *q)
{
	uint32_t n = 0;

	if (q->steer->rss.n_enabled == 0)
		return 0;                /* nothing can receive: frames wait in the port */
	for (uint32_t r = q->port_rxq; r < q->port->nrxq; r += q->port_rxq_step)
		n += port_rxq_steer(q, (uint16_t)r);
	return n;
}

/* Sends on the entry's port TX queue, under its lock when other threads
 * share the queue (a visit that finds it taken is counted, then waits: the
 * holder is one burst from letting go). */
static inline uint16_t
port_tx(const struct pmd_qp *q, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent;

	if (likely(q->txq_lock == NULL))
		return q->port->ops->tx(q->port, q->port_txq, m, n);
	if (!rte_spinlock_trylock(&q->txq_lock->lock)) {
		STAT_ADD(q->st, tx_lock_wait, 1);
		rte_spinlock_lock(&q->txq_lock->lock);
	}
	sent = q->port->ops->tx(q->port, q->port_txq, m, n);
	rte_spinlock_unlock(&q->txq_lock->lock);
	return sent;
}

/* Hands out[0..n) to the port and counts them; what it refuses is counted
 * and freed. Bytes are summed before: a port may free what it takes. */
static void
tx_flush(const struct pmd_qp *q, struct rte_mbuf **out, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t sent;

	for (uint16_t i = 0; i < n; i++)
		bytes += out[i]->pkt_len;
	sent = n ? port_tx(q, out, n) : 0;
	for (uint16_t i = sent; i < n; i++)
		bytes -= out[i]->pkt_len;
	if (sent < n) {
		STAT_ADD(q->st, tx_drop_port, (uint64_t)(n - sent));
		rte_pktmbuf_free_bulk(&out[sent], n - sent);
	}
	STAT_ADD(q->st, tx_packets, sent);
	STAT_ADD(q->st, tx_bytes, bytes);
}

/* A burst with TSO frames: each is cut into TCP segments (ports take whole
 * frames of the MTU only) and sent in its place, in order; tx_packets and
 * tx_bytes count what left, segments included. */
static VHOSTMQ_COLD void
tx_send_cut(const struct pmd_qp *q, struct rte_mbuf **pkts, uint16_t k)
{
	struct rte_mbuf *out[PMD_BURST_MAX + VNET_TSO_MAX_SEGS];
	uint16_t n = 0;

	for (uint16_t i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t segs;

		if (!pmd_tso_wanted(m)) {
			out[n++] = m;
		} else if ((segs = pmd_tso_segment(m, q->pool, &out[n], VNET_TSO_MAX_SEGS)) != 0) {
			n = (uint16_t)(n + segs);
			STAT_ADD(q->st, tx_tso_frames, 1);
			STAT_ADD(q->st, tx_tso_segments, segs);
			rte_pktmbuf_free(m);
		} else {
			STAT_ADD(q->st, tx_nombuf, 1);   /* no mbufs for its segments */
			rte_pktmbuf_free(m);
		}
		if (n > q->burst) {
			tx_flush(q, out, n);
			n = 0;
		}
	}
	tx_flush(q, out, n);
}

/* Host pieces of an mbuf chain; 0 if it has more segments than we carry. */
static unsigned
mbuf_iov(const struct rte_mbuf *m, struct iovec *iov, unsigned max)
{
	unsigned n = 0;

	for (; m != NULL; m = m->next) {
		if (n == max)
			return 0;
		iov[n++] = (struct iovec){ rte_pktmbuf_mtod(m, void *), m->data_len };
	}
	return n;
}

bool
pmd_qp_rx_pending(const struct pmd_qp *q)
{
	if (q->steer != NULL)
		return !rte_ring_empty(q->steer->inbox[q->qp]);
	return q->port->ops->rx_pending != NULL && q->port->ops->rx_pending(q->port, q->port_rxq);
}

static uint16_t
rx_source_take(const struct pmd_qp *q, struct rte_mbuf **m, uint16_t n)
{
	if (q->steer != NULL)
		return (uint16_t)rte_ring_sc_dequeue_burst(q->steer->inbox[q->qp], (void **)m, n,
		                                           NULL);
	return q->port->ops->rx(q->port, q->port_rxq, m, n);
}

/* A broken RX ring receives nothing until the frontend re-initialises it:
 * what waits for it (held frames, its inbox, or its port queue) is dropped
 * here and counted against it, so it neither pins mbufs nor backs up into
 * other pairs' counters. Returns the frames dropped (work done). */
static VHOSTMQ_COLD uint32_t
drop_for_broken(const struct pmd_qp *q)
{
	struct pmd_qp_state *st = q->st;
	struct rte_mbuf *m[PMD_BURST_MAX];
	uint32_t n = pmd_qp_state_drop_held(st);
	uint16_t k;

	report_broken(q, &q->rx, &st->rx_broken_logged, "RX");
	k = rx_source_take(q, m, q->burst);
	if (k)
		rte_pktmbuf_free_bulk(m, k);
	n += k;
	STAT_ADD(st, rx_drop_broken, n);
	return n;
}

/* The net header flags of a frame for the guest: DATA_VALID when the port
 * verified its L4 checksum and the guest accepts the flag (GUEST_CSUM). */
static inline uint8_t
rx_hdr_flags(const struct pmd_qp *q, const struct rte_mbuf *m)
{
	return q->rx_fmt.guest_csum &&
	       (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD
	       ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
}

/* Puts in[0..k) in held slot *i's place (its frame is the caller's; k may
 * be 0), moving the frames not yet delivered to the front first if they
 * would not fit, and sets *i to where the first one went. Fits: the frames
 * from *i on are at most a burst (segments put here are delivered before
 * the next frame's turn), and a cut adds at most VNET_TSO_MAX_SEGS. */
static VHOSTMQ_COLD void
held_splice(struct pmd_qp_state *st, uint16_t *i, struct rte_mbuf *const *in, uint16_t k)
{
	uint16_t rest = (uint16_t)(st->held_n - *i - 1);

	if (st->held_n + k - 1 > PMD_HELD_MAX) {
		memmove(&st->held[0], &st->held[*i], (size_t)(rest + 1) * sizeof(st->held[0]));
		*i = 0;
	}
	memmove(&st->held[*i + k], &st->held[*i + 1], (size_t)rest * sizeof(st->held[0]));
	memcpy(&st->held[*i], in, (size_t)k * sizeof(st->held[0]));
	st->held_n = (uint16_t)(*i + k + rest);
}

/* A merged TCP frame (pmd/gro.c) into the guest's buffers, as GSO. */
static VHOSTMQ_COLD enum vnet_rx_res
rx_merged(const struct pmd_qp *q, const struct rte_mbuf *m)
{
	uint8_t hdr[PMD_GRO_HDR_MAX];
	struct vnet_rx_meta meta;
	struct iovec iov[VQ_MAX_SEGS];
	unsigned niov = pmd_gro_frame(m, hdr, &meta, iov, VQ_MAX_SEGS);

	return niov ? vnet_rx_packet_meta(q->rx.vq, q->mem, &q->rx_fmt, &meta, iov, niov,
	                                  m->pkt_len)
	            : VNET_RX_TOO_BIG;
}

/* The RX header that hands a guest a frame its peer left unfinished, as the
 * peer sent it (u: a partial checksum from csum_start, stored at
 * csum_offset, or TSO with the TCP header l4_len long and segments of
 * gso_size; cwr: the frame has TCP's CWR flag): NEEDS_CSUM (GUEST_CSUM)
 * with the seed the peer left in the field, and for TSO the GSO fields
 * (GUEST_TSO4/6, and GUEST_ECN for CWR). False: this guest cannot take it
 * so. The offsets are the ones the peer's gate checked. */
static bool
rx_unfinished_hdr(const struct vnet_rx_fmt *fmt, const struct vnet_tx_req *u, bool cwr,
                  struct vnet_rx_meta *meta)
{
	if (!fmt->guest_csum)
		return false;
	*meta = (struct vnet_rx_meta){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                               .csum_start = u->csum_start,
	                               .csum_offset = u->csum_offset };
	if (u->tso == 0)
		return true;
	if (!(u->tso == 4 ? fmt->tso4 : fmt->tso6))
		return false;
	meta->gso_type = u->tso == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	if (cwr) {
		if (!fmt->ecn)
			return false;
		meta->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	}
	meta->hdr_len = (uint16_t)(u->csum_start + u->l4_len);
	meta->gso_size = u->gso_size;
	return true;
}

/* TCP's CWR flag, in the flags byte 13 bytes into the TCP header. */
#define TCP_FLAGS_OFF 13
#define TCP_CWR 0x80

/* rx_unfinished_hdr() for a frame from a device: port (PMD_TX_UNFINISHED):
 * what it asks, from its mbuf's offload fields; only the CWR bit is read
 * from the frame (either value is a valid header). */
static bool
rx_unfinished_meta(const struct vnet_rx_fmt *fmt, const struct rte_mbuf *m,
                   struct vnet_rx_meta *meta)
{
	struct vnet_tx_req u = { .l4_len = m->l4_len, .gso_size = m->tso_segsz };
	uint8_t tcp_flags;
	const uint8_t *f = NULL;

	pmd_csum_where(m, &u.csum_start, &u.csum_offset);
	if (pmd_tso_wanted(m)) {
		u.tso = m->ol_flags & RTE_MBUF_F_TX_IPV4 ? 4 : 6;
		f = rte_pktmbuf_read(m, (uint32_t)u.csum_start + TCP_FLAGS_OFF, 1, &tcp_flags);
	}
	return rx_unfinished_hdr(fmt, &u, f != NULL && (*f & TCP_CWR), meta);
}

/* What became of a frame that is not plain (rx_special()). */
enum rx_kind {
	RX_PLAIN,        /* a plain frame (not rx_special()'s) */
	RX_MERGED,       /* a merged frame: delivered as GSO, or not delivered */
	RX_GSO,          /* a peer's TSO frame: delivered whole, or not */
	RX_PARTIAL,      /* a peer's partial checksum: delivered NEEDS_CSUM, or not */
	RX_REDO,         /* replaced in held by what the guest can take */
};

/* Finishes a frame from a device: port that this guest cannot take as the
 * peer sent it: a TSO frame is cut (its segments take its held slot; none
 * if the pool is empty, then it is dropped and counted), a partial checksum
 * is filled in (it then goes plain). */
static VHOSTMQ_COLD void
rx_finish(const struct pmd_qp *q, uint16_t *i)
{
	struct pmd_qp_state *st = q->st;
	struct rte_mbuf *m = st->held[*i];
	uint16_t start, offset;

	if (pmd_tso_wanted(m)) {
		struct rte_mbuf *segs[VNET_TSO_MAX_SEGS];
		uint16_t k = pmd_tso_segment(m, q->pool, segs, VNET_TSO_MAX_SEGS);

		if (k == 0) {
			STAT_ADD(st, rx_nombuf, 1);
		} else {
			STAT_ADD(st, rx_tso_frames, 1);
			STAT_ADD(st, rx_tso_segments, k);
		}
		held_splice(st, i, segs, k);
		rte_pktmbuf_free(m);
		return;
	}
	pmd_csum_where(m, &start, &offset);
	pmd_csum_fill(m, start, offset);
	m->ol_flags &= ~PMD_TX_UNFINISHED;
	STAT_ADD(st, rx_csum_sw, 1);
}

/* A frame that is not plain into the guest's buffers: a merged one as GSO
 * (or, when the guest's buffers cannot hold it, the segments it was made
 * of, which take its held slot), a device: port's as its peer sent it (or
 * finished here). RX_REDO: held slot *i changed, to be delivered next. */
static VHOSTMQ_COLD enum rx_kind
rx_special(const struct pmd_qp *q, uint16_t *i, enum vnet_rx_res *res)
{
	struct pmd_qp_state *st = q->st;
	struct rte_mbuf *m = st->held[*i];
	struct vnet_rx_meta meta;

	if (pmd_gro_merged(m)) {
		struct rte_mbuf *segs[PMD_BURST_MAX];

		*res = (pmd_gro_is_v6(m) ? q->rx_fmt.tso6 : q->rx_fmt.tso4) ? rx_merged(q, m)
		                                                          : VNET_RX_TOO_BIG;
		if (*res != VNET_RX_TOO_BIG)
			return RX_MERGED;
		/* No MRG_RXBUF and buffers under 64 KiB: it came from as many
		 * slots as it has segments. */
		held_splice(st, i, segs, pmd_gro_unmerge(m, segs));
		return RX_REDO;
	}
	if (rx_unfinished_meta(&q->rx_fmt, m, &meta)) {
		struct iovec iov[VQ_MAX_SEGS];
		unsigned niov = mbuf_iov(m, iov, VQ_MAX_SEGS);

		*res = niov ? vnet_rx_packet_meta(q->rx.vq, q->mem, &q->rx_fmt, &meta, iov, niov,
		                                  m->pkt_len)
		            : VNET_RX_TOO_BIG;
		if (*res != VNET_RX_TOO_BIG || !pmd_tso_wanted(m))
			return meta.gso_type ? RX_GSO : RX_PARTIAL;
	}
	rx_finish(q, i);
	return RX_REDO;
}

/* The header gate (vnet_tx_check_iov(), fmt: q's, or a copy of it) for a
 * TX frame of len bytes in nseg pieces; a refusal is counted. True: carry
 * it. */
static inline __attribute__((always_inline)) bool
tx_accept(const struct pmd_qp *q, const struct vnet_tx_fmt *fmt, const struct iovec *v,
          unsigned nseg, uint64_t len, struct vnet_tx_req *req)
{
	enum vnet_tx_verdict verdict = vnet_tx_check_iov(fmt, v, nseg, len, req);

	if (likely(verdict == VNET_TX_OK))
		return true;
	tx_refused(q, verdict);
	return false;
}

/* What the next chain of a TX ring is for the burst taking it. */
enum tx_next {
	TX_NEXT_FRAME,                   /* a frame the header gate accepted */
	TX_NEXT_REFUSED,                 /* refused there, counted: give it back */
	TX_NEXT_RETURNED,                /* a bad chain vq_pop() gave back, counted */
	TX_NEXT_STOP,                    /* nothing more now (empty, or broken) */
};

static inline __attribute__((always_inline)) enum tx_next
tx_next(const struct pmd_qp *q, struct vq_chain *c, struct vnet_tx_req *req, bool packed)
{
	enum vq_err e = vq_pop_as(q->tx.vq, q->mem, c, packed);

	if (e == VQ_EMPTY || q->tx.vq->broken)
		return TX_NEXT_STOP;
	if (unlikely(e != VQ_OK)) {
		STAT_ADD(q->st, tx_drop_bad_chain, 1);
		report_drop(q, &q->st->tx_drop_logged, "TX", vq_strerror(e));
		return TX_NEXT_RETURNED;
	}
	return tx_accept(q, &q->tx_fmt, c->seg, c->n_out, c->out_len, req) ? TX_NEXT_FRAME
	                                                                  : TX_NEXT_REFUSED;
}

/* ---- guest to guest in one copy (device: ports) ----------------------------
 * When the peer device's pair that reads this port queue is served by this
 * thread too (pmd_qp.peer) and nothing waits in that queue, a guest TX frame
 * goes straight from its chain into the RX ring the peer's steering picks,
 * if that ring is this thread's as well and nothing waits for it either
 * (inbox, held slots): one copy, no mbuf, and the peer guest sees it in the
 * same visit. A frame that cannot go so (no room in the peer's ring, a ring
 * of another thread, an offload the peer guest cannot take as sent) goes
 * through the port as usual, and so does the rest of the burst: no frame
 * overtakes one sent before it. The peer's RX entries are this thread's:
 * their rings, counters and held slots have no other writer. */

/* One burst's direct delivery. */
struct direct {
	const struct pmd_steer *steer;   /* the peer's; NULL: off for the rest of
	                                    the burst */
	uint16_t ntouched;
	const struct pmd_qp *touched[PMD_BURST_MAX];  /* peer pairs written to */
};

static void
direct_begin(const struct pmd_qp *q, struct direct *d)
{
	const struct pmd_qp *reader;

	d->steer = NULL;
	d->ntouched = 0;
	if (q->peer == NULL)
		return;
	reader = q->peer[q->port_txq % q->peer_nq];
	if (reader == NULL || reader->steer == NULL || reader->steer->rss.n_enabled == 0 ||
	    reader->port->ops->rx_pending(reader->port, reader->port_rxq))
		return;
	d->steer = reader->steer;
}

/* b's RX ring was written to in this burst: direct_end() publishes it. */
static void
direct_touch(struct direct *d, const struct pmd_qp *b)
{
	for (uint16_t i = 0; i < d->ntouched; i++)
		if (d->touched[i] == b)
			return;
	d->touched[d->ntouched++] = b;
}

/* The frame of a checked TX chain, as host pieces (its net header skipped). */
static unsigned
chain_frame(const struct vq_chain *c, uint16_t hdr_len, struct iovec *out)
{
	struct iov_cursor src = iov_cursor(c->seg, c->n_out);
	unsigned n = 0;

	iov_skip(&src, hdr_len);
	for (; src.i < src.n; src.i++, src.off = 0)
		out[n++] = (struct iovec){ (char *)src.v[src.i].iov_base + src.off,
		                           src.v[src.i].iov_len - src.off };
	return n;
}

/* Writes a checked TX chain of q's guest into the peer guest's RX ring
 * steering picks. False: it must go through the port (and so must the rest
 * of the burst). */
static bool
tx_direct(const struct pmd_qp *q, struct direct *d, const struct vq_chain *c,
          const struct vnet_tx_req *req)
{
	const struct pmd_steer *s = d->steer;
	struct iovec frame[VQ_MAX_SEGS];
	uint32_t len = (uint32_t)(c->out_len - q->tx_fmt.hdr_len);
	unsigned n = chain_frame(c, q->tx_fmt.hdr_len, frame);
	bool remember = pmd_steer_remembers(q->steer);
	const struct pmd_qp *b;
	struct vnet_rx_meta meta;
	enum vnet_rx_res r;
	struct pmd_flow f;
	uint64_t chain_errs;
	uint16_t t = s->rss.reta[0];
	struct vq *vq;

	if (s->rss.n_enabled > 1 || remember) {
		pmd_flow_of_iov(frame, n, &f);
		if (s->rss.n_enabled > 1)
			t = pmd_steer_target(s, &f);
	}
	b = q->peer[t];
	if (b == NULL || (vq = b->rx.vq) == NULL || vq->broken ||
	    b->st->held_next != b->st->held_n || !rte_ring_empty(s->inbox[t]))
		goto through_port;
	chain_errs = vq->chain_errs;
	if (likely(!req->csum && !req->tso)) {
		r = likely(vq->log == NULL)
		    ? vnet_rx_packet_any(vq, b->mem, &b->rx_fmt, 0, frame, n, len)
		    : vnet_rx_packet_logged(vq, b->mem, &b->rx_fmt, 0, frame, n, len);
	} else {
		uint8_t buf;
		const uint8_t *fl = req->tso ? iov_peek(frame, n, (size_t)req->l4_off +
		                                        TCP_FLAGS_OFF, 1, &buf) : NULL;

		if (!rx_unfinished_hdr(&b->rx_fmt, req, fl != NULL && (*fl & TCP_CWR), &meta))
			goto through_port;
		r = vnet_rx_packet_meta(vq, b->mem, &b->rx_fmt, &meta, frame, n, len);
	}
	/* Bad chains the receive gave back empty are in b's ring whatever
	 * became of the frame: counted, and published with the burst. */
	if (unlikely(vq->chain_errs != chain_errs)) {
		STAT_ADD(b->st, rx_bad_chain, vq->chain_errs - chain_errs);
		report_drop(b, &b->st->rx_drop_logged, "RX", vq_strerror(vq->last_chain_err));
	}
	direct_touch(d, b);
	/* No room yet, or (TSO) buffers that can never hold the frame whole:
	 * the port path waits for room, or cuts it (rx_finish()). */
	if (r == VNET_RX_NO_BUF || (r == VNET_RX_TOO_BIG && req->tso))
		goto through_port;
	if (remember)
		pmd_steer_remember_flow(q->steer, q->qp, &f);
	if (r == VNET_RX_OK) {
		STAT_ADD(b->st, rx_packets, 1);
		STAT_ADD(b->st, rx_bytes, len);
		if (unlikely(req->tso))
			STAT_ADD(b->st, rx_gso_frames, 1);
		else if (unlikely(req->csum))
			STAT_ADD(b->st, rx_csum_partial, 1);
	} else if (r == VNET_RX_TOO_BIG) {
		STAT_ADD(b->st, rx_drop_too_big, 1);
	} else if (r == VNET_RX_BAD_CHAIN) {
		STAT_ADD(b->st, rx_drop_bad_chain, 1);
	} else {
		STAT_ADD(b->st, rx_drop_broken, 1);
	}
	return true;
through_port:
	d->steer = NULL;
	return false;
}

/* Publishes what the burst wrote into the peer guest's RX rings. */
static void
direct_end(const struct direct *d)
{
	for (uint16_t i = 0; i < d->ntouched; i++) {
		const struct pmd_qp *b = d->touched[i];

		finish_burst(b->rx.vq, b->rx.call_fd, b->st, true);
		if (unlikely(b->rx.vq->broken))
			report_broken(b, &b->rx, &b->st->rx_broken_logged, "RX");
	}
}

/* The head of a burst of up to n chains that goes guest to guest: chains
 * are taken while tx_direct() delivers them; the first it cannot is put
 * back (vq_rewind) for the port path, which takes the rest of the burst.
 * Returns the chains taken; *bytes: the frames' bytes. */
static VHOSTMQ_COLD uint16_t
tx_direct_burst(const struct pmd_qp *q, uint16_t n, uint64_t *bytes)
{
	struct vq *vq = q->tx.vq;
	struct pmd_qp_state *st = q->st;
	uint16_t popped = 0, direct = 0, tso = 0;
	struct direct d;

	direct_begin(q, &d);
	if (d.steer == NULL)
		return 0;
	vq_prefetch(vq, q->mem, n);
	while (popped < n && *bytes < q->burst_bytes) {
		struct vq_mark mark = vq_mark(vq);
		struct vq_chain c;
		struct vnet_tx_req req;
		enum tx_next t = tx_next(q, &c, &req, vq->packed);

		if (t == TX_NEXT_STOP)
			break;
		if (t == TX_NEXT_FRAME) {
			if (!tx_direct(q, &d, &c, &req)) {
				vq_rewind(vq, mark);
				break;
			}
			direct++;
			tso = (uint16_t)(tso + (req.tso != 0));
			*bytes += c.out_len - q->tx_fmt.hdr_len;
		}
		popped++;
		if (t != TX_NEXT_RETURNED)
			vq_push(vq, c.head, 0);
	}
	if (popped)
		finish_burst(vq, q->tx.call_fd, st, false);
	direct_end(&d);
	STAT_ADD(st, tx_direct, direct);
	STAT_ADD(st, tx_packets, direct);
	STAT_ADD(st, tx_bytes, *bytes);
	STAT_ADD(st, tx_tso_whole, tso);
	return popped;
}

/* What a guest TX burst copied so far: frames in its pkts[0..k). Kept
 * apart from the mbufs, so the copy loop holds it in registers. */
struct tx_count {
	uint16_t k;
	uint16_t tso;                    /* how many of them are TSO frames */
	uint64_t bytes;                  /* their bytes */
};

/* Copies an accepted frame (frame_to_mbuf()) into m, the burst's next mbuf.
 * False: out of mbufs, nothing taken. */
static inline __attribute__((always_inline)) bool
tx_copy(const struct pmd_qp *q, uint16_t hdr_len, struct rte_mbuf *m, struct tx_count *n,
        const struct iovec *v, unsigned nseg, uint64_t len, const struct vnet_tx_req *req)
{
	if (unlikely(frame_to_mbuf(q, hdr_len, v, nseg, len, req, m) == COPY_NOMBUF)) {
		STAT_ADD(q->st, tx_nombuf, 1);
		q->st->tx_nombuf = true;
		return false;
	}
	n->tso = (uint16_t)(n->tso + (req->tso != 0));
	n->bytes += len - hdr_len;
	n->k++;
	return true;
}

/* How many frames ahead of its copy a buffer is fetched: enough to cover a
 * miss to memory with the copies of short frames in between. */
#define TX_FETCH_AHEAD 8

/* Starts fetching a TX buffer's first two lines (a short frame and the net
 * header in front of it usually span two). */
static inline void
tx_fetch(const struct vq_buf *b)
{
	rte_prefetch0(b->seg.iov_base);
	if (b->seg.iov_len > RTE_CACHE_LINE_SIZE)
		rte_prefetch0((const char *)b->seg.iov_base + RTE_CACHE_LINE_SIZE);
}

/* The ring's usual chains (one descriptor each), popped together: every
 * descriptor of them checked first, then each buffer fetched a few frames
 * before its copy. Returns the chains handled; nb - that many were given
 * back to the ring (the byte budget, or mbufs, ran out). */
static inline __attribute__((always_inline)) uint16_t
tx_bufs(const struct pmd_qp *q, struct rte_mbuf **pkts, struct tx_count *count,
        const struct vq_buf *bufs, uint16_t nb, uint64_t budget, bool packed)
{
	/* Copies the copy loop keeps in registers (its stores into mbufs
	 * could alias q's). */
	const struct vnet_tx_fmt fmt = q->tx_fmt;
	struct tx_count n = *count;
	uint16_t i;

	for (i = 0; i < nb && i < TX_FETCH_AHEAD; i++)
		tx_fetch(&bufs[i]);
	for (i = 0; i < nb; i++) {
		struct vnet_tx_req req;
		const struct iovec *v = &bufs[i].seg;

		if (i + TX_FETCH_AHEAD < nb)
			tx_fetch(&bufs[i + TX_FETCH_AHEAD]);
		if (tx_accept(q, &fmt, v, 1, v->iov_len, &req) &&
		    !tx_copy(q, fmt.hdr_len, pkts[n.k], &n, v, 1, v->iov_len, &req))
			break;
		if (n.bytes >= budget) {
			i++;
			break;
		}
	}
	/* Read, copied or refused, each goes back empty; the rest are taken
	 * again next time. */
	vq_push_bufs_as(q->tx.vq, bufs, NULL, i, packed);
	if (i < nb)
		vq_unpop_bufs_as(q->tx.vq, (uint16_t)(nb - i), packed);
	*count = n;
	return i;
}

/* Guest TX ring -> port TX queue. The burst takes the ring's usual chains
 * first (tx_bufs()); from the first chain of another shape on, one chain
 * at a time (tx_next()). Its head may go straight into the peer guest's RX
 * rings (tx_direct_burst()). */
static inline __attribute__((always_inline)) uint32_t
guest_tx_impl(const struct pmd_qp *q, bool packed)
{
	struct vq *vq = q->tx.vq;
	struct pmd_qp_state *st = q->st;
	struct vq_buf bufs[PMD_BURST_MAX];
	struct rte_mbuf *pkts[PMD_BURST_MAX];
	struct tx_count b = { 0, 0, 0 };
	uint16_t n = q->port->ops->tx_room(q->port, q->port_txq);
	uint16_t sent, popped, direct = 0, nb, want;
	uint64_t budget = q->burst_bytes;
	bool more = false;

	n = (uint16_t)RTE_MIN(n, q->burst);
	if (unlikely(q->peer != NULL) && n > 0) {
		uint64_t direct_bytes = 0;

		n = (uint16_t)RTE_MIN(n, vq_avail_count_as(vq, packed));
		direct = tx_direct_burst(q, n, &direct_bytes);
		n = (uint16_t)(n - direct);
		budget = direct_bytes < budget ? budget - direct_bytes : 0;
		if (budget == 0)
			n = 0;
	}
	nb = n ? vq_pop_bufs_as(vq, q->mem, bufs, n, &more, packed) : 0;
	want = more ? n : nb;
	if (want == 0) {
		if (unlikely(vq->broken))
			report_broken(q, &q->tx, &st->tx_broken_logged, "TX");
		return direct;
	}
	if (rte_pktmbuf_alloc_bulk(q->pool, pkts, want) != 0) {
		vq_unpop_bufs_as(vq, nb, packed);
		STAT_ADD(st, tx_nombuf, 1);
		st->tx_nombuf = true;
		return direct;           /* the guest's frames wait in its ring */
	}
	st->tx_nombuf = false;
	popped = tx_bufs(q, pkts, &b, bufs, nb, budget, packed);
	if (unlikely(more) && popped == nb && b.bytes < budget) {
		while (popped < n) {
			struct vq_mark mark = vq_mark_as(vq, packed);
			struct vq_chain c;
			struct vnet_tx_req req;
			enum tx_next t = tx_next(q, &c, &req, packed);

			if (t == TX_NEXT_STOP)
				break;
			if (t == TX_NEXT_FRAME &&
			    !tx_copy(q, q->tx_fmt.hdr_len, pkts[b.k], &b, c.seg, c.n_out, c.out_len,
			             &req)) {
				vq_rewind_as(vq, mark, packed);
				break;
			}
			popped++;
			if (t != TX_NEXT_RETURNED)
				vq_push_as(vq, c.head, 0, packed);
			if (b.bytes >= budget)
				break;
		}
	}
	if (popped)
		finish_burst_as(vq, q->tx.call_fd, st, false, packed);
	if (unlikely(vq->broken))
		report_broken(q, &q->tx, &st->tx_broken_logged, "TX");
	if (b.k < want)
		rte_pktmbuf_free_bulk(&pkts[b.k], want - b.k);
	pmd_steer_remember(q->steer, q->qp, pkts, b.k);
	if (unlikely(b.tso)) {
		if (!q->port->carries_offloads && !q->port->takes_tso) {
			tx_send_cut(q, pkts, b.k);
			return (uint32_t)(direct + popped);
		}
		STAT_ADD(st, tx_tso_whole, b.tso);
	}
	sent = b.k ? port_tx(q, pkts, b.k) : 0;
	for (uint16_t i = sent; i < b.k; i++)
		b.bytes -= pkts[i]->pkt_len;
	if (sent < b.k) {
		STAT_ADD(st, tx_drop_port, (uint64_t)(b.k - sent));
		rte_pktmbuf_free_bulk(&pkts[sent], b.k - sent);
	}
	STAT_ADD(st, tx_packets, sent);
	STAT_ADD(st, tx_bytes, b.bytes);
	return (uint32_t)(direct + popped);
}

/* Guest TX, one per ring layout (pmd_poll_qp() picks it per visit). Never
 * inlined: one call per poll of a TX ring, which bench/callgrind.py counts
 * to tell empty polls from work. */
static __attribute__((noinline)) uint32_t
guest_tx(const struct pmd_qp *q)
{
	return guest_tx_impl(q, false);
}

static __attribute__((noinline)) uint32_t
guest_tx_packed(const struct pmd_qp *q)
{
	return guest_tx_impl(q, true);
}

/* The head of a guest RX burst: its plain frames (one piece, no offload to
 * describe) go into the ring's usual buffers together (vnet_rx_bufs()).
 * Returns how many were delivered, from m[0] on, moved to done[]; the
 * rest are for the per-frame path. */
static inline __attribute__((always_inline)) uint16_t
rx_plain_burst(const struct pmd_qp *q, struct rte_mbuf *const *m, uint16_t n,
               struct rte_mbuf **done, uint64_t *bytes, uint16_t *csum_valid, bool packed)
{
	struct vnet_rx_frame f[PMD_BURST_MAX];
	uint16_t nf, got, valid = 0;
	uint64_t sum = 0;

	n = (uint16_t)RTE_MIN(n, q->burst);
	for (nf = 0; nf < n; nf++) {
		const struct rte_mbuf *x = m[nf];

		if ((x->ol_flags & (RTE_MBUF_F_RX_LRO | PMD_TX_UNFINISHED)) != 0 || x->nb_segs != 1)
			break;
		f[nf] = (struct vnet_rx_frame){ .data = rte_pktmbuf_mtod(x, const void *),
		                                .len = x->pkt_len, .hdr_flags = rx_hdr_flags(q, x) };
	}
	if (nf == 0)
		return 0;
	got = packed ? vnet_rx_bufs_packed(q->rx.vq, q->mem, &q->rx_fmt, f, nf)
	             : vnet_rx_bufs(q->rx.vq, q->mem, &q->rx_fmt, f, nf);
	for (uint16_t k = 0; k < got; k++) {
		done[k] = m[k];
		sum += f[k].len;
		valid = (uint16_t)(valid + (f[k].hdr_flags != 0));
	}
	*bytes += sum;
	*csum_valid = (uint16_t)(*csum_valid + valid);
	if (got)
		q->st->rx_blocked = false;
	return got;
}

/* Inbox or port RX queue -> guest RX ring. logged: a constant, true while a
 * migration logs the ring's writes (its vq has a dirty log); packed: the
 * ring's layout, a constant. */
static inline __attribute__((always_inline)) uint32_t
guest_rx_impl(const struct pmd_qp *q, bool logged, bool packed)
{
	struct vq *vq = q->rx.vq;
	struct pmd_qp_state *st = q->st;
	struct rte_mbuf *done[PMD_BURST_MAX];
	uint16_t i, ndone = 0, delivered = 0, csum_valid = 0, gro_frames = 0, gro_merged = 0;
	uint16_t gso = 0, partial = 0;
	uint64_t bytes = 0, chain_errs = vq->chain_errs;
	bool gro;

	if (unlikely(vq->broken))
		return drop_for_broken(q);
	if (st->held_next == st->held_n) {
		uint16_t room = vq_avail_room_as(vq, q->burst, packed);

		if (room == 0) {
			if (unlikely(vq->broken))
				return drop_for_broken(q);
			if (pmd_qp_rx_pending(q))
				STAT_ADD(st, rx_wait_no_buf, 1);
			return 0;
		}
		st->held_next = 0;
		/* A guest that takes merged frames gets a whole burst to merge
		 * from: what its buffers cannot hold yet waits in held (as on
		 * a packed ring, whose room is a plan, not a count). */
		gro = q->rx_fmt.tso4 || q->rx_fmt.tso6;
		st->held_n = rx_source_take(q, st->held, gro ? q->burst : (uint16_t)RTE_MIN(room, q->burst));
		if (st->held_n == 0)
			return 0;
		if (gro && st->held_n > 1)
			st->held_n = pmd_gro_burst(st->held, st->held_n, q->rx_fmt.tso4,
			                           q->rx_fmt.tso6);
	}
	i = st->held_next;
	if (!logged) {
		uint16_t got = rx_plain_burst(q, &st->held[i], (uint16_t)(st->held_n - i), done,
		                              &bytes, &csum_valid, packed);

		ndone = delivered = got;
		i = (uint16_t)(i + got);
	}
	for (; i < st->held_n && ndone < q->burst; i++) {
		struct rte_mbuf *m = st->held[i];
		enum rx_kind kind = RX_PLAIN;
		enum vnet_rx_res r;
		uint8_t flags = 0;

		if (likely((m->ol_flags & (RTE_MBUF_F_RX_LRO | PMD_TX_UNFINISHED)) == 0)) {
			struct iovec iov[VQ_MAX_SEGS];
			unsigned niov = mbuf_iov(m, iov, VQ_MAX_SEGS);

			flags = rx_hdr_flags(q, m);
			r = !niov ? VNET_RX_TOO_BIG
			  : logged ? vnet_rx_packet_logged(vq, q->mem, &q->rx_fmt, flags, iov, niov,
			                                   m->pkt_len)
			  : packed ? vnet_rx_packet_packed(vq, q->mem, &q->rx_fmt, flags, iov,
			                                   niov, m->pkt_len)
			           : vnet_rx_packet(vq, q->mem, &q->rx_fmt, flags, iov, niov,
			                            m->pkt_len);
		} else if ((kind = rx_special(q, &i, &r)) == RX_REDO) {
			i--;             /* slot i again (wraps to UINT16_MAX and back) */
			continue;
		}
		if (r == VNET_RX_NO_BUF) {
			STAT_ADD(st, rx_wait_no_buf, 1);
			st->rx_blocked = true;
			st->rx_blocked_avail = vq->shadow_avail;
			break;           /* keep the rest for when the guest refills */
		}
		st->rx_blocked = false;
		if (r == VNET_RX_OK) {
			delivered++;
			bytes += m->pkt_len;
			csum_valid = (uint16_t)(csum_valid + (flags != 0));
			if (unlikely(kind != RX_PLAIN)) {
				gro_frames = (uint16_t)(gro_frames + (kind == RX_MERGED));
				gro_merged = (uint16_t)(gro_merged +
				                        (kind == RX_MERGED ? m->nb_segs : 0));
				gso = (uint16_t)(gso + (kind == RX_GSO));
				partial = (uint16_t)(partial + (kind == RX_PARTIAL));
			}
		} else if (r == VNET_RX_TOO_BIG) {
			STAT_ADD(st, rx_drop_too_big, 1);
		} else if (r == VNET_RX_BAD_CHAIN) {
			STAT_ADD(st, rx_drop_bad_chain, 1);
		} else {
			STAT_ADD(st, rx_drop_broken, 1);
		}
		done[ndone++] = m;
	}
	st->held_next = i;
	/* Also publishes bad chains vq_pop() gave back while no frame fitted. */
	finish_burst_as(vq, q->rx.call_fd, st, true, packed);
	if (unlikely(vq->chain_errs != chain_errs)) {
		STAT_ADD(st, rx_bad_chain, vq->chain_errs - chain_errs);
		report_drop(q, &st->rx_drop_logged, "RX", vq_strerror(vq->last_chain_err));
	}
	if (unlikely(vq->broken))
		report_broken(q, &q->rx, &st->rx_broken_logged, "RX");
	if (ndone)
		rte_pktmbuf_free_bulk(done, ndone);
	STAT_ADD(st, rx_packets, delivered);
	if (csum_valid)
		STAT_ADD(st, rx_csum_valid, csum_valid);
	if (unlikely(gro_frames)) {
		STAT_ADD(st, rx_gro_frames, gro_frames);
		STAT_ADD(st, rx_gro_merged, gro_merged);
	}
	if (unlikely(gso | partial)) {
		STAT_ADD(st, rx_gso_frames, gso);
		STAT_ADD(st, rx_csum_partial, partial);
	}
	STAT_ADD(st, rx_bytes, bytes);
	return ndone;
}

static uint32_t
guest_rx(const struct pmd_qp *q)
{
	return guest_rx_impl(q, false, false);
}

static uint32_t
guest_rx_packed(const struct pmd_qp *q)
{
	return guest_rx_impl(q, false, true);
}

static VHOSTMQ_COLD uint32_t
guest_rx_logged(const struct pmd_qp *q)
{
	return q->rx.vq->packed ? guest_rx_impl(q, true, true) : guest_rx_impl(q, true, false);
}

uint32_t
pmd_poll_qp(const struct pmd_qp *q)
{
	uint32_t work = 0;

	/* Each ring's layout and dirty log are fixed while it runs: one test
	 * per visit picks the loop compiled for them, nothing asks per packet. */
	if (q->tx.vq != NULL)
		work += q->tx.vq->packed ? guest_tx_packed(q) : guest_tx(q);
	if (q->steer != NULL)
		work += port_rx_steer(q);
	if (q->rx.vq != NULL)
		work += unlikely(q->rx.vq->log != NULL) ? guest_rx_logged(q)
		      : q->rx.vq->packed ? guest_rx_packed(q) : guest_rx(q);
	return work;
}

uint16_t
pmd_qp_state_drop_held(struct pmd_qp_state *st)
{
	uint16_t n = (uint16_t)(st->held_n - st->held_next);

	if (n)
		rte_pktmbuf_free_bulk(&st->held[st->held_next], n);
	st->held_n = st->held_next = 0;
	return n;
}
