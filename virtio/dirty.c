/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/dirty.c - the dirty-page log (see dirty.h). */
#include "virtio/dirty.h"

void
dirty_log_gpa(const struct dirty_log *l, uint64_t gpa, uint64_t len)
{
	uint64_t first, last;

	if (len == 0)
		return;
	first = gpa >> DIRTY_PAGE_SHIFT;
	last = (gpa + len - 1 < gpa ? UINT64_MAX : gpa + len - 1) >> DIRTY_PAGE_SHIFT;
	for (uint64_t p = first; p <= last && p / 8 < l->len; p++)
		/* Release: the frontend that sees the bit copies the page with
		 * the bytes we wrote before it. */
		__atomic_fetch_or(&l->bits[p / 8], (uint8_t)(1u << (p % 8)), __ATOMIC_RELEASE);
}

void
dirty_log_hva(const struct dirty_log *l, const struct gmem *m, const void *hva, uint64_t len)
{
	uint32_t hint = 0;

	while (len > 0) {
		uint64_t gpa, n = len;

		if (!gmem_hva_to_gpa(m, hva, &gpa, &n, &hint))
			return;
		dirty_log_gpa(l, gpa, n);
		hva = (const uint8_t *)hva + n;
		len -= n;
	}
}
