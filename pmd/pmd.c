/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/pmd.c - poll thread life cycle, plan publication and adaptive sleep.
 * QSBR rule: no pointer taken from a plan survives a quiescent state or an
 * offline period; the loop re-reads the plan after each. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include "pmd/pmd.h"
#include "pmd/rcu.h"
#include "common/log.h"


struct pmd {
	struct pmd_plan *plan;           /* RCU: written by the control thread */
	struct pmd_params params;
	pthread_t thread;
	int epfd;                        /* kick fds + wake_fd, level: edge */
	int wake_fd;                     /* control thread -> sleeping thread */
	bool run;                        /* atomic: cleared by pmd_stop() */
	char why[128];                   /* start-up failure, from the thread */
	int started;                     /* atomic: 1 ok, -1 failed */
	uint64_t busy_cycles;            /* atomic: written by the thread */
};

struct pmd_plan *
pmd_plan_new(uint32_t n, uint32_t npeer)
{
	_Static_assert(sizeof(struct pmd_qp) % _Alignof(struct pmd_qp *) == 0,
	               "peer pointers after the entries are aligned");
	struct pmd_plan *p = calloc(1, sizeof(*p) + n * sizeof(p->q[0]) +
	                               npeer * sizeof(struct pmd_qp *));

	if (p != NULL)
		p->n = n;
	return p;
}

unsigned
pmd_core(const struct pmd *p)
{
	return p->params.core;
}

struct pmd_cycles
pmd_cycles(const struct pmd *p)
{
	return (struct pmd_cycles){ .busy = __atomic_load_n(&p->busy_cycles, __ATOMIC_RELAXED),
	                            .now = rte_rdtsc() };
}

/* One round over the plan. Each visit that moved something is charged to
 * its pair and the thread, from one TSC read per visit (an empty poll is
 * not work: OVS counts the same way). */
static uint32_t
plan_round(struct pmd *p, const struct pmd_plan *plan)
{
	uint64_t t = rte_rdtsc(), busy = 0;
	uint32_t work = 0;

	for (uint32_t k = 0; k < plan->n; k++) {
		uint32_t w = pmd_poll_qp(&plan->q[k]);
		uint64_t now = rte_rdtsc();

		if (w != 0) {
			uint64_t *c = &plan->q[k].st->stats.busy_cycles;

			__atomic_store_n(c, *c + (now - t), __ATOMIC_RELAXED);
			busy += now - t;
			work += w;
		}
		t = now;
	}
	if (busy != 0)
		__atomic_store_n(&p->busy_cycles, p->busy_cycles + busy, __ATOMIC_RELAXED);
	return work;
}

/* Whether anything in the plan can move right now (checked with guest
 * notifications already enabled, so a miss here means a kick will come). */
static bool
plan_has_work(const struct pmd_plan *plan, int *timeout_ms)
{
	*timeout_ms = -1;
	for (uint32_t k = 0; k < plan->n; k++) {
		const struct pmd_qp *q = &plan->q[k];
		const struct pmd_port_ops *ops = q->port->ops;
		bool held;

		if (q->tx.vq != NULL && vq_avail_count(q->tx.vq) > 0 &&
		    ops->tx_room(q->port, q->port_txq) > 0) {
			if (!q->st->tx_nombuf)
				return true;
			*timeout_ms = TUNE_PORT_POLL_MS;  /* mbufs come back without a kick */
		}
		/* Steering entries poll a port, other threads fill their inboxes,
		 * NOFD rings are never kicked: none of them can wake us. */
		if (q->steer != NULL || q->unwatched || (q->rx.vq != NULL && ops->rx_pending == NULL))
			*timeout_ms = TUNE_PORT_POLL_MS;
		if (q->rx.vq == NULL)
			continue;
		if (vq_avail_count(q->rx.vq) == 0)
			continue;
		/* The held slots belong to this thread only while the RX ring is
		 * in the plan: the control thread drops them once it is not. */
		held = q->st->held_next != q->st->held_n;
		/* A held frame only moves once the guest added buffers since it
		 * got stuck; then its RX kick wakes us. */
		if (held && (!q->st->rx_blocked ||
		             q->rx.vq->shadow_avail != q->st->rx_blocked_avail))
			return true;
		if (!held && pmd_qp_rx_pending(q))
			return true;
	}
	return false;
}

static void
plan_set_notify(const struct pmd_plan *plan, bool on)
{
	for (uint32_t k = 0; k < plan->n; k++) {
		if (plan->q[k].tx.vq != NULL)
			vq_set_notify(plan->q[k].tx.vq, on);
		if (plan->q[k].rx.vq != NULL)
			vq_set_notify(plan->q[k].rx.vq, on);
	}
}

/* Adaptive mode: ask for kicks, re-check, sleep until a kick, a plan change or
 * (for ports that cannot wake us) a short timeout. */
static void
pmd_sleep(struct pmd *p)
{
	struct pmd_plan *plan = rcu_dereference(p->plan);
	struct epoll_event ev[16];
	int timeout;

	plan_set_notify(plan, true);
	if (plan_has_work(plan, &timeout)) {
		plan_set_notify(plan, false);
		return;
	}
	urcu_qsbr_thread_offline();      /* a sleeper must not hold up grace periods */
	if (epoll_wait(p->epfd, ev, (int)ARRAY_SIZE(ev), timeout) > 0) {
		eventfd_t v;

		/* Kick fds are edge-triggered and never read; the wake fd is read
		 * so it can trigger again. */
		if (eventfd_read(p->wake_fd, &v) != 0 && errno != EAGAIN)
			vlog_warn("pmd core %u: wake fd: %s", p->params.core, strerror(errno));
	}
	urcu_qsbr_thread_online();
	plan_set_notify(rcu_dereference(p->plan), false);
}

static int
pmd_pin(struct pmd *p)
{
	cpu_set_t set;
	int rc;

	CPU_ZERO(&set);
	CPU_SET(p->params.core, &set);
	rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0) {
		snprintf(p->why, sizeof(p->why), "cannot pin to core %u: %s", p->params.core,
		         strerror(rc));
		return -rc;
	}
	/* An lcore id gives the thread its own mempool cache. */
	if (rte_thread_register() != 0)
		vlog_warn("pmd core %u: no free DPDK lcore id: mempool access is uncached",
		          p->params.core);
	return 0;
}

static void *
pmd_main(void *arg)
{
	struct pmd *p = arg;
	uint64_t idle_cycles = rte_get_tsc_hz() / 1000000 * p->params.idle_us;
	uint64_t last_work = rte_rdtsc();
	char name[16];

	snprintf(name, sizeof(name), "vhostmq-pmd%u", p->params.core);
	pthread_setname_np(pthread_self(), name);
	if (pmd_pin(p) != 0) {
		__atomic_store_n(&p->started, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	urcu_qsbr_register_thread();
	__atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&p->run, __ATOMIC_ACQUIRE)) {
		/* Never NULL: pmd_start() publishes an empty plan first. */
		uint32_t work = plan_round(p, rcu_dereference(p->plan));

		urcu_qsbr_quiescent_state();     /* plan may be freed after this */
		if (work != 0 || p->params.busy) {
			last_work = work ? rte_rdtsc() : last_work;
			continue;
		}
		if (rte_rdtsc() - last_work > idle_cycles) {
			pmd_sleep(p);
			last_work = rte_rdtsc();
		}
	}
	urcu_qsbr_unregister_thread();
	rte_thread_unregister();
	return NULL;
}

struct pmd *
pmd_start(const struct pmd_params *params, char *why, size_t why_len)
{
	struct pmd *p = calloc(1, sizeof(*p));
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	if (p == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	p->params = *params;
	p->run = true;
	p->plan = pmd_plan_new(0, 0);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->plan == NULL || p->epfd < 0 || p->wake_fd < 0 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake_fd, &ev) != 0) {
		snprintf(why, why_len, "pmd core %u: set-up failed: %s", params->core,
		         strerror(errno));
		goto err_free;
	}
	rc = pthread_create(&p->thread, NULL, pmd_main, p);
	if (rc != 0) {
		snprintf(why, why_len, "pmd core %u: pthread_create: %s", params->core,
		         strerror(rc));
		goto err_free;
	}
	while ((rc = __atomic_load_n(&p->started, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	if (rc < 0) {
		pthread_join(p->thread, NULL);
		snprintf(why, why_len, "pmd core %u: %s", params->core, p->why);
		goto err_free;
	}
	return p;

err_free:
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	free(p->plan);
	free(p);
	return NULL;
}

static void
pmd_wake(struct pmd *p)
{
	if (eventfd_write(p->wake_fd, 1) != 0)
		vlog_warn("pmd core %u: wake: %s", p->params.core, strerror(errno));
}

void
pmd_stop(struct pmd *p)
{
	if (p == NULL)
		return;
	__atomic_store_n(&p->run, false, __ATOMIC_RELEASE);
	pmd_wake(p);
	pthread_join(p->thread, NULL);
	close(p->epfd);
	close(p->wake_fd);
	free(p->plan);
	free(p);
}

/* Written and read by the control thread only. */
static struct pmd_rcu_counts pmd_counts;

struct pmd_plan *
pmd_swap(struct pmd *p, struct pmd_plan *next)
{
	struct pmd_plan *old = rcu_xchg_pointer(&p->plan, next);

	pmd_wake(p);
	pmd_counts.publishes++;
	return old;
}

void
pmd_grace(void)
{
	urcu_qsbr_synchronize_rcu();     /* every thread passed a quiescent state */
	pmd_counts.grace_periods++;
}

struct pmd_rcu_counts
pmd_rcu_counts(void)
{
	return pmd_counts;
}

void
pmd_publish(struct pmd *p, struct pmd_plan *next)
{
	struct pmd_plan *old = pmd_swap(p, next);

	pmd_grace();
	free(old);
}

int
pmd_watch_fd(struct pmd *p, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

void
pmd_unwatch_fd(struct pmd *p, int fd)
{
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}
