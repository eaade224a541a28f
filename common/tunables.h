/* SPDX-License-Identifier: BSD-3-Clause */
/* common/tunables.h - the defaults and budgets that size vhostmq's queues,
 * pools and loops, in one place that the config (which may override some)
 * and the datapath both see. Each states its evidence. */
#ifndef VHOSTMQ_COMMON_TUNABLES_H
#define VHOSTMQ_COMMON_TUNABLES_H

/* Packets per burst: DPDK's customary 32 (one cache line of mbuf pointers x4). */
#define TUNE_BURST 32
/* Guest TX stops a visit after this many bytes too, so a guest sending 64 KiB
 * frames gets about the copy time of one sending 32 full-size ones, not 40
 * times more, from a poll thread its neighbours share. */
#define TUNE_TX_BYTE_BUDGET (64u * 1024)
/* Per-lcore mempool cache: DPDK's usual size for pools of this order. */
#define TUNE_MBUF_CACHE 256u
/* The largest steering inbox of a pair (backend/pool.h sizes each from its
 * port's RX queues): a full burst from every pair's port queue four times
 * over at 8 pairs. */
#define TUNE_INBOX_SIZE 1024u
/* A device port's RX queue (a ring the peer device's TX fills): as a
 * loopback ring, four times the 256-entry rings DPDK's virtio-user uses by
 * default, so a full guest TX burst from every peer queue mapped to it fits;
 * while the receiver does not read, this is what the sender's pool lends it
 * per queue before frames drop. */
#define TUNE_DEVICE_RING 1024u
/* Adaptive poll mode: idle time before a thread sleeps (config idle_us). 200
 * us keeps an idle vhostmq near 0% CPU (bench/tools/wakeup.c) while a
 * thread under load never sleeps between bursts. */
#define TUNE_IDLE_US 200u
/* How long an idle thread with a port that cannot wake it (an ethdev) sleeps
 * before looking again: 1 ms keeps an idle thread near 0% CPU while adding at
 * most a millisecond to the first packet after a pause. */
#define TUNE_PORT_POLL_MS 1

/* Memory regions a device takes (GET_MAX_MEM_SLOTS, protocol feature
 * CONFIGURE_MEM_SLOTS): libvhost-user's and QEMU's cap, so a VM can hot-plug
 * memory until QEMU itself stops; DPDK 22.11's vhost takes 8. Each region is
 * one mapping of the guest's and two guard slots while a table is replaced
 * (vhost-user/guard.h). */
#define TUNE_MEM_SLOTS 509u

#endif
