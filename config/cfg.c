/* SPDX-License-Identifier: BSD-3-Clause */
/* config/cfg.c - parsing and validation of the JSON configuration and of the
 * command-line values that override it. Every public function either fills
 * its output completely or leaves it untouched and says why in a cfg_err:
 * a failed reload must never leave a half-applied config behind. Where a JSON
 * value is a string it goes through the same parser as the matching
 * command-line flag, so the two routes accept exactly the same values and
 * word their errors the same way.
 * Security model: the file belongs to the operator but is not trusted to be
 * right. Every value is type-checked and range-checked before it is stored,
 * every string is length-checked before it is copied into a fixed buffer, and
 * user text is escaped and truncated before it is quoted in an error, because
 * errors end up on a terminal or in a log. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "vhostmq_conf.h"
#include "common/base.h"
#include "common/log.h"
#include "common/tunables.h"
#include "config/cfg.h"

/* virtio-net 1.1, 5.1.4.1: max_virtqueue_pairs is 1..0x8000. */
_Static_assert(VHOSTMQ_MAX_QP >= 1 && VHOSTMQ_MAX_QP <= 0x8000,
	       "max_queue_pairs outside the virtio-net range 1..0x8000");

#define CFG_STR1(x) #x
#define CFG_STR(x)  CFG_STR1(x)

#define CFG_CORE_LIMIT  1024            /* core numbers are below this */
#define CFG_IDLE_US_MAX 1000000         /* one second: longer is a stall */
#define CFG_MODE_MAX    0777            /* permission bits only, no setuid */
#define CFG_ID_MAX      4294967294L     /* uid_t/gid_t less (uid_t)-1 */
/* getpwnam_r/getgrnam_r buffer: 4 KiB holds any passwd line; a group line
 * lists its members, so it may grow (ERANGE) up to 1 MiB. */
#define CFG_NSS_BUF     4096u
#define CFG_NSS_BUF_MAX (1u << 20)
#define CFG_PATH_LEN    sizeof(((struct cfg_err *)NULL)->path)
#define CFG_GOT_LEN     80              /* a quoted value in an error */

/* The expected form of each value, shared by every message about it so that
 * the file and the command line explain a mistake in the same words. */
#define CFG_FORM_LOG   "one of \"err\", \"warn\", \"info\", \"debug\""
#define CFG_FORM_EAL   "an array of at most " CFG_STR(CFG_MAX_EAL_ARGS) " strings"
#define CFG_FORM_ARG   "a non-empty string shorter than 128 bytes"
#define CFG_FORM_DEVS  "an array of 1.." CFG_STR(CFG_MAX_DEVICES) " device objects"
#define CFG_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define CFG_FORM_NAME  "1..31 characters from [A-Za-z0-9_.-]"
#define CFG_FORM_SOCK  "an absolute path shorter than 108 bytes"
#define CFG_FORM_MODE  "a string of octal digits like \"0660\", at most 0777"
#define CFG_FORM_USER  "a user name, or a uid 0..4294967294 as an integer or digits"
#define CFG_FORM_GROUP "a group name, or a gid 0..4294967294 as an integer or digits"
#define CFG_FORM_QP    "an integer 1.." CFG_STR(VHOSTMQ_MAX_QP)
#define CFG_FORM_PORT  "\"loopback\", \"ethdev:<devargs>\" or \"device:<name>\""
#define CFG_FORM_CORES "core numbers 0..1023 as an array or a string like \"1,3-5\""
#define CFG_FORM_CORE  "an integer 0..1023"
#define CFG_FORM_POLL  "\"adaptive\" or \"busy\""
#define CFG_FORM_IDLE  "an integer 0..1000000"
#define CFG_FORM_STEER "\"rss\" or \"flow-affinity\""
#define CFG_FORM_BOOL  "true or false"
#define CFG_FORM_MTU   "an integer " CFG_STR(CFG_MTU_MIN) ".." CFG_STR(CFG_MTU_MAX)
#define CFG_FORM_OFFLOADS "an object of offload names, each true or false"
#define CFG_FORM_ONOFF "\"on\" or \"off\""
#define CFG_FORM_OFFLOAD "NAME=on or NAME=off"
#define CFG_FORM_TUNING "an object of tuning names, each an integer"
#define CFG_FORM_TUNE  "NAME=VALUE with VALUE in decimal digits"
#define CFG_FORM_KEY   "40 bytes as 80 hex digits, optionally ':'-separated"
#define CFG_FORM_WEIGHTS "an array of at most " CFG_STR(RSS_TABLE_MAX) \
	" integers 0..65535, one per queue pair"
#define CFG_FORM_TABLE "an array of 1.." CFG_STR(RSS_TABLE_MAX) " queue pair numbers"

static const char *const cfg_log_names[] = {
	[VLOG_ERR] = "err", [VLOG_WARN] = "warn",
	[VLOG_INFO] = "info", [VLOG_DEBUG] = "debug",
};

/* Key lists, in the order the unpack formats below name them; an unknown key
 * is reported together with the list, so the fix is in the message. */
static const char *const cfg_root_keys[] = { "log_level", "eal_args", "devices" };
static const char *const cfg_dev_keys[] = {
	"name", "socket", "socket_mode", "queue_pairs", "port", "cores",
	"poll_mode", "idle_us", "steering", "rss_key", "rss_table_size", "rss_weights",
	"rss_table", "client", "socket_user", "socket_group", "mtu", "offloads", "tuning",
};

/* The offload switches: one row per key of a device's "offloads" object and
 * per NAME of --offload NAME=on|off. A new offload is its bool in struct
 * cfg_offloads and one row here (key, field, default). */
static const struct cfg_offload_key {
	const char *key;
	size_t off;                      /* of its bool in struct cfg_offloads */
	bool dflt;
} cfg_offload_keys[] = {
	{ "csum", offsetof(struct cfg_offloads, csum), true },
	{ "guest_csum", offsetof(struct cfg_offloads, guest_csum), true },
	{ "host_tso4", offsetof(struct cfg_offloads, host_tso4), true },
	{ "host_tso6", offsetof(struct cfg_offloads, host_tso6), true },
	{ "host_ecn", offsetof(struct cfg_offloads, host_ecn), true },
	{ "guest_tso4", offsetof(struct cfg_offloads, guest_tso4), true },
	{ "guest_tso6", offsetof(struct cfg_offloads, guest_tso6), true },
	{ "guest_ecn", offsetof(struct cfg_offloads, guest_ecn), true },
	{ "packed", offsetof(struct cfg_offloads, packed), true },
};
/* Every switch has its row: struct cfg_offloads holds bools only. */
_Static_assert(sizeof(struct cfg_offloads) == ARRAY_SIZE(cfg_offload_keys) * sizeof(bool),
	       "a field of struct cfg_offloads has no row in cfg_offload_keys");

/* The budgets and sizes: one row per key of a device's "tuning" object and
 * per NAME of --tune NAME=VALUE. A new one is its uint32_t in struct
 * cfg_tuning and one row here (key, field, range, default, and whether 0 is
 * "automatic", accepted below min, and whether it is for an ethdev port
 * only). Ranges: a burst array holds CFG_BURST_MAX frames; a visit's bytes
 * run from 1 KiB to 16 MiB (256 full 64 KiB TSO frames); a port has at
 * most DPDK's RTE_MAX_QUEUES_PER_PORT (1024) queues; 64..32768
 * descriptors spans what NIC drivers take, and the driver refuses or rounds
 * within it (rte_eth_dev_adjust_nb_rx_tx_desc); fewer than 1024 mbufs could
 * not fill one default ring, and 16 Mi of them at 2 KiB is 32 GiB. */
#define CFG_TUNE_BYTES_MIN  1024u
#define CFG_TUNE_BYTES_MAX  (16u << 20)
#define CFG_TUNE_QUEUES_MAX 1024u
#define CFG_TUNE_RING_MIN   64u
#define CFG_TUNE_RING_MAX   32768u
#define CFG_TUNE_RING_DEFAULT 1024u
#define CFG_TUNE_MBUFS_MIN  1024u
#define CFG_TUNE_MBUFS_MAX  (16u << 20)
static const struct cfg_tuning_key {
	const char *key;
	size_t off;                      /* of its uint32_t in struct cfg_tuning */
	uint32_t min, max;
	uint32_t dflt;
	bool auto0;                      /* 0 means "automatic" (and is accepted
	                                    when min is higher) */
	bool ethdev;                     /* only an ethdev port may change it */
} cfg_tuning_keys[] = {
	{ "burst_frames", offsetof(struct cfg_tuning, burst_frames), 1, CFG_BURST_MAX,
	  TUNE_BURST, false, false },
	{ "burst_bytes", offsetof(struct cfg_tuning, burst_bytes), CFG_TUNE_BYTES_MIN,
	  CFG_TUNE_BYTES_MAX, TUNE_TX_BYTE_BUDGET, false, false },
	{ "port_rx_queues", offsetof(struct cfg_tuning, port_rx_queues), 0, CFG_TUNE_QUEUES_MAX,
	  0, true, true },
	{ "port_tx_queues", offsetof(struct cfg_tuning, port_tx_queues), 0, CFG_TUNE_QUEUES_MAX,
	  0, true, true },
	{ "port_rx_ring", offsetof(struct cfg_tuning, port_rx_ring), CFG_TUNE_RING_MIN,
	  CFG_TUNE_RING_MAX, CFG_TUNE_RING_DEFAULT, false, true },
	{ "port_tx_ring", offsetof(struct cfg_tuning, port_tx_ring), CFG_TUNE_RING_MIN,
	  CFG_TUNE_RING_MAX, CFG_TUNE_RING_DEFAULT, false, true },
	{ "mbufs", offsetof(struct cfg_tuning, mbufs), CFG_TUNE_MBUFS_MIN, CFG_TUNE_MBUFS_MAX,
	  0, true, false },
};
/* Every number has its row: struct cfg_tuning holds uint32_t only. */
_Static_assert(sizeof(struct cfg_tuning) == ARRAY_SIZE(cfg_tuning_keys) * sizeof(uint32_t),
	       "a field of struct cfg_tuning has no row in cfg_tuning_keys");
/* The defaults are inside their ranges (a default refused by its own check
 * would make every config fail). */
_Static_assert(TUNE_BURST >= 1 && TUNE_BURST <= CFG_BURST_MAX,
	       "TUNE_BURST outside burst_frames' range");
_Static_assert(TUNE_TX_BYTE_BUDGET >= CFG_TUNE_BYTES_MIN &&
	       TUNE_TX_BYTE_BUDGET <= CFG_TUNE_BYTES_MAX,
	       "TUNE_TX_BYTE_BUDGET outside burst_bytes' range");

/* Scratch for a cores list: filled in full before the device is touched. */
struct cfg_cores {
	uint16_t n;
	uint16_t core[CFG_MAX_CORES];
	bool seen[CFG_CORE_LIMIT];
};

static int cfg_fail(struct cfg_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void
cfg_scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int
cfg_fail(struct cfg_err *err, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	snprintf(err->path, sizeof(err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	cfg_scrub(err->path);
	cfg_scrub(err->reason);
	return -1;
}

static void
cfg_err_clear(struct cfg_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

static void
cfg_err_file(struct cfg_err *err, const char *file)
{
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : "");
}

/* Quotes s for an error message: control bytes, quotes and backslashes are
 * escaped so a hostile value cannot forge log lines, and long values are cut
 * with "..." so the expected form after them still fits in the reason. */
static const char *
cfg_quote(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (s == NULL)
		return "nothing";
	buf[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		/* Room for the longest escape, then "...", the quote and the NUL. */
		if (o + 4 + 5 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *
cfg_got(const json_t *v, char *buf, size_t len)
{
	if (v == NULL)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_STRING:
		return cfg_quote(json_string_value(v), buf, len);
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

/* An optional key counts as given only when it is present and not null:
 * jansson's "s?" treats a null value unlike a missing key (akheron/jansson#687),
 * so every key is fetched as a plain json_t and null is mapped to "use the
 * default" here, in one place. */
static bool
cfg_given(const json_t *v)
{
	return v != NULL && !json_is_null(v);
}

static const char *
cfg_path(char *buf, const char *base, const char *key)
{
	int n = snprintf(buf, CFG_PATH_LEN, "%s%s%s", base, base[0] ? "." : "", key);

	/* Only an unknown key from the file can be this long, and the reason
	 * quotes it again; mark the cut so the path is not taken as whole. */
	if (n < 0 || (size_t)n >= CFG_PATH_LEN)
		memcpy(buf + CFG_PATH_LEN - 4, "...", 4);
	return buf;
}

static const char *
cfg_path_index(char *buf, const char *base, size_t k)
{
	int n = snprintf(buf, CFG_PATH_LEN, "%s[%zu]", base, k);

	if (n < 0 || (size_t)n >= CFG_PATH_LEN)
		memcpy(buf + CFG_PATH_LEN - 4, "...", 4);
	return buf;
}

/* Reads the decimal digits at *s. It stops as soon as the value passes max,
 * so no input can overflow. Returns -1 with no digits or a value above max. */
static long
cfg_digits(const char **s, long max)
{
	const char *p = *s;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	*s = p;
	return v;
}

/* key is not one of keys: says so at base.key, with the list of known keys,
 * so the fix is in the message. */
static int
cfg_fail_unknown(const char *base, const char *key, const char *const *keys,
		 size_t n_keys, struct cfg_err *err)
{
	char path[CFG_PATH_LEN], got[CFG_GOT_LEN], list[256];
	size_t k, o = 0;

	list[0] = '\0';
	for (k = 0; k < n_keys; k++) {
		int n = snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "", keys[k]);

		if (n < 0 || (size_t)n >= sizeof(list) - o)
			break;
		o += (size_t)n;
	}
	return cfg_fail(err, cfg_path(path, base, key), "unknown key %s: must be one of %s",
			cfg_quote(key, got, sizeof(got)), list);
}

/* Called after a JSON_STRICT unpack failed on an object: names the first key
 * that is not in keys, in document order, in both the path and the reason. */
static int
cfg_unknown_key(const json_t *obj, const char *base, const char *const *keys,
		size_t n_keys, const json_error_t *je, struct cfg_err *err)
{
	const char *key;
	json_t *v;
	size_t k;

	json_object_foreach((json_t *)obj, key, v) {
		for (k = 0; k < n_keys; k++)
			if (strcmp(key, keys[k]) == 0)
				break;
		if (k == n_keys)
			return cfg_fail_unknown(base, key, keys, n_keys, err);
	}
	/* Not reached with "s?o" formats, which accept any value. */
	return cfg_fail(err, base, "%s", je->text);
}

static int
cfg_json_int(const json_t *v, json_int_t lo, json_int_t hi, const char *form,
	     const char *path, json_int_t *out, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cfg_fail(err, path, "must be %s, got %s", form,
				cfg_got(v, got, sizeof(got)));
	*out = json_integer_value(v);
	return 0;
}

static int
cfg_json_bool(const json_t *v, const char *path, bool *out, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];

	if (!json_is_boolean(v))
		return cfg_fail(err, path, "must be " CFG_FORM_BOOL ", got %s",
				cfg_got(v, got, sizeof(got)));
	*out = json_is_true(v);
	return 0;
}

/* Fetches a string value, or explains that the key wants form. */
static int
cfg_json_str(const json_t *v, const char *form, const char *path, const char **out,
	     struct cfg_err *err)
{
	char got[CFG_GOT_LEN];

	if (!json_is_string(v))
		return cfg_fail(err, path, "must be %s, got %s", form,
				cfg_got(v, got, sizeof(got)));
	*out = json_string_value(v);
	return 0;
}

/* String parsers. Each takes the path to report, so the command line can
 * name the key and a file can name the full JSON path, and each writes its
 * output only on success. */

/* s as one of words[0..n): *out is its index (the enum value). */
static int
cfg_word_str(const char *s, const char *const *words, unsigned n, const char *form,
	     const char *path, int *out, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];

	for (unsigned k = 0; s != NULL && k < n; k++) {
		if (strcmp(s, words[k]) == 0) {
			*out = (int)k;
			return 0;
		}
	}
	return cfg_fail(err, path, "must be %s, got %s", form, cfg_quote(s, got, sizeof(got)));
}

static int
cfg_log_str(const char *s, const char *path, int *level, struct cfg_err *err)
{
	return cfg_word_str(s, cfg_log_names, ARRAY_SIZE(cfg_log_names), CFG_FORM_LOG, path,
			    level, err);
}

static int
cfg_name_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];
	size_t n = strlen(s);

	/* A narrow set: the name becomes part of thread names, stats keys and
	 * file names, where spaces, slashes and colons each break something. */
	if (n == 0 || n >= sizeof(d->name) || strspn(s, CFG_NAME_CHARS) != n)
		return cfg_fail(err, path, "must be " CFG_FORM_NAME ", got %s",
				cfg_quote(s, got, sizeof(got)));
	memcpy(d->name, s, n + 1);
	return 0;
}

static int
cfg_socket_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];
	size_t n;

	if (s == NULL || s[0] != '/')
		return cfg_fail(err, path, "must be " CFG_FORM_SOCK ", got %s",
				cfg_quote(s, got, sizeof(got)));
	n = strlen(s);
	/* sun_path must hold the NUL too, or bind() reads past it. */
	if (n >= sizeof(d->socket))
		return cfg_fail(err, path, "must be " CFG_FORM_SOCK ", got %zu bytes", n);
	memcpy(d->socket, s, n + 1);
	return 0;
}

static int
cfg_mode_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];
	const char *p = s;
	uint32_t v = 0;

	/* Octal in a string because JSON has no octal literals, and a decimal
	 * 432 for 0660 is the kind of value nobody checks in review. */
	for (; *p >= '0' && *p <= '7' && v <= CFG_MODE_MAX; p++)
		v = v * 8 + (uint32_t)(*p - '0');
	if (p == s || *p != '\0' || v > CFG_MODE_MAX)
		return cfg_fail(err, path, "must be " CFG_FORM_MODE ", got %s",
				cfg_quote(s, got, sizeof(got)));
	d->socket_mode = v;
	d->socket_mode_set = true;
	return 0;
}

/* Looks name up in the user (or group) database: 1 with *id set, 0 when
 * there is no such entry, or -errno when the lookup itself failed. */
static int
cfg_lookup_id(const char *name, bool group, uint32_t *id)
{
	json_malloc_t alloc_fn;
	json_free_t free_fn;
	size_t len = CFG_NSS_BUF;
	bool found = false;
	int rc;

	/* jansson's allocator, like the rest of config/: tests leak-check it. */
	json_get_alloc_funcs(&alloc_fn, &free_fn);
	for (;;) {
		char *buf = alloc_fn(len);

		if (buf == NULL)
			return -ENOMEM;
		if (group) {
			struct group gr, *res = NULL;

			rc = getgrnam_r(name, &gr, buf, len, &res);
			if (rc == 0 && res != NULL) {
				*id = (uint32_t)res->gr_gid;
				found = true;
			}
		} else {
			struct passwd pw, *res = NULL;

			rc = getpwnam_r(name, &pw, buf, len, &res);
			if (rc == 0 && res != NULL) {
				*id = (uint32_t)res->pw_uid;
				found = true;
			}
		}
		free_fn(buf);
		if (rc != ERANGE || len >= CFG_NSS_BUF_MAX)
			break;
		len *= 4;
	}
	/* getpwnam_r(3): "not found" is 0 with no result, or one of these. */
	if (found || rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
		return found;
	return -rc;
}

/* A user (group) name, else a numeric id: names win, as with chown(1). */
static int
cfg_id_str(const char *s, bool group, const char *path, uint32_t *out, struct cfg_err *err)
{
	const char *what = group ? "group" : "user";
	const char *form = group ? CFG_FORM_GROUP : CFG_FORM_USER;
	char got[CFG_GOT_LEN];
	const char *p = s;
	uint32_t id = 0;
	long v;
	int rc;

	if (s == NULL || *s == '\0')
		return cfg_fail(err, path, "must be %s, got %s", form,
				cfg_quote(s, got, sizeof(got)));
	rc = cfg_lookup_id(s, group, &id);
	if (rc < 0)
		return cfg_fail(err, path, "cannot look up %s %s: %s", what,
				cfg_quote(s, got, sizeof(got)), strerror(-rc));
	if (rc == 0) {
		v = cfg_digits(&p, CFG_ID_MAX);
		if (v < 0 || *p != '\0')
			return cfg_fail(err, path, "must be %s, got %s: no such %s", form,
					cfg_quote(s, got, sizeof(got)), what);
		id = (uint32_t)v;
	}
	*out = id;
	return 0;
}

static int
cfg_id_json(const json_t *v, bool group, const char *path, uint32_t *out,
	    struct cfg_err *err)
{
	const char *form = group ? CFG_FORM_GROUP : CFG_FORM_USER;
	json_int_t x = 0;

	if (json_is_string(v))
		return cfg_id_str(json_string_value(v), group, path, out, err);
	if (cfg_json_int(v, 0, CFG_ID_MAX, form, path, &x, err) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static const char *cfg_port_spelled(const struct cfg_device *d, char *buf, size_t len);

/* The uint32_t of t that row names. */
static uint32_t *
cfg_tuning_field(struct cfg_tuning *t, const struct cfg_tuning_key *row)
{
	return (uint32_t *)((char *)t + row->off);
}

static uint32_t
cfg_tuning_get(const struct cfg_tuning *t, const struct cfg_tuning_key *row)
{
	return *(const uint32_t *)((const char *)t + row->off);
}

/* The cross-field rules of one device; base is its JSON path ("" for the
 * command line). */
static int
cfg_check_device_at(const struct cfg_device *d, const char *base, struct cfg_err *err)
{
	static const char *const rss_keys[] = {
		[RSS_FIELD_TABLE_SIZE] = "rss_table_size", [RSS_FIELD_WEIGHTS] = "rss_weights",
		[RSS_FIELD_TABLE] = "rss_table",
	};
	char path[CFG_PATH_LEN], epath[CFG_PATH_LEN];
	struct rss_settings_err re;
	const char *key = NULL;

	/* After the command line's --queues too: weights and a table must name
	 * pairs the device has. */
	if (rss_settings_check(&d->rss, d->queue_pairs, &re) != 0) {
		cfg_path(path, base, (size_t)re.field < ARRAY_SIZE(rss_keys) ? rss_keys[re.field] : "rss");
		if (re.entry >= 0)
			cfg_path_index(epath, path, (size_t)re.entry);
		return cfg_fail(err, re.entry >= 0 ? epath : path, "%s", re.reason);
	}

	/* A port's own queue counts and rings exist only on an ethdev; one set
	 * for another port would do nothing, after the command line's --port
	 * too. The default is "not set", so a config may spell it out. */
	for (size_t k = 0; k < ARRAY_SIZE(cfg_tuning_keys); k++) {
		const struct cfg_tuning_key *row = &cfg_tuning_keys[k];
		char port[300];

		if (d->port_kind == CFG_PORT_ETHDEV || !row->ethdev ||
		    cfg_tuning_get(&d->tune, row) == row->dflt)
			continue;
		cfg_path(epath, base, "tuning");
		return cfg_fail(err, cfg_path(path, epath, row->key),
				"is only for an ethdev port (this device's port is %s)",
				cfg_port_spelled(d, port, sizeof(port)));
	}

	/* In client mode the frontend (QEMU's server=on) creates the socket and
	 * decides who may connect; a setting that would do nothing is a
	 * mistake worth hearing about. */
	if (!d->client)
		return 0;
	if (d->socket_uid != CFG_ID_NONE)
		key = "socket_user";
	else if (d->socket_gid != CFG_ID_NONE)
		key = "socket_group";
	else if (d->socket_mode_set)
		key = "socket_mode";
	if (key == NULL)
		return 0;
	return cfg_fail(err, cfg_path(path, base, key), "is only for a listening socket: in "
			"client mode the frontend creates the socket and decides who can attach");
}

/* The command-line form of an integer key: decimal digits only, lo..hi;
 * form is the one cfg_json_int() names for the same key. */
static int
cfg_uint_str(const char *s, long lo, long hi, const char *form, const char *path,
	     long *out, struct cfg_err *err)
{
	char got[CFG_GOT_LEN];
	const char *p = s;
	long v = s != NULL ? cfg_digits(&p, hi) : -1;

	if (v < lo || *p != '\0')
		return cfg_fail(err, path, "must be %s, got %s", form,
				cfg_quote(s, got, sizeof(got)));
	*out = v;
	return 0;
}

static int
cfg_qp_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	long v = 0;

	if (cfg_uint_str(s, 1, VHOSTMQ_MAX_QP, CFG_FORM_QP, path, &v, err) < 0)
		return -1;
	d->queue_pairs = (uint16_t)v;
	return 0;
}

/* "device:<name>": the peer's name, checked as a device name is; whether it
 * names a configured device wired back is cfg_check_ports()'s. */
static int
cfg_port_device_str(const char *s, const char *name, const char *path, struct cfg_device *d,
		    struct cfg_err *err)
{
	char got[CFG_GOT_LEN];
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(d->port_peer) || strspn(name, CFG_NAME_CHARS) != n)
		return cfg_fail(err, path, "must be " CFG_FORM_PORT " with <name> "
				CFG_FORM_NAME ", got %s", cfg_quote(s, got, sizeof(got)));
	d->port_kind = CFG_PORT_DEVICE;
	d->port_devargs[0] = '\0';
	memcpy(d->port_peer, name, n + 1);
	return 0;
}

static int
cfg_port_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	static const char prefix[] = "ethdev:", dev_prefix[] = "device:";
	char got[CFG_GOT_LEN];
	const char *devargs;
	size_t n;

	if (s != NULL && strcmp(s, "loopback") == 0) {
		d->port_kind = CFG_PORT_LOOPBACK;
		d->port_devargs[0] = '\0';
		d->port_peer[0] = '\0';
		return 0;
	}
	if (s != NULL && strncmp(s, dev_prefix, sizeof(dev_prefix) - 1) == 0)
		return cfg_port_device_str(s, s + sizeof(dev_prefix) - 1, path, d, err);
	if (s == NULL || strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return cfg_fail(err, path, "must be " CFG_FORM_PORT ", got %s",
				cfg_quote(s, got, sizeof(got)));
	devargs = s + sizeof(prefix) - 1;
	n = strlen(devargs);
	if (n == 0)
		return cfg_fail(err, path, "must be " CFG_FORM_PORT
				" with non-empty devargs, got %s", cfg_quote(s, got, sizeof(got)));
	if (n >= sizeof(d->port_devargs))
		return cfg_fail(err, path, "must be " CFG_FORM_PORT
				" with devargs shorter than %zu bytes, got %zu bytes",
				sizeof(d->port_devargs), n);
	d->port_kind = CFG_PORT_ETHDEV;
	memcpy(d->port_devargs, devargs, n + 1);
	d->port_peer[0] = '\0';
	return 0;
}

static int
cfg_mtu_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	long v = 0;

	if (cfg_uint_str(s, CFG_MTU_MIN, CFG_MTU_MAX, CFG_FORM_MTU, path, &v, err) < 0)
		return -1;
	d->mtu = (uint16_t)v;
	return 0;
}

/* The switch of o named by the len bytes at name, or NULL. */
static bool *
cfg_offload_switch(struct cfg_offloads *o, const char *name, size_t len)
{
	for (size_t k = 0; k < ARRAY_SIZE(cfg_offload_keys); k++)
		if (strlen(cfg_offload_keys[k].key) == len &&
		    memcmp(cfg_offload_keys[k].key, name, len) == 0)
			return (bool *)((char *)o + cfg_offload_keys[k].off);
	return NULL;
}

static int
cfg_offload_unknown(const char *base, const char *key, struct cfg_err *err)
{
	const char *keys[ARRAY_SIZE(cfg_offload_keys)];

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		keys[k] = cfg_offload_keys[k].key;
	return cfg_fail_unknown(base, key, keys, ARRAY_SIZE(keys), err);
}

/* "NAME=on" or "NAME=off" (--offload): one switch of d, named at
 * path.NAME as the file would name it. */
static int
cfg_offload_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	static const char *const words[] = { "off", "on" };
	char name[CFG_PATH_LEN], spath[CFG_PATH_LEN], got[CFG_GOT_LEN];
	const char *eq = s != NULL ? strchr(s, '=') : NULL;
	size_t len;
	bool *sw;
	int v = 0;

	if (eq == NULL || eq == s)
		return cfg_fail(err, path, "must be " CFG_FORM_OFFLOAD ", got %s",
				cfg_quote(s, got, sizeof(got)));
	len = (size_t)(eq - s);
	/* A longer name is unknown anyway; cfg_path() marks the cut. */
	snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), s);
	sw = cfg_offload_switch(&d->offload, s, len);
	if (sw == NULL)
		return cfg_offload_unknown(path, name, err);
	if (cfg_word_str(eq + 1, words, ARRAY_SIZE(words), CFG_FORM_ONOFF,
			 cfg_path(spath, path, name), &v, err) < 0)
		return -1;
	*sw = v == 1;
	return 0;
}

/* A device's "offloads" object: known keys only, each true or false (null
 * or missing: the default). */
static int
cfg_offloads_json(const json_t *j, const char *path, struct cfg_device *d,
		  struct cfg_err *err)
{
	struct cfg_offloads o = d->offload;
	char kpath[CFG_PATH_LEN], got[CFG_GOT_LEN];
	const char *key;
	json_t *v;

	if (!json_is_object(j))
		return cfg_fail(err, path, "must be " CFG_FORM_OFFLOADS ", got %s",
				cfg_got(j, got, sizeof(got)));
	json_object_foreach((json_t *)j, key, v) {
		bool *sw = cfg_offload_switch(&o, key, strlen(key));

		if (sw == NULL)
			return cfg_offload_unknown(path, key, err);
		if (cfg_given(v) && cfg_json_bool(v, cfg_path(kpath, path, key), sw, err) < 0)
			return -1;
	}
	d->offload = o;
	return 0;
}

/* The row of the tuning value named by the len bytes at name, or NULL. */
static const struct cfg_tuning_key *
cfg_tuning_row(const char *name, size_t len)
{
	for (size_t k = 0; k < ARRAY_SIZE(cfg_tuning_keys); k++)
		if (strlen(cfg_tuning_keys[k].key) == len &&
		    memcmp(cfg_tuning_keys[k].key, name, len) == 0)
			return &cfg_tuning_keys[k];
	return NULL;
}

static int
cfg_tuning_unknown(const char *base, const char *key, struct cfg_err *err)
{
	const char *keys[ARRAY_SIZE(cfg_tuning_keys)];

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		keys[k] = cfg_tuning_keys[k].key;
	return cfg_fail_unknown(base, key, keys, ARRAY_SIZE(keys), err);
}

/* Whether v is in row's range, or 0 where 0 means "automatic". */
static bool
cfg_tuning_ok(const struct cfg_tuning_key *row, json_int_t v)
{
	return (v >= row->min && v <= row->max) || (row->auto0 && v == 0);
}

/* The expected form of row's value, as the file and --tune both word it. */
static const char *
cfg_tuning_form(const struct cfg_tuning_key *row, char *buf, size_t len)
{
	if (row->auto0 && row->min > 0)
		snprintf(buf, len, "0 (automatic) or an integer %" PRIu32 "..%" PRIu32,
			 row->min, row->max);
	else if (row->auto0)
		snprintf(buf, len, "an integer %" PRIu32 "..%" PRIu32 " (0: automatic)",
			 row->min, row->max);
	else
		snprintf(buf, len, "an integer %" PRIu32 "..%" PRIu32, row->min, row->max);
	return buf;
}

/* "NAME=VALUE" (--tune): one value of d's tuning in decimal digits, named
 * at path.NAME as the file would name it. */
static int
cfg_tune_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char name[CFG_PATH_LEN], spath[CFG_PATH_LEN], got[CFG_GOT_LEN], form[80];
	const char *eq = s != NULL ? strchr(s, '=') : NULL, *p;
	const struct cfg_tuning_key *row;
	size_t len;
	long v;

	if (eq == NULL || eq == s)
		return cfg_fail(err, path, "must be " CFG_FORM_TUNE ", got %s",
				cfg_quote(s, got, sizeof(got)));
	len = (size_t)(eq - s);
	/* A longer name is unknown anyway; cfg_path() marks the cut. */
	snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), s);
	row = cfg_tuning_row(s, len);
	if (row == NULL)
		return cfg_tuning_unknown(path, name, err);
	p = eq + 1;
	v = cfg_digits(&p, (long)row->max);
	if (v < 0 || *p != '\0' || !cfg_tuning_ok(row, v))
		return cfg_fail(err, cfg_path(spath, path, name), "must be %s, got %s",
				cfg_tuning_form(row, form, sizeof(form)),
				cfg_quote(eq + 1, got, sizeof(got)));
	*cfg_tuning_field(&d->tune, row) = (uint32_t)v;
	return 0;
}

/* A device's "tuning" object: known keys only, each an integer in its
 * range (null or missing: the default). Whether the port may have the
 * port_* ones is cfg_check_device_at()'s rule. */
static int
cfg_tuning_json(const json_t *j, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	struct cfg_tuning t = d->tune;
	char kpath[CFG_PATH_LEN], got[CFG_GOT_LEN], form[80];
	const char *key;
	json_t *v;

	if (!json_is_object(j))
		return cfg_fail(err, path, "must be " CFG_FORM_TUNING ", got %s",
				cfg_got(j, got, sizeof(got)));
	json_object_foreach((json_t *)j, key, v) {
		const struct cfg_tuning_key *row = cfg_tuning_row(key, strlen(key));

		if (row == NULL)
			return cfg_tuning_unknown(path, key, err);
		if (!cfg_given(v))
			continue;
		if (!json_is_integer(v) || !cfg_tuning_ok(row, json_integer_value(v)))
			return cfg_fail(err, cfg_path(kpath, path, key), "must be %s, got %s",
					cfg_tuning_form(row, form, sizeof(form)),
					cfg_got(v, got, sizeof(got)));
		*cfg_tuning_field(&t, row) = (uint32_t)json_integer_value(v);
	}
	d->tune = t;
	return 0;
}

static int
cfg_poll_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	static const char *const words[] = {
		[CFG_POLL_ADAPTIVE] = "adaptive", [CFG_POLL_BUSY] = "busy",
	};
	int v = 0;

	if (cfg_word_str(s, words, ARRAY_SIZE(words), CFG_FORM_POLL, path, &v, err) < 0)
		return -1;
	d->poll_mode = (enum cfg_poll_mode)v;
	return 0;
}

static int
cfg_steer_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	static const char *const words[] = {
		[CFG_STEER_RSS] = "rss", [CFG_STEER_FLOW_AFFINITY] = "flow-affinity",
	};
	int v = 0;

	if (cfg_word_str(s, words, ARRAY_SIZE(words), CFG_FORM_STEER, path, &v, err) < 0)
		return -1;
	d->steering = (enum cfg_steering)v;
	return 0;
}

static int
cfg_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int
cfg_key_str(const char *s, const char *path, uint8_t key[RSS_KEY_LEN],
	    struct cfg_err *err)
{
	uint8_t k[RSS_KEY_LEN];
	char got[CFG_GOT_LEN];
	const char *p = s;
	unsigned n = 0;

	while (p != NULL && *p != '\0' && n < RSS_KEY_LEN) {
		int hi = cfg_hex(p[0]), lo = hi < 0 ? -1 : cfg_hex(p[1]);

		if (lo < 0)
			break;
		k[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (*p == ':' && n < RSS_KEY_LEN)
			p++;
	}
	if (p == NULL || n != RSS_KEY_LEN || *p != '\0')
		return cfg_fail(err, path, "must be " CFG_FORM_KEY ", got %s",
				cfg_quote(s, got, sizeof(got)));
	memcpy(key, k, sizeof(k));
	return 0;
}

static int
cfg_weights_json(json_t *j, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char epath[CFG_PATH_LEN], got[CFG_GOT_LEN];
	uint16_t w[RSS_TABLE_MAX];
	size_t k;
	json_t *v;

	if (!json_is_array(j) || json_array_size(j) > RSS_TABLE_MAX)
		return cfg_fail(err, path, "must be " CFG_FORM_WEIGHTS ", got %s",
				cfg_got(j, got, sizeof(got)));
	json_array_foreach(j, k, v) {
		json_int_t x = 0;

		snprintf(epath, sizeof(epath), "%.100s[%zu]", path, k);
		if (cfg_json_int(v, 0, UINT16_MAX, "an integer 0..65535", epath, &x, err) < 0)
			return -1;
		w[k] = (uint16_t)x;
	}
	d->rss.n_weights = (uint16_t)json_array_size(j);
	memcpy(d->rss.weights, w, d->rss.n_weights * sizeof(w[0]));
	return 0;
}

static int
cfg_table_json(json_t *j, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	char epath[CFG_PATH_LEN], got[CFG_GOT_LEN];
	uint16_t t[RSS_TABLE_MAX];
	size_t k;
	json_t *v;

	if (!json_is_array(j) || json_array_size(j) == 0 ||
	    json_array_size(j) > RSS_TABLE_MAX)
		return cfg_fail(err, path, "must be " CFG_FORM_TABLE ", got %s",
				cfg_got(j, got, sizeof(got)));
	json_array_foreach(j, k, v) {
		json_int_t x = 0;

		snprintf(epath, sizeof(epath), "%.100s[%zu]", path, k);
		/* Which pairs exist is rss_settings_check()'s rule. */
		if (cfg_json_int(v, 0, UINT16_MAX, "a queue pair number", epath, &x, err) < 0)
			return -1;
		t[k] = (uint16_t)x;
	}
	d->rss.n_table = (uint16_t)json_array_size(j);
	memcpy(d->rss.table, t, d->rss.n_table * sizeof(t[0]));
	return 0;
}

static int
cfg_cores_add(struct cfg_cores *c, long core, const char *path, struct cfg_err *err)
{
	/* Two queues pinned to one core by accident halve both; a repeat is
	 * always a typo, so it is an error rather than silently merged. */
	if (c->seen[core])
		return cfg_fail(err, path, "must list each core once, got %ld twice", core);
	if (c->n == CFG_MAX_CORES)
		return cfg_fail(err, path, "must list at most %d cores, got more",
				CFG_MAX_CORES);
	c->seen[core] = true;
	c->core[c->n++] = (uint16_t)core;
	return 0;
}

static void
cfg_cores_store(const struct cfg_cores *c, struct cfg_device *d)
{
	d->n_cores = c->n;
	memcpy(d->cores, c->core, c->n * sizeof(c->core[0]));
}

/* "1,3-5": comma-separated cores and inclusive low-high ranges, no spaces,
 * kept in the order given; "" is an empty list (the backend picks). */
static int
cfg_cores_str(const char *s, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	struct cfg_cores c;
	char got[CFG_GOT_LEN];
	const char *p = s;

	memset(&c, 0, sizeof(c));
	if (s == NULL)
		goto err_form;
	while (*p != '\0') {
		long lo = cfg_digits(&p, CFG_CORE_LIMIT - 1), hi = lo;

		if (lo < 0)
			goto err_form;
		if (*p == '-') {
			p++;
			hi = cfg_digits(&p, CFG_CORE_LIMIT - 1);
			if (hi < lo)
				goto err_form;
		}
		for (long core = lo; core <= hi; core++)
			if (cfg_cores_add(&c, core, path, err) < 0)
				return -1;
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			goto err_form;
	}
	cfg_cores_store(&c, d);
	return 0;

err_form:
	return cfg_fail(err, path, "must be " CFG_FORM_CORES ", got %s",
			cfg_quote(s, got, sizeof(got)));
}

static int
cfg_cores_json(const json_t *v, const char *path, struct cfg_device *d, struct cfg_err *err)
{
	struct cfg_cores c;
	char epath[CFG_PATH_LEN], got[CFG_GOT_LEN];
	json_int_t core = 0;
	size_t k;

	if (json_is_string(v))
		return cfg_cores_str(json_string_value(v), path, d, err);
	if (!json_is_array(v))
		return cfg_fail(err, path, "must be " CFG_FORM_CORES ", got %s",
				cfg_got(v, got, sizeof(got)));
	if (json_array_size(v) > CFG_MAX_CORES)
		return cfg_fail(err, path, "must list at most %d cores, got %zu entries",
				CFG_MAX_CORES, json_array_size(v));
	memset(&c, 0, sizeof(c));
	for (k = 0; k < json_array_size(v); k++) {
		cfg_path_index(epath, path, k);
		if (cfg_json_int(json_array_get(v, k), 0, CFG_CORE_LIMIT - 1, CFG_FORM_CORE,
				 epath, &core, err) < 0 ||
		    cfg_cores_add(&c, (long)core, epath, err) < 0)
			return -1;
	}
	cfg_cores_store(&c, d);
	return 0;
}

static int
cfg_device_json(json_t *j, unsigned idx, struct cfg_device *d, struct cfg_err *err)
{
	json_t *name = NULL, *socket = NULL, *mode = NULL, *qp = NULL, *port = NULL;
	json_t *cores = NULL, *poll = NULL, *idle = NULL, *steer = NULL, *key = NULL;
	json_t *reta = NULL, *weights = NULL, *table = NULL, *client = NULL;
	json_t *user = NULL, *group = NULL, *mtu = NULL, *offloads = NULL, *tuning = NULL;
	char base[CFG_PATH_LEN], path[CFG_PATH_LEN], got[CFG_GOT_LEN];
	json_error_t je;
	const char *s = NULL;
	json_int_t v = 0;

	cfg_device_defaults(d, idx);
	cfg_path_index(base, "devices", idx);
	if (!json_is_object(j))
		return cfg_fail(err, base, "must be an object, got %s",
				cfg_got(j, got, sizeof(got)));
	if (json_unpack_ex(j, &je, JSON_STRICT,
			   "{s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o,"
			   " s?o, s?o, s?o, s?o, s?o}",
			   "name", &name, "socket", &socket, "socket_mode", &mode,
			   "queue_pairs", &qp, "port", &port, "cores", &cores,
			   "poll_mode", &poll, "idle_us", &idle, "steering", &steer,
			   "rss_key", &key, "rss_table_size", &reta, "rss_weights", &weights,
			   "rss_table", &table, "client", &client, "socket_user", &user,
			   "socket_group", &group, "mtu", &mtu, "offloads", &offloads,
			   "tuning", &tuning) < 0)
		return cfg_unknown_key(j, base, cfg_dev_keys, ARRAY_SIZE(cfg_dev_keys),
				       &je, err);

	if (cfg_given(name) &&
	    (cfg_json_str(name, CFG_FORM_NAME, cfg_path(path, base, "name"), &s, err) < 0 ||
	     cfg_name_str(s, path, d, err) < 0))
		return -1;
	cfg_path(path, base, "socket");
	if (socket == NULL)
		return cfg_fail(err, path, "required: must be " CFG_FORM_SOCK);
	if (cfg_json_str(socket, CFG_FORM_SOCK, path, &s, err) < 0 ||
	    cfg_socket_str(s, path, d, err) < 0)
		return -1;
	if (cfg_given(mode) &&
	    (cfg_json_str(mode, CFG_FORM_MODE, cfg_path(path, base, "socket_mode"), &s, err) < 0 ||
	     cfg_mode_str(s, path, d, err) < 0))
		return -1;
	if (cfg_given(user) &&
	    cfg_id_json(user, false, cfg_path(path, base, "socket_user"), &d->socket_uid, err) < 0)
		return -1;
	if (cfg_given(group) &&
	    cfg_id_json(group, true, cfg_path(path, base, "socket_group"), &d->socket_gid,
			err) < 0)
		return -1;
	if (cfg_given(qp)) {
		if (cfg_json_int(qp, 1, VHOSTMQ_MAX_QP, CFG_FORM_QP,
				 cfg_path(path, base, "queue_pairs"), &v, err) < 0)
			return -1;
		d->queue_pairs = (uint16_t)v;
	}
	if (cfg_given(port) &&
	    (cfg_json_str(port, CFG_FORM_PORT, cfg_path(path, base, "port"), &s, err) < 0 ||
	     cfg_port_str(s, path, d, err) < 0))
		return -1;
	if (cfg_given(cores) && cfg_cores_json(cores, cfg_path(path, base, "cores"), d, err) < 0)
		return -1;
	if (cfg_given(poll) &&
	    (cfg_json_str(poll, CFG_FORM_POLL, cfg_path(path, base, "poll_mode"), &s, err) < 0 ||
	     cfg_poll_str(s, path, d, err) < 0))
		return -1;
	if (cfg_given(idle)) {
		if (cfg_json_int(idle, 0, CFG_IDLE_US_MAX, CFG_FORM_IDLE,
				 cfg_path(path, base, "idle_us"), &v, err) < 0)
			return -1;
		d->idle_us = (uint32_t)v;
	}
	if (cfg_given(mtu)) {
		if (cfg_json_int(mtu, CFG_MTU_MIN, CFG_MTU_MAX, CFG_FORM_MTU,
				 cfg_path(path, base, "mtu"), &v, err) < 0)
			return -1;
		d->mtu = (uint16_t)v;
	}
	if (cfg_given(offloads) &&
	    cfg_offloads_json(offloads, cfg_path(path, base, "offloads"), d, err) < 0)
		return -1;
	if (cfg_given(tuning) &&
	    cfg_tuning_json(tuning, cfg_path(path, base, "tuning"), d, err) < 0)
		return -1;
	if (cfg_given(client) &&
	    cfg_json_bool(client, cfg_path(path, base, "client"), &d->client, err) < 0)
		return -1;
	if (cfg_given(steer) &&
	    (cfg_json_str(steer, CFG_FORM_STEER, cfg_path(path, base, "steering"), &s, err) < 0 ||
	     cfg_steer_str(s, path, d, err) < 0))
		return -1;
	/* Types here; every rule of the RSS settings in cfg_check_device_at(). */
	if (cfg_given(key) &&
	    (cfg_json_str(key, CFG_FORM_KEY, cfg_path(path, base, "rss_key"), &s, err) < 0 ||
	     cfg_key_str(s, path, d->rss.key, err) < 0))
		return -1;
	if (cfg_given(reta)) {
		if (cfg_json_int(reta, 0, UINT16_MAX, RSS_FORM_TABLE_SIZE,
				 cfg_path(path, base, "rss_table_size"), &v, err) < 0)
			return -1;
		d->rss.table_size = (uint16_t)v;
	}
	if (cfg_given(weights) &&
	    cfg_weights_json(weights, cfg_path(path, base, "rss_weights"), d, err) < 0)
		return -1;
	if (cfg_given(table)) {
		if (cfg_table_json(table, cfg_path(path, base, "rss_table"), d, err) < 0)
			return -1;
		if (!cfg_given(reta))
			d->rss.table_size = d->rss.n_table;   /* the size is the table's length */
	}
	return cfg_check_device_at(d, base, err);
}

/* Two devices on one socket would fight over bind(), and two with one name
 * would share stats keys; both are caught here rather than at run time. */
static int
cfg_device_unique(const struct cfg *c, unsigned idx, struct cfg_err *err)
{
	const struct cfg_device *d = &c->dev[idx];
	char path[CFG_PATH_LEN], got[CFG_GOT_LEN];

	for (unsigned k = 0; k < idx; k++) {
		if (strcmp(d->name, c->dev[k].name) == 0) {
			snprintf(path, sizeof(path), "devices[%u].name", idx);
			return cfg_fail(err, path, "must be unique, got %s again (devices[%u])",
					cfg_quote(d->name, got, sizeof(got)), k);
		}
		if (strcmp(d->socket, c->dev[k].socket) == 0) {
			snprintf(path, sizeof(path), "devices[%u].socket", idx);
			return cfg_fail(err, path, "must be unique, got %s again (devices[%u])",
					cfg_quote(d->socket, got, sizeof(got)), k);
		}
	}
	return 0;
}

/* What a device's port is, as the config spells it: for error messages. */
static const char *
cfg_port_spelled(const struct cfg_device *d, char *buf, size_t len)
{
	switch (d->port_kind) {
	case CFG_PORT_ETHDEV:
		snprintf(buf, len, "ethdev:%s", d->port_devargs);
		break;
	case CFG_PORT_DEVICE:
		snprintf(buf, len, "device:%s", d->port_peer);
		break;
	default:
		snprintf(buf, len, "loopback");
		break;
	}
	return buf;
}

int
cfg_check_ports(const struct cfg *c, struct cfg_err *err)
{
	char path[CFG_PATH_LEN], got[CFG_GOT_LEN], peer_port[300];

	for (unsigned i = 0; i < c->n_devices; i++) {
		const struct cfg_device *d = &c->dev[i], *p = NULL;
		unsigned j;

		if (d->port_kind != CFG_PORT_DEVICE)
			continue;
		snprintf(path, sizeof(path), "devices[%u].port", i);
		for (j = 0; j < c->n_devices && p == NULL; j++)
			if (strcmp(c->dev[j].name, d->port_peer) == 0)
				p = &c->dev[j];
		if (p == NULL)
			return cfg_fail(err, path, "device %s is not configured",
					cfg_quote(d->port_peer, got, sizeof(got)));
		if (p == d)
			return cfg_fail(err, path, "device:%s names the device itself: a device "
					"port wires two different devices", d->name);
		if (p->port_kind != CFG_PORT_DEVICE || strcmp(p->port_peer, d->name) != 0) {
			snprintf(path, sizeof(path), "devices[%u].port", j - 1);
			return cfg_fail(err, path, "%s is wired to %s (device:%s) but %s's port is "
					"%s; wiring is symmetric: %s needs \"port\": \"device:%s\"",
					d->name, p->name, p->name, p->name,
					cfg_port_spelled(p, peer_port, sizeof(peer_port)), p->name,
					d->name);
		}
	}
	return 0;
}

static int
cfg_eal_json(const json_t *v, struct cfg *c, struct cfg_err *err)
{
	char path[CFG_PATH_LEN], got[CFG_GOT_LEN];
	const char *s = NULL;
	size_t k, n;

	if (!json_is_array(v))
		return cfg_fail(err, "eal_args", "must be " CFG_FORM_EAL ", got %s",
				cfg_got(v, got, sizeof(got)));
	if (json_array_size(v) > CFG_MAX_EAL_ARGS)
		return cfg_fail(err, "eal_args", "must be " CFG_FORM_EAL ", got %zu entries",
				json_array_size(v));
	for (k = 0; k < json_array_size(v); k++) {
		const json_t *a = json_array_get(v, k);

		cfg_path_index(path, "eal_args", k);
		if (cfg_json_str(a, CFG_FORM_ARG, path, &s, err) < 0)
			return -1;
		n = strlen(s);
		if (n == 0 || n >= sizeof(c->eal_args[0]))
			return cfg_fail(err, path, "must be " CFG_FORM_ARG ", got %s",
					cfg_quote(s, got, sizeof(got)));
		memcpy(c->eal_args[k], s, n + 1);
	}
	c->n_eal_args = (uint16_t)k;
	return 0;
}

static int
cfg_root_json(json_t *root, struct cfg *c, struct cfg_err *err)
{
	json_t *log = NULL, *eal = NULL, *devs = NULL;
	char got[CFG_GOT_LEN];
	json_error_t je;
	const char *s = NULL;
	size_t k;

	memset(c, 0, sizeof(*c));
	c->log_level = VLOG_INFO;
	if (!json_is_object(root))
		return cfg_fail(err, "", "must be an object with a \"devices\" array, got %s",
				cfg_got(root, got, sizeof(got)));
	if (json_unpack_ex(root, &je, JSON_STRICT, "{s?o, s?o, s?o}",
			   "log_level", &log, "eal_args", &eal, "devices", &devs) < 0)
		return cfg_unknown_key(root, "", cfg_root_keys, ARRAY_SIZE(cfg_root_keys),
				       &je, err);

	if (cfg_given(log) &&
	    (cfg_json_str(log, CFG_FORM_LOG, "log_level", &s, err) < 0 ||
	     cfg_log_str(s, "log_level", &c->log_level, err) < 0))
		return -1;
	if (cfg_given(eal) && cfg_eal_json(eal, c, err) < 0)
		return -1;
	if (devs == NULL)
		return cfg_fail(err, "devices", "required: must be " CFG_FORM_DEVS);
	if (!json_is_array(devs))
		return cfg_fail(err, "devices", "must be " CFG_FORM_DEVS ", got %s",
				cfg_got(devs, got, sizeof(got)));
	if (json_array_size(devs) < 1 || json_array_size(devs) > CFG_MAX_DEVICES)
		return cfg_fail(err, "devices", "must be " CFG_FORM_DEVS ", got %zu entries",
				json_array_size(devs));
	for (k = 0; k < json_array_size(devs); k++) {
		if (cfg_device_json(json_array_get(devs, k), (unsigned)k, &c->dev[k], err) < 0 ||
		    cfg_device_unique(c, (unsigned)k, err) < 0)
			return -1;
	}
	c->n_devices = (uint16_t)k;
	return cfg_check_ports(c, err);
}

/* Validates root into a scratch struct and copies it to out only when all of
 * it is good. The scratch comes from jansson's allocator so that one hook,
 * json_set_alloc_funcs(), lets tests leak-check every allocation made here. */
static int
cfg_from_json(json_t *root, const json_error_t *je, struct cfg *out, struct cfg_err *err)
{
	json_malloc_t alloc_fn;
	json_free_t free_fn;
	struct cfg *scratch;
	int rc;

	if (root == NULL)
		return cfg_fail(err, "", "invalid JSON at line %d, column %d: %s",
				je->line, je->column, je->text);
	json_get_alloc_funcs(&alloc_fn, &free_fn);
	scratch = alloc_fn(sizeof(*scratch));
	if (scratch == NULL) {
		rc = cfg_fail(err, "", "out of memory");
		goto out_decref;
	}
	rc = cfg_root_json(root, scratch, err);
	if (rc == 0)
		memcpy(out, scratch, sizeof(*out));
	free_fn(scratch);
out_decref:
	json_decref(root);
	return rc;
}

int
cfg_load_string(const char *text, const char *name, struct cfg *out, struct cfg_err *err)
{
	json_error_t je;
	json_t *root;

	cfg_err_clear(err);
	if (text == NULL) {
		cfg_err_file(err, name);
		return cfg_fail(err, "", "no configuration text");
	}
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (cfg_from_json(root, &je, out, err) < 0) {
		cfg_err_file(err, name);
		return -1;
	}
	return 0;
}

int
cfg_load_file(const char *file, struct cfg *out, struct cfg_err *err)
{
	json_error_t je;
	json_t *root;
	FILE *f;
	int e;

	cfg_err_clear(err);
	cfg_err_file(err, file);
	if (file == NULL)
		return cfg_fail(err, "", "no configuration file named");
	/* fopen, not json_load_file, so the errno text is ours to report and
	 * the descriptor is close-on-exec for the life of the parse. */
	f = fopen(file, "re");
	if (f == NULL) {
		e = errno;
		return cfg_fail(err, "", "cannot open for reading: %s", strerror(e));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	e = errno;
	if (root == NULL && ferror(f)) {
		fclose(f);
		return cfg_fail(err, "", "cannot read: %s", strerror(e));
	}
	fclose(f);
	if (cfg_from_json(root, &je, out, err) < 0)
		return -1;
	cfg_err_clear(err);
	return 0;
}

int
cfg_parse_port(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_port_str(s, "port", d, err);
}

int
cfg_parse_cores(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_cores_str(s, "cores", d, err);
}

int
cfg_parse_queue_pairs(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_qp_str(s, "queue_pairs", d, err);
}

int
cfg_parse_poll_mode(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_poll_str(s, "poll_mode", d, err);
}

int
cfg_parse_log_level(const char *s, int *level, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_log_str(s, "log_level", level, err);
}

int
cfg_set_socket(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_socket_str(s, "socket", d, err);
}

int
cfg_parse_steering(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_steer_str(s, "steering", d, err);
}

int
cfg_parse_mtu(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_mtu_str(s, "mtu", d, err);
}

int
cfg_parse_offload(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_offload_str(s, "offloads", d, err);
}

int
cfg_parse_tune(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_tune_str(s, "tuning", d, err);
}

int
cfg_parse_socket_mode(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_mode_str(s, "socket_mode", d, err);
}

int
cfg_parse_socket_user(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_id_str(s, false, "socket_user", &d->socket_uid, err);
}

int
cfg_parse_socket_group(const char *s, struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_id_str(s, true, "socket_group", &d->socket_gid, err);
}

int
cfg_check_device(const struct cfg_device *d, struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_check_device_at(d, "", err);
}

int
cfg_parse_rss_key(const char *s, uint8_t key[RSS_KEY_LEN], struct cfg_err *err)
{
	cfg_err_clear(err);
	return cfg_key_str(s, "rss_key", key, err);
}

void
cfg_device_defaults(struct cfg_device *d, unsigned index)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "vm%u", index);
	d->socket_mode = 0660;
	d->socket_uid = CFG_ID_NONE;
	d->socket_gid = CFG_ID_NONE;
	d->queue_pairs = 1;
	d->port_kind = CFG_PORT_LOOPBACK;
	d->n_cores = 0;
	d->poll_mode = CFG_POLL_ADAPTIVE;
	d->idle_us = TUNE_IDLE_US;
	d->steering = CFG_STEER_RSS;
	d->mtu = CFG_MTU_DEFAULT;
	for (size_t k = 0; k < ARRAY_SIZE(cfg_offload_keys); k++)
		*(bool *)((char *)&d->offload + cfg_offload_keys[k].off) = cfg_offload_keys[k].dflt;
	for (size_t k = 0; k < ARRAY_SIZE(cfg_tuning_keys); k++)
		*cfg_tuning_field(&d->tune, &cfg_tuning_keys[k]) = cfg_tuning_keys[k].dflt;
	rss_settings_default(&d->rss);
}

const char *
cfg_err_str(const struct cfg_err *err, char *buf, unsigned len)
{
	const char *part[3];
	size_t o = 0;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	if (err == NULL)
		return buf;
	part[0] = err->file;
	part[1] = err->path;
	part[2] = err->reason;
	for (size_t k = 0; k < ARRAY_SIZE(part); k++) {
		int n;

		if (part[k][0] == '\0')
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? ": " : "", part[k]);
		if (n < 0 || (size_t)n >= len - o)
			break;           /* truncated, and still NUL-terminated */
		o += (size_t)n;
	}
	return buf;
}
