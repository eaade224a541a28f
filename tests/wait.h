/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/wait.h - waiting for another thread or process to get somewhere,
 * bounded: a monotonic millisecond clock and WAIT_UNTIL(cond, ms), which
 * re-tests cond every 100 us and is true as soon as it holds, false if it
 * still does not after ms. */
#ifndef VHOSTMQ_TESTS_WAIT_H
#define VHOSTMQ_TESTS_WAIT_H
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

#define WAIT_UNTIL(cond, ms) ({                                    \
	uint64_t wait_end_ = now_ms() + (ms);                          \
	bool wait_ok_;                                                 \
	while (!(wait_ok_ = (cond)) && now_ms() < wait_end_)           \
		usleep(100);                                           \
	wait_ok_;                                                      \
})

#endif
