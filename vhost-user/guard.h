/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/guard.h - keeps guest memory that vanishes under us from killing
 * the process. A frontend can shrink the file behind a region (ftruncate of
 * its memfd or hugetlbfs file) after SET_MEM_TABLE; the next access to the
 * lost pages raises SIGBUS, whose default action ends every device. The
 * guard is a registry of guest mappings plus a process-wide SIGBUS handler:
 * a fault inside a registered mapping replaces that mapping with anonymous
 * zero pages (the access completes harmlessly), records the fault, and wakes
 * the control thread through an eventfd, which then closes that one
 * connection. A SIGBUS anywhere else gets the disposition it had before the
 * guard (SIG_DFL: the process dies as it always did).
 * Security model: the fault address comes from the kernel, never from the
 * frontend; the registry is written only by the control thread, from values
 * vhu_mem_map() has already checked.
 * Concurrency: slots are published with a sequence count, so the handler
 * (which may run on any thread, at any instruction) reads them without a
 * lock. A slot is removed only when no thread can touch its mapping any
 * more: the same precondition as munmap() itself, which vhost-user's owner
 * guarantees with a grace period before it unmaps (see vhost-user/conn.h).
 * A poll thread inside the handler has not passed a quiescent state, so that
 * grace period also waits for every handler that may still read the slot. */
#ifndef VHOSTMQ_VHOST_USER_GUARD_H
#define VHOSTMQ_VHOST_USER_GUARD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64 devices (config/'s limit) x 8 regions (GMEM_MAX_REGIONS) x 2 (during a
 * SET_MEM_TABLE the new table is mapped before the old one goes), or a few
 * devices with hundreds of hot-plugged regions: a table ADD_MEM_REG or
 * REM_MEM_REG builds is guarded whole before the old one's slots go. */
#define VHU_GUARD_SLOTS 4096

/* Installs the SIGBUS handler (and, the first time, creates the wake-up
 * eventfd), before any thread touches guest memory. The disposition it
 * replaces is the one faults outside guest memory get. Called again after
 * something else took SIGBUS, it takes it back; while the handler is still
 * ours it changes nothing. 0 or -errno. */
int vhu_guard_install(void);

/* Readable (EPOLLIN) after a guarded fault; -1 before vhu_guard_install(). */
int vhu_guard_fd(void);

/* Registers the mapping [base, base + len), whose first byte is at file_off
 * in its file. owner and tag identify it in fault reports (vhu_mem_map()
 * passes its table and the region index); sealed: the file carries
 * F_SEAL_SHRINK, so a fault there is not a shrink. Control thread only.
 * 0, or -ENOSPC when every slot is taken. */
int vhu_guard_add(const void *owner, uint32_t tag, void *base, size_t len,
                  uint64_t file_off, bool sealed);

/* Removes every mapping of owner, with any fault not yet reported. Only
 * once no thread can touch those mappings (see above). Control thread. */
void vhu_guard_del(const void *owner);

/* What a registered mapping says about itself; false if owner/tag has none. */
bool vhu_guard_sealed(const void *owner, uint32_t tag, bool *sealed);

struct vhu_guard_fault {
	const void *owner;
	uint32_t tag;
	uint64_t file_off;               /* offset in the file of the faulting byte */
	bool sealed;
};

/* Reads the eventfd empty, then returns each fault once: true with *f
 * filled, false when none is left. Control thread only. */
bool vhu_guard_next_fault(struct vhu_guard_fault *f);

#endif
