/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/pmd/eal_test.c - see eal_test.h. */
#include <sched.h>
#include <stdio.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include "tests/pmd/eal_test.h"
#include "common/base.h"

int
et_eal_init(const char *prog, unsigned *last_cpu)
{
	char lcores[64];
	char *argv[] = {
		(char *)prog, "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		lcores, "--log-level=lib.eal:warning", NULL,
	};
	cpu_set_t set;
	int first = -1, last = -1;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_getaffinity");
		return -1;
	}
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set)) {
			first = first < 0 ? c : first;
			last = c;
		}
	}
	/* A hole in the set cannot be written as a range: lcore 0 then sits on
	 * the first CPU alone. */
	if (CPU_COUNT(&set) == last - first + 1)
		snprintf(lcores, sizeof(lcores), "--lcores=0@(%d-%d)", first, last);
	else
		snprintf(lcores, sizeof(lcores), "--lcores=0@(%d)", first);
	if (rte_eal_init((int)ARRAY_SIZE(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	*last_cpu = (unsigned)last;
	return 0;
}
