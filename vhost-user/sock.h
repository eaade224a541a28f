/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/sock.h - the listening unix socket of a device. */
#ifndef VHOSTMQ_VHOST_USER_SOCK_H
#define VHOSTMQ_VHOST_USER_SOCK_H
#include <stddef.h>
#include <sys/types.h>

/* Who may connect to a listening socket: its file's permission bits and
 * owner. (uid_t)-1 / (gid_t)-1 leave the owner / group as created (the
 * process's effective ids), as for chown(). */
struct vhu_sock_access {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Creates a listening, non-blocking socket at path with the given access. A
 * stale socket file left by a dead process is replaced; a socket someone is
 * still serving, or a path that is not a socket, is refused. The socket
 * listens only once its file has its final mode and owner, so nobody else
 * can connect in between. Returns the fd or -errno with why filled. */
int vhu_listen_as(const char *path, const struct vhu_sock_access *a, char *why,
                  size_t why_len);
/* vhu_listen_as() with the process's own uid and gid. */
int vhu_listen(const char *path, mode_t mode, char *why, size_t why_len);

/* Accepts one connection as a non-blocking, close-on-exec fd; -errno if none. */
int vhu_accept(int listen_fd);

/* Client mode: connects to a frontend listening at path (QEMU's
 * server=on). Returns a non-blocking, close-on-exec fd, or -errno when
 * nobody accepts now (the caller retries later). */
int vhu_connect(const char *path);

#endif
