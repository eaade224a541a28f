/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/virtio/test_vnet.c - the virtio-net device model: header length per
 * feature set, the feature check, queue numbering, the guest-TX gate
 * vnet_tx_check() (every flags/gso_type class, every length bound, headers
 * laid out in one piece or split, read from exact-size buffers so ASan sees
 * any read past the two bytes it needs), and vnet_rx_packet() into
 * a fake guest's RX ring, both non-mergeable (one chain per packet) and
 * mergeable (num_buffers chains per packet), and the burst receive
 * vnet_rx_bufs() (both ring layouts: frames into one-descriptor buffers,
 * stopping where vnet_rx_packet() must take over). Guest buffers are pre-filled with
 * 0xaa so every byte the device wrote, and none it should not have, 0, can be
 * checked; each packet is reassembled from the used ring the way a driver
 * would (num_buffers consecutive used entries). The hostile rows cover short
 * buffers, running out of buffers mid-packet, bad chains and broken queues. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/base.h"
#include "virtio/vnet.h"
#include "tests/fake_guest.h"
#include "tests/tcp_frame.h"

#define RX VQ_DIR_DEVICE_WRITES
#define W VRING_DESC_F_WRITE
#define FILL 0xaa
#define MAX_DESCS 4

static const struct vnet_rx_fmt fmt10 = { .hdr_len = 10, .mrg_rxbuf = false };
static const struct vnet_rx_fmt fmt12 = { .hdr_len = 12, .mrg_rxbuf = false };
static const struct vnet_rx_fmt mrg = { .hdr_len = 12, .mrg_rxbuf = true };

/* What the test driver posted for one chain, to read it back by head. */
struct chain_rec {
	uint16_t head;
	unsigned n;
	uint64_t gpa[MAX_DESCS];
	uint32_t len[MAX_DESCS];
};

static uint8_t pkt[4096];

static void
pattern(void)
{
	for (size_t k = 0; k < sizeof(pkt); k++)
		pkt[k] = (uint8_t)(k * 7 + 3);
}

/* Posts a writable chain at descriptors head..head+n-1, pre-filled with FILL. */
static struct chain_rec
post(struct fake_guest *g, uint16_t head, const uint32_t *lens, unsigned n)
{
	struct chain_rec r = { .head = head, .n = n };

	for (unsigned k = 0; k < n; k++) {
		r.gpa[k] = fg_alloc(g, lens[k] ? lens[k] : 1, 16);
		r.len[k] = lens[k];
		if (fg_fill(g, r.gpa[k], FILL, lens[k]) != 0)
			abort();
		fg_desc(g, (uint16_t)(head + k), r.gpa[k], lens[k],
		        (uint16_t)(W | (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
		        (uint16_t)(head + k + 1));
	}
	fg_avail(g, head);
	return r;
}

static struct chain_rec
post1(struct fake_guest *g, uint16_t head, uint32_t len)
{
	return post(g, head, &len, 1);
}

/* Copies up to len bytes of a posted chain into out; returns how many. */
static size_t
read_chain(const struct fake_guest *g, const struct chain_rec *r, size_t len,
           uint8_t *out)
{
	size_t done = 0;

	for (unsigned k = 0; k < r->n && done < len; k++) {
		size_t n = r->len[k] < len - done ? r->len[k] : len - done;

		if (fg_read(g, r->gpa[k], out + done, n) != 0)
			abort();
		done += n;
	}
	return done;
}

static const struct chain_rec *
find(const struct chain_rec *recs, unsigned n, uint32_t head)
{
	for (unsigned k = 0; k < n; k++)
		if (recs[k].head == head)
			return &recs[k];
	return NULL;
}

static uint16_t
num_buffers(const uint8_t *hdr)
{
	return (uint16_t)(hdr[10] | hdr[11] << 8);
}

/* Reads the packet that starts at used entry idx as a mergeable driver does:
 * num_buffers from the first buffer's header, then that many used entries in
 * a row. Returns the bytes gathered (header included) and sets *nbufs. */
static size_t
gather(const struct fake_guest *g, const struct chain_rec *recs, unsigned nrec,
       uint16_t idx, uint8_t *out, size_t cap, uint16_t *nbufs)
{
	struct vring_used_elem u = fg_used_elem(g, idx);
	const struct chain_rec *r = find(recs, nrec, u.id);
	size_t got;

	assert_non_null(r);
	got = read_chain(g, r, u.len, out);
	assert_int_equal(got, u.len);
	assert_true(got >= 12);
	*nbufs = num_buffers(out);
	for (uint16_t k = 1; k < *nbufs; k++) {
		u = fg_used_elem(g, (uint16_t)(idx + k));
		r = find(recs, nrec, u.id);
		assert_non_null(r);
		assert_true(got + u.len <= cap);
		got += read_chain(g, r, u.len, out + got);
	}
	return got;
}

static enum vnet_rx_res
rx(struct fake_guest *g, const struct vnet_rx_fmt *f, uint32_t len)
{
	const struct iovec one = { .iov_base = pkt, .iov_len = len };

	return vnet_rx_packet(g->vq, g->mem, f, 0, &one, 1, len);
}

/* Bytes 1..9 of the header: gso_type, hdr_len, gso_size, csum_*. */
static void
assert_zero_hdr_after_flags(const uint8_t *h)
{
	for (size_t k = 1; k < 10; k++)
		assert_int_equal(h[k], 0);
}

/* Bytes 0..9 of the header: flags, then the rest. */
static void
assert_zero_hdr(const uint8_t *h)
{
	assert_int_equal(h[0], 0);
	assert_zero_hdr_after_flags(h);
}

/* --- features and numbering ------------------------------------------------ */

static void
test_hdr_len(void **state)
{
	static const struct { uint64_t f; uint16_t want; } rows[] = {
		{ 0, 10 },
		{ VIRTIO_BIT(VIRTIO_F_VERSION_1), 12 },
		{ VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 12 },
		{ VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF), 12 },
		{ VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
		  VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT), 10 },
		{ ~(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)), 10 },
		{ UINT64_MAX, 12 },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++)
		assert_int_equal(vnet_hdr_len(rows[k].f), rows[k].want);
}

static void
test_features_offered(void **state)
{
	const uint64_t base = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	                      VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) |
	                      VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	                      VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
	                      VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
	                      VIRTIO_BIT(VIRTIO_NET_F_MAC) |
	                      VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
	                      VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
	                      VIRTIO_BIT(VHOST_F_LOG_ALL) |
	                      VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	                      VIRTIO_BIT(VIRTIO_F_IN_ORDER);

	const struct { struct vnet_offer o; uint64_t want; } rows[] = {
		{ { .mq = false }, base },
		{ { .mq = true }, base | VIRTIO_BIT(VIRTIO_NET_F_MQ) },
		{ { .csum = true }, base | VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
		{ { .guest_csum = true }, base | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
		{ { .mtu = true }, base | VIRTIO_BIT(VIRTIO_NET_F_MTU) },
		{ { .mq = true, .csum = true, .guest_csum = true, .mtu = true },
		  base | VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		  VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_MTU) },
		/* GUEST_TSO only with GUEST_CSUM, GUEST_ECN only with a GUEST_TSO. */
		{ { .guest_tso4 = true, .guest_tso6 = true, .guest_ecn = true }, base },
		{ { .guest_csum = true, .guest_ecn = true },
		  base | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
		{ { .guest_csum = true, .guest_tso4 = true },
		  base | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) },
		{ { .guest_csum = true, .guest_tso6 = true, .guest_ecn = true },
		  base | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |
		  VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) },
		{ { .csum = true, .guest_tso4 = true }, base | VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		uint64_t f = vnet_features_offered(&rows[k].o);

		assert_int_equal(f, rows[k].want);
		/* Nothing we cannot honour: no packed ring, no platform IOMMU. */
		assert_int_equal(f & (VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		                      VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM)), 0);
	}
}

static void
test_features_check(void **state)
{
	const struct vnet_offer mq = { .mq = true }, one = { .mq = false };
	const uint64_t off = vnet_features_offered(&mq);
	const struct { uint64_t offered, acked; int want; } rows[] = {
		{ off, off, -1 },
		{ off, 0, -1 },
		{ off, VIRTIO_BIT(VIRTIO_F_VERSION_1), -1 },
		{ off, off | VIRTIO_BIT(40), 40 },
		{ off, VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(40), VIRTIO_NET_F_CSUM },
		{ off, VIRTIO_BIT(63), 63 },
		{ off, VIRTIO_BIT(VIRTIO_F_RING_PACKED), VIRTIO_F_RING_PACKED },
		{ 0, VIRTIO_BIT(0), 0 },
		{ vnet_features_offered(&one), VIRTIO_BIT(VIRTIO_NET_F_MQ), VIRTIO_NET_F_MQ },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++)
		assert_int_equal(vnet_features_check(rows[k].offered, rows[k].acked),
		                 rows[k].want);
}

static void
test_vqi(void **state)
{
	(void)state;
	assert_int_equal(vnet_vqi(0, VNET_RX), 0);
	assert_int_equal(vnet_vqi(0, VNET_TX), 1);
	assert_int_equal(vnet_vqi(5, VNET_TX), 11);
	assert_int_equal(vnet_vqi(VNET_MAX_QP_SPEC - 1, VNET_TX), 0xffff);
	for (uint32_t vqi = 0; vqi < 64; vqi++)
		assert_int_equal(vnet_vqi(vnet_vqi_qp(vqi), vnet_vqi_dir(vqi)), vqi);
}

/* --- non-mergeable receive ---------------------------------------------------- */

static void
test_rx_plain_hdr12(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[2048];

	r = post1(g, 5, 2048);
	assert_int_equal(rx(g, &fmt12, 100), VNET_RX_OK);
	assert_int_equal(fg_used_idx(g), 0);          /* pushed, not published */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 1);
	assert_int_equal(fg_used_elem(g, 0).id, 5);
	assert_int_equal(fg_used_elem(g, 0).len, 112);
	read_chain(g, &r, sizeof(out), out);
	assert_zero_hdr(out);
	assert_int_equal(num_buffers(out), 1);
	assert_memory_equal(out + 12, pkt, 100);
	assert_int_equal(out[112], FILL);             /* nothing past the packet */
}

static void
test_rx_plain_hdr10(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[256];

	r = post1(g, 0, 256);
	assert_int_equal(rx(g, &fmt10, 60), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_elem(g, 0).len, 70);
	read_chain(g, &r, sizeof(out), out);
	assert_zero_hdr(out);
	assert_memory_equal(out + 10, pkt, 60);       /* no num_buffers field */
	assert_int_equal(out[70], FILL);
}

static void
test_rx_plain_exact_fit(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[112];

	r = post1(g, 1, 112);
	assert_int_equal(rx(g, &fmt12, 100), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_elem(g, 0).len, 112);
	read_chain(g, &r, sizeof(out), out);
	assert_memory_equal(out + 12, pkt, 100);
}

static void
test_rx_header_only(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[16];

	r = post1(g, 1, 16);
	assert_int_equal(rx(g, &fmt12, 0), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_elem(g, 0).len, 12);
	read_chain(g, &r, sizeof(out), out);
	assert_int_equal(num_buffers(out), 1);
	assert_int_equal(out[12], FILL);
}

/* ANY_LAYOUT: the header split across descriptors, num_buffers included. */
static void
test_rx_plain_split_chain(void **state)
{
	static const uint32_t lens[] = { 5, 6, 300 };
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[311];

	r = post(g, 2, lens, 3);
	assert_int_equal(rx(g, &fmt12, 200), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_elem(g, 0).id, 2);
	assert_int_equal(fg_used_elem(g, 0).len, 212);
	read_chain(g, &r, sizeof(out), out);
	assert_zero_hdr(out);
	assert_int_equal(num_buffers(out), 1);
	assert_memory_equal(out + 12, pkt, 200);
	assert_int_equal(out[212], FILL);
}

static void
test_rx_plain_too_big(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[100];

	r = post1(g, 3, 100);
	assert_int_equal(rx(g, &fmt12, 89), VNET_RX_TOO_BIG);   /* needs 101 */
	assert_int_equal(g->vq->last_avail, 0);
	assert_int_equal(g->vq->used_idx, 0);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
	assert_int_equal(vq_avail_count(g->vq), 1);
	read_chain(g, &r, sizeof(out), out);
	assert_int_equal(out[0], FILL);                         /* not written */
	/* The buffer stays for the next packet that fits. */
	assert_int_equal(rx(g, &fmt12, 88), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 1);
	assert_int_equal(fg_used_elem(g, 0).id, 3);
	assert_int_equal(fg_used_elem(g, 0).len, 100);
}

static void
test_rx_empty_queue(void **state)
{
	struct fake_guest *g = *state;

	assert_int_equal(rx(g, &fmt12, 60), VNET_RX_NO_BUF);
	assert_int_equal(rx(g, &mrg, 60), VNET_RX_NO_BUF);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
	assert_false(g->vq->broken);
}

/* A bad chain ahead of a good one is returned with length 0 and skipped. */
static void
test_rx_plain_bad_chain_first(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[128];

	fg_desc(g, 0, 0x10, 128, W, 0);                 /* outside memory */
	fg_avail(g, 0);
	r = post1(g, 1, 128);
	assert_int_equal(rx(g, &fmt12, 50), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 2);
	assert_int_equal(fg_used_elem(g, 0).id, 0);
	assert_int_equal(fg_used_elem(g, 0).len, 0);
	assert_int_equal(fg_used_elem(g, 1).id, 1);
	assert_int_equal(fg_used_elem(g, 1).len, 62);
	assert_int_equal(g->vq->stats.err[VQ_E_ADDR], 1);
	read_chain(g, &r, sizeof(out), out);
	assert_memory_equal(out + 12, pkt, 50);
}

/* A ring of bad chains: one packet skips at most 32 of them and is then
 * dropped, so a guest cannot hold the thread for a whole ring of walks; the
 * next packet goes on past the rest to the good buffer. */
static void
test_rx_bad_chains_bounded(void **state)
{
	struct fake_guest *g = fg_new(64, RX, 0);

	(void)state;
	assert_non_null(g);

	fg_desc(g, 0, 0x10, 128, W, 0);                 /* outside memory */
	for (int k = 0; k < 40; k++)
		fg_avail(g, 0);
	post1(g, 1, 128);
	assert_int_equal(rx(g, &fmt12, 50), VNET_RX_BAD_CHAIN);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 32);
	assert_int_equal(g->vq->stats.err[VQ_E_ADDR], 32);
	assert_int_equal(rx(g, &fmt12, 50), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 41);
	assert_int_equal(fg_used_elem(g, 39).len, 0);
	assert_int_equal(fg_used_elem(g, 40).id, 1);
	assert_int_equal(fg_used_elem(g, 40).len, 62);
	fg_free(g);
}

/* --- mergeable receive ------------------------------------------------------ */

static void
test_rx_mrg_three_buffers(void **state)
{
	/* Chain 0 splits the header at byte 11: num_buffers straddles. */
	static const uint32_t split[] = { 11, 53 };
	struct fake_guest *g = *state;
	struct chain_rec r[3];
	uint8_t out[512];
	uint16_t nb;

	r[0] = post(g, 0, split, 2);
	r[1] = post1(g, 4, 64);
	r[2] = post1(g, 9, 64);
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_OK);   /* 162 bytes */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 3);
	assert_int_equal(fg_used_elem(g, 0).id, 0);
	assert_int_equal(fg_used_elem(g, 0).len, 64);
	assert_int_equal(fg_used_elem(g, 1).id, 4);
	assert_int_equal(fg_used_elem(g, 1).len, 64);
	assert_int_equal(fg_used_elem(g, 2).id, 9);
	assert_int_equal(fg_used_elem(g, 2).len, 34);
	assert_int_equal(gather(g, r, 3, 0, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 3);
	assert_zero_hdr(out);
	assert_memory_equal(out + 12, pkt, 150);
	/* num_buffers' two bytes, as written into each descriptor. */
	read_chain(g, &r[0], sizeof(out), out);
	assert_int_equal(out[10], 3);
	assert_int_equal(out[11], 0);
}

static void
test_rx_mrg_one_buffer(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r[2];
	uint8_t out[2048];
	uint16_t nb;

	r[0] = post1(g, 0, 1536);
	r[1] = post1(g, 1, 1536);
	assert_int_equal(rx(g, &mrg, 1000), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 1);
	assert_int_equal(gather(g, r, 2, 0, out, sizeof(out), &nb), 1012);
	assert_int_equal(nb, 1);
	assert_memory_equal(out + 12, pkt, 1000);
	assert_int_equal(vq_avail_count(g->vq), 1);   /* second buffer untouched */
}

static void
test_rx_mrg_back_to_back(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r[5];
	uint8_t out[512];
	uint16_t nb;

	for (uint16_t k = 0; k < 5; k++)
		r[k] = post1(g, k, 100);
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_OK);   /* 2 buffers */
	assert_int_equal(rx(g, &mrg, 250), VNET_RX_OK);   /* 3 buffers */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 5);
	assert_int_equal(gather(g, r, 5, 0, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 2);
	assert_memory_equal(out + 12, pkt, 150);
	assert_int_equal(gather(g, r, 5, 2, out, sizeof(out), &nb), 262);
	assert_int_equal(nb, 3);
	assert_memory_equal(out + 12, pkt, 250);
}

static void
test_rx_mrg_no_buf_rewinds(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r[3];
	uint8_t out[512];
	uint16_t nb;

	r[0] = post1(g, 0, 64);
	r[1] = post1(g, 1, 64);
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_NO_BUF);  /* needs 3 */
	assert_int_equal(g->vq->last_avail, 0);
	assert_int_equal(g->vq->used_idx, 0);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
	assert_int_equal(vq_avail_count(g->vq), 2);
	/* Once the guest adds a buffer the same packet goes through. */
	r[2] = post1(g, 2, 64);
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 3);
	assert_int_equal(gather(g, r, 3, 0, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 3);
	assert_memory_equal(out + 12, pkt, 150);
}

static void
test_rx_mrg_first_smaller_than_header(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r;
	uint8_t out[8];

	r = post1(g, 0, 11);
	post1(g, 1, 1500);
	assert_int_equal(rx(g, &mrg, 60), VNET_RX_TOO_BIG);
	assert_int_equal(g->vq->last_avail, 0);
	assert_int_equal(g->vq->used_idx, 0);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
	read_chain(g, &r, sizeof(out), out);
	assert_int_equal(out[0], FILL);
}

/* DATA_VALID reaches the guest's header in both shapes (header and frame in
 * one piece; a packet gathered over mergeable buffers), and only the flags
 * byte changes. */
static void
test_rx_data_valid(void **state)
{
	static const uint32_t lens[] = { 20, 9, 30 };
	struct fake_guest *g = *state;
	const struct iovec src[2] = { { pkt, 70 }, { pkt + 70, 80 } };
	struct chain_rec r[3];
	uint8_t out[512];
	uint16_t nb;

	r[0] = post1(g, 0, 1024);
	assert_int_equal(vnet_rx_packet(g->vq, g->mem, &fmt12, VIRTIO_NET_HDR_F_DATA_VALID,
	                                 src, 1, 70), VNET_RX_OK);
	r[1] = post(g, 1, lens, 3);
	r[2] = post1(g, 4, 200);
	assert_int_equal(vnet_rx_packet(g->vq, g->mem, &mrg, VIRTIO_NET_HDR_F_DATA_VALID,
	                                 src, 2, 150), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 3);
	read_chain(g, &r[0], 82, out);
	assert_int_equal(out[0], VIRTIO_NET_HDR_F_DATA_VALID);
	assert_zero_hdr_after_flags(out);
	assert_int_equal(num_buffers(out), 1);
	assert_memory_equal(out + 12, pkt, 70);
	assert_int_equal(gather(g, r, 3, 1, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 2);
	assert_int_equal(out[0], VIRTIO_NET_HDR_F_DATA_VALID);
	assert_zero_hdr_after_flags(out);
	assert_memory_equal(out + 12, pkt, 150);
}

/* A full header (vnet_rx_packet_meta) reaches the guest field by field, in
 * little-endian, in both shapes: a packet that would fit the first piece
 * (which the plain path writes from a constant) and one gathered over
 * mergeable buffers with num_buffers still counted; for a 10-byte header
 * every field but num_buffers. */
static void
test_rx_meta(void **state)
{
	static const uint32_t lens[] = { 20, 9, 30 };
	static const struct vnet_rx_meta meta = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		.hdr_len = 0x0142, .gso_size = 0x05a8, .csum_start = 0x0322, .csum_offset = 0x0410,
	};
	static const uint8_t want[10] = {
		VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		0x42, 0x01, 0xa8, 0x05, 0x22, 0x03, 0x10, 0x04,
	};
	const struct vnet_rx_fmt f10 = { .hdr_len = 10, .guest_csum = true, .tso4 = true,
	                                 .ecn = true };
	struct fake_guest *g = *state;
	const struct iovec src[2] = { { pkt, 70 }, { pkt + 70, 80 } };
	struct chain_rec r[4];
	uint8_t out[512];
	uint16_t nb;

	r[0] = post1(g, 0, 1024);
	assert_int_equal(vnet_rx_packet_meta(g->vq, g->mem, &fmt12, &meta, src, 1, 70),
	                 VNET_RX_OK);
	r[1] = post(g, 1, lens, 3);
	r[2] = post1(g, 4, 200);
	assert_int_equal(vnet_rx_packet_meta(g->vq, g->mem, &mrg, &meta, src, 2, 150),
	                 VNET_RX_OK);
	r[3] = post1(g, 5, 1024);
	assert_int_equal(vnet_rx_packet_meta(g->vq, g->mem, &f10, &meta, src, 2, 150),
	                 VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 4);
	assert_int_equal(fg_used_elem(g, 0).len, 82);
	read_chain(g, &r[0], 82, out);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(num_buffers(out), 1);
	assert_memory_equal(out + 12, pkt, 70);
	assert_int_equal(gather(g, r, 3, 1, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 2);
	assert_memory_equal(out, want, sizeof(want));
	assert_memory_equal(out + 12, pkt, 150);
	assert_int_equal(fg_used_elem(g, 3).len, 160);
	read_chain(g, &r[3], 160, out);
	assert_memory_equal(out, want, sizeof(want));
	assert_memory_equal(out + 10, pkt, 150);
}

/* The packet given as several host pieces, with an empty one. */
static void
test_rx_several_source_iovecs(void **state)
{
	static const uint32_t lens[] = { 20, 9, 30 };
	struct fake_guest *g = *state;
	const struct iovec src[4] = {
		{ pkt, 7 }, { pkt + 7, 0 }, { pkt + 7, 100 }, { pkt + 107, 43 },
	};
	struct chain_rec r[4];
	uint8_t out[512];
	uint16_t nb;

	r[0] = post1(g, 0, 1024);
	assert_int_equal(vnet_rx_packet(g->vq, g->mem, &fmt12, 0, src, 4, 150), VNET_RX_OK);
	/* Mergeable, with destination boundaries unlike the source ones. */
	r[1] = post(g, 1, lens, 3);
	r[2] = post1(g, 4, 40);
	r[3] = post1(g, 5, 64);
	assert_int_equal(vnet_rx_packet(g->vq, g->mem, &mrg, 0, src, 4, 150), VNET_RX_OK);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 4);
	assert_int_equal(fg_used_elem(g, 0).len, 162);
	read_chain(g, &r[0], 162, out);
	assert_memory_equal(out + 12, pkt, 150);
	assert_int_equal(gather(g, r, 4, 1, out, sizeof(out), &nb), 162);
	assert_int_equal(nb, 3);
	assert_int_equal(fg_used_elem(g, 1).len, 59);
	assert_int_equal(fg_used_elem(g, 2).len, 40);
	assert_int_equal(fg_used_elem(g, 3).len, 63);
	assert_memory_equal(out + 12, pkt, 150);
}

static void
test_rx_broken_queue(void **state)
{
	struct fake_guest *g = *state;

	post1(g, 0, 2048);
	fg_set_avail_idx(g, 100);                      /* jumps by more than 16 */
	assert_int_equal(rx(g, &fmt12, 60), VNET_RX_BROKEN);
	assert_true(g->vq->broken);
	assert_int_equal(g->vq->stats.err[VQ_E_AVAIL_JUMP], 1);
	assert_int_equal(rx(g, &mrg, 60), VNET_RX_BROKEN);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
}

/* The ring turns bad while a mergeable packet is half written. */
static void
test_rx_mrg_broken_midway(void **state)
{
	struct fake_guest *g = *state;

	post1(g, 0, 64);
	fg_avail(g, 0x4000);                           /* head out of range */
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_BROKEN);
	assert_true(g->vq->broken);
	assert_int_equal(g->vq->stats.err[VQ_E_HEAD_RANGE], 1);
	assert_int_equal(g->vq->used_idx, 0);          /* first buffer taken back */
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 0);
}

/* A bad chain between the buffers of one mergeable packet. The driver reads
 * num_buffers consecutive used entries as the packet, so whatever the device
 * does with the bad chain, those entries must hold exactly the packet and
 * nothing may follow them. */
static void
test_rx_mrg_bad_chain_in_middle(void **state)
{
	struct fake_guest *g = *state;
	struct chain_rec r[2];
	uint8_t out[512];
	uint16_t nb;
	size_t got;

	post1(g, 0, 64);
	fg_desc(g, 1, 0x10, 64, W, 0);                 /* outside memory */
	fg_avail(g, 1);
	r[0] = post1(g, 2, 64);
	r[1] = post1(g, 3, 64);
	/* The bad chain cuts the packet's run of buffers: the packet is dropped
	 * and both buffers it took come back empty, in ring order. */
	assert_int_equal(rx(g, &mrg, 150), VNET_RX_BAD_CHAIN);
	assert_int_equal(g->vq->stats.err[VQ_E_ADDR], 1);
	vq_publish(g->vq);
	assert_int_equal(fg_used_idx(g), 2);
	assert_int_equal(fg_used_elem(g, 0).id, 0);
	assert_int_equal(fg_used_elem(g, 0).len, 0);
	assert_int_equal(fg_used_elem(g, 1).id, 1);
	assert_int_equal(fg_used_elem(g, 1).len, 0);
	/* The next packet starts cleanly in the buffers after it. */
	assert_int_equal(rx(g, &mrg, 100), VNET_RX_OK);
	vq_publish(g->vq);
	got = gather(g, r, 2, 2, out, sizeof(out), &nb);
	assert_int_equal(nb, 2);
	assert_int_equal(fg_used_idx(g), 4);
	assert_int_equal(got, 112);
	assert_memory_equal(out + 12, pkt, 100);
}

/* No usable buffer behind a bad chain: the packet waits, but the bad chain is
 * still a single violation, counted once however often the packet is retried. */
static void
test_rx_bad_chain_counted_once(void **state)
{
	struct fake_guest *g = *state;

	fg_desc(g, 0, 0x10, 64, W, 0);
	fg_avail(g, 0);
	assert_int_equal(rx(g, &fmt12, 60), VNET_RX_NO_BUF);
	assert_int_equal(rx(g, &fmt12, 60), VNET_RX_NO_BUF);
	assert_int_equal(rx(g, &fmt12, 60), VNET_RX_NO_BUF);
	assert_int_equal(g->vq->stats.err[VQ_E_ADDR], 1);
}

/* --- burst receive: vnet_rx_bufs() ------------------------------------------ */

#define PACKED VIRTIO_BIT(VIRTIO_F_RING_PACKED)

/* An RX ring of size entries, split or packed (from descriptor 0, wrap
 * counter 1). */
static struct fake_guest *
rx_ring(uint32_t size, bool packed)
{
	const struct fg_opts o = { .qsize = size, .dir = RX, .features = packed ? PACKED : 0,
	                           .start_idx = packed ? 0x8000 : 0 };
	struct fake_guest *g = fg_new_opts(&o);

	assert_non_null(g);
	return g;
}

/* post() for either layout: a packed ring takes the chain at its next
 * descriptors, under id head. */
static struct chain_rec
post_any(struct fake_guest *g, uint16_t head, const uint32_t *lens, unsigned n)
{
	struct chain_rec r = { .head = head, .n = n };
	struct fg_pk_elem e[MAX_DESCS];

	if (!g->vq->packed)
		return post(g, head, lens, n);
	for (unsigned k = 0; k < n; k++) {
		r.gpa[k] = fg_alloc(g, lens[k], 16);
		r.len[k] = lens[k];
		if (fg_fill(g, r.gpa[k], FILL, lens[k]) != 0)
			abort();
		e[k] = (struct fg_pk_elem){ r.gpa[k], lens[k], W };
	}
	fg_pk_post(g, e, n, head);
	return r;
}

static struct chain_rec
post1_any(struct fake_guest *g, uint16_t head, uint32_t len)
{
	return post_any(g, head, &len, 1);
}

static uint16_t
rx_burst(struct fake_guest *g, const struct vnet_rx_fmt *f, const struct vnet_rx_frame *fr,
         uint16_t n)
{
	return g->vq->packed ? vnet_rx_bufs_packed(g->vq, g->mem, f, fr, n)
	                     : vnet_rx_bufs(g->vq, g->mem, f, fr, n);
}

/* The next used entry the driver sees (*next counts them, split) is buffer
 * id with len bytes written. */
static void
expect_used_any(struct fake_guest *g, uint16_t *next, uint16_t id, uint32_t len)
{
	if (g->vq->packed) {
		uint16_t got_id, flags;
		uint32_t got_len;

		assert_true(fg_pk_used(g, &got_id, &got_len, &flags));
		assert_int_equal(got_id, id);
		assert_int_equal(got_len, len);
	} else {
		assert_int_not_equal(fg_used_idx(g), *next);
		assert_int_equal(fg_used_elem(g, *next).id, id);
		assert_int_equal(fg_used_elem(g, *next).len, len);
	}
	(*next)++;
}

static void
expect_no_used_any(struct fake_guest *g, uint16_t next)
{
	uint16_t id, flags;
	uint32_t len;

	if (g->vq->packed)
		assert_false(fg_pk_used(g, &id, &len, &flags));
	else
		assert_int_equal(fg_used_idx(g), next);
}

/* Frames into one-descriptor buffers, both layouts, both header lengths:
 * each buffer holds the header, all zero but its flags (and num_buffers 1
 * in a 12-byte one), then the frame, and nothing after (the last buffer
 * holds them exactly); the used lengths are header + frame, in order, and
 * only a publish shows them. */
static void
test_rx_bufs_frames(void **state)
{
	static const struct vnet_rx_frame f[] = {
		{ pkt, 60, 0 }, { pkt + 100, 1000, VIRTIO_NET_HDR_F_DATA_VALID }, { pkt + 7, 1, 0 },
	};
	static const struct vnet_rx_fmt *const fmts[] = { &fmt10, &fmt12 };

	(void)state;
	for (int packed = 0; packed < 2; packed++) {
		for (size_t j = 0; j < ARRAY_SIZE(fmts); j++) {
			const struct vnet_rx_fmt *fmt = fmts[j];
			struct fake_guest *g = rx_ring(16, packed);
			struct chain_rec r[ARRAY_SIZE(f)];
			uint8_t out[1100];
			uint16_t next = 0;

			for (uint16_t k = 0; k < ARRAY_SIZE(f); k++)
				r[k] = post1_any(g, (uint16_t)(2 + 3 * k),
				                 k + 1u < ARRAY_SIZE(f) ? (uint32_t)sizeof(out)
				                                        : fmt->hdr_len + f[k].len);
			assert_int_equal(rx_burst(g, fmt, f, ARRAY_SIZE(f)), ARRAY_SIZE(f));
			expect_no_used_any(g, 0);             /* pushed, not published */
			assert_true(vq_publish(g->vq));
			for (size_t k = 0; k < ARRAY_SIZE(f); k++) {
				expect_used_any(g, &next, r[k].head, fmt->hdr_len + f[k].len);
				read_chain(g, &r[k], sizeof(out), out);
				assert_int_equal(out[0], f[k].hdr_flags);
				assert_zero_hdr_after_flags(out);
				if (fmt->hdr_len == 12)
					assert_int_equal(num_buffers(out), 1);
				assert_memory_equal(out + fmt->hdr_len, f[k].data, f[k].len);
				if (r[k].len[0] > fmt->hdr_len + f[k].len)
					assert_int_equal(out[fmt->hdr_len + f[k].len], FILL);
			}
			expect_no_used_any(g, next);
			fg_free(g);
		}
	}
}

/* A frame its buffer cannot hold whole ends the burst: the frames before
 * it go in, that buffer stays unwritten and available, and
 * vnet_rx_packet() takes over. Not mergeable, it refuses the frame and the
 * buffer waits for a smaller one; mergeable, it spreads the frame over that
 * buffer and the next (num_buffers 2). Both layouts. */
static void
test_rx_bufs_small_buffer(void **state)
{
	static const struct vnet_rx_frame f[] = { { pkt, 60, 0 }, { pkt, 150, 0 }, { pkt, 60, 0 } };
	static const struct vnet_rx_fmt *const fmts[] = { &fmt12, &mrg };
	const struct iovec big = { pkt, 150 };

	(void)state;
	for (int packed = 0; packed < 2; packed++) {
		for (size_t j = 0; j < ARRAY_SIZE(fmts); j++) {
			const struct vnet_rx_fmt *fmt = fmts[j];
			struct fake_guest *g = rx_ring(16, packed);
			struct chain_rec r[3];
			uint8_t out[256];
			uint16_t next = 0;

			r[0] = post1_any(g, 1, 256);
			r[1] = post1_any(g, 2, 161);          /* one short of 12 + 150 */
			r[2] = post1_any(g, 3, 256);
			assert_int_equal(rx_burst(g, fmt, f, ARRAY_SIZE(f)), 1);
			assert_int_equal(g->vq->last_avail, 1);
			read_chain(g, &r[1], sizeof(out), out);
			assert_int_equal(out[0], FILL);
			if (fmt->mrg_rxbuf) {
				assert_int_equal(vnet_rx_packet_any(g->vq, g->mem, fmt, 0, &big, 1, 150),
				                 VNET_RX_OK);
				vq_publish(g->vq);
				expect_used_any(g, &next, 1, 72);
				expect_used_any(g, &next, 2, 161);
				expect_used_any(g, &next, 3, 1);
				read_chain(g, &r[1], 161, out);
				read_chain(g, &r[2], 1, out + 161);
				assert_zero_hdr(out);
				assert_int_equal(num_buffers(out), 2);
				assert_memory_equal(out + 12, pkt, 150);
			} else {
				assert_int_equal(vnet_rx_packet_any(g->vq, g->mem, fmt, 0, &big, 1, 150),
				                 VNET_RX_TOO_BIG);
				assert_int_equal(rx_burst(g, fmt, &f[2], 1), 1);
				vq_publish(g->vq);
				expect_used_any(g, &next, 1, 72);
				expect_used_any(g, &next, 2, 72);
			}
			expect_no_used_any(g, next);
			fg_free(g);
		}
	}
}

/* A chain of another shape (two descriptors) ends the burst in front of
 * it, untouched, for vnet_rx_packet(); a burst with fewer buffers than
 * frames delivers what they hold and leaves the rest. Both layouts. */
static void
test_rx_bufs_other_shape_and_run_out(void **state)
{
	static const uint32_t two[] = { 6, 250 };
	static const struct vnet_rx_frame f[] = { { pkt, 60, 0 }, { pkt, 60, 0 }, { pkt, 60, 0 } };
	const struct iovec one = { pkt, 60 };

	(void)state;
	for (int packed = 0; packed < 2; packed++) {
		struct fake_guest *g = rx_ring(16, packed);
		struct chain_rec r;
		uint8_t out[72];
		uint16_t next = 0;

		post1_any(g, 0, 256);
		r = post_any(g, 4, two, 2);
		post1_any(g, 8, 256);
		assert_int_equal(rx_burst(g, &fmt12, f, 3), 1);
		read_chain(g, &r, sizeof(out), out);
		assert_int_equal(out[0], FILL);
		assert_int_equal(vnet_rx_packet_any(g->vq, g->mem, &fmt12, 0, &one, 1, 60), VNET_RX_OK);
		assert_int_equal(rx_burst(g, &fmt12, f, 3), 1);
		assert_int_equal(rx_burst(g, &fmt12, f, 3), 0);
		vq_publish(g->vq);
		expect_used_any(g, &next, 0, 72);
		expect_used_any(g, &next, 4, 72);
		expect_used_any(g, &next, 8, 72);
		expect_no_used_any(g, next);
		read_chain(g, &r, sizeof(out), out);
		assert_zero_hdr(out);
		assert_memory_equal(out + 12, pkt, 60);
		fg_free(g);
	}
}

/* A burst takes at most VNET_RX_BURST_MAX frames, however many it is
 * given; the next one takes the rest. */
static void
test_rx_bufs_burst_cap(void **state)
{
	static struct vnet_rx_frame f[VNET_RX_BURST_MAX + 6];

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(f); k++)
		f[k] = (struct vnet_rx_frame){ pkt, 60, 0 };
	for (int packed = 0; packed < 2; packed++) {
		struct fake_guest *g = rx_ring(128, packed);

		for (uint16_t k = 0; k < ARRAY_SIZE(f); k++)
			post1_any(g, k, 128);
		assert_int_equal(rx_burst(g, &fmt12, f, ARRAY_SIZE(f)), VNET_RX_BURST_MAX);
		assert_int_equal(g->vq->last_avail, VNET_RX_BURST_MAX);
		assert_int_equal(rx_burst(g, &fmt12, f, ARRAY_SIZE(f)), 6);
		fg_free(g);
	}
}

/* Per-test guest: an RX queue of 16 with no features. Freed by the teardown
 * even when an assertion fails, so a failure is not also reported as a leak. */
/* --- guest TX: the net-header gate ----------------------------------------- */

#define CSUM   VIRTIO_NET_HDR_F_NEEDS_CSUM
#define VALID  VIRTIO_NET_HDR_F_DATA_VALID
#define RSC    VIRTIO_NET_HDR_F_RSC_INFO
#define ECN    VIRTIO_NET_HDR_GSO_ECN

/* One class of flags/gso_type pair: no offload is negotiated, so anything
 * but zeros is refused, with the first reason in the gate's order (flags a
 * driver never sends, checksum, undefined gso_type, GSO, ECN). */
struct tx_hdr_row {
	const char *name;
	uint8_t flags, gso_type;
	enum vnet_tx_verdict want;
};

static const struct tx_hdr_row tx_hdr_rows[] = {
	{ "plain frame", 0, VIRTIO_NET_HDR_GSO_NONE, VNET_TX_OK },
	/* flags alone */
	{ "NEEDS_CSUM", CSUM, 0, VNET_TX_CSUM },
	{ "DATA_VALID (RX only)", VALID, 0, VNET_TX_FLAGS },
	{ "RSC_INFO (RX only)", RSC, 0, VNET_TX_FLAGS },
	{ "undefined flag 0x08", 0x08, 0, VNET_TX_FLAGS },
	{ "undefined flag 0x80", 0x80, 0, VNET_TX_FLAGS },
	{ "every flag", 0xff, 0, VNET_TX_FLAGS },
	{ "NEEDS_CSUM and DATA_VALID", CSUM | VALID, 0, VNET_TX_FLAGS },
	/* gso_type alone */
	{ "GSO_TCPV4", 0, VIRTIO_NET_HDR_GSO_TCPV4, VNET_TX_GSO },
	{ "GSO_UDP", 0, VIRTIO_NET_HDR_GSO_UDP, VNET_TX_GSO },
	{ "GSO_TCPV6", 0, VIRTIO_NET_HDR_GSO_TCPV6, VNET_TX_GSO },
	{ "GSO_UDP_L4", 0, VIRTIO_NET_HDR_GSO_UDP_L4, VNET_TX_GSO },
	{ "undefined gso_type 2", 0, 2, VNET_TX_GSO_TYPE },
	{ "undefined gso_type 6", 0, 6, VNET_TX_GSO_TYPE },
	{ "undefined gso_type 0x7f", 0, 0x7f, VNET_TX_GSO_TYPE },
	{ "ECN alone", 0, ECN, VNET_TX_ECN },
	{ "ECN with TCPV4", 0, ECN | VIRTIO_NET_HDR_GSO_TCPV4, VNET_TX_GSO },
	{ "ECN with TCPV6", 0, ECN | VIRTIO_NET_HDR_GSO_TCPV6, VNET_TX_GSO },
	{ "ECN with undefined type 2", 0, ECN | 2, VNET_TX_GSO_TYPE },
	{ "gso_type 0xff", 0, 0xff, VNET_TX_GSO_TYPE },
	/* both: flags are judged first */
	{ "NEEDS_CSUM with TCPV4 (a TSO frame)", CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VNET_TX_CSUM },
	{ "NEEDS_CSUM with UDP_L4", CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, VNET_TX_CSUM },
	{ "NEEDS_CSUM with ECN", CSUM, ECN, VNET_TX_CSUM },
	{ "NEEDS_CSUM with undefined gso_type", CSUM, 2, VNET_TX_CSUM },
	{ "DATA_VALID with TCPV6", VALID, VIRTIO_NET_HDR_GSO_TCPV6, VNET_TX_FLAGS },
	{ "RSC_INFO with ECN", RSC, ECN, VNET_TX_FLAGS },
	{ "every bit of both", 0xff, 0xff, VNET_TX_FLAGS },
};

/* How the driver laid the header out: cut is where the first piece ends
 * (0: the header and frame in one piece); hdr_len 10 (legacy) or 12. */
struct tx_layout {
	const char *name;
	uint16_t hdr_len;
	uint32_t cut[3];                     /* piece lengths before the last one */
	unsigned ncut;
};

static const struct tx_layout tx_layouts[] = {
	{ "one piece, 12-byte header", 12, { 0 }, 0 },
	{ "one piece, 10-byte header", 10, { 0 }, 0 },
	{ "header in a piece of its own", 12, { 12 }, 1 },
	{ "flags and gso_type in different pieces", 12, { 1 }, 1 },
	{ "one byte, one byte, then the rest (legacy)", 10, { 1, 1 }, 2 },
	{ "two-byte first piece", 12, { 2, 10 }, 2 },
};

/* A chain of exact-size test_malloc'd pieces holding the header (flags,
 * gso_type, then zeros) and frame_len frame bytes. */
static void
tx_chain(struct vq_chain *c, const struct tx_layout *l, uint8_t flags, uint8_t gso_type,
         uint32_t frame_len)
{
	uint64_t total = (uint64_t)l->hdr_len + frame_len, at = 0;

	*c = (struct vq_chain){ .head = 0 };
	for (unsigned k = 0; at < total; k++) {
		uint64_t len = k < l->ncut ? l->cut[k] : total - at;
		uint8_t *p;

		if (len > total - at)
			len = total - at;
		p = test_malloc(len);
		for (uint64_t b = 0; b < len; b++)
			p[b] = at + b == 0 ? flags : at + b == 1 ? gso_type
			       : at + b < l->hdr_len ? 0 : (uint8_t)(at + b);
		c->seg[k] = (struct iovec){ p, len };
		c->n_out++;
		at += len;
	}
	c->out_len = total;
}

static void
tx_chain_free(struct vq_chain *c)
{
	for (unsigned k = 0; k < c->n_out; k++)
		test_free(c->seg[k].iov_base);
}

static void
test_tx_hdr_classes(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(tx_hdr_rows); k++) {
		const struct tx_hdr_row *r = &tx_hdr_rows[k];

		for (size_t j = 0; j < ARRAY_SIZE(tx_layouts); j++) {
			const struct tx_layout *l = &tx_layouts[j];
			const struct vnet_tx_fmt fmt = { .hdr_len = l->hdr_len,
			                                 .max_frame = VNET_MAX_FRAME };
			struct vnet_tx_req req;
			struct vq_chain c;
			enum vnet_tx_verdict got;

			tx_chain(&c, l, r->flags, r->gso_type, 60);
			got = vnet_tx_check(&fmt, &c, &req);
			if (got != r->want)
				fail_msg("%s, %s: verdict %d (%s), want %d", r->name, l->name,
				         got, vnet_tx_strerror(got), r->want);
			tx_chain_free(&c);
		}
	}
}

/* Every one of the 65536 flags/gso_type pairs: zero passes, nothing else
 * does, and each verdict names a rule the pair really breaks. */
static void
test_tx_hdr_every_pair(void **state)
{
	const struct vnet_tx_fmt fmt = { .hdr_len = 12, .max_frame = VNET_MAX_FRAME };
	unsigned seen[VNET_TX_VERDICT_COUNT] = { 0 };
	struct vnet_tx_req req;

	(void)state;
	for (unsigned v = 0; v < 0x10000; v++) {
		uint8_t hdr[12 + 1] = { (uint8_t)v, (uint8_t)(v >> 8) };
		uint8_t type = (uint8_t)(hdr[1] & ~ECN);
		struct vq_chain c = { .n_out = 1, .out_len = sizeof(hdr),
		                      .seg = { { hdr, sizeof(hdr) } } };
		enum vnet_tx_verdict got = vnet_tx_check(&fmt, &c, &req);
		bool known_gso = type == 0 || type == VIRTIO_NET_HDR_GSO_TCPV4 ||
		                 type == VIRTIO_NET_HDR_GSO_UDP ||
		                 type == VIRTIO_NET_HDR_GSO_TCPV6 ||
		                 type == VIRTIO_NET_HDR_GSO_UDP_L4;

		assert_in_range(got, VNET_TX_OK, VNET_TX_VERDICT_COUNT - 1);
		seen[got]++;
		assert_int_equal(got == VNET_TX_OK, v == 0);
		assert_int_equal(got == VNET_TX_FLAGS, (hdr[0] & ~CSUM) != 0);
		assert_int_equal(got == VNET_TX_CSUM, hdr[0] == CSUM);
		if (hdr[0] == 0) {
			assert_int_equal(got == VNET_TX_GSO_TYPE, !known_gso);
			assert_int_equal(got == VNET_TX_GSO, known_gso && type != 0);
			assert_int_equal(got == VNET_TX_ECN, hdr[1] == ECN);
		}
	}
	assert_int_equal(seen[VNET_TX_RUNT] + seen[VNET_TX_TOO_BIG], 0);
	assert_int_equal(seen[VNET_TX_OK], 1);
	assert_int_equal(seen[VNET_TX_ECN], 1);
	assert_int_equal(seen[VNET_TX_GSO], 4 * 2);    /* 4 types, with or without ECN */
	assert_int_equal(seen[VNET_TX_CSUM], 256);     /* NEEDS_CSUM with any gso_type */
}

/* Lengths come first: a runt or oversized frame is refused for its length
 * whatever its header asks, and the gate reads nothing of a runt shorter
 * than two bytes. */
static void
test_tx_lengths(void **state)
{
	static const struct {
		const char *name;
		uint16_t hdr_len;
		uint32_t frame_len;              /* bytes after the header */
		bool short_by_hdr;               /* no header: frame_len bytes in all */
		uint8_t gso_type;
		enum vnet_tx_verdict want;
	} rows[] = {
		{ "empty chain", 12, 0, true, 0, VNET_TX_RUNT },
		{ "one byte", 12, 1, true, 0, VNET_TX_RUNT },
		{ "five bytes", 12, 5, true, 0, VNET_TX_RUNT },
		{ "header minus one", 12, 11, true, 0, VNET_TX_RUNT },
		{ "header only (12)", 12, 0, false, 0, VNET_TX_RUNT },
		{ "header only (10)", 10, 0, false, 0, VNET_TX_RUNT },
		{ "header only, asks for GSO", 12, 0, false, VIRTIO_NET_HDR_GSO_TCPV4,
		  VNET_TX_RUNT },
		{ "header and one byte", 12, 1, false, 0, VNET_TX_OK },
		{ "header and one byte, asks for GSO", 12, 1, false, VIRTIO_NET_HDR_GSO_TCPV4,
		  VNET_TX_GSO },
		{ "header and one byte (legacy header)", 10, 1, false, 0, VNET_TX_OK },
		{ "VNET_MAX_FRAME", 12, VNET_MAX_FRAME, false, 0, VNET_TX_OK },
		{ "VNET_MAX_FRAME (legacy header)", 10, VNET_MAX_FRAME, false, 0, VNET_TX_OK },
		{ "VNET_MAX_FRAME + 1", 12, VNET_MAX_FRAME + 1, false, 0, VNET_TX_TOO_BIG },
		{ "VNET_MAX_FRAME + 1 (legacy header)", 10, VNET_MAX_FRAME + 1, false, 0,
		  VNET_TX_TOO_BIG },
		{ "VNET_MAX_FRAME + 1, asks for GSO", 12, VNET_MAX_FRAME + 1, false,
		  VIRTIO_NET_HDR_GSO_TCPV4, VNET_TX_TOO_BIG },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct vnet_tx_fmt fmt = { .hdr_len = rows[k].hdr_len,
		                                 .max_frame = VNET_MAX_FRAME };
		struct tx_layout l = { rows[k].name, rows[k].hdr_len, { 1 }, 1 };
		struct vnet_tx_req req;
		struct vq_chain c;
		enum vnet_tx_verdict got;

		if (rows[k].short_by_hdr)
			l.hdr_len = 0;           /* the chain is frame_len bytes in all */
		tx_chain(&c, &l, 0, rows[k].gso_type, rows[k].frame_len);
		got = vnet_tx_check(&fmt, &c, &req);
		if (got != rows[k].want)
			fail_msg("%s: verdict %d (%s), want %d", rows[k].name, got,
			         vnet_tx_strerror(got), rows[k].want);
		tx_chain_free(&c);
	}
}

/* A NEEDS_CSUM chain: tx_chain's header with csum_start and csum_offset
 * written in (little-endian), wherever the layout cut the pieces. */
static void
tx_chain_csum(struct vq_chain *c, const struct tx_layout *l, uint8_t gso_type,
              uint16_t start, uint16_t offset, uint32_t frame_len)
{
	const uint16_t le[2] = { htole16(start), htole16(offset) };
	struct iov_cursor dst;

	tx_chain(c, l, CSUM, gso_type, frame_len);
	dst = iov_cursor(c->seg, c->n_out);
	iov_skip(&dst, offsetof(struct virtio_net_hdr, csum_start));
	assert_int_equal(iov_write(&dst, le, sizeof(le)), sizeof(le));
}

/* CSUM negotiated: NEEDS_CSUM is accepted when the checksum field lies
 * inside the frame, in every header layout, and req says where; anything
 * else the header asks is judged as without CSUM. */
static void
test_tx_csum(void **state)
{
	static const struct {
		const char *name;
		uint8_t gso_type;
		uint16_t start, offset;
		uint32_t frame_len;
		enum vnet_tx_verdict want;
	} rows[] = {
		{ "TCP over IPv4", 0, 34, 16, 60, VNET_TX_OK },
		{ "UDP over IPv6", 0, 54, 6, 62, VNET_TX_OK },
		{ "field ends at the frame's end", 0, 40, 18, 60, VNET_TX_OK },
		{ "from the first byte", 0, 0, 0, 60, VNET_TX_OK },
		{ "field one byte past the end", 0, 40, 19, 60, VNET_TX_CSUM_RANGE },
		{ "csum_start past the end", 0, 61, 0, 60, VNET_TX_CSUM_RANGE },
		{ "both at 0xffff (no wrap)", 0, 0xffff, 0xffff, 60, VNET_TX_CSUM_RANGE },
		{ "with GSO, not offered", VIRTIO_NET_HDR_GSO_TCPV4, 34, 16, 60, VNET_TX_GSO },
		{ "with ECN alone", ECN, 34, 16, 60, VNET_TX_ECN },
		{ "with an undefined gso_type", 2, 34, 16, 60, VNET_TX_GSO_TYPE },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		for (size_t j = 0; j < ARRAY_SIZE(tx_layouts); j++) {
			const struct tx_layout *l = &tx_layouts[j];
			const struct vnet_tx_fmt fmt = { .hdr_len = l->hdr_len, .csum = true,
			                                 .max_frame = VNET_MAX_FRAME };
			struct vnet_tx_req req = { .csum = true };
			struct vq_chain c;
			enum vnet_tx_verdict got;

			tx_chain_csum(&c, l, rows[k].gso_type, rows[k].start, rows[k].offset,
			              rows[k].frame_len);
			got = vnet_tx_check(&fmt, &c, &req);
			if (got != rows[k].want)
				fail_msg("%s, %s: verdict %d (%s), want %d", rows[k].name, l->name,
				         got, vnet_tx_strerror(got), rows[k].want);
			assert_int_equal(req.csum, got == VNET_TX_OK);
			if (got == VNET_TX_OK) {
				assert_int_equal(req.csum_start, rows[k].start);
				assert_int_equal(req.csum_offset, rows[k].offset);
			}
			tx_chain_free(&c);
		}
	}
}

/* TSO: a chain holding a net header with NEEDS_CSUM, gso_type, gso_size,
 * csum_start and csum_offset, then frame bytes f, cut as layout l does. */
static void
tx_chain_tso(struct vq_chain *c, const struct tx_layout *l, uint8_t flags, uint8_t gso_type,
             uint16_t gso_size, uint16_t start, uint16_t offset, const uint8_t *f,
             uint32_t len)
{
	const uint16_t le[3] = { htole16(gso_size), htole16(start), htole16(offset) };
	struct iov_cursor dst;

	tx_chain(c, l, flags, gso_type, len);
	dst = iov_cursor(c->seg, c->n_out);
	iov_skip(&dst, offsetof(struct virtio_net_hdr, gso_size));
	assert_int_equal(iov_write(&dst, le, sizeof(le)), sizeof(le));
	dst = iov_cursor(c->seg, c->n_out);
	iov_skip(&dst, l->hdr_len);
	assert_int_equal(iov_write(&dst, f, len), len);
}

/* Frame edits for the TSO rows: each breaks one thing the gate checks. */
enum tso_edit { TE_NONE, TE_PROTO_UDP, TE_FRAGMENT, TE_IPV6_EXT, TE_DOFF_4, TE_ETHERTYPE };

static void
tso_edit(uint8_t *f, uint16_t l3, uint16_t l4, int ip, enum tso_edit e)
{
	switch (e) {
	case TE_NONE:
		break;
	case TE_PROTO_UDP:
		f[l3 + (ip == 4 ? 9 : 6)] = 17;
		break;
	case TE_FRAGMENT:
		f[l3 + 6] = 0x20;                /* MF */
		break;
	case TE_IPV6_EXT:
		f[l3 + 6] = 0;                   /* hop-by-hop options */
		break;
	case TE_DOFF_4:
		f[l4 + 12] = 4 << 4;
		break;
	case TE_ETHERTYPE:
		f[l3 - 2] = 0x88;
		break;
	}
}

/* Ethernet, IPv4 and TCP with the rows' 12 bytes of options. */
#define TCP4_HDRS (14 + 20 + 20 + 12)

/* HOST_TSO4/6 negotiated: a TSO frame passes when its own headers are TCP
 * over the IP version gso_type names, csum_start is its TCP header, and its
 * segments fit the MTU (the frame itself may be far above it, up to
 * VNET_MAX_FRAME); req then carries the offsets. Every header layout. */
static void
test_tx_tso(void **state)
{
	static const struct {
		const char *name;
		int ip;
		bool vlan;
		uint8_t gso_type, flags;
		uint16_t gso_size;
		uint32_t payload;
		enum tso_edit edit;
		int start_delta, offset;         /* csum_start = l4 + delta */
		bool ecn_ok;
		enum vnet_tx_verdict want;
	} rows[] = {
		{ "TCPv4, 64 KiB", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 65000, TE_NONE,
		  0, 16, false, VNET_TX_OK },
		{ "TCPv6", 6, false, VIRTIO_NET_HDR_GSO_TCPV6, CSUM, 1428, 30000, TE_NONE, 0, 16,
		  false, VNET_TX_OK },
		{ "TCPv4 behind a VLAN tag", 4, true, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_NONE, 0, 16, false, VNET_TX_OK },
		{ "one segment", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 100, TE_NONE, 0,
		  16, false, VNET_TX_OK },
		{ "ECN, negotiated", 4, false, VIRTIO_NET_HDR_GSO_TCPV4 | ECN, CSUM, 1448, 9000,
		  TE_NONE, 0, 16, true, VNET_TX_OK },
		{ "ECN, not negotiated", 4, false, VIRTIO_NET_HDR_GSO_TCPV4 | ECN, CSUM, 1448, 9000,
		  TE_NONE, 0, 16, false, VNET_TX_ECN },
		{ "no NEEDS_CSUM", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, 0, 1448, 9000, TE_NONE, 0,
		  16, false, VNET_TX_TSO_CSUM },
		{ "TCPV4 on an IPv6 frame", 6, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1428, 9000,
		  TE_NONE, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "TCPV6 on an IPv4 frame", 4, false, VIRTIO_NET_HDR_GSO_TCPV6, CSUM, 1448, 9000,
		  TE_NONE, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "UDP, not TCP (v4)", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_PROTO_UDP, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "UDP, not TCP (v6)", 6, false, VIRTIO_NET_HDR_GSO_TCPV6, CSUM, 1428, 9000,
		  TE_PROTO_UDP, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "an IPv4 fragment", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_FRAGMENT, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "IPv6 extension header", 6, false, VIRTIO_NET_HDR_GSO_TCPV6, CSUM, 1428, 9000,
		  TE_IPV6_EXT, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "TCP data offset 4", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_DOFF_4, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "not IP at all", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_ETHERTYPE, 0, 16, false, VNET_TX_TSO_FRAME },
		{ "csum_start not the TCP header", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448,
		  9000, TE_NONE, 2, 16, false, VNET_TX_TSO_FRAME },
		{ "csum_offset not TCP's", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 9000,
		  TE_NONE, 0, 6, false, VNET_TX_TSO_FRAME },
		{ "gso_size 0", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 0, 9000, TE_NONE, 0, 16,
		  false, VNET_TX_TSO_SIZE },
		{ "segments above the MTU", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1461, 9000,
		  TE_NONE, 0, 16, false, VNET_TX_TSO_SIZE },
		{ "65 segments", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1000, 64001, TE_NONE, 0,
		  16, false, VNET_TX_TSO_SIZE },
		{ "no payload", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448, 0, TE_NONE, 0, 16,
		  false, VNET_TX_TSO_SIZE },
		{ "VNET_MAX_FRAME in all", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448,
		  VNET_MAX_FRAME - TCP4_HDRS, TE_NONE, 0, 16, false, VNET_TX_OK },
		{ "VNET_MAX_FRAME + 1 in all", 4, false, VIRTIO_NET_HDR_GSO_TCPV4, CSUM, 1448,
		  VNET_MAX_FRAME + 1 - TCP4_HDRS, TE_NONE, 0, 16, false, VNET_TX_TOO_BIG },
	};
	static uint8_t f[VNET_MAX_FRAME + 1];

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct tcp_frame_opts o = { .ip = rows[k].ip, .vlan = rows[k].vlan,
		                                  .tcp_opt_len = 12, .payload = rows[k].payload,
		                                  .flags = 0x10 };
		uint16_t l3, l4, l4_len;
		size_t len = tcp_frame(f, sizeof(f), &o, &l3, &l4, &l4_len);

		assert_true(len > 0);
		tso_edit(f, l3, l4, rows[k].ip, rows[k].edit);
		for (size_t j = 0; j < ARRAY_SIZE(tx_layouts); j++) {
			const struct tx_layout *l = &tx_layouts[j];
			const struct vnet_tx_fmt fmt = { .hdr_len = l->hdr_len, .csum = true,
			                                 .tso4 = true, .tso6 = true,
			                                 .ecn = rows[k].ecn_ok,
			                                 .max_frame = vnet_max_frame(1500) };
			struct vnet_tx_req req = { .csum = true };
			struct vq_chain c;
			enum vnet_tx_verdict got;

			tx_chain_tso(&c, l, rows[k].flags, rows[k].gso_type, rows[k].gso_size,
			             (uint16_t)(l4 + rows[k].start_delta), (uint16_t)rows[k].offset,
			             f, (uint32_t)len);
			got = vnet_tx_check(&fmt, &c, &req);
			if (got != rows[k].want)
				fail_msg("%s, %s: verdict %d (%s), want %d", rows[k].name, l->name,
				         got, vnet_tx_strerror(got), rows[k].want);
			if (got == VNET_TX_OK) {
				assert_int_equal(req.tso, rows[k].ip);
				assert_false(req.csum);  /* each segment gets its own */
				assert_int_equal(req.gso_size, rows[k].gso_size);
				assert_int_equal(req.l3_off, l3);
				assert_int_equal(req.l4_off, l4);
				assert_int_equal(req.l4_len, l4_len);
			} else {
				assert_int_equal(req.tso, 0);
			}
			tx_chain_free(&c);
		}
	}
}

/* Not negotiated: TSO4 and TSO6 each need their own feature. */
static void
test_tx_tso_not_negotiated(void **state)
{
	static uint8_t f[2000];
	const struct tcp_frame_opts o = { .ip = 6, .payload = 1500 };
	const struct vnet_tx_fmt fmt = { .hdr_len = 12, .csum = true, .tso4 = true,
	                                 .max_frame = VNET_MAX_FRAME };
	uint16_t l4;
	size_t len = tcp_frame(f, sizeof(f), &o, NULL, &l4, NULL);
	struct vnet_tx_req req;
	struct vq_chain c;

	(void)state;
	tx_chain_tso(&c, &tx_layouts[0], CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1000, l4, 16, f,
	             (uint32_t)len);
	assert_int_equal(vnet_tx_check(&fmt, &c, &req), VNET_TX_GSO);
	tx_chain_free(&c);
}

/* The MTU bounds the frame (Ethernet header and one VLAN tag on top),
 * whatever the header asks: a plain header is judged by the gate's one
 * compare, one asking for a checksum by the full verdict, which holds the
 * same bound. Only an accepted NEEDS_CSUM frame has a request. */
static void
test_tx_mtu(void **state)
{
	static const struct {
		uint32_t mtu, frame_len;
		bool csum;                       /* NEEDS_CSUM, TCP over IPv4's field */
		enum vnet_tx_verdict want;
	} rows[] = {
		{ 1500, 1518, false, VNET_TX_OK },
		{ 1500, 1519, false, VNET_TX_TOO_BIG },
		{ 1500, 1518, true, VNET_TX_OK },
		{ 1500, 1519, true, VNET_TX_TOO_BIG },
		{ 68, 86, false, VNET_TX_OK },
		{ 68, 87, false, VNET_TX_TOO_BIG },
		{ 9000, 9018, false, VNET_TX_OK },
		{ 9000, 9019, false, VNET_TX_TOO_BIG },
		{ 65521, VNET_MAX_FRAME, false, VNET_TX_OK },
		{ 65521, VNET_MAX_FRAME + 1, false, VNET_TX_TOO_BIG },
	};

	(void)state;
	assert_int_equal(vnet_max_frame(65535), VNET_MAX_FRAME);
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct vnet_tx_fmt fmt = { .hdr_len = 12, .csum = true,
		                                 .max_frame = vnet_max_frame(rows[k].mtu) };
		struct vnet_tx_req req = { .csum = true };
		struct vq_chain c;

		if (rows[k].csum)
			tx_chain_csum(&c, &tx_layouts[0], 0, 34, 16, rows[k].frame_len);
		else
			tx_chain(&c, &tx_layouts[0], 0, 0, rows[k].frame_len);
		assert_int_equal(vnet_tx_check(&fmt, &c, &req), rows[k].want);
		assert_int_equal(req.csum, rows[k].csum && rows[k].want == VNET_TX_OK);
		tx_chain_free(&c);
	}
}

/* RFC 1071's example (the sum of 0001 f203 f4f5 f6f7 is 2ddf0, folded
 * ddf2, inverted 220d), carries folded twice, and a zero result sent as
 * 0xffff. */
static void
test_csum_finish(void **state)
{
	(void)state;
	assert_int_equal(vnet_csum_finish(0x2ddf0), 0x220d);
	assert_int_equal(vnet_csum_finish(0xddf2), 0x220d);
	assert_int_equal(vnet_csum_finish(0x1fffe), 0xffff);   /* fffe+1 = ffff: zero */
	assert_int_equal(vnet_csum_finish(0xffff), 0xffff);    /* ~ffff = 0 */
	assert_int_equal(vnet_csum_finish(0), 0xffff);
	assert_int_equal(vnet_csum_finish(0xfffeffff), 0x0001); /* ffff+fffe, twice */
}

static void
test_tx_strerror(void **state)
{
	(void)state;
	for (int v = 0; v < VNET_TX_VERDICT_COUNT; v++) {
		const char *s = vnet_tx_strerror((enum vnet_tx_verdict)v);

		assert_non_null(s);
		assert_true(strlen(s) > 1);
		assert_string_not_equal(s, "unknown");
		for (int w = 0; w < v; w++)
			assert_string_not_equal(s, vnet_tx_strerror((enum vnet_tx_verdict)w));
	}
	assert_string_equal(vnet_tx_strerror(VNET_TX_VERDICT_COUNT), "unknown");
	assert_string_equal(vnet_tx_strerror((enum vnet_tx_verdict)-1), "unknown");
}

static int
rx_guest(void **state)
{
	*state = fg_new(16, RX, 0);
	return *state != NULL ? 0 : -1;
}

static int
guest_free(void **state)
{
	fg_free(*state);
	return 0;
}

#define RX_TEST(f) cmocka_unit_test_setup_teardown(f, rx_guest, guest_free)

static int
setup(void **state)
{
	(void)state;
	pattern();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_hdr_len),
		cmocka_unit_test(test_features_offered),
		cmocka_unit_test(test_features_check),
		cmocka_unit_test(test_vqi),
		cmocka_unit_test(test_tx_hdr_classes),
		cmocka_unit_test(test_tx_hdr_every_pair),
		cmocka_unit_test(test_tx_lengths),
		cmocka_unit_test(test_tx_csum),
		cmocka_unit_test(test_tx_mtu),
		cmocka_unit_test(test_tx_tso),
		cmocka_unit_test(test_tx_tso_not_negotiated),
		cmocka_unit_test(test_csum_finish),
		cmocka_unit_test(test_tx_strerror),
		RX_TEST(test_rx_plain_hdr12),
		RX_TEST(test_rx_plain_hdr10),
		RX_TEST(test_rx_plain_exact_fit),
		RX_TEST(test_rx_header_only),
		RX_TEST(test_rx_plain_split_chain),
		RX_TEST(test_rx_plain_too_big),
		RX_TEST(test_rx_empty_queue),
		RX_TEST(test_rx_plain_bad_chain_first),
		cmocka_unit_test(test_rx_bad_chains_bounded),
		RX_TEST(test_rx_mrg_three_buffers),
		RX_TEST(test_rx_mrg_one_buffer),
		RX_TEST(test_rx_mrg_back_to_back),
		RX_TEST(test_rx_mrg_no_buf_rewinds),
		RX_TEST(test_rx_mrg_first_smaller_than_header),
		RX_TEST(test_rx_several_source_iovecs),
		RX_TEST(test_rx_data_valid),
		RX_TEST(test_rx_meta),
		RX_TEST(test_rx_broken_queue),
		RX_TEST(test_rx_mrg_broken_midway),
		RX_TEST(test_rx_mrg_bad_chain_in_middle),
		RX_TEST(test_rx_bad_chain_counted_once),
		cmocka_unit_test(test_rx_bufs_frames),
		cmocka_unit_test(test_rx_bufs_small_buffer),
		cmocka_unit_test(test_rx_bufs_other_shape_and_run_out),
		cmocka_unit_test(test_rx_bufs_burst_cap),
	};

	return cmocka_run_group_tests_name("virtio_vnet", t, setup, NULL);
}
