/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/wire.h - the frontend side of the vhost-user wire for tests: one
 * sendmsg() of raw bytes with up to WIRE_MAX_FDS fds attached. More fds than
 * any message may carry, so hostile tests can send too many. */
#ifndef VHOSTMQ_TESTS_WIRE_H
#define VHOSTMQ_TESTS_WIRE_H
#include <stddef.h>
#include <sys/types.h>

#define WIRE_MAX_FDS 16

/* Bytes sent, or -1 with errno (EINVAL for too many fds). */
ssize_t wire_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds);

#endif
