/* SPDX-License-Identifier: BSD-3-Clause */
/* pmd/rcu.h - the one place that picks the liburcu flavour: QSBR. Poll threads
 * announce a quiescent state once per loop and go offline while they sleep;
 * the control thread (not a reader) publishes with rcu_xchg_pointer() and
 * waits with urcu_qsbr_synchronize_rcu(). Nothing else includes <urcu/...>. */
#ifndef VHOSTMQ_PMD_RCU_H
#define VHOSTMQ_PMD_RCU_H
#include <urcu/urcu-qsbr.h>
#include <urcu/pointer.h>
#endif
