/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/frontend/frontend.c - the test frontend behind frontend.h. The message
 * order follows QEMU 7.2's vhost-user net device: per queue pair
 * vhost_user_backend_init (GET_FEATURES, GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES, GET_QUEUE_NUM once), vhost_dev_init (SET_OWNER once,
 * GET_FEATURES, SET_VRING_CALL per vring with the masked notifier), then at
 * DRIVER_OK vhost_dev_start (SET_FEATURES, SET_MEM_TABLE once with
 * NEED_REPLY, per vring SET_VRING_NUM/BASE/ADDR/KICK, then SET_VRING_CALL),
 * and vhost_net_start's SET_VRING_ENABLE 1. One-time requests are sent by
 * queue pair 0 only, as QEMU's vhost_user_one_time_request() does. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/frontend/frontend.h"
#include "tests/wire.h"

#define FE_MEM_SIZE (UINT64_C(128) << 20)
#define FE_TX_BUF   10240u               /* header + a 9000-byte frame, rounded */
#define FE_HDR      12u

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static uint64_t
fe_alloc(struct fe *f, uint64_t len, uint64_t align)
{
	uint64_t off = (f->heap + align - 1) & ~(align - 1);

	if (off + len > f->mem_size)
		return 0;
	f->heap = off + len;
	return FE_GPA_BASE + off;
}

static void *
fe_hva(struct fe *f, uint64_t gpa)
{
	return f->mem + (gpa - FE_GPA_BASE);
}

static int fe_guest_memory(struct fe *f);

int
fe_connect(struct fe *f, const char *path, uint16_t nqp, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->sock = f->memfd = -1;
	if (nqp == 0 || nqp > FE_MAX_QP || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	f->nqp = nqp;
	for (unsigned i = 0; i < 2u * FE_MAX_QP; i++)
		f->q[i].kick_fd = f->q[i].call_fd = f->q[i].err_fd = -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (int waited = 0;; waited += 10) {
		f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (f->sock < 0)
			return -errno;
		if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(f->sock);
		f->sock = -1;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		sleep_us(10000);
	}
	return fe_guest_memory(f);
}

int
fe_adopt(struct fe *f, int sock, uint16_t nqp)
{
	memset(f, 0, sizeof(*f));
	f->memfd = -1;
	f->sock = sock;
	if (nqp == 0 || nqp > FE_MAX_QP)
		return -EINVAL;
	f->nqp = nqp;
	for (unsigned i = 0; i < 2u * FE_MAX_QP; i++)
		f->q[i].kick_fd = f->q[i].call_fd = f->q[i].err_fd = -1;
	return fe_guest_memory(f);
}

/* The guest's memory: one memfd region, shared with the backend. */
static int
fe_guest_memory(struct fe *f)
{
	f->memfd = memfd_create("fe-guest", MFD_CLOEXEC);
	f->mem_size = FE_MEM_SIZE;
	if (f->memfd < 0 || ftruncate(f->memfd, (off_t)f->mem_size) != 0)
		return -errno;
	f->mem = mmap(NULL, f->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		return -errno;
	}
	return 0;
}

void
fe_close(struct fe *f)
{
	for (unsigned i = 0; i < 2u * FE_MAX_QP; i++) {
		if (f->q[i].kick_fd >= 0)
			close(f->q[i].kick_fd);
		if (f->q[i].call_fd >= 0)
			close(f->q[i].call_fd);
		if (f->q[i].err_fd >= 0)
			close(f->q[i].err_fd);
		f->q[i].kick_fd = f->q[i].call_fd = f->q[i].err_fd = -1;
	}
	if (f->mem != NULL)
		munmap(f->mem, f->mem_size);
	if (f->memfd >= 0)
		close(f->memfd);
	if (f->sock >= 0)
		close(f->sock);
	f->mem = NULL;
	f->memfd = f->sock = -1;
}

int
fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
        const int *fds, unsigned nfds)
{
	struct vhu_hdr h = { .request = req, .flags = VHOST_USER_VERSION | flags, .size = size };
	uint8_t buf[sizeof(h) + VHU_MAX_PAYLOAD];

	if (size > VHU_MAX_PAYLOAD)
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (size > 0)
		memcpy(buf + sizeof(h), payload, size);
	return wire_send(f->sock, buf, sizeof(h) + size, fds, nfds) ==
	       (ssize_t)(sizeof(h) + size) ? 0 : -EIO;
}

static int
read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		got += (size_t)n;
	}
	return 0;
}

int
fe_recv_reply(struct fe *f, uint32_t req, void *payload, uint32_t size, int timeout_ms)
{
	struct vhu_hdr h;
	int rc = read_full(f->sock, &h, sizeof(h), timeout_ms);

	if (rc != 0)
		return rc;
	if (h.request != req || h.size != size ||
	    h.flags != (VHOST_USER_VERSION | VHOST_USER_REPLY))
		return -EPROTO;
	return read_full(f->sock, payload, size, timeout_ms);
}

static int
get_u64(struct fe *f, uint32_t req, uint64_t *v)
{
	int rc = fe_send(f, req, 0, NULL, 0, NULL, 0);

	return rc ? rc : fe_recv_reply(f, req, v, sizeof(*v), 2000);
}

static int
set_u64(struct fe *f, uint32_t req, uint64_t v)
{
	return fe_send(f, req, 0, &v, sizeof(v), NULL, 0);
}

static int
set_state(struct fe *f, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_vring_state s = { index, num };

	return fe_send(f, req, 0, &s, sizeof(s), NULL, 0);
}

static int
set_vring_fd(struct fe *f, uint32_t req, uint32_t vqi, int fd)
{
	uint64_t v = vqi | (fd < 0 ? VHOST_USER_VRING_NOFD : 0);

	return fe_send(f, req, 0, &v, sizeof(v), &fd, fd < 0 ? 0 : 1);
}

int
fe_qemu_init(struct fe *f)
{
	const uint64_t want_proto = (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
	                            (UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int rc;

	for (uint16_t qp = 0; qp < f->nqp; qp++) {
		if ((rc = get_u64(f, VHOST_USER_GET_FEATURES, &f->backend_features)) != 0)
			return rc;
		if (!(f->backend_features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
			return -EPROTO;
		if ((rc = get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, &f->protocol_features)) ||
		    (rc = set_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES,
		                  f->protocol_features & want_proto)))
			return rc;
		if (qp == 0 && (f->protocol_features & (UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ))) {
			if ((rc = get_u64(f, VHOST_USER_GET_QUEUE_NUM, &f->queue_num)) != 0)
				return rc;
			if (f->queue_num < f->nqp)
				return -ERANGE;      /* QEMU refuses to start then */
		}
		if (qp == 0 && (rc = fe_send(f, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0)))
			return rc;
		if ((rc = get_u64(f, VHOST_USER_GET_FEATURES, &f->backend_features)) != 0)
			return rc;
		for (uint32_t vqi = 2u * qp; vqi < 2u * qp + 2; vqi++) {
			/* QEMU's masked notifier: an eventfd nobody reads. */
			int masked = eventfd(0, EFD_CLOEXEC);

			rc = set_vring_fd(f, VHOST_USER_SET_VRING_CALL, vqi, masked);
			close(masked);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int
fe_ring_layout(struct fe *f, struct fe_queue *q, uint16_t size, uint32_t buf_len)
{
	q->size = size;
	q->desc_gpa = fe_alloc(f, vring_desc_bytes(size), 4096);
	q->avail_gpa = fe_alloc(f, vring_avail_bytes(size), 4096);
	q->used_gpa = fe_alloc(f, vring_used_bytes(size), 4096);
	q->buf_len = buf_len;
	q->buf_gpa = fe_alloc(f, (uint64_t)size * buf_len, 64);
	if (!q->desc_gpa || !q->avail_gpa || !q->used_gpa || !q->buf_gpa)
		return -ENOMEM;
	q->desc = fe_hva(f, q->desc_gpa);
	q->avail = fe_hva(f, q->avail_gpa);
	q->used = fe_hva(f, q->used_gpa);
	q->next_avail = q->used_seen = q->next_desc = 0;
	/* A second bring-up (after RESET_OWNER) gets fresh notifiers. */
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	if (q->err_fd >= 0)
		close(q->err_fd);
	q->err_fd = -1;
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->err_fds)
		q->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return q->kick_fd < 0 || q->call_fd < 0 || (f->err_fds && q->err_fd < 0) ? -errno : 0;
}

static void
fe_publish(struct fe_queue *q, uint16_t head)
{
	q->avail->ring[q->next_avail % q->size] = htole16(head);
	q->next_avail++;
	__atomic_store_n(&q->avail->idx, htole16(q->next_avail), __ATOMIC_RELEASE);
}

static void
fe_kick(struct fe_queue *q)
{
	if (eventfd_write(q->kick_fd, 1) != 0)
		return;              /* non-blocking counter full: a kick is pending */
}

/* Posts every RX descriptor as one writable buffer. */
static void
fe_rx_fill(struct fe_queue *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		q->desc[i] = (struct vring_desc){
			.addr = htole64(q->buf_gpa + (uint64_t)i * q->buf_len),
			.len = htole32(q->buf_len), .flags = htole16(VRING_DESC_F_WRITE),
		};
		fe_publish(q, i);
	}
}

int
fe_qemu_start(struct fe *f, uint64_t want, uint16_t ring_size, uint32_t rx_buf_len)
{
	struct vhu_mem_table t = { .nregions = 1 };
	uint64_t ack;
	int rc;

	f->features = f->backend_features & want;
	f->heap = 0;
	t.r[0] = (struct vhu_mem_region){ .gpa = FE_GPA_BASE, .size = f->mem_size,
	                                  .fva = FE_FVA_BASE, .mmap_offset = 0 };
	for (uint16_t qp = 0; qp < f->nqp; qp++) {
		if ((rc = set_u64(f, VHOST_USER_SET_FEATURES, f->features)) != 0)
			return rc;
		if (qp == 0) {
			rc = fe_send(f, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY, &t,
			             8 + sizeof(t.r[0]), &f->memfd, 1);
			if (rc || (rc = fe_recv_reply(f, VHOST_USER_SET_MEM_TABLE, &ack,
			                              sizeof(ack), 2000)))
				return rc;
			if (ack != 0)
				return -EREMOTEIO;
		}
		for (uint32_t vqi = 2u * qp; vqi < 2u * qp + 2; vqi++) {
			struct fe_queue *q = &f->q[vqi];
			bool rx = (vqi & 1) == 0;
			struct vhu_vring_addr a;

			if ((rc = fe_ring_layout(f, q, ring_size, rx ? rx_buf_len : FE_TX_BUF)))
				return rc;
			if (rx)
				fe_rx_fill(q);
			a = (struct vhu_vring_addr){
				.index = vqi,
				.desc_fva = q->desc_gpa - FE_GPA_BASE + FE_FVA_BASE,
				.used_fva = q->used_gpa - FE_GPA_BASE + FE_FVA_BASE,
				.avail_fva = q->avail_gpa - FE_GPA_BASE + FE_FVA_BASE,
			};
			if ((rc = set_state(f, VHOST_USER_SET_VRING_NUM, vqi, ring_size)) ||
			    (rc = set_state(f, VHOST_USER_SET_VRING_BASE, vqi, 0)) ||
			    (rc = fe_send(f, VHOST_USER_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0)) ||
			    (rc = set_vring_fd(f, VHOST_USER_SET_VRING_KICK, vqi,
			                       f->no_kick ? -1 : q->kick_fd)))
				return rc;
		}
		for (uint32_t vqi = 2u * qp; vqi < 2u * qp + 2; vqi++) {
			if ((rc = set_vring_fd(f, VHOST_USER_SET_VRING_CALL, vqi, f->q[vqi].call_fd)))
				return rc;
			if (f->err_fds &&
			    (rc = set_vring_fd(f, VHOST_USER_SET_VRING_ERR, vqi, f->q[vqi].err_fd)))
				return rc;
		}
	}
	for (uint32_t vqi = 0; vqi < 2u * f->nqp; vqi++)
		if ((rc = set_state(f, VHOST_USER_SET_VRING_ENABLE, vqi, 1)) != 0)
			return rc;
	return 0;
}

int
fe_qemu_stop(struct fe *f, uint16_t *bases)
{
	int rc;

	for (uint32_t vqi = 0; vqi < 2u * f->nqp; vqi++)
		if ((rc = set_state(f, VHOST_USER_SET_VRING_ENABLE, vqi, 0)) != 0)
			return rc;
	for (uint32_t vqi = 0; vqi < 2u * f->nqp; vqi++) {
		struct vhu_vring_state s = { vqi, 0 };

		if ((rc = fe_send(f, VHOST_USER_GET_VRING_BASE, 0, &s, sizeof(s), NULL, 0)) ||
		    (rc = fe_recv_reply(f, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), 2000)))
			return rc;
		if (s.index != vqi)
			return -EPROTO;
		bases[vqi] = (uint16_t)s.num;
	}
	return 0;
}

static uint16_t
used_idx(const struct fe_queue *q)
{
	return le16toh(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE));
}

void *
fe_gpa_to_hva(struct fe *f, uint64_t gpa)
{
	return gpa >= FE_GPA_BASE && gpa - FE_GPA_BASE < f->mem_size ? fe_hva(f, gpa) : NULL;
}

uint64_t
fe_alloc_gpa(struct fe *f, uint64_t len, uint64_t align)
{
	return fe_alloc(f, len, align);
}

void
fe_avail_add(struct fe *f, uint32_t vqi, uint16_t head)
{
	fe_publish(&f->q[vqi], head);
	if (!f->no_kick)
		fe_kick(&f->q[vqi]);
}

uint16_t
fe_tx_done(struct fe *f, uint16_t qp)
{
	return used_idx(&f->q[2u * qp + 1]);
}

uint16_t
fe_used_idx(struct fe *f, uint32_t vqi)
{
	return used_idx(&f->q[vqi]);
}

int
fe_set_vring_enable(struct fe *f, uint32_t vqi, bool on)
{
	uint64_t features;
	int rc = set_state(f, VHOST_USER_SET_VRING_ENABLE, vqi, on);

	return rc ? rc : get_u64(f, VHOST_USER_GET_FEATURES, &features);
}

int
fe_tx(struct fe *f, uint16_t qp, const void *frame, uint32_t len, bool split_hdr)
{
	struct fe_queue *q = &f->q[2u * qp + 1];
	uint16_t slots = q->size / 2, slot, head;
	uint64_t buf;

	if (len + FE_HDR > q->buf_len)
		return -EMSGSIZE;
	for (int waited = 0; (uint16_t)(q->next_avail - used_idx(q)) >= slots; waited++) {
		if (waited > 20000)
			return -ETIMEDOUT;   /* backend stopped returning buffers */
		sleep_us(100);
	}
	slot = q->next_desc++ % slots;
	head = (uint16_t)(slot * 2);
	buf = q->buf_gpa + (uint64_t)slot * q->buf_len;
	memset(fe_hva(f, buf), 0, FE_HDR);
	memcpy((uint8_t *)fe_hva(f, buf) + FE_HDR, frame, len);
	if (split_hdr) {
		q->desc[head] = (struct vring_desc){ htole64(buf), htole32(FE_HDR),
		                                     htole16(VRING_DESC_F_NEXT), htole16(head + 1) };
		q->desc[head + 1] = (struct vring_desc){ htole64(buf + FE_HDR), htole32(len), 0, 0 };
	} else {
		q->desc[head] = (struct vring_desc){ htole64(buf), htole32(FE_HDR + len), 0, 0 };
	}
	fe_publish(q, head);
	if (!f->no_kick)
		fe_kick(q);
	return 0;
}

int
fe_rx(struct fe *f, uint16_t qp, void *out, uint32_t cap, int timeout_ms)
{
	struct fe_queue *q = &f->q[2u * qp];
	uint32_t got = 0;
	uint16_t nbufs = 1;

	for (uint16_t k = 0; k < nbufs; k++) {
		struct vring_used_elem e;
		uint8_t *p;
		uint32_t id, len, skip = 0;

		for (int waited = 0; used_idx(q) == q->used_seen; waited++) {
			if (waited * 100 > timeout_ms * 1000)
				return k == 0 ? 0 : -1;
			sleep_us(100);
		}
		e = q->used->ring[q->used_seen % q->size];
		q->used_seen++;
		id = le32toh(e.id);
		len = le32toh(e.len);
		if (id >= q->size || len > q->buf_len)
			return -1;
		p = fe_hva(f, q->buf_gpa + (uint64_t)id * q->buf_len);
		if (k == 0) {
			struct virtio_net_hdr h;

			if (len < FE_HDR)
				return -1;
			memcpy(&h, p, sizeof(h));
			nbufs = le16toh(h.num_buffers);
			if (nbufs == 0)
				return -1;
			skip = FE_HDR;
		}
		if (got + len - skip > cap)
			return -1;
		memcpy((uint8_t *)out + got, p + skip, len - skip);
		got += len - skip;
		fe_publish(q, (uint16_t)id);         /* re-post the buffer */
	}
	if (!f->no_kick)
		fe_kick(q);
	return (int)got;
}

pid_t
fe_spawn_backend(const char *log_path, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen(log_path, "w", stderr) == NULL || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int
fe_write_bystander_config(const char *path, const char *sock_by, const char *sock_host,
                          unsigned nqp)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "{ \"log_level\": \"info\", \"devices\": [\n"
	        "  { \"name\": \"bystander\", \"socket\": \"%s\", \"port\": \"loopback\","
	        " \"queue_pairs\": %u, \"poll_mode\": \"adaptive\", \"mtu\": 9000 },\n"
	        "  { \"name\": \"hostile\", \"socket\": \"%s\", \"port\": \"loopback\","
	        " \"queue_pairs\": %u, \"poll_mode\": \"adaptive\", \"mtu\": 9000 } ] }\n",
	        sock_by, nqp, sock_host, nqp);
	return fclose(f) == 0 ? 0 : -1;
}

void
fe_dump_log(const char *log_path)
{
	char line[512];
	FILE *f = fopen(log_path, "r");

	if (f == NULL)
		return;
	fprintf(stderr, "---- vhostmq log ----\n");
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

int
fe_stop_backend(pid_t pid)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		sleep_us(50000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		status = -1;
	}
	return status;
}

ssize_t
fe_ctl_request(const char *ctl_path, const char *req, char *buf, size_t cap, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = 0, len = strlen(req);
	ssize_t rc = -1;
	int fd;

	if (strlen(ctl_path) >= sizeof(sa.sun_path) || cap == 0)
		return -1;
	memcpy(sa.sun_path, ctl_path, strlen(ctl_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		goto out;
	while (n < cap - 1 && memchr(buf, '\n', n) == NULL) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, timeout_ms) <= 0)
			goto out;
		k = read(fd, buf + n, cap - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	rc = (ssize_t)n;
out:
	close(fd);
	return rc;
}
