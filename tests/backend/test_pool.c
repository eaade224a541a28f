/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/backend/test_pool.c - backend/pool.c: what a device's holders need,
 * shape by shape, and what a pool of n mbufs really takes of EAL memory
 * without hugepages (at most pool_bytes(n), so EAL's -m fits, and far less
 * than a 4 KiB page an mbuf, so 128 pairs fit in the memory promised). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "backend/pool.h"
#include "common/tunables.h"
#include "pmd/pmd.h"
#include "pmd/port.h"
#include "tests/pmd/eal_test.h"

/* What a pair holds without its port: a TX burst and its cut segments, the
 * held frames. */
#define PER_PAIR (PMD_BURST_MAX + VNET_TSO_MAX_SEGS + PMD_HELD_MAX)
#define CACHES(threads) (((threads) + 1u) * (TUNE_MBUF_CACHE * 3u / 2u))

static void
test_needed_by_shape(void **state)
{
	struct pool_shape lb = { .kind = CFG_PORT_LOOPBACK, .pairs = 128, .threads = 2 };
	struct pool_shape eth = { .kind = CFG_PORT_ETHDEV, .pairs = 4, .threads = 1, .nrxq = 1,
	                          .ntxq = 1, .rx_ring = 1024, .tx_ring = 512 };
	struct pool_shape dev = { .kind = CFG_PORT_DEVICE, .pairs = 2, .threads = 1,
	                          .peer_pairs = 3 };

	(void)state;
	/* no inboxes: the loopback answers on the pair */
	assert_int_equal(pool_mbufs_needed(&lb), 128 * (PER_PAIR + PMD_LOOPBACK_RING) + CACHES(2));
	/* one queue: its descriptors filled and a burst taken, the TX ring, and
	 * inboxes of four bursts from that one queue */
	assert_int_equal(pool_mbufs_needed(&eth), 4 * (PER_PAIR + 4 * PMD_BURST_MAX) +
	                                          (1024 + PMD_BURST_MAX) + 512 + CACHES(1));
	eth.nrxq = eth.ntxq = 4;
	assert_int_equal(pool_mbufs_needed(&eth), 4 * (PER_PAIR + TUNE_INBOX_SIZE) +
	                                          4 * (1024 + PMD_BURST_MAX) + 4 * 512 + CACHES(1));
	/* the peer's RX rings hold this device's frames; its own inboxes */
	assert_int_equal(pool_mbufs_needed(&dev), 2 * (PER_PAIR + 2 * 4 * PMD_BURST_MAX) +
	                                          3 * TUNE_DEVICE_RING + CACHES(1));
}

/* An inbox takes four rounds of bursts from the port queues that may steer
 * to it, a power of two, at most TUNE_INBOX_SIZE. */
static void
test_inbox_size(void **state)
{
	(void)state;
	assert_int_equal(pool_inbox_size(1, 8), 4 * PMD_BURST_MAX);
	assert_int_equal(pool_inbox_size(2, 8), 8 * PMD_BURST_MAX);
	assert_int_equal(pool_inbox_size(3, 8), 16 * PMD_BURST_MAX);   /* 12 bursts, rounded up */
	assert_int_equal(pool_inbox_size(8, 2), 8 * PMD_BURST_MAX);    /* two pairs read them */
	assert_int_equal(pool_inbox_size(128, 128), TUNE_INBOX_SIZE);
	assert_int_equal(pool_inbox_size(0, 4), 4 * PMD_BURST_MAX);
}

static void
test_shape_of_cfg(void **state)
{
	struct cfg cfg;
	struct pool_shape s;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_devices = 2;
	cfg_device_defaults(&cfg.dev[0], 0);
	cfg_device_defaults(&cfg.dev[1], 1);
	cfg.dev[0].queue_pairs = 8;
	cfg.dev[0].port_kind = CFG_PORT_ETHDEV;
	cfg.dev[0].n_cores = 3;
	cfg.dev[0].cores[0] = 1;
	cfg.dev[0].cores[1] = 2;
	cfg.dev[0].cores[2] = 1;
	cfg.dev[0].tune.port_tx_queues = 2;
	pool_shape_of_cfg(&cfg, 0, &s);
	assert_int_equal(s.kind, CFG_PORT_ETHDEV);
	assert_int_equal(s.pairs, 8);
	assert_int_equal(s.threads, 2);            /* cores 1 and 2 */
	assert_int_equal(s.nrxq, 8);               /* automatic: at most the pairs */
	assert_int_equal(s.ntxq, 2);
	assert_int_equal(s.rx_ring, 1024);
	assert_int_equal(s.tx_ring, 1024);
	/* a device port counts its peer's pairs */
	cfg.dev[0].port_kind = CFG_PORT_DEVICE;
	strcpy(cfg.dev[0].port_peer, "vm1");
	cfg.dev[1].queue_pairs = 5;
	pool_shape_of_cfg(&cfg, 0, &s);
	assert_int_equal(s.peer_pairs, 5);
}

/* Heap bytes in use now. */
static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;
	size_t used = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			used += st.heap_allocsz_bytes;
	return used;
}

static void
test_pool_footprint(void **state)
{
	const unsigned n = 20000;
	size_t before = heap_used(), took;
	struct rte_mempool *mp;
	struct rte_mbuf *m;

	(void)state;
	mp = pool_create("test-pool", n);
	assert_non_null(mp);
	took = heap_used() - before;
	print_message("%u mbufs took %zu bytes (%zu each; pool_bytes says %llu)\n", n, took,
	              took / n, (unsigned long long)pool_bytes(n));
	assert_true(took <= pool_bytes(n));
	assert_true(took / n < 4096 * 3 / 4);      /* not a page an mbuf */
	assert_int_equal(rte_mempool_avail_count(mp), n);
	m = rte_pktmbuf_alloc(mp);
	assert_non_null(m);
	assert_int_equal(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
	assert_non_null(rte_pktmbuf_append(m, 1500));
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

/* A pool larger than EAL's memory is refused with rte_errno set. */
static void
test_pool_too_big(void **state)
{
	(void)state;
	assert_null(pool_create("test-huge", 1u << 22));
	assert_int_equal(rte_errno, ENOMEM);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed_by_shape),
		cmocka_unit_test(test_inbox_size),
		cmocka_unit_test(test_shape_of_cfg),
		cmocka_unit_test(test_pool_footprint),
		cmocka_unit_test(test_pool_too_big),
	};

	(void)argc;
	unsigned last_cpu;

	if (et_eal_init(argv[0], &last_cpu) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
