/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_msg.c - message framing of vhost-user/msg.c over a
 * non-blocking socketpair: whole messages, messages in pieces (byte by byte,
 * fds on the first piece), two messages in one write, the largest payload and
 * one byte more (refused before a payload byte is read), fds up to the limit
 * and past it (in one control message, where the kernel truncates, and spread
 * over pieces), EOF between messages and inside one, a socket recvmsg()
 * refuses; every received fd close-on-exec and either owned by the message or
 * closed (the /proc/self/fd count before and after); and the replies
 * vhu_msg_send() writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/vhost-user/vhu_test.h"
#include "tests/wire.h"
#include "common/base.h"
#include "vhost-user/msg.h"

#define HDR ((uint32_t)sizeof(struct vhu_hdr))

/* One socketpair: sock is vhostmq's end (non-blocking), peer the frontend's;
 * rx reassembles on sock. */
struct pair {
	int sock, peer;
	struct vhu_rx rx;
	unsigned fds_before;             /* open fds before the pair existed */
};

static int
setup(void **state)
{
	struct pair *p = test_calloc(1, sizeof(*p));
	int sv[2];

	p->fds_before = vt_count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                            0, sv), 0);
	p->sock = sv[0];
	p->peer = sv[1];
	vhu_rx_init(&p->rx);
	*state = p;
	return 0;
}

/* Also the leak check: after the partial message's fds are dropped and both
 * ends closed, the process has exactly the fds it had before. */
static int
teardown(void **state)
{
	struct pair *p = *state;

	vhu_rx_reset(&p->rx);
	close(p->sock);
	if (p->peer >= 0)
		close(p->peer);
	assert_int_equal(vt_count_fds(), p->fds_before);
	test_free(p);
	return 0;
}

/* Header + payload as the frontend lays them out on the wire. */
static size_t
wire_msg(uint8_t *buf, uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	struct vhu_hdr h = { .request = req, .flags = flags | VHOST_USER_VERSION,
	                     .size = size };

	memcpy(buf, &h, HDR);
	if (size)
		memcpy(buf + HDR, payload, size);
	return HDR + size;
}

static enum vhu_rx_res
recv_msg(struct pair *p, struct vhu_msg *m, const char **why)
{
	memset(m, 0xa5, sizeof(*m));    /* nothing of this may show through */
	*why = "untouched";
	return vhu_msg_recv(p->sock, &p->rx, m, why);
}

/* Bytes still unread on vhostmq's end. */
static int
unread(const struct pair *p)
{
	int n = -1;

	assert_int_equal(ioctl(p->sock, FIONREAD, &n), 0);
	return n;
}

/* A file of its own (eventfds all share one inode, memfds do not). */
static int
new_file(void)
{
	return vt_memfd("msg", 0);
}

/* Whether a and b are the same open file. */
static bool
same_file(int a, int b)
{
	struct stat sa, sb;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
test_whole_message(void **state)
{
	struct pair *p = *state;
	const struct vhu_vring_state vs = { .index = 3, .num = 256 };
	uint8_t buf[64];
	struct vhu_msg m;
	const char *why;
	size_t len = wire_msg(buf, VHOST_USER_SET_VRING_NUM, 0, &vs, sizeof(vs));

	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);    /* nothing yet */
	vt_write(p->peer, buf, len, NULL, 0);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_NUM);
	assert_int_equal(m.hdr.flags, VHOST_USER_VERSION);
	assert_int_equal(m.hdr.size, sizeof(vs));
	assert_int_equal(m.p.state.index, 3);
	assert_int_equal(m.p.state.num, 256);
	/* The rest of the payload union is zeroed, not left over. */
	for (size_t k = sizeof(vs); k < sizeof(m.p.raw); k++)
		assert_int_equal(m.p.raw[k], 0);
	assert_int_equal(m.nfds, 0);
	assert_int_equal(p->rx.got, 0);                          /* ready for the next */
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);
}

static void
test_empty_payload(void **state)
{
	struct pair *p = *state;
	uint8_t buf[HDR];
	struct vhu_msg m;
	const char *why;

	vt_write(p->peer, buf, wire_msg(buf, VHOST_USER_GET_FEATURES,
	                                  VHOST_USER_NEED_REPLY, NULL, 0), NULL, 0);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(m.hdr.flags, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY);
	assert_int_equal(m.hdr.size, 0);
	for (size_t k = 0; k < sizeof(m.p.raw); k++)
		assert_int_equal(m.p.raw[k], 0);
	assert_int_equal(m.nfds, 0);
}

/* A frontend that writes one byte at a time: every call before the last
 * byte says MORE, the fd sent with the first byte arrives with the message. */
static void
test_byte_by_byte(void **state)
{
	struct pair *p = *state;
	const uint64_t v = UINT64_C(0x100) | 5;  /* NOFD clear: an fd comes */
	uint8_t buf[64];
	struct vhu_msg m;
	const char *why;
	size_t len = wire_msg(buf, VHOST_USER_SET_VRING_KICK, 0, &v, sizeof(v));
	int efd = new_file();

	for (size_t k = 0; k < len; k++) {
		vt_write(p->peer, buf + k, 1, k == 0 ? &efd : NULL, k == 0);
		if (k + 1 < len) {
			assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);
			assert_int_equal(p->rx.got, k + 1);
			assert_int_equal(p->rx.nfds, 1);
		}
	}
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(m.p.u64, v);
	assert_int_equal(m.nfds, 1);
	assert_true(same_file(m.fds[0], efd));
	assert_int_equal(fcntl(m.fds[0], F_GETFD), FD_CLOEXEC);
	assert_int_equal(p->rx.nfds, 0);                         /* handed to m */
	vhu_msg_close_fds(&m);
	close(efd);
}

/* Two messages in one write: the first read stops at the first's end. */
static void
test_two_in_one_write(void **state)
{
	struct pair *p = *state;
	const uint64_t feat = UINT64_C(0x140000000);
	const struct vhu_vring_state vs = { .index = 1, .num = 0 };
	uint8_t buf[128];
	struct vhu_msg m;
	const char *why;
	size_t len = wire_msg(buf, VHOST_USER_SET_FEATURES, 0, &feat, sizeof(feat));

	len += wire_msg(buf + len, VHOST_USER_SET_VRING_BASE, 0, &vs, sizeof(vs));
	vt_write(p->peer, buf, len, NULL, 0);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_FEATURES);
	assert_int_equal(m.p.u64, feat);
	assert_int_equal(unread(p), HDR + sizeof(vs));
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_BASE);
	assert_int_equal(m.hdr.size, sizeof(vs));
	assert_int_equal(m.p.state.index, 1);
	assert_int_equal(m.p.state.num, 0);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);
}

/* The largest payload any message has (the memory table with its 8 fds)
 * comes through whole; its fds in the order sent. */
static void
test_largest_payload_and_fds(void **state)
{
	struct pair *p = *state;
	static uint8_t buf[HDR + VHU_MAX_PAYLOAD];
	struct vhu_mem_table t = { .nregions = VHU_MAX_FDS };
	int fds[VHU_MAX_FDS];
	struct vhu_msg m;
	const char *why;

	for (unsigned k = 0; k < VHU_MAX_FDS; k++) {
		t.r[k] = (struct vhu_mem_region){ .gpa = k << 20, .size = 1 << 20,
		                                  .fva = UINT64_C(0x7f0000000000) + (k << 20),
		                                  .mmap_offset = k };
		fds[k] = new_file();
	}
	vt_write(p->peer, buf, wire_msg(buf, VHOST_USER_SET_MEM_TABLE, 0, &t, sizeof(t)),
	         fds, VHU_MAX_FDS);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.size, VHU_MAX_PAYLOAD);
	assert_memory_equal(&m.p.mem, &t, sizeof(t));
	assert_int_equal(m.nfds, VHU_MAX_FDS);
	for (unsigned k = 0; k < VHU_MAX_FDS; k++) {
		assert_true(same_file(m.fds[k], fds[k]));
		assert_int_equal(fcntl(m.fds[k], F_GETFD), FD_CLOEXEC);
		close(fds[k]);
	}
	vhu_msg_close_fds(&m);
	assert_int_equal(m.nfds, 0);
}

/* One byte over the largest payload: refused on the header alone, no
 * payload byte read (a hostile size never reaches the buffer). */
static void
test_oversize_payload(void **state)
{
	struct pair *p = *state;
	static uint8_t buf[HDR + VHU_MAX_PAYLOAD + 1];
	struct vhu_msg m;
	const char *why;
	const uint32_t sizes[] = { VHU_MAX_PAYLOAD + 1, UINT32_MAX };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct vhu_hdr h = { .request = VHOST_USER_SET_MEM_TABLE,
		                     .flags = VHOST_USER_VERSION, .size = sizes[k] };

		memcpy(buf, &h, HDR);
		vt_write(p->peer, buf, HDR + 16, NULL, 0);
		assert_int_equal(recv_msg(p, &m, &why), VHU_RX_BAD);
		assert_string_equal(why, "header: payload size larger than any message we accept");
		assert_int_equal(unread(p), 16);
		/* Asked again, the same answer: the connection is done. */
		assert_int_equal(recv_msg(p, &m, &why), VHU_RX_BAD);
		assert_int_equal(unread(p), 16);
		vhu_rx_reset(&p->rx);
		assert_int_equal(recv(p->sock, buf, 16, 0), 16);
	}
}

/* Nine fds in one control message: the kernel cuts what does not fit our
 * buffer (MSG_CTRUNC) and the message is bad; the eight we did get stay
 * with the partial message until vhu_rx_reset() closes them. */
static void
test_too_many_fds_at_once(void **state)
{
	struct pair *p = *state;
	const uint64_t v = 0;
	int fds[VHU_MAX_FDS + 1];
	uint8_t buf[64];
	struct vhu_msg m;
	const char *why;
	unsigned before;

	for (unsigned k = 0; k < ARRAY_SIZE(fds); k++)
		fds[k] = vt_eventfd();
	before = vt_count_fds();
	vt_write(p->peer, buf, wire_msg(buf, VHOST_USER_SET_VRING_CALL, 0, &v, sizeof(v)),
	         fds, ARRAY_SIZE(fds));
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_BAD);
	assert_string_equal(why, "header: more file descriptors than any message carries");
	assert_true(p->rx.nfds <= VHU_MAX_FDS);
	vhu_rx_reset(&p->rx);
	assert_int_equal(p->rx.nfds, 0);
	assert_int_equal(p->rx.got, 0);
	assert_int_equal(vt_count_fds(), before);
	for (unsigned k = 0; k < ARRAY_SIZE(fds); k++)
		close(fds[k]);
}

/* Five fds with the header, five more with the payload: each control
 * message fits, the sum does not. The fd past the limit is closed at once,
 * the others by vhu_rx_reset(). */
static void
test_too_many_fds_over_pieces(void **state)
{
	struct pair *p = *state;
	const uint64_t v = 0;
	int fds[10];
	uint8_t buf[64];
	struct vhu_msg m;
	const char *why;
	unsigned before;
	size_t len = wire_msg(buf, VHOST_USER_SET_VRING_ERR, 0, &v, sizeof(v));

	for (unsigned k = 0; k < ARRAY_SIZE(fds); k++)
		fds[k] = new_file();
	before = vt_count_fds();
	vt_write(p->peer, buf, HDR, fds, 5);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);
	assert_int_equal(p->rx.nfds, 5);
	assert_int_equal(vt_count_fds(), before + 5);
	vt_write(p->peer, buf + HDR, len - HDR, fds + 5, 5);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_BAD);
	assert_string_equal(why, "header: more file descriptors than any message carries");
	assert_int_equal(p->rx.nfds, VHU_MAX_FDS);
	assert_int_equal(vt_count_fds(), before + VHU_MAX_FDS);
	for (unsigned k = 0; k < VHU_MAX_FDS; k++)
		assert_true(same_file(p->rx.fds[k], fds[k]));
	vhu_rx_reset(&p->rx);
	assert_int_equal(vt_count_fds(), before);
	for (unsigned k = 0; k < ARRAY_SIZE(fds); k++)
		close(fds[k]);
}

static void
test_eof_between_messages(void **state)
{
	struct pair *p = *state;
	struct vhu_msg m;
	const char *why;

	close(p->peer);
	p->peer = -1;
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_EOF);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_EOF);
}

/* The peer goes away inside the header, and inside the payload with an fd
 * already received: bad, and the fd goes with vhu_rx_reset(). */
static void
test_eof_mid_message(void **state)
{
	struct pair *p = *state;
	const uint64_t v = 2;
	uint8_t buf[64];
	size_t len = wire_msg(buf, VHOST_USER_SET_VRING_CALL, 0, &v, sizeof(v));
	const size_t cuts[] = { 1, HDR - 1, HDR, len - 1 };

	for (size_t k = 0; k < ARRAY_SIZE(cuts); k++) {
		struct vhu_msg m;
		const char *why;
		int sv[2], efd = vt_eventfd();
		unsigned before = vt_count_fds();

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		vt_write(sv[1], buf, cuts[k], &efd, 1);
		assert_int_equal(vhu_msg_recv(sv[0], &p->rx, &m, &why), VHU_RX_MORE);
		assert_int_equal(p->rx.got, cuts[k]);
		close(sv[1]);
		assert_int_equal(vhu_msg_recv(sv[0], &p->rx, &m, &why), VHU_RX_BAD);
		assert_string_equal(why, "connection closed in the middle of a message");
		assert_int_equal(p->rx.nfds, 1);
		vhu_rx_reset(&p->rx);
		close(sv[0]);
		close(efd);
		assert_int_equal(vt_count_fds(), before - 1);
	}
}

/* vhu_rx_reset() drops a partial message: the next message starts clean. */
static void
test_reset_then_next(void **state)
{
	struct pair *p = *state;
	const uint64_t v = 7;
	uint8_t buf[64];
	struct vhu_msg m;
	const char *why;
	size_t len = wire_msg(buf, VHOST_USER_SET_VRING_KICK, 0, &v, sizeof(v));
	int efd = vt_eventfd();
	unsigned before = vt_count_fds();

	vt_write(p->peer, buf, 5, &efd, 1);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MORE);
	assert_int_equal(vt_count_fds(), before + 1);
	vhu_rx_reset(&p->rx);
	assert_int_equal(vt_count_fds(), before);
	assert_true(vt_fd_is_open(efd));                         /* the sender's copy */
	vt_write(p->peer, buf, len, NULL, 0);
	assert_int_equal(recv_msg(p, &m, &why), VHU_RX_MSG);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(m.p.u64, 7);
	assert_int_equal(m.nfds, 0);
	close(efd);
}

/* recvmsg() itself fails (not a socket): bad, not "more". */
static void
test_recv_error(void **state)
{
	struct pair *p = *state;
	struct vhu_msg m;
	const char *why = "untouched";
	int pfd[2];

	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(write(pfd[1], "x", 1), 1);
	assert_int_equal(vhu_msg_recv(pfd[0], &p->rx, &m, &why), VHU_RX_BAD);
	assert_string_equal(why, "recvmsg failed");
	close(pfd[0]);
	close(pfd[1]);
}

/* vhu_msg_close_fds() closes what the message still owns, skips the entries
 * a handler took (set to -1), and forgets them: a second call must not
 * close the fd numbers the kernel hands out again. */
static void
test_close_fds(void **state)
{
	int a = vt_eventfd(), c = vt_eventfd();
	struct vhu_msg m = { .fds = { a, -1, c }, .nfds = 3 };
	int again;

	(void)state;
	vhu_msg_close_fds(&m);
	assert_int_equal(m.nfds, 0);
	assert_false(vt_fd_is_open(a));
	assert_false(vt_fd_is_open(c));
	again = vt_eventfd();                                    /* lowest free: a */
	assert_true(again == a || again == c);
	vhu_msg_close_fds(&m);
	assert_true(vt_fd_is_open(again));
	close(again);
}

/* Replies: header with VERSION | REPLY, the payload, nothing else. */
static void
test_send(void **state)
{
	struct pair *p = *state;
	const uint64_t feat = UINT64_C(0x1234567890);
	uint8_t buf[64];
	struct vhu_hdr h;

	assert_int_equal(vhu_msg_send(p->sock, VHOST_USER_GET_FEATURES, &feat, sizeof(feat)),
	                 0);
	assert_int_equal(recv(p->peer, buf, sizeof(buf), MSG_DONTWAIT), HDR + sizeof(feat));
	memcpy(&h, buf, HDR);
	assert_int_equal(h.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(h.flags, VHOST_USER_VERSION | VHOST_USER_REPLY);
	assert_int_equal(h.size, sizeof(feat));
	assert_memory_equal(buf + HDR, &feat, sizeof(feat));

	assert_int_equal(vhu_msg_send(p->sock, VHOST_USER_SET_OWNER, NULL, 0), 0);
	assert_int_equal(recv(p->peer, buf, sizeof(buf), MSG_DONTWAIT), HDR);
	memcpy(&h, buf, HDR);
	assert_int_equal(h.request, VHOST_USER_SET_OWNER);
	assert_int_equal(h.size, 0);
}

/* A frontend that stopped reading: the reply that does not fit is refused
 * (never blocks); a closed one: -EPIPE, no SIGPIPE. */
static void
test_send_refused(void **state)
{
	struct pair *p = *state;
	const uint64_t v = 1;
	int rc, n = 0;

	while ((rc = vhu_msg_send(p->sock, VHOST_USER_GET_FEATURES, &v, sizeof(v))) == 0)
		assert_true(++n < 1000000);
	assert_int_equal(rc, -EAGAIN);
	assert_true(n > 0);
	close(p->peer);
	p->peer = -1;
	assert_int_equal(vhu_msg_send(p->sock, VHOST_USER_GET_FEATURES, &v, sizeof(v)),
	                 -EPIPE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest t[] = {
		T(test_whole_message),
		T(test_empty_payload),
		T(test_byte_by_byte),
		T(test_two_in_one_write),
		T(test_largest_payload_and_fds),
		T(test_oversize_payload),
		T(test_too_many_fds_at_once),
		T(test_too_many_fds_over_pieces),
		T(test_eof_between_messages),
		T(test_eof_mid_message),
		T(test_reset_then_next),
		T(test_recv_error),
		T(test_close_fds),
		T(test_send),
		T(test_send_refused),
	};

	return cmocka_run_group_tests_name("vhu_msg", t, NULL, NULL);
}
