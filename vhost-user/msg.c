/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/msg.c - reassembly of vhost-user messages and their fds.
 * Security model: see msg.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vhost-user/msg.h"

void
vhu_rx_init(struct vhu_rx *rx)
{
	rx->got = 0;
	rx->nfds = 0;
}

void
vhu_rx_reset(struct vhu_rx *rx)
{
	for (unsigned i = 0; i < rx->nfds; i++)
		close(rx->fds[i]);
	vhu_rx_init(rx);
}

void
vhu_msg_close_fds(struct vhu_msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Takes the fds of one control message; false if any had to be dropped. */
static int
rx_take_fds(struct vhu_rx *rx, struct msghdr *mh)
{
	int ok = !(mh->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (rx->nfds < VHU_MAX_FDS) {
				rx->fds[rx->nfds++] = fd;
			} else {
				close(fd);
				ok = 0;
			}
		}
	}
	return ok;
}

enum vhu_rx_res
vhu_msg_recv(int sock, struct vhu_rx *rx, struct vhu_msg *m, const char **why)
{
	const uint32_t hdr_len = sizeof(struct vhu_hdr);

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct vhu_hdr h;
		uint32_t want;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		                     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		ssize_t n;

		if (rx->got < hdr_len) {
			want = hdr_len;
		} else {
			memcpy(&h, rx->buf, hdr_len);
			if (h.size > VHU_MAX_PAYLOAD) {
				*why = "header: payload size larger than any message we accept";
				return VHU_RX_BAD;
			}
			want = hdr_len + h.size;
			if (rx->got == want)
				break;
		}
		iov = (struct iovec){ rx->buf + rx->got, want - rx->got };
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return VHU_RX_MORE;
		if (n < 0) {
			*why = "recvmsg failed";
			return VHU_RX_BAD;
		}
		if (!rx_take_fds(rx, &mh)) {
			*why = "header: more file descriptors than any message carries";
			return VHU_RX_BAD;
		}
		if (n == 0) {
			if (rx->got == 0)
				return VHU_RX_EOF;
			*why = "connection closed in the middle of a message";
			return VHU_RX_BAD;
		}
		rx->got += (uint32_t)n;
	}
	memcpy(&m->hdr, rx->buf, hdr_len);
	memset(&m->p, 0, sizeof(m->p));
	memcpy(&m->p, rx->buf + hdr_len, m->hdr.size);
	memcpy(m->fds, rx->fds, rx->nfds * sizeof(int));
	m->nfds = rx->nfds;
	vhu_rx_init(rx);                 /* the fds now belong to *m */
	return VHU_RX_MSG;
}

int
vhu_msg_send(int sock, uint32_t request, const void *payload, uint32_t size)
{
	struct vhu_hdr h = { .request = request, .size = size,
	                     .flags = VHOST_USER_VERSION | VHOST_USER_REPLY };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	/* Replies are tiny; a socket buffer that cannot take one is a frontend
	 * that stopped reading. */
	return (size_t)n == sizeof(h) + size ? 0 : -EAGAIN;
}
