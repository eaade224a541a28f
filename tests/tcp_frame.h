/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/tcp_frame.h - TCP frames as a Linux guest hands them to a virtio-net
 * device for TSO or checksum offload: Ethernet (optionally VLAN-tagged),
 * IPv4 or IPv6, TCP with options, a payload of bytes that depend on their
 * offset, and the TCP checksum field holding the pseudo header's sum only
 * (CHECKSUM_PARTIAL). Also the checks a receiver makes on a segment. */
#ifndef VHOSTMQ_TESTS_TCP_FRAME_H
#define VHOSTMQ_TESTS_TCP_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_frame_opts {
	int ip;                          /* 4 or 6 */
	bool vlan;                       /* one 802.1Q tag */
	uint8_t tcp_opt_len;             /* bytes of TCP options (multiple of 4) */
	uint32_t payload;                /* payload bytes */
	uint32_t seq;
	uint8_t flags;                   /* TCP flags (ACK, PSH, FIN, CWR, ...) */
	uint16_t ip_id;                  /* IPv4 only */
};

/* Writes the frame into buf (cap bytes); its length, or 0 if it does not
 * fit. *l3, *l4 and *l4_len (may be NULL) get the header offsets. */
size_t tcp_frame(uint8_t *buf, size_t cap, const struct tcp_frame_opts *o, uint16_t *l3,
                 uint16_t *l4, uint16_t *l4_len);

/* The payload byte at payload offset pos, as tcp_frame() writes it. */
uint8_t tcp_frame_byte(uint32_t pos);

/* Checks one segment as a receiver would: IP version and lengths, IPv4
 * header checksum, the full TCP checksum; returns NULL or what is wrong.
 * *seq, *flags, *payload and *payload_len (may be NULL) receive the TCP
 * sequence number, flags, and where its payload starts and how long it is. */
const char *tcp_frame_check(const uint8_t *f, size_t len, uint16_t l3, uint32_t *seq,
                            uint8_t *flags, size_t *payload, size_t *payload_len);

#endif
