/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/resume.c - see resume.h. The file is a header and one 64-byte
 * entry per vring; its contents are trusted no more than they need to be:
 * an entry is used only when it names the very ring being started, and a
 * position out of the ring is refused by vq_map() like any base. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/resume.h"

#define RESUME_MAGIC UINT64_C(0x314d5345524d5156)   /* "VQMRESM1" */

struct resume_entry {
	uint64_t file_id, desc_gpa, driver_gpa, device_gpa;
	uint32_t size;
	uint16_t base;                   /* written by the poll thread */
	uint16_t valid;                  /* claimed, not stopped cleanly since */
	uint8_t pad[24];
};
_Static_assert(sizeof(struct resume_entry) == 64, "one cache line per ring");

struct resume_file {
	uint64_t magic;
	uint32_t nvrings;
	uint8_t pad[52];
	struct resume_entry e[];
};

struct be_resume {
	struct resume_file *f;
	size_t len;
	uint32_t nvrings;
	int fd;                          /* holds the lock while we run */
	char path[64];
};

/* FNV-1a: a short, stable name for a socket path of up to 108 bytes. */
static uint64_t
path_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(0x100000001b3);
	return h;
}

struct be_resume *
be_resume_open(const char *socket, uint32_t nvrings, char *why, size_t why_len)
{
	struct be_resume *r = calloc(1, sizeof(*r));
	char real[PATH_MAX];
	struct stat st;
	int fd;

	if (r == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	/* One name for one socket however it is written (a client's socket
	 * may not exist yet: then as given). */
	snprintf(r->path, sizeof(r->path), "/dev/shm/vhostmq-rings-%016llx",
	         (unsigned long long)path_hash(realpath(socket, real) != NULL ? real : socket));
	r->nvrings = nvrings;
	r->len = sizeof(struct resume_file) + nvrings * sizeof(struct resume_entry);
	/* Not through a link, only a file of our own that nobody else may
	 * read or write, and one process at a time: /dev/shm is shared. */
	fd = open(r->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(why, why_len, "%s: %s", r->path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_mode & 077) != 0) {
		snprintf(why, why_len, "%s: not a file of this user's alone", r->path);
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(why, why_len, "%s: in use by another vhostmq on the same socket",
		         r->path);
		goto fail;
	}
	if (((size_t)st.st_size != r->len && ftruncate(fd, 0) != 0) ||
	    ftruncate(fd, (off_t)r->len) != 0) {
		snprintf(why, why_len, "%s: %s", r->path, strerror(errno));
		goto fail;
	}
	r->f = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->f == MAP_FAILED) {
		snprintf(why, why_len, "%s: mmap: %s", r->path, strerror(errno));
		goto fail;
	}
	r->fd = fd;
	/* Another layout (or a new file): nothing in it is ours. */
	if (r->f->magic != RESUME_MAGIC || r->f->nvrings != nvrings) {
		memset(r->f, 0, r->len);
		r->f->magic = RESUME_MAGIC;
		r->f->nvrings = nvrings;
	}
	return r;
fail:
	if (fd >= 0)
		close(fd);
	free(r);
	return NULL;
}

/* The file goes with the process when it holds nothing a successor needs
 * (every ring stopped cleanly, or none ran), so /dev/shm does not fill up
 * with one per socket path ever used. */
void
be_resume_close(struct be_resume *r)
{
	bool keep = false;

	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->nvrings; i++)
		keep |= r->f->e[i].valid != 0;
	munmap(r->f, r->len);
	if (!keep)
		unlink(r->path);
	close(r->fd);                    /* and the lock with it */
	free(r);
}

const char *
be_resume_path(const struct be_resume *r)
{
	return r->path;
}

static bool
same_ring(const struct resume_entry *e, const struct be_ring_id *id)
{
	return e->file_id == id->file_id && e->desc_gpa == id->desc_gpa &&
	       e->driver_gpa == id->driver_gpa && e->device_gpa == id->device_gpa &&
	       e->size == id->size;
}

bool
be_resume_find(const struct be_resume *r, uint32_t vqi, const struct be_ring_id *id,
               uint16_t *base)
{
	const struct resume_entry *e;

	if (r == NULL || vqi >= r->nvrings || id->file_id == 0)
		return false;
	e = &r->f->e[vqi];
	if (!__atomic_load_n(&e->valid, __ATOMIC_ACQUIRE) || !same_ring(e, id))
		return false;
	*base = __atomic_load_n(&e->base, __ATOMIC_RELAXED);
	return true;
}

uint16_t *
be_resume_claim(struct be_resume *r, uint32_t vqi, const struct be_ring_id *id, uint16_t base)
{
	struct resume_entry *e;

	if (r == NULL || vqi >= r->nvrings || id->file_id == 0)
		return NULL;
	e = &r->f->e[vqi];
	/* Invalid while it names one ring and holds another's position: a
	 * crash in between leaves nothing to resume from. */
	__atomic_store_n(&e->valid, 0, __ATOMIC_RELEASE);
	e->file_id = id->file_id;
	e->desc_gpa = id->desc_gpa;
	e->driver_gpa = id->driver_gpa;
	e->device_gpa = id->device_gpa;
	e->size = id->size;
	__atomic_store_n(&e->base, base, __ATOMIC_RELAXED);
	__atomic_store_n(&e->valid, 1, __ATOMIC_RELEASE);
	return &e->base;
}

void
be_resume_forget(struct be_resume *r, uint32_t vqi)
{
	if (r != NULL && vqi < r->nvrings)
		__atomic_store_n(&r->f->e[vqi].valid, 0, __ATOMIC_RELEASE);
}
