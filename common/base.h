/* SPDX-License-Identifier: BSD-3-Clause */
/* common/base.h - macros shared by every module; the bottom of the include graph.
 * Nothing here may pull in DPDK, socket or thread headers. */
#ifndef VHOSTMQ_COMMON_BASE_H
#define VHOSTMQ_COMMON_BASE_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* 64 bytes on every x86-64 and most arm64 parts we target. */
#define VHOSTMQ_CACHE_LINE 64
#define cache_aligned __attribute__((aligned(VHOSTMQ_CACHE_LINE)))

#define VHOSTMQ_COLD __attribute__((cold, noinline))

#endif
