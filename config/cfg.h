/* SPDX-License-Identifier: BSD-3-Clause */
/* config/cfg.h - the JSON configuration: parsing, validation, defaults.
 * Parsing has no side effects: it fills plain structs or returns a cfg_err that
 * names the file, the JSON path of the field and what was expected. The same
 * field parsers serve the command-line overrides, so a flag and a config key
 * accept exactly the same values. */
#ifndef VHOSTMQ_CONFIG_CFG_H
#define VHOSTMQ_CONFIG_CFG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtio/rss_settings.h"
#include "virtio/vnet.h"

#define CFG_MAX_DEVICES 64
#define CFG_MAX_CORES   256          /* entries in one device's cores list */
#define CFG_MAX_EAL_ARGS 32

enum cfg_poll_mode { CFG_POLL_ADAPTIVE = 0, CFG_POLL_BUSY };
/* loopback: frames come back; ethdev: a DPDK port; device: another device of
 * this process (port_peer), which must name this one back. */
enum cfg_port_kind { CFG_PORT_LOOPBACK = 0, CFG_PORT_ETHDEV, CFG_PORT_DEVICE };
/* How frames from an ethdev or device port choose a guest RX queue (a
 * loopback port always answers on the pair a frame came from). */
enum cfg_steering { CFG_STEER_RSS = 0, CFG_STEER_FLOW_AFFINITY };

/* socket_uid/socket_gid not given: the socket keeps the process's ids.
 * (uid_t)-1 is what chown() takes for "unchanged", and no user can have it. */
#define CFG_ID_NONE UINT32_MAX

/* Offloads a device offers its guest, each on unless the config turns it
 * off (as ethtool -K would on a NIC). Bools only: each is a key of the
 * config's "offloads" object through its row in cfg.c's cfg_offload_keys
 * (key, field, default), which the build checks is there. */
struct cfg_offloads {
	bool csum;                       /* VIRTIO_NET_F_CSUM: guest TX partial checksums */
	bool guest_csum;                 /* VIRTIO_NET_F_GUEST_CSUM: verified-checksum flags on RX */
	bool host_tso4, host_tso6;       /* VIRTIO_NET_F_HOST_TSO4/6: guest TX TCP frames up
	                                    to 64 KiB, cut by vhostmq (need csum) */
	bool host_ecn;                   /* VIRTIO_NET_F_HOST_ECN: ... with ECN */
	bool guest_tso4, guest_tso6;     /* VIRTIO_NET_F_GUEST_TSO4/6: TCP segments from the
	                                    port merged into frames up to 64 KiB (need
	                                    guest_csum) */
	bool guest_ecn;                  /* VIRTIO_NET_F_GUEST_ECN: ... with ECN */
	bool packed;                     /* VIRTIO_F_RING_PACKED: packed rings (a ring
	                                    layout, not an offload, switched the same way) */
};

/* The MTU a device announces (VIRTIO_NET_F_MTU) and enforces; the limits are
 * the device model's (virtio/vnet.h), which vhost-user's NET_SET_MTU check
 * shares. */
#define CFG_MTU_MIN VNET_MTU_MIN
#define CFG_MTU_MAX VNET_MTU_MAX
#define CFG_MTU_DEFAULT 1500

/* Budgets and sizes of a device (its "tuning" object, --tune NAME=VALUE),
 * as netdev_budget and ethtool -G/-L tune a NIC. Numbers only: each is a
 * key through its row in cfg.c's cfg_tuning_keys (key, field, range,
 * default), which the build checks is there. 0 means "automatic" where a
 * field says so. */
struct cfg_tuning {
	uint32_t burst_frames;           /* frames per ring per visit, 1..CFG_BURST_MAX,
	                                    default 32 */
	uint32_t burst_bytes;            /* guest TX bytes per visit (a visit stops
	                                    after it), default 65536 */
	uint32_t port_rx_queues;         /* ethdev: port RX queues; 0: as many as
	                                    the device has pairs, or the driver's
	                                    maximum if lower */
	uint32_t port_tx_queues;         /* ethdev: port TX queues; 0: the same rule */
	uint32_t port_rx_ring;           /* ethdev: descriptors per RX queue, default 1024 */
	uint32_t port_tx_ring;           /* ethdev: descriptors per TX queue, default 1024 */
	uint32_t mbufs;                  /* the device's mbuf pool; 0: sized from
	                                    what its port and rings need */
};
/* Frames per visit: the burst arrays are this long. */
#define CFG_BURST_MAX 64

struct cfg_device {
	char name[32];                   /* default "vm<index>" */
	char socket[108];                /* sun_path; required */
	uint32_t socket_mode;            /* default 0660 (server sockets) */
	bool socket_mode_set;            /* given: an error in client mode */
	uint32_t socket_uid;             /* CFG_ID_NONE (default): the process's */
	uint32_t socket_gid;             /* CFG_ID_NONE (default): the process's */
	bool client;                     /* connect to socket (a QEMU server) and
	                                    reconnect, instead of listening */
	uint16_t queue_pairs;            /* 1..VHOSTMQ_MAX_QP, default 1 */
	enum cfg_port_kind port_kind;    /* default loopback */
	char port_devargs[256];          /* ethdev only: DPDK devargs */
	char port_peer[32];              /* device only: the peer device's name */
	uint16_t n_cores;                /* 0: the backend picks */
	uint16_t cores[CFG_MAX_CORES];
	enum cfg_poll_mode poll_mode;    /* default adaptive */
	uint32_t idle_us;                /* adaptive: idle time before sleeping, default 200 */
	enum cfg_steering steering;      /* default rss */
	uint16_t mtu;                    /* CFG_MTU_MIN..CFG_MTU_MAX, default 1500 */
	struct cfg_offloads offload;     /* default: all on */
	struct cfg_tuning tune;          /* default: cfg_tuning_keys' */
	/* rss_key, rss_table_size, rss_weights, rss_table; default
	 * rss_settings_default(); always passes rss_settings_check() for
	 * queue_pairs. */
	struct rss_settings rss;
};

struct cfg {
	int log_level;                   /* enum vlog_level, default VLOG_INFO */
	uint16_t n_eal_args;             /* extra EAL arguments, default none */
	char eal_args[CFG_MAX_EAL_ARGS][128];
	uint16_t n_devices;
	struct cfg_device dev[CFG_MAX_DEVICES];
};

struct cfg_err {
	char file[256];                  /* "" for command-line values */
	char path[128];                  /* JSON path, e.g. "devices[0].queue_pairs" */
	char reason[256];
};

/* Parses and validates a whole configuration. 0 or -1 with err filled. */
int cfg_load_file(const char *file, struct cfg *out, struct cfg_err *err);
int cfg_load_string(const char *text, const char *name, struct cfg *out, struct cfg_err *err);

/* Field parsers shared with the command line. 0 or -1 with err->path/reason. */
int cfg_parse_port(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_cores(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_queue_pairs(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_poll_mode(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_log_level(const char *s, int *level, struct cfg_err *err);
int cfg_set_socket(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_steering(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_socket_mode(const char *s, struct cfg_device *d, struct cfg_err *err);
/* CFG_MTU_MIN..CFG_MTU_MAX in decimal digits. */
int cfg_parse_mtu(const char *s, struct cfg_device *d, struct cfg_err *err);
/* One offload switch, "NAME=on" or "NAME=off" with NAME a key of the config's
 * "offloads" object (err->path "offloads.NAME", or "offloads" when there is
 * no NAME=); later calls override earlier ones. */
int cfg_parse_offload(const char *s, struct cfg_device *d, struct cfg_err *err);
/* One tuning value, "NAME=VALUE" with NAME a key of the config's "tuning"
 * object and VALUE decimal digits in that key's range (err->path
 * "tuning.NAME", or "tuning" when there is no NAME=); later calls override
 * earlier ones. Whether the port may have it is cfg_check_device()'s rule. */
int cfg_parse_tune(const char *s, struct cfg_device *d, struct cfg_err *err);
/* A user or group name, or a numeric id; names are looked up in the
 * system's databases (getpwnam_r/getgrnam_r: /etc/passwd, NSS) now, so an
 * unknown name is a config error rather than a failure at start-up. */
int cfg_parse_socket_user(const char *s, struct cfg_device *d, struct cfg_err *err);
int cfg_parse_socket_group(const char *s, struct cfg_device *d, struct cfg_err *err);
/* Rules across a device's fields that command-line overrides can break
 * (socket_user, socket_group and socket_mode only for a listening socket;
 * tuning's port_* values other than their defaults only for an ethdev port;
 * the RSS settings, by rss_settings_check(), against queue_pairs); the file
 * parser applies them too. 0 or -1 with err. */
int cfg_check_device(const struct cfg_device *d, struct cfg_err *err);
/* Rules across devices: each "device:<name>" port names another configured
 * device whose port names it back (devices[i].port of the one to fix). The
 * file parser applies them; the command line's overrides must too. 0 or -1
 * with err. */
int cfg_check_ports(const struct cfg *c, struct cfg_err *err);
/* 40 bytes as 80 hex digits, optionally separated by ':' (ethtool's form). */
int cfg_parse_rss_key(const char *s, uint8_t key[RSS_KEY_LEN], struct cfg_err *err);

/* Fills a device with every default (socket left empty). */
void cfg_device_defaults(struct cfg_device *d, unsigned index);

/* Error text may quote hostile input (a key, jansson's view of a bad
 * token): control characters in s become '?', so a message can neither
 * break a log line nor carry terminal escapes. */
void cfg_scrub(char *s);

/* What a JSON value was, for the "got ..." half of a message: strings quoted,
 * escaped (a hostile value cannot forge a log line or a terminal sequence)
 * and cut to fit; buf or a literal. Shared with the control API. */
struct json_t;
const char *cfg_got(const struct json_t *v, char *buf, size_t len);

/* "FILE: PATH: REASON" (parts omitted when empty) into buf. */
const char *cfg_err_str(const struct cfg_err *err, char *buf, unsigned len);

#endif
