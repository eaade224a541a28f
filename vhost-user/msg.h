/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/msg.h - message framing over a non-blocking unix socket: one
 * message is reassembled across partial reads with the fds that came with it,
 * so a slow or stalled frontend never blocks the control thread.
 * Security model: the header's size field is checked against the largest
 * payload we accept before a payload byte is read; fds beyond VHU_MAX_FDS, or
 * truncated by the kernel, make the message bad and are all closed. */
#ifndef VHOSTMQ_VHOST_USER_MSG_H
#define VHOSTMQ_VHOST_USER_MSG_H
#include <stdint.h>
#include "vhost-user/proto.h"

struct vhu_rx {
	uint8_t buf[sizeof(struct vhu_hdr) + VHU_MAX_PAYLOAD];
	uint32_t got;                    /* bytes of buf filled */
	int fds[VHU_MAX_FDS];
	unsigned nfds;
};

enum vhu_rx_res {
	VHU_RX_MORE,                     /* partial message: wait for the socket */
	VHU_RX_MSG,                      /* *m holds a whole message and owns its fds */
	VHU_RX_EOF,                      /* peer closed */
	VHU_RX_BAD,                      /* framing violation; *why says which */
};

void vhu_rx_init(struct vhu_rx *rx);
/* Closes fds still held by a partial message. */
void vhu_rx_reset(struct vhu_rx *rx);
enum vhu_rx_res vhu_msg_recv(int sock, struct vhu_rx *rx, struct vhu_msg *m,
                             const char **why);

/* Sends a reply (header + payload, no fds). 0 or -errno. */
int vhu_msg_send(int sock, uint32_t request, const void *payload, uint32_t size);

/* Closes every fd the message still owns (entries set to -1 were taken). */
void vhu_msg_close_fds(struct vhu_msg *m);

#endif
