/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_port_device.c - pmd/port_device.c: two devices' ports wired
 * to each other. Checked: TX queue i of one side comes out of RX queue
 * i % nq of the other, in order per sending queue, for equal and unequal
 * queue counts both ways; several sending queues feeding one RX queue from
 * threads of their own (multi-producer) lose and reorder nothing; a full
 * ring takes fewer (the caller frees the rest) and never reports less room;
 * rx_pending; drain empties one queue; frames keep the sender's mbufs, which
 * go back to its pool when freed, also by pmd_port_free() in either order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>
#include "pmd/port.h"
#include "common/base.h"
#include "common/tunables.h"
#include "tests/pmd/eal_test.h"

#define POOL_N 4096u

static struct rte_mempool *pool_a, *pool_b;

static void
pair_new(uint16_t nq_a, uint16_t nq_b, struct pmd_port **a, struct pmd_port **b)
{
	char why[256] = "";

	if (pmd_port_device_pair("va", nq_a, "vb", nq_b, a, b, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_non_null(*a);
	assert_non_null(*b);
	assert_string_equal((*a)->kind, "device");
	assert_int_equal((*a)->nrxq, nq_a);
	assert_int_equal((*a)->ntxq, nq_a);
	assert_int_equal((*b)->nrxq, nq_b);
	assert_int_equal((*b)->ntxq, nq_b);
}

/* Frame tag: sending queue in the high half, sequence in the low. */
static struct rte_mbuf *
frame(struct rte_mempool *pool, uint16_t q, uint16_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t tag = (uint32_t)q << 16 | seq;
	char *d;

	uint8_t bytes[60];

	assert_non_null(m);
	memset(bytes, 0xee, sizeof(bytes));
	memcpy(bytes, &tag, sizeof(tag));
	d = rte_pktmbuf_append(m, sizeof(bytes));
	assert_non_null(d);
	rte_memcpy(d, bytes, sizeof(bytes));
	return m;
}

static uint32_t
frame_tag(const struct rte_mbuf *m)
{
	uint32_t tag;

	memcpy(&tag, rte_pktmbuf_mtod(m, const void *), sizeof(tag));
	return tag;
}

static void
expect_pools_whole(void)
{
	assert_int_equal(rte_mempool_avail_count(pool_a), POOL_N);
	assert_int_equal(rte_mempool_avail_count(pool_b), POOL_N);
}

/* N frames on every TX queue of from (its pool fpool), then every RX queue
 * of to: each frame on RX queue (sending queue % to->nrxq), in sending order
 * per sending queue, none missing; the mbufs are fpool's. */
static void
send_and_check(struct pmd_port *from, struct rte_mempool *fpool, struct pmd_port *to)
{
	enum { N = 20 };
	uint16_t next[16] = { 0 };
	unsigned got = 0;

	assert_true(from->nrxq <= ARRAY_SIZE(next));
	for (uint16_t q = 0; q < from->nrxq; q++) {
		struct rte_mbuf *m[N];

		for (uint16_t k = 0; k < N; k++)
			m[k] = frame(fpool, q, k);
		assert_int_equal(from->ops->tx_room(from, q), UINT16_MAX);
		assert_int_equal(from->ops->tx(from, q, m, N), N);
	}
	for (uint16_t r = 0; r < to->nrxq; r++) {
		struct rte_mbuf *m[64];
		uint16_t n;

		/* Queue r waits for something exactly when a sending queue maps to it. */
		assert_int_equal(to->ops->rx_pending(to, r), r < from->nrxq);
		while ((n = to->ops->rx(to, r, m, ARRAY_SIZE(m))) > 0) {
			for (uint16_t k = 0; k < n; k++) {
				uint16_t q = (uint16_t)(frame_tag(m[k]) >> 16);

				assert_true(q < from->nrxq);
				assert_int_equal(q % to->nrxq, r);
				assert_int_equal(frame_tag(m[k]) & 0xffff, next[q]);
				assert_ptr_equal(m[k]->pool, fpool);
				next[q]++;
			}
			got += n;
			rte_pktmbuf_free_bulk(m, n);
		}
		assert_false(to->ops->rx_pending(to, r));
	}
	assert_int_equal(got, (unsigned)from->nrxq * N);
	for (uint16_t q = 0; q < from->nrxq; q++)
		assert_int_equal(next[q], N);
}

static void
test_mapping(void **state)
{
	static const uint16_t sizes[][2] = { { 1, 1 }, { 2, 2 }, { 2, 4 }, { 3, 2 }, { 4, 1 } };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct pmd_port *a, *b;

		pair_new(sizes[k][0], sizes[k][1], &a, &b);
		send_and_check(a, pool_a, b);
		send_and_check(b, pool_b, a);
		expect_pools_whole();
		pmd_port_free(a);
		pmd_port_free(b);
	}
}

/* A receiver that does not read: its ring takes TUNE_DEVICE_RING frames,
 * then tx takes fewer and then none; the room never shrinks (the sender is
 * not held back). Frames of other queues still go. */
static void
test_full_ring(void **state)
{
	struct pmd_port *a, *b;
	struct rte_mbuf *m[32];
	unsigned taken = 0, refused = 0;
	uint16_t seq = 0;

	(void)state;
	pair_new(2, 2, &a, &b);
	while (taken + refused < TUNE_DEVICE_RING + 3 * ARRAY_SIZE(m)) {
		uint16_t n;

		for (uint16_t k = 0; k < ARRAY_SIZE(m); k++)
			m[k] = frame(pool_a, 0, seq++);
		n = a->ops->tx(a, 0, m, ARRAY_SIZE(m));
		taken += n;
		refused += ARRAY_SIZE(m) - n;
		rte_pktmbuf_free_bulk(&m[n], ARRAY_SIZE(m) - n);   /* the caller's */
		assert_int_equal(a->ops->tx_room(a, 0), UINT16_MAX);
	}
	assert_int_equal(taken, TUNE_DEVICE_RING);
	assert_int_equal(refused, 3 * ARRAY_SIZE(m));
	assert_int_equal(rte_mempool_avail_count(pool_a), POOL_N - TUNE_DEVICE_RING);
	/* Queue 1 has its own ring. */
	m[0] = frame(pool_a, 1, 0);
	assert_int_equal(a->ops->tx(a, 1, m, 1), 1);
	assert_true(b->ops->rx_pending(b, 1));
	/* The receiver reads again: frames come out in order, room again. */
	assert_int_equal(b->ops->rx(b, 0, m, ARRAY_SIZE(m)), ARRAY_SIZE(m));
	for (uint16_t k = 0; k < ARRAY_SIZE(m); k++)
		assert_int_equal(frame_tag(m[k]), k);
	rte_pktmbuf_free_bulk(m, ARRAY_SIZE(m));
	m[0] = frame(pool_a, 0, 0);
	assert_int_equal(a->ops->tx(a, 0, m, 1), 1);
	/* drain (a reset of b): one queue emptied, its frames back in a's pool. */
	assert_int_equal(b->ops->drain(b, 0), TUNE_DEVICE_RING - ARRAY_SIZE(m) + 1);
	assert_false(b->ops->rx_pending(b, 0));
	assert_true(b->ops->rx_pending(b, 1));
	assert_int_equal(b->ops->drain(b, 0), 0);
	assert_int_equal(b->ops->drain(b, 1), 1);
	assert_int_equal(a->ops->drain(a, 0), 0);
	expect_pools_whole();
	pmd_port_free(b);
	pmd_port_free(a);
}

/* Frames left in the rings both ways go back to their pools when the ports
 * are freed, whichever goes first. */
static void
test_free_returns_frames(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		struct pmd_port *a, *b;
		struct rte_mbuf *m[8];

		pair_new(3, 2, &a, &b);
		for (uint16_t q = 0; q < 3; q++) {
			for (uint16_t k = 0; k < ARRAY_SIZE(m); k++)
				m[k] = frame(pool_a, q, k);
			assert_int_equal(a->ops->tx(a, q, m, ARRAY_SIZE(m)), ARRAY_SIZE(m));
		}
		for (uint16_t k = 0; k < ARRAY_SIZE(m); k++)
			m[k] = frame(pool_b, 1, k);
		assert_int_equal(b->ops->tx(b, 1, m, ARRAY_SIZE(m)), ARRAY_SIZE(m));
		assert_int_equal(rte_mempool_avail_count(pool_a), POOL_N - 3 * ARRAY_SIZE(m));
		pmd_port_free(order ? a : b);
		pmd_port_free(order ? b : a);
		expect_pools_whole();
	}
	pmd_port_free(NULL);
}

/* Several sending queues, each on a thread of its own as their poll threads
 * would be, into one RX queue read by this thread: every frame arrives once,
 * in order per sending queue. */
enum { MP_QUEUES = 3, MP_FRAMES = 20000 };

struct producer {
	struct pmd_port *port;
	uint16_t q;
	unsigned dropped;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	uint16_t seq = 0;

	while (seq < MP_FRAMES) {
		struct rte_mbuf *m[16];
		uint16_t n = (uint16_t)RTE_MIN((unsigned)ARRAY_SIZE(m), (unsigned)(MP_FRAMES - seq));
		uint16_t sent;

		if (rte_pktmbuf_alloc_bulk(pool_a, m, n) != 0)
			continue;        /* the consumer frees them */
		for (uint16_t k = 0; k < n; k++) {
			uint32_t tag = (uint32_t)p->q << 16 | (uint16_t)(seq + k);

			memcpy(rte_pktmbuf_append(m[k], 60), &tag, sizeof(tag));
		}
		/* No drops wanted here: retry what a full ring refused. */
		sent = 0;
		while (sent < n)
			sent = (uint16_t)(sent + p->port->ops->tx(p->port, p->q, &m[sent],
			                                          (uint16_t)(n - sent)));
		seq = (uint16_t)(seq + n);
	}
	return NULL;
}

static void
test_multi_producer(void **state)
{
	struct producer prod[MP_QUEUES];
	pthread_t th[MP_QUEUES];
	uint16_t next[MP_QUEUES] = { 0 };
	struct pmd_port *a, *b;
	unsigned got = 0;

	(void)state;
	pair_new(MP_QUEUES, 1, &a, &b);  /* every queue of a feeds b's queue 0 */
	for (uint16_t q = 0; q < MP_QUEUES; q++) {
		prod[q] = (struct producer){ .port = a, .q = q };
		assert_int_equal(pthread_create(&th[q], NULL, produce, &prod[q]), 0);
	}
	while (got < MP_QUEUES * MP_FRAMES) {
		struct rte_mbuf *m[32];
		uint16_t n = b->ops->rx(b, 0, m, ARRAY_SIZE(m));

		for (uint16_t k = 0; k < n; k++) {
			uint32_t tag = frame_tag(m[k]);
			uint16_t q = (uint16_t)(tag >> 16);

			assert_true(q < MP_QUEUES);
			assert_int_equal(tag & 0xffff, next[q]);
			next[q]++;
		}
		got += n;
		rte_pktmbuf_free_bulk(m, n);
	}
	for (uint16_t q = 0; q < MP_QUEUES; q++) {
		assert_int_equal(pthread_join(th[q], NULL), 0);
		assert_int_equal(next[q], MP_FRAMES);
	}
	assert_false(b->ops->rx_pending(b, 0));
	expect_pools_whole();
	pmd_port_free(a);
	pmd_port_free(b);
}

static int
group_setup(void **state)
{
	unsigned last_cpu;

	(void)state;
	if (et_eal_init("test-port-device", &last_cpu) != 0)
		return -1;
	/* No per-lcore cache: the counts above are exact. */
	pool_a = rte_pktmbuf_pool_create("pd-pool-a", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                                 SOCKET_ID_ANY);
	pool_b = rte_pktmbuf_pool_create("pd-pool-b", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                                 SOCKET_ID_ANY);
	if (pool_a == NULL || pool_b == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool_a);
	rte_mempool_free(pool_b);
	return rte_eal_cleanup() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_free_returns_frames),
		cmocka_unit_test(test_multi_producer),
	};

	return cmocka_run_group_tests_name("pmd_port_device", t, group_setup, group_teardown);
}
