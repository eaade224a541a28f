/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/config/test_cfg_hostile.c - one row per validation rule of the JSON
 * configuration. Each row breaks exactly that rule and asserts the exact JSON
 * path, that the reason states the expected form (and what was found), that
 * the file name is carried, and that the output struct is left untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "common/base.h"
#include "tests/config/cfg_test.h"

struct hostile {
	const char *name;
	const char *json;
	const char *path;
	const char *reason;              /* the expected form */
	const char *got;                 /* what was found; NULL: not checked */
};

/* One device with a valid socket plus the fields under test. */
#define DEV(extra) "{\"devices\": [{\"socket\": \"/s\"" extra "}]}"
#define TWO(a, b)  "{\"devices\": [{" a "}, {" b "}]}"

/* Rows too long to write out; filled by build_big() before the run. */
static char big_devices[4096], big_eal[2048], big_arg[512], big_name[256];
static char big_socket[512], big_port[512], big_cores[4096];

static const struct hostile cases[] = {
	/* Syntax and structure. */
	{ "syntax error gives line and column", "{\n  \"devices\": [\n    ,\n  ]\n}",
	  "", "invalid JSON at line 3, column 5", NULL },
	{ "truncated text", "{\"devices\": [", "", "invalid JSON at line 1", NULL },
	{ "empty text", "", "", "invalid JSON at line 1", NULL },
	{ "NUL escape in a string", DEV(", \"name\": \"a\\u0000b\""), "", "invalid JSON", NULL },
	/* Control bytes of the input never reach the message (fuzz_cfg found
	 * both: jansson's token text and an unknown key in the path). */
	{ "escape byte as a bare token", "{\"devices\": \x1b[2J}", "", "invalid JSON", NULL },
	{ "unknown key with an escape and a newline", DEV(", \"x\\u001b[2J\\n\": 1"),
	  "devices[0].x?[2J?", "unknown key", NULL },
	{ "integer too big for jansson", DEV(", \"idle_us\": 99999999999999999999"),
	  "", "invalid JSON", NULL },
	{ "top level is an array", "[]", "", "must be an object with a \"devices\" array",
	  "got an array" },
	{ "duplicate top-level key",
	  "{\"devices\": [{\"socket\": \"/a\"}], \"devices\": [{\"socket\": \"/b\"}]}",
	  "", "duplicate object key", NULL },
	{ "duplicate device key", "{\"devices\": [{\"socket\": \"/a\", \"socket\": \"/b\"}]}",
	  "", "duplicate object key", NULL },
	{ "unknown top-level key", "{\"devices\": [{\"socket\": \"/s\"}], \"log\": \"info\"}",
	  "log", "unknown key \"log\": must be one of log_level, eal_args, devices", NULL },
	{ "unknown device key", DEV(", \"queues\": 2"), "devices[0].queues",
	  "unknown key \"queues\": must be one of name, socket, socket_mode, queue_pairs,"
	  " port, cores, poll_mode, idle_us", NULL },
	{ "unknown key in the second device",
	  TWO("\"socket\": \"/a\"", "\"socket\": \"/b\", \"Name\": \"x\""),
	  "devices[1].Name", "unknown key \"Name\"", NULL },

	/* log_level */
	{ "log_level unknown word", "{\"log_level\": \"error\", \"devices\": [{\"socket\": \"/s\"}]}",
	  "log_level", FORM_LOG, "got \"error\"" },
	{ "log_level as an integer", "{\"log_level\": 2, \"devices\": [{\"socket\": \"/s\"}]}",
	  "log_level", FORM_LOG, "got 2" },

	/* eal_args */
	{ "eal_args not an array", "{\"eal_args\": \"-l 1\", \"devices\": [{\"socket\": \"/s\"}]}",
	  "eal_args", FORM_EAL, "got \"-l 1\"" },
	{ "eal_args over the limit", big_eal, "eal_args", FORM_EAL, "got 33" },
	{ "eal_args entry not a string",
	  "{\"eal_args\": [\"-m\", 512], \"devices\": [{\"socket\": \"/s\"}]}",
	  "eal_args[1]", FORM_ARG, "got 512" },
	{ "eal_args entry null", "{\"eal_args\": [null], \"devices\": [{\"socket\": \"/s\"}]}",
	  "eal_args[0]", FORM_ARG, "got null" },
	{ "eal_args entry empty", "{\"eal_args\": [\"\"], \"devices\": [{\"socket\": \"/s\"}]}",
	  "eal_args[0]", FORM_ARG, "got \"\"" },
	{ "eal_args entry 128 bytes", big_arg, "eal_args[0]", FORM_ARG, NULL },

	/* devices */
	{ "devices missing", "{}", "devices", "required: " FORM_DEVS, NULL },
	{ "devices missing with log_level", "{\"log_level\": \"info\"}", "devices",
	  "required: " FORM_DEVS, NULL },
	{ "devices null", "{\"devices\": null}", "devices", FORM_DEVS, "got null" },
	{ "devices an object", "{\"devices\": {\"socket\": \"/s\"}}", "devices", FORM_DEVS,
	  "got an object" },
	{ "devices empty", "{\"devices\": []}", "devices", FORM_DEVS, "got 0" },
	{ "devices over the limit", big_devices, "devices", FORM_DEVS, "got 65" },
	{ "device not an object", "{\"devices\": [\"/s\"]}", "devices[0]",
	  "must be an object", "got \"/s\"" },
	{ "second device null", "{\"devices\": [{\"socket\": \"/a\"}, null]}", "devices[1]",
	  "must be an object", "got null" },

	/* name */
	{ "name empty", DEV(", \"name\": \"\""), "devices[0].name", FORM_NAME, "got \"\"" },
	{ "name 32 characters", big_name, "devices[0].name", FORM_NAME, NULL },
	{ "name with a space", DEV(", \"name\": \"vm 1\""), "devices[0].name", FORM_NAME,
	  "got \"vm 1\"" },
	{ "name with a slash", DEV(", \"name\": \"a/b\""), "devices[0].name", FORM_NAME, NULL },
	{ "name with a colon", DEV(", \"name\": \"a:b\""), "devices[0].name", FORM_NAME, NULL },
	{ "name not ASCII", DEV(", \"name\": \"vm\\u00e9\""), "devices[0].name", FORM_NAME, NULL },
	{ "name an integer", DEV(", \"name\": 7"), "devices[0].name", FORM_NAME, "got 7" },
	{ "name repeated", TWO("\"socket\": \"/a\", \"name\": \"x\"",
			       "\"socket\": \"/b\", \"name\": \"x\""),
	  "devices[1].name", "must be unique", "got \"x\" again (devices[0])" },
	{ "name repeats a default name", TWO("\"socket\": \"/a\", \"name\": \"vm1\"",
					     "\"socket\": \"/b\""),
	  "devices[1].name", "must be unique", "got \"vm1\" again (devices[0])" },

	/* socket */
	{ "socket missing", "{\"devices\": [{\"name\": \"a\"}]}", "devices[0].socket",
	  "required: " FORM_SOCK, NULL },
	{ "socket missing in the second device", TWO("\"socket\": \"/a\"", "\"name\": \"b\""),
	  "devices[1].socket", "required: " FORM_SOCK, NULL },
	{ "socket null", "{\"devices\": [{\"socket\": null}]}", "devices[0].socket", FORM_SOCK,
	  "got null" },
	{ "socket relative", "{\"devices\": [{\"socket\": \"run/a.sock\"}]}", "devices[0].socket",
	  FORM_SOCK, "got \"run/a.sock\"" },
	{ "socket empty", "{\"devices\": [{\"socket\": \"\"}]}", "devices[0].socket", FORM_SOCK,
	  "got \"\"" },
	{ "socket 108 bytes", big_socket, "devices[0].socket", FORM_SOCK, "got 108 bytes" },
	{ "socket an integer", "{\"devices\": [{\"socket\": 1}]}", "devices[0].socket",
	  FORM_SOCK, "got 1" },
	{ "socket repeated", TWO("\"socket\": \"/a\"", "\"socket\": \"/a\""),
	  "devices[1].socket", "must be unique", "got \"/a\" again (devices[0])" },

	/* socket_mode */
	{ "socket_mode not octal", DEV(", \"socket_mode\": \"0680\""), "devices[0].socket_mode",
	  FORM_MODE, "got \"0680\"" },
	{ "socket_mode above 0777", DEV(", \"socket_mode\": \"01000\""),
	  "devices[0].socket_mode", FORM_MODE, "got \"01000\"" },
	{ "socket_mode with setuid", DEV(", \"socket_mode\": \"4755\""),
	  "devices[0].socket_mode", FORM_MODE, NULL },
	{ "socket_mode empty", DEV(", \"socket_mode\": \"\""), "devices[0].socket_mode",
	  FORM_MODE, NULL },
	{ "socket_mode with a prefix", DEV(", \"socket_mode\": \"0o660\""),
	  "devices[0].socket_mode", FORM_MODE, NULL },
	{ "socket_mode trailing junk", DEV(", \"socket_mode\": \"0660 \""),
	  "devices[0].socket_mode", FORM_MODE, NULL },
	{ "socket_mode as an integer", DEV(", \"socket_mode\": 432"), "devices[0].socket_mode",
	  FORM_MODE, "got 432" },
	{ "socket_mode long run of digits", DEV(", \"socket_mode\": \"77777777777777777777777\""),
	  "devices[0].socket_mode", FORM_MODE, NULL },

	/* socket_user and socket_group: names are looked up on this system */
	{ "socket_user unknown name", DEV(", \"socket_user\": \"no-such-user-vhostmq\""),
	  "devices[0].socket_user", FORM_USER, "got \"no-such-user-vhostmq\": no such user" },
	{ "socket_group unknown name", DEV(", \"socket_group\": \"no-such-group-vhostmq\""),
	  "devices[0].socket_group", FORM_GROUP,
	  "got \"no-such-group-vhostmq\": no such group" },
	{ "socket_user unknown in the second device",
	  TWO("\"socket\": \"/a\", \"socket_user\": \"nobody\"",
	      "\"socket\": \"/b\", \"socket_user\": \"nobody-vhostmq\""),
	  "devices[1].socket_user", FORM_USER, "no such user" },
	{ "socket_user empty", DEV(", \"socket_user\": \"\""), "devices[0].socket_user",
	  FORM_USER, "got \"\"" },
	{ "socket_user a boolean", DEV(", \"socket_user\": true"), "devices[0].socket_user",
	  FORM_USER, "got true" },
	{ "socket_user negative", DEV(", \"socket_user\": -1"), "devices[0].socket_user",
	  FORM_USER, "got -1" },
	{ "socket_user is chown's -1", DEV(", \"socket_user\": 4294967295"),
	  "devices[0].socket_user", FORM_USER, "got 4294967295" },
	{ "socket_user digits past uid_t", DEV(", \"socket_user\": \"99999999999\""),
	  "devices[0].socket_user", FORM_USER, "no such user" },
	{ "socket_user digits and junk", DEV(", \"socket_user\": \"12x\""),
	  "devices[0].socket_user", FORM_USER, "got \"12x\": no such user" },
	{ "socket_user a real", DEV(", \"socket_user\": 0.5"), "devices[0].socket_user",
	  FORM_USER, "got 0.5" },
	{ "socket_group an array", DEV(", \"socket_group\": [0]"), "devices[0].socket_group",
	  FORM_GROUP, "got an array" },
	{ "socket_group an object", DEV(", \"socket_group\": {}"), "devices[0].socket_group",
	  FORM_GROUP, "got an object" },
	{ "socket_group negative", DEV(", \"socket_group\": -5"), "devices[0].socket_group",
	  FORM_GROUP, "got -5" },
	{ "socket_user with client", DEV(", \"client\": true, \"socket_user\": \"nobody\""),
	  "devices[0].socket_user", FORM_LISTEN_ONLY, NULL },
	{ "socket_group with client", DEV(", \"socket_group\": 0, \"client\": true"),
	  "devices[0].socket_group", FORM_LISTEN_ONLY, NULL },
	{ "socket_mode with client", DEV(", \"socket_mode\": \"0600\", \"client\": true"),
	  "devices[0].socket_mode", FORM_LISTEN_ONLY, NULL },

	/* queue_pairs */
	{ "queue_pairs zero", DEV(", \"queue_pairs\": 0"), "devices[0].queue_pairs", FORM_QP,
	  "got 0" },
	{ "queue_pairs negative", DEV(", \"queue_pairs\": -1"), "devices[0].queue_pairs",
	  FORM_QP, "got -1" },
	{ "queue_pairs above virtio-net's 0x8000", DEV(", \"queue_pairs\": 32769"),
	  "devices[0].queue_pairs", FORM_QP, "got 32769" },
	{ "queue_pairs wraps uint16", DEV(", \"queue_pairs\": 65537"), "devices[0].queue_pairs",
	  FORM_QP, "got 65537" },
	{ "queue_pairs a real", DEV(", \"queue_pairs\": 2.0"), "devices[0].queue_pairs",
	  FORM_QP, "got 2" },
	{ "queue_pairs a string", DEV(", \"queue_pairs\": \"4\""), "devices[0].queue_pairs",
	  FORM_QP, "got \"4\"" },
	{ "queue_pairs a boolean", DEV(", \"queue_pairs\": true"), "devices[0].queue_pairs",
	  FORM_QP, "got true" },
	{ "queue_pairs in the second device",
	  TWO("\"socket\": \"/a\"", "\"socket\": \"/b\", \"queue_pairs\": 0"),
	  "devices[1].queue_pairs", FORM_QP, "got 0" },

	/* port */
	{ "port unknown kind", DEV(", \"port\": \"tap0\""), "devices[0].port", FORM_PORT,
	  "got \"tap0\"" },
	{ "port wrong case", DEV(", \"port\": \"Loopback\""), "devices[0].port", FORM_PORT, NULL },
	{ "port ethdev without devargs", DEV(", \"port\": \"ethdev:\""), "devices[0].port",
	  FORM_PORT " with non-empty devargs", "got \"ethdev:\"" },
	{ "port devargs 256 bytes", big_port, "devices[0].port",
	  FORM_PORT " with devargs shorter than 256 bytes", "got 256 bytes" },
	{ "port an object", DEV(", \"port\": {\"ethdev\": \"x\"}"), "devices[0].port", FORM_PORT,
	  "got an object" },
	{ "port device without a name", DEV(", \"port\": \"device:\""), "devices[0].port",
	  FORM_PORT " with <name> 1..31 characters from [A-Za-z0-9_.-]", "got \"device:\"" },
	{ "port device name with a slash", DEV(", \"port\": \"device:a/b\""), "devices[0].port",
	  FORM_PORT " with <name> 1..31 characters from [A-Za-z0-9_.-]", "got \"device:a/b\"" },
	/* device ports across devices: the one to fix is named */
	{ "port device not configured",
	  TWO("\"socket\": \"/a\", \"port\": \"device:vm9\"", "\"socket\": \"/b\""),
	  "devices[0].port", "device \"vm9\" is not configured", NULL },
	{ "port device names itself", DEV(", \"port\": \"device:vm0\""), "devices[0].port",
	  "device:vm0 names the device itself", NULL },
	{ "port device not wired back",
	  TWO("\"socket\": \"/a\", \"port\": \"device:vm1\"", "\"socket\": \"/b\""),
	  "devices[1].port", "vm0 is wired to vm1 (device:vm1) but vm1's port is loopback",
	  NULL },
	{ "port device wired back to another device",
	  "{\"devices\": [{\"socket\": \"/a\", \"port\": \"device:vm1\"},"
	  " {\"socket\": \"/b\", \"port\": \"device:vm0\"},"
	  " {\"socket\": \"/c\", \"port\": \"device:vm1\"}]}",
	  "devices[1].port", "vm2 is wired to vm1 (device:vm1) but vm1's port is device:vm0",
	  NULL },

	/* cores */
	{ "cores an integer", DEV(", \"cores\": 3"), "devices[0].cores", FORM_CORES, "got 3" },
	{ "cores an object", DEV(", \"cores\": {}"), "devices[0].cores", FORM_CORES,
	  "got an object" },
	{ "cores string empty item", DEV(", \"cores\": \"1,,2\""), "devices[0].cores",
	  FORM_CORES, "got \"1,,2\"" },
	{ "cores string trailing comma", DEV(", \"cores\": \"1,\""), "devices[0].cores",
	  FORM_CORES, NULL },
	{ "cores string with spaces", DEV(", \"cores\": \"1, 2\""), "devices[0].cores",
	  FORM_CORES, NULL },
	{ "cores string reversed range", DEV(", \"cores\": \"5-3\""), "devices[0].cores",
	  FORM_CORES, "got \"5-3\"" },
	{ "cores string open range", DEV(", \"cores\": \"3-\""), "devices[0].cores",
	  FORM_CORES, NULL },
	{ "cores string negative", DEV(", \"cores\": \"-1\""), "devices[0].cores", FORM_CORES,
	  NULL },
	{ "cores string core 1024", DEV(", \"cores\": \"1024\""), "devices[0].cores",
	  FORM_CORES, NULL },
	{ "cores string range past 1023", DEV(", \"cores\": \"1000-1100\""), "devices[0].cores",
	  FORM_CORES, NULL },
	{ "cores string repeated core", DEV(", \"cores\": \"1,3-5,4\""), "devices[0].cores",
	  "must list each core once", "got 4 twice" },
	{ "cores string overlapping ranges", DEV(", \"cores\": \"1-3,2-4\""),
	  "devices[0].cores", "must list each core once", "got 2 twice" },
	{ "cores string over the limit", DEV(", \"cores\": \"0-256\""), "devices[0].cores",
	  "must list at most 256 cores", NULL },
	{ "cores array negative", DEV(", \"cores\": [1, -1]"), "devices[0].cores[1]",
	  FORM_CORE, "got -1" },
	{ "cores array core 1024", DEV(", \"cores\": [1024]"), "devices[0].cores[0]",
	  FORM_CORE, "got 1024" },
	{ "cores array string entry", DEV(", \"cores\": [\"1\"]"), "devices[0].cores[0]",
	  FORM_CORE, "got \"1\"" },
	{ "cores array null entry", DEV(", \"cores\": [null]"), "devices[0].cores[0]",
	  FORM_CORE, "got null" },
	{ "cores array real entry", DEV(", \"cores\": [1.5]"), "devices[0].cores[0]",
	  FORM_CORE, "got 1.5" },
	{ "cores array repeated core", DEV(", \"cores\": [1, 2, 1]"), "devices[0].cores[2]",
	  "must list each core once", "got 1 twice" },
	{ "cores array over the limit", big_cores, "devices[0].cores",
	  "must list at most 256 cores", "got 257" },

	/* poll_mode */
	{ "poll_mode unknown word", DEV(", \"poll_mode\": \"spin\""), "devices[0].poll_mode",
	  FORM_POLL, "got \"spin\"" },
	{ "poll_mode a boolean", DEV(", \"poll_mode\": false"), "devices[0].poll_mode",
	  FORM_POLL, "got false" },

	/* idle_us */
	{ "idle_us negative", DEV(", \"idle_us\": -1"), "devices[0].idle_us", FORM_IDLE,
	  "got -1" },
	{ "idle_us above one second", DEV(", \"idle_us\": 1000001"), "devices[0].idle_us",
	  FORM_IDLE, "got 1000001" },
	{ "idle_us wraps uint32", DEV(", \"idle_us\": 4294967496"), "devices[0].idle_us",
	  FORM_IDLE, "got 4294967496" },
	{ "idle_us a string", DEV(", \"idle_us\": \"200\""), "devices[0].idle_us", FORM_IDLE,
	  "got \"200\"" },
	{ "idle_us an array", DEV(", \"idle_us\": [200]"), "devices[0].idle_us", FORM_IDLE,
	  "got an array" },

	/* mtu */
	{ "mtu below IPv4's 68", DEV(", \"mtu\": 10"), "devices[0].mtu", FORM_MTU, "got 10" },
	{ "mtu above a 64 KiB frame", DEV(", \"mtu\": 65522"), "devices[0].mtu", FORM_MTU,
	  "got 65522" },
	{ "mtu wraps uint16 to 1500", DEV(", \"mtu\": 67036"), "devices[0].mtu", FORM_MTU,
	  "got 67036" },
	{ "mtu a string", DEV(", \"mtu\": \"9000\""), "devices[0].mtu", FORM_MTU,
	  "got \"9000\"" },
	{ "mtu in the second device", TWO("\"socket\": \"/a\"", "\"socket\": \"/b\", \"mtu\": 0"),
	  "devices[1].mtu", FORM_MTU, "got 0" },

	/* offloads */
	{ "offloads not an object", DEV(", \"offloads\": false"), "devices[0].offloads",
	  FORM_OFFLOADS, "got false" },
	{ "offloads an array of names", DEV(", \"offloads\": [\"csum\"]"), "devices[0].offloads",
	  FORM_OFFLOADS, "got an array" },
	{ "offloads unknown key", DEV(", \"offloads\": {\"csum\": true, \"tso4\": false}"),
	  "devices[0].offloads.tso4", "unknown key \"tso4\": " FORM_OFFLOAD_KEYS, NULL },
	{ "offloads key in the wrong case", DEV(", \"offloads\": {\"CSUM\": false}"),
	  "devices[0].offloads.CSUM", "unknown key \"CSUM\": " FORM_OFFLOAD_KEYS, NULL },
	{ "offloads value a string", DEV(", \"offloads\": {\"csum\": \"off\"}"),
	  "devices[0].offloads.csum", FORM_BOOL, "got \"off\"" },
	{ "offloads value an integer", DEV(", \"offloads\": {\"guest_csum\": 0}"),
	  "devices[0].offloads.guest_csum", FORM_BOOL, "got 0" },
	/* jansson refuses a repeated key while reading, before any path exists:
	 * the message gives its line and column instead. */
	{ "offloads duplicate key",
	  DEV(", \"offloads\": {\"csum\": false, \"csum\": true}"),
	  "", "duplicate object key", NULL },
	{ "offloads in the second device",
	  TWO("\"socket\": \"/a\"", "\"socket\": \"/b\", \"offloads\": {\"gso\": true}"),
	  "devices[1].offloads.gso", "unknown key \"gso\"", NULL },

	/* tuning: each edge just outside its range, the types, the keys, and
	 * the port_* values on a port that has no queues or rings of its own. */
#define TUNE(kv) DEV(", \"tuning\": {" kv "}")
	{ "tuning not an object", DEV(", \"tuning\": 32"), "devices[0].tuning", FORM_TUNING,
	  "got 32" },
	{ "tuning an array", DEV(", \"tuning\": [\"burst_frames\", 64]"), "devices[0].tuning",
	  FORM_TUNING, "got an array" },
	{ "tuning unknown key", TUNE("\"burst_frames\": 64, \"burst\": 64"),
	  "devices[0].tuning.burst", "unknown key \"burst\": " FORM_TUNING_KEYS, NULL },
	{ "tuning key in the wrong case", TUNE("\"MBUFS\": 4096"), "devices[0].tuning.MBUFS",
	  "unknown key \"MBUFS\": " FORM_TUNING_KEYS, NULL },
	{ "tuning an offload name", TUNE("\"csum\": 1"), "devices[0].tuning.csum",
	  "unknown key \"csum\"", NULL },
	{ "tuning burst_frames 0", TUNE("\"burst_frames\": 0"), "devices[0].tuning.burst_frames",
	  FORM_BURST_FRAMES, "got 0" },
	{ "tuning burst_frames 65", TUNE("\"burst_frames\": 65"),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got 65" },
	{ "tuning burst_frames negative", TUNE("\"burst_frames\": -32"),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got -32" },
	{ "tuning burst_frames wraps uint32 to 32", TUNE("\"burst_frames\": 4294967328"),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got 4294967328" },
	{ "tuning burst_frames a string", TUNE("\"burst_frames\": \"64\""),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got \"64\"" },
	{ "tuning burst_frames a real", TUNE("\"burst_frames\": 32.5"),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got 32.5" },
	{ "tuning burst_frames true", TUNE("\"burst_frames\": true"),
	  "devices[0].tuning.burst_frames", FORM_BURST_FRAMES, "got true" },
	{ "tuning burst_bytes 1023", TUNE("\"burst_bytes\": 1023"),
	  "devices[0].tuning.burst_bytes", FORM_BURST_BYTES, "got 1023" },
	{ "tuning burst_bytes 16777217", TUNE("\"burst_bytes\": 16777217"),
	  "devices[0].tuning.burst_bytes", FORM_BURST_BYTES, "got 16777217" },
	{ "tuning port_rx_queues -1", TUNE("\"port_rx_queues\": -1"),
	  "devices[0].tuning.port_rx_queues", FORM_PORT_QUEUES, "got -1" },
	{ "tuning port_rx_queues 1025", TUNE("\"port_rx_queues\": 1025"),
	  "devices[0].tuning.port_rx_queues", FORM_PORT_QUEUES, "got 1025" },
	{ "tuning port_tx_queues -1", TUNE("\"port_tx_queues\": -1"),
	  "devices[0].tuning.port_tx_queues", FORM_PORT_QUEUES, "got -1" },
	{ "tuning port_tx_queues 1025", TUNE("\"port_tx_queues\": 1025"),
	  "devices[0].tuning.port_tx_queues", FORM_PORT_QUEUES, "got 1025" },
	{ "tuning port_rx_ring 63", TUNE("\"port_rx_ring\": 63"),
	  "devices[0].tuning.port_rx_ring", FORM_PORT_RING, "got 63" },
	{ "tuning port_rx_ring 32769", TUNE("\"port_rx_ring\": 32769"),
	  "devices[0].tuning.port_rx_ring", FORM_PORT_RING, "got 32769" },
	{ "tuning port_rx_ring 0 (no automatic)", TUNE("\"port_rx_ring\": 0"),
	  "devices[0].tuning.port_rx_ring", FORM_PORT_RING, "got 0" },
	{ "tuning port_tx_ring 63", TUNE("\"port_tx_ring\": 63"),
	  "devices[0].tuning.port_tx_ring", FORM_PORT_RING, "got 63" },
	{ "tuning port_tx_ring 32769", TUNE("\"port_tx_ring\": 32769"),
	  "devices[0].tuning.port_tx_ring", FORM_PORT_RING, "got 32769" },
	{ "tuning mbufs -1", TUNE("\"mbufs\": -1"), "devices[0].tuning.mbufs", FORM_MBUFS,
	  "got -1" },
	{ "tuning mbufs 1", TUNE("\"mbufs\": 1"), "devices[0].tuning.mbufs", FORM_MBUFS,
	  "got 1" },
	{ "tuning mbufs 1000", TUNE("\"mbufs\": 1000"), "devices[0].tuning.mbufs", FORM_MBUFS,
	  "got 1000" },
	{ "tuning mbufs 1023", TUNE("\"mbufs\": 1023"), "devices[0].tuning.mbufs", FORM_MBUFS,
	  "got 1023" },
	{ "tuning mbufs 16777217", TUNE("\"mbufs\": 16777217"), "devices[0].tuning.mbufs",
	  FORM_MBUFS, "got 16777217" },
	{ "tuning port_rx_queues on loopback", TUNE("\"port_rx_queues\": 2"),
	  "devices[0].tuning.port_rx_queues", FORM_ETHDEV_ONLY,
	  "(this device's port is loopback)" },
	{ "tuning port_tx_queues on loopback", TUNE("\"port_tx_queues\": 1"),
	  "devices[0].tuning.port_tx_queues", FORM_ETHDEV_ONLY,
	  "(this device's port is loopback)" },
	{ "tuning port_rx_ring on loopback", TUNE("\"port_rx_ring\": 4096"),
	  "devices[0].tuning.port_rx_ring", FORM_ETHDEV_ONLY,
	  "(this device's port is loopback)" },
	{ "tuning port_tx_ring on loopback", TUNE("\"port_tx_ring\": 64"),
	  "devices[0].tuning.port_tx_ring", FORM_ETHDEV_ONLY,
	  "(this device's port is loopback)" },
	{ "tuning port_rx_ring on a device port",
	  "{\"devices\": [{\"name\": \"a\", \"socket\": \"/a\", \"port\": \"device:b\"},"
	  " {\"name\": \"b\", \"socket\": \"/b\", \"port\": \"device:a\","
	  " \"tuning\": {\"port_rx_ring\": 2048}}]}",
	  "devices[1].tuning.port_rx_ring", FORM_ETHDEV_ONLY, "(this device's port is device:a)" },
	/* Only a bad key is reported, whatever else is good around it. */
	{ "tuning bad value after good ones",
	  DEV(", \"port\": \"ethdev:net_null0\", \"tuning\": {\"burst_frames\": 64,"
	      " \"port_rx_ring\": 4096, \"port_tx_ring\": 32770}"),
	  "devices[0].tuning.port_tx_ring", FORM_PORT_RING, "got 32770" },
	{ "tuning in the second device",
	  TWO("\"socket\": \"/a\"", "\"socket\": \"/b\", \"tuning\": {\"burst_bytes\": 0}"),
	  "devices[1].tuning.burst_bytes", FORM_BURST_BYTES, "got 0" },
#undef TUNE

	/* client */
	{ "client a string", DEV(", \"client\": \"yes\""), "devices[0].client",
	  "must be true or false", "got \"yes\"" },
	{ "client an integer", DEV(", \"client\": 1"), "devices[0].client",
	  "must be true or false", "got 1" },

	/* steering and RSS */
	{ "steering unknown word", DEV(", \"steering\": \"rps\""), "devices[0].steering",
	  "must be \"rss\" or \"flow-affinity\"", "got \"rps\"" },
	{ "steering an integer", DEV(", \"steering\": 1"), "devices[0].steering",
	  "must be \"rss\" or \"flow-affinity\"", NULL },
	{ "rss_key too short", DEV(", \"rss_key\": \"6d:5a\""), "devices[0].rss_key",
	  "must be 40 bytes as 80 hex digits", NULL },
	{ "rss_key not hex", DEV(", \"rss_key\": \"" "zz5a56da255b0ec24167253d43a38fb0d0ca2bcb"
	  "ae7b30b477cb2da38030f20c6a42b73bbeac01fa\""), "devices[0].rss_key",
	  "must be 40 bytes as 80 hex digits", NULL },
	{ "rss_key 41 bytes", DEV(", \"rss_key\": \"" "6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
	  "ae7b30b477cb2da38030f20c6a42b73bbeac01faff\""), "devices[0].rss_key",
	  "must be 40 bytes as 80 hex digits", NULL },
	{ "rss_key an array", DEV(", \"rss_key\": [109]"), "devices[0].rss_key",
	  "must be 40 bytes as 80 hex digits", NULL },
	/* The rules of rss_settings_check() are tested in full in
	 * tests/virtio/test_rss_settings.c; here one row each, for the path
	 * the config gives each of its refusals. */
	{ "rss_table_size 513", DEV(", \"rss_table_size\": 513"), "devices[0].rss_table_size",
	  "must be an integer 1..512", "got 513" },
	{ "rss_weights not an array", DEV(", \"rss_weights\": 1"), "devices[0].rss_weights",
	  "must be an array of at most 512 integers 0..65535", NULL },
	{ "rss_weights negative", DEV(", \"queue_pairs\": 2, \"rss_weights\": [1, -1]"),
	  "devices[0].rss_weights[1]", "must be an integer 0..65535", "got -1" },
	{ "rss_weights 65536", DEV(", \"queue_pairs\": 2, \"rss_weights\": [65536]"),
	  "devices[0].rss_weights[0]", "must be an integer 0..65535", "got 65536" },
	{ "rss_weights more than queue pairs", DEV(", \"queue_pairs\": 2, \"rss_weights\": [1, 1, 1]"),
	  "devices[0].rss_weights[2]", "queue pair 2 does not exist (the device has pairs 0..1)",
	  NULL },
	{ "rss_weights all 0", DEV(", \"queue_pairs\": 2, \"rss_weights\": [0, 0]"),
	  "devices[0].rss_weights", "are all 0: no queue would receive", NULL },
	{ "rss_table entry beyond the queue pairs", DEV(", \"queue_pairs\": 2, \"rss_table\": [0, 2]"),
	  "devices[0].rss_table[1]", "queue pair 2 does not exist (the device has pairs 0..1)",
	  NULL },
	{ "rss_table entry not an integer", DEV(", \"rss_table\": [0, \"1\"]"),
	  "devices[0].rss_table[1]", "must be a queue pair number", "got \"1\"" },
	{ "rss_table empty", DEV(", \"rss_table\": []"), "devices[0].rss_table",
	  "must be an array of 1..512 queue pair numbers", NULL },
	{ "rss_table with rss_weights", DEV(", \"queue_pairs\": 2, \"rss_weights\": [1, 1],"
	  " \"rss_table\": [0, 1]"), "devices[0].rss_table", "give either a table or weights, not both",
	  NULL },
	{ "rss_table length differs from rss_table_size",
	  DEV(", \"queue_pairs\": 2, \"rss_table_size\": 4, \"rss_table\": [0, 1]"),
	  "devices[0].rss_table_size", "is 4, but the table has 2 entries (leave the size out",
	  NULL },
};

static void
build_big(void)
{
	char s[300];
	int o;

	o = snprintf(big_devices, sizeof(big_devices), "{\"devices\": [");
	for (int k = 0; k <= CFG_MAX_DEVICES; k++)
		o += snprintf(big_devices + o, sizeof(big_devices) - (size_t)o,
			      "%s{\"socket\": \"/s%d\"}", k ? "," : "", k);
	snprintf(big_devices + o, sizeof(big_devices) - (size_t)o, "]}");

	o = snprintf(big_eal, sizeof(big_eal), "{\"eal_args\": [");
	for (int k = 0; k <= CFG_MAX_EAL_ARGS; k++)
		o += snprintf(big_eal + o, sizeof(big_eal) - (size_t)o, "%s\"-a%d\"", k ? "," : "", k);
	snprintf(big_eal + o, sizeof(big_eal) - (size_t)o, "], \"devices\": [{\"socket\": \"/s\"}]}");

	snprintf(big_arg, sizeof(big_arg), "{\"eal_args\": [\"%0128d\"],"
		 " \"devices\": [{\"socket\": \"/s\"}]}", 1);
	snprintf(big_name, sizeof(big_name), DEV(", \"name\": \"%032d\""), 1);

	memset(s, 'x', 108);
	s[0] = '/';
	s[108] = '\0';
	snprintf(big_socket, sizeof(big_socket), "{\"devices\": [{\"socket\": \"%s\"}]}", s);
	snprintf(big_port, sizeof(big_port), DEV(", \"port\": \"ethdev:%0256d\""), 1);

	o = snprintf(big_cores, sizeof(big_cores), DEV(", \"cores\": ["));
	o -= 3;                          /* reopen the array DEV() closed */
	for (int k = 0; k <= CFG_MAX_CORES; k++)
		o += snprintf(big_cores + o, sizeof(big_cores) - (size_t)o, "%s%d", k ? "," : "", k);
	snprintf(big_cores + o, sizeof(big_cores) - (size_t)o, "]}]}");
}

static void
test_hostile(void **state)
{
	const struct hostile *h = *state;

	cfg_test_reject(h->json, h->path, h->reason, h->got);
}

int
main(void)
{
	struct CMUnitTest t[ARRAY_SIZE(cases)];

	cfg_test_hook_alloc();
	build_big();
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++)
		t[k] = (struct CMUnitTest){ .name = cases[k].name, .test_func = test_hostile,
					    .initial_state = (void *)&cases[k] };
	return cmocka_run_group_tests_name("cfg_hostile", t, NULL, NULL);
}
