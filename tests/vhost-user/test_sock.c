/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_sock.c - the listening socket of a device: created
 * with the requested mode (whatever the umask) and owner, which decide who
 * can connect, non-blocking and close-on-exec; a stale socket file
 * left by a dead process is replaced; a live listener, a regular file, a
 * directory or a symlink at the path are refused and left untouched; paths too
 * long for sun_path are refused, and a busy live listener must not make
 * vhu_listen() block. Everything lives in a fresh directory under /tmp that
 * each test removes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "vhost-user/sock.h"

struct dir {
	char path[64];
	char sock[128];                  /* path/vhu.sock */
};

static int
setup(void **state)
{
	struct dir *d = test_calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/vhut-sock-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->sock, sizeof(d->sock), "%s/vhu.sock", d->path);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	/* Whatever a test left: files, a symlink, a subdirectory. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	test_free(d);
	return 0;
}

/* Connects to path; the fd, or -errno. */
static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* The listener works: a client connects and vhu_accept() hands it over. */
static void
expect_serving(int lfd, const char *path)
{
	int c = connect_to(path), a;

	assert_true(c >= 0);
	a = vhu_accept(lfd);
	assert_true(a >= 0);
	assert_true(fcntl(a, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(c, "x", 1), 1);
	{
		char b;

		assert_int_equal(read(a, &b, 1), 1);
		assert_int_equal(b, 'x');
	}
	close(a);
	close(c);
}

static void
test_listen_mode(void **state)
{
	static const mode_t modes[] = { 0600, 0660, 0666, 0700 };
	struct dir *d = *state;

	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		char why[256] = "untouched";
		struct stat st;
		int fd = vhu_listen(d->sock, modes[k], why, sizeof(why));

		assert_true(fd >= 0);
		assert_string_equal(why, "");
		assert_int_equal(lstat(d->sock, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 07777, modes[k]);
		assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		expect_serving(fd, d->sock);
		close(fd);                        /* leaves a stale file: the next round
		                                     replaces it */
	}
}

/* The mode is exact whatever the process's umask: bits the umask would take
 * (022 takes the group's write bit, which is what lets the group connect)
 * are put back, and nothing beyond the mode is ever granted. */
static void
test_listen_mode_ignores_umask(void **state)
{
	static const mode_t masks[] = { 0, 022, 077, 0777 };
	struct dir *d = *state;

	for (size_t k = 0; k < sizeof(masks) / sizeof(masks[0]); k++) {
		mode_t old = umask(masks[k]);
		char why[256];
		struct stat st;
		int fd = vhu_listen(d->sock, 0660, why, sizeof(why));

		umask(old);
		assert_true(fd >= 0);
		assert_int_equal(lstat(d->sock, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0660);
		close(fd);
	}
}

/* In a child: take uid/gid, connect to path; 0 if it connected, else errno. */
static int
connect_as(const char *path, uid_t uid, gid_t gid)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(100);
		fd = connect_to(path);
		_exit(fd >= 0 ? 0 : -fd);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Owner and group are set before anyone can connect, and with the mode they
 * decide who can: nobody:nogroup 0660 lets nobody and members of nogroup in,
 * and daemon (neither) out. Needs root to chown and to change users. */
static void
test_listen_owner(void **state)
{
	const struct vhu_sock_access a = { .mode = 0660, .uid = 65534, .gid = 65534 };
	struct dir *d = *state;
	char why[256] = "untouched";
	struct stat st;
	int fd;

	if (geteuid() != 0) {
		/* meson counts a cmocka skip as a pass: in CI, say why it fails */
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
			fail_msg("needs root to chown and change users (CI=true: a skip is a failure)");
		skip();
	}
	assert_int_equal(chmod(d->path, 0755), 0);  /* others may reach the socket */
	fd = vhu_listen_as(d->sock, &a, why, sizeof(why));
	assert_true(fd >= 0);
	assert_string_equal(why, "");
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(connect_as(d->sock, 65534, 65534), 0);   /* the owner */
	assert_int_equal(connect_as(d->sock, 1, 65534), 0);       /* the group */
	assert_int_equal(connect_as(d->sock, 1, 1), EACCES);      /* anyone else */
	for (int k = 0; k < 2; k++) {
		int c = vhu_accept(fd);

		assert_true(c >= 0);
		close(c);
	}
	close(fd);

	/* Only the group given: the owner stays the process's own. */
	{
		const struct vhu_sock_access g = { .mode = 0600, .uid = (uid_t)-1, .gid = 1 };

		fd = vhu_listen_as(d->sock, &g, why, sizeof(why));
		assert_true(fd >= 0);
		assert_int_equal(lstat(d->sock, &st), 0);
		assert_int_equal(st.st_uid, geteuid());
		assert_int_equal(st.st_gid, 1);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(connect_as(d->sock, 1, 1), EACCES);  /* group has no bits */
		close(fd);
	}
}

static void
test_accept_none_pending(void **state)
{
	struct dir *d = *state;
	char why[256];
	int fd = vhu_listen(d->sock, 0600, why, sizeof(why));

	assert_true(fd >= 0);
	assert_int_equal(vhu_accept(fd), -EAGAIN);
	assert_int_equal(vhu_accept(-1), -EBADF);
	close(fd);
}

/* A socket file whose process died (bound, closed, never unlinked). */
static void
test_listen_replaces_stale_socket(void **state)
{
	struct dir *d = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[256];
	struct stat st0, st1;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	assert_true(s >= 0);
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 1), 0);
	close(s);
	assert_int_equal(lstat(d->sock, &st0), 0);
	assert_true(S_ISSOCK(st0.st_mode));
	assert_int_equal(connect_to(d->sock), -ECONNREFUSED);

	fd = vhu_listen(d->sock, 0600, why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(lstat(d->sock, &st1), 0);
	assert_true(S_ISSOCK(st1.st_mode));
	expect_serving(fd, d->sock);                    /* the path is live again */
	close(fd);
}

static void
test_listen_refuses_live_socket(void **state)
{
	struct dir *d = *state;
	char why[256];
	struct stat st0, st1;
	int fd = vhu_listen(d->sock, 0600, why, sizeof(why)), fd2;

	assert_true(fd >= 0);
	assert_int_equal(lstat(d->sock, &st0), 0);
	fd2 = vhu_listen(d->sock, 0600, why, sizeof(why));
	assert_int_equal(fd2, -EADDRINUSE);
	assert_non_null(strstr(why, d->sock));
	/* The first listener is undisturbed: same file, still serving. */
	assert_int_equal(lstat(d->sock, &st1), 0);
	assert_int_equal(st1.st_ino, st0.st_ino);
	/* The probe connection made by the refused call is pending: take it. */
	{
		int probe = vhu_accept(fd);

		assert_true(probe >= 0);
		close(probe);
	}
	expect_serving(fd, d->sock);
	close(fd);
}

static void
test_listen_refuses_regular_file(void **state)
{
	static const char content[] = "not a socket\n";
	struct dir *d = *state;
	char why[256], back[sizeof(content)];
	struct stat st0, st1;
	int f = open(d->sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	assert_true(f >= 0);
	assert_int_equal(write(f, content, sizeof(content)), sizeof(content));
	close(f);
	assert_int_equal(lstat(d->sock, &st0), 0);

	assert_int_equal(vhu_listen(d->sock, 0600, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, d->sock));
	assert_int_equal(lstat(d->sock, &st1), 0);
	assert_true(S_ISREG(st1.st_mode));
	assert_int_equal(st1.st_ino, st0.st_ino);
	assert_int_equal(st1.st_mode, st0.st_mode);
	assert_int_equal(st1.st_size, sizeof(content));
	f = open(d->sock, O_RDONLY | O_CLOEXEC);
	assert_true(f >= 0);
	assert_int_equal(read(f, back, sizeof(back)), sizeof(content));
	assert_memory_equal(back, content, sizeof(content));
	close(f);
}

static void
test_listen_refuses_directory(void **state)
{
	struct dir *d = *state;
	char why[256];
	struct stat st;

	assert_int_equal(mkdir(d->sock, 0755), 0);
	assert_int_equal(vhu_listen(d->sock, 0600, why, sizeof(why)), -EEXIST);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

/* A symlink is never followed nor removed, even to a stale socket. */
static void
test_listen_refuses_symlink(void **state)
{
	struct dir *d = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char target[160], why[256];
	struct stat st;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(target, sizeof(target), "%s/target.sock", d->path);
	memcpy(sa.sun_path, target, strlen(target) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);                                    /* stale target */
	assert_int_equal(symlink(target, d->sock), 0);

	assert_int_equal(vhu_listen(d->sock, 0600, why, sizeof(why)), -EEXIST);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

static void
test_listen_path_length(void **state)
{
	struct dir *d = *state;
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path) + 16], why[512];
	size_t base = strlen(d->path) + 1;
	struct stat st;
	int fd;

	/* sizeof(sun_path) - 1 characters: the longest that fits. */
	memset(path, 'a', sizeof(path));
	memcpy(path, d->path, base - 1);
	path[base - 1] = '/';
	path[sizeof(sa.sun_path) - 1] = '\0';
	fd = vhu_listen(path, 0600, why, sizeof(why));
	assert_true(fd >= 0);
	expect_serving(fd, path);
	close(fd);

	/* One more does not. */
	memset(path, 'b', sizeof(path));
	memcpy(path, d->path, base - 1);
	path[base - 1] = '/';
	path[sizeof(sa.sun_path)] = '\0';
	assert_int_equal(vhu_listen(path, 0600, why, sizeof(why)), -ENAMETOOLONG);
	assert_non_null(strstr(why, "longer than"));
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	path[sizeof(path) - 1] = '\0';
	assert_int_equal(vhu_listen(path, 0600, why, sizeof(why)), -ENAMETOOLONG);
}

static void
test_listen_missing_directory(void **state)
{
	struct dir *d = *state;
	char path[160], why[256];

	snprintf(path, sizeof(path), "%s/no/such/dir.sock", d->path);
	assert_int_equal(vhu_listen(path, 0600, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, path));
}

/* A live listener whose accept backlog is full (a hung vhostmq, or any local
 * process that can create the path) must be refused promptly, not waited on:
 * the stale-socket probe is non-blocking. Run in a child so a regression
 * fails after 1 s instead of hanging. */
static void
test_listen_refuses_busy_listener(void **state)
{
	struct dir *d = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c[8], nc = 0, status = 0;
	struct stat st;
	pid_t pid, done = 0;

	assert_true(l >= 0);
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 0), 0);
	/* Fill the backlog: connect until the kernel says it is full. */
	for (; nc < 8; nc++) {
		c[nc] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(c[nc] >= 0);
		if (connect(c[nc], (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			assert_int_equal(errno, EAGAIN);
			nc++;
			break;
		}
	}
	assert_true(nc < 8);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[256];
		int rc = vhu_listen(d->sock, 0600, why, sizeof(why));

		_exit(rc < 0 ? 0 : 1);           /* 1: it took over a live path */
	}
	for (int i = 0; i < 50 && done == 0; i++) {    /* 1 s */
		done = waitpid(pid, &status, WNOHANG);
		if (done == 0)
			nanosleep(&tick, NULL);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	for (int i = 0; i < nc; i++)
		close(c[i]);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	close(l);
	if (done == 0)
		fail_msg("vhu_listen() still blocked after 1 s on a busy live listener");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listen_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_mode_ignores_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_none_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_replaces_stale_socket, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_listen_refuses_live_socket, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_listen_refuses_regular_file, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_listen_refuses_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_path_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_refuses_busy_listener, setup,
		                                teardown),
	};

	return cmocka_run_group_tests_name("vhu_sock", tests, NULL, NULL);
}
