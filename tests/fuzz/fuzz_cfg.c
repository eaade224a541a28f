/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/fuzz/fuzz_cfg.c - libFuzzer target for config/cfg.c, whose parsers also
 * serve the control API (backend/ctl.c), where the text comes from whoever
 * can reach the control socket. An input is a JSON configuration as it is
 * (so plain .json files are seeds), unless its first byte is one of the
 * FZ_CFG_* selectors below, which no JSON text starts with: then the rest
 * goes to one of the command-line field parsers, or is parsed as any JSON
 * value and quoted by cfg_got() into a buffer of a size the input picks.
 * Invariants checked, beyond the sanitizers:
 * - an accepted configuration is within the limits cfg.h states, with every
 *   string NUL-terminated inside its array;
 * - an error names a path and a reason and nothing but printable text in
 *   either (a hostile value must not forge a log line), and cfg_err_str()
 *   stays inside whatever buffer it is given;
 * - cfg_got() stays inside its buffer and its quoted result is printable. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config/cfg.h"
#include "tests/fuzz/fuzz.h"
#include "vhostmq_conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FZ_CFG_CLI = 1,                  /* u8 which parser, then the value */
	FZ_CFG_GOT = 2,                  /* u8 buffer size, then a JSON value */
};

/* Real callers pass 48 bytes or more (CFG_GOT_LEN is 80). */
#define FZ_GOT_MIN 16

static bool
fz_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* No control bytes: what a log line or a terminal would act on. */
static bool
fz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void
fz_check_err(const struct cfg_err *err)
{
	char small[24], *big;

	FZ_CHECK(fz_terminated(err->file, sizeof(err->file)) &&
	         fz_terminated(err->path, sizeof(err->path)) &&
	         fz_terminated(err->reason, sizeof(err->reason)), "unterminated error field");
	FZ_CHECK(err->reason[0] != '\0', "an error without a reason (path \"%s\")", err->path);
	FZ_CHECK(fz_printable(err->path), "control bytes in the error path");
	FZ_CHECK(fz_printable(err->reason), "control bytes in the error reason");
	/* Exactly sized heap buffers, so ASan sees one byte too many. */
	big = malloc(sizeof(*err));
	FZ_CHECK(big != NULL, "malloc");
	(void)cfg_err_str(err, big, sizeof(*err));
	(void)cfg_err_str(err, small, sizeof(small));
	FZ_CHECK(fz_terminated(small, sizeof(small)), "cfg_err_str left no NUL");
	free(big);
}

static void
fz_check_device(const struct cfg_device *d)
{
	FZ_CHECK(fz_terminated(d->name, sizeof(d->name)) &&
	         fz_terminated(d->socket, sizeof(d->socket)) &&
	         fz_terminated(d->port_devargs, sizeof(d->port_devargs)),
	         "unterminated device string");
	FZ_CHECK(d->socket[0] != '\0', "device %s accepted without a socket", d->name);
	FZ_CHECK(d->queue_pairs >= 1 && d->queue_pairs <= VHOSTMQ_MAX_QP, "queue_pairs %u",
	         d->queue_pairs);
	FZ_CHECK(d->n_cores <= CFG_MAX_CORES, "%u cores", d->n_cores);
	FZ_CHECK(d->mtu >= CFG_MTU_MIN && d->mtu <= CFG_MTU_MAX, "mtu %u", d->mtu);
	FZ_CHECK(d->rss.table_size >= RSS_TABLE_MIN && d->rss.table_size <= RSS_TABLE_MAX,
	         "rss table_size %u", d->rss.table_size);
	FZ_CHECK(d->rss.n_weights <= RSS_TABLE_MAX && d->rss.n_weights <= d->queue_pairs,
	         "%u rss weights for %u queue pairs", d->rss.n_weights, d->queue_pairs);
	FZ_CHECK(d->rss.n_table <= RSS_TABLE_MAX, "%u rss table entries", d->rss.n_table);
	FZ_CHECK(d->rss.n_table == 0 || d->rss.n_table == d->rss.table_size,
	         "%u rss table entries, table_size %u", d->rss.n_table, d->rss.table_size);
	for (unsigned k = 0; k < d->rss.n_table; k++)
		FZ_CHECK(d->rss.table[k] < d->queue_pairs, "rss table entry %u is %u of %u",
		         k, d->rss.table[k], d->queue_pairs);
	/* What the file parser accepted, the one gate accepts too. */
	FZ_CHECK(rss_settings_check(&d->rss, d->queue_pairs, NULL) == 0,
	         "rss settings accepted but refused by rss_settings_check");
}

static void
fz_config(const char *text)
{
	static struct cfg c;             /* 200 KiB: not on the stack */
	struct cfg_err err;

	if (cfg_load_string(text, "fuzz.json", &c, &err) != 0) {
		fz_check_err(&err);
		return;
	}
	FZ_CHECK(c.log_level >= 0 && c.log_level <= 3, "log_level %d", c.log_level);
	FZ_CHECK(c.n_eal_args <= CFG_MAX_EAL_ARGS, "%u eal args", c.n_eal_args);
	for (unsigned k = 0; k < c.n_eal_args; k++)
		FZ_CHECK(fz_terminated(c.eal_args[k], sizeof(c.eal_args[k])), "eal arg %u", k);
	FZ_CHECK(c.n_devices <= CFG_MAX_DEVICES, "%u devices", c.n_devices);
	for (unsigned k = 0; k < c.n_devices; k++)
		fz_check_device(&c.dev[k]);
}

static void
fz_cli(uint8_t which, const char *s)
{
	struct cfg_device d;
	struct cfg_err err;
	uint8_t key[RSS_KEY_LEN];
	int level = 0, rc;

	cfg_device_defaults(&d, 0);
	memset(&err, 0, sizeof(err));
	switch (which % 10) {
	case 0: rc = cfg_parse_port(s, &d, &err); break;
	case 1: rc = cfg_parse_cores(s, &d, &err); break;
	case 2: rc = cfg_parse_queue_pairs(s, &d, &err); break;
	case 3: rc = cfg_parse_poll_mode(s, &d, &err); break;
	case 4: rc = cfg_parse_log_level(s, &level, &err); break;
	case 5: rc = cfg_set_socket(s, &d, &err); break;
	case 6: rc = cfg_parse_steering(s, &d, &err); break;
	case 7: rc = cfg_parse_rss_key(s, key, &err); break;
	case 8: rc = cfg_parse_mtu(s, &d, &err); break;
	default: rc = cfg_parse_offload(s, &d, &err); break;
	}
	if (rc != 0) {
		fz_check_err(&err);
		return;
	}
	FZ_CHECK(d.queue_pairs >= 1 && d.queue_pairs <= VHOSTMQ_MAX_QP, "queue_pairs %u",
	         d.queue_pairs);
	FZ_CHECK(d.n_cores <= CFG_MAX_CORES, "%u cores", d.n_cores);
	FZ_CHECK(d.mtu >= CFG_MTU_MIN && d.mtu <= CFG_MTU_MAX, "mtu %u", d.mtu);
	FZ_CHECK(fz_terminated(d.socket, sizeof(d.socket)) &&
	         fz_terminated(d.port_devargs, sizeof(d.port_devargs)), "unterminated string");
	FZ_CHECK(level >= 0 && level <= 3, "log level %d", level);
}

static void
fz_got(uint8_t len, const char *text)
{
	size_t cap = FZ_GOT_MIN + len;
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	char *buf = malloc(cap);
	const char *s;

	FZ_CHECK(buf != NULL, "malloc");
	s = cfg_got(v, buf, cap);
	FZ_CHECK(s != NULL, "cfg_got returned NULL");
	if (s == buf)
		FZ_CHECK(fz_terminated(buf, cap), "cfg_got left no NUL");
	if (json_is_string(v))
		FZ_CHECK(fz_printable(s), "cfg_got let a control byte through");
	free(buf);
	json_decref(v);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_report_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	size_t skip = size > 0 && (data[0] == FZ_CFG_CLI || data[0] == FZ_CFG_GOT) ? 2 : 0;

	FZ_CHECK(text != NULL, "malloc");
	if (skip > size)
		skip = size;
	memcpy(text, data + skip, size - skip);
	text[size - skip] = '\0';
	if (skip == 0)
		fz_config(text);
	else if (data[0] == FZ_CFG_CLI)
		fz_cli(size > 1 ? data[1] : 0, text);
	else
		fz_got(size > 1 ? data[1] : 0, text);
	free(text);
	return 0;
}
