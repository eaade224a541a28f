/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/sock.c - listening sockets for devices. Replacing a stale socket
 * safely: only a path that is a socket and refuses connections is unlinked, so
 * a second vhostmq (or anything else) using the path is never disturbed.
 * Who can attach is settled before anyone can: the file gets its mode and
 * owner between bind() and listen(), and a unix socket refuses connections
 * until listen(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "vhost-user/sock.h"

static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 0 if path is free (or was a stale socket, now removed), else -errno. */
static int
clear_stale(const char *path, const struct sockaddr_un *sa, char *why, size_t why_len)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, why_len, "%s exists and is not a socket; not removing it", path);
		return -EEXIST;
	}
	/* Non-blocking: a live listener with a full backlog must not stall us. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		snprintf(why, why_len, "%s is in use by another process", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED) {
		snprintf(why, why_len, "%s: cannot tell whether it is stale: %s", path,
		         strerror(errno));
		return -errno;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Gives the bound socket file at path its final mode and owner. Neither call
 * follows a symlink: if the file was swapped for one since bind(), they fail
 * rather than change whatever it points to. */
static int
set_access(const char *path, const struct vhu_sock_access *a)
{
	if ((a->uid != (uid_t)-1 || a->gid != (gid_t)-1) &&
	    fchownat(AT_FDCWD, path, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	/* Mode last, so it is exactly what was asked for whatever chown did
	 * (it clears set-id bits). */
	if (fchmodat(AT_FDCWD, path, a->mode, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return 0;
}

int
vhu_listen_as(const char *path, const struct vhu_sock_access *a, char *why,
              size_t why_len)
{
	struct sockaddr_un sa;
	int fd, rc;

	snprintf(why, why_len, "%s", "");
	if ((rc = sock_addr(path, &sa)) != 0) {
		snprintf(why, why_len, "%s: path longer than %zu bytes", path,
		         sizeof(sa.sun_path) - 1);
		return rc;
	}
	if ((rc = clear_stale(path, &sa, why, why_len)) != 0)
		goto err_why;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto err_why;
	}
	/* Linux creates the file with the socket inode's mode less the umask:
	 * never more open than asked, whatever the umask, even before
	 * set_access() makes it exact (a umask of 022 would take a group's
	 * write bit, which is what lets it connect). */
	if (fchmod(fd, a->mode) != 0 || bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(-rc));
		goto err_close;
	}
	if ((rc = set_access(path, a)) != 0) {
		/* -1: left as created, chown's own notation */
		snprintf(why, why_len, "%s: cannot give it owner %ld, group %ld, mode %04o: %s",
		         path, a->uid == (uid_t)-1 ? -1L : (long)a->uid,
		         a->gid == (gid_t)-1 ? -1L : (long)a->gid, (unsigned)a->mode,
		         strerror(-rc));
		goto err_unlink;
	}
	if (listen(fd, 16) != 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(-rc));
		goto err_unlink;
	}
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return rc;
err_why:
	if (why[0] == '\0')
		snprintf(why, why_len, "%s: %s", path, strerror(-rc));
	return rc;
}

int
vhu_listen(const char *path, mode_t mode, char *why, size_t why_len)
{
	const struct vhu_sock_access a = { .mode = mode, .uid = (uid_t)-1, .gid = (gid_t)-1 };

	return vhu_listen_as(path, &a, why, why_len);
}

int
vhu_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int
vhu_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	if ((rc = sock_addr(path, &sa)) != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect completes at once or fails (EAGAIN: backlog full);
	 * either way there is nothing to wait for here. */
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}
