/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/steer_one.h - the steering of a device with one RX queue (the
 * default RSS settings, its inbox a DPDK ring), for tests and bench tools
 * that drive pmd_poll_qp() on a device: port's path without a backend. */
#ifndef VHOSTMQ_TESTS_STEER_ONE_H
#define VHOSTMQ_TESTS_STEER_ONE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pmd/steer.h"

struct steer_one {
	struct pmd_steer s;
	bool enabled[1];
	struct rte_ring *inbox[1];
	uint16_t affinity[PMD_AFFINITY_SLOTS];
};

/* Builds o (EAL running; name: the inbox ring's, unique in the process):
 * 0, or -1 with why. */
int steer_one_init(struct steer_one *o, const char *name, char *why, size_t why_len);
/* Frees the frames waiting in the inbox; returns how many. */
unsigned steer_one_drain(struct steer_one *o);
void steer_one_fini(struct steer_one *o);

#endif
