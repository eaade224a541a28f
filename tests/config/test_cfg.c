/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/config/test_cfg.c - unit tests for config/cfg.c: defaults, explicit
 * nulls, the string and array forms of each value, the limits accepted at
 * their edges, the embedded default config, file loading and the command-line
 * parsers. The rule-by-rule rejections live in test_cfg_hostile.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "common/base.h"
#include "common/log.h"
#include "config/default_config.h"
#include "tests/config/cfg_test.h"

/* Large enough for 64 devices or 256 cores spelled out as JSON. */
static char text[16384];

/* A queue count above 1 that the configured max_queue_pairs still allows. */
#define SOME_QP (VHOSTMQ_MAX_QP < 4 ? VHOSTMQ_MAX_QP : 4)

static void
load_ok(const char *json, struct cfg *c)
{
	struct cfg_err err;
	char msg[700];

	memset(&err, 0x5a, sizeof(err));
	if (cfg_load_string(json, "t.json", c, &err) != 0)
		fail_msg("rejected: %s", cfg_err_str(&err, msg, sizeof(msg)));
	/* A success leaves no stale error behind for a caller to print. */
	assert_string_equal(err.file, "");
	assert_string_equal(err.path, "");
	assert_string_equal(err.reason, "");
}

static void
assert_default_device(const struct cfg_device *d, const char *name, const char *socket)
{
	assert_string_equal(d->name, name);
	assert_string_equal(d->socket, socket);
	assert_int_equal(d->socket_mode, 0660);
	assert_false(d->socket_mode_set);
	assert_int_equal(d->socket_uid, CFG_ID_NONE);
	assert_int_equal(d->socket_gid, CFG_ID_NONE);
	assert_int_equal(d->queue_pairs, 1);
	assert_int_equal(d->port_kind, CFG_PORT_LOOPBACK);
	assert_string_equal(d->port_devargs, "");
	assert_string_equal(d->port_peer, "");
	assert_int_equal(d->n_cores, 0);
	assert_int_equal(d->poll_mode, CFG_POLL_ADAPTIVE);
	assert_int_equal(d->idle_us, 200);
	assert_int_equal(d->steering, CFG_STEER_RSS);
	assert_int_equal(d->mtu, 1500);
	assert_true(d->offload.csum);
	assert_true(d->offload.guest_csum);
	assert_true(d->offload.host_tso4);
	assert_true(d->offload.host_tso6);
	assert_true(d->offload.host_ecn);
	assert_true(d->offload.guest_tso4);
	assert_true(d->offload.guest_tso6);
	assert_true(d->offload.guest_ecn);
	assert_int_equal(d->tune.burst_frames, 32);
	assert_int_equal(d->tune.burst_bytes, 65536);
	assert_int_equal(d->tune.port_rx_queues, 0);
	assert_int_equal(d->tune.port_tx_queues, 0);
	assert_int_equal(d->tune.port_rx_ring, 1024);
	assert_int_equal(d->tune.port_tx_ring, 1024);
	assert_int_equal(d->tune.mbufs, 0);
	assert_false(d->client);
	assert_memory_equal(d->rss.key, rss_default_key, RSS_KEY_LEN);
	assert_int_equal(d->rss.table_size, 128);
	assert_int_equal(d->rss.n_weights, 0);
	assert_int_equal(d->rss.n_table, 0);
}

static void
test_defaults_minimal(void **state)
{
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/run/a.sock\"}]}", &c);
	assert_int_equal(c.log_level, VLOG_INFO);
	assert_int_equal(c.log_level, 2);
	assert_int_equal(c.n_eal_args, 0);
	assert_int_equal(c.n_devices, 1);
	assert_default_device(&c.dev[0], "vm0", "/run/a.sock");
}

static void
test_default_names_by_index(void **state)
{
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\"}, {\"socket\": \"/b\", \"name\": \"web\"},"
		" {\"socket\": \"/c\"}]}", &c);
	assert_int_equal(c.n_devices, 3);
	assert_string_equal(c.dev[0].name, "vm0");
	assert_string_equal(c.dev[1].name, "web");
	assert_string_equal(c.dev[2].name, "vm2");
}

static void
test_full_config(void **state)
{
	struct cfg c;

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"log_level\": \"debug\", \"eal_args\": [\"--no-pci\", \"-m\", \"512\"],"
		 " \"devices\": [{\"name\": \"A-b_c.9\", \"socket\": \"/run/vm.sock\","
		 " \"socket_mode\": \"0600\", \"queue_pairs\": %d,"
		 " \"port\": \"ethdev:net_null0,size=64\", \"cores\": [3, 1, 2],"
		 " \"poll_mode\": \"busy\", \"idle_us\": 0},"
		 " {\"socket\": \"/run/vm2.sock\", \"cores\": \"8-9,12\", \"port\": \"loopback\"}]}",
		 SOME_QP);
	load_ok(text, &c);
	assert_int_equal(c.log_level, VLOG_DEBUG);
	assert_int_equal(c.n_eal_args, 3);
	assert_string_equal(c.eal_args[0], "--no-pci");
	assert_string_equal(c.eal_args[1], "-m");
	assert_string_equal(c.eal_args[2], "512");
	assert_int_equal(c.n_devices, 2);
	assert_string_equal(c.dev[0].name, "A-b_c.9");
	assert_string_equal(c.dev[0].socket, "/run/vm.sock");
	assert_int_equal(c.dev[0].socket_mode, 0600);
	assert_int_equal(c.dev[0].queue_pairs, SOME_QP);
	assert_int_equal(c.dev[0].port_kind, CFG_PORT_ETHDEV);
	assert_string_equal(c.dev[0].port_devargs, "net_null0,size=64");
	assert_int_equal(c.dev[0].n_cores, 3);
	assert_int_equal(c.dev[0].cores[0], 3);
	assert_int_equal(c.dev[0].cores[1], 1);
	assert_int_equal(c.dev[0].cores[2], 2);
	assert_int_equal(c.dev[0].poll_mode, CFG_POLL_BUSY);
	assert_int_equal(c.dev[0].idle_us, 0);
	assert_string_equal(c.dev[1].name, "vm1");
	assert_int_equal(c.dev[1].n_cores, 3);
	assert_int_equal(c.dev[1].cores[0], 8);
	assert_int_equal(c.dev[1].cores[1], 9);
	assert_int_equal(c.dev[1].cores[2], 12);
	assert_int_equal(c.dev[1].port_kind, CFG_PORT_LOOPBACK);
}

static void
test_log_levels(void **state)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	static const int want[] = { VLOG_ERR, VLOG_WARN, VLOG_INFO, VLOG_DEBUG };
	struct cfg c;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		snprintf(text, sizeof(text),
			 "{\"log_level\": \"%s\", \"devices\": [{\"socket\": \"/a\"}]}", names[k]);
		load_ok(text, &c);
		assert_int_equal(c.log_level, want[k]);
		assert_int_equal(c.log_level, (int)k);
	}
}

/* One row per optional key: an explicit null must mean "the default", the same
 * as leaving the key out (jansson's "s?" does not treat them alike). */
struct null_case {
	const char *key;
	const char *json;
};

#define NULL_DEV(k) { k, "{\"devices\": [{\"socket\": \"/a\", \"" k "\": null}]}" }
static const struct null_case null_cases[] = {
	{ "log_level", "{\"log_level\": null, \"devices\": [{\"socket\": \"/a\"}]}" },
	{ "eal_args",  "{\"eal_args\": null, \"devices\": [{\"socket\": \"/a\"}]}" },
	NULL_DEV("name"),
	NULL_DEV("socket_mode"),
	NULL_DEV("queue_pairs"),
	NULL_DEV("port"),
	NULL_DEV("cores"),
	NULL_DEV("poll_mode"),
	NULL_DEV("idle_us"),
	NULL_DEV("socket_user"),
	NULL_DEV("socket_group"),
	NULL_DEV("mtu"),
	NULL_DEV("offloads"),
	{ "offloads keys",
	  "{\"devices\": [{\"socket\": \"/a\", \"offloads\": {\"csum\": null,"
	  " \"guest_csum\": null}}]}" },
	{ "offloads {}", "{\"devices\": [{\"socket\": \"/a\", \"offloads\": {}}]}" },
	NULL_DEV("tuning"),
	{ "tuning keys",
	  "{\"devices\": [{\"socket\": \"/a\", \"tuning\": {\"burst_frames\": null,"
	  " \"burst_bytes\": null, \"port_rx_queues\": null, \"port_tx_queues\": null,"
	  " \"port_rx_ring\": null, \"port_tx_ring\": null, \"mbufs\": null}}]}" },
	{ "tuning {}", "{\"devices\": [{\"socket\": \"/a\", \"tuning\": {}}]}" },
	/* the defaults spelled out are "not set", even on a loopback port */
	{ "tuning defaults spelled out",
	  "{\"devices\": [{\"socket\": \"/a\", \"tuning\": {\"burst_frames\": 32,"
	  " \"burst_bytes\": 65536, \"port_rx_queues\": 0, \"port_tx_queues\": 0,"
	  " \"port_rx_ring\": 1024, \"port_tx_ring\": 1024, \"mbufs\": 0}}]}" },
	/* null ownership keys are "not given", so they do not clash with client */
	{ "ownership keys with client",
	  "{\"devices\": [{\"socket\": \"/a\", \"client\": null, \"socket_user\": null,"
	  " \"socket_group\": null, \"socket_mode\": null}]}" },
	{ "every optional key",
	  "{\"log_level\": null, \"eal_args\": null, \"devices\": [{\"socket\": \"/a\","
	  " \"name\": null, \"socket_mode\": null, \"queue_pairs\": null, \"port\": null,"
	  " \"cores\": null, \"poll_mode\": null, \"idle_us\": null, \"mtu\": null,"
	  " \"offloads\": null, \"tuning\": null}]}" },
};

static void
test_null_is_default(void **state)
{
	const struct null_case *nc = *state;
	struct cfg c;

	load_ok(nc->json, &c);
	assert_int_equal(c.log_level, VLOG_INFO);
	assert_int_equal(c.n_eal_args, 0);
	assert_int_equal(c.n_devices, 1);
	assert_default_device(&c.dev[0], "vm0", "/a");
}

static void
test_null_required(void **state)
{
	(void)state;
	/* null means "default", and the required keys have none. */
	cfg_test_reject("{\"devices\": null}", "devices", FORM_DEVS, "got null");
	cfg_test_reject("{\"devices\": [{\"socket\": null}]}", "devices[0].socket",
			FORM_SOCK, "got null");
}

static void
test_cores_string_forms(void **state)
{
	struct cfg_device d;
	struct cfg_err err;

	(void)state;
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_cores("1,3-5", &d, &err), 0);
	assert_int_equal(d.n_cores, 4);
	assert_int_equal(d.cores[0], 1);
	assert_int_equal(d.cores[1], 3);
	assert_int_equal(d.cores[2], 4);
	assert_int_equal(d.cores[3], 5);
	/* Order as given: the backend maps queues to cores in this order. */
	assert_int_equal(cfg_parse_cores("9,2", &d, &err), 0);
	assert_int_equal(d.n_cores, 2);
	assert_int_equal(d.cores[0], 9);
	assert_int_equal(d.cores[1], 2);
	assert_int_equal(cfg_parse_cores("7-7", &d, &err), 0);
	assert_int_equal(d.n_cores, 1);
	assert_int_equal(d.cores[0], 7);
	assert_int_equal(cfg_parse_cores("1023", &d, &err), 0);
	assert_int_equal(d.n_cores, 1);
	assert_int_equal(d.cores[0], 1023);
	assert_int_equal(cfg_parse_cores("0-255", &d, &err), 0);
	assert_int_equal(d.n_cores, CFG_MAX_CORES);
	assert_int_equal(d.cores[255], 255);
	assert_int_equal(cfg_parse_cores("768-1023", &d, &err), 0);
	assert_int_equal(d.n_cores, CFG_MAX_CORES);
	assert_int_equal(d.cores[0], 768);
	/* Empty: no list, the backend picks. */
	assert_int_equal(cfg_parse_cores("", &d, &err), 0);
	assert_int_equal(d.n_cores, 0);
}

static void
test_cores_json_forms(void **state)
{
	struct cfg c;
	int o;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"cores\": \"1,3-5\"},"
		" {\"socket\": \"/b\", \"cores\": [7, 0, 1023]},"
		" {\"socket\": \"/c\", \"cores\": []},"
		" {\"socket\": \"/d\", \"cores\": \"\"}]}", &c);
	assert_int_equal(c.dev[0].n_cores, 4);
	assert_int_equal(c.dev[0].cores[0], 1);
	assert_int_equal(c.dev[0].cores[3], 5);
	assert_int_equal(c.dev[1].n_cores, 3);
	assert_int_equal(c.dev[1].cores[0], 7);
	assert_int_equal(c.dev[1].cores[1], 0);
	assert_int_equal(c.dev[1].cores[2], 1023);
	assert_int_equal(c.dev[2].n_cores, 0);
	assert_int_equal(c.dev[3].n_cores, 0);

	/* Exactly CFG_MAX_CORES entries in the array form. */
	o = snprintf(text, sizeof(text), "{\"devices\": [{\"socket\": \"/a\", \"cores\": [");
	for (int k = 0; k < CFG_MAX_CORES; k++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%s%d", k ? "," : "", 1023 - k);
	snprintf(text + o, sizeof(text) - (size_t)o, "]}]}");
	load_ok(text, &c);
	assert_int_equal(c.dev[0].n_cores, CFG_MAX_CORES);
	assert_int_equal(c.dev[0].cores[0], 1023);
	assert_int_equal(c.dev[0].cores[CFG_MAX_CORES - 1], 1023 - CFG_MAX_CORES + 1);
}

static void
test_limits_accepted(void **state)
{
	struct cfg c;
	char name[32], sock[108], devargs[256];
	int o;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(sock, 's', sizeof(sock) - 1);
	sock[0] = '/';
	sock[sizeof(sock) - 1] = '\0';
	memset(devargs, 'd', sizeof(devargs) - 1);
	devargs[sizeof(devargs) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"devices\": [{\"name\": \"%s\", \"socket\": \"%s\","
		 " \"port\": \"ethdev:%s\", \"queue_pairs\": %d, \"idle_us\": 1000000,"
		 " \"socket_mode\": \"0777\"}]}", name, sock, devargs, VHOSTMQ_MAX_QP);
	load_ok(text, &c);
	assert_string_equal(c.dev[0].name, name);
	assert_string_equal(c.dev[0].socket, sock);
	assert_string_equal(c.dev[0].port_devargs, devargs);
	assert_int_equal(c.dev[0].queue_pairs, VHOSTMQ_MAX_QP);
	assert_int_equal(c.dev[0].idle_us, 1000000);
	assert_int_equal(c.dev[0].socket_mode, 0777);

	/* One past the generated limit, which no literal in a table can track. */
	snprintf(text, sizeof(text), "{\"devices\": [{\"socket\": \"/a\", \"queue_pairs\": %d}]}",
		 VHOSTMQ_MAX_QP + 1);
	cfg_test_reject(text, "devices[0].queue_pairs", FORM_QP, NULL);

	/* Octal is read as octal, with any number of leading zeros. */
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"socket_mode\": \"0\"},"
		" {\"socket\": \"/b\", \"socket_mode\": \"755\"},"
		" {\"socket\": \"/c\", \"socket_mode\": \"0000640\"}]}", &c);
	assert_int_equal(c.dev[0].socket_mode, 0);
	assert_int_equal(c.dev[1].socket_mode, 0755);
	assert_int_equal(c.dev[2].socket_mode, 0640);

	/* CFG_MAX_DEVICES devices and CFG_MAX_EAL_ARGS arguments of 127 bytes. */
	o = snprintf(text, sizeof(text), "{\"eal_args\": [");
	for (int k = 0; k < CFG_MAX_EAL_ARGS; k++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%s\"%0127d\"", k ? "," : "", k);
	o += snprintf(text + o, sizeof(text) - (size_t)o, "], \"devices\": [");
	for (int k = 0; k < CFG_MAX_DEVICES; k++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%s{\"socket\": \"/s%d\"}",
			      k ? "," : "", k);
	snprintf(text + o, sizeof(text) - (size_t)o, "]}");
	load_ok(text, &c);
	assert_int_equal(c.n_eal_args, CFG_MAX_EAL_ARGS);
	assert_int_equal(strlen(c.eal_args[CFG_MAX_EAL_ARGS - 1]), 127);
	assert_int_equal(c.n_devices, CFG_MAX_DEVICES);
	assert_string_equal(c.dev[CFG_MAX_DEVICES - 1].name, "vm63");
	assert_string_equal(c.dev[CFG_MAX_DEVICES - 1].socket, "/s63");
}

static void
test_embedded_default(void **state)
{
	struct cfg c;

	(void)state;
	load_ok(cfg_default_json, &c);
	assert_int_equal(c.log_level, VLOG_INFO);
	assert_int_equal(c.n_eal_args, 0);
	assert_int_equal(c.n_devices, 1);
	assert_default_device(&c.dev[0], "vm0", "/tmp/vhostmq.sock");
	/* Embedded byte for byte: no cores key, so the backend picks. */
	assert_null(strstr(cfg_default_json, "cores"));
	assert_non_null(strstr(cfg_default_json, "\"idle_us\": 200"));
}

static void
write_tmp(char *path, size_t len, const char *content)
{
	int fd;

	snprintf(path, len, "/tmp/test-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(close(fd), 0);
}

static void
test_load_file_ok(void **state)
{
	struct cfg c;
	struct cfg_err err;
	char path[64];

	(void)state;
	write_tmp(path, sizeof(path), "{\"log_level\": \"warn\",\n"
		  " \"devices\": [{\"socket\": \"/run/f.sock\", \"idle_us\": 50}]}\n");
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(cfg_load_file(path, &c, &err), 0);
	assert_int_equal(unlink(path), 0);
	assert_string_equal(err.file, "");
	assert_string_equal(err.reason, "");
	assert_int_equal(c.log_level, VLOG_WARN);
	assert_int_equal(c.dev[0].idle_us, 50);
	assert_string_equal(c.dev[0].socket, "/run/f.sock");
}

static void
test_load_file_missing(void **state)
{
	static const char missing[] = "/tmp/test-cfg-does-not-exist/none.json";
	struct cfg c;
	struct cfg_err err;
	char msg[700], want[512];

	(void)state;
	assert_int_equal(cfg_load_file(missing, &c, &err), -1);
	assert_string_equal(err.file, missing);
	assert_string_equal(err.path, "");
	cfg_test_reason_has(&err, strerror(ENOENT));
	snprintf(want, sizeof(want), "%s: cannot open for reading: %s", missing, strerror(ENOENT));
	assert_string_equal(cfg_err_str(&err, msg, sizeof(msg)), want);
}

static void
test_load_file_directory(void **state)
{
	struct cfg c;
	struct cfg_err err;

	(void)state;
	assert_int_equal(cfg_load_file("/tmp", &c, &err), -1);
	assert_string_equal(err.file, "/tmp");
	cfg_test_reason_has(&err, strerror(EISDIR));
}

static void
test_load_file_errors_name_file(void **state)
{
	struct cfg c;
	struct cfg_err err;
	char path[64];

	(void)state;
	write_tmp(path, sizeof(path), "{\n  \"devices\": [\n    {\"socket\": \"/a\",}\n  ]\n}\n");
	assert_int_equal(cfg_load_file(path, &c, &err), -1);
	assert_string_equal(err.file, path);
	assert_string_equal(err.path, "");
	cfg_test_reason_has(&err, "invalid JSON at line 3, column");
	assert_int_equal(unlink(path), 0);

	write_tmp(path, sizeof(path), "{\"devices\": [{\"socket\": \"/a\", \"idle_us\": -5}]}");
	assert_int_equal(cfg_load_file(path, &c, &err), -1);
	assert_string_equal(err.file, path);
	assert_string_equal(err.path, "devices[0].idle_us");
	cfg_test_reason_has(&err, FORM_IDLE ", got -5");
	assert_int_equal(unlink(path), 0);
}

static void
test_load_string_name(void **state)
{
	struct cfg c;
	struct cfg_err err;
	char msg[700];

	(void)state;
	assert_int_equal(cfg_load_string("{\"devices\": [{\"socket\": \"/a\", \"queue_pairs\": 0}]}",
					 "<control>", &c, &err), -1);
	assert_string_equal(err.file, "<control>");
	assert_string_equal(cfg_err_str(&err, msg, sizeof(msg)),
			    "<control>: devices[0].queue_pairs: " FORM_QP ", got 0");
	/* No name: the file part is left out. */
	assert_int_equal(cfg_load_string("[]", NULL, &c, &err), -1);
	assert_string_equal(err.file, "");
	assert_string_equal(cfg_err_str(&err, msg, sizeof(msg)),
			    "must be an object with a \"devices\" array, got an array");
}

/* The command-line parsers: good forms stored, bad forms rejected with the key
 * name as the path, no file, and the device left as it was. */
static void
assert_cli_reject(int rc, const struct cfg_err *err, const struct cfg_device *d,
		  const struct cfg_device *before, const char *path, const char *form)
{
	assert_int_equal(rc, -1);
	assert_string_equal(err->file, "");
	assert_string_equal(err->path, path);
	cfg_test_reason_has(err, form);
	assert_memory_equal(d, before, sizeof(*d));
}

static void
test_parse_queue_pairs(void **state)
{
	static const char *const bad[] = {
		"0", "", "-1", "+1", " 1", "1 ", "0x4", "4a", "1.0", "99999999999999999999",
	};
	struct cfg_device d, before;
	struct cfg_err err;
	char max[16];

	(void)state;
	cfg_device_defaults(&d, 0);
	snprintf(max, sizeof(max), "%d", SOME_QP);
	assert_int_equal(cfg_parse_queue_pairs(max, &d, &err), 0);
	assert_int_equal(d.queue_pairs, SOME_QP);
	assert_int_equal(cfg_parse_queue_pairs("1", &d, &err), 0);
	assert_int_equal(d.queue_pairs, 1);
	snprintf(max, sizeof(max), "%d", VHOSTMQ_MAX_QP);
	assert_int_equal(cfg_parse_queue_pairs(max, &d, &err), 0);
	assert_int_equal(d.queue_pairs, VHOSTMQ_MAX_QP);
	before = d;
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		assert_cli_reject(cfg_parse_queue_pairs(bad[k], &d, &err), &err, &d, &before,
				  "queue_pairs", FORM_QP);
	snprintf(max, sizeof(max), "%d", VHOSTMQ_MAX_QP + 1);
	assert_cli_reject(cfg_parse_queue_pairs(max, &d, &err), &err, &d, &before,
			  "queue_pairs", FORM_QP);
	cfg_test_reason_has(&err, max);
}

static void
test_parse_cores(void **state)
{
	static const char *const bad[] = {
		"1,", ",1", "1,,2", "a", "1 ,2", " 1", "-1", "1-", "5-3", "1-2-3",
		"1024", "0-1024", "1;2", "0x1",
	};
	struct cfg_device d, before;
	struct cfg_err err;

	(void)state;
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_cores("2,4", &d, &err), 0);
	before = d;
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		assert_cli_reject(cfg_parse_cores(bad[k], &d, &err), &err, &d, &before,
				  "cores", FORM_CORES);
	assert_cli_reject(cfg_parse_cores("1,3-5,4", &d, &err), &err, &d, &before,
			  "cores", "must list each core once, got 4 twice");
	assert_cli_reject(cfg_parse_cores("0-256", &d, &err), &err, &d, &before,
			  "cores", "must list at most 256 cores");
	assert_int_equal(d.n_cores, 2);
}

static void
test_parse_port(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;
	char long_port[300];

	(void)state;
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_port("ethdev:net_null0", &d, &err), 0);
	assert_int_equal(d.port_kind, CFG_PORT_ETHDEV);
	assert_string_equal(d.port_devargs, "net_null0");
	assert_int_equal(cfg_parse_port("ethdev:0000:3b:00.0,rxq=2", &d, &err), 0);
	assert_string_equal(d.port_devargs, "0000:3b:00.0,rxq=2");
	/* Back to loopback clears the devargs, so none are left to misread. */
	assert_int_equal(cfg_parse_port("loopback", &d, &err), 0);
	assert_int_equal(d.port_kind, CFG_PORT_LOOPBACK);
	assert_string_equal(d.port_devargs, "");
	before = d;
	assert_cli_reject(cfg_parse_port("ethdev:", &d, &err), &err, &d, &before, "port",
			  FORM_PORT " with non-empty devargs");
	assert_cli_reject(cfg_parse_port("eth0", &d, &err), &err, &d, &before, "port", FORM_PORT);
	assert_cli_reject(cfg_parse_port("", &d, &err), &err, &d, &before, "port", FORM_PORT);
	assert_cli_reject(cfg_parse_port("Loopback", &d, &err), &err, &d, &before, "port",
			  FORM_PORT);
	assert_cli_reject(cfg_parse_port("ethdev", &d, &err), &err, &d, &before, "port",
			  FORM_PORT);
	snprintf(long_port, sizeof(long_port), "ethdev:%0256d", 7);
	assert_cli_reject(cfg_parse_port(long_port, &d, &err), &err, &d, &before, "port",
			  FORM_PORT " with devargs shorter than 256 bytes, got 256 bytes");
}

/* device:NAME on the command line: the name is checked as a device name;
 * that it names another device wired back is cfg_check_ports()'s, which
 * vhostmq runs after the overrides. */
static void
test_parse_port_device(void **state)
{
	static struct cfg c;
	struct cfg_device d, before;
	struct cfg_err err;

	(void)state;
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_port("device:vm1", &d, &err), 0);
	assert_int_equal(d.port_kind, CFG_PORT_DEVICE);
	assert_string_equal(d.port_peer, "vm1");
	assert_string_equal(d.port_devargs, "");
	assert_int_equal(cfg_parse_port("ethdev:net_null0", &d, &err), 0);
	assert_string_equal(d.port_peer, "");
	assert_int_equal(cfg_parse_port("device:vm1", &d, &err), 0);
	assert_int_equal(cfg_parse_port("loopback", &d, &err), 0);
	assert_string_equal(d.port_peer, "");
	before = d;
	assert_cli_reject(cfg_parse_port("device:", &d, &err), &err, &d, &before, "port",
			  FORM_PORT " with <name> " "1..31 characters from [A-Za-z0-9_.-]");
	assert_cli_reject(cfg_parse_port("device:vm 1", &d, &err), &err, &d, &before, "port",
			  FORM_PORT " with <name> ");
	assert_cli_reject(cfg_parse_port("device:01234567890123456789012345678901", &d, &err),
			  &err, &d, &before, "port", FORM_PORT " with <name> ");
	assert_cli_reject(cfg_parse_port("Device:vm1", &d, &err), &err, &d, &before, "port",
			  FORM_PORT);

	/* One device (all --port can override) can name no peer. */
	load_ok("{\"devices\": [{\"socket\": \"/a\"}]}", &c);
	assert_int_equal(cfg_parse_port("device:vm0", &c.dev[0], &err), 0);
	assert_int_equal(cfg_check_ports(&c, &err), -1);
	assert_string_equal(err.path, "devices[0].port");
	cfg_test_reason_has(&err, "names the device itself");
	assert_int_equal(cfg_parse_port("device:vm9", &c.dev[0], &err), 0);
	assert_int_equal(cfg_check_ports(&c, &err), -1);
	assert_string_equal(err.path, "devices[0].port");
	assert_string_equal(err.reason, "device \"vm9\" is not configured");
}

/* Accepted device wirings: two pairs, named and default names, different
 * queue counts, in any order in the list. */
static void
test_device_ports(void **state)
{
	static struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"port\": \"device:vm1\", \"queue_pairs\": 2},"
		" {\"socket\": \"/b\", \"port\": \"device:vm0\", \"queue_pairs\": 4}]}", &c);
	assert_int_equal(c.n_devices, 2);
	assert_int_equal(c.dev[0].port_kind, CFG_PORT_DEVICE);
	assert_string_equal(c.dev[0].port_peer, "vm1");
	assert_int_equal(c.dev[1].port_kind, CFG_PORT_DEVICE);
	assert_string_equal(c.dev[1].port_peer, "vm0");
	load_ok("{\"devices\": ["
		" {\"socket\": \"/a\", \"name\": \"web\", \"port\": \"device:db\"},"
		" {\"socket\": \"/b\", \"port\": \"device:vm2\"},"
		" {\"socket\": \"/c\", \"port\": \"device:vm1\"},"
		" {\"socket\": \"/d\", \"port\": \"ethdev:net_null0\"},"
		" {\"socket\": \"/e\", \"name\": \"db\", \"port\": \"device:web\"}]}", &c);
	assert_int_equal(c.n_devices, 5);
	assert_string_equal(c.dev[0].port_peer, "db");
	assert_string_equal(c.dev[1].port_peer, "vm2");
	assert_string_equal(c.dev[2].port_peer, "vm1");
	assert_int_equal(c.dev[3].port_kind, CFG_PORT_ETHDEV);
	assert_string_equal(c.dev[4].port_peer, "web");
}

/* socket_user/socket_group: names from the system's databases (Debian has
 * nobody/nogroup and daemon), numeric ids as integers or digits; socket_mode
 * on the command line too; and none of them with client mode. */
static void
test_socket_owner(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"socket_user\": \"nobody\","
	        " \"socket_group\": \"nogroup\"},"
	        " {\"socket\": \"/b\", \"socket_user\": 0, \"socket_group\": \"1\"},"
	        " {\"socket\": \"/c\", \"socket_user\": \"4294967294\","
	        " \"socket_group\": 4294967294},"
	        " {\"socket\": \"/d\", \"socket_user\": \"daemon\"}]}", &c);
	assert_int_equal(c.dev[0].socket_uid, 65534);
	assert_int_equal(c.dev[0].socket_gid, 65534);
	assert_int_equal(c.dev[1].socket_uid, 0);
	assert_int_equal(c.dev[1].socket_gid, 1);
	assert_int_equal(c.dev[2].socket_uid, 4294967294u);
	assert_int_equal(c.dev[2].socket_gid, 4294967294u);
	assert_int_equal(c.dev[3].socket_uid, 1);
	assert_int_equal(c.dev[3].socket_gid, CFG_ID_NONE);
	assert_false(c.dev[0].socket_mode_set);

	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_socket_user("daemon", &d, &err), 0);
	assert_int_equal(d.socket_uid, 1);
	assert_int_equal(cfg_parse_socket_user("1234", &d, &err), 0);
	assert_int_equal(d.socket_uid, 1234);
	assert_int_equal(cfg_parse_socket_group("nogroup", &d, &err), 0);
	assert_int_equal(d.socket_gid, 65534);
	assert_int_equal(cfg_parse_socket_mode("0600", &d, &err), 0);
	assert_int_equal(d.socket_mode, 0600);
	assert_true(d.socket_mode_set);
	before = d;
	assert_cli_reject(cfg_parse_socket_user("no-such-user-vhostmq", &d, &err), &err, &d,
			  &before, "socket_user", FORM_USER);
	cfg_test_reason_has(&err, "no such user");
	assert_cli_reject(cfg_parse_socket_user("", &d, &err), &err, &d, &before,
			  "socket_user", FORM_USER);
	assert_cli_reject(cfg_parse_socket_user("4294967295", &d, &err), &err, &d, &before,
			  "socket_user", FORM_USER);
	assert_cli_reject(cfg_parse_socket_group("no-such-group-vhostmq", &d, &err), &err, &d,
			  &before, "socket_group", FORM_GROUP);
	cfg_test_reason_has(&err, "no such group");
	assert_cli_reject(cfg_parse_socket_mode("0668", &d, &err), &err, &d, &before,
			  "socket_mode", FORM_MODE);

	/* What --client over a config with ownership keys (or the reverse)
	 * leaves behind: the combined check names the key. */
	assert_int_equal(cfg_check_device(&d, &err), 0);
	d.client = true;
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "socket_user");
	cfg_test_reason_has(&err, FORM_LISTEN_ONLY);
	d.socket_uid = CFG_ID_NONE;
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "socket_group");
	d.socket_gid = CFG_ID_NONE;
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "socket_mode");
	d.socket_mode_set = false;
	assert_int_equal(cfg_check_device(&d, &err), 0);
	assert_string_equal(err.path, "");
	/* --queues below what the file's RSS table names: the one RSS check
	 * runs on the combined device too. */
	d.client = false;
	d.queue_pairs = 4;
	d.rss.table_size = 4;
	d.rss.n_table = 4;
	for (uint16_t i = 0; i < 4; i++)
		d.rss.table[i] = i;
	assert_int_equal(cfg_check_device(&d, &err), 0);
	assert_int_equal(cfg_parse_queue_pairs("2", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "rss_table[2]");
	cfg_test_reason_has(&err, "queue pair 2 does not exist");
}

static void
test_parse_poll_mode(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;

	(void)state;
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_poll_mode("busy", &d, &err), 0);
	assert_int_equal(d.poll_mode, CFG_POLL_BUSY);
	assert_int_equal(cfg_parse_poll_mode("adaptive", &d, &err), 0);
	assert_int_equal(d.poll_mode, CFG_POLL_ADAPTIVE);
	before = d;
	assert_cli_reject(cfg_parse_poll_mode("spin", &d, &err), &err, &d, &before,
			  "poll_mode", FORM_POLL);
	assert_cli_reject(cfg_parse_poll_mode("BUSY", &d, &err), &err, &d, &before,
			  "poll_mode", FORM_POLL);
	assert_cli_reject(cfg_parse_poll_mode("", &d, &err), &err, &d, &before,
			  "poll_mode", FORM_POLL);
}

static void
test_parse_log_level(void **state)
{
	struct cfg_err err;
	int level = -7;

	(void)state;
	assert_int_equal(cfg_parse_log_level("err", &level, &err), 0);
	assert_int_equal(level, VLOG_ERR);
	assert_int_equal(cfg_parse_log_level("warn", &level, &err), 0);
	assert_int_equal(level, VLOG_WARN);
	assert_int_equal(cfg_parse_log_level("debug", &level, &err), 0);
	assert_int_equal(level, VLOG_DEBUG);
	assert_int_equal(cfg_parse_log_level("info", &level, &err), 0);
	assert_int_equal(level, VLOG_INFO);
	assert_int_equal(cfg_parse_log_level("error", &level, &err), -1);
	assert_string_equal(err.file, "");
	assert_string_equal(err.path, "log_level");
	cfg_test_reason_has(&err, FORM_LOG ", got \"error\"");
	assert_int_equal(level, VLOG_INFO);
	assert_int_equal(cfg_parse_log_level("2", &level, &err), -1);
	assert_int_equal(cfg_parse_log_level("", &level, &err), -1);
	assert_int_equal(level, VLOG_INFO);
}

static void
test_set_socket(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;
	char sock[120];

	(void)state;
	cfg_device_defaults(&d, 3);
	assert_string_equal(d.socket, "");
	assert_int_equal(cfg_set_socket("/run/vhostmq/vm3.sock", &d, &err), 0);
	assert_string_equal(d.socket, "/run/vhostmq/vm3.sock");
	before = d;
	assert_cli_reject(cfg_set_socket("vm3.sock", &d, &err), &err, &d, &before, "socket",
			  FORM_SOCK ", got \"vm3.sock\"");
	assert_cli_reject(cfg_set_socket("", &d, &err), &err, &d, &before, "socket", FORM_SOCK);
	memset(sock, 'x', sizeof(sock));
	sock[0] = '/';
	sock[108] = '\0';
	assert_cli_reject(cfg_set_socket(sock, &d, &err), &err, &d, &before, "socket",
			  FORM_SOCK ", got 108 bytes");
	sock[107] = '\0';
	assert_int_equal(cfg_set_socket(sock, &d, &err), 0);
	assert_int_equal(strlen(d.socket), 107);
}

static void
test_device_defaults(void **state)
{
	struct cfg_device d;

	(void)state;
	memset(&d, 0xa5, sizeof(d));
	cfg_device_defaults(&d, 17);
	assert_default_device(&d, "vm17", "");
	cfg_device_defaults(&d, 4294967295u);
	assert_string_equal(d.name, "vm4294967295");
}

static void
test_err_str(void **state)
{
	struct cfg_err err;
	char buf[700], small[12];

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_string_equal(cfg_err_str(&err, buf, sizeof(buf)), "");
	snprintf(err.reason, sizeof(err.reason), "bad");
	assert_string_equal(cfg_err_str(&err, buf, sizeof(buf)), "bad");
	snprintf(err.path, sizeof(err.path), "devices[0].port");
	assert_string_equal(cfg_err_str(&err, buf, sizeof(buf)), "devices[0].port: bad");
	snprintf(err.file, sizeof(err.file), "/etc/vhostmq.json");
	assert_string_equal(cfg_err_str(&err, buf, sizeof(buf)),
			    "/etc/vhostmq.json: devices[0].port: bad");
	err.path[0] = '\0';
	assert_string_equal(cfg_err_str(&err, buf, sizeof(buf)), "/etc/vhostmq.json: bad");
	/* Truncated output is still a terminated string within len. */
	assert_ptr_equal(cfg_err_str(&err, small, sizeof(small)), small);
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(strncmp(small, "/etc/vhostm", sizeof(small) - 1), 0);
	assert_string_equal(cfg_err_str(&err, buf, 0), "");
}

static void
test_quoting_in_errors(void **state)
{
	struct cfg c;
	struct cfg_err err;

	(void)state;
	/* A control byte in a value must not reach a log line raw. */
	assert_int_equal(cfg_load_string("{\"devices\": [{\"socket\": \"/a\","
					 " \"name\": \"a\\nb\\\"c\"}]}", "t", &c, &err), -1);
	assert_string_equal(err.path, "devices[0].name");
	cfg_test_reason_has(&err, "got \"a\\x0ab\\\"c\"");
	assert_null(strchr(err.reason, '\n'));
	/* A long value is cut, and the reason still fits. */
	snprintf(text, sizeof(text), "{\"devices\": [{\"socket\": \"/a\", \"port\": \"%0200d\"}]}", 1);
	assert_int_equal(cfg_load_string(text, "t", &c, &err), -1);
	cfg_test_reason_has(&err, FORM_PORT ", got \"000");
	cfg_test_reason_has(&err, "...\"");
}

/* Steering and RSS keys: accepted forms, nulls meaning the default, and the
 * CLI parsers for the same values. */
static void
test_steering_and_rss(void **state)
{
	static const uint8_t want[RSS_KEY_LEN] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
		0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
		0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
		0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	uint8_t key[RSS_KEY_LEN];
	struct cfg_device d;
	struct cfg_err err;
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"client\": null, \"steering\": null,"
	        " \"rss_key\": null,"
	        " \"rss_table_size\": null, \"rss_weights\": null, \"rss_table\": null}]}", &c);
	assert_default_device(&c.dev[0], "vm0", "/a");
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"client\": true}]}", &c);
	assert_true(c.dev[0].client);
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"queue_pairs\": 4,"
	        " \"steering\": \"flow-affinity\", \"rss_table_size\": 64,"
	        " \"rss_key\": \"6e:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:"
	        "ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa\","
	        " \"rss_weights\": [1, 0, 2]}]}", &c);
	assert_int_equal(c.dev[0].steering, CFG_STEER_FLOW_AFFINITY);
	assert_int_equal(c.dev[0].rss.key[0], 0x6e);     /* not the default key */
	assert_memory_equal(c.dev[0].rss.key + 1, want + 1, sizeof(want) - 1);
	assert_int_equal(c.dev[0].rss.table_size, 64);
	assert_int_equal(c.dev[0].rss.n_weights, 3);
	assert_int_equal(c.dev[0].rss.weights[2], 2);
	/* an explicit table sets the table size */
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"queue_pairs\": 2,"
	        " \"rss_table\": [1, 0, 1]}]}", &c);
	assert_int_equal(c.dev[0].rss.n_table, 3);
	assert_int_equal(c.dev[0].rss.table_size, 3);
	assert_int_equal(c.dev[0].rss.table[0], 1);
	/* the CLI forms: the key without colons, and --steering */
	assert_int_equal(cfg_parse_rss_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
	                                   "ae7b30b477cb2da38030f20c6a42b73bbeac01fa", key, &err), 0);
	assert_memory_equal(key, want, sizeof(want));
	assert_int_equal(cfg_parse_rss_key("6d:5a", key, &err), -1);
	assert_string_equal(err.path, "rss_key");
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_steering("flow-affinity", &d, &err), 0);
	assert_int_equal(d.steering, CFG_STEER_FLOW_AFFINITY);
	assert_int_equal(cfg_parse_steering("RSS", &d, &err), -1);
	assert_string_equal(err.path, "steering");
}

/* mtu and offloads: the edges accepted, each switch on its own, the CLI
 * forms and their refusals (the file's are rows in test_cfg_hostile.c). */
static void
test_mtu_and_offloads(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": [{\"socket\": \"/a\", \"mtu\": 68},"
	        " {\"socket\": \"/b\", \"mtu\": 65521, \"offloads\": {\"csum\": false}},"
	        " {\"socket\": \"/c\", \"mtu\": 9000, \"offloads\": {\"guest_csum\": false}},"
	        " {\"socket\": \"/d\", \"offloads\": {\"csum\": false, \"guest_csum\": false}},"
	        " {\"socket\": \"/e\", \"offloads\": {\"csum\": true, \"guest_csum\": true}},"
	        " {\"socket\": \"/f\", \"offloads\": {\"host_tso4\": false, \"host_tso6\": true,"
	        " \"host_ecn\": false, \"guest_tso4\": false, \"guest_ecn\": false}}]}",
	        &c);
	assert_int_equal(c.dev[0].mtu, CFG_MTU_MIN);
	assert_true(c.dev[0].offload.csum);
	assert_true(c.dev[0].offload.guest_csum);
	assert_int_equal(c.dev[1].mtu, CFG_MTU_MAX);
	assert_false(c.dev[1].offload.csum);
	assert_true(c.dev[1].offload.guest_csum);
	assert_int_equal(c.dev[2].mtu, 9000);
	assert_true(c.dev[2].offload.csum);
	assert_false(c.dev[2].offload.guest_csum);
	assert_int_equal(c.dev[3].mtu, CFG_MTU_DEFAULT);
	assert_false(c.dev[3].offload.csum);
	assert_false(c.dev[3].offload.guest_csum);
	assert_true(c.dev[4].offload.csum);
	assert_true(c.dev[4].offload.guest_csum);
	assert_false(c.dev[5].offload.host_tso4);
	assert_true(c.dev[5].offload.host_tso6);
	assert_false(c.dev[5].offload.host_ecn);
	assert_false(c.dev[5].offload.guest_tso4);
	assert_true(c.dev[5].offload.guest_tso6);
	assert_false(c.dev[5].offload.guest_ecn);
	assert_true(c.dev[5].offload.csum);

	/* --mtu: the same range, digits only. */
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_mtu("68", &d, &err), 0);
	assert_int_equal(d.mtu, 68);
	assert_int_equal(cfg_parse_mtu("65521", &d, &err), 0);
	assert_int_equal(d.mtu, 65521);
	assert_int_equal(cfg_parse_mtu("9000", &d, &err), 0);
	assert_int_equal(d.mtu, 9000);
	before = d;
	assert_cli_reject(cfg_parse_mtu("10", &d, &err), &err, &d, &before, "mtu",
			  FORM_MTU ", got \"10\"");
	assert_cli_reject(cfg_parse_mtu("65522", &d, &err), &err, &d, &before, "mtu", FORM_MTU);
	assert_cli_reject(cfg_parse_mtu("67036", &d, &err), &err, &d, &before, "mtu", FORM_MTU);
	assert_cli_reject(cfg_parse_mtu("", &d, &err), &err, &d, &before, "mtu", FORM_MTU);
	assert_cli_reject(cfg_parse_mtu("1500 ", &d, &err), &err, &d, &before, "mtu", FORM_MTU);
	assert_cli_reject(cfg_parse_mtu("-1500", &d, &err), &err, &d, &before, "mtu", FORM_MTU);
	assert_cli_reject(cfg_parse_mtu("0x5dc", &d, &err), &err, &d, &before, "mtu", FORM_MTU);

	/* --offload NAME=on|off, repeatable: the last one for a NAME wins. */
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_offload("csum=off", &d, &err), 0);
	assert_false(d.offload.csum);
	assert_true(d.offload.guest_csum);
	assert_int_equal(cfg_parse_offload("guest_csum=off", &d, &err), 0);
	assert_false(d.offload.csum);
	assert_false(d.offload.guest_csum);
	assert_int_equal(cfg_parse_offload("csum=on", &d, &err), 0);
	assert_true(d.offload.csum);
	assert_false(d.offload.guest_csum);
	before = d;
	assert_cli_reject(cfg_parse_offload("tso4=off", &d, &err), &err, &d, &before,
			  "offloads.tso4", "unknown key \"tso4\": " FORM_OFFLOAD_KEYS);
	assert_cli_reject(cfg_parse_offload("csum_x=on", &d, &err), &err, &d, &before,
			  "offloads.csum_x", "unknown key");
	assert_cli_reject(cfg_parse_offload("csu=on", &d, &err), &err, &d, &before,
			  "offloads.csu", "unknown key");
	assert_cli_reject(cfg_parse_offload("csum=yes", &d, &err), &err, &d, &before,
			  "offloads.csum", "must be \"on\" or \"off\", got \"yes\"");
	assert_cli_reject(cfg_parse_offload("csum=", &d, &err), &err, &d, &before,
			  "offloads.csum", "must be \"on\" or \"off\"");
	assert_cli_reject(cfg_parse_offload("csum=off=on", &d, &err), &err, &d, &before,
			  "offloads.csum", "must be \"on\" or \"off\"");
	assert_cli_reject(cfg_parse_offload("csum", &d, &err), &err, &d, &before,
			  "offloads", "must be NAME=on or NAME=off, got \"csum\"");
	assert_cli_reject(cfg_parse_offload("=off", &d, &err), &err, &d, &before,
			  "offloads", "must be NAME=on or NAME=off");
	assert_cli_reject(cfg_parse_offload("", &d, &err), &err, &d, &before,
			  "offloads", "must be NAME=on or NAME=off");
}

/* tuning: each key at both edges of its range, the CLI form and its
 * refusals, and the port_* rule after a CLI override (the file's refusals
 * are rows in test_cfg_hostile.c). */
static void
test_tuning(void **state)
{
	struct cfg_device d, before;
	struct cfg_err err;
	struct cfg c;

	(void)state;
	load_ok("{\"devices\": ["
	        " {\"socket\": \"/a\", \"port\": \"ethdev:net_null0\", \"tuning\":"
	        " {\"burst_frames\": 1, \"burst_bytes\": 1024, \"port_rx_queues\": 0,"
	        " \"port_tx_queues\": 0, \"port_rx_ring\": 64, \"port_tx_ring\": 64,"
	        " \"mbufs\": 0}},"
	        " {\"socket\": \"/b\", \"port\": \"ethdev:net_null1\", \"tuning\":"
	        " {\"burst_frames\": 64, \"burst_bytes\": 16777216, \"port_rx_queues\": 1024,"
	        " \"port_tx_queues\": 1024, \"port_rx_ring\": 32768, \"port_tx_ring\": 32768,"
	        " \"mbufs\": 16777216}},"
	        " {\"socket\": \"/c\", \"port\": \"ethdev:net_null2\", \"tuning\":"
	        " {\"port_rx_queues\": 3, \"port_tx_ring\": 4096, \"mbufs\": 1024}},"
	        " {\"socket\": \"/d\", \"tuning\": {\"burst_frames\": 16, \"burst_bytes\": 9000,"
	        " \"mbufs\": 65536}}]}",
	        &c);
	assert_int_equal(c.dev[0].tune.burst_frames, 1);
	assert_int_equal(c.dev[0].tune.burst_bytes, 1024);
	assert_int_equal(c.dev[0].tune.port_rx_queues, 0);
	assert_int_equal(c.dev[0].tune.port_tx_queues, 0);
	assert_int_equal(c.dev[0].tune.port_rx_ring, 64);
	assert_int_equal(c.dev[0].tune.port_tx_ring, 64);
	assert_int_equal(c.dev[0].tune.mbufs, 0);
	assert_int_equal(c.dev[1].tune.burst_frames, CFG_BURST_MAX);
	assert_int_equal(c.dev[1].tune.burst_bytes, 16777216);
	assert_int_equal(c.dev[1].tune.port_rx_queues, 1024);
	assert_int_equal(c.dev[1].tune.port_tx_queues, 1024);
	assert_int_equal(c.dev[1].tune.port_rx_ring, 32768);
	assert_int_equal(c.dev[1].tune.port_tx_ring, 32768);
	assert_int_equal(c.dev[1].tune.mbufs, 16777216);
	/* keys left out keep their defaults */
	assert_int_equal(c.dev[2].tune.burst_frames, 32);
	assert_int_equal(c.dev[2].tune.burst_bytes, 65536);
	assert_int_equal(c.dev[2].tune.port_rx_queues, 3);
	assert_int_equal(c.dev[2].tune.port_tx_queues, 0);
	assert_int_equal(c.dev[2].tune.port_rx_ring, 1024);
	assert_int_equal(c.dev[2].tune.port_tx_ring, 4096);
	assert_int_equal(c.dev[2].tune.mbufs, 1024);
	/* burst_* and mbufs are for any port */
	assert_int_equal(c.dev[3].port_kind, CFG_PORT_LOOPBACK);
	assert_int_equal(c.dev[3].tune.burst_frames, 16);
	assert_int_equal(c.dev[3].tune.burst_bytes, 9000);
	assert_int_equal(c.dev[3].tune.mbufs, 65536);
	assert_int_equal(c.dev[3].tune.port_rx_ring, 1024);

	/* --tune NAME=VALUE, repeatable: the last one for a NAME wins. */
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_tune("burst_frames=64", &d, &err), 0);
	assert_int_equal(d.tune.burst_frames, 64);
	assert_int_equal(cfg_parse_tune("burst_bytes=1024", &d, &err), 0);
	assert_int_equal(d.tune.burst_bytes, 1024);
	assert_int_equal(cfg_parse_tune("burst_frames=1", &d, &err), 0);
	assert_int_equal(d.tune.burst_frames, 1);
	assert_int_equal(d.tune.burst_bytes, 1024);
	assert_int_equal(cfg_parse_tune("port_rx_queues=1024", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_tx_queues=0", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_rx_ring=32768", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_tx_ring=64", &d, &err), 0);
	assert_int_equal(d.tune.port_rx_queues, 1024);
	assert_int_equal(d.tune.port_tx_queues, 0);
	assert_int_equal(d.tune.port_rx_ring, 32768);
	assert_int_equal(d.tune.port_tx_ring, 64);
	/* mbufs: 0 (automatic), or at least 1024 */
	assert_int_equal(cfg_parse_tune("mbufs=1024", &d, &err), 0);
	assert_int_equal(d.tune.mbufs, 1024);
	assert_int_equal(cfg_parse_tune("mbufs=0", &d, &err), 0);
	assert_int_equal(d.tune.mbufs, 0);
	assert_int_equal(cfg_parse_tune("mbufs=16777216", &d, &err), 0);
	assert_int_equal(d.tune.mbufs, 16777216);
	before = d;
	assert_cli_reject(cfg_parse_tune("mbufs=1000", &d, &err), &err, &d, &before,
			  "tuning.mbufs", FORM_MBUFS ", got \"1000\"");
	assert_cli_reject(cfg_parse_tune("mbufs=16777217", &d, &err), &err, &d, &before,
			  "tuning.mbufs", FORM_MBUFS);
	assert_cli_reject(cfg_parse_tune("burst_frames=0", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES ", got \"0\"");
	assert_cli_reject(cfg_parse_tune("burst_frames=65", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES ", got \"65\"");
	assert_cli_reject(cfg_parse_tune("burst_bytes=1023", &d, &err), &err, &d, &before,
			  "tuning.burst_bytes", FORM_BURST_BYTES);
	assert_cli_reject(cfg_parse_tune("port_rx_queues=1025", &d, &err), &err, &d, &before,
			  "tuning.port_rx_queues", FORM_PORT_QUEUES);
	assert_cli_reject(cfg_parse_tune("port_tx_ring=63", &d, &err), &err, &d, &before,
			  "tuning.port_tx_ring", FORM_PORT_RING);
	/* decimal digits only, and nothing after them */
	assert_cli_reject(cfg_parse_tune("burst_frames=", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_frames=-1", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_frames=+32", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_frames=0x20", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_frames=32 ", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_frames=32=64", &d, &err), &err, &d, &before,
			  "tuning.burst_frames", FORM_BURST_FRAMES);
	assert_cli_reject(cfg_parse_tune("burst_bytes=64k", &d, &err), &err, &d, &before,
			  "tuning.burst_bytes", FORM_BURST_BYTES ", got \"64k\"");
	assert_cli_reject(cfg_parse_tune("mbufs=99999999999999999999", &d, &err), &err, &d,
			  &before, "tuning.mbufs", FORM_MBUFS);
	/* names */
	assert_cli_reject(cfg_parse_tune("burst=64", &d, &err), &err, &d, &before,
			  "tuning.burst", "unknown key \"burst\": " FORM_TUNING_KEYS);
	assert_cli_reject(cfg_parse_tune("csum=0", &d, &err), &err, &d, &before,
			  "tuning.csum", "unknown key");
	assert_cli_reject(cfg_parse_tune("burst_frame=64", &d, &err), &err, &d, &before,
			  "tuning.burst_frame", "unknown key");
	assert_cli_reject(cfg_parse_tune("Burst_frames=64", &d, &err), &err, &d, &before,
			  "tuning.Burst_frames", "unknown key");
	/* no NAME= */
	assert_cli_reject(cfg_parse_tune("burst_frames", &d, &err), &err, &d, &before,
			  "tuning", FORM_TUNE ", got \"burst_frames\"");
	assert_cli_reject(cfg_parse_tune("=64", &d, &err), &err, &d, &before, "tuning",
			  FORM_TUNE);
	assert_cli_reject(cfg_parse_tune("", &d, &err), &err, &d, &before, "tuning", FORM_TUNE);
	assert_cli_reject(cfg_parse_tune(NULL, &d, &err), &err, &d, &before, "tuning", FORM_TUNE);

	/* The port_* values only on an ethdev port, checked after overrides:
	 * the default spelled out is fine anywhere. */
	cfg_device_defaults(&d, 0);
	assert_int_equal(cfg_parse_tune("port_rx_ring=1024", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_rx_queues=0", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("burst_frames=64", &d, &err), 0);
	assert_int_equal(cfg_parse_tune("mbufs=4096", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_rx_ring=4096", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "tuning.port_rx_ring");
	assert_string_equal(err.reason, "is only for an ethdev port (this device's port is "
			    "loopback)");
	assert_int_equal(cfg_parse_port("ethdev:net_null0", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), 0);
	assert_int_equal(cfg_parse_tune("port_tx_queues=2", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), 0);
	assert_int_equal(cfg_parse_port("device:vm1", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "tuning.port_tx_queues");
	cfg_test_reason_has(&err, FORM_ETHDEV_ONLY " (this device's port is device:vm1)");
	assert_int_equal(cfg_parse_tune("port_tx_queues=0", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), -1);
	assert_string_equal(err.path, "tuning.port_rx_ring");
	assert_int_equal(cfg_parse_tune("port_rx_ring=1024", &d, &err), 0);
	assert_int_equal(cfg_check_device(&d, &err), 0);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_defaults_minimal),
		cmocka_unit_test(test_steering_and_rss),
		cmocka_unit_test(test_default_names_by_index),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_null_required),
		cmocka_unit_test(test_cores_string_forms),
		cmocka_unit_test(test_cores_json_forms),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_embedded_default),
		cmocka_unit_test(test_load_file_ok),
		cmocka_unit_test(test_load_file_missing),
		cmocka_unit_test(test_load_file_directory),
		cmocka_unit_test(test_load_file_errors_name_file),
		cmocka_unit_test(test_load_string_name),
		cmocka_unit_test(test_parse_queue_pairs),
		cmocka_unit_test(test_parse_cores),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_parse_port_device),
		cmocka_unit_test(test_device_ports),
		cmocka_unit_test(test_parse_poll_mode),
		cmocka_unit_test(test_socket_owner),
		cmocka_unit_test(test_parse_log_level),
		cmocka_unit_test(test_set_socket),
		cmocka_unit_test(test_device_defaults),
		cmocka_unit_test(test_err_str),
		cmocka_unit_test(test_quoting_in_errors),
		cmocka_unit_test(test_mtu_and_offloads),
		cmocka_unit_test(test_tuning),
	};
	static char names[ARRAY_SIZE(null_cases)][64];
	struct CMUnitTest t[ARRAY_SIZE(fixed) + ARRAY_SIZE(null_cases)];
	size_t n = 0;

	cfg_test_hook_alloc();
	for (size_t k = 0; k < ARRAY_SIZE(fixed); k++)
		t[n++] = fixed[k];
	for (size_t k = 0; k < ARRAY_SIZE(null_cases); k++) {
		snprintf(names[k], sizeof(names[k]), "null %s is the default", null_cases[k].key);
		t[n++] = (struct CMUnitTest){ .name = names[k], .test_func = test_null_is_default,
					      .initial_state = (void *)&null_cases[k] };
	}
	return _cmocka_run_group_tests("cfg", t, n, NULL, NULL);
}
