/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/stats.c - the per-queue table printed by vhostmq, from the poll
 * threads' own counters (read with relaxed loads while they run). */
#include <inttypes.h>
#include "backend/be.h"
#include "vhost-user/conn.h"

static uint64_t
tx_drops(const struct pmd_qstats *s)
{
	return pmd_stat_read(&s->tx_drop_port) + pmd_stat_read(&s->tx_drop_runt) +
	       pmd_stat_read(&s->tx_drop_too_big) + pmd_stat_read(&s->tx_drop_bad_chain);
}

static uint64_t
rx_drops(const struct pmd_qstats *s)
{
	return pmd_stat_read(&s->rx_drop_too_big) + pmd_stat_read(&s->rx_drop_broken) +
	       pmd_stat_read(&s->rx_drop_bad_chain) + pmd_stat_read(&s->steer_drop_full) +
	       pmd_stat_read(&s->rx_drop_disabled);
}

void
be_stats_print(FILE *out, const struct be *be)
{
	for (unsigned i = 0; i < be->ndev; i++) {
		const struct be_dev *d = &be->dev[i];
		uint64_t ns = d->connected_ns + (d->conn ? be_now_ns() - d->connect_start_ns : 0);
		double us = ns ? (double)ns / 1e3 : 1.0;

		fprintf(out, "device %s  port %s%s%s  frontend %s  connected %.1f s\n", d->cfg.name,
		        d->port->kind, d->cfg.port_kind == CFG_PORT_DEVICE ? ":" : "",
		        d->cfg.port_kind == CFG_PORT_DEVICE ? d->cfg.port_peer : "",
		        d->conn ? "attached" : "none", (double)ns / 1e9);
		fprintf(out, "%4s %5s %14s %9s %10s %14s %9s %10s\n", "qp", "core",
		        "tx_packets", "tx_Mpps", "tx_drops", "rx_packets", "rx_Mpps", "rx_drops");
		for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++) {
			const struct pmd_qstats *s = &d->qp[qp].st.stats;
			uint64_t tx = pmd_stat_read(&s->tx_packets), rx = pmd_stat_read(&s->rx_packets);

			fprintf(out, "%4u %5u %14" PRIu64 " %9.3f %10" PRIu64 " %14" PRIu64
			        " %9.3f %10" PRIu64 "\n", qp, pmd_core(d->qp[qp].pmd), tx,
			        (double)tx / us, tx_drops(s), rx, (double)rx / us, rx_drops(s));
		}
	}
	fflush(out);
}
