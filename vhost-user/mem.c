/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/mem.c - mapping the frontend's memory regions, and registering
 * each mapping with the SIGBUS guard (vhost-user/guard.h) for as long as it
 * exists.
 * Security model: see mem.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vhost-user/guard.h"
#include "vhost-user/mem.h"

/* What the guard needs of a region beyond its gmem entry. */
struct map_info {
	uint64_t file_off;               /* offset of map_base in the file */
	bool sealed;                     /* F_SEAL_SHRINK: the file cannot shrink */
};

static void
unmap_regions(struct gmem_region *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		munmap(g[i].map_base, g[i].map_len);
}

/* Maps one region; 0 or -errno with why filled. */
static int
map_region(const struct vhu_mem_region *r, int fd, uint32_t i, struct gmem_region *g,
           struct map_info *info, char *why, size_t why_len)
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
	*info = (struct map_info){ .file_off = start,
	                           .sealed = seals >= 0 && (seals & F_SEAL_SHRINK) };
	*g = (struct gmem_region){
		.gpa = r->gpa, .fva = r->fva, .size = r->size,
		.hva = (uint8_t *)base + (r->mmap_offset - start),
		.map_base = base, .map_len = (size_t)len,
	};
	return 0;
}

int
vhu_mem_map(const struct vhu_mem_region *r, const int *fds, uint32_t n,
            struct gmem **out, char *why, size_t why_len)
{
	struct gmem_region g[GMEM_MAX_REGIONS];
	struct map_info info[GMEM_MAX_REGIONS];
	enum gmem_err ge;
	uint32_t i, bad;
	int rc;

	*out = NULL;
	if (n == 0 || n > GMEM_MAX_REGIONS) {
		snprintf(why, why_len, "nregions: %u is outside 1..%u", n, GMEM_MAX_REGIONS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		rc = map_region(&r[i], fds[i], i, &g[i], &info[i], why, why_len);
		if (rc != 0)
			goto err_unmap;
	}
	ge = gmem_new(g, n, out, &bad);
	if (ge != GMEM_OK) {
		snprintf(why, why_len, "region %u: %s", bad, gmem_strerror(ge));
		rc = ge == GMEM_E_NOMEM ? -ENOMEM : -EINVAL;
		goto err_unmap;
	}
	/* Registered before anyone can see the table: no thread touches these
	 * mappings until the caller publishes it. */
	for (i = 0; i < n; i++) {
		rc = vhu_guard_add(*out, i, g[i].map_base, g[i].map_len, info[i].file_off,
		                   info[i].sealed);
		if (rc != 0) {
			snprintf(why, why_len, "region %u: the SIGBUS guard has no free slot "
			         "(%u guest mappings)", i, VHU_GUARD_SLOTS);
			goto err_unguard;
		}
	}
	return 0;

err_unguard:
	vhu_guard_del(*out);
	gmem_free(*out);
	*out = NULL;
	i = n;
err_unmap:
	unmap_regions(g, i);
	return rc;
}

uint32_t
vhu_mem_nsealed(const struct gmem *m)
{
	uint32_t n = 0;
	bool sealed;

	for (uint32_t i = 0; i < m->n; i++)
		if (vhu_guard_sealed(m, i, &sealed) && sealed)
			n++;
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
