/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/test_port_ethdev.c - pmd/port_ethdev.c over DPDK's software
 * devices: net_ring without arguments is a loopback per queue (TX queue i
 * and RX queue i share one ring), so every frame sent comes back, in order,
 * on its own queue only; net_null makes frames from the pool given at set-up
 * (of the size its devargs ask for) and frees what it is sent. Checked: the
 * queue counts the device was configured with, what the ops say about the
 * port (no room limit, no pending count, nothing to drain), every mbuf back
 * in the pool, the device gone after pmd_port_free(), and the refusals
 * (more queues than the driver has, an unknown driver) with their messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "pmd/port.h"
#include "common/base.h"
#include "tests/pmd/eal_test.h"

#define POOL_N 2048u

static struct rte_mempool *pool;

static struct pmd_port *
port_new(const char *devargs, uint16_t nq)
{
	const struct pmd_ethdev_shape shape = { .want = nq, .rx_ring = 1024, .tx_ring = 1024 };
	struct pmd_ethdev_info info;
	struct pmd_port *p = NULL;
	char why[256] = "";

	if (pmd_port_ethdev_probe(devargs, &shape, &info, why, sizeof(why)) != 0 ||
	    pmd_port_ethdev_new(devargs, &info, pool, &p, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_non_null(p);
	return p;
}

static struct rte_eth_dev_info
dev_info(const char *name)
{
	struct rte_eth_dev_info info;
	uint16_t id;

	assert_int_equal(rte_eth_dev_get_port_by_name(name, &id), 0);
	assert_int_equal(rte_eth_dev_info_get(id, &info), 0);
	return info;
}

/* n frames of len bytes; byte 0..3 of frame k: tag + k, big-endian. */
static void
frames(struct rte_mbuf **m, uint16_t n, uint16_t len, uint32_t tag)
{
	for (uint16_t k = 0; k < n; k++) {
		uint8_t *d;

		m[k] = rte_pktmbuf_alloc(pool);
		assert_non_null(m[k]);
		d = (uint8_t *)rte_pktmbuf_append(m[k], len);
		assert_non_null(d);
		memset(d, 0xee, len);
		d[0] = (uint8_t)((tag + k) >> 24);
		d[1] = (uint8_t)((tag + k) >> 16);
		d[2] = (uint8_t)((tag + k) >> 8);
		d[3] = (uint8_t)(tag + k);
	}
}

static uint32_t
frame_tag(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void
expect_pool_whole(void)
{
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* net_ring: a loopback per queue. */
static void
test_ring_queues(void **state)
{
	enum { NQ = 3, N = 8 };
	struct pmd_port *p = port_new("net_ring0", NQ);
	struct rte_eth_dev_info info = dev_info("net_ring0");
	struct rte_mbuf *tx[N], *rx[2 * N];

	(void)state;
	assert_string_equal(p->kind, "ethdev");
	assert_int_equal(p->nrxq, NQ);
	assert_int_equal(p->ntxq, NQ);
	assert_int_equal(info.nb_rx_queues, NQ);
	assert_int_equal(info.nb_tx_queues, NQ);
	for (uint16_t q = 0; q < NQ; q++)
		assert_int_equal(p->ops->tx_room(p, q), UINT16_MAX);   /* cannot tell */
	assert_null(p->ops->rx_pending);          /* idle threads must poll on a timer */
	assert_null(p->ops->drain);

	for (uint16_t q = 0; q < NQ; q++)
		assert_int_equal(p->ops->rx(p, q, rx, 2 * N), 0);
	/* Queue 1 out, queue 1 in: the same frames in order, nowhere else. */
	frames(tx, N, 60, 0x100);
	assert_int_equal(p->ops->tx(p, 1, tx, N), N);
	assert_int_equal(p->ops->rx(p, 0, rx, 2 * N), 0);
	assert_int_equal(p->ops->rx(p, 2, rx, 2 * N), 0);
	assert_int_equal(p->ops->rx(p, 1, rx, 3), 3);               /* a short burst */
	assert_int_equal(p->ops->rx(p, 1, rx + 3, 2 * N), N - 3);
	for (uint16_t k = 0; k < N; k++) {
		assert_int_equal(rte_pktmbuf_pkt_len(rx[k]), 60);
		assert_int_equal(frame_tag(rx[k]), 0x100 + k);
	}
	rte_pktmbuf_free_bulk(rx, N);
	/* Every queue on its own. */
	for (uint16_t q = 0; q < NQ; q++) {
		frames(tx, 2, 1500, 0x1000 * (q + 1u));
		assert_int_equal(p->ops->tx(p, q, tx, 2), 2);
	}
	for (uint16_t q = 0; q < NQ; q++) {
		assert_int_equal(p->ops->rx(p, q, rx, 2 * N), 2);
		assert_int_equal(frame_tag(rx[0]), 0x1000 * (q + 1u));
		assert_int_equal(frame_tag(rx[1]), 0x1000 * (q + 1u) + 1);
		rte_pktmbuf_free_bulk(rx, 2);
	}
	expect_pool_whole();
	pmd_port_free(p);
	pmd_port_free(NULL);
}

/* net_null with its devargs: frames of the asked size from our pool on every
 * queue; what it is sent goes back to the pool. */
static void
test_null_devargs(void **state)
{
	enum { NQ = 2, N = 32 };
	struct pmd_port *p = port_new("net_null0,size=200", NQ);
	struct rte_eth_dev_info info = dev_info("net_null0");
	struct rte_mbuf *m[N];

	(void)state;
	assert_int_equal(info.nb_rx_queues, NQ);
	assert_int_equal(info.nb_tx_queues, NQ);
	for (uint16_t q = 0; q < NQ; q++) {
		assert_int_equal(p->ops->rx(p, q, m, N), N);
		assert_int_equal(rte_mempool_avail_count(pool), POOL_N - N);
		for (uint16_t k = 0; k < N; k++) {
			assert_ptr_equal(m[k]->pool, pool);
			assert_int_equal(rte_pktmbuf_pkt_len(m[k]), 200);
		}
		assert_int_equal(p->ops->tx(p, q, m, N), N);
		expect_pool_whole();
	}
	pmd_port_free(p);
}

/* Freed: the device is stopped and closed, so its name is free. */
static void
test_free_closes(void **state)
{
	struct pmd_port *p = port_new("net_null1", 1);
	uint16_t id;

	(void)state;
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null1", &id), 0);
	assert_true(rte_eth_dev_is_valid_port(id));
	pmd_port_free(p);
	assert_int_not_equal(rte_eth_dev_get_port_by_name("net_null1", &id), 0);
}

/* A queue count above the driver's maximum is refused naming the tuning
 * key; an automatic one (the pairs) is capped at it instead. */
static void
test_too_many_queues(void **state)
{
	struct pmd_ethdev_shape shape = { .want = 4, .nrxq = 17, .rx_ring = 512, .tx_ring = 512 };
	struct pmd_ethdev_info info;
	char why[256] = "";

	(void)state;
	assert_int_equal(pmd_port_ethdev_probe("net_ring1", &shape, &info, why, sizeof(why)),
	                 -EINVAL);
	assert_string_equal(why, "tuning.port_rx_queues 17: driver net_ring has at most 16 rx "
	                         "queue(s)");
	shape = (struct pmd_ethdev_shape){ .want = 4, .ntxq = 17, .rx_ring = 512, .tx_ring = 512 };
	assert_int_equal(pmd_port_ethdev_probe("net_ring1", &shape, &info, why, sizeof(why)),
	                 -EINVAL);
	assert_string_equal(why, "tuning.port_tx_queues 17: driver net_ring has at most 16 tx "
	                         "queue(s)");
	shape = (struct pmd_ethdev_shape){ .want = 128, .rx_ring = 512, .tx_ring = 512 };
	assert_int_equal(pmd_port_ethdev_probe("net_ring1", &shape, &info, why, sizeof(why)), 0);
	assert_int_equal(info.nrxq, 16);
	assert_int_equal(info.ntxq, 16);
	assert_string_equal(info.driver, "net_ring");
}

/* Queue counts of the port's own, fewer than the pairs and unequal: the
 * port is configured with exactly those, and its TX queue 0 feeds its RX
 * queue 0 (net_ring pairs them). */
static void
test_own_queue_counts(void **state)
{
	const struct pmd_ethdev_shape shape = { .want = 8, .nrxq = 2, .ntxq = 1, .rx_ring = 256,
	                                        .tx_ring = 256 };
	struct pmd_ethdev_info info;
	struct rte_eth_dev_info di;
	struct rte_mbuf *tx[4], *rx[8];
	struct pmd_port *p = NULL;
	char why[256] = "";

	(void)state;
	assert_int_equal(pmd_port_ethdev_probe("net_ring2", &shape, &info, why, sizeof(why)), 0);
	assert_int_equal(info.nrxq, 2);
	assert_int_equal(info.ntxq, 1);
	assert_int_equal(info.rx_ring, 256);
	assert_int_equal(pmd_port_ethdev_new("net_ring2", &info, pool, &p, why, sizeof(why)), 0);
	assert_int_equal(p->nrxq, 2);
	assert_int_equal(p->ntxq, 1);
	di = dev_info("net_ring2");
	assert_int_equal(di.nb_rx_queues, 2);
	assert_int_equal(di.nb_tx_queues, 1);
	frames(tx, 4, 60, 0x300);
	assert_int_equal(p->ops->tx(p, 0, tx, 4), 4);
	assert_int_equal(p->ops->rx(p, 0, rx, 8), 4);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(frame_tag(rx[k]), 0x300 + k);
	rte_pktmbuf_free_bulk(rx, 4);
	assert_int_equal(p->ops->rx(p, 1, rx, 8), 0);
	pmd_port_free(p);
	expect_pool_whole();
}

/* net_tap (DPDK 22.11) starts at most 8 RX + TX queues and only as many RX
 * as TX: automatic counts stop at 4 each, more is refused with the reason,
 * one count asked sets the other, two unequal ones are refused. */
static void
test_tap_limits(void **state)
{
	struct pmd_ethdev_shape shape = { .want = 8, .rx_ring = 512, .tx_ring = 512 };
	const char *tap = "net_tap7,iface=vmqut7";
	struct pmd_ethdev_info info;
	char why[256] = "";

	(void)state;
	if (geteuid() != 0) {
		/* meson counts a cmocka skip as a pass: in CI, say why it fails */
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
			fail_msg("needs root to create a tap (CI=true: a skip is a failure)");
		skip();
	}
	assert_int_equal(pmd_port_ethdev_probe(tap, &shape, &info, why, sizeof(why)), 0);
	assert_int_equal(info.nrxq, 4);
	assert_int_equal(info.ntxq, 4);
	shape.nrxq = 8;
	assert_int_equal(pmd_port_ethdev_probe(tap, &shape, &info, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "tuning.port_rx_queues 8: driver net_tap has at most 4 rx "
	                         "queue(s) (DPDK 22.11's net_tap starts at most 8 rx + tx "
	                         "queues)");
	shape.nrxq = 2;
	assert_int_equal(pmd_port_ethdev_probe(tap, &shape, &info, why, sizeof(why)), 0);
	assert_int_equal(info.nrxq, 2);
	assert_int_equal(info.ntxq, 2);
	shape.ntxq = 3;
	assert_int_equal(pmd_port_ethdev_probe(tap, &shape, &info, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "tuning.port_rx_queues 2, port_tx_queues 3: driver net_tap "
	                         "needs as many rx as tx queues");
}

static void
test_unknown_driver(void **state)
{
	struct pmd_port *p = (struct pmd_port *)1;
	char why[256] = "";
	int rc;

	(void)state;
	const struct pmd_ethdev_shape shape = { .want = 1, .rx_ring = 512, .tx_ring = 512 };
	struct pmd_ethdev_info info;

	rc = pmd_port_ethdev_probe("net_nosuchdriver0,a=1", &shape, &info, why, sizeof(why));
	assert_true(rc < 0);
	assert_non_null(p);
	/* What follows is DPDK's errno, which varies by version. */
	if (strncmp(why, "ethdev:net_nosuchdriver0,a=1: probe failed: ", 44) != 0)
		fail_msg("why: %s", why);
}

static int
group_setup(void **state)
{
	unsigned last_cpu;

	(void)state;
	if (et_eal_init("test-port-ethdev", &last_cpu) != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("pe-pool", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	return rte_eal_cleanup() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_ring_queues),
		cmocka_unit_test(test_null_devargs),
		cmocka_unit_test(test_free_closes),
		cmocka_unit_test(test_too_many_queues),
		cmocka_unit_test(test_own_queue_counts),
		cmocka_unit_test(test_tap_limits),
		cmocka_unit_test(test_unknown_driver),
	};

	return cmocka_run_group_tests_name("pmd_port_ethdev", t, group_setup, group_teardown);
}
