/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/ctl.c - the control socket that vhostmqctl talks to. Each
 * connection carries one JSON request line and gets one JSON reply line, then
 * closes. Commands read state (stats, queues, rss-show, rss-hash) or change it
 * through the backend's control API (rss-set-key, rss-set-table, move). All of
 * it runs on the control thread, so commands are ordered with vhost-user
 * events and need no lock; counters are read with pmd_stat_read().
 * Security model: whoever can connect (the socket is 0660, like the devices'
 * sockets, so its owner and group) may read counters and change steering and
 * pinning. Requests are hostile all the same: at most BE_CTL_MAX_REQUEST
 * bytes, read within CTL_DEADLINE_MS so a slow or stuck client holds the
 * control thread (which also serves every frontend) no longer than that,
 * parsed with duplicate keys rejected and unpacked with JSON_STRICT, and every
 * value type-checked here; RSS settings then pass rss_settings_check(), the
 * gate the config file's settings pass too, before be_set_rss(), and
 * be_move_qp() checks a core against the process. Errors name the request
 * field: {"error": {"path": ..., "reason": ...}}. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include "backend/ctl.h"
#include "vhost-user/sock.h"
#include "common/log.h"

/* Time a client has to send its request, and again to take the reply. The
 * control thread also serves the vhost-user sockets, whose frontends (QEMU)
 * wait for replies: a stuck client may cost them this much. A local tool
 * writes a request in microseconds; 200 ms still absorbs a loaded machine. */
#define CTL_DEADLINE_MS 200

/* Keys one command accepts, "cmd" first. */
#define CTL_MAX_KEYS 7

struct be_ctl {
	struct be *be;
	int fd;
	char path[108];                  /* sun_path */
	char buf[BE_CTL_MAX_REQUEST];    /* the request being read */
};

struct ctl_err {
	char path[64];
	char reason[320];
};

struct ctl_req;

struct ctl_cmd {
	const char *name;
	const char *keys[CTL_MAX_KEYS];  /* keys[0] is "cmd"; NULL ends the list */
	json_t *(*fn)(struct ctl_req *r);
	bool changes;                    /* logged at info level */
};

struct ctl_req {
	struct be *be;
	const struct ctl_cmd *cmd;
	json_t *arg[CTL_MAX_KEYS];       /* by the command's key index; NULL:
	                                    absent or null (the default) */
	struct be_dev *dev;              /* the device acted on, for the log */
	struct ctl_err err;
};

static int ctl_fail(struct ctl_err *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
ctl_fail(struct ctl_err *e, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->path, sizeof(e->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	cfg_scrub(e->path);
	cfg_scrub(e->reason);
	return -1;
}


/* Index of key in the command's keys, or -1. */
static int
ctl_key_index(const struct ctl_cmd *c, const char *key)
{
	for (int k = 0; k < CTL_MAX_KEYS && c->keys[k] != NULL; k++)
		if (strcmp(c->keys[k], key) == 0)
			return k;
	return -1;
}

/* The request's value for key; NULL when absent or null. */
static json_t *
ctl_arg(const struct ctl_req *r, const char *key)
{
	int k = ctl_key_index(r->cmd, key);

	return k < 0 ? NULL : r->arg[k];
}

/* An integer lo..hi. 1 if given, 0 if absent (out untouched), -1 on error. */
static int
ctl_int(struct ctl_req *r, const char *key, json_int_t lo, json_int_t hi, json_int_t *out)
{
	json_t *v = ctl_arg(r, key);
	char got[48];

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return ctl_fail(&r->err, key, "must be an integer %" JSON_INTEGER_FORMAT "..%"
		                JSON_INTEGER_FORMAT ", got %s", lo, hi, cfg_got(v, got, sizeof(got)));
	*out = json_integer_value(v);
	return 1;
}

/* A string. 1 if given, 0 if absent, -1 on error. */
static int
ctl_str(struct ctl_req *r, const char *key, const char *form, const char **out)
{
	json_t *v = ctl_arg(r, key);
	char got[48];

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return ctl_fail(&r->err, key, "must be %s, got %s", form,
		                cfg_got(v, got, sizeof(got)));
	*out = json_string_value(v);
	return 1;
}

static const char *
ctl_dev_list(const struct be *be, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < be->ndev && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", be->dev[i].cfg.name);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	return buf;
}

/* The device named by "device", or the only one. With all_ok, an absent
 * "device" means every device (*out NULL). */
static int
ctl_device(struct ctl_req *r, bool all_ok, struct be_dev **out)
{
	const char *name;
	char list[256], got[48];
	int rc;

	*out = NULL;
	if ((rc = ctl_str(r, "device", "a device name", &name)) < 0)
		return -1;
	if (rc == 0) {
		if (all_ok)
			return 0;
		if (r->be->ndev != 1)
			return ctl_fail(&r->err, "device", "required, this vhostmq has %u devices: %s",
			                r->be->ndev, ctl_dev_list(r->be, list, sizeof(list)));
		*out = &r->be->dev[0];
	} else if ((*out = be_dev_by_name(r->be, name)) == NULL) {
		return ctl_fail(&r->err, "device", "no device named %s (devices: %s)",
		                cfg_got(ctl_arg(r, "device"), got, sizeof(got)),
		                ctl_dev_list(r->be, list, sizeof(list)));
	}
	r->dev = *out;
	return 0;
}

static const char *
ctl_port(const struct be_dev *d, char *buf, size_t len)
{
	if (d->cfg.port_kind == CFG_PORT_ETHDEV)
		snprintf(buf, len, "ethdev:%s", d->cfg.port_devargs);
	else if (d->cfg.port_kind == CFG_PORT_DEVICE)
		snprintf(buf, len, "device:%s", d->cfg.port_peer);
	else
		snprintf(buf, len, "%s", d->port->kind);
	return buf;
}

/* One device's pairs: core and ring state, with every counter if counters.
 * With counters also the device's mbufs in use: what its rings, port queues
 * and held frames pin right now (a detached device must come back to its
 * idle value, or something leaks). Mbufs in the poll threads' per-lcore
 * caches count as free. */
/* The port RX queues pair qp's thread reads (pmd_qp.port_rxq: r = qp,
 * qp + pairs, ...). */
static json_t *
ctl_port_rxqs(const struct be_dev *d, uint16_t qp)
{
	json_t *a = json_array();

	for (uint32_t r = qp; a != NULL && r < d->port->nrxq; r += d->cfg.queue_pairs)
		if (json_array_append_new(a, json_integer(r)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
ctl_dev_pairs(const struct be_dev *d, bool counters)
{
	json_t *qps = json_array(), *dev;
	char port[300];

	for (uint16_t qp = 0; qps != NULL && qp < d->cfg.queue_pairs; qp++) {
		const struct pmd_qstats *s = &d->qp[qp].st.stats;
		bool rx = be_ring_running(d, qp, VNET_RX), tx = be_ring_running(d, qp, VNET_TX);
		json_t *q = json_pack("{s:i, s:i, s:b, s:b, s:o, s:i, s:b}", "qp", qp,
		                      "core", (int)pmd_core(d->qp[qp].pmd),
		                      counters ? "rx_enabled" : "rx_running", rx,
		                      counters ? "tx_enabled" : "tx_running", tx,
		                      "port_rx_queues", ctl_port_rxqs(d, qp),
		                      "port_tx_queue", d->qp[qp].txq,
		                      "port_tx_shared", d->qp[qp].txq_shared);

		for (size_t k = 0; q != NULL && counters && k < pmd_qstat_nfields; k++) {
			const uint64_t *c = (const uint64_t *)((const char *)s + pmd_qstat_fields[k].off);

			json_object_set_new(q, pmd_qstat_fields[k].name,
			                    json_integer((json_int_t)pmd_stat_read(c)));
		}
		if (q == NULL || json_array_append_new(qps, q) != 0) {
			json_decref(qps);
			qps = NULL;
		}
	}
	dev = json_pack("{s:s, s:s, s:b, s:i, s:i, s:o}", "name", d->cfg.name,
	                "port", ctl_port(d, port, sizeof(port)), "frontend", d->conn != NULL,
	                "port_rx_queues", d->port->nrxq, "port_tx_queues", d->port->ntxq,
	                "queue_pairs", qps);
	if (dev != NULL && counters &&
	    json_object_set_new(dev, "mbufs_in_use",
	                        json_integer((json_int_t)rte_mempool_in_use_count(d->pool))) != 0) {
		json_decref(dev);
		dev = NULL;
	}
	return dev;
}

static json_t *
ctl_devs_pairs(struct ctl_req *r, bool counters)
{
	struct be_dev *only;
	json_t *devs;

	if (ctl_device(r, true, &only) < 0)
		return NULL;
	devs = json_array();
	for (unsigned i = 0; devs != NULL && i < r->be->ndev; i++) {
		if (only != NULL && only != &r->be->dev[i])
			continue;
		if (json_array_append_new(devs, ctl_dev_pairs(&r->be->dev[i], counters)) != 0) {
			json_decref(devs);
			devs = NULL;
		}
	}
	return json_pack("{s:o}", "devices", devs);
}

/* Every device's counters, and what control-plane changes have cost the poll
 * threads so far (plans swapped in, grace periods waited for). */
static json_t *
ctl_stats(struct ctl_req *r)
{
	json_t *j = ctl_devs_pairs(r, true);
	struct pmd_rcu_counts c = pmd_rcu_counts();

	if (j != NULL &&
	    json_object_set_new(j, "rcu", json_pack("{s:I, s:I}",
	                                             "publishes", (json_int_t)c.publishes,
	                                             "grace_periods",
	                                             (json_int_t)c.grace_periods)) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static json_t *
ctl_queues(struct ctl_req *r)
{
	return ctl_devs_pairs(r, false);
}

static json_t *
ctl_u16_array(const uint16_t *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The pairs whose RX ring steering fills: what the snapshot was built over
 * (loopback: the running RX rings). */
static json_t *
ctl_enabled(const struct be_dev *d)
{
	json_t *a = json_array();

	for (uint16_t qp = 0; a != NULL && qp < d->cfg.queue_pairs; qp++) {
		bool on = d->steer != NULL ? d->steer->snap->rx_enabled[qp]
		                           : be_ring_running(d, qp, VNET_RX);

		if (on && json_array_append_new(a, json_integer(qp)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The table the current settings give once the guest enables every pair:
 * what "rss show" can show before a frontend connects. null if the settings
 * cannot fill it (they were accepted, so only for all-zero weights). */
static json_t *
ctl_table_all_enabled(const struct be_dev *d)
{
	uint16_t nq = d->cfg.queue_pairs;
	bool *all = malloc(nq * sizeof(*all));
	struct pmd_rss *rss = malloc(sizeof(*rss));
	json_t *a = NULL;
	char why[200];

	if (all != NULL && rss != NULL) {
		for (uint16_t qp = 0; qp < nq; qp++)
			all[qp] = true;
		if (pmd_rss_build(rss, &d->steer->cfg, all, nq, why, sizeof(why)) == 0)
			a = ctl_u16_array(rss->reta, rss->reta_size);
		else
			a = json_null();
	}
	free(all);
	free(rss);
	return a;
}

static json_t *
ctl_rss_json(const struct be_dev *d)
{
	const struct pmd_rss *rss;
	char key[3 * RSS_KEY_LEN];

	if (d->steer == NULL)
		return json_pack("{s:s, s:s, s:i, s:o}", "device", d->cfg.name, "mode", "pair",
		                 "queue_pairs", d->cfg.queue_pairs, "enabled", ctl_enabled(d));
	rss = &d->steer->snap->rss;
	for (unsigned i = 0; i < RSS_KEY_LEN; i++)
		snprintf(key + 3 * i, sizeof(key) - 3 * i, "%02x%s", rss->key[i],
		         i + 1 < RSS_KEY_LEN ? ":" : "");
	return json_pack("{s:s, s:s, s:i, s:o, s:i, s:s, s:i, s:o, s:o, s:o, s:o}",
	                 "device", d->cfg.name,
	                 "mode", d->steer->snap->mode == PMD_STEER_FLOW_AFFINITY ? "flow-affinity"
	                                                                   : "rss",
	                 "queue_pairs", d->cfg.queue_pairs,
	                 "enabled", ctl_enabled(d),
	                 "n_enabled", rss->n_enabled,
	                 "key", key,
	                 "reta_size", rss->reta_size,
	                 "weights", ctl_u16_array(d->steer->cfg.weights, d->steer->cfg.n_weights),
	                 "configured_table", ctl_u16_array(d->steer->cfg.table, d->steer->cfg.n_table),
	                 "table", ctl_u16_array(rss->reta, rss->reta_size),
	                 "table_all_enabled", ctl_table_all_enabled(d));
}

/* The device's steering, or an error naming "device" for a loopback one. */
static int
ctl_steering_dev(struct ctl_req *r, struct be_dev **out)
{
	if (ctl_device(r, false, out) < 0)
		return -1;
	if ((*out)->steer == NULL)
		return ctl_fail(&r->err, "device", "%s has a %s port, which does no RSS: each "
		                "frame goes back to the queue pair it came from",
		                (*out)->cfg.name, (*out)->port->kind);
	return 0;
}

static json_t *
ctl_rss_show(struct ctl_req *r)
{
	struct be_dev *d;

	if (ctl_device(r, false, &d) < 0)
		return NULL;
	return ctl_rss_json(d);
}

/* New settings through the one gate of RSS settings, whose refusal names
 * the field as data: here in the request's words. */
static json_t *
ctl_rss_apply(struct ctl_req *r, struct be_dev *d, const struct rss_settings *cfg)
{
	static const char *const keys[] = {
		[RSS_FIELD_TABLE_SIZE] = "size", [RSS_FIELD_WEIGHTS] = "weights",
		[RSS_FIELD_TABLE] = "table",
	};
	struct rss_settings_err e;
	char why[256] = "", path[32];

	if (rss_settings_check(cfg, d->cfg.queue_pairs, &e) != 0) {
		const char *key = (size_t)e.field < ARRAY_SIZE(keys) ? keys[e.field] : "table";

		if (e.entry >= 0)
			snprintf(path, sizeof(path), "%s[%d]", key, (int)e.entry);
		else
			snprintf(path, sizeof(path), "%s", key);
		ctl_fail(&r->err, path, "%s", e.reason);
		return NULL;
	}
	if (be_set_rss(d, cfg, why, sizeof(why)) != 0) {
		ctl_fail(&r->err, "device", "%s", why[0] ? why : "refused");  /* out of memory */
		return NULL;
	}
	return ctl_rss_json(d);
}

static json_t *
ctl_rss_set_key(struct ctl_req *r)
{
	struct rss_settings cfg;
	struct cfg_err ce;
	struct be_dev *d;
	const char *s;
	int rc;

	if (ctl_steering_dev(r, &d) < 0 ||
	    (rc = ctl_str(r, "key", "40 bytes as hex: 6d:5a:56:... or 80 hex digits", &s)) < 0)
		return NULL;
	if (rc == 0) {
		ctl_fail(&r->err, "key", "required: 40 bytes as hex, 6d:5a:56:... or 80 hex digits");
		return NULL;
	}
	cfg = d->steer->cfg;
	if (cfg_parse_rss_key(s, cfg.key, &ce) != 0) {
		ctl_fail(&r->err, "key", "%s", ce.reason);
		return NULL;
	}
	return ctl_rss_apply(r, d, &cfg);
}

/* An array of 1..RSS_TABLE_MAX integers 0..hi into v. */
static int
ctl_u16_list(struct ctl_req *r, const char *key, json_int_t hi, uint16_t *v, uint16_t *n)
{
	json_t *a = ctl_arg(r, key), *x;
	char path[32], got[48];
	size_t i;

	if (!json_is_array(a))
		return ctl_fail(&r->err, key, "must be an array of integers, got %s",
		                cfg_got(a, got, sizeof(got)));
	if (json_array_size(a) < 1 || json_array_size(a) > RSS_TABLE_MAX)
		return ctl_fail(&r->err, key, "must have 1..%u entries, got %zu", RSS_TABLE_MAX,
		                json_array_size(a));
	json_array_foreach(a, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > hi) {
			snprintf(path, sizeof(path), "%s[%zu]", key, i);
			return ctl_fail(&r->err, path, "must be an integer 0..%" JSON_INTEGER_FORMAT
			                ", got %s", hi, cfg_got(x, got, sizeof(got)));
		}
		v[i] = (uint16_t)json_integer_value(x);
	}
	*n = (uint16_t)json_array_size(a);
	return 0;
}

/* The table size: any value the settings can hold; its range is
 * rss_settings_check()'s rule. 1 if given, 0 if absent, -1 on error. */
static int
ctl_size(struct ctl_req *r, uint16_t *out)
{
	json_t *v = ctl_arg(r, "size");
	char got[48];

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT16_MAX)
		return ctl_fail(&r->err, "size", "must be " RSS_FORM_TABLE_SIZE ", got %s",
		                cfg_got(v, got, sizeof(got)));
	*out = (uint16_t)json_integer_value(v);
	return 1;
}

static json_t *
ctl_rss_set_table(struct ctl_req *r)
{
	static const char *const how[] = { "equal", "weights", "table" };
	const char *given = NULL;
	struct rss_settings cfg;
	json_int_t equal;
	struct be_dev *d;
	uint16_t size = 0;
	int has_size;

	if (ctl_steering_dev(r, &d) < 0)
		return NULL;
	for (size_t k = 0; k < ARRAY_SIZE(how); k++) {
		if (ctl_arg(r, how[k]) == NULL)
			continue;
		if (given != NULL) {
			ctl_fail(&r->err, how[k], "give only one of equal, weights and table "
			         "(%s is given too)", given);
			return NULL;
		}
		given = how[k];
	}
	if (given == NULL) {
		ctl_fail(&r->err, "table", "required: one of equal, weights and table");
		return NULL;
	}
	if ((has_size = ctl_size(r, &size)) < 0)
		return NULL;
	cfg = d->steer->cfg;
	cfg.n_weights = 0;
	cfg.n_table = 0;
	if (has_size)
		cfg.table_size = size;
	if (strcmp(given, "equal") == 0) {
		/* ethtool -X equal N: the first N pairs, one share each. */
		if (ctl_int(r, "equal", 1, d->cfg.queue_pairs, &equal) < 0)
			return NULL;
		for (json_int_t i = 0; i < equal; i++)
			cfg.weights[i] = 1;
		cfg.n_weights = (uint16_t)equal;
	} else if (strcmp(given, "weights") == 0) {
		if (ctl_u16_list(r, "weights", UINT16_MAX, cfg.weights, &cfg.n_weights) < 0)
			return NULL;
	} else {
		if (ctl_u16_list(r, "table", UINT16_MAX, cfg.table, &cfg.n_table) < 0)
			return NULL;
		if (!has_size)
			cfg.table_size = cfg.n_table;    /* the size is the table's length */
	}
	return ctl_rss_apply(r, d, &cfg);
}

/* An address of either family into f; 0, or -1 naming key. */
static int
ctl_addr(struct ctl_req *r, const char *key, struct pmd_flow *f)
{
	uint8_t *out = strcmp(key, "src") == 0 ? f->src : f->dst;
	const char *s;
	char got[64];
	int rc;

	if ((rc = ctl_str(r, key, "an IPv4 or IPv6 address", &s)) < 0)
		return -1;
	if (rc == 0)
		return ctl_fail(&r->err, key, "required: an IPv4 or IPv6 address");
	if (inet_pton(AF_INET, s, out) == 1) {
		if (f->family == 6)
			return ctl_fail(&r->err, key, "is IPv4, but src is IPv6");
		f->family = 4;
	} else if (inet_pton(AF_INET6, s, out) == 1) {
		if (f->family == 4)
			return ctl_fail(&r->err, key, "is IPv6, but src is IPv4");
		f->family = 6;
	} else {
		return ctl_fail(&r->err, key, "must be an IPv4 or IPv6 address, got %s",
		                cfg_got(ctl_arg(r, key), got, sizeof(got)));
	}
	return 0;
}

static json_t *
ctl_rss_hash(struct ctl_req *r)
{
	struct pmd_flow f = { 0 };
	const struct pmd_steer *s;
	json_int_t sport = 0, dport = 0;
	const char *proto;
	char hash[16], got[48];
	struct be_dev *d;
	int hs, hd, rc;
	uint32_t h;

	if (ctl_steering_dev(r, &d) < 0 || (rc = ctl_str(r, "proto", "tcp, udp or ip", &proto)) < 0)
		return NULL;
	if (rc == 0) {
		ctl_fail(&r->err, "proto", "required: tcp, udp or ip");
		return NULL;
	}
	if (strcmp(proto, "tcp") == 0) {
		f.proto = IPPROTO_TCP;
	} else if (strcmp(proto, "udp") == 0) {
		f.proto = IPPROTO_UDP;
	} else if (strcmp(proto, "ip") != 0) {
		ctl_fail(&r->err, "proto", "must be tcp, udp or ip, got %s",
		         cfg_got(ctl_arg(r, "proto"), got, sizeof(got)));
		return NULL;
	}
	if (ctl_addr(r, "src", &f) < 0 || ctl_addr(r, "dst", &f) < 0 ||
	    (hs = ctl_int(r, "sport", 0, UINT16_MAX, &sport)) < 0 ||
	    (hd = ctl_int(r, "dport", 0, UINT16_MAX, &dport)) < 0)
		return NULL;
	f.has_ports = f.proto != 0;
	if (f.has_ports && (!hs || !hd)) {
		ctl_fail(&r->err, hs ? "dport" : "sport", "required with %s: a port 0..65535", proto);
		return NULL;
	}
	if (!f.has_ports && (hs || hd)) {
		ctl_fail(&r->err, hs ? "sport" : "dport", "only with tcp or udp (ip hashes the "
		         "addresses alone)");
		return NULL;
	}
	/* Network byte order, as pmd_flow_of() copies them from the frame. */
	f.sport = htons((uint16_t)sport);
	f.dport = htons((uint16_t)dport);
	s = d->steer->snap;
	h = pmd_rss_hash(&s->rss, &f);
	snprintf(hash, sizeof(hash), "0x%08x", h);
	/* With no RX ring enabled nothing is steered: there is no queue. */
	return json_pack("{s:s, s:s, s:s, s:i, s:o}", "device", d->cfg.name, "hash", hash,
	                 "mode", s->mode == PMD_STEER_FLOW_AFFINITY ? "flow-affinity" : "rss",
	                 "index", (int)(h % s->rss.reta_size),
	                 "queue", s->rss.n_enabled > 0 ? json_integer(pmd_steer_target(s, &f))
	                                               : json_null());
}

static json_t *
ctl_move(struct ctl_req *r)
{
	json_int_t qp, core;
	const char *field = "core";
	struct be_dev *d;
	char why[256] = "";
	json_t *devs;
	int rc;

	if (ctl_device(r, false, &d) < 0 ||
	    (rc = ctl_int(r, "qp", 0, d->cfg.queue_pairs - 1, &qp)) < 0)
		return NULL;
	if (rc == 0) {
		ctl_fail(&r->err, "qp", "required: a queue pair 0..%u", d->cfg.queue_pairs - 1);
		return NULL;
	}
	if ((rc = ctl_int(r, "core", 0, BE_MAX_CORES - 1, &core)) < 0)
		return NULL;
	if (rc == 0) {
		ctl_fail(&r->err, "core", "required: a CPU number");
		return NULL;
	}
	if (be_move_qp(d, (uint16_t)qp, (unsigned)core, &field, why, sizeof(why)) != 0) {
		ctl_fail(&r->err, field, "%s", why);
		return NULL;
	}
	devs = json_array();
	if (devs != NULL && json_array_append_new(devs, ctl_dev_pairs(d, false)) != 0) {
		json_decref(devs);
		devs = NULL;
	}
	return json_pack("{s:o}", "devices", devs);
}

/* Share of the span (TSC cycles) that busy cycles took, in percent. */
static double
ctl_pct(uint64_t busy, uint64_t span)
{
	return span ? 100.0 * (double)busy / (double)span : 0.0;
}

/* Thread p's pairs (every device's pairs it serves) and their busy share of
 * span since their marks, which move to now. */
static json_t *
ctl_pmd_pairs(struct be *be, const struct pmd *p, uint64_t span)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < be->ndev; i++) {
		struct be_dev *d = &be->dev[i];

		for (uint16_t qp = 0; qp < d->cfg.queue_pairs; qp++) {
			uint64_t busy;

			if (d->qp[qp].pmd != p)
				continue;
			busy = pmd_stat_read(&d->qp[qp].st.stats.busy_cycles);
			if (json_array_append_new(a, json_pack("{s:s, s:i, s:f}", "device",
			                                       d->cfg.name, "qp", qp, "busy_pct",
			                                       ctl_pct(busy - d->qp[qp].busy_mark,
			                                               span))) != 0) {
				json_decref(a);
				return NULL;
			}
			d->qp[qp].busy_mark = busy;
		}
	}
	return a;
}

/* Each poll thread's busy share and its pairs' (TSC cycles of visits that
 * moved something) since the previous "pmd" request, or since the thread
 * started: what Open vSwitch's pmd-rxq-show tells. */
static json_t *
ctl_pmd(struct ctl_req *r)
{
	double hz = (double)rte_get_tsc_hz();
	json_t *threads = json_array();

	for (unsigned c = 0; threads != NULL && c < BE_MAX_CORES; c++) {
		const struct pmd *p = r->be->pmd_by_core[c];
		struct pmd_cycles now, *mark = &r->be->pmd_mark[c];
		uint64_t span;

		if (p == NULL)
			continue;
		now = pmd_cycles(p);
		span = now.now - mark->now;
		if (json_array_append_new(threads,
		                          json_pack("{s:i, s:f, s:f, s:o}", "core", (int)c,
		                                    "interval_s", (double)span / hz, "busy_pct",
		                                    ctl_pct(now.busy - mark->busy, span), "pairs",
		                                    ctl_pmd_pairs(r->be, p, span))) != 0) {
			json_decref(threads);
			threads = NULL;
		}
		*mark = now;
	}
	return json_pack("{s:o}", "threads", threads);
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "stats", { "cmd", "device" }, ctl_stats, false },
	{ "queues", { "cmd", "device" }, ctl_queues, false },
	{ "rss-show", { "cmd", "device" }, ctl_rss_show, false },
	{ "rss-set-key", { "cmd", "device", "key" }, ctl_rss_set_key, true },
	{ "rss-set-table", { "cmd", "device", "equal", "weights", "table", "size" },
	  ctl_rss_set_table, true },
	{ "rss-hash", { "cmd", "device", "proto", "src", "dst", "sport", "dport" },
	  ctl_rss_hash, false },
	{ "move", { "cmd", "device", "qp", "core" }, ctl_move, true },
	{ "pmd", { "cmd" }, ctl_pmd, false },
};

/* "a, b, c" of at most n names (a NULL ends them earlier). */
static const char *
ctl_join(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < n && names[k] != NULL && o < len; k++) {
		int w = snprintf(buf + o, len - o, "%s%s", k ? ", " : "", names[k]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

static const char *
ctl_cmd_list(char *buf, size_t len)
{
	const char *names[ARRAY_SIZE(ctl_cmds)];

	for (size_t k = 0; k < ARRAY_SIZE(ctl_cmds); k++)
		names[k] = ctl_cmds[k].name;
	return ctl_join(names, ARRAY_SIZE(names), buf, len);
}

/* An unknown key as the error's path: itself when it looks like a key, else
 * quoted and escaped, so it cannot forge what the client prints. */
static const char *
ctl_key_path(const char *key, char *buf, size_t len)
{
	const char *path;
	json_t *ks;

	if (key[0] != '\0' && strlen(key) < 32 &&
	    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
	    strlen(key))
		return key;
	ks = json_string(key);
	if (ks == NULL)
		return "request";
	path = cfg_got(ks, buf, len);       /* buf, or a literal */
	json_decref(ks);
	return path;
}

/* Finds the command, checks every key is one it takes, then unpacks them
 * (JSON_STRICT: nothing left over). Returns the command's reply, or NULL with
 * r->err filled. */
static json_t *
ctl_dispatch(struct ctl_req *r, json_t *req)
{
	const char *const *keys, *name, *key;
	char list[200], got[48];
	json_error_t je;
	json_t *v;
	size_t k;

	if (!json_is_object(req)) {
		ctl_fail(&r->err, "request", "must be a JSON object, got %s",
		         cfg_got(req, got, sizeof(got)));
		return NULL;
	}
	ctl_cmd_list(list, sizeof(list));
	v = json_object_get(req, "cmd");
	if (v == NULL) {
		ctl_fail(&r->err, "cmd", "required: one of %s", list);
		return NULL;
	}
	for (k = 0; json_is_string(v) && k < ARRAY_SIZE(ctl_cmds); k++)
		if (strcmp(json_string_value(v), ctl_cmds[k].name) == 0)
			break;
	if (!json_is_string(v) || k == ARRAY_SIZE(ctl_cmds)) {
		ctl_fail(&r->err, "cmd", "unknown command %s: must be one of %s",
		         cfg_got(v, got, sizeof(got)), list);
		return NULL;
	}
	r->cmd = &ctl_cmds[k];
	keys = r->cmd->keys;
	json_object_foreach(req, key, v) {
		if (ctl_key_index(r->cmd, key) >= 0)
			continue;
		ctl_join(keys + 1, CTL_MAX_KEYS - 1, list, sizeof(list));
		ctl_fail(&r->err, ctl_key_path(key, got, sizeof(got)),
		         "unknown key for %s: must be one of %s", r->cmd->name, list);
		return NULL;
	}
	/* Every key is known now: the strict unpack can only fail on a type. A
	 * command with fewer keys pads with "", which the check above rejects,
	 * so "s?o" never finds it. */
#define K(i) (keys[i] != NULL ? keys[i] : "")
	if (json_unpack_ex(req, &je, JSON_STRICT, "{s:s, s?o, s?o, s?o, s?o, s?o, s?o}",
	                   "cmd", &name, K(1), &r->arg[1], K(2), &r->arg[2], K(3), &r->arg[3],
	                   K(4), &r->arg[4], K(5), &r->arg[5], K(6), &r->arg[6]) < 0) {
		ctl_fail(&r->err, "request", "%s", je.text);
		return NULL;
	}
#undef K
	_Static_assert(CTL_MAX_KEYS == 7, "the unpack format lists CTL_MAX_KEYS keys");
	for (k = 1; k < CTL_MAX_KEYS; k++)
		if (r->arg[k] != NULL && json_is_null(r->arg[k]))
			r->arg[k] = NULL;        /* null: the default */
	return r->cmd->fn(r);
}

/* One request (len bytes of JSON, no newline) to its reply: one line of
 * JSON without the newline, for free(). NULL only when out of memory. */
static char *
ctl_handle(struct be *be, const char *text, size_t len, const char *peer)
{
	struct ctl_req r = { .be = be };
	json_t *req, *reply = NULL;
	json_error_t je;
	char *out;

	req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (req == NULL)
		ctl_fail(&r.err, "request", "not a JSON object: %s (column %d)", je.text, je.column);
	else if ((reply = ctl_dispatch(&r, req)) == NULL && r.err.reason[0] == '\0')
		ctl_fail(&r.err, "request", "out of memory");
	if (r.cmd != NULL && (r.cmd->changes || reply == NULL))
		vlog(r.cmd->changes ? VLOG_INFO : VLOG_DEBUG, "control (%s): %s%s%s: %s%s%s",
		     peer, r.cmd->name, r.dev ? " on " : "", r.dev ? r.dev->cfg.name : "",
		     reply ? "done" : r.err.path, reply ? "" : ": ", reply ? "" : r.err.reason);
	if (reply == NULL)
		reply = json_pack("{s:{s:s, s:s}}", "error", "path", r.err.path,
		                  "reason", r.err.reason);
	json_decref(req);
	out = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	return out;
}

static int64_t
ctl_now_ms(void)
{
	return (int64_t)(be_now_ns() / 1000000u);
}

/* Waits for events on fd until deadline; 0 when ready, -1 past it. */
static int
ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	do {
		left = deadline - ctl_now_ms();
		if (left <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

/* The request: up to the first newline (or the end, if the client shut its
 * side). Returns its length; -1 to drop the client silently; on a request
 * too long or too slow, -2 with err filled (the client still gets a reply). */
static ssize_t
ctl_read(struct be_ctl *c, int fd, struct ctl_err *err)
{
	int64_t deadline = ctl_now_ms() + CTL_DEADLINE_MS;
	size_t n = 0;

	for (;;) {
		ssize_t k = recv(fd, c->buf + n, sizeof(c->buf) - n, MSG_DONTWAIT);
		const char *nl;

		if (k > 0) {
			nl = memchr(c->buf + n, '\n', (size_t)k);
			n += (size_t)k;
			if (nl != NULL)
				return nl - c->buf;
			if (n == sizeof(c->buf)) {
				ctl_fail(err, "request", "longer than %zu bytes", sizeof(c->buf) - 1);
				return -2;
			}
			continue;
		}
		if (k == 0)
			return n > 0 ? (ssize_t)n : -1;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (ctl_wait(fd, POLLIN, deadline) < 0) {
			ctl_fail(err, "request", "incomplete: no newline within %d ms",
			         CTL_DEADLINE_MS);
			return -2;
		}
	}
}

/* Writes the reply and a newline within the deadline; a client that does
 * not read loses it. */
static void
ctl_write(int fd, const char *s)
{
	int64_t deadline = ctl_now_ms() + CTL_DEADLINE_MS;
	size_t len = strlen(s), off = 0;
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov };

	while (off < len + 1) {
		ssize_t k;

		/* The reply, then the newline: two pieces, one sendmsg. */
		mh.msg_iovlen = 0;
		if (off < len)
			iov[mh.msg_iovlen++] = (struct iovec){ (void *)(s + off), len - off };
		iov[mh.msg_iovlen++] = (struct iovec){ (void *)"\n", 1 };
		k = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    ctl_wait(fd, POLLOUT, deadline) == 0)
			continue;
		vlog_debug("control: reply not taken: %s", k < 0 ? strerror(errno) : "closed");
		return;
	}
}

static void
ctl_serve(struct be_ctl *c, int fd)
{
	struct ctl_err err = { .path = "" };
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char peer[48], *reply;
	json_t *e;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
		snprintf(peer, sizeof(peer), "pid %d uid %u", (int)cr.pid, (unsigned)cr.uid);
	else
		snprintf(peer, sizeof(peer), "unknown peer");
	n = ctl_read(c, fd, &err);
	if (n == -1)
		return;
	if (n == -2) {
		vlog_warn("control (%s): %s: %s", peer, err.path, err.reason);
		e = json_pack("{s:{s:s, s:s}}", "error", "path", err.path, "reason", err.reason);
		reply = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	} else {
		reply = ctl_handle(c->be, c->buf, (size_t)n, peer);
	}
	if (reply != NULL)
		ctl_write(fd, reply);
	free(reply);
}

struct be_ctl *
be_ctl_open(struct be *be, const char *path, char *why, size_t why_len)
{
	struct be_ctl *c;

	if (strlen(path) >= sizeof(c->path)) {
		snprintf(why, why_len, "%s: path longer than %zu bytes", path, sizeof(c->path) - 1);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	c->be = be;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = vhu_listen(path, 0660, why, why_len);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	vlog_info("control socket %s (vhostmqctl -s %s)", path, path);
	return c;
}

int
be_ctl_fd(const struct be_ctl *c)
{
	return c->fd;
}

void
be_ctl_event(struct be_ctl *c)
{
	/* One client per wakeup: epoll is level-triggered, so others waiting
	 * are served next round, after any frontend message that came in. */
	int fd = vhu_accept(c->fd);

	if (fd < 0)
		return;
	ctl_serve(c, fd);
	close(fd);
}

void
be_ctl_close(struct be_ctl *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	unlink(c->path);
	free(c);
}
