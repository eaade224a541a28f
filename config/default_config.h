/* SPDX-License-Identifier: BSD-3-Clause */
/* config/default_config.h - the built-in configuration, config/default.json
 * embedded at build time by config/embed.py, so that vhostmq runs with no
 * config file at all. It goes through cfg_load_string() like any other text,
 * so the defaults it documents are checked by the same rules. */
#ifndef VHOSTMQ_CONFIG_DEFAULT_CONFIG_H
#define VHOSTMQ_CONFIG_DEFAULT_CONFIG_H

extern const char cfg_default_json[];

#endif
