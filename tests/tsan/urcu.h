/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/tsan/urcu.h - force-included (-include) into every file of a
 * ThreadSanitizer build (meson.build does it when b_sanitize has 'thread'),
 * never into any other build. liburcu 0.13 publishes and waits with inline
 * assembly and an uninstrumented library, so TSan sees neither the release
 * of rcu_xchg_pointer() nor the grace period of synchronize_rcu(), and
 * reports every plan a poll thread reads, and every plan freed after a grace
 * period, as a race. This tells it what liburcu guarantees, and nothing more:
 *   - publishing is a release, reading the pointer an acquire (the same
 *     instructions on x86: a locked xchg, a plain load);
 *   - a reader's quiescent state, offline period or unregistration releases
 *     everything it read before it, and synchronize_rcu() acquires all of
 *     that when it returns.
 * The second is coarser than QSBR (one token for every reader), so TSan
 * trusts any grace period; the ASan build and tests/pmd/test_pmd.c check that
 * the grace period is really waited for. Races in vhostmq's own accesses are
 * still reported. */
#ifndef VHOSTMQ_TESTS_TSAN_URCU_H
#define VHOSTMQ_TESTS_TSAN_URCU_H
#include <urcu/urcu-qsbr.h>
#include <urcu/pointer.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* One object for the whole program, whichever file names it first. */
__attribute__((weak)) char vhostmq_tsan_rcu_token;

#undef rcu_dereference
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#undef rcu_xchg_pointer
#define rcu_xchg_pointer(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#undef rcu_set_pointer
#define rcu_set_pointer(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#undef rcu_assign_pointer
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

/* Inside its own expansion a macro's name is not expanded again: these call
 * liburcu's functions of the same name. */
#define urcu_qsbr_quiescent_state() \
	(__tsan_release(&vhostmq_tsan_rcu_token), urcu_qsbr_quiescent_state())
#define urcu_qsbr_thread_offline() \
	(__tsan_release(&vhostmq_tsan_rcu_token), urcu_qsbr_thread_offline())
#define urcu_qsbr_unregister_thread() \
	(__tsan_release(&vhostmq_tsan_rcu_token), urcu_qsbr_unregister_thread())
#define urcu_qsbr_synchronize_rcu() \
	(urcu_qsbr_synchronize_rcu(), __tsan_acquire(&vhostmq_tsan_rcu_token))
#endif
