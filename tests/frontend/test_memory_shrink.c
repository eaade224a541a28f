/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/test_memory_shrink.c - a frontend that shrinks its guest
 * memory under a running vhostmq costs its own connection only. One vhostmq
 * process serves two devices (loopback ports, adaptive mode, one poll thread
 * for both): a bystander passes frames all along on its own thread, while the
 * hostile frontend sets up its rings, passes frames, then cuts its memfd to
 * one page and kicks its TX ring as a guest sending more frames does (it
 * cannot write the frames themselves: its own mapping lost those pages too).
 * vhostmq must stay alive, log exactly one line naming the device and the
 * region, close the hostile connection, keep returning the bystander's
 * frames, accept a new frontend on the hostile socket, and exit cleanly.
 * Without the SIGBUS guard the first access to the lost pages kills it.
 * Usage: test-memory-shrink PATH-TO-VHOSTMQ */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "tests/frontend/frontend.h"

#define FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
                  VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_MAC) | \
                  VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
#define FRAME_LEN 200u

static const char *vhostmq_bin;
static char cfg_path[128], log_path[128], sock_by[108], sock_host[108];
static pid_t backend;

static int
start_backend(void **state)
{
	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/vhostmq-shrink-%d.json", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/vhostmq-shrink-%d.log", getpid());
	snprintf(sock_by, sizeof(sock_by), "/tmp/vhostmq-shrink-%d-by.sock", getpid());
	snprintf(sock_host, sizeof(sock_host), "/tmp/vhostmq-shrink-%d-host.sock", getpid());
	/* Both devices on one poll thread: the fault hits the thread the
	 * bystander needs. */
	if (fe_write_bystander_config(cfg_path, sock_by, sock_host, 1) != 0)
		return -1;
	backend = fe_spawn_backend(log_path, (char *[]){ (char *)vhostmq_bin, "--config",
	                                                 cfg_path, NULL });
	return backend > 0 ? 0 : -1;
}

static int
stop_backend(void **state)
{
	(void)state;
	if (backend > 0) {               /* a test failed before the exit test */
		fe_stop_backend(backend);
		backend = 0;
		fe_dump_log(log_path);
	}
	unlink(sock_by);
	unlink(sock_host);
	unlink(cfg_path);
	return 0;
}

/* A frame whose payload encodes seq; loopback swaps the MAC addresses. */
static void
make_frame(uint8_t *f, uint32_t seq, bool swapped)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 0, 2 }, b[6] = { 2, 0, 0, 0, 0, 1 };

	memcpy(f, swapped ? b : a, 6);
	memcpy(f + 6, swapped ? a : b, 6);
	f[12] = 0x88;                    /* local experimental ethertype 0x88b5 */
	f[13] = 0xb5;
	for (uint32_t i = 14; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq * 7 + i * 13);
}

/* One frame out and back; 0, or what went wrong. */
static const char *
round_trip(struct fe *f, uint32_t seq)
{
	uint8_t out[FRAME_LEN], want[FRAME_LEN], got[2048];
	int n;

	make_frame(out, seq, false);
	make_frame(want, seq, true);
	if (fe_tx(f, 0, out, FRAME_LEN, false) != 0)
		return "fe_tx failed";
	n = fe_rx(f, 0, got, sizeof(got), 3000);
	if (n != (int)FRAME_LEN)
		return n == 0 ? "no frame back within 3 s" : "malformed frame back";
	return memcmp(got, want, FRAME_LEN) == 0 ? NULL : "frame came back changed";
}

static void
bring_up(struct fe *f, const char *sock)
{
	assert_int_equal(fe_connect(f, sock, 1, 5000), 0);
	assert_int_equal(fe_qemu_init(f), 0);
	assert_int_equal(fe_qemu_start(f, FEATURES, 256, 2048), 0);
}

/* The bystander: frames out and back on its own thread until told to stop. */
struct bystander {
	struct fe f;
	pthread_t thread;
	int stop;                        /* main -> thread */
	uint64_t ok;                     /* thread -> main: round trips done */
	const char *err;                 /* set once, before the thread ends */
};

static void *
bystander_main(void *arg)
{
	struct bystander *b = arg;

	for (uint32_t seq = 0; !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE); seq++) {
		const char *e = round_trip(&b->f, seq);

		if (e != NULL) {
			__atomic_store_n(&b->err, e, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&b->ok, b->ok + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t
bystander_ok(struct bystander *b)
{
	return __atomic_load_n(&b->ok, __ATOMIC_ACQUIRE);
}

/* Waits until the bystander has done n more round trips; false on error or
 * after 10 s. */
static bool
bystander_advances(struct bystander *b, uint64_t n)
{
	uint64_t from = bystander_ok(b);

	for (int i = 0; i < 1000; i++) {
		if (__atomic_load_n(&b->err, __ATOMIC_ACQUIRE) != NULL)
			return false;
		if (bystander_ok(b) - from >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/* Lines of the log containing every one of the given parts. */
static unsigned
log_lines_with(const char *a, const char *b)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(log_path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
			n++;
	fclose(f);
	return n;
}

static bool
backend_alive(void)
{
	return waitpid(backend, NULL, WNOHANG) == 0;
}

static void
test_shrunk_memory_closes_only_that_device(void **state)
{
	static struct bystander b;
	struct pollfd p;
	struct fe h;
	uint8_t byte;
	ssize_t n;

	(void)state;
	memset(&b, 0, sizeof(b));
	bring_up(&b.f, sock_by);
	assert_int_equal(pthread_create(&b.thread, NULL, bystander_main, &b), 0);
	assert_true(bystander_advances(&b, 50));

	bring_up(&h, sock_host);
	for (uint32_t s = 0; s < 20; s++) {
		const char *e = round_trip(&h, s);

		if (e != NULL)
			fail_msg("hostile device before the shrink: %s", e);
	}
	assert_true(bystander_advances(&b, 50));

	/* The shrink. From here on the test must not touch h.mem past the
	 * first page: its own mapping lost those pages too. */
	assert_int_equal(ftruncate(h.memfd, 4096), 0);
	for (int i = 0; i < 10; i++) {
		eventfd_write(h.q[1].kick_fd, 1);        /* "more frames on TX 0" */
		usleep(1000);
	}

	/* vhostmq closes the hostile connection... */
	p = (struct pollfd){ .fd = h.sock, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	n = read(h.sock, &byte, 1);
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	/* ...and is still there, serving the bystander. */
	if (!backend_alive()) {
		backend = 0;
		fe_dump_log(log_path);
		fail_msg("vhostmq died when the hostile frontend shrank its memory");
	}
	assert_true(bystander_advances(&b, 200));
	assert_int_equal(log_lines_with("device hostile: guest memory region 0 shrank under us "
	                                 "(SIGBUS at offset 0x", "); closing the connection"), 1);
	assert_int_equal(log_lines_with("shrank under us", NULL), 1);
	assert_int_equal(log_lines_with("device hostile: frontend detached", NULL), 1);
	assert_int_equal(log_lines_with("device bystander: frontend detached", NULL), 0);
	fe_close(&h);

	/* The hostile device went through the normal disconnect: a new
	 * frontend on its socket gets a working device. */
	bring_up(&h, sock_host);
	for (uint32_t s = 0; s < 20; s++) {
		const char *e = round_trip(&h, s);

		if (e != NULL)
			fail_msg("hostile device after reconnecting: %s", e);
	}
	fe_close(&h);

	assert_true(bystander_advances(&b, 50));
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(b.thread, NULL), 0);
	assert_null(b.err);
	fe_close(&b.f);
}

/* vhostmq exits cleanly on SIGTERM and removes both sockets. */
static void
test_backend_exits_cleanly(void **state)
{
	int status = fe_stop_backend(backend);

	(void)state;
	backend = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || access(sock_by, F_OK) == 0 ||
	    access(sock_host, F_OK) == 0) {
		fprintf(stderr, "vhostmq did not exit cleanly (status 0x%x) or left a socket\n",
		        status);
		fe_dump_log(log_path);
		fail();
	}
	if (getenv("KEEP_LOG") == NULL)
		unlink(log_path);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrunk_memory_closes_only_that_device),
		cmocka_unit_test(test_backend_exits_cleanly),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-VHOSTMQ\n", argv[0]);
		return 2;
	}
	vhostmq_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("memory_shrink", tests, start_backend, stop_backend);
}
