/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/gmem.c - building and querying the guest memory table.
 * Security model: see gmem.h; gmem_new() checks every region before any
 * lookup can see it. */
#include <stdlib.h>
#include <string.h>
#include "virtio/gmem.h"

const char *
gmem_strerror(enum gmem_err e)
{
	switch (e) {
	case GMEM_OK:        return "ok";
	case GMEM_E_COUNT:   return "region count out of range";
	case GMEM_E_EMPTY:   return "region size is 0";
	case GMEM_E_WRAP:    return "region end wraps the address space";
	case GMEM_E_OVERLAP: return "regions overlap in guest physical space";
	case GMEM_E_OVERLAP_FVA: return "regions overlap in the frontend's virtual space";
	case GMEM_E_NOMEM:   return "out of memory";
	}
	return "unknown";
}

static int
by_gpa(const void *a, const void *b)
{
	const struct gmem_region *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static int
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Both ranges are known not to wrap. */
	return a < b + blen && b < a + alen;
}

enum gmem_err
gmem_new(const struct gmem_region *r, uint32_t n, struct gmem **out, uint32_t *bad)
{
	struct gmem *m;

	*out = NULL;
	*bad = n;
	if (n == 0 || n > GMEM_MAX_SLOTS)
		return GMEM_E_COUNT;
	for (uint32_t i = 0; i < n; i++) {
		*bad = i;
		if (r[i].size == 0)
			return GMEM_E_EMPTY;
		if (r[i].gpa + r[i].size < r[i].gpa || r[i].fva + r[i].size < r[i].fva ||
		    (uintptr_t)r[i].hva + r[i].size < (uintptr_t)r[i].hva)
			return GMEM_E_WRAP;
		for (uint32_t k = 0; k < i; k++) {
			if (ranges_overlap(r[i].gpa, r[i].size, r[k].gpa, r[k].size))
				return GMEM_E_OVERLAP;
			if (ranges_overlap(r[i].fva, r[i].size, r[k].fva, r[k].size))
				return GMEM_E_OVERLAP_FVA;
		}
	}
	m = malloc(sizeof(*m) + n * sizeof(m->r[0]));
	if (m == NULL)
		return GMEM_E_NOMEM;
	m->n = n;
	memcpy(m->r, r, n * sizeof(m->r[0]));
	qsort(m->r, n, sizeof(m->r[0]), by_gpa);
	*out = m;
	return GMEM_OK;
}

void *
gmem_gpa_search(const struct gmem *m, uint64_t gpa, uint64_t *len, uint32_t *hint)
{
	uint32_t lo = 0, hi = m->n;          /* the region is in [lo, hi) if any */

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->r[mid].gpa <= gpa)
			lo = mid;
		else
			hi = mid;
	}
	if (m->n > 0) {
		void *p = gmem_region_hva(&m->r[lo], gpa, len);

		if (p != NULL) {
			*hint = lo;
			return p;
		}
	}
	*len = 0;
	return NULL;
}

void *
gmem_cursor_search(const struct gmem *m, struct gmem_cursor *c, uint64_t gpa, uint64_t len)
{
	uint64_t got = len;
	void *p = gmem_gpa_search(m, gpa, &got, &c->hint);

	if (p == NULL)
		return NULL;
	*c = gmem_cursor(m, c->hint);
	return got == len ? p : NULL;
}

void
gmem_free(struct gmem *m)
{
	free(m);
}

void *
gmem_gpa_to_hva_full(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	uint64_t got = len;
	uint32_t hint = 0;
	void *p = gmem_gpa_to_hva(m, gpa, &got, &hint);

	return got == len ? p : NULL;
}

void *
gmem_fva_to_hva_full(const struct gmem *m, uint64_t fva, uint64_t len)
{
	for (uint32_t k = 0; k < m->n; k++) {
		const struct gmem_region *r = &m->r[k];
		uint64_t off = fva - r->fva;

		if (off < r->size && len <= r->size - off)
			return (uint8_t *)r->hva + off;
	}
	return NULL;
}

bool
gmem_fva_to_gpa(const struct gmem *m, uint64_t fva, uint64_t *gpa)
{
	for (uint32_t k = 0; k < m->n; k++) {
		uint64_t off = fva - m->r[k].fva;

		if (off < m->r[k].size) {
			*gpa = m->r[k].gpa + off;
			return true;
		}
	}
	return false;
}

int
gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len)
{
	uint32_t hint = 0;
	uint8_t *d = dst;

	while (len > 0) {
		uint64_t got = len;
		const void *p = gmem_gpa_to_hva(m, gpa, &got, &hint);

		if (p == NULL)
			return -1;
		memcpy(d, p, got);
		d += got;
		gpa += got;
		len -= got;
	}
	return 0;
}
