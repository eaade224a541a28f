/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/fuzz.h - what the libFuzzer targets and their seed generator
 * share: the byte layout of each target's input (one place, so seeds written
 * by seeds.c always mean what the targets read), a reader that turns any byte
 * string into a valid input (reads past the end give zeros: no input is
 * rejected, so libFuzzer never wastes a mutation on framing), a writer for the
 * generator, counters for the leaks no sanitizer sees (fds, memfd mappings),
 * and FZ_CHECK(), which aborts so libFuzzer saves the input as a crash.
 * Header-only: each target is one file plus this. */
#ifndef VHOSTMQ_TESTS_FUZZ_FUZZ_H
#define VHOSTMQ_TESTS_FUZZ_FUZZ_H
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/fake_guest.h"

/* ---- fuzz_vhu_dispatch -----------------------------------------------------
 * byte 0       device: max_qp = 1 + (b & FZ_VHU_QP_MASK); FZ_VHU_POSITION: the
 *              owner knows every vring's position (GET_VRING_BASE answers it);
 *              FZ_VHU_MTU: it offers VIRTIO_NET_F_MTU with MTU 1500 (and the
 *              protocol feature MTU: NET_SET_MTU gets past its first check)
 * then records, until the input ends:
 *   u8  ctl    FZ_VHU_NFDS_MASK: fds sent with the bytes (more than any message
 *              carries, to reach the truncation path); FZ_VHU_KIND: what they
 *              are; FZ_VHU_DEFER: do not read yet (the next write lands behind
 *              this one, so one read sees both); FZ_VHU_SAME: every fd is
 *              a dup of the first (one file behind several regions)
 *   u8  pages  memfd k is ((pages & FZ_VHU_PAGES_MASK) + k) * 4 KiB long
 *              (SET_MEM_TABLE's file-size check), plus FZ_VHU_ODD_TAIL bytes if
 *              pages is odd; FZ_VHU_SEAL: sealed against shrinking
 *   u16 len    then len raw bytes written with one sendmsg(): messages, parts
 *              of messages, or several; the wire format is vhost-user's own
 * When the input ends the frontend shuts its side down, and the device must
 * see that and be freed.
 */
#define FZ_VHU_QP_MASK    0x03u
#define FZ_VHU_POSITION   0x80u
#define FZ_VHU_MTU        0x40u

#define FZ_VHU_NFDS_MASK  0x0fu
#define FZ_VHU_KIND_SHIFT 4
#define FZ_VHU_KIND_MASK  0x30u
#define FZ_VHU_DEFER      0x40u
#define FZ_VHU_SAME       0x80u
#define FZ_VHU_ODD_TAIL   100u
#define FZ_VHU_PAGES_MASK 0x7fu
#define FZ_VHU_SEAL       0x80u

enum fz_vhu_kind {
	FZ_VHU_MEMFD = 0,                /* a regular file: what SET_MEM_TABLE wants */
	FZ_VHU_EVENTFD,                  /* what KICK/CALL/ERR want */
	FZ_VHU_MIXED,                    /* even fds memfd, odd fds eventfd */
	FZ_VHU_PIPE,                     /* neither: mmap and the eventfd check fail */
};

/* ---- fuzz_vq_walk -----------------------------------------------------------
 * struct fz_vq_hdr, each field little-endian (fz_vq_hdr_read()), then:
 *   ndesc  x 16-byte descriptors (u64 addr, u32 len, u16 flags, u16 next) into
 *          the descriptor table from entry 0; addr and len are folded into
 *          guest memory unless their top bits are all set (fz_vq_addr())
 *   navail x u16 avail entries, from ring slot start_idx on
 *   nheap  raw bytes at the start of the free part of region 0, the first
 *          address descriptors reach (indirect tables live there)
 *   the rest: operations, FZ_OP_* = byte % FZ_OP_COUNT, each with the
 *   operands listed beside it; with no operations, a default pop/push loop.
 */
struct fz_vq_hdr {
	uint8_t shape;                   /* FZ_VQ_* shape bits */
	uint8_t flags;                   /* FZ_VQF_* */
	uint16_t start_idx;              /* avail->idx and used->idx before vq_map() */
	uint16_t avail_idx;              /* avail->idx after it */
	uint16_t avail_flags;
	uint16_t used_event;
	uint16_t ndesc, navail, nheap;
};

#define FZ_VQ_QSIZE_LOG2(s)   ((s) & 0x0fu)           /* 1..32768 entries */
#define FZ_VQ_NREGIONS(s)     ((((s) >> 4) & 0x03u) + 1)
#define FZ_VQ_REGION_SIZE(s)  (UINT64_C(0x4000) << (2 * (((s) >> 6) & 0x03u)))
#define FZ_VQ_SHAPE(log2, nreg, size_idx) \
	((uint8_t)((log2) | (((nreg) - 1) << 4) | ((size_idx) << 6)))

#define FZ_VQF_EVENT_IDX   0x01u
#define FZ_VQF_INDIRECT    0x02u
#define FZ_VQF_RX          0x04u         /* device writes (guest RX queue) */
#define FZ_VQF_MRG_RXBUF   0x08u
#define FZ_VQF_HDR10       0x10u         /* legacy 10-byte net header */
#define FZ_VQF_HOST_USED   0x20u         /* used ring out of the guest's reach */

/* addr/len values with these top bits set are used as they are (wrapping and
 * far-away addresses); all others are folded: an address into guest memory
 * give or take a page, a length below FZ_VQ_LEN_FOLD (so a buffer can span a
 * region and the guard page after it). A seed stores gpa - FZ_VQ_ADDR_LO. */
#define FZ_VQ_RAW_ADDR    UINT64_C(0xc000000000000000)
#define FZ_VQ_RAW_LEN     UINT32_C(0x80000000)
#define FZ_VQ_ADDR_LO     (FG_GPA_BASE - 4096)
#define FZ_VQ_LEN_FOLD    UINT32_C(0x100001)

/* end: one past the last guest-physical byte of the fake guest. */
static inline uint64_t
fz_vq_addr(uint64_t raw, uint64_t end)
{
	if ((raw & FZ_VQ_RAW_ADDR) == FZ_VQ_RAW_ADDR)
		return raw;
	return FZ_VQ_ADDR_LO + raw % (end + 4096 - FZ_VQ_ADDR_LO);
}

static inline uint32_t
fz_vq_len(uint32_t raw)
{
	return raw & FZ_VQ_RAW_LEN ? raw : raw % FZ_VQ_LEN_FOLD;
}

enum fz_vq_op {
	FZ_OP_POP,                       /* -                                       */
	FZ_OP_PUSH,                      /* u32 written: for the oldest popped head */
	FZ_OP_PUBLISH,                   /* -                                       */
	FZ_OP_KICK,                      /* -                                       */
	FZ_OP_RX,                        /* u16 len, u8 pieces: vnet_rx_packet()    */
	FZ_OP_NOTIFY,                    /* u8 on                                   */
	FZ_OP_AVAIL_IDX,                 /* u16: the guest moves avail->idx         */
	FZ_OP_AVAIL_ENTRY,               /* u16 slot, u16 head                      */
	FZ_OP_DESC,                      /* u16 index, 16-byte descriptor (folded)  */
	FZ_OP_MARK,                      /* -                                       */
	FZ_OP_REWIND,                    /* - (only when allowed: nothing published) */
	FZ_OP_VOID,                      /* - void_since(mark)                      */
	FZ_OP_COUNT_AVAIL,               /* -                                       */
	FZ_OP_REMAP,                     /* - vq_map() again: clears broken         */
	FZ_OP_EVENT,                     /* u16 used_event, u16 avail flags         */
	FZ_OP_PREFETCH,                  /* u8 n: vq_prefetch(), a hint only        */
	FZ_OP_TX_GATE,                   /* u8 fmt bits, u16 mtu: vq_pop() then
	                                    vnet_tx_check() on the chain           */
	FZ_OP_POP_BUFS,                  /* u8 n, u8 ctl: vq_pop_bufs_as() for up to
	                                    n chains; then ctl & FZ_BUFS_BACK (mod
	                                    taken + 1) go back (vq_unpop_bufs_as()),
	                                    and with FZ_BUFS_PUSH the rest are pushed
	                                    at once (vq_push_bufs_as())             */
	FZ_OP_COUNT
};

#define FZ_BUFS_BACK 0x7fu
#define FZ_BUFS_PUSH 0x80u

/* ---- input reader ---------------------------------------------------------- */

struct fz_in {
	const uint8_t *p;
	size_t n, off;
};

static inline size_t
fz_left(const struct fz_in *in)
{
	return in->n - in->off;
}

/* Copies up to len bytes into dst, zero-filling what the input lacks. */
static inline void
fz_take(struct fz_in *in, void *dst, size_t len)
{
	size_t k = len < fz_left(in) ? len : fz_left(in);

	memcpy(dst, in->p + in->off, k);
	memset((uint8_t *)dst + k, 0, len - k);
	in->off += k;
}

/* Points at up to len bytes of the input without copying; *got says how many. */
static inline const uint8_t *
fz_span(struct fz_in *in, size_t len, size_t *got)
{
	const uint8_t *p = in->p + in->off;

	*got = len < fz_left(in) ? len : fz_left(in);
	in->off += *got;
	return p;
}

static inline uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v;

	fz_take(in, &v, 1);
	return v;
}

/* Little-endian whatever the host, so seeds mean the same everywhere. */
static inline uint64_t
fz_le(struct fz_in *in, unsigned bytes)
{
	uint8_t b[8];
	uint64_t v = 0;

	fz_take(in, b, bytes);
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static inline uint16_t fz_u16(struct fz_in *in) { return (uint16_t)fz_le(in, 2); }
static inline uint32_t fz_u32(struct fz_in *in) { return (uint32_t)fz_le(in, 4); }
static inline uint64_t fz_u64(struct fz_in *in) { return fz_le(in, 8); }

/* ---- seed writer ----------------------------------------------------------- */

#define FZ_OUT_MAX 65536

struct fz_out {
	size_t n;
	bool overflow;                   /* a generator bug: the seed is not written */
	uint8_t b[FZ_OUT_MAX];
};

static inline void
fz_put(struct fz_out *o, const void *src, size_t len)
{
	if (len > FZ_OUT_MAX - o->n) {
		o->overflow = true;
		return;
	}
	memcpy(o->b + o->n, src, len);
	o->n += len;
}

static inline void
fz_put_le(struct fz_out *o, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++, v >>= 8)
		b[i] = (uint8_t)v;
	fz_put(o, b, bytes);
}

static inline void fz_put8(struct fz_out *o, uint8_t v) { fz_put_le(o, v, 1); }
static inline void fz_put16(struct fz_out *o, uint16_t v) { fz_put_le(o, v, 2); }
static inline void fz_put32(struct fz_out *o, uint32_t v) { fz_put_le(o, v, 4); }
static inline void fz_put64(struct fz_out *o, uint64_t v) { fz_put_le(o, v, 8); }

/* ---- fuzz_vq_walk header, both ways ---------------------------------------- */

static inline void
fz_vq_hdr_read(struct fz_in *in, struct fz_vq_hdr *h)
{
	h->shape = fz_u8(in);
	h->flags = fz_u8(in);
	h->start_idx = fz_u16(in);
	h->avail_idx = fz_u16(in);
	h->avail_flags = fz_u16(in);
	h->used_event = fz_u16(in);
	h->ndesc = fz_u16(in);
	h->navail = fz_u16(in);
	h->nheap = fz_u16(in);
}

static inline void
fz_vq_hdr_write(struct fz_out *o, const struct fz_vq_hdr *h)
{
	fz_put8(o, h->shape);
	fz_put8(o, h->flags);
	fz_put16(o, h->start_idx);
	fz_put16(o, h->avail_idx);
	fz_put16(o, h->avail_flags);
	fz_put16(o, h->used_event);
	fz_put16(o, h->ndesc);
	fz_put16(o, h->navail);
	fz_put16(o, h->nheap);
}

/* ---- checks and resource counters ------------------------------------------ */

/* Where FZ_CHECK() reports: stderr as it was at start-up. A target whose
 * library logs every rejected input runs with -close_fd_mask=2 (fuzz.sh),
 * which points stderr at /dev/null; fz_report_init(), called from
 * LLVMFuzzerInitialize() (before libFuzzer does that), keeps a copy. */
static inline int *
fz_report_fd(void)
{
	static int fd = STDERR_FILENO;

	return &fd;
}

static inline void
fz_report_init(void)
{
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

	if (fd >= 0)
		*fz_report_fd() = fd;
}

/* A broken invariant is a finding: abort, so libFuzzer keeps the input and
 * the sanitizer prints the stack. */
#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(*fz_report_fd(), "%s:%d: check failed: %s: ",  \
			        __FILE__, __LINE__, #cond);                    \
			dprintf(*fz_report_fd(), __VA_ARGS__);                 \
			dprintf(*fz_report_fd(), "\n");                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- what a chain from vq_pop() must be, either layout ---------------------- */

/* The region whose host mapping holds [hva, hva + len), or NULL. */
static inline const struct gmem_region *
fz_region_of(const struct fake_guest *g, const void *hva, size_t len)
{
	for (uint32_t k = 0; k < g->mem->n; k++) {
		const struct gmem_region *r = &g->mem->r[k];
		uintptr_t lo = (uintptr_t)r->hva, p = (uintptr_t)hva;

		if (p >= lo && p - lo < r->size && len <= r->size - (p - lo))
			return r;
	}
	return NULL;
}

/* 1..VQ_MAX_SEGS non-empty segments, each inside one guest region (touched
 * at both ends: the guard pages fault if not), only the direction the queue
 * allows, their lengths adding up to out_len/in_len. */
static inline void
fz_check_segments(const struct fake_guest *g, const struct vq_chain *c, enum vq_dir dir)
{
	unsigned n = (unsigned)c->n_out + c->n_in;
	uint64_t out = 0, in = 0;

	FZ_CHECK(n >= 1 && n <= VQ_MAX_SEGS, "%u segments", n);
	FZ_CHECK(dir == VQ_DIR_DEVICE_READS ? c->n_in == 0 : c->n_out == 0,
	         "%u readable and %u writable segments on a %s queue", c->n_out, c->n_in,
	         dir == VQ_DIR_DEVICE_READS ? "TX" : "RX");
	for (unsigned k = 0; k < n; k++) {
		const struct iovec *s = &c->seg[k];
		const volatile uint8_t *b = s->iov_base;

		FZ_CHECK(s->iov_len > 0, "segment %u is empty", k);
		FZ_CHECK(fz_region_of(g, s->iov_base, s->iov_len) != NULL,
		         "segment %u (%p, %zu bytes) is not inside one guest region", k,
		         s->iov_base, s->iov_len);
		(void)b[0];                  /* the guard pages fault here if it lied */
		(void)b[s->iov_len - 1];
		if (k < c->n_out)
			out += s->iov_len;
		else
			in += s->iov_len;
	}
	FZ_CHECK(out == c->out_len && in == c->in_len,
	         "lengths %llu/%llu, segments add up to %llu/%llu",
	         (unsigned long long)c->out_len, (unsigned long long)c->in_len,
	         (unsigned long long)out, (unsigned long long)in);
}

/* ---- what a burst's chains from vq_pop_bufs_as() must be, either layout ----- */

/* Whether one descriptor (CPU order) is a chain vq_pop_bufs_as() takes, as
 * vq.h words it (not as vq.c codes it): neither NEXT nor INDIRECT, WRITE
 * exactly on a queue the device writes, not empty, wholly inside one
 * region. A packed descriptor's id (below the ring size) is its caller's
 * to check. */
static inline bool
fz_usual(const struct fake_guest *g, enum vq_dir dir, uint64_t addr, uint32_t len,
         uint16_t flags)
{
	uint16_t want = dir == VQ_DIR_DEVICE_WRITES ? VRING_DESC_F_WRITE : 0;

	return (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE)) ==
	       want && len != 0 && fg_hva(g, addr, len) != NULL;
}

/* A buffer the burst made of the descriptor (addr, len, flags): a usual
 * chain, and its host piece exactly the descriptor's bytes, inside one guest
 * region (touched at both ends: the guard pages fault if not). */
static inline void
fz_check_buf(const struct fake_guest *g, enum vq_dir dir, const struct vq_buf *b,
             uint64_t addr, uint32_t len, uint16_t flags)
{
	const volatile uint8_t *p = b->seg.iov_base;

	FZ_CHECK(fz_usual(g, dir, addr, len, flags),
	         "took %u bytes at 0x%llx with flags 0x%x on a %s queue", len,
	         (unsigned long long)addr, flags, dir == VQ_DIR_DEVICE_READS ? "TX" : "RX");
	FZ_CHECK(b->seg.iov_base == fg_hva(g, addr, len) && b->seg.iov_len == len,
	         "buffer %p+%zu for %u bytes at 0x%llx", b->seg.iov_base, b->seg.iov_len, len,
	         (unsigned long long)addr);
	FZ_CHECK(fz_region_of(g, b->seg.iov_base, b->seg.iov_len) != NULL,
	         "buffer %p+%zu is not inside one guest region", b->seg.iov_base, b->seg.iov_len);
	(void)p[0];
	(void)p[len - 1];
}

/* What a burst does with chains it took but cannot use: the last back of
 * the got in b go back to the ring (vq_unpop_bufs_as()). Nothing in guest
 * memory changed since, so a burst for back chains takes the same ones
 * again, ending where the first did; they then go back once more. */
static inline void
fz_bufs_give_back(struct vq *vq, const struct gmem *mem, const struct vq_buf *b, uint16_t got,
                  uint16_t back, bool packed)
{
	static struct vq_buf again[UINT8_MAX];
	uint16_t end = vq->last_avail, n;
	bool more;

	if (back == 0)
		return;
	vq_unpop_bufs_as(vq, back, packed);
	n = vq_pop_bufs_as(vq, mem, again, back, &more, packed);
	FZ_CHECK(n == back && !more && vq->last_avail == end,
	         "%u given back, %u taken again (more %d), position %u, was %u", back, n, more,
	         vq->last_avail, end);
	for (uint16_t k = 0; k < back; k++) {
		const struct vq_buf *was = &b[got - back + k];

		FZ_CHECK(again[k].head == was->head && again[k].seg.iov_base == was->seg.iov_base &&
		         again[k].seg.iov_len == was->seg.iov_len,
		         "chain %u given back came again as another", k);
	}
	vq_unpop_bufs_as(vq, back, packed);
}

/* ---- what both ring targets share (fuzz_vq_walk, fuzz_vq_packed) ------------ */

#define FZ_PEND_MAX 65536u               /* popped chains not yet pushed */

/* Chains popped and not yet pushed (a device pushes only what it popped),
 * and the undo point. */
struct fz_pend {
	uint32_t v[FZ_PEND_MAX];         /* FIFO of vq_chain.head */
	uint32_t head, tail;
	struct vq_mark mark;
	uint32_t mark_head, mark_tail;
	bool mark_ok;                    /* set, and nothing published since */
};

static inline void
fz_pend_add(struct fz_pend *p, uint32_t head)
{
	if (p->tail - p->head < FZ_PEND_MAX)
		p->v[p->tail++ % FZ_PEND_MAX] = head;
}

/* How many chains a burst may take while the list has room for them all. */
static inline uint16_t
fz_pend_room(const struct fz_pend *p, uint16_t n)
{
	uint32_t room = FZ_PEND_MAX - (p->tail - p->head);

	return (uint16_t)(n < room ? n : room);
}

/* The oldest popped chain; false if none. */
static inline bool
fz_pend_take(struct fz_pend *p, uint32_t *head)
{
	if (p->head == p->tail)
		return false;
	*head = p->v[p->head++ % FZ_PEND_MAX];
	return true;
}

/* The ring was mapped again (vq.h: nothing is in flight across a stop). */
static inline void
fz_pend_reset(struct fz_pend *p)
{
	p->head = p->tail = 0;
	p->mark_ok = false;
}

/* The operations both targets run alike on vq: KICK, NOTIFY, MARK, REWIND,
 * VOID, PREFETCH. True when op was one of them. */
static inline bool
fz_ring_op(enum fz_vq_op op, struct vq *vq, const struct gmem *mem, struct fz_pend *p,
           struct fz_in *in)
{
	switch (op) {
	case FZ_OP_KICK:
		(void)vq_kick_needed(vq);
		FZ_CHECK(vq->signalled_valid && vq->signalled_used == vq->published_used,
		         "kick decision did not record what it signalled");
		return true;
	case FZ_OP_NOTIFY:
		vq_set_notify(vq, fz_u8(in) & 1);
		return true;
	case FZ_OP_MARK:
		p->mark = vq_mark(vq);
		p->mark_head = p->head;
		p->mark_tail = p->tail;
		p->mark_ok = true;
		return true;
	case FZ_OP_REWIND:
		if (p->mark_ok) {
			vq_rewind(vq, p->mark);
			p->head = p->mark_head;
			p->tail = p->mark_tail;
		}
		return true;
	case FZ_OP_VOID:
		if (p->mark_ok)
			vq_void_since(vq, p->mark);
		return true;
	case FZ_OP_PREFETCH: {
		struct vq before = *vq;

		/* The datapath asks for a burst at most: a larger n only
		 * slows the fuzzer down. */
		vq_prefetch(vq, mem, fz_u8(in));
		FZ_CHECK(memcmp(&before, vq, sizeof(before)) == 0, "vq_prefetch changed the vq");
		return true;
	}
	default:
		return false;
	}
}

static inline unsigned
fz_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	FZ_CHECK(dir != NULL, "cannot list /proc/self/fd");
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;                        /* includes the directory's own fd */
}

/* Lines of /proc/self/maps that contain needle: mappings of our memfds. */
static inline unsigned
fz_count_maps(const char *needle)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned n = 0;

	FZ_CHECK(f != NULL, "cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

#endif
