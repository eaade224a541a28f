/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/rss_settings.h - the operator's RSS settings (ethtool -X for a
 * device whose guest cannot set them: QEMU keeps VIRTIO_NET_F_RSS from
 * vhost-user peers): the Toeplitz key, the indirection table's size, and how
 * to fill it, by weights per queue pair or as an explicit table. The config
 * file and the control API parse into this one struct, and
 * rss_settings_check() is the one gate for its rules, so both accept and
 * refuse exactly the same settings; pmd/ builds the table from settings that
 * passed it. Pure C: no DPDK, no jansson.
 * Security model: the settings come from the operator (config file, control
 * socket) and are not trusted to be right; nothing reads a weight or a table
 * entry as an index before rss_settings_check() has passed. */
#ifndef VHOSTMQ_VIRTIO_RSS_SETTINGS_H
#define VHOSTMQ_VIRTIO_RSS_SETTINGS_H
#include <stdint.h>

#define RSS_KEY_LEN       40             /* the Microsoft RSS key length */
#define RSS_TABLE_MIN     1
#define RSS_TABLE_MAX     512            /* ethtool's largest common table */
#define RSS_TABLE_DEFAULT 128            /* what most NICs expose (ethtool -x) */

/* The table size's rule, in the words every layer uses for it. */
#define RSS_FORM_TABLE_SIZE "an integer 1..512"

/* The well-known default key from the Microsoft RSS specification. */
extern const uint8_t rss_default_key[RSS_KEY_LEN];

struct rss_settings {
	uint8_t key[RSS_KEY_LEN];
	uint16_t table_size;             /* RSS_TABLE_MIN..RSS_TABLE_MAX */
	/* Either weights (weights[qp] for queue pair qp, 0 = never; n_weights 0
	 * = equal over all enabled pairs), or an explicit table of queue pair
	 * numbers (n_table == table_size). Entries naming a pair the guest has
	 * disabled are remapped to enabled ones when the table is built, so no
	 * frame lands on a disabled queue. */
	uint16_t n_weights;
	uint16_t weights[RSS_TABLE_MAX];
	uint16_t n_table;
	uint16_t table[RSS_TABLE_MAX];
};

/* Which setting a refusal is about; each layer names it in its own words
 * (config: "rss_weights", control API: "weights"). */
enum rss_field {
	RSS_FIELD_TABLE_SIZE = 0,
	RSS_FIELD_WEIGHTS,
	RSS_FIELD_TABLE,
};

struct rss_settings_err {
	enum rss_field field;
	int32_t entry;                   /* weights[entry] or table[entry]; -1: the
	                                    field as a whole */
	char reason[160];                /* "must be ...", "queue pair 4 does not
	                                    exist ...": follows the field's name */
};

/* The default key, RSS_TABLE_DEFAULT entries, equal weights. */
void rss_settings_default(struct rss_settings *s);

/* Every rule of the settings for a device of queue_pairs pairs: table size in
 * range, weights or table but not both, at most RSS_TABLE_MAX entries, one
 * weight per existing pair and not all of them 0, table entries naming
 * existing pairs, table length equal to the size. Whatever the guest enables,
 * settings that pass fill a table. 0, or -1 with err filled (err may be
 * NULL). */
int rss_settings_check(const struct rss_settings *s, uint16_t queue_pairs,
                       struct rss_settings_err *err);

#endif
