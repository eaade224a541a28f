/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/dist/test_example_config.c - the example config that `meson install`
 * ships (dist/vhostmq.json.example, the one README: Running as a service
 * copies to /etc/vhostmq/vhostmq.json) loads through the same code as any
 * config, and describes what the README's libvirt domain expects: device
 * vm0 listening on /run/vhostmq/vm0.sock (the unit's RuntimeDirectory) with
 * 4 queue pairs, group kvm, mode 0660. Skipped where there is no group kvm
 * (the config would be refused there, naming socket_group). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <grp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "config/cfg.h"

static const char *example;              /* argv[1] */

static void
test_example_loads(void **state)
{
	struct cfg *c = calloc(1, sizeof(*c));
	struct cfg_err err = { 0 };
	const struct group *kvm = getgrnam("kvm");

	(void)state;
	assert_non_null(c);
	if (kvm == NULL) {
		free(c);
		skip();
	}
	if (cfg_load_file(example, c, &err) != 0)
		fail_msg("%s: %s: %s", err.file, err.path, err.reason);
	assert_int_equal(c->n_devices, 1);
	assert_string_equal(c->dev[0].name, "vm0");
	assert_string_equal(c->dev[0].socket, "/run/vhostmq/vm0.sock");
	assert_false(c->dev[0].client);
	assert_int_equal(c->dev[0].queue_pairs, 4);
	assert_int_equal(c->dev[0].socket_gid, kvm->gr_gid);
	assert_int_equal(c->dev[0].socket_mode, 0660);
	free(c);
}

int
main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
	};

	if (argc != 2)
		return 2;
	example = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
