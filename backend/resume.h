/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/resume.h - where each packed ring of a device stood, kept in a
 * small shared-memory file beside the process, so that a vhostmq started
 * after a crash resumes the guest's packed rings where the last one left
 * them. A split ring needs none of this (its used->idx is in guest memory),
 * but a packed ring's position lives only in the backend, and QEMU 7.2 does
 * not recover it when its backend dies: it resends the base it knew from
 * the last clean stop, and the guest's network would hang.
 *
 * One file per device socket, /dev/shm/vhostmq-rings-<hash of the socket's
 * real path>, this user's alone, locked by the process using it. A ring's
 * entry names the ring (the guest memory file, the three areas' guest
 * addresses, the size: a different guest, or a driver that placed its ring
 * anew, does not match) and holds the position of its last publish,
 * written by the poll thread (vq_set_resume()). GET_VRING_BASE (a clean
 * stop: the frontend then knows the position) forgets it. Before a saved
 * position is used, the ring itself must look as a device left it there
 * (vq_packed_resumable()): a driver that reset the ring in between is not
 * fooled. */
#ifndef VHOSTMQ_BACKEND_RESUME_H
#define VHOSTMQ_BACKEND_RESUME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct be_resume;

/* What a ring is: a position saved for one ring is used for no other. */
struct be_ring_id {
	uint64_t file_id;                /* the guest memory file (gmem_region) */
	uint64_t desc_gpa, driver_gpa, device_gpa;
	uint32_t size;
};

/* Opens (creating it) the file of the device listening or connecting at
 * socket, with room for nvrings rings. NULL with why when it cannot (the
 * device then runs without: a crash loses packed positions, as today). */
struct be_resume *be_resume_open(const char *socket, uint32_t nvrings, char *why,
                                 size_t why_len);
void be_resume_close(struct be_resume *r);
const char *be_resume_path(const struct be_resume *r);

/* True, with *base as SET_VRING_BASE says it, when a previous process left a
 * position for this very ring (vqi, id) and did not stop it cleanly. */
bool be_resume_find(const struct be_resume *r, uint32_t vqi, const struct be_ring_id *id,
                    uint16_t *base);
/* The ring vqi is now id, starting at base: its entry, whose position the
 * caller's vq keeps from now on (vq_set_resume()). NULL when vqi is beyond
 * the file. */
uint16_t *be_resume_claim(struct be_resume *r, uint32_t vqi, const struct be_ring_id *id,
                          uint16_t base);
/* The frontend learnt the position (GET_VRING_BASE): nothing to keep. */
void be_resume_forget(struct be_resume *r, uint32_t vqi);

#endif
