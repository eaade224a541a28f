/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/steer_one.c - see steer_one.h. */
#include <stdio.h>
#include <string.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include "tests/steer_one.h"

int
steer_one_init(struct steer_one *o, const char *name, char *why, size_t why_len)
{
	struct rss_settings cfg;

	memset(o, 0, sizeof(*o));
	rss_settings_default(&cfg);
	o->enabled[0] = true;
	if (pmd_rss_build(&o->s.rss, &cfg, o->enabled, 1, why, why_len) != 0)
		return -1;
	o->inbox[0] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (o->inbox[0] == NULL) {
		snprintf(why, why_len, "inbox %s: %s", name, rte_strerror(rte_errno));
		return -1;
	}
	o->s.mode = PMD_STEER_RSS;
	o->s.rx_enabled = o->enabled;
	o->s.inbox = o->inbox;
	o->s.affinity = o->affinity;
	return 0;
}

unsigned
steer_one_drain(struct steer_one *o)
{
	void *m[32];
	unsigned n = 0, k;

	while ((k = rte_ring_dequeue_burst(o->inbox[0], m, 32, NULL)) > 0) {
		rte_pktmbuf_free_bulk((struct rte_mbuf **)m, k);
		n += k;
	}
	return n;
}

void
steer_one_fini(struct steer_one *o)
{
	steer_one_drain(o);
	rte_ring_free(o->inbox[0]);
	o->inbox[0] = NULL;
}
