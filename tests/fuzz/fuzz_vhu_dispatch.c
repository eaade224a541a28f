/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/fuzz_vhu_dispatch.c - libFuzzer target for the vhost-user gate:
 * the input is what a frontend writes to the socket (raw bytes in chunks, with
 * memfds, eventfds or pipes attached; layout in fuzz.h), fed through a
 * socketpair into the real reassembly (vhost-user/msg.c) and dispatcher
 * (vhost-user/conn.c), exactly as the backend's epoll loop drives a device:
 * vhu_conn_readable() on every readable event, vhu_conn_free() once it returns
 * an error or the frontend goes away. A vring that becomes ready is started
 * as the backend starts it (vq_map() over the device's memory table, one
 * vq_pop()), so ring addresses from the frontend meet the real translation.
 * What counts as a finding, beyond what ASan/UBSan/LeakSanitizer report:
 * - an fd or a guest-memory mapping still open after vhu_conn_free(): neither
 *   is memory, so LeakSanitizer cannot see them;
 * - a vhu_ops contract broken: a running vring whose memory, features, ring
 *   or fds changed under the poll thread (no stop first), an empty set, a vring index outside the device, a vring still running
 *   after vhu_conn_free();
 * - an fd the device holds that is closed, or held twice. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tests/fuzz/fuzz.h"
#include "tests/wire.h"
#include "vhost-user/conn.h"
#include "common/log.h"
#include "virtio/vnet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MEMFD_NAME "fuzz-vhu"
#define FZ_MAX_VRINGS (2 * (FZ_VHU_QP_MASK + 1))
/* Readable events in a row before we call it a hang: each one handles a
 * message or more, or finds the socket empty. */
#define FZ_MAX_EVENTS 100000


/* The owner as the backend would be, reduced to the vhu_ops contract. */
struct fz_owner {
	struct vhu_conn *d;               /* NULL until vhu_conn_new() returned */
	bool know_position;
	bool running[FZ_MAX_VRINGS];     /* committed while ready, not stopped since */
	struct vhu_vring snap[FZ_MAX_VRINGS];  /* what each running vring started with */
	const struct gmem *snap_mem[FZ_MAX_VRINGS];
	uint64_t snap_features[FZ_MAX_VRINGS];
};

static void
fz_vqi_check(const struct fz_owner *o, uint32_t vqi)
{
	FZ_CHECK(o->d != NULL, "owner called before vhu_conn_new() returned");
	FZ_CHECK(vqi < vhu_conn_nvrings(o->d) && vqi < FZ_MAX_VRINGS,
	         "vring %u, device has %u", vqi, vhu_conn_nvrings(o->d));
}

/* Checks every vring of a transaction's set; false for an empty set. */
static bool
fz_set_check(const struct fz_owner *o, const struct vhu_vring_set *set)
{
	bool any = false;

	for (uint32_t vqi = 0; vqi < VHU_MAX_VRINGS; vqi++)
		if (vhu_set_has(set, vqi)) {
			fz_vqi_check(o, vqi);
			any = true;
		}
	return any;
}

static void
fz_stop(void *owner, const struct vhu_vring_set *set)
{
	struct fz_owner *o = owner;

	FZ_CHECK(fz_set_check(o, set), "stop with an empty set");
	for (uint32_t vqi = 0; vqi < FZ_MAX_VRINGS && vqi < VHU_MAX_VRINGS; vqi++)
		if (vhu_set_has(set, vqi))
			o->running[vqi] = false;
}

/* What the backend does with a ready vring: translate its rings through the
 * memory table just mapped (ring addresses and sizes come straight from the
 * frontend) and poll it once. Nobody wrote the rings, so whatever vq_pop()
 * finds there is what the device itself left (used->flags). */
static void
fz_start_ring(const struct fz_owner *o, uint32_t vqi)
{
	const struct vhu_vring *v = vhu_conn_vring(o->d, vqi);
	enum vq_dir dir = vnet_vqi_dir(vqi) == VNET_RX ? VQ_DIR_DEVICE_WRITES
	                                               : VQ_DIR_DEVICE_READS;
	const struct gmem *mem = vhu_conn_mem(o->d);
	struct vq vq;
	struct vq_chain c;

	if (vq_map(&vq, mem, &v->addrs, v->num, dir,
	           vhu_conn_features(o->d), v->base) != VQ_OK)
		return;
	(void)vq_pop(&vq, mem, &c);
	(void)vq_publish(&vq);
}

static void
fz_commit(void *owner, const struct vhu_vring_set *set)
{
	struct fz_owner *o = owner;

	FZ_CHECK(fz_set_check(o, set), "commit with an empty set");
	for (uint32_t vqi = 0; vqi < FZ_MAX_VRINGS && vqi < VHU_MAX_VRINGS; vqi++) {
		bool ready;

		if (!vhu_set_has(set, vqi))
			continue;
		ready = vhu_vring_ready(o->d, vqi);
		/* A running vring stays as it started (checked after every
		 * message against its snapshot) or stops. */
		if (o->running[vqi] || !ready) {
			o->running[vqi] = o->running[vqi] && ready;
			continue;
		}
		o->running[vqi] = true;
		o->snap[vqi] = *vhu_conn_vring(o->d, vqi);
		o->snap_mem[vqi] = vhu_conn_mem(o->d);
		o->snap_features[vqi] = vhu_conn_features(o->d);
		fz_start_ring(o, vqi);
	}
}

static bool
fz_position(void *owner, uint32_t vqi, uint16_t *last_avail)
{
	struct fz_owner *o = owner;

	fz_vqi_check(o, vqi);
	if (!o->know_position)
		return false;
	*last_avail = (uint16_t)(vqi * 3 + 1);
	return true;
}

static void
fz_reset(void *owner)
{
	struct fz_owner *o = owner;

	for (uint32_t i = 0; i < FZ_MAX_VRINGS; i++)
		FZ_CHECK(!o->running[i], "reset with vring %u still running", i);
}

static const struct vhu_ops fz_ops = {
	.stop = fz_stop,
	.commit = fz_commit,
	.position = fz_position,
	.reset = fz_reset,
};

static bool
fz_fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* After every readable event: what a poll thread relies on still holds. */
static void
fz_check_device(const struct fz_owner *o, int sock)
{
	int held[3 * FZ_MAX_VRINGS];
	unsigned nheld = 0;

	for (uint32_t i = 0; i < vhu_conn_nvrings(o->d); i++) {
		const struct vhu_vring *v = vhu_conn_vring(o->d, i);
		const struct vhu_vring *s = &o->snap[i];
		const int fds[3] = { v->kick_fd, v->call_fd, v->err_fd };

		for (unsigned k = 0; k < 3; k++) {
			if (fds[k] < 0)
				continue;
			FZ_CHECK(fz_fd_open(fds[k]), "vring %u holds closed fd %d", i, fds[k]);
			FZ_CHECK(fds[k] != sock, "vring %u holds the socket", i);
			for (unsigned j = 0; j < nheld; j++)
				FZ_CHECK(held[j] != fds[k], "fd %d held twice", fds[k]);
			held[nheld++] = fds[k];
		}
		if (!o->running[i])
			continue;
		FZ_CHECK(vhu_vring_ready(o->d, i), "running vring %u is not ready", i);
		FZ_CHECK(vhu_conn_mem(o->d) == o->snap_mem[i], "memory of running vring %u", i);
		FZ_CHECK(vhu_conn_features(o->d) == o->snap_features[i],
		         "features of running vring %u", i);
		FZ_CHECK(v->num == s->num && v->base == s->base &&
		         v->addrs.desc_fva == s->addrs.desc_fva &&
		         v->addrs.avail_fva == s->addrs.avail_fva &&
		         v->addrs.used_fva == s->addrs.used_fva,
		         "ring of running vring %u changed", i);
		FZ_CHECK(v->kick_fd == s->kick_fd && v->call_fd == s->call_fd &&
		         v->err_fd == s->err_fd, "fds of running vring %u changed", i);
	}
}

static int
fz_memfd(uint64_t size, bool seal)
{
	int fd = memfd_create(FZ_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	FZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	FZ_CHECK(ftruncate(fd, (off_t)size) == 0, "ftruncate: %s", strerror(errno));
	if (seal)
		FZ_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0, "seal: %s", strerror(errno));
	return fd;
}

/* The fds of one record: created here, sent, then closed here (the kernel
 * holds its own reference while they are in flight). */
static void
fz_make_fds(int *fds, unsigned n, enum fz_vhu_kind kind, uint8_t pages, bool same)
{
	uint64_t base = (uint64_t)(pages & FZ_VHU_PAGES_MASK) * 4096 +
	                (pages & 1 ? FZ_VHU_ODD_TAIL : 0);

	for (unsigned k = 0; k < n; k++) {
		if (same && k > 0) {
			fds[k] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
			FZ_CHECK(fds[k] >= 0, "dup: %s", strerror(errno));
			continue;
		}
		enum fz_vhu_kind kk = kind == FZ_VHU_MIXED ? (k & 1 ? FZ_VHU_EVENTFD : FZ_VHU_MEMFD)
		                                           : kind;
		int p[2];

		switch (kk) {
		case FZ_VHU_EVENTFD:
			fds[k] = eventfd(0, EFD_CLOEXEC);
			FZ_CHECK(fds[k] >= 0, "eventfd: %s", strerror(errno));
			break;
		case FZ_VHU_PIPE:
			FZ_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
			close(p[1]);
			fds[k] = p[0];
			break;
		default:
			fds[k] = fz_memfd(base + 4096ull * k, pages & FZ_VHU_SEAL);
			break;
		}
	}
}

/* Replies are not checked here (the unit tests do); they are read so a
 * chatty input never fills the socket and turns replies into errors. */
static void
fz_drain(int peer)
{
	uint8_t buf[4096];

	while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* One readable event, repeated while the socket still has bytes (the
 * backend's epoll is level-triggered). Negative: the device must go. */
static int
fz_readable(struct fz_owner *o, int peer)
{
	int sock = vhu_conn_sock(o->d);

	for (unsigned ev = 0; ev < FZ_MAX_EVENTS; ev++) {
		int rc = vhu_conn_readable(o->d), avail = 0;

		fz_drain(peer);
		if (rc != 0)
			return rc;
		fz_check_device(o, sock);
		if (ioctl(sock, FIONREAD, &avail) != 0 || avail == 0)
			return 0;
	}
	FZ_CHECK(false, "%u readable events and the socket still has bytes", FZ_MAX_EVENTS);
	return 0;
}

static void
fz_free_device(struct fz_owner *o)
{
	vhu_conn_free(o->d);
	o->d = NULL;
	for (uint32_t i = 0; i < FZ_MAX_VRINGS; i++)
		FZ_CHECK(!o->running[i], "vring %u still running after vhu_conn_free()", i);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_report_init();
	/* Rejections still log, as in production; FUZZ_VERBOSE=1 shows every
	 * message too, for replaying one input by hand. */
	vlog_set_level(getenv("FUZZ_VERBOSE") != NULL ? VLOG_DEBUG : VLOG_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { .p = data, .n = size };
	static struct fz_owner o;        /* static: big, and reset below */
	unsigned fds0 = fz_count_fds();
	uint8_t dev = fz_u8(&in);
	struct vhu_conn_params p = {
		.name = "fuzz", .max_qp = (uint16_t)(1 + (dev & FZ_VHU_QP_MASK)),
		.offer.mtu = dev & FZ_VHU_MTU, .mtu = dev & FZ_VHU_MTU ? 1500 : 0,
		.ops = &fz_ops, .owner = &o,
	};
	bool gone = false;               /* the device asked to be closed */
	int sv[2];

	memset(&o, 0, sizeof(o));
	o.know_position = dev & FZ_VHU_POSITION;
	FZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
	         "socketpair: %s", strerror(errno));
	o.d = vhu_conn_new(&p, sv[0]);    /* owns sv[0] from here */
	FZ_CHECK(o.d != NULL, "vhu_conn_new refused max_qp %u", p.max_qp);

	while (!gone && fz_left(&in) > 0) {
		uint8_t ctl = fz_u8(&in), pages = fz_u8(&in);
		size_t want = fz_u16(&in), len;
		const uint8_t *bytes = fz_span(&in, want, &len);
		unsigned nfds = ctl & FZ_VHU_NFDS_MASK;
		int fds[FZ_VHU_NFDS_MASK];

		/* A stream socket drops fds sent with no bytes: send none. */
		if (len == 0)
			nfds = 0;
		fz_make_fds(fds, nfds,
		            (enum fz_vhu_kind)((ctl & FZ_VHU_KIND_MASK) >> FZ_VHU_KIND_SHIFT),
		            pages, ctl & FZ_VHU_SAME);
		if (len > 0)
			(void)wire_send(sv[1], bytes, len, fds, nfds);  /* a full socket is input too */
		for (unsigned k = 0; k < nfds; k++)
			close(fds[k]);
		if (!(ctl & FZ_VHU_DEFER))
			gone = fz_readable(&o, sv[1]) != 0;
	}
	/* The frontend leaves: the device reads what is still queued, then EOF. */
	if (!gone) {
		shutdown(sv[1], SHUT_WR);
		FZ_CHECK(fz_readable(&o, sv[1]) != 0, "the device did not see the frontend leave");
	}
	fz_free_device(&o);
	close(sv[1]);

	FZ_CHECK(fz_count_fds() == fds0, "%u fds open, %u before the input", fz_count_fds(),
	         fds0);
	FZ_CHECK(fz_count_maps("memfd:" FZ_MEMFD_NAME) == 0, "guest memory still mapped");
	return 0;
}
