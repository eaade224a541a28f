/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fake_guest.h - a fake virtio driver for tests of every module: guest
 * memory in a memfd (so the same helper can later back a real vhost-user
 * frontend, which passes that fd over the socket), one virtqueue laid out
 * inside it, split, or packed when the features say VIRTIO_F_RING_PACKED (the
 * same three areas: descriptors, driver area, device area), and builders that
 * write descriptors, avail entries and buffers the way a driver would
 * (little-endian, avail->idx or a chain's first flags published with
 * release). The
 * struct gmem is built by gmem_new() and the vq by vq_map(), the same gates the
 * backend uses, so a test exercises the real translation path. Regions sit at
 * adjacent guest-physical addresses but are mapped with a PROT_NONE guard page
 * between them, so code that walks off the end of a region's host mapping
 * faults instead of silently reading the next region. */
#ifndef VHOSTMQ_TESTS_FAKE_GUEST_H
#define VHOSTMQ_TESTS_FAKE_GUEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio/gmem.h"
#include "virtio/spec.h"
#include "virtio/vq.h"

#define FG_GPA_BASE     UINT64_C(0x100000)        /* gpa of region 0 */
#define FG_FVA_BASE     UINT64_C(0x7f0012300000)  /* fva of region 0 */
#define FG_FVA_STRIDE   UINT64_C(0x10000000)      /* fva distance between regions */
#define FG_REGION_SIZE  UINT64_C(0x400000)        /* 4 MiB per region by default */
#define FG_QSIZE        256u

struct fg_opts {
	uint32_t qsize;          /* 0: FG_QSIZE */
	uint32_t n_regions;      /* 0: 1; at most GMEM_MAX_REGIONS, adjacent in gpa */
	uint64_t region_size;    /* 0: FG_REGION_SIZE; a multiple of the page size */
	enum vq_dir dir;
	uint64_t features;       /* feature bits passed to vq_map() */
	uint16_t start_idx;      /* avail->idx and used->idx before vq_map(); packed:
	                            the base (index, wrap counter in bit 15) */
	bool no_map;             /* lay out the rings but leave g->vq unmapped */
};

struct fake_guest {
	int fd;                              /* memfd backing all regions */
	void *resv;                          /* PROT_NONE reservation holding them */
	size_t resv_len;
	uint32_t n_regions;
	struct gmem_region region[GMEM_MAX_REGIONS];
	struct gmem *mem;                    /* built by gmem_new() */

	uint32_t qsize;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vq_addrs addrs;               /* the same rings as fva, for vq_map() */
	struct vring_desc *desc;             /* hva views of the rings (driver side) */
	struct vring_avail *avail;
	struct vring_used *used;

	uint64_t heap_gpa, heap_end;         /* fg_alloc() bump area in region 0 */

	/* Packed rings: the driver's side (fg_pk_*). */
	struct vring_packed_desc *pdesc;
	uint16_t base;                       /* what vq_map() gets (start_idx) */
	uint16_t pk_next, pk_used;           /* next descriptor to post / to read used */
	uint32_t pk_out;                     /* descriptors posted, not yet used */
	bool pk_wrap, pk_used_wrap;          /* the driver's wrap counters */
	uint16_t *pk_ndesc;                  /* [qsize]: descriptors per buffer id */

	struct vq vq_s;
	struct vq *vq;                       /* &vq_s */
};

struct fake_guest *fg_new(uint32_t qsize, enum vq_dir dir, uint64_t features);
struct fake_guest *fg_new_opts(const struct fg_opts *o);   /* NULL on failure */
void fg_free(struct fake_guest *g);

/* Re-runs vq_map() on the guest's rings, e.g. after fg_set_used_idx(). */
enum vq_err fg_map(struct fake_guest *g, enum vq_dir dir, uint64_t features);

/* Address helpers. fg_hva() is NULL unless [gpa, gpa + len) is in one region. */
uint64_t fg_region_gpa(const struct fake_guest *g, uint32_t k);
uint64_t fg_region_end(const struct fake_guest *g, uint32_t k);   /* one past */
uint64_t fg_fva(const struct fake_guest *g, uint64_t gpa);
void *fg_hva(const struct fake_guest *g, uint64_t gpa, uint64_t len);
uint64_t fg_alloc(struct fake_guest *g, uint64_t len, uint64_t align);

/* Guest memory access across region boundaries; -1 if any byte is unmapped. */
int fg_write(struct fake_guest *g, uint64_t gpa, const void *src, uint64_t len);
int fg_read(const struct fake_guest *g, uint64_t gpa, void *dst, uint64_t len);
int fg_fill(struct fake_guest *g, uint64_t gpa, int byte, uint64_t len);

/* Driver-side ring builders; all values are stored little-endian. */
void fg_desc(struct fake_guest *g, uint16_t i, uint64_t gpa, uint32_t len,
             uint16_t flags, uint16_t next);
void fg_avail(struct fake_guest *g, uint16_t head);      /* entry, then idx++ */
void fg_set_avail_idx(struct fake_guest *g, uint16_t idx);
uint16_t fg_avail_idx(const struct fake_guest *g);
void fg_set_avail_flags(struct fake_guest *g, uint16_t flags);
void fg_set_used_event(struct fake_guest *g, uint16_t v);
void fg_set_used_idx(struct fake_guest *g, uint16_t idx);

/* Writes n descriptors given in CPU order as a little-endian table at gpa
 * (an indirect table); the table may straddle regions. */
int fg_table(struct fake_guest *g, uint64_t gpa, const struct vring_desc *d,
             unsigned n);

/* Packed ring driver (g made with VIRTIO_F_RING_PACKED). One element of a
 * buffer; fg_pk_post() makes n of them one chain (NEXT on all but the last,
 * id in the last, the first's flags written last with release) and returns
 * the descriptor index of its head. extra: flags added to every descriptor
 * (e.g. VRING_DESC_F_INDIRECT). */
struct fg_pk_elem {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags;                      /* VRING_DESC_F_WRITE / _INDIRECT */
};
uint16_t fg_pk_post(struct fake_guest *g, const struct fg_pk_elem *e, unsigned n, uint16_t id);
/* Writes descriptor i exactly as given (flags included, little-endian):
 * for rings a driver would never write. */
void fg_pk_raw(struct fake_guest *g, uint16_t i, uint64_t gpa, uint32_t len, uint16_t id,
               uint16_t flags);
/* The AVAIL/USED bits a driver sets now to make a descriptor available. */
uint16_t fg_pk_avail_bits(const struct fake_guest *g);
/* Writes n descriptors (CPU order) as a packed indirect table at gpa. */
int fg_pk_table(struct fake_guest *g, uint64_t gpa, const struct fg_pk_elem *e, unsigned n);
/* The next used descriptor, if the device wrote it: its id, len and flags;
 * the driver then skips the descriptors that buffer id took. Like a real
 * driver, it looks only while buffers it posted are outstanding. */
bool fg_pk_used(struct fake_guest *g, uint16_t *id, uint32_t *len, uint16_t *flags);
/* The driver's event suppression (what notifications it wants). */
void fg_pk_set_driver_event(struct fake_guest *g, uint16_t flags, uint16_t off_wrap);
/* The device's (what kicks it wants). */
uint16_t fg_pk_device_event_flags(const struct fake_guest *g);

/* Driver-side readers of what the device wrote. */
uint16_t fg_used_idx(const struct fake_guest *g);
uint16_t fg_used_flags(const struct fake_guest *g);
uint16_t fg_avail_event(const struct fake_guest *g);
struct vring_used_elem fg_used_elem(const struct fake_guest *g, uint16_t idx);

#endif
