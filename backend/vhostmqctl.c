/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/vhostmqctl.c - the command-line client of vhostmq's control socket.
 * It turns words in the style of ethtool (-x, -X equal/weight) into one JSON
 * request, sends it, and prints the one JSON reply as the tables a user
 * expects (or as JSON with --json). Every check that needs the device (queue
 * counts, cores, key length) is left to vhostmq, which names the field in its
 * error; here only the shape of the command line is checked.
 * Exit status: 0 done, 1 vhostmq refused or could not be reached, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "vhostmq_conf.h"

#define DEFAULT_SOCKET "/tmp/vhostmq.sock.ctl"
/* Replies are a few KiB; stats of many devices with 128 pairs stay far below. */
#define MAX_REPLY (16u << 20)
/* vhostmq answers within its deadline plus a grace period or two (moving a
 * pair, changing RSS); 10 s means it is stuck. */
#define REPLY_TIMEOUT_MS 10000
/* The server reads at most 64 KiB; raw input is capped a little above so
 * that an oversized request still reaches it (and is refused there). */
#define MAX_RAW (1u << 20)

static const char usage[] =
"Usage: vhostmqctl [OPTIONS] COMMAND [ARGS...]\n"
"Shows and changes a running vhostmq through its control socket.\n"
"\n"
"Commands:\n"
"  stats                      per-queue-pair counters of every device, and\n"
"                             the mbufs each device has in use\n"
"  queues                     per queue pair: its core, rings running, the\n"
"                             port TX queue it sends on (shared: with other\n"
"                             threads, under a lock) and the port RX queues\n"
"                             its thread reads\n"
"  pmd                        each poll thread's busy share and its queue\n"
"                             pairs' (visits that moved frames), since the\n"
"                             previous pmd request or the thread's start\n"
"                             (like ovs-appctl dpif-netdev/pmd-rxq-show)\n"
"  rss show                   RSS key and indirection table (like ethtool -x)\n"
"  rss set-key KEY            40-byte key: 6d:5a:56:... or 80 hex digits\n"
"  rss set-table [size N] equal N | weight W0 W1 ... | table Q0 Q1 ...\n"
"                             refill the indirection table (like ethtool -X):\n"
"                             equal N spreads over pairs 0..N-1, weight gives\n"
"                             pair i a share Wi, table lists each entry's pair\n"
"  rss hash tcp|udp SRC DST SPORT DPORT\n"
"  rss hash ip SRC DST        Toeplitz hash of a flow and the queue it goes to\n"
"  move QP CORE               serve queue pair QP from the poll thread of CORE\n"
"  raw                        send one JSON request from stdin, print the reply\n"
"\n"
"Options:\n"
"  -s, --socket PATH   control socket (default " DEFAULT_SOCKET ": vhostmq\n"
"                      listens on its first device's socket + \".ctl\" unless\n"
"                      started with --control)\n"
"  -d, --device NAME   the device to show or change (needed when vhostmq has\n"
"                      several; stats and queues show all by default)\n"
"  -j, --json          print vhostmq's reply as JSON\n"
"  -h, --help          this text\n"
"  -V, --version       version\n"
"\n"
"Exit status: 0 done, 1 vhostmq refused the request or cannot be reached,\n"
"2 usage error.\n";

struct opts {
	const char *socket;
	const char *device;
	bool json;
};

static int
usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "vhostmqctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vhostmqctl --help'.\n");
	return 2;
}

/* A non-negative decimal integer; false if s is not one. The server checks
 * the range (it knows the device). */
static bool
parse_num(const char *s, json_int_t *out)
{
	char *end;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
connect_ctl(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vhostmqctl: %s: socket path longer than %zu bytes\n", path,
		        sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("vhostmqctl: socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	fprintf(stderr, "vhostmqctl: cannot connect to %s: %s", path, strerror(e));
	if (e == ENOENT)
		fprintf(stderr, ": vhostmq is not running, or listens elsewhere (its control "
		        "socket is its first device's socket + \".ctl\", or --control; "
		        "use -s PATH)\n");
	else if (e == ECONNREFUSED)
		fprintf(stderr, ": vhostmq is not running (the socket file is left over)\n");
	else if (e == EACCES || e == EPERM)
		fprintf(stderr, ": vhostmq is running, but the socket is for its owner and "
		        "group only\n");
	else if (e == EAGAIN)
		fprintf(stderr, ": vhostmq is running but busy; try again\n");
	else
		fprintf(stderr, "\n");
	return -1;
}

/* Sends req (plus a newline) and reads the reply line into *out (without
 * its newline). The line, not EOF, ends the reply: vhostmq closing a
 * connection it did not read to the end (a request it refused as too long)
 * resets it after the reply. */
static int
exchange(const char *path, const char *req, size_t len, char **out)
{
	int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
	size_t off = 0, n = 0, cap = 0;
	char *buf = NULL;
	int fd = connect_ctl(path);

	if (fd < 0)
		return -1;
	/* The request; if vhostmq stops reading early (a request it refuses
	 * as too long), its reply is still waiting: go and read it. */
	while (off < len + 1) {
		const char *p = off < len ? req + off : "\n";
		ssize_t k = send(fd, p, off < len ? len - off : 1, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		off += (size_t)k;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t k;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "vhostmqctl: %s: no reply within %d s (vhostmq stuck?)\n",
			        path, REPLY_TIMEOUT_MS / 1000);
			goto err;
		}
		if (cap - n < 4096) {
			char *nb;

			cap = cap ? 2 * cap : 65536;
			if (cap > MAX_REPLY || (nb = realloc(buf, cap + 1)) == NULL) {
				fprintf(stderr, "vhostmqctl: %s: reply too large\n", path);
				goto err;
			}
			buf = nb;
		}
		k = recv(fd, buf + n, cap - n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "vhostmqctl: %s: %s\n", path, strerror(errno));
			goto err;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (memchr(buf + n - k, '\n', (size_t)k) != NULL)
			break;
	}
	close(fd);
	if (n == 0) {
		fprintf(stderr, "vhostmqctl: %s: vhostmq closed the connection without a reply\n",
		        path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*out = buf;
	return 0;

err:
	close(fd);
	free(buf);
	return -1;
}

static json_int_t
num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "?";
}

static json_int_t
sum(const json_t *o, const char *const *keys)
{
	json_int_t t = 0;

	for (; *keys != NULL; keys++)
		t += num(o, *keys);
	return t;
}

static void
print_dev_head(const json_t *d)
{
	printf("device %s  port %s  frontend %s\n", str(d, "name"), str(d, "port"),
	       json_is_true(json_object_get(d, "frontend")) ? "attached" : "none");
}

/* rx_drops counts every frame for the guest that was lost, steering's
 * full inboxes included. */
static void
print_stats(const json_t *reply)
{
	static const char *const tx_drops[] = { "tx_drop_port", "tx_drop_runt",
		"tx_drop_too_big", "tx_drop_bad_chain", NULL };
	static const char *const rx_drops[] = { "rx_drop_too_big", "rx_drop_broken",
		"rx_drop_bad_chain", "steer_drop_full", "rx_drop_disabled", NULL };
	static const char *const notify[] = { "tx_notify", "rx_notify", NULL };
	const json_t *d, *q;
	size_t i, k;

	json_array_foreach(json_object_get(reply, "devices"), i, d) {
		print_dev_head(d);
		printf("%4s %5s %5s %5s %14s %10s %14s %10s %12s %13s\n", "qp", "core", "rx",
		       "tx", "tx_packets", "tx_drops", "rx_packets", "rx_drops", "handoffs",
		       "notifications");
		json_array_foreach(json_object_get(d, "queue_pairs"), k, q)
			printf("%4" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT " %5s %5s %14"
			       JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %14"
			       JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %12"
			       JSON_INTEGER_FORMAT " %13" JSON_INTEGER_FORMAT "\n",
			       num(q, "qp"), num(q, "core"),
			       json_is_true(json_object_get(q, "rx_enabled")) ? "on" : "off",
			       json_is_true(json_object_get(q, "tx_enabled")) ? "on" : "off",
			       num(q, "tx_packets"), sum(q, tx_drops), num(q, "rx_packets"),
			       sum(q, rx_drops), num(q, "steer_handoff"), sum(q, notify));
		/* Per device, not per pair: a line of its own under the table. */
		if (json_is_integer(json_object_get(d, "mbufs_in_use")))
			printf("mbufs in use %" JSON_INTEGER_FORMAT "\n", num(d, "mbufs_in_use"));
	}
}

static void
print_list(const json_t *a)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		printf(" %" JSON_INTEGER_FORMAT, json_integer_value(v));
}

static void
print_queues(const json_t *reply)
{
	const json_t *d, *q;
	size_t i, k;

	json_array_foreach(json_object_get(reply, "devices"), i, d) {
		print_dev_head(d);
		printf("port queues: %" JSON_INTEGER_FORMAT " rx, %" JSON_INTEGER_FORMAT " tx\n",
		       num(d, "port_rx_queues"), num(d, "port_tx_queues"));
		printf("%4s %5s  %-8s %-8s %-9s %s\n", "qp", "core", "rx", "tx", "port_tx",
		       "port_rx");
		json_array_foreach(json_object_get(d, "queue_pairs"), k, q) {
			char txq[32];

			snprintf(txq, sizeof(txq), "%" JSON_INTEGER_FORMAT "%s",
			         num(q, "port_tx_queue"),
			         json_is_true(json_object_get(q, "port_tx_shared")) ? " shared" : "");
			printf("%4" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT "  %-8s %-8s %-9s",
			       num(q, "qp"), num(q, "core"),
			       json_is_true(json_object_get(q, "rx_running")) ? "running" : "stopped",
			       json_is_true(json_object_get(q, "tx_running")) ? "running" : "stopped",
			       txq);
			if (json_array_size(json_object_get(q, "port_rx_queues")) == 0)
				printf(" -");
			else
				print_list(json_object_get(q, "port_rx_queues"));
			printf("\n");
		}
	}
}

/* ethtool -x's layout: 8 entries a line, led by the first one's index. */
static void
print_table(const json_t *a)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v) {
		if (i % 8 == 0)
			printf("%5zu: ", i);
		printf(" %5" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (i % 8 == 7 || i + 1 == json_array_size(a))
			printf("\n");
	}
}

static void
print_rss(const json_t *r)
{
	const json_t *enabled = json_object_get(r, "enabled");
	const char *mode = str(r, "mode");
	json_int_t nq = num(r, "queue_pairs");

	if (strcmp(mode, "pair") == 0) {
		printf("device %s: its port (loopback) sends each frame back to the queue pair "
		       "it came from; there is no RSS.\nRX rings enabled:", str(r, "device"));
		print_list(enabled);
		printf("%s\n", json_array_size(enabled) ? "" : " none");
		return;
	}
	printf("device %s  steering %s  %" JSON_INTEGER_FORMAT " queue pairs\n",
	       str(r, "device"), mode, nq);
	if (strcmp(mode, "flow-affinity") == 0)
		printf("(a flow's frames go to the queue the guest last sent it on; the table "
		       "places flows not seen yet)\n");
	printf("RX rings enabled:");
	print_list(enabled);
	printf("%s\n", json_array_size(enabled) ? "" : " none");
	printf("Table filled by: ");
	if (json_array_size(json_object_get(r, "configured_table")) > 0) {
		printf("explicit table\n");
	} else if (json_array_size(json_object_get(r, "weights")) > 0) {
		printf("weights");
		print_list(json_object_get(r, "weights"));
		printf("\n");
	} else {
		printf("equal weights over the enabled pairs\n");
	}
	if (num(r, "n_enabled") > 0) {
		printf("RX flow hash indirection table for %s with %zu RX ring(s):\n",
		       str(r, "device"), json_array_size(enabled));
		print_table(json_object_get(r, "table"));
	} else {
		printf("RX flow hash indirection table for %s: no RX ring enabled yet, no frame "
		       "is steered.\nWith all %" JSON_INTEGER_FORMAT " queue pairs enabled it will "
		       "be (%" JSON_INTEGER_FORMAT " entries):\n", str(r, "device"), nq,
		       num(r, "reta_size"));
		print_table(json_object_get(r, "table_all_enabled"));
	}
	printf("RSS hash key:\n%s\n", str(r, "key"));
	printf("RSS hash function:\n    toeplitz: on\n");
}

static void
print_hash(const json_t *r)
{
	const json_t *q = json_object_get(r, "queue");

	printf("hash %s  table entry %" JSON_INTEGER_FORMAT "  queue ", str(r, "hash"),
	       num(r, "index"));
	if (json_is_integer(q))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(q));
	else
		printf("none (no RX ring enabled: nothing is steered)\n");
}

/* ovs-appctl dpif-netdev/pmd-rxq-show's layout: a thread, then its pairs. */
static void
print_pmd(const json_t *reply)
{
	const json_t *t, *q;
	size_t i, k;

	json_array_foreach(json_object_get(reply, "threads"), i, t) {
		printf("pmd thread core %" JSON_INTEGER_FORMAT ": busy %5.1f%% over %.2f s\n",
		       num(t, "core"), json_real_value(json_object_get(t, "busy_pct")),
		       json_real_value(json_object_get(t, "interval_s")));
		json_array_foreach(json_object_get(t, "pairs"), k, q)
			printf("  device %-12s qp %3" JSON_INTEGER_FORMAT "  busy %5.1f%%\n",
			       str(q, "device"), num(q, "qp"),
			       json_real_value(json_object_get(q, "busy_pct")));
	}
}

static void
print_raw(const json_t *r)
{
	json_dumpf(r, stdout, JSON_INDENT(2));
	printf("\n");
}

/* Builds the request for argv (after the options). *print gets the printer
 * of the reply. NULL with a usage error printed (and *rc set to 2). */
static json_t *
build(int argc, char **argv, void (**print)(const json_t *), int *rc)
{
	const char *cmd = argc > 0 ? argv[0] : NULL, *sub = argc > 1 ? argv[1] : NULL;
	json_int_t a, b;

	*rc = 2;
	if (cmd == NULL) {
		usage_err("%s", "a command is needed: stats, queues, pmd, rss, move or raw");
		return NULL;
	}
	if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "queues") == 0 || strcmp(cmd, "pmd") == 0) {
		if (argc != 1) {
			usage_err("%s takes no arguments", cmd);
			return NULL;
		}
		*print = cmd[0] == 's' ? print_stats : cmd[0] == 'q' ? print_queues : print_pmd;
		return json_pack("{s:s}", "cmd", cmd);
	}
	if (strcmp(cmd, "move") == 0) {
		if (argc != 3) {
			usage_err("%s", "usage: move QP CORE");
			return NULL;
		}
		if (!parse_num(argv[1], &a) || !parse_num(argv[2], &b)) {
			usage_err("move: QP and CORE must be numbers, got '%s'",
			          parse_num(argv[1], &a) ? argv[2] : argv[1]);
			return NULL;
		}
		*print = print_queues;
		return json_pack("{s:s, s:I, s:I}", "cmd", "move", "qp", a, "core", b);
	}
	if (strcmp(cmd, "rss") != 0) {
		usage_err("unknown command '%s': stats, queues, pmd, rss, move or raw", cmd);
		return NULL;
	}
	*print = print_rss;
	if (sub == NULL) {
		usage_err("%s", "rss needs show, set-key, set-table or hash");
		return NULL;
	}
	if (strcmp(sub, "show") == 0) {
		if (argc != 2) {
			usage_err("%s", "rss show takes no arguments");
			return NULL;
		}
		return json_pack("{s:s}", "cmd", "rss-show");
	}
	if (strcmp(sub, "set-key") == 0) {
		if (argc != 3) {
			usage_err("%s", "usage: rss set-key KEY (6d:5a:56:... or 80 hex digits)");
			return NULL;
		}
		return json_pack("{s:s, s:s}", "cmd", "rss-set-key", "key", argv[2]);
	}
	if (strcmp(sub, "hash") == 0) {
		const char *proto = argc > 2 ? argv[2] : "";
		bool ports = strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0;

		if (!ports && strcmp(proto, "ip") != 0) {
			usage_err("%s", "usage: rss hash tcp|udp SRC DST SPORT DPORT, or rss hash ip "
			          "SRC DST");
			return NULL;
		}
		if (argc != (ports ? 7 : 5)) {
			usage_err("rss hash %s: wrong number of arguments", ports ?
			          "tcp|udp takes SRC DST SPORT DPORT" : "ip takes SRC DST");
			return NULL;
		}
		*print = print_hash;
		if (!ports)
			return json_pack("{s:s, s:s, s:s, s:s}", "cmd", "rss-hash", "proto", proto,
			                 "src", argv[3], "dst", argv[4]);
		if (!parse_num(argv[5], &a) || !parse_num(argv[6], &b)) {
			usage_err("rss hash: ports must be numbers, got '%s'",
			          parse_num(argv[5], &a) ? argv[6] : argv[5]);
			return NULL;
		}
		return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "cmd", "rss-hash",
		                 "proto", proto, "src", argv[3], "dst", argv[4],
		                 "sport", a, "dport", b);
	}
	if (strcmp(sub, "set-table") == 0) {
		json_t *req = json_pack("{s:s}", "cmd", "rss-set-table"), *list;
		int i = 2;

		if (req == NULL)
			return NULL;
		if (i + 1 < argc && strcmp(argv[i], "size") == 0) {
			if (!parse_num(argv[i + 1], &a)) {
				json_decref(req);
				usage_err("rss set-table: size must be a number, got '%s'", argv[i + 1]);
				return NULL;
			}
			json_object_set_new(req, "size", json_integer(a));
			i += 2;
		}
		if (i + 2 == argc && strcmp(argv[i], "equal") == 0 && parse_num(argv[i + 1], &a)) {
			json_object_set_new(req, "equal", json_integer(a));
			return req;
		}
		if (i + 1 < argc && (strcmp(argv[i], "weight") == 0 ||
		                     strcmp(argv[i], "table") == 0)) {
			list = json_array();
			for (int k = i + 1; k < argc; k++) {
				if (!parse_num(argv[k], &a)) {
					json_decref(list);
					json_decref(req);
					usage_err("rss set-table: entries must be numbers, got '%s'",
					          argv[k]);
					return NULL;
				}
				json_array_append_new(list, json_integer(a));
			}
			json_object_set_new(req, argv[i][0] == 'w' ? "weights" : "table", list);
			return req;
		}
		json_decref(req);
		usage_err("%s", "usage: rss set-table [size N] equal N | weight W0 W1 ... | "
		          "table Q0 Q1 ...");
		return NULL;
	}
	usage_err("unknown rss command '%s': show, set-key, set-table or hash", sub);
	return NULL;
}

/* stdin, as-is (trailing newlines dropped: the request's own ends it). */
static char *
read_stdin(size_t *len)
{
	char *buf = malloc(MAX_RAW + 1);
	size_t n = 0;

	if (buf == NULL)
		return NULL;
	while (n < MAX_RAW) {
		size_t k = fread(buf + n, 1, MAX_RAW - n, stdin);

		if (k == 0)
			break;
		n += k;
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .socket = DEFAULT_SOCKET };
	void (*print)(const json_t *) = print_raw;
	json_t *req = NULL, *reply, *err;
	char *text = NULL, *answer = NULL;
	json_error_t je;
	size_t len;
	int c, rc;

	opterr = 0;
	/* "+": stop at the command, so its words are never taken for options. */
	while ((c = getopt_long(argc, argv, "+:s:d:jhV", lopts, NULL)) != -1) {
		switch (c) {
		case 's': o.socket = optarg; break;
		case 'd': o.device = optarg; break;
		case 'j': o.json = true; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("vhostmqctl %s\n", VHOSTMQ_VERSION);
			return 0;
		case ':':
			return usage_err("%s needs a value", argv[optind - 1]);
		default:
			return usage_err("unknown option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "raw") == 0) {
		if (argc != 1)
			return usage_err("%s", "raw takes no arguments (the request is read from stdin)");
		if ((text = read_stdin(&len)) == NULL)
			return 1;
	} else {
		if ((req = build(argc, argv, &print, &rc)) == NULL)
			return rc;
		if (o.device != NULL)
			json_object_set_new(req, "device", json_string(o.device));
		text = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		if (text == NULL)
			return 1;
		len = strlen(text);
	}
	rc = exchange(o.socket, text, len, &answer);
	free(text);
	if (rc != 0)
		return 1;
	reply = json_loads(answer, 0, &je);
	if (reply == NULL || !json_is_object(reply)) {
		fprintf(stderr, "vhostmqctl: %s: the reply is not JSON: %s\n", o.socket, je.text);
		free(answer);
		json_decref(reply);
		return 1;
	}
	err = json_object_get(reply, "error");
	if (o.json)
		printf("%s\n", answer);
	if (err != NULL)
		fprintf(stderr, "vhostmqctl: %s: %s\n", str(err, "path"), str(err, "reason"));
	else if (!o.json)
		print(reply);
	free(answer);
	json_decref(reply);
	return err != NULL ? 1 : 0;
}
