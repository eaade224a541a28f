/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/config/cfg_test.h - helpers shared by the config tests: a jansson
 * allocator that goes through cmocka's leak-checked test_malloc (config/ takes
 * its own scratch memory from jansson's allocator too, so every allocation is
 * covered), and the one assertion every rejection test makes: -1, the exact
 * file and path, a reason naming the expected form, and an output left as it
 * was. Include after <cmocka.h>. */
#ifndef VHOSTMQ_TESTS_CONFIG_CFG_TEST_H
#define VHOSTMQ_TESTS_CONFIG_CFG_TEST_H
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "config/cfg.h"
#include "vhostmq_conf.h"

#define CFG_TEST_STR1(x) #x
#define CFG_TEST_STR(x)  CFG_TEST_STR1(x)

/* The expected-form phrases, spelled out again here rather than shared with
 * cfg.c, so a change to the wording is a visible change to the tests. */
#define FORM_LOG   "must be one of \"err\", \"warn\", \"info\", \"debug\""
#define FORM_EAL   "must be an array of at most 32 strings"
#define FORM_ARG   "must be a non-empty string shorter than 128 bytes"
#define FORM_DEVS  "must be an array of 1..64 device objects"
#define FORM_NAME  "must be 1..31 characters from [A-Za-z0-9_.-]"
#define FORM_SOCK  "must be an absolute path shorter than 108 bytes"
#define FORM_MODE  "must be a string of octal digits like \"0660\", at most 0777"
#define FORM_QP    "must be an integer 1.." CFG_TEST_STR(VHOSTMQ_MAX_QP)
#define FORM_PORT  "must be \"loopback\", \"ethdev:<devargs>\" or \"device:<name>\""
#define FORM_CORES "must be core numbers 0..1023 as an array or a string like \"1,3-5\""
#define FORM_CORE  "must be an integer 0..1023"
#define FORM_POLL  "must be \"adaptive\" or \"busy\""
#define FORM_IDLE  "must be an integer 0..1000000"
#define FORM_USER  "must be a user name, or a uid 0..4294967294 as an integer or digits"
#define FORM_GROUP "must be a group name, or a gid 0..4294967294 as an integer or digits"
#define FORM_MTU   "must be an integer 68..65521"
#define FORM_OFFLOADS "must be an object of offload names, each true or false"
#define FORM_OFFLOAD_KEYS "must be one of csum, guest_csum, host_tso4, host_tso6, host_ecn"
#define FORM_BOOL  "must be true or false"
#define FORM_TUNING "must be an object of tuning names, each an integer"
#define FORM_TUNING_KEYS "must be one of burst_frames, burst_bytes, port_rx_queues," \
	" port_tx_queues, port_rx_ring, port_tx_ring, mbufs"
#define FORM_TUNE  "must be NAME=VALUE with VALUE in decimal digits"
#define FORM_BURST_FRAMES "must be an integer 1..64"
#define FORM_BURST_BYTES "must be an integer 1024..16777216"
#define FORM_PORT_QUEUES "must be an integer 0..1024 (0: automatic)"
#define FORM_PORT_RING "must be an integer 64..32768"
#define FORM_MBUFS "must be 0 (automatic) or an integer 1024..16777216"
#define FORM_ETHDEV_ONLY "is only for an ethdev port"
#define FORM_LISTEN_ONLY "is only for a listening socket"

static inline void *
cfg_test_malloc(size_t n)
{
	return _test_malloc(n, __FILE__, __LINE__);
}

static inline void
cfg_test_free(void *p)
{
	_test_free(p, __FILE__, __LINE__);
}

/* Must run before the first jansson call of the process. */
static inline void
cfg_test_hook_alloc(void)
{
	json_set_alloc_funcs(cfg_test_malloc, cfg_test_free);
}

static inline void
cfg_test_reason_has(const struct cfg_err *err, const char *part)
{
	if (strstr(err->reason, part) == NULL)
		fail_msg("reason \"%s\" does not contain \"%s\"", err->reason, part);
}

/* text must be rejected at path, with a reason containing reason_part (and
 * got_part too, when not NULL), and must leave the output untouched. */
static inline void
cfg_test_reject(const char *text, const char *path, const char *reason_part,
		const char *got_part)
{
	static struct cfg out, before;
	struct cfg_err err;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&before, &out, sizeof(out));
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(cfg_load_string(text, "t.json", &out, &err), -1);
	assert_string_equal(err.file, "t.json");
	assert_string_equal(err.path, path);
	cfg_test_reason_has(&err, reason_part);
	if (got_part != NULL)
		cfg_test_reason_has(&err, got_part);
	/* Whatever the input held, the message is printable text. */
	for (const char *c = err.path; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	for (const char *c = err.reason; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	assert_memory_equal(&out, &before, sizeof(out));
}

#endif
