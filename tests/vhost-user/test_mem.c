/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/vhost-user/test_mem.c - region mapping of vhost-user/mem.c from
 * memfds: what a mapped table translates to (bytes written through the file
 * are read through the table and back, unaligned offsets, one fd behind two
 * regions), the fds staying the caller's, unmapping, seals counted, every
 * mapping registered with the SIGBUS guard until it goes; and a hostile table
 * with one row per refusal (count, empty region, offset wrap, file too short,
 * bad fd, unmappable fd, gpa overlap, gpa and fva wrap), each with its exact
 * message, and nothing left mapped afterwards even when earlier regions had
 * been mapped. Last, a full guard: the table that does not fit unmaps all of
 * its regions and gives back the slots it took. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tests/vhost-user/vhu_test.h"
#include "common/base.h"
#include "vhost-user/guard.h"
#include "vhost-user/mem.h"
#include "virtio/gmem.h"

#define MIB    UINT64_C(0x100000)
#define PAGE   UINT64_C(4096)
#define FVA0   UINT64_C(0x7f0000000000)
#define MAPS   VT_MEMFD_PREFIX "mem-"   /* every memfd this file creates */

/* Byte k of a test file: depends on the file and the offset. */
static uint8_t
pattern(unsigned file, uint64_t off)
{
	return (uint8_t)(file * 37u + off * 13u + (off >> 12));
}

/* A memfd "vhut-mem-<name>" of size bytes, filled with pattern(file, .). */
static int
filled_memfd(const char *name, unsigned file, uint64_t size)
{
	char full[32];
	uint8_t buf[4096];
	int fd;

	snprintf(full, sizeof(full), "mem-%s", name);
	fd = vt_memfd(full, size);
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = pattern(file, off + k);
		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	return fd;
}

static int
sealed_memfd(uint64_t size)
{
	int fd = memfd_create("vhut-mem-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

/* Three regions: a and b from one file of 2 MiB, back to back; c from a
 * second file at an offset that is not page aligned. */
static void
test_map_translate(void **state)
{
	int fa = filled_memfd("a", 1, 2 * MIB), fc = filled_memfd("c", 2, 5 * PAGE);
	const struct vhu_mem_region r[] = {
		{ .gpa = 0,              .size = MIB,       .fva = FVA0,       .mmap_offset = 0 },
		{ .gpa = MIB,            .size = MIB,       .fva = FVA0 + MIB, .mmap_offset = MIB },
		{ .gpa = UINT64_C(1) << 32, .size = 3 * PAGE, .fva = FVA0 + 8 * MIB,
		  .mmap_offset = PAGE + 0x800 },
	};
	const int fds[] = { fa, fa, fc };
	unsigned fds_before = vt_count_fds();
	char why[256] = "untouched";
	struct gmem *m;
	uint64_t len;
	uint32_t hint = 0;
	uint8_t *p, byte;

	(void)state;
	assert_int_equal(vhu_mem_map(r, fds, ARRAY_SIZE(r), &m, why, sizeof(why)), 0);
	assert_non_null(m);
	assert_int_equal(m->n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(m->r[i].gpa, r[i].gpa);
		assert_int_equal(m->r[i].fva, r[i].fva);
		assert_int_equal(m->r[i].size, r[i].size);
		/* The mapping covers the region, whole pages of the file. */
		assert_true((uint8_t *)m->r[i].hva >= (uint8_t *)m->r[i].map_base);
		assert_true((uint8_t *)m->r[i].hva + m->r[i].size <=
		            (uint8_t *)m->r[i].map_base + m->r[i].map_len);
		assert_int_equal((uintptr_t)m->r[i].map_base % PAGE, 0);
	}
	assert_int_equal((uintptr_t)m->r[2].hva % PAGE, 0x800);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "mem-a"), 2);
	assert_int_equal(vt_count_maps(VT_MEMFD_PREFIX "mem-c"), 1);
	assert_int_equal(vt_count_fds(), fds_before);           /* no fd kept */

	/* gpa -> the file's bytes at mmap_offset + (gpa - region gpa). */
	len = 64;
	p = gmem_gpa_to_hva(m, 0x1234, &len, &hint);
	assert_non_null(p);
	assert_int_equal(len, 64);
	assert_int_equal(p[0], pattern(1, 0x1234));
	len = 64;
	p = gmem_gpa_to_hva(m, MIB + 0x777, &len, &hint);
	assert_int_equal(p[0], pattern(1, MIB + 0x777));
	len = 64;
	p = gmem_gpa_to_hva(m, (UINT64_C(1) << 32) + 5, &len, &hint);
	assert_int_equal(p[0], pattern(2, PAGE + 0x800 + 5));
	/* Clamped at the region's end, not the mapping's. */
	len = PAGE;
	p = gmem_gpa_to_hva(m, (UINT64_C(1) << 32) + 3 * PAGE - 16, &len, &hint);
	assert_non_null(p);
	assert_int_equal(len, 16);
	p = gmem_fva_to_hva_full(m, FVA0 + 8 * MIB + 100, 8);
	assert_int_equal(p[0], pattern(2, PAGE + 0x800 + 100));

	/* Shared: a write through the table is in the file, and back. */
	p = gmem_gpa_to_hva_full(m, MIB + 10, 1);
	*p = 0x5a;
	assert_int_equal(pread(fa, &byte, 1, (off_t)(MIB + 10)), 1);
	assert_int_equal(byte, 0x5a);
	byte = 0xc3;
	assert_int_equal(pwrite(fc, &byte, 1, (off_t)(PAGE + 0x800)), 1);
	assert_int_equal(*(uint8_t *)gmem_gpa_to_hva_full(m, UINT64_C(1) << 32, 1), 0xc3);

	/* The fds stay the caller's; the mappings do not need them. */
	assert_true(vt_fd_is_open(fa));
	assert_true(vt_fd_is_open(fc));
	close(fa);
	close(fc);
	assert_int_equal(*(uint8_t *)gmem_gpa_to_hva_full(m, 0x1234, 1), pattern(1, 0x1234));
	vhu_mem_unmap(m);
	assert_int_equal(vt_count_maps(MAPS), 0);
	vhu_mem_unmap(NULL);
}

/* A region may end exactly at the end of its file. */
static void
test_region_ends_at_file_end(void **state)
{
	int fd = filled_memfd("exact", 3, 4 * PAGE);
	const struct vhu_mem_region r = { .gpa = 0x10000, .size = 3 * PAGE, .fva = FVA0,
	                                  .mmap_offset = PAGE };
	char why[256] = "";
	struct gmem *m;

	(void)state;
	assert_int_equal(vhu_mem_map(&r, &fd, 1, &m, why, sizeof(why)), 0);
	assert_int_equal(*(uint8_t *)gmem_gpa_to_hva_full(m, 0x10000 + 3 * PAGE - 1, 1),
	                 pattern(3, 4 * PAGE - 1));
	vhu_mem_unmap(m);
	close(fd);
	assert_int_equal(vt_count_maps(MAPS), 0);
}

/* Seals are counted per region; every region is in the guard from map to
 * unmap, with its seal, and out of it afterwards. */
static void
test_sealed_and_guarded(void **state)
{
	int plain = filled_memfd("plain", 4, MIB), sealed = sealed_memfd(MIB);
	const struct vhu_mem_region r[] = {
		{ .gpa = 0,   .size = MIB, .fva = FVA0 },
		{ .gpa = MIB, .size = MIB, .fva = FVA0 + MIB },
	};
	const int fds[] = { plain, sealed };
	char why[256] = "";
	const void *owner;
	struct gmem *m;
	bool s;

	(void)state;
	assert_int_equal(vhu_mem_map(r, fds, 2, &m, why, sizeof(why)), 0);
	owner = m;
	assert_int_equal(vhu_mem_nsealed(m), 1);
	s = true;
	assert_true(vhu_guard_sealed(owner, 0, &s));
	assert_false(s);
	s = false;
	assert_true(vhu_guard_sealed(owner, 1, &s));
	assert_true(s);
	assert_false(vhu_guard_sealed(owner, 2, &s));
	vhu_mem_unmap(m);
	assert_false(vhu_guard_sealed(owner, 0, &s));
	assert_false(vhu_guard_sealed(owner, 1, &s));
	close(plain);
	close(sealed);
	assert_int_equal(vt_count_maps(MAPS), 0);
}

/* --- refusals --------------------------------------------------------------- */

enum fdk { F_GOOD, F_SHORT, F_NONE, F_EVENT };   /* what is behind a region's fd */

struct bad_row {
	const char *name;
	uint32_t n;                          /* regions passed */
	struct vhu_mem_region r[GMEM_MAX_REGIONS + 1];
	enum fdk fd[GMEM_MAX_REGIONS + 1];   /* F_GOOD: a 2 MiB memfd */
	int rc;
	const char *why;
};

#define R(g, s, o) { .gpa = (g), .size = (s), .fva = FVA0 + (g), .mmap_offset = (o) }

static const struct bad_row bad_rows[] = {
	{ "no region", 0, { R(0, MIB, 0) }, { F_GOOD }, -EINVAL,
	  "nregions: 0 is outside 1..8" },
	{ "nine regions", 9, {
	    R(0, PAGE, 0), R(1 * PAGE, PAGE, 0), R(2 * PAGE, PAGE, 0), R(3 * PAGE, PAGE, 0),
	    R(4 * PAGE, PAGE, 0), R(5 * PAGE, PAGE, 0), R(6 * PAGE, PAGE, 0),
	    R(7 * PAGE, PAGE, 0), R(8 * PAGE, PAGE, 0) }, { F_GOOD }, -EINVAL,
	  "nregions: 9 is outside 1..8" },
	{ "empty region", 2, { R(0, MIB, 0), R(MIB, 0, 0) }, { F_GOOD }, -EINVAL,
	  "region 1: memory_size is 0" },
	{ "mmap_offset + size wraps", 1, { R(0, 2 * PAGE, UINT64_MAX - PAGE + 1) },
	  { F_GOOD }, -EINVAL, "region 0: mmap_offset + memory_size wraps" },
	{ "size beyond the file", 1, { R(0, 4 * MIB, 0) }, { F_GOOD }, -EINVAL,
	  "region 0: mmap_offset + memory_size (4194304) is beyond the end of the fd's "
	  "file (2097152 bytes)" },
	{ "offset + size beyond the file by a byte", 1, { R(0, 2 * MIB - PAGE, PAGE + 1) },
	  { F_GOOD }, -EINVAL,
	  "region 0: mmap_offset + memory_size (2097153) is beyond the end of the fd's "
	  "file (2097152 bytes)" },
	{ "third region's file too short, two mapped", 3,
	  { R(0, MIB, 0), R(MIB, MIB, MIB), R(4 * MIB, 2 * PAGE, 0) },
	  { F_GOOD, F_GOOD, F_SHORT }, -EINVAL,
	  "region 2: mmap_offset + memory_size (8192) is beyond the end of the fd's "
	  "file (4096 bytes)" },
	{ "closed fd", 2, { R(0, MIB, 0), R(MIB, MIB, 0) }, { F_GOOD, F_NONE }, -EBADF,
	  "region 1: fd: Bad file descriptor" },
	{ "fd that cannot be mapped", 2, { R(0, MIB, 0), R(MIB, PAGE, 0) },
	  { F_GOOD, F_EVENT }, -ENODEV,
	  "region 1: mmap of 4096 bytes at offset 0: No such device" },
	{ "gpa overlap", 3, { R(0, MIB, 0), R(4 * MIB, MIB, 0), R(MIB - PAGE, MIB, 0) },
	  { F_GOOD, F_GOOD, F_GOOD }, -EINVAL,
	  "region 2: regions overlap in guest physical space" },
	{ "same gpa twice", 2, { R(0, MIB, 0), R(0, MIB, MIB) }, { F_GOOD, F_GOOD }, -EINVAL,
	  "region 1: regions overlap in guest physical space" },
	{ "gpa + size wraps", 2,
	  { R(0, MIB, 0), { .gpa = UINT64_MAX - PAGE + 1, .size = 2 * PAGE, .fva = FVA0 } },
	  { F_GOOD, F_GOOD }, -EINVAL, "region 1: region end wraps the address space" },
	{ "fva + size wraps", 1, { { .gpa = 0, .size = 2 * PAGE, .fva = UINT64_MAX - PAGE } },
	  { F_GOOD }, -EINVAL, "region 0: region end wraps the address space" },
};

static void
test_bad(void **state)
{
	const struct bad_row *row = *state;
	int fds[GMEM_MAX_REGIONS + 1];
	int good = filled_memfd("good", 5, 2 * MIB), shrt = filled_memfd("short", 6, PAGE);
	int ev = vt_eventfd();
	unsigned fds_before = vt_count_fds();
	char why[256] = "untouched";
	struct gmem *m = (struct gmem *)1;

	for (unsigned i = 0; i < ARRAY_SIZE(fds); i++) {
		switch (row->fd[i]) {
		case F_GOOD:  fds[i] = good; break;
		case F_SHORT: fds[i] = shrt; break;
		case F_NONE:  fds[i] = 1000; break;     /* not open */
		case F_EVENT: fds[i] = ev; break;
		}
	}
	assert_false(vt_fd_is_open(1000));
	assert_int_equal(vhu_mem_map(row->r, fds, row->n, &m, why, sizeof(why)), row->rc);
	assert_string_equal(why, row->why);
	assert_null(m);
	assert_int_equal(vt_count_maps(MAPS), 0);               /* nothing stays mapped */
	assert_int_equal(vt_count_fds(), fds_before);           /* the caller's fds, all */
	assert_true(vt_fd_is_open(good));
	close(good);
	close(shrt);
	close(ev);
}

/* --- a full SIGBUS guard ---------------------------------------------------- */

static int
map_n(int fd, uint32_t n, struct gmem **m, char *why, size_t why_len)
{
	struct vhu_mem_region r[GMEM_MAX_REGIONS];
	int fds[GMEM_MAX_REGIONS];

	for (uint32_t i = 0; i < n; i++) {
		r[i] = (struct vhu_mem_region)R(i * PAGE, PAGE, i * PAGE);
		fds[i] = fd;
	}
	return vhu_mem_map(r, fds, n, m, why, why_len);
}

/* All but four slots taken: an eight-region table maps four regions into
 * the guard, fails on the fifth, and must give back the four slots and all
 * eight mappings; a four-region table then fits exactly. */
static void
test_guard_full(void **state)
{
	enum { TABLES = VHU_GUARD_SLOTS / GMEM_MAX_REGIONS };
	struct gmem *m[TABLES + 1], *bad;
	int fd = filled_memfd("guard", 7, GMEM_MAX_REGIONS * PAGE);
	char why[256] = "", want[96];
	unsigned k;

	(void)state;
	for (k = 0; k < TABLES - 1; k++)
		if (map_n(fd, GMEM_MAX_REGIONS, &m[k], why, sizeof(why)) != 0)
			fail_msg("table %u: %s", k, why);
	assert_int_equal(map_n(fd, 4, &m[k++], why, sizeof(why)), 0);
	assert_int_equal(vt_count_maps(MAPS), VHU_GUARD_SLOTS - 4);
	assert_int_equal(map_n(fd, GMEM_MAX_REGIONS, &bad, why, sizeof(why)), -ENOSPC);
	snprintf(want, sizeof(want), "region 4: the SIGBUS guard has no free slot "
	         "(%u guest mappings)", VHU_GUARD_SLOTS);
	assert_string_equal(why, want);
	assert_null(bad);
	assert_int_equal(vt_count_maps(MAPS), VHU_GUARD_SLOTS - 4);
	assert_int_equal(map_n(fd, 4, &m[k++], why, sizeof(why)), 0);
	assert_int_equal(map_n(fd, 1, &bad, why, sizeof(why)), -ENOSPC);
	snprintf(want, sizeof(want), "region 0: the SIGBUS guard has no free slot "
	         "(%u guest mappings)", VHU_GUARD_SLOTS);
	assert_string_equal(why, want);
	while (k > 0)
		vhu_mem_unmap(m[--k]);
	assert_int_equal(vt_count_maps(MAPS), 0);
	/* Every slot is free again. */
	assert_int_equal(map_n(fd, GMEM_MAX_REGIONS, &m[0], why, sizeof(why)), 0);
	vhu_mem_unmap(m[0]);
	close(fd);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_map_translate),
		cmocka_unit_test(test_region_ends_at_file_end),
		cmocka_unit_test(test_sealed_and_guarded),
		cmocka_unit_test(test_guard_full),
	};
	struct CMUnitTest t[ARRAY_SIZE(bad_rows) + ARRAY_SIZE(fixed)];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(bad_rows); k++)
		t[n++] = (struct CMUnitTest){ .name = bad_rows[k].name, .test_func = test_bad,
		                              .initial_state = (void *)&bad_rows[k] };
	for (size_t k = 0; k < ARRAY_SIZE(fixed); k++)
		t[n++] = fixed[k];
	return cmocka_run_group_tests_name("vhu_mem", t, NULL, NULL);
}
