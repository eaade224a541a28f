/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/iov.h - byte cursors over iovec arrays: how packets move between
 * descriptor chains (already checked by vq_pop) and flat or segmented buffers,
 * whatever the layout of either side. */
#ifndef VHOSTMQ_VIRTIO_IOV_H
#define VHOSTMQ_VIRTIO_IOV_H
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>

struct iov_cursor {
	const struct iovec *v;
	unsigned n, i;                   /* segments, current segment */
	size_t off;                      /* offset inside v[i] */
};

static inline struct iov_cursor
iov_cursor(const struct iovec *v, unsigned n)
{
	return (struct iov_cursor){ .v = v, .n = n };
}

/* Moves up to len bytes from src to dst; returns how many moved (less when
 * either side runs out). */
static inline size_t
iov_copy(struct iov_cursor *dst, struct iov_cursor *src, size_t len)
{
	size_t done = 0;

	while (done < len && dst->i < dst->n && src->i < src->n) {
		size_t d_left = dst->v[dst->i].iov_len - dst->off;
		size_t s_left = src->v[src->i].iov_len - src->off;
		size_t k = len - done;

		if (k > d_left)
			k = d_left;
		if (k > s_left)
			k = s_left;
		memcpy((char *)dst->v[dst->i].iov_base + dst->off,
		       (const char *)src->v[src->i].iov_base + src->off, k);
		done += k;
		if ((dst->off += k) == dst->v[dst->i].iov_len) {
			dst->i++;
			dst->off = 0;
		}
		if ((src->off += k) == src->v[src->i].iov_len) {
			src->i++;
			src->off = 0;
		}
	}
	return done;
}

/* Advances by up to len bytes; returns how many. */
static inline size_t
iov_skip(struct iov_cursor *c, size_t len)
{
	size_t done = 0;

	while (done < len && c->i < c->n) {
		size_t left = c->v[c->i].iov_len - c->off, k = len - done;

		if (k >= left) {
			k = left;
			c->i++;
			c->off = 0;
		} else {
			c->off += k;
		}
		done += k;
	}
	return done;
}

static inline size_t
iov_write(struct iov_cursor *dst, const void *buf, size_t len)
{
	struct iovec one = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_cursor src = iov_cursor(&one, 1);

	return iov_copy(dst, &src, len);
}

static inline size_t
iov_read(struct iov_cursor *src, void *buf, size_t len)
{
	struct iovec one = { .iov_base = buf, .iov_len = len };
	struct iov_cursor dst = iov_cursor(&one, 1);

	return iov_copy(&dst, src, len);
}

/* The len bytes at offset off of what v[0..n) holds: a pointer into the
 * piece that has them all, or else a copy in buf; NULL when v holds fewer. */
static inline const void *
iov_peek(const struct iovec *v, unsigned n, size_t off, size_t len, void *buf)
{
	struct iov_cursor c = iov_cursor(v, n);

	while (c.i < n && off >= v[c.i].iov_len)
		off -= v[c.i++].iov_len;
	if (c.i == n)
		return NULL;
	if (v[c.i].iov_len - off >= len)
		return (const char *)v[c.i].iov_base + off;
	c.off = off;
	return iov_read(&c, buf, len) == len ? buf : NULL;
}

#endif
