/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/mem.c - mapping the frontend's memory regions, and registering
 * each mapping with the SIGBUS guard (vhost-user/guard.h) for as long as it
 * exists.
 * Security model: see mem.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vhost-user/guard.h"
#include "vhost-user/mem.h"

/* What the guard needs of a region beyond its gmem entry. */
static void
unmap_regions(struct gmem_region *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		munmap(g[i].map_base, g[i].map_len);
}

/* Maps one region; 0 or -errno with why filled. */
static int
map_region(const struct vhu_mem_region *r, int fd, uint32_t i, struct gmem_region *g,
           char *why, size_t why_len)
{
	struct stat st;
	uint64_t align, start, len;
	void *base;
	int seals;

	if (r->size == 0) {
		snprintf(why, why_len, "region %u: memory_size is 0", i);
		return -EINVAL;
	}
	if (r->mmap_offset + r->size < r->mmap_offset) {
		snprintf(why, why_len, "region %u: mmap_offset + memory_size wraps", i);
		return -EINVAL;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, why_len, "region %u: fd: %s", i, strerror(errno));
		return -EBADF;
	}
	/* Regular files, memfd and hugetlbfs report their size; a mapping past
	 * the end of the file would SIGBUS on first touch. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < r->mmap_offset + r->size) {
		snprintf(why, why_len, "region %u: mmap_offset + memory_size (%llu) is beyond "
		         "the end of the fd's file (%llu bytes)", i,
		         (unsigned long long)(r->mmap_offset + r->size),
		         (unsigned long long)st.st_size);
		return -EINVAL;
	}
	/* hugetlbfs needs offset and length aligned to its page size, which it
	 * reports as st_blksize. */
	align = st.st_blksize > 0 ? (uint64_t)st.st_blksize : 4096;
	if ((align & (align - 1)) != 0)
		align = 4096;
	start = r->mmap_offset & ~(align - 1);
	len = r->mmap_offset + r->size - start;
	len = (len + align - 1) & ~(align - 1);
	if (len < r->size || len > SIZE_MAX) {
		snprintf(why, why_len, "region %u: memory_size too large to map", i);
		return -EINVAL;
	}
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED,
	            fd, (off_t)start);
	if (base == MAP_FAILED) {
		snprintf(why, why_len, "region %u: mmap of %llu bytes at offset %llu: %s", i,
		         (unsigned long long)len, (unsigned long long)start, strerror(errno));
		return -errno;
	}
	/* A file sealed against shrinking (QEMU's memory-backend-memfd seals by
	 * default) keeps every page the size check above saw; any other may
	 * be cut short under us at any time, which the guard survives.
	 * F_GET_SEALS fails (EINVAL) for files that cannot carry seals. */
	seals = fcntl(fd, F_GET_SEALS);
	*g = (struct gmem_region){
		.gpa = r->gpa, .fva = r->fva, .size = r->size,
		.hva = (uint8_t *)base + (r->mmap_offset - start),
		.map_base = base, .map_len = (size_t)len,
		.file_off = start, .sealed = seals >= 0 && (seals & F_SEAL_SHRINK), .refs = 1,
		.file_id = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40),
	};
	return 0;
}

/* Registers every mapping of table m with the guard, tagged by m and the
 * region's index, before anyone can see m: no thread touches them until the
 * caller publishes it. On failure none stays registered. */
static int
guard_table(struct gmem *m, char *why, size_t why_len)
{
	for (uint32_t i = 0; i < m->n; i++) {
		int rc = vhu_guard_add(m, i, m->r[i].map_base, m->r[i].map_len, m->r[i].file_off,
		                       m->r[i].sealed);

		if (rc != 0) {
			vhu_guard_del(m);
			snprintf(why, why_len, "region %u: the SIGBUS guard has no free slot "
			         "(%u guest mappings)", i, VHU_GUARD_SLOTS);
			return rc;
		}
	}
	return 0;
}

/* A table of regions g[0..n), mapped already, checked as a whole and
 * guarded. On failure nothing is unmapped (the caller decides). */
static int
table_new(const struct gmem_region *g, uint32_t n, struct gmem **out, char *why,
          size_t why_len)
{
	enum gmem_err ge;
	uint32_t bad;
	int rc;

	ge = gmem_new(g, n, out, &bad);
	if (ge != GMEM_OK) {
		snprintf(why, why_len, "region %u: %s", bad, gmem_strerror(ge));
		return ge == GMEM_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	if ((rc = guard_table(*out, why, why_len)) != 0) {
		gmem_free(*out);
		*out = NULL;
	}
	return rc;
}

int
vhu_mem_map(const struct vhu_mem_region *r, const int *fds, uint32_t n,
            struct gmem **out, char *why, size_t why_len)
{
	struct gmem_region g[GMEM_MAX_REGIONS];
	uint32_t i;
	int rc;

	*out = NULL;
	if (n == 0 || n > GMEM_MAX_REGIONS) {
		snprintf(why, why_len, "nregions: %u is outside 1..%u", n, GMEM_MAX_REGIONS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if ((rc = map_region(&r[i], fds[i], i, &g[i], why, why_len)) != 0)
			break;
	if (i == n && (rc = table_new(g, n, out, why, why_len)) == 0)
		return 0;
	unmap_regions(g, i);
	return rc;
}

int
vhu_mem_add(const struct gmem *old, const struct vhu_mem_region *r, int fd, uint32_t max,
            struct gmem **out, char *why, size_t why_len)
{
	uint32_t n = old != NULL ? old->n : 0;
	struct gmem_region *g;
	int rc;

	*out = NULL;
	if (n >= max) {
		snprintf(why, why_len, "the device has %u regions, its limit (GET_MAX_MEM_SLOTS)",
		         n);
		return -ENOSPC;
	}
	g = malloc((n + 1) * sizeof(g[0]));
	if (g == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	if (n > 0)
		memcpy(g, old->r, n * sizeof(g[0]));
	if ((rc = map_region(r, fd, n, &g[n], why, why_len)) == 0 &&
	    (rc = table_new(g, n + 1, out, why, why_len)) != 0)
		unmap_regions(&g[n], 1);
	free(g);
	return rc;
}

uint32_t
vhu_mem_find(const struct gmem *m, const struct vhu_mem_region *r)
{
	for (uint32_t i = 0; m != NULL && i < m->n; i++)
		if (m->r[i].gpa == r->gpa && m->r[i].size == r->size && m->r[i].fva == r->fva)
			return i;
	return UINT32_MAX;
}

int
vhu_mem_remove(const struct gmem *old, const struct vhu_mem_region *r, struct gmem **out,
               uint32_t *gone, char *why, size_t why_len)
{
	struct gmem_region *g;
	uint32_t k = 0, i;
	int rc;

	*out = NULL;
	i = vhu_mem_find(old, r);
	if (i == UINT32_MAX) {
		snprintf(why, why_len, "region gpa 0x%" PRIx64 " size 0x%" PRIx64 " fva 0x%" PRIx64
		         ": no such region", r->gpa, r->size, r->fva);
		return -ENOENT;
	}
	*gone = i;
	if (old->n == 1)
		return 0;                /* the last one: no table */
	g = malloc((old->n - 1) * sizeof(g[0]));
	if (g == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t j = 0; j < old->n; j++)
		if (j != i)
			g[k++] = old->r[j];
	rc = table_new(g, k, out, why, why_len);
	free(g);
	return rc;
}

void
vhu_mem_retire(struct gmem *old, uint32_t gone)
{
	if (old == NULL)
		return;
	vhu_guard_del(old);
	if (gone < old->n)
		unmap_regions(&old->r[gone], 1);
	gmem_free(old);
}

uint32_t
vhu_mem_nsealed(const struct gmem *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->n; i++)
		n += m->r[i].sealed;
	return n;
}

void
vhu_mem_unmap(struct gmem *m)
{
	if (m == NULL)
		return;
	/* The caller's grace period is behind us: no thread can fault in
	 * these mappings any more, so their slots can go, then the mappings
	 * (the guard never looks at an address that is no longer ours). */
	vhu_guard_del(m);
	unmap_regions(m->r, m->n);
	gmem_free(m);
}
