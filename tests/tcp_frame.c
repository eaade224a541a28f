/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/tcp_frame.c - see tcp_frame.h. Checksums here are computed byte by
 * byte in network order, independently of the code under test. */
#include <string.h>
#include "tests/tcp_frame.h"

uint8_t
tcp_frame_byte(uint32_t pos)
{
	return (uint8_t)(pos * 7u + (pos >> 8) + 3u);
}

/* RFC 1071 sum of len bytes, as big-endian 16-bit words, added to sum. */
static uint32_t
sum_be(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The pseudo header's sum for a TCP segment of tcp_len bytes. */
static uint32_t
pseudo_sum(const uint8_t *ip, int version, uint32_t tcp_len)
{
	uint32_t sum = 6 + tcp_len;

	if (version == 4)
		return sum_be(sum, ip + 12, 8);
	return sum_be(sum, ip + 8, 32);
}

size_t
tcp_frame(uint8_t *buf, size_t cap, const struct tcp_frame_opts *o, uint16_t *l3p,
          uint16_t *l4p, uint16_t *l4_lenp)
{
	uint16_t l3 = o->vlan ? 18 : 14, iphl = o->ip == 4 ? 20 : 40;
	uint16_t l4 = (uint16_t)(l3 + iphl), tl = (uint16_t)(20 + o->tcp_opt_len);
	size_t len = (size_t)l4 + tl + o->payload;
	uint8_t *ip = buf + l3, *tcp = buf + l4;

	if (len > cap)
		return 0;
	memset(buf, 0, (size_t)l4 + tl);
	memcpy(buf, (const uint8_t[12]){ 2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa }, 12);
	if (o->vlan) {
		put16(buf + 12, 0x8100);
		put16(buf + 14, 42);
	}
	put16(buf + l3 - 2, o->ip == 4 ? 0x0800 : 0x86dd);
	if (o->ip == 4) {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - l3));
		put16(ip + 4, o->ip_id);
		ip[6] = 0x40;                    /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, (const uint8_t[8]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
		put16(ip + 10, (uint16_t)~fold(sum_be(0, ip, 20)));
	} else {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(len - l4));
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	}
	put16(tcp, 40000);
	put16(tcp + 2, 5001);
	tcp[4] = (uint8_t)(o->seq >> 24);
	tcp[5] = (uint8_t)(o->seq >> 16);
	tcp[6] = (uint8_t)(o->seq >> 8);
	tcp[7] = (uint8_t)o->seq;
	tcp[12] = (uint8_t)((tl / 4) << 4);
	tcp[13] = o->flags;
	put16(tcp + 14, 64000);
	for (unsigned k = 0; k < o->tcp_opt_len; k++)
		tcp[20 + k] = 1;                 /* NOP */
	for (uint32_t k = 0; k < o->payload; k++)
		tcp[tl + k] = tcp_frame_byte(k);
	/* CHECKSUM_PARTIAL: the pseudo header's sum, not inverted (for TSO,
	 * Linux leaves out the length; a device recomputes it either way). */
	put16(tcp + 16, fold(pseudo_sum(ip, o->ip, (uint32_t)(len - l4))));
	if (l3p)
		*l3p = l3;
	if (l4p)
		*l4p = l4;
	if (l4_lenp)
		*l4_lenp = tl;
	return len;
}

const char *
tcp_frame_check(const uint8_t *f, size_t len, uint16_t l3, uint32_t *seq, uint8_t *flags,
                size_t *payload, size_t *payload_len)
{
	const uint8_t *ip = f + l3, *tcp;
	int version;
	size_t l4, tl;

	if (len < (size_t)l3 + 40)
		return "shorter than its headers";
	version = ip[0] >> 4;
	if (version == 4) {
		if ((size_t)(ip[2] << 8 | ip[3]) != len - l3)
			return "IPv4 total length is not the frame's";
		if (fold(sum_be(0, ip, (size_t)(ip[0] & 0xf) * 4)) != 0xffff)
			return "IPv4 header checksum does not verify";
		l4 = l3 + (size_t)(ip[0] & 0xf) * 4;
	} else if (version == 6) {
		if ((size_t)(ip[4] << 8 | ip[5]) != len - l3 - 40)
			return "IPv6 payload length is not the frame's";
		l4 = (size_t)l3 + 40;
	} else {
		return "not IP";
	}
	tcp = f + l4;
	tl = (size_t)(tcp[12] >> 4) * 4;
	if (l4 + tl > len)
		return "TCP header beyond the frame";
	if (fold(sum_be(pseudo_sum(ip, version, (uint32_t)(len - l4)), tcp, len - l4)) != 0xffff)
		return "TCP checksum does not verify";
	if (seq)
		*seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	if (flags)
		*flags = tcp[13];
	if (payload)
		*payload = l4 + tl;
	if (payload_len)
		*payload_len = len - l4 - tl;
	return NULL;
}
