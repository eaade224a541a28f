/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/ctl.h - the control socket that vhostmqctl talks to: a unix socket
 * on which each connection carries one JSON request line and gets one JSON
 * reply line (queue and RSS state, counters, RSS changes, moving a queue pair
 * to another core). Served on the control thread, from its event loop. */
#ifndef VHOSTMQ_BACKEND_CTL_H
#define VHOSTMQ_BACKEND_CTL_H
#include <stddef.h>
#include "backend/be.h"

/* Largest request accepted, newline included; longer ones get an error. */
#define BE_CTL_MAX_REQUEST 65536

struct be_ctl;

/* Listens on path (mode 0660; a stale socket is replaced, a live one refused).
 * NULL with why filled on failure. */
struct be_ctl *be_ctl_open(struct be *be, const char *path, char *why, size_t why_len);
/* The listening fd, for the event loop (readable: call be_ctl_event()). */
int be_ctl_fd(const struct be_ctl *c);
/* The listening socket is readable: serves one waiting client, giving it
 * 1 s to send its request and 1 s to take the reply. */
void be_ctl_event(struct be_ctl *c);
/* Closes the socket and removes its file. NULL is a no-op. */
void be_ctl_close(struct be_ctl *c);

#endif
