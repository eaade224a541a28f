/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/gmem.h - the guest memory table: GPA and frontend-VA to host-VA.
 * Security model: region values come from the frontend. gmem_new() is the only
 * gate: it rejects empty and wrapping regions, and regions that overlap in
 * guest physical or in frontend virtual space, so every lookup can trust the
 * table. The table is immutable once built and shared read-only by every poll
 * thread; SET_MEM_TABLE, ADD_MEM_REG and REM_MEM_REG each build a new table
 * (build, validate, swap). Regions are kept sorted by guest physical address:
 * a lookup tries its caller's last hit, then halves the table, so hundreds
 * of regions (memory hotplug) cost a few steps on a miss. Lookups clamp
 * lengths to the end of a region, so a buffer that straddles two regions
 * comes back in pieces and never overflows one. */
#ifndef VHOSTMQ_VIRTIO_GMEM_H
#define VHOSTMQ_VIRTIO_GMEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/base.h"

/* Eight is QEMU's historic vhost-user limit (VHOST_MEMORY_BASELINE_NREGIONS),
 * what one SET_MEM_TABLE carries; memory hotplug beyond it adds regions one
 * by one (CONFIGURE_MEM_SLOTS), up to GMEM_MAX_SLOTS, libvhost-user's and
 * QEMU's cap. */
#define GMEM_MAX_REGIONS 8
#define GMEM_MAX_SLOTS 509

struct gmem_region {
	uint64_t gpa;        /* guest physical start */
	uint64_t fva;        /* frontend virtual start (QEMU's userspace_addr) */
	uint64_t size;
	void    *hva;        /* host virtual start of the region's first byte */
	void    *map_base;   /* what to munmap, owned by whoever built the table */
	size_t   map_len;
	uint64_t file_off;   /* where map_base lies in its file */
	uint64_t file_id;    /* the file's device and inode: which guest's memory
	                        this is (0: not known) */
	bool     sealed;     /* the file cannot shrink (F_SEAL_SHRINK) */
	/* The frontend's ADD_MEM_REG of this very region not yet matched by a
	 * REM_MEM_REG: QEMU adds (and removes) every region once per queue
	 * pair. Only the control thread reads or changes it, in place. */
	uint32_t refs;
};

struct gmem {
	uint32_t n;
	struct gmem_region r[];
};

enum gmem_err {
	GMEM_OK = 0,
	GMEM_E_COUNT,        /* n == 0 or n > GMEM_MAX_SLOTS */
	GMEM_E_EMPTY,        /* region size 0 */
	GMEM_E_WRAP,         /* gpa + size or fva + size wraps */
	GMEM_E_OVERLAP,      /* two regions share guest physical addresses */
	GMEM_E_OVERLAP_FVA,  /* two regions share frontend virtual addresses */
	GMEM_E_NOMEM,
};

const char *gmem_strerror(enum gmem_err e);

/* Validates and copies regions into a new table, sorted by gpa; on error
 * *bad is the index in r of the offending region (or n for a count error). */
enum gmem_err gmem_new(const struct gmem_region *r, uint32_t n, struct gmem **out,
                       uint32_t *bad);
void gmem_free(struct gmem *m);      /* frees the table, does not unmap */

/* GPA -> HVA for up to *len bytes; *len is clamped to what is contiguous in one
 * region, 0 (and NULL returned) if gpa is in no region. *hint is a per-caller
 * cache of the last region hit; any value is safe. */
static inline void *
gmem_region_hva(const struct gmem_region *r, uint64_t gpa, uint64_t *len)
{
	uint64_t off = gpa - r->gpa;     /* huge if gpa < r->gpa: no false hit */

	if (off >= r->size)
		return NULL;
	if (*len > r->size - off)
		*len = r->size - off;
	return (uint8_t *)r->hva + off;
}

/* The slow half of gmem_gpa_to_hva(): a binary search of the sorted table. */
void *gmem_gpa_search(const struct gmem *m, uint64_t gpa, uint64_t *len, uint32_t *hint);

static inline void *
gmem_gpa_to_hva(const struct gmem *m, uint64_t gpa, uint64_t *len, uint32_t *hint)
{
	uint32_t h = *hint;
	void *p = h < m->n ? gmem_region_hva(&m->r[h], gpa, len) : NULL;

	return p != NULL ? p : gmem_gpa_search(m, gpa, len, hint);
}

/* A lookup cursor for a burst of buffers: the last region hit, copied into
 * the caller's locals, so a loop that also stores elsewhere keeps it in
 * registers. Built from a hint (any value is safe), given back as one. */
struct gmem_cursor {
	uint64_t gpa, size;              /* size 0: no region yet, every lookup misses */
	uint8_t *hva;
	uint32_t hint;
};

static inline struct gmem_cursor
gmem_cursor(const struct gmem *m, uint32_t hint)
{
	const struct gmem_region *r = hint < m->n ? &m->r[hint] : NULL;

	return r != NULL ? (struct gmem_cursor){ r->gpa, r->size, r->hva, hint }
	                 : (struct gmem_cursor){ 0, 0, NULL, hint };
}

/* The slow half of gmem_cursor_whole(): a search, and the cursor moved to
 * the region found. */
void *gmem_cursor_search(const struct gmem *m, struct gmem_cursor *c, uint64_t gpa,
                         uint64_t len);

/* GPA -> HVA for a buffer that must lie wholly in one region (len > 0):
 * NULL if any of its bytes is elsewhere. The per-buffer lookup of the
 * rings' fast paths. */
static inline void *
gmem_cursor_whole(const struct gmem *m, struct gmem_cursor *c, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - c->gpa;     /* huge if gpa < c->gpa: no false hit */

	if (likely(off < c->size && len <= c->size - off))
		return c->hva + off;
	return gmem_cursor_search(m, c, gpa, len);
}

/* HVA -> GPA, the other way (for the dirty log): true and *gpa if hva lies in
 * a region, *len clamped to what lies in it; *hint as above. */
static inline bool
gmem_hva_to_gpa(const struct gmem *m, const void *hva, uint64_t *gpa, uint64_t *len,
                uint32_t *hint)
{
	for (uint32_t i = 0; i < m->n; i++) {
		uint32_t k = (*hint + i) % m->n;
		const struct gmem_region *r = &m->r[k];
		uint64_t off = (uint64_t)((uintptr_t)hva - (uintptr_t)r->hva);

		if (off < r->size) {
			*gpa = r->gpa + off;
			if (*len > r->size - off)
				*len = r->size - off;
			*hint = k;
			return true;
		}
	}
	return false;
}

/* Whole-range lookups: NULL unless all of [addr, addr + len) lies in one region.
 * Used where a structure must be contiguous (rings at start, indirect tables). */
void *gmem_gpa_to_hva_full(const struct gmem *m, uint64_t gpa, uint64_t len);
void *gmem_fva_to_hva_full(const struct gmem *m, uint64_t fva, uint64_t len);

/* Frontend VA -> GPA: true and *gpa if fva lies in a region. */
bool gmem_fva_to_gpa(const struct gmem *m, uint64_t fva, uint64_t *gpa);

/* Copies len bytes at gpa into dst across region boundaries; -1 if any byte
 * is unmapped. Slow path only (indirect tables that straddle regions). */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
