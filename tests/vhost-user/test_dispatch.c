/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_dispatch.c - the vhost-user state machine driven the
 * way a well-behaved frontend drives it: QEMU's message order for 1, 2 and 4
 * queue pairs with every reply checked (features, protocol features, queue
 * count, REPLY_ACK, GET_VRING_BASE), the exact stop/commit calls the owner
 * sees (one transaction per message) and the moment each vring becomes ready; ring enabling with and without
 * VHOST_USER_F_PROTOCOL_FEATURES; RESET_OWNER; memory tables mapped from
 * memfds, translated, and replaced; fds replaced and closed; the MTU (its
 * protocol feature per offer, NET_SET_MTU confirming it). The fake owner in
 * vhu_test.c also checks, after every message, that no running vring's
 * configuration changed without a stop first. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tests/vhost-user/vhu_test.h"
#include "common/base.h"
#include "virtio/dirty.h"
#include "virtio/gmem.h"
#include "virtio/spec.h"

#define MIB            UINT64_C(0x100000)
#define SEQ_FVA        UINT64_C(0x7f0000000000)
#define SEQ_RING_SIZE  256u
#define NR             VHOST_USER_NEED_REPLY

static const uint64_t reply_ack_mq =
	(UINT64_C(1) << VHOST_USER_PROTOCOL_F_MQ) |
	(UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK);

/* The recorded owner calls as "s0,1 c0+,1+ ...": one token per call, its op
 * (s stop, c commit) and its vrings, '+' if a commit found it ready. */
static void
calls_str(const struct vt *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	assert_true(t->o.ncalls <= VT_MAX_CALLS);
	for (uint32_t i = 0; i < t->o.ncalls; i++) {
		const struct vt_call *c = &t->o.calls[i];

		for (uint32_t k = 0; k < c->n; k++) {
			int n = snprintf(buf + off, len - off, "%s%u%s",
			                 k ? "," : i ? (c->op == 's' ? " s" : " c")
			                             : (c->op == 's' ? "s" : "c"),
			                 c->vqi[k], c->op == 'c' && c->ready[k] ? "+" : "");

			assert_true(n > 0 && (size_t)n < len - off);
			off += (size_t)n;
		}
	}
}

static void
expect_calls(struct vt *t, const char *want)
{
	char got[4096];

	calls_str(t, got, sizeof(got));
	assert_string_equal(got, want);
	vt_calls_clear(t);
}

/* "s0,1,... c0,1,...": a device-wide change, one transaction. */
static void
all_calls(const struct vt *t, bool ready, char *buf, size_t len)
{
	uint32_t n = vhu_conn_nvrings(t->d);
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? "," : "s", i);
	for (uint32_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u%s", i ? "," : " c", i,
		                        ready ? "+" : "");
	assert_true(off < len);
}

static void
expect_all_calls(struct vt *t, bool ready)
{
	char want[4096];

	all_calls(t, ready, want, sizeof(want));
	expect_calls(t, want);
}

static uint32_t
nready(const struct vt *t)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < vhu_conn_nvrings(t->d); i++)
		n += vhu_vring_ready(t->d, i);
	return n;
}

static uint64_t
ring_fva(uint32_t vqi, unsigned part)
{
	return SEQ_FVA + vqi * UINT64_C(0x10000) + part * UINT64_C(0x4000);
}

/* SET_MEM_TABLE with one memfd region of size bytes at gpa 0; ack: with
 * NEED_REPLY (REPLY_ACK must have been negotiated). */
static void
send_one_region(struct vt *t, const char *name, uint64_t size, uint64_t fva, bool ack)
{
	struct vhu_mem_region r = { .gpa = 0, .size = size, .fva = fva };
	int fd = vt_memfd(name, size);

	assert_int_equal(vt_send_mem(t, ack ? NR : 0, &r, &fd, 1), 0);
	if (ack)
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
	vt_no_reply(t);
}

/* Features QEMU acks: what we offer, less ANY_LAYOUT (as QEMU's vhost-net). */
static uint64_t
qemu_ack(uint64_t offered)
{
	return offered & ~VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT);
}

/* QEMU's order: vhost_user_backend_init, vhost_dev_init, vhost_dev_start,
 * vhost_net_start. Leaves every vring ready; checks replies, calls and
 * readiness after every message. */
static void
qemu_sequence(struct vt *t, const char *memfd_name)
{
	uint32_t n = vhu_conn_nvrings(t->d);
	uint64_t features, pf, again;
	char want[64];

	assert_int_equal(vt_send0(t, VHOST_USER_GET_FEATURES, 0), 0);
	features = vt_reply_u64(t, VHOST_USER_GET_FEATURES);
	assert_true(features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	assert_true(features & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	assert_true(features & VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_true(features & VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	assert_true(features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(!!(features & VIRTIO_BIT(VIRTIO_NET_F_MQ)), t->max_qp > 1);
	/* Not implemented, so never offered. */
	assert_false(features & VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	assert_false(features & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_false(features & VIRTIO_BIT(VIRTIO_NET_F_CSUM));

	assert_int_equal(vt_send0(t, VHOST_USER_GET_PROTOCOL_FEATURES, 0), 0);
	pf = vt_reply_u64(t, VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_int_equal(pf & reply_ack_mq, reply_ack_mq);
	assert_int_equal(pf, vhu_protocol_features_offered(&(struct vnet_offer){ .mtu = false }));
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, reply_ack_mq), 0);
	vt_no_reply(t);

	assert_int_equal(vt_send0(t, VHOST_USER_GET_QUEUE_NUM, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_QUEUE_NUM), t->max_qp);

	for (uint32_t qp = 0; qp < t->max_qp; qp++) {   /* one per vhost_dev */
		assert_int_equal(vt_send0(t, VHOST_USER_SET_OWNER, 0), 0);
		assert_int_equal(vt_send0(t, VHOST_USER_GET_FEATURES, 0), 0);
		again = vt_reply_u64(t, VHOST_USER_GET_FEATURES);
		assert_int_equal(again, features);
	}
	expect_calls(t, "");

	/* vhost_dev_init: a call fd per vring (vhost_virtqueue_init). */
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_CALL, 0, i, vt_eventfd()), 0);
		snprintf(want, sizeof(want), "s%u c%u", i, i);
		expect_calls(t, want);
	}

	/* vhost_dev_start */
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0, qemu_ack(features)), 0);
	vt_no_reply(t);
	assert_int_equal(vhu_conn_features(t->d), qemu_ack(features));
	expect_all_calls(t, false);

	send_one_region(t, memfd_name, MIB, SEQ_FVA, true);
	assert_non_null(vhu_conn_mem(t->d));
	expect_all_calls(t, false);

	for (uint32_t i = 0; i < n; i++) {
		const struct vhu_vring *v = vhu_conn_vring(t->d, i);

		assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, i, SEQ_RING_SIZE),
		                 0);
		assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_BASE, 0, i, 7 + i), 0);
		expect_calls(t, "");
		assert_int_equal(vt_send_addr(t, 0, i, ring_fva(i, 0), ring_fva(i, 1),
		                              ring_fva(i, 2), 0), 0);
		snprintf(want, sizeof(want), "s%u c%u", i, i);
		expect_calls(t, want);
		assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, i, vt_eventfd()), 0);
		expect_calls(t, want);
		assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_CALL, 0, i, vt_eventfd()), 0);
		expect_calls(t, want);
		vt_no_reply(t);

		assert_int_equal(v->num, SEQ_RING_SIZE);
		assert_int_equal(v->base, 7 + i);
		assert_true(v->addr_set);
		assert_int_equal(v->addrs.desc_fva, ring_fva(i, 0));
		assert_int_equal(v->addrs.avail_fva, ring_fva(i, 1));
		assert_int_equal(v->addrs.used_fva, ring_fva(i, 2));
		assert_true(v->kick_fd >= 0);
		assert_true(v->call_fd >= 0);
		assert_int_equal(v->err_fd, -1);
		assert_true(v->started);
		/* PROTOCOL_FEATURES acked: the kick alone does not enable. */
		assert_false(v->enabled);
		assert_int_equal(nready(t), 0);
	}

	/* vhost_net_start: the last required message makes exactly its vring ready. */
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(nready(t), i);
		assert_false(vhu_vring_ready(t->d, i));
		assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, i, 1), 0);
		snprintf(want, sizeof(want), "c%u+", i);
		expect_calls(t, want);
		assert_true(vhu_vring_ready(t->d, i));
		assert_true(t->o.running[i]);
		assert_int_equal(nready(t), i + 1);
	}
	vt_no_reply(t);
}

/* vhost_dev_stop: GET_VRING_BASE per vring; the owner knows the position of
 * even vrings only. */
static void
qemu_stop(struct vt *t)
{
	uint32_t n = vhu_conn_nvrings(t->d);
	char want[64];

	t->o.npos = 0;
	for (uint32_t i = 0; i < n; i++) {
		t->o.has_pos[i] = (i % 2) == 0;
		t->o.pos[i] = (uint16_t)(0xfff0 + i);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct vhu_vring *v = vhu_conn_vring(t->d, i);
		uint16_t want_base = t->o.has_pos[i] ? (uint16_t)(0xfff0 + i) : (uint16_t)(7 + i);
		struct vhu_vring_state st;

		assert_int_equal(vt_send_state(t, VHOST_USER_GET_VRING_BASE, 0, i, 0), 0);
		vt_reply(t, VHOST_USER_GET_VRING_BASE, &st, sizeof(st));
		assert_int_equal(st.index, i);
		assert_int_equal(st.num, want_base);
		snprintf(want, sizeof(want), "s%u", i);
		expect_calls(t, want);
		assert_false(t->o.running[i]);
		assert_false(vhu_vring_ready(t->d, i));
		assert_false(v->started);
		assert_int_equal(v->kick_fd, -1);
		assert_true(v->call_fd >= 0);       /* only the kick goes with the stop */
		assert_int_equal(v->base, want_base);
		assert_int_equal(nready(t), n - 1 - i);
	}
	assert_int_equal(t->o.npos, n);
}

static void
qemu_sequence_qp(uint16_t max_qp)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(max_qp);
	char name[32];

	snprintf(name, sizeof(name), "seq%u", max_qp);
	qemu_sequence(t, name);
	assert_int_equal(vt_count_maps(name), 1);
	/* The device holds a kick and a call fd per vring, and its socket. */
	assert_int_equal(vt_count_fds(), fds0 + 2 + 2 * vhu_conn_nvrings(t->d));
	qemu_stop(t);
	assert_int_equal(vt_count_fds(), fds0 + 2 + vhu_conn_nvrings(t->d));
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
	assert_int_equal(vt_count_maps(name), 0);
}

static void test_qemu_sequence_1qp(void **state) { (void)state; qemu_sequence_qp(1); }
static void test_qemu_sequence_2qp(void **state) { (void)state; qemu_sequence_qp(2); }
static void test_qemu_sequence_4qp(void **state) { (void)state; qemu_sequence_qp(4); }

/* A stopped vring can be reconfigured and restarted. */
static void
test_restart_after_get_vring_base(void **state)
{
	struct vt *t = vt_new(1);
	struct vhu_vring_state st;

	(void)state;
	qemu_sequence(t, "restart");
	qemu_stop(t);
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 1, 512), 0);
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_BASE, 0, 1, 55), 0);
	expect_calls(t, "");
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 1, vt_eventfd()), 0);
	expect_calls(t, "s1 c1+");             /* still enabled from before */
	assert_int_equal(vhu_conn_vring(t->d, 1)->num, 512);
	t->o.has_pos[1] = false;
	assert_int_equal(vt_send_state(t, VHOST_USER_GET_VRING_BASE, 0, 1, 0), 0);
	vt_reply(t, VHOST_USER_GET_VRING_BASE, &st, sizeof(st));
	assert_int_equal(st.index, 1);
	assert_int_equal(st.num, 55);
	expect_calls(t, "s1");
	vt_free(t);
}

/* Brings vring vqi to everything but the kick and the enable. */
static void
prepare_ring(struct vt *t, uint32_t vqi, uint64_t features)
{
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0, features), 0);
	if (vhu_conn_mem(t->d) == NULL)
		send_one_region(t, "ring", MIB, SEQ_FVA, false);
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, vqi, 64), 0);
	assert_int_equal(vt_send_addr(t, 0, vqi, ring_fva(vqi, 0), ring_fva(vqi, 1),
	                              ring_fva(vqi, 2), 0), 0);
	vt_calls_clear(t);
}

static void
test_kick_enables_without_protocol_features(void **state)
{
	struct vt *t = vt_new(1);
	const uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);

	(void)state;
	prepare_ring(t, 0, f);
	prepare_ring(t, 1, f);
	assert_int_equal(nready(t), 0);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()), 0);
	expect_calls(t, "s0 c0+");
	assert_true(vhu_conn_vring(t->d, 0)->enabled);
	assert_true(vhu_vring_ready(t->d, 0));
	assert_false(vhu_vring_ready(t->d, 1));
	/* A kick without an fd (the frontend polls) starts the vring too. */
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 1, -1), 0);
	expect_calls(t, "s1 c1+");
	assert_int_equal(vhu_conn_vring(t->d, 1)->kick_fd, -1);
	assert_int_equal(nready(t), 2);
	vt_free(t);
}

static void
test_enable_required_with_protocol_features(void **state)
{
	struct vt *t = vt_new(1);
	const uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
	                   VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);

	(void)state;
	prepare_ring(t, 0, f);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()), 0);
	expect_calls(t, "s0 c0");
	assert_false(vhu_vring_ready(t->d, 0));
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, 0, 1), 0);
	expect_calls(t, "c0+");
	assert_true(vhu_vring_ready(t->d, 0));
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, 0, 0), 0);
	expect_calls(t, "c0");
	assert_false(vhu_vring_ready(t->d, 0));
	assert_false(t->o.running[0]);
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, 0, 1), 0);
	expect_calls(t, "c0+");
	vt_free(t);
}

/* SET_VRING_ENABLE may come first; the kick then completes the vring. */
static void
test_enable_before_kick(void **state)
{
	struct vt *t = vt_new(1);

	(void)state;
	prepare_ring(t, 1, VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, 1, 1), 0);
	expect_calls(t, "c1");
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 1, vt_eventfd()), 0);
	expect_calls(t, "s1 c1+");
	vt_free(t);
}

/* Messages read together are one commit; a GET_VRING_BASE among them first
 * commits what came before it, so the ring it stops had started. */
static void
test_batch_commits_once(void **state)
{
	struct vt *t = vt_new(1);
	const uint64_t f = VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhu_vring_state en0 = { .index = 0, .num = 1 }, en1 = { .index = 1, .num = 1 };
	struct vhu_vring_state get0 = { .index = 0 }, st;
	struct vhu_msg m[3] = {
		vt_msg(VHOST_USER_SET_VRING_ENABLE, 0, &en0, sizeof(en0)),
		vt_msg(VHOST_USER_SET_VRING_ENABLE, 0, &en1, sizeof(en1)),
		vt_msg(VHOST_USER_GET_VRING_BASE, 0, &get0, sizeof(get0)),
	};

	(void)state;
	prepare_ring(t, 0, f);
	prepare_ring(t, 1, f);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()), 0);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 1, vt_eventfd()), 0);
	vt_calls_clear(t);
	vt_write_msg(t->peer, &m[0]);
	vt_write_msg(t->peer, &m[1]);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	expect_calls(t, "c0+,1+");               /* two enables, one commit */
	vt_write_msg(t->peer, &m[0]);
	vt_write_msg(t->peer, &m[2]);
	assert_int_equal(vhu_conn_readable(t->d), 0);
	vt_reply(t, VHOST_USER_GET_VRING_BASE, &st, sizeof(st));
	assert_int_equal(st.index, 0);
	expect_calls(t, "c0+ s0");               /* committed before the stop */
	assert_false(t->o.running[0]);
	assert_true(t->o.running[1]);
	vt_free(t);
}

/* Leaving out any one required message keeps the vring from being ready. */
enum step { ST_MEM, ST_NUM, ST_ADDR, ST_KICK, ST_ENABLE, ST_COUNT };

static void
send_step(struct vt *t, enum step s)
{
	switch (s) {
	case ST_MEM:
		send_one_region(t, "step", MIB, SEQ_FVA, false);
		break;
	case ST_NUM:
		assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 0, 128), 0);
		break;
	case ST_ADDR:
		assert_int_equal(vt_send_addr(t, 0, 0, ring_fva(0, 0), ring_fva(0, 1),
		                              ring_fva(0, 2), 0), 0);
		break;
	case ST_KICK:
		assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()),
		                 0);
		break;
	case ST_ENABLE:
		assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_ENABLE, 0, 0, 1), 0);
		break;
	case ST_COUNT:
		fail();
	}
}

static void
test_ready_needs_every_message(void **state)
{
	(void)state;
	for (enum step skip = 0; skip < ST_COUNT; skip++) {
		struct vt *t = vt_new(1);

		assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0,
		                             VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)), 0);
		for (enum step s = 0; s < ST_COUNT; s++) {
			if (s != skip)
				send_step(t, s);
			assert_false(vhu_vring_ready(t->d, 0));
		}
		if (skip == ST_NUM) {
			/* Started without a size: fixed only after GET_VRING_BASE. */
			assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 0, 128),
			                 -EBUSY);
			assert_false(vhu_vring_ready(t->d, 0));
		} else {
			vt_calls_clear(t);
			send_step(t, skip);
			assert_true(vhu_vring_ready(t->d, 0));
			assert_true(t->o.running[0]);
		}
		vt_free(t);
	}
}

/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS): GET_MAX_MEM_SLOTS says
 * 509; twelve regions added one by one (as QEMU hot-plugs DIMMs) make a
 * table of twelve, each mapped once; a region overlapping another in guest
 * physical or frontend virtual space is refused; the same region added
 * again (QEMU does so once per queue pair) is counted, not mapped again,
 * and stays until as many removals;
 * removing a region no table has, or one a started vring's rings lie in, is
 * refused; removing the others unmaps exactly them; every fd is closed. */
static void
test_mem_slots(void **state)
{
	const uint64_t pf = reply_ack_mq |
	                    (UINT64_C(1) << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
	struct vt *t = vt_new(1);
	unsigned fds0;
	struct vhu_mem_reg reg;
	struct vhu_msg m;

	(void)state;
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf), 0);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_MAX_MEM_SLOTS, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_MAX_MEM_SLOTS), 509);
	fds0 = vt_count_fds();
	for (uint64_t i = 0; i < 12; i++) {
		reg = (struct vhu_mem_reg){ .r = { .gpa = i * 2 * MIB, .size = MIB,
		                                   .fva = SEQ_FVA + i * 4 * MIB } };
		m = vt_msg(VHOST_USER_ADD_MEM_REG, NR, &reg, sizeof(reg));
		vt_msg_fd(&m, vt_memfd("slot", MIB));
		assert_int_equal(vt_dispatch(t, &m), 0);
		assert_int_equal(vt_reply_u64(t, VHOST_USER_ADD_MEM_REG), 0);
		assert_int_equal(vhu_conn_mem(t->d)->n, i + 1);
	}
	assert_int_equal(vt_count_fds(), fds0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "slot"), 12);
	{
		static const struct vhu_mem_region bad[] = {
			{ .gpa = 0, .size = MIB / 2, .fva = SEQ_FVA },       /* gpa and fva */
			{ .gpa = MIB / 2, .size = MIB, .fva = SEQ_FVA + 60 * MIB },  /* gpa */
			{ .gpa = 40 * MIB, .size = MIB, .fva = SEQ_FVA + 4 * MIB + 4096 },
		};

		for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
			reg = (struct vhu_mem_reg){ .r = bad[k] };
			m = vt_msg(VHOST_USER_ADD_MEM_REG, NR, &reg, sizeof(reg));
			vt_msg_fd(&m, vt_memfd("slot", MIB));
			assert_int_equal(vt_dispatch(t, &m), 0);
			assert_int_equal(vt_reply_u64(t, VHOST_USER_ADD_MEM_REG), 1);
		}
	}
	assert_int_equal(vhu_conn_mem(t->d)->n, 12);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "slot"), 12);
	assert_int_equal(vt_count_fds(), fds0);
	for (int k = 0; k < 2; k++) {            /* region 5 again, then one removal */
		reg = (struct vhu_mem_reg){ .r = { .gpa = 10 * MIB, .size = MIB,
		                                   .fva = SEQ_FVA + 20 * MIB } };
		m = vt_msg(k == 0 ? VHOST_USER_ADD_MEM_REG : VHOST_USER_REM_MEM_REG, NR, &reg,
		           sizeof(reg));
		if (k == 0)
			vt_msg_fd(&m, vt_memfd("slot", MIB));
		assert_int_equal(vt_dispatch(t, &m), 0);
		assert_int_equal(vt_reply_u64(t, k == 0 ? VHOST_USER_ADD_MEM_REG
		                                        : VHOST_USER_REM_MEM_REG), 0);
		assert_int_equal(vhu_conn_mem(t->d)->n, 12);
		assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "slot"), 12);
	}
	assert_int_equal(vt_count_fds(), fds0);

	/* Vring 0 started with its rings in region 0 (fva SEQ_FVA...). */
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 0, 128), 0);
	assert_int_equal(vt_send_addr(t, 0, 0, ring_fva(0, 0), ring_fva(0, 1), ring_fva(0, 2),
	                              0), 0);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_KICK, 0, 0, vt_eventfd()), 0);
	reg = (struct vhu_mem_reg){ .r = { .gpa = 0, .size = MIB, .fva = SEQ_FVA } };
	m = vt_msg(VHOST_USER_REM_MEM_REG, NR, &reg, sizeof(reg));
	assert_int_equal(vt_dispatch(t, &m), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_REM_MEM_REG), 1);
	reg.r.gpa = 100 * MIB;                               /* no such region */
	m = vt_msg(VHOST_USER_REM_MEM_REG, NR, &reg, sizeof(reg));
	assert_int_equal(vt_dispatch(t, &m), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_REM_MEM_REG), 1);
	for (uint64_t i = 11; i >= 1; i--) {
		reg = (struct vhu_mem_reg){ .r = { .gpa = i * 2 * MIB, .size = MIB,
		                                   .fva = SEQ_FVA + i * 4 * MIB } };
		m = vt_msg(VHOST_USER_REM_MEM_REG, NR, &reg, sizeof(reg));
		assert_int_equal(vt_dispatch(t, &m), 0);
		assert_int_equal(vt_reply_u64(t, VHOST_USER_REM_MEM_REG), 0);
		assert_int_equal(vhu_conn_mem(t->d)->n, i);
		assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "slot"), i);
	}
	vt_free(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "slot"), 0);
}

/* Protocol feature STATUS: a ready vring runs only while the driver's status
 * has DRIVER_OK (no buffer is used before, spec 3.1.1); GET_STATUS answers
 * what SET_STATUS set; clearing DRIVER_OK stops the rings, and status 0
 * also drops what waited for the old driver (the owner's reset), but keeps
 * the rings' configuration and position: QEMU asks GET_VRING_BASE after it. */
static void
test_status(void **state)
{
	const uint64_t pf = reply_ack_mq | (UINT64_C(1) << VHOST_USER_PROTOCOL_F_STATUS);
	const uint64_t ok = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                    VIRTIO_STATUS_FEATURES_OK;
	struct vt *t = vt_new(1);
	struct vhu_vring_state st;

	(void)state;
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf), 0);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0,
	                             VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)), 0);
	for (enum step s = 0; s < ST_COUNT; s++)
		send_step(t, s);
	assert_false(vhu_vring_ready(t->d, 0));
	assert_false(t->o.running[0]);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_STATUS, 0, ok), 0);
	assert_false(t->o.running[0]);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_STATUS, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_STATUS), ok);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_STATUS, 0, ok | VIRTIO_STATUS_DRIVER_OK), 0);
	assert_true(vhu_vring_ready(t->d, 0));
	assert_true(t->o.running[0]);
	t->o.has_pos[0] = true;
	t->o.pos[0] = 42;
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_STATUS, 0, 0), 0);
	assert_false(t->o.running[0]);
	assert_int_equal(t->o.nresets, 1);
	assert_true(vhu_conn_vring(t->d, 0)->started);
	assert_non_null(vhu_conn_mem(t->d));
	assert_int_equal(vt_send_state(t, VHOST_USER_GET_VRING_BASE, 0, 0, 0), 0);
	vt_reply(t, VHOST_USER_GET_VRING_BASE, &st, sizeof(st));
	assert_int_equal(st.num, 42);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_STATUS, NR, 0x100), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_STATUS), 1);
	vt_free(t);
}

static void
test_reset_owner(void **state)
{
	unsigned fds0 = vt_count_fds();
	struct vt *t = vt_new(2);

	(void)state;
	qemu_sequence(t, "reset");
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_ERR, 0, 3, vt_eventfd()), 0);
	vt_calls_clear(t);
	assert_int_equal(vt_send0(t, VHOST_USER_RESET_OWNER, 0), 0);
	expect_calls(t, "s0,1,2,3");
	vt_no_reply(t);
	assert_int_equal(vhu_conn_features(t->d), 0);
	assert_null(vhu_conn_mem(t->d));
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "reset"), 0);
	for (uint32_t i = 0; i < vhu_conn_nvrings(t->d); i++) {
		const struct vhu_vring *v = vhu_conn_vring(t->d, i);

		assert_int_equal(v->num, 0);
		assert_false(v->addr_set);
		assert_int_equal(v->addrs.desc_fva, 0);
		assert_int_equal(v->base, 0);
		assert_int_equal(v->kick_fd, -1);
		assert_int_equal(v->call_fd, -1);
		assert_int_equal(v->err_fd, -1);
		assert_false(v->started);
		assert_false(v->enabled);
		assert_false(vhu_vring_ready(t->d, i));
		assert_false(t->o.running[i]);
	}
	assert_int_equal(vt_count_fds(), fds0 + 2);     /* the socketpair only */
	/* Protocol features are gone too: NEED_REPLY no longer gets an ack. */
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, NR, 0, 64), 0);
	vt_no_reply(t);
	/* And the frontend can start over. */
	vt_calls_clear(t);
	qemu_sequence(t, "reset2");
	assert_int_equal(nready(t), 4);
	vt_free(t);
	assert_int_equal(vt_count_fds(), fds0);
}

/* Three regions from two memfds, one at an unaligned mmap_offset. */
static void
test_mem_table_mapped(void **state)
{
	static const char a_text[] = "region zero", b_text[] = "region one",
	                  c_text[] = "region two, unaligned";
	const uint64_t fva1 = UINT64_C(0x7f0100000000), fva2 = UINT64_C(0x7f0200000000);
	int a = vt_memfd("map-a", MIB), b = vt_memfd("map-b", 4 * MIB);
	struct vhu_mem_region r[3] = {
		{ .gpa = 0, .size = MIB, .fva = SEQ_FVA, .mmap_offset = 0 },
		{ .gpa = 0x100000000, .size = MIB, .fva = fva1, .mmap_offset = MIB },
		{ .gpa = 0x200000000, .size = MIB, .fva = fva2, .mmap_offset = 2 * MIB + 0x1800 },
	};
	int fds[3] = { dup(a), dup(b), dup(b) };
	unsigned nfds;
	struct vt *t = vt_new(1);
	const struct gmem *m;
	uint32_t hint = 0;
	uint64_t len;
	uint8_t *p;
	char back[16];

	(void)state;
	assert_int_equal(pwrite(a, a_text, sizeof(a_text), 0x1234), sizeof(a_text));
	assert_int_equal(pwrite(b, b_text, sizeof(b_text), MIB + 0x5678), sizeof(b_text));
	assert_int_equal(pwrite(b, c_text, sizeof(c_text), 2 * MIB + 0x1800 + 0x10),
	                 sizeof(c_text));
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, reply_ack_mq), 0);
	nfds = vt_count_fds();
	assert_int_equal(vt_send_mem(t, NR, r, fds, 3), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
	/* The dispatcher closed the three fds it was given: mmap holds its own. */
	assert_int_equal(vt_count_fds(), nfds - 3);
	for (unsigned i = 0; i < 3; i++)
		assert_false(vt_fd_is_open(fds[i]));
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "map-a"), 1);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "map-b"), 2);

	m = vhu_conn_mem(t->d);
	assert_non_null(m);
	assert_int_equal(m->n, 3);
	len = sizeof(a_text);
	p = gmem_gpa_to_hva(m, 0x1234, &len, &hint);
	assert_non_null(p);
	assert_int_equal(len, sizeof(a_text));
	assert_memory_equal(p, a_text, sizeof(a_text));
	len = sizeof(b_text);
	p = gmem_gpa_to_hva(m, 0x100005678, &len, &hint);
	assert_non_null(p);
	assert_int_equal(hint, 1);
	assert_memory_equal(p, b_text, sizeof(b_text));
	assert_ptr_equal(gmem_fva_to_hva_full(m, fva1 + 0x5678, sizeof(b_text)), p);
	len = sizeof(c_text);
	p = gmem_gpa_to_hva(m, 0x200000010, &len, &hint);
	assert_non_null(p);
	assert_memory_equal(p, c_text, sizeof(c_text));
	assert_ptr_equal(gmem_fva_to_hva_full(m, fva2 + 0x10, sizeof(c_text)), p);

	/* Lengths clamp at a region's end; holes miss. */
	len = 64;
	assert_non_null(gmem_gpa_to_hva(m, MIB - 16, &len, &hint));
	assert_int_equal(len, 16);
	len = 64;
	assert_null(gmem_gpa_to_hva(m, MIB, &len, &hint));
	assert_int_equal(len, 0);

	/* The mapping is shared: device writes reach the frontend's file. */
	len = 4;
	p = gmem_gpa_to_hva(m, 0x100000000 + 0x40, &len, &hint);
	assert_non_null(p);
	memcpy(p, "pong", 4);
	assert_int_equal(pread(b, back, 4, MIB + 0x40), 4);
	assert_memory_equal(back, "pong", 4);

	close(a);
	close(b);
	vt_free(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "map-"), 0);
}

/* A second table replaces the first while the vrings run: one transaction
 * stops them all, swaps the table, unmaps the old regions and commits them
 * all. */
static void
test_mem_table_replaced(void **state)
{
	static const char text[] = "second table";
	struct vhu_mem_region r = { .gpa = 0, .size = 2 * MIB, .fva = SEQ_FVA };
	struct vt *t = vt_new(1);
	const struct gmem *old;
	uint32_t hint = 0;
	uint64_t len = sizeof(text);
	uint8_t *p;
	int fd;

	(void)state;
	qemu_sequence(t, "first");
	old = vhu_conn_mem(t->d);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "first"), 1);
	fd = vt_memfd("second", 2 * MIB);
	assert_int_equal(pwrite(fd, text, sizeof(text), 0x1234), sizeof(text));
	{
		int give = dup(fd);

		assert_int_equal(vt_send_mem(t, NR, &r, &give, 1), 0);
	}
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_MEM_TABLE), 0);
	expect_calls(t, "s0,1 c0+,1+");
	assert_ptr_not_equal(vhu_conn_mem(t->d), old);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "first"), 0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "second"), 1);
	p = gmem_gpa_to_hva(vhu_conn_mem(t->d), 0x1234, &len, &hint);
	assert_non_null(p);
	assert_memory_equal(p, text, sizeof(text));
	assert_int_equal(vhu_conn_mem(t->d)->r[0].size, 2 * MIB);
	/* The running vrings were restarted on the new table. */
	assert_ptr_equal(t->o.snap[0].mem, vhu_conn_mem(t->d));
	assert_ptr_equal(t->o.snap[1].mem, vhu_conn_mem(t->d));
	close(fd);
	vt_free(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "second"), 0);
}

/* A new KICK/CALL/ERR fd closes the one it replaces; NOFD closes without one. */
static void
test_vring_fds_replaced(void **state)
{
	static const uint32_t reqs[] = { VHOST_USER_SET_VRING_KICK, VHOST_USER_SET_VRING_CALL,
	                                 VHOST_USER_SET_VRING_ERR };
	struct vt *t = vt_new(1);
	unsigned fds0 = vt_count_fds();

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(reqs); k++) {
		const struct vhu_vring *v = vhu_conn_vring(t->d, 1);
		int e1 = vt_eventfd(), e2;

		assert_int_equal(vt_send_file(t, reqs[k], 0, 1, e1), 0);
		assert_true(vt_fd_is_open(e1));
		assert_int_equal(vt_count_fds(), fds0 + 1);
		assert_int_equal(reqs[k] == VHOST_USER_SET_VRING_KICK ? v->kick_fd :
		                 reqs[k] == VHOST_USER_SET_VRING_CALL ? v->call_fd : v->err_fd, e1);
		e2 = vt_eventfd();
		assert_int_equal(vt_send_file(t, reqs[k], 0, 1, e2), 0);
		assert_int_equal(vt_count_fds(), fds0 + 1);
		assert_true(vt_fd_is_open(e2));
		assert_int_equal(vt_send_file(t, reqs[k], 0, 1, -1), 0);
		assert_int_equal(vt_count_fds(), fds0);
		assert_int_equal(v->kick_fd, -1);
		assert_int_equal(v->call_fd, -1);
		assert_int_equal(v->err_fd, -1);
		vt_calls_clear(t);
	}
	vt_free(t);
}

static void
test_reply_ack(void **state)
{
	struct vt *t = vt_new(1);
	uint64_t f;

	(void)state;
	/* Not negotiated: NEED_REPLY is ignored. */
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, NR, 0, 256), 0);
	vt_no_reply(t);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
	                             UINT64_C(1) << VHOST_USER_PROTOCOL_F_REPLY_ACK), 0);
	vt_no_reply(t);
	/* Negotiated: success is acked with 0, only when asked. */
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, NR, 0, 1), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_NUM), 0);
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 0, 32768), 0);
	vt_no_reply(t);
	assert_int_equal(vhu_conn_vring(t->d, 0)->num, 32768);
	assert_int_equal(vt_send0(t, VHOST_USER_SET_OWNER, NR), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_OWNER), 0);
	/* Requests with their own reply get that reply only, no extra ack. */
	assert_int_equal(vt_send0(t, VHOST_USER_GET_FEATURES, NR), 0);
	f = vt_reply_u64(t, VHOST_USER_GET_FEATURES);
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	vt_no_reply(t);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_QUEUE_NUM, NR), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_QUEUE_NUM), 1);
	vt_no_reply(t);
	vt_free(t);
}

/* Acking the same features again restarts nothing. */
static void
test_set_features_unchanged(void **state)
{
	struct vt *t = vt_new(2);
	uint64_t f;

	(void)state;
	qemu_sequence(t, "features");
	f = vhu_conn_features(t->d);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0, f), 0);
	expect_calls(t, "");
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0,
	                             f & ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)), 0);
	expect_all_calls(t, true);
	assert_int_equal(vhu_conn_features(t->d), f & ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	vt_free(t);
}

/* SET_VRING_KICK/CALL/ERR carry the vring index in bits 0..7
 * (VHOST_USER_VRING_IDX_MASK), and QEMU masks it the same way, so a vhost-user
 * device can only ever start vrings 0..255: 128 queue pairs (DPDK's
 * VHOST_MAX_QUEUE_PAIRS is 0x80 for this reason). A device offering more would
 * see the kick of vring 256 arrive as vring 0's: vhu_conn_new() refuses it. */
static void
test_queue_num_within_vring_index(void **state)
{
	struct vt *t;

	(void)state;
	assert_null(vt_try_new(VHU_MAX_QP + 1));
	assert_null(vt_try_new(0));
	t = vt_try_new(VHU_MAX_QP);
	assert_non_null(t);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_QUEUE_NUM, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_QUEUE_NUM), 128);
	assert_int_equal(2 * VHU_MAX_QP, VHOST_USER_VRING_IDX_MASK + 1);
	vt_free(t);
}

/* The MTU: the protocol feature is offered exactly when the device offers
 * VIRTIO_NET_F_MTU (GET_PROTOCOL_FEATURES comes before any feature is
 * known); NET_SET_MTU confirming the configured MTU is acked and changes no
 * vring (the rejections are rows of test_dispatch_hostile.c). */
static void
test_mtu(void **state)
{
	const uint64_t pf_mtu = UINT64_C(1) << VHOST_USER_PROTOCOL_F_MTU;
	const struct vnet_offer mtu = { .mtu = true }, none = { .mtu = false };
	struct vt *t;

	(void)state;
	assert_int_equal(vhu_protocol_features_offered(&mtu),
	                 vhu_protocol_features_offered(&none) | pf_mtu);

	/* Not offered: neither bit, and the protocol feature cannot be acked. */
	t = vt_new(1);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_PROTOCOL_FEATURES, 0), 0);
	assert_false(vt_reply_u64(t, VHOST_USER_GET_PROTOCOL_FEATURES) & pf_mtu);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_FEATURES, 0), 0);
	assert_false(vt_reply_u64(t, VHOST_USER_GET_FEATURES) & VIRTIO_BIT(VIRTIO_NET_F_MTU));
	assert_int_equal(vhu_conn_mtu(t->d), 0);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
	                             reply_ack_mq | pf_mtu), -EINVAL);
	vt_free(t);

	/* An MTU without the offer: in force, not offered. */
	t = vt_new_offer(1, none, 1500);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_PROTOCOL_FEATURES, 0), 0);
	assert_false(vt_reply_u64(t, VHOST_USER_GET_PROTOCOL_FEATURES) & pf_mtu);
	assert_int_equal(vhu_conn_mtu(t->d), 1500);
	vt_free(t);

	/* Offered, first message of the connection. */
	t = vt_new_offer(1, mtu, 9000);
	assert_int_equal(vt_send0(t, VHOST_USER_GET_PROTOCOL_FEATURES, 0), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_GET_PROTOCOL_FEATURES),
	                 vhu_protocol_features_offered(&mtu));
	assert_int_equal(vt_send0(t, VHOST_USER_GET_FEATURES, 0), 0);
	assert_true(vt_reply_u64(t, VHOST_USER_GET_FEATURES) & VIRTIO_BIT(VIRTIO_NET_F_MTU));
	assert_int_equal(vhu_conn_mtu(t->d), 9000);
	assert_int_equal(vhu_conn_frontend_mtu(t->d), 0);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
	                             reply_ack_mq | pf_mtu), 0);
	vt_no_reply(t);
	/* Confirmed: acked, recorded, no transaction. */
	assert_int_equal(vt_send_u64(t, VHOST_USER_NET_SET_MTU, NR, 9000), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_NET_SET_MTU), 0);
	vt_no_reply(t);
	expect_calls(t, "");
	assert_int_equal(vhu_conn_frontend_mtu(t->d), 9000);
	/* Another value afterwards: refused, the confirmed one stays. */
	assert_int_equal(vt_send_u64(t, VHOST_USER_NET_SET_MTU, NR, 1500), 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_NET_SET_MTU), 1);
	assert_int_equal(vhu_conn_frontend_mtu(t->d), 9000);
	assert_int_equal(vhu_conn_mtu(t->d), 9000);
	/* Without NEED_REPLY a confirmation is silent. */
	assert_int_equal(vt_send_u64(t, VHOST_USER_NET_SET_MTU, 0, 9000), 0);
	vt_no_reply(t);
	/* RESET_OWNER forgets the frontend's, not the device's. */
	assert_int_equal(vt_send0(t, VHOST_USER_RESET_OWNER, 0), 0);
	assert_int_equal(vhu_conn_frontend_mtu(t->d), 0);
	assert_int_equal(vhu_conn_mtu(t->d), 9000);
	vt_free(t);

	/* The device's MTU itself: within the limits, and given with the offer. */
	assert_null(vt_try_new_offer(1, mtu, 0));
	assert_null(vt_try_new_offer(1, mtu, VNET_MTU_MIN - 1));
	assert_null(vt_try_new_offer(1, mtu, VNET_MTU_MAX + 1));
	assert_null(vt_try_new_offer(1, none, VNET_MTU_MAX + 1));
	t = vt_new_offer(1, mtu, VNET_MTU_MIN);
	vt_free(t);
	t = vt_new_offer(1, mtu, VNET_MTU_MAX);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf_mtu), 0);
	assert_int_equal(vt_send_u64(t, VHOST_USER_NET_SET_MTU, 0, VNET_MTU_MAX), 0);
	assert_int_equal(vhu_conn_frontend_mtu(t->d), VNET_MTU_MAX);
	vt_free(t);
}

/* A call fd the poll thread writes must never block it: a blocking eventfd
 * is made non-blocking (the flag lives in the shared open file, so the
 * sender's own copy shows it). */
/* The dirty log of a migration (LOG_SHMFD): SET_LOG_BASE maps it (an empty
 * reply, as QEMU waits for), once it covers every page of the memory table
 * and every used ring that logs; a log too small is refused naming
 * mmap_size, and a ring address whose used ring lies beyond the log names
 * log_gpa. The rings stop and restart with it. vhu_conn_log() gives it to
 * starting rings only while VHOST_F_LOG_ALL is on; a new log replaces the
 * mapping, and a reset or disconnect releases it. */
static void
test_log_base(void **state)
{
	const uint64_t pf = reply_ack_mq | (UINT64_C(1) << VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	struct vhu_mem_region r = { .gpa = 0, .size = 4 * MIB, .fva = SEQ_FVA };
	struct vt *t = vt_new(1);
	int fd = vt_memfd("mem", 4 * MIB), lfd = vt_memfd("log", 2048);
	/* 4 MiB of guest memory: 1024 pages, 128 bytes of log. */
	struct vhu_log small = { .mmap_size = 127, .mmap_offset = 0 },
	               ok = { .mmap_size = 128, .mmap_offset = 1024 + 16 };
	struct vhu_msg m;
	uint64_t one = 1;

	(void)state;
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf), 0);
	assert_int_equal(vt_send_mem(t, 0, &r, &fd, 1), 0);

	m = vt_msg(VHOST_USER_SET_LOG_BASE, 0, &small, sizeof(small));
	vt_msg_fd(&m, dup(lfd));
	assert_int_equal(vt_dispatch(t, &m), -EINVAL);
	vt_no_reply(t);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "log"), 0);
	vt_free(t);

	t = vt_new(1);
	fd = vt_memfd("mem", 4 * MIB);
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_PROTOCOL_FEATURES, 0, pf), 0);
	assert_int_equal(vt_send_mem(t, 0, &r, &fd, 1), 0);
	vt_calls_clear(t);
	m = vt_msg(VHOST_USER_SET_LOG_BASE, 0, &ok, sizeof(ok));
	vt_msg_fd(&m, dup(lfd));
	assert_int_equal(vt_dispatch(t, &m), 0);
	vt_reply(t, VHOST_USER_SET_LOG_BASE, NULL, 0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "log"), 1);
	assert_true(t->o.ncalls >= 2);              /* stop all, then commit all */
	assert_int_equal(t->o.calls[0].op, 's');
	/* Logging is off until the frontend turns it on. */
	assert_null(vhu_conn_log(t->d));
	assert_int_equal(vt_send_u64(t, VHOST_USER_SET_FEATURES, 0,
	                             VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
	                             VIRTIO_BIT(VHOST_F_LOG_ALL)), 0);
	assert_non_null(vhu_conn_log(t->d));
	assert_int_equal(vhu_conn_log(t->d)->len, 128);
	/* The log is the fd's bytes at mmap_offset: shared with the frontend. */
	dirty_log_gpa(vhu_conn_log(t->d), 9 * 4096, 1);
	{
		uint8_t b = 0;

		assert_int_equal(pread(lfd, &b, 1, 1024 + 16 + 1), 1);
		assert_int_equal(b, 2);                 /* page 9: byte 1, bit 1 */
	}
	/* A used ring to log: inside the log, or refused naming log_gpa. */
	assert_int_equal(vt_send_state(t, VHOST_USER_SET_VRING_NUM, 0, 0, 256), 0);
	assert_int_equal(vt_send_addr(t, 0, 0, SEQ_FVA, SEQ_FVA + 0x1000, SEQ_FVA + 0x2000,
	                              VHOST_VRING_F_LOG), 0);
	assert_true(vhu_conn_vring(t->d, 0)->log_set);
	assert_int_equal(vhu_vring_log_gpa(t->d, 0), 0);        /* log_gpa sent: 0 */
	assert_int_equal(vt_send_addr(t, NR, 1, SEQ_FVA, SEQ_FVA + 0x1000, SEQ_FVA + 0x2000, 0),
	                 0);
	assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_ADDR), 0);
	assert_int_equal(vhu_vring_log_gpa(t->d, 1), 0x2000);   /* from used_fva */
	{
		struct vhu_vring_addr far = { .index = 1, .flags = VHOST_VRING_F_LOG,
		                              .desc_fva = SEQ_FVA, .avail_fva = SEQ_FVA + 0x1000,
		                              .used_fva = SEQ_FVA + 0x2000, .log_gpa = 4 * MIB };

		m = vt_msg(VHOST_USER_SET_VRING_ADDR, NR, &far, sizeof(far));
		assert_int_equal(vt_dispatch(t, &m), 0);
		assert_int_equal(vt_reply_u64(t, VHOST_USER_SET_VRING_ADDR), 1);
	}
	/* A second log replaces the first; RESET_OWNER releases it. */
	m = vt_msg(VHOST_USER_SET_LOG_BASE, 0, &ok, sizeof(ok));
	vt_msg_fd(&m, dup(lfd));
	assert_int_equal(vt_dispatch(t, &m), 0);
	vt_reply(t, VHOST_USER_SET_LOG_BASE, NULL, 0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "log"), 1);
	assert_int_equal(vt_send_u64(t, VHOST_USER_RESET_OWNER, 0, one), 0);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "log"), 0);
	assert_null(vhu_conn_log(t->d));
	close(lfd);
	vt_free(t);
}

static void
test_call_fd_made_non_blocking(void **state)
{
	struct vt *t = vt_new(1);
	int e = eventfd(0, EFD_CLOEXEC), mine;

	(void)state;
	assert_true(e >= 0);
	mine = dup(e);
	assert_false(fcntl(mine, F_GETFL) & O_NONBLOCK);
	assert_int_equal(vt_send_file(t, VHOST_USER_SET_VRING_CALL, 0, 0, e), 0);
	assert_true(fcntl(mine, F_GETFL) & O_NONBLOCK);
	close(mine);
	vt_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_sequence_1qp),
		cmocka_unit_test(test_qemu_sequence_2qp),
		cmocka_unit_test(test_qemu_sequence_4qp),
		cmocka_unit_test(test_restart_after_get_vring_base),
		cmocka_unit_test(test_kick_enables_without_protocol_features),
		cmocka_unit_test(test_enable_required_with_protocol_features),
		cmocka_unit_test(test_enable_before_kick),
		cmocka_unit_test(test_batch_commits_once),
		cmocka_unit_test(test_ready_needs_every_message),
		cmocka_unit_test(test_reset_owner),
		cmocka_unit_test(test_mem_table_mapped),
		cmocka_unit_test(test_mem_table_replaced),
		cmocka_unit_test(test_vring_fds_replaced),
		cmocka_unit_test(test_reply_ack),
		cmocka_unit_test(test_set_features_unchanged),
		cmocka_unit_test(test_queue_num_within_vring_index),
		cmocka_unit_test(test_call_fd_made_non_blocking),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_log_base),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_mem_slots),
	};

	return cmocka_run_group_tests_name("vhu_dispatch", tests, NULL, NULL);
}
