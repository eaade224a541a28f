/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/eal_test.h - DPDK's EAL for the pmd/ tests that are not about
 * the datapath, started the way an unprivileged developer can: no hugepages
 * (--no-huge, memory from malloc), no PCI, no shared config (--no-shconf, so
 * several test processes run side by side; --in-memory would say the same
 * but refuses --no-huge). */
#ifndef VHOSTMQ_TESTS_PMD_EAL_TEST_H
#define VHOSTMQ_TESTS_PMD_EAL_TEST_H

/* Starts EAL with lcore 0 floating over the CPUs this process may use.
 * 0, or -1 with the reason on stderr. *last_cpu: the highest of those CPUs
 * (where the tests pin their poll threads). */
int et_eal_init(const char *prog, unsigned *last_cpu);

#endif
