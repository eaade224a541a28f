/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/mem.h - turns a SET_MEM_TABLE payload and its fds into a mapped,
 * validated guest memory table.
 * Security model: region values and fds are hostile. Sizes and offsets are
 * checked for overflow, and each fd's file must really be as large as the
 * frontend claims (a short file would map fine and then SIGBUS the poll
 * thread that touches the missing pages). gmem_new() then checks the table as
 * a whole. On any failure nothing stays mapped. A file can still shrink
 * after the check unless it is sealed (F_SEAL_SHRINK): every mapping is
 * registered with the SIGBUS guard (vhost-user/guard.h) from map to unmap,
 * tagged with its table and region index. */
#ifndef VHOSTMQ_VHOST_USER_MEM_H
#define VHOSTMQ_VHOST_USER_MEM_H
#include "vhost-user/proto.h"
#include "virtio/gmem.h"

/* Maps regions r[0..n) from fds[0..n). 0 or -errno; on failure *why names the
 * region and the field. fds stay owned by the caller (mmap keeps its own
 * reference). */
int vhu_mem_map(const struct vhu_mem_region *r, const int *fds, uint32_t n,
                struct gmem **out, char *why, size_t why_len);

/* Regions of m whose file is sealed against shrinking (for log lines). */
uint32_t vhu_mem_nsealed(const struct gmem *m);

/* Unmaps every region and frees the table. NULL is fine. Only once no
 * thread can touch m's memory (after the grace period that follows taking
 * m out of every plan): the guard's slots go with the mappings. */
void vhu_mem_unmap(struct gmem *m);

#endif
