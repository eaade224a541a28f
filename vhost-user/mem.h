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

/* ADD_MEM_REG: a new table of old's regions (NULL: none) and r, mapped from
 * fd, checked against them (overlap in guest physical or frontend virtual
 * space) and guarded; at most max regions (-ENOSPC). old is untouched:
 * publish the new one, then vhu_mem_retire(old, UINT32_MAX). */
int vhu_mem_add(const struct gmem *old, const struct vhu_mem_region *r, int fd, uint32_t max,
                struct gmem **out, char *why, size_t why_len);

/* The index in m (NULL: none) of the region whose gpa, size and fva are
 * r's; UINT32_MAX if none. */
uint32_t vhu_mem_find(const struct gmem *m, const struct vhu_mem_region *r);

/* REM_MEM_REG: a new table of old's regions but the one whose gpa, size and
 * fva are r's (-ENOENT if none; *gone its index in old); *out NULL when it
 * was the last. Publish it, then vhu_mem_retire(old, *gone). */
int vhu_mem_remove(const struct gmem *old, const struct vhu_mem_region *r, struct gmem **out,
                   uint32_t *gone, char *why, size_t why_len);

/* Frees a table replaced by one made of its regions (vhu_mem_add(),
 * vhu_mem_remove()), after the grace period that took it out of every plan:
 * its guard slots go, and of its mappings only region gone's (UINT32_MAX:
 * none), which the new table does not have. */
void vhu_mem_retire(struct gmem *old, uint32_t gone);

/* Regions of m whose file is sealed against shrinking (for log lines). */
uint32_t vhu_mem_nsealed(const struct gmem *m);

/* Unmaps every region and frees the table. NULL is fine. Only once no
 * thread can touch m's memory (after the grace period that follows taking
 * m out of every plan): the guard's slots go with the mappings. */
void vhu_mem_unmap(struct gmem *m);

#endif
