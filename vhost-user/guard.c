/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user/guard.c - the SIGBUS guard: a registry of guest mappings and the
 * handler that looks faults up in it. See guard.h for the model.
 * Security model: see guard.h. Everything the handler does is
 * async-signal-safe: lock-free atomic loads and stores, mmap(), write() to an
 * eventfd, sigaction() and raise(). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vhost-user/guard.h"

_Static_assert(__atomic_always_lock_free(sizeof(uintptr_t), 0) &&
               __atomic_always_lock_free(sizeof(uint64_t), 0) &&
               __atomic_always_lock_free(sizeof(uint32_t), 0),
               "the SIGBUS handler needs lock-free atomics");

/* One registered mapping. Every field is accessed atomically: the handler
 * reads them on whatever thread faulted. */
struct guard_slot {
	/* Even: stable; odd: the control thread is rewriting the slot. */
	uint32_t seq;
	uint32_t tag;
	uintptr_t base;                  /* 0: free */
	uintptr_t len;
	uint64_t file_off;
	const void *owner;
	uint32_t sealed;
	/* Written by the handler: the first faulting address (0: none). */
	uintptr_t fault_addr;
	/* Control thread only: fault_addr has been handed out. */
	uint32_t reported;
};

static struct guard_slot guard_slots[VHU_GUARD_SLOTS];
static int guard_efd = -1;
/* What SIGBUS did before the guard: a fault that is not ours gets it back. */
static struct sigaction guard_prev;

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* The slot holding addr, or NULL. A slot the control thread is rewriting
 * is not the one we faulted in: ours cannot change before we return (see
 * guard.h), so a slot seen mid-write is simply skipped. */
static struct guard_slot *
guard_find(uintptr_t addr)
{
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++) {
		struct guard_slot *s = &guard_slots[k];
		/* Acquire pairs with the release store that ends guard_write(). */
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		uintptr_t base, len;

		if (seq & 1)
			continue;
		base = LOAD(&s->base);
		len = LOAD(&s->len);
		/* Orders the field loads before the re-check of seq (seqlock
		 * reader side, as in the kernel's read_seqcount_retry). */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD(&s->seq) != seq || base == 0)
			continue;
		if (addr - base < len)   /* wraps to huge below base */
			return s;
	}
	return NULL;
}

/* Gives the fault back to whatever handled SIGBUS before us. A real fault
 * re-executes the instruction on return and gets that disposition; one sent
 * by kill() or raise() does not come back, so it is raised again (blocked
 * until this handler returns). */
static void
guard_pass_on(const siginfo_t *si)
{
	sigaction(SIGBUS, &guard_prev, NULL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static void
guard_handler(int sig, siginfo_t *si, void *uc)
{
	static const char nomap[] = "vhostmq: SIGBUS in guest memory, and no anonymous memory "
	                            "to put in its place\n";
	int saved_errno = errno;
	struct guard_slot *s = NULL;
	uintptr_t addr = (uintptr_t)si->si_addr, none = 0;
	uint64_t one = 1;
	void *p;

	(void)sig;
	(void)uc;
	/* si_code > 0: raised by the kernel for this access; si_addr is real. */
	if (si->si_code > 0)
		s = guard_find(addr);
	if (s == NULL) {
		guard_pass_on(si);
		goto out;
	}
	/* The whole mapping, not just the page: the device is closing, every
	 * other page of it may be gone too (one fault, not one per page), and
	 * a hugetlbfs mapping can only be replaced in whole huge pages. A
	 * second thread faulting in the same mapping maps zeros again:
	 * harmless. */
	p = mmap((void *)LOAD(&s->base), LOAD(&s->len), PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		if (write(STDERR_FILENO, nomap, sizeof(nomap) - 1) < 0)
			errno = 0;       /* nothing more to do: we die next */
		guard_pass_on(si);
		goto out;
	}
	/* The first fault is the one reported. Release pairs with the acquire
	 * in vhu_guard_next_fault(). */
	__atomic_compare_exchange_n(&s->fault_addr, &none, addr, false, __ATOMIC_RELEASE,
	                            __ATOMIC_RELAXED);
	if (guard_efd >= 0 && write(guard_efd, &one, sizeof(one)) < 0)
		errno = 0;               /* EAGAIN: a wake-up is already pending */
out:
	errno = saved_errno;
}

int
vhu_guard_install(void)
{
	struct sigaction sa, cur;

	if (guard_efd < 0) {
		guard_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (guard_efd < 0)
			return -errno;
	}
	if (sigaction(SIGBUS, NULL, &cur) != 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == guard_handler)
		return 0;                /* ours already: keep what it passes on to */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, &guard_prev) == 0 ? 0 : -errno;
}

int
vhu_guard_fd(void)
{
	return guard_efd;
}

/* Rewrites slot s (seqlock writer side, as in the kernel's
 * write_seqcount_begin/end). */
static void
guard_write(struct guard_slot *s, const void *owner, uint32_t tag, uintptr_t base,
            uintptr_t len, uint64_t file_off, bool sealed)
{
	uint32_t seq = LOAD(&s->seq);

	STORE(&s->seq, seq + 1);
	/* The odd count is visible before any field changes; pairs with the
	 * acquire fence in guard_find(). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STORE(&s->owner, owner);
	STORE(&s->tag, tag);
	STORE(&s->base, base);
	STORE(&s->len, len);
	STORE(&s->file_off, file_off);
	STORE(&s->sealed, (uint32_t)sealed);
	STORE(&s->fault_addr, (uintptr_t)0);
	s->reported = 0;
	/* Pairs with the acquire load of seq in guard_find(). */
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

int
vhu_guard_add(const void *owner, uint32_t tag, void *base, size_t len,
              uint64_t file_off, bool sealed)
{
	if (base == NULL || len == 0)
		return -EINVAL;
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++) {
		if (LOAD(&guard_slots[k].base) == 0) {
			guard_write(&guard_slots[k], owner, tag, (uintptr_t)base, len, file_off,
			            sealed);
			return 0;
		}
	}
	return -ENOSPC;
}

void
vhu_guard_del(const void *owner)
{
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++)
		if (LOAD(&guard_slots[k].base) != 0 && LOAD(&guard_slots[k].owner) == owner)
			guard_write(&guard_slots[k], NULL, 0, 0, 0, 0, false);
}

bool
vhu_guard_sealed(const void *owner, uint32_t tag, bool *sealed)
{
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++) {
		const struct guard_slot *s = &guard_slots[k];

		if (LOAD(&s->base) != 0 && LOAD(&s->owner) == owner && LOAD(&s->tag) == tag) {
			*sealed = LOAD(&s->sealed) != 0;
			return true;
		}
	}
	return false;
}

bool
vhu_guard_next_fault(struct vhu_guard_fault *f)
{
	uint64_t n;

	/* Emptied before the scan: a fault recorded after the scan writes the
	 * eventfd after this read, so epoll reports it again. */
	if (guard_efd >= 0 && read(guard_efd, &n, sizeof(n)) < 0)
		n = 0;                   /* EAGAIN: nothing pending */
	for (unsigned k = 0; k < VHU_GUARD_SLOTS; k++) {
		struct guard_slot *s = &guard_slots[k];
		uintptr_t addr, base;

		if (LOAD(&s->base) == 0 || s->reported)
			continue;
		/* Pairs with the release CAS in guard_handler(). */
		addr = __atomic_load_n(&s->fault_addr, __ATOMIC_ACQUIRE);
		if (addr == 0)
			continue;
		base = LOAD(&s->base);
		s->reported = 1;
		*f = (struct vhu_guard_fault){
			.owner = LOAD(&s->owner), .tag = LOAD(&s->tag),
			.file_off = LOAD(&s->file_off) + (addr - base),
			.sealed = LOAD(&s->sealed) != 0,
		};
		return true;
	}
	return false;
}
