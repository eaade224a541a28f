/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/rss_settings.c - the defaults of the operator's RSS settings and the
 * one check of their rules, shared by the config file, the control API and
 * the table build in pmd/. Errors are data (the field, the entry, the
 * reason), so each caller names the field in its own words without parsing
 * text.
 * Security model: see rss_settings.h; every count is bounded before an array
 * is walked, and every entry is read once. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "virtio/rss_settings.h"

const uint8_t rss_default_key[RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void
rss_settings_default(struct rss_settings *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->key, rss_default_key, RSS_KEY_LEN);
	s->table_size = RSS_TABLE_DEFAULT;
}

static int rss_refuse(struct rss_settings_err *err, enum rss_field field, int32_t entry,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
rss_refuse(struct rss_settings_err *err, enum rss_field field, int32_t entry,
           const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->field = field;
	err->entry = entry;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

int
rss_settings_check(const struct rss_settings *s, uint16_t queue_pairs,
                   struct rss_settings_err *err)
{
	uint16_t i;

	if (s->table_size < RSS_TABLE_MIN || s->table_size > RSS_TABLE_MAX)
		return rss_refuse(err, RSS_FIELD_TABLE_SIZE, -1,
		                  "must be " RSS_FORM_TABLE_SIZE ", got %u", s->table_size);
	if (s->n_weights > 0 && s->n_table > 0)
		return rss_refuse(err, RSS_FIELD_TABLE, -1,
		                  "give either a table or weights, not both");
	if (s->n_weights > RSS_TABLE_MAX)
		return rss_refuse(err, RSS_FIELD_WEIGHTS, -1, "has %u entries, at most %u",
		                  s->n_weights, RSS_TABLE_MAX);
	/* One weight per pair: a weight past the last pair, even 0, is a
	 * setting written for another device. */
	if (s->n_weights > queue_pairs)
		return rss_refuse(err, RSS_FIELD_WEIGHTS, queue_pairs,
		                  "queue pair %u does not exist (the device has pairs 0..%d)",
		                  queue_pairs, queue_pairs - 1);
	for (i = 0; i < s->n_weights && s->weights[i] == 0; i++)
		;
	if (s->n_weights > 0 && i == s->n_weights)
		return rss_refuse(err, RSS_FIELD_WEIGHTS, -1, "are all 0: no queue would receive");
	if (s->n_table > RSS_TABLE_MAX)
		return rss_refuse(err, RSS_FIELD_TABLE, -1, "has %u entries, at most %u",
		                  s->n_table, RSS_TABLE_MAX);
	if (s->n_table > 0 && s->n_table != s->table_size)
		return rss_refuse(err, RSS_FIELD_TABLE_SIZE, -1,
		                  "is %u, but the table has %u entries (leave the size out: "
		                  "it is the table's length)", s->table_size, s->n_table);
	for (i = 0; i < s->n_table; i++)
		if (s->table[i] >= queue_pairs)
			return rss_refuse(err, RSS_FIELD_TABLE, i,
			                  "queue pair %u does not exist (the device has pairs 0..%d)",
			                  s->table[i], queue_pairs - 1);
	return 0;
}
