/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/dirty.h - the dirty-page log of a live migration (vhost-user
 * protocol feature LOG_SHMFD): one bit per 4 KiB page of guest physical
 * memory, bit (page % 8) of byte (page / 8), in memory the frontend shares
 * with SET_LOG_BASE. While the frontend has VHOST_F_LOG_ALL on, every byte
 * the device writes into guest memory (RX buffers, used rings) marks its
 * pages, and the frontend copies them to the destination again.
 * Security model: the log's size was checked against the memory table and
 * the used rings once, when it was mapped (vhost-user/conn.c); each bit is
 * still bounds-checked, so a page the log does not cover (a region added
 * after it) is skipped, never written past the log's end. The frontend reads
 * and clears the log while we set bits: they are set with atomic ORs, after
 * the data they stand for. */
#ifndef VHOSTMQ_VIRTIO_DIRTY_H
#define VHOSTMQ_VIRTIO_DIRTY_H
#include <stdint.h>
#include "virtio/gmem.h"

#define DIRTY_PAGE_SHIFT 12              /* VHOST_LOG_PAGE: 4 KiB */

struct dirty_log {
	uint8_t *bits;
	uint64_t len;                    /* bytes of bits */
};

/* Bytes of log that cover guest physical addresses [0, end). */
static inline uint64_t
dirty_log_bytes(uint64_t end)
{
	uint64_t pages = (end >> DIRTY_PAGE_SHIFT) +
	                 ((end & ((UINT64_C(1) << DIRTY_PAGE_SHIFT) - 1)) != 0);

	return pages / 8 + (pages % 8 != 0);
}

/* Marks the pages of guest physical [gpa, gpa + len). */
void dirty_log_gpa(const struct dirty_log *l, uint64_t gpa, uint64_t len);

/* Marks the pages behind host bytes [hva, hva + len) of guest memory m (a
 * piece of an RX buffer: vq chains hold host addresses). Bytes outside
 * every region are not guest memory and mark nothing. */
void dirty_log_hva(const struct dirty_log *l, const struct gmem *m, const void *hva,
                   uint64_t len);

#endif
