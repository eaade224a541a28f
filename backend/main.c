/* SPDX-License-Identifier: BSD-3-Clause */
/* backend/main.c - the vhostmq process: command line, configuration, EAL
 * start-up, and the control thread's event loop (device sockets, frontend
 * connections, the control socket, signals, the periodic stats table). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include "backend/be.h"
#include "backend/ctl.h"
#include "backend/pool.h"
#include "config/default_config.h"
#include "vhost-user/conn.h"
#include "vhost-user/guard.h"
#include "vhost-user/sock.h"
#include "vhostmq_conf.h"
#include "common/log.h"

/* EAL memory: what the mbuf pools take (backend/pool.h) plus 128 MiB for
 * rings, ports and DPDK's own tables. Memory EAL reserves and nothing uses
 * is never touched: it costs address space, not resident memory. */
#define EAL_BASE_MB 128u

/* --offload may repeat: one per switch, and a few more to turn one back. */
#define CLI_MAX_OFFLOADS 32
/* --tune may repeat the same way: one per value, and a few more. */
#define CLI_MAX_TUNES 32
#define CLI_STR1(x) #x
#define CLI_STR(x)  CLI_STR1(x)

static const char usage[] =
"Usage: vhostmq [OPTIONS]\n"
"A vhost-user backend serving virtio-net multiqueue devices from pinned\n"
"poll-mode threads. With no --config, runs the built-in default config\n"
"(one device on /tmp/vhostmq.sock, loopback port).\n"
"\n"
"  -c, --config FILE       JSON configuration (see README: Configuration)\n"
"  -s, --socket PATH       vhost-user socket of the device\n"
"  -q, --queues N          queue pairs offered (1..%d)\n"
"  -p, --port SPEC         loopback | ethdev:DPDK_DEVARGS (e.g. ethdev:net_null0)\n"
"                          | device:NAME (another device of the config, whose\n"
"                          port names this one back)\n"
"  -C, --cores LIST        poll thread cores, e.g. 1 or 2,4-6; pair i runs on\n"
"                          core LIST[i %% len]\n"
"  -m, --poll-mode MODE    adaptive (sleep when idle; default) | busy\n"
"  -S, --steering MODE     rss (default) | flow-affinity: how frames from an\n"
"                          ethdev or device port pick a guest RX queue\n"
"      --mtu N             MTU announced to the guest (VIRTIO_NET_F_MTU),\n"
"                          68..65521, default 1500; longer frames are dropped\n"
"                          and counted\n"
"      --offload NAME=on|off  an offload offered to the guest, as ethtool -K\n"
"                          turns one on a NIC (default: all on); repeatable.\n"
"                          csum: the guest hands TX checksums to vhostmq\n"
"                          (VIRTIO_NET_F_CSUM); guest_csum: vhostmq tells the\n"
"                          guest a port already verified a checksum\n"
"                          (VIRTIO_NET_F_GUEST_CSUM); host_tso4, host_tso6,\n"
"                          host_ecn, guest_tso4, guest_tso6, guest_ecn: see\n"
"                          README; packed: packed rings (VIRTIO_F_RING_PACKED)\n"
"      --tune NAME=VALUE   a budget or size, as ethtool -G/-L and netdev_budget\n"
"                          tune a NIC; repeatable. burst_frames, burst_bytes:\n"
"                          what one visit of a queue pair moves at most;\n"
"                          port_rx_queues, port_tx_queues, port_rx_ring,\n"
"                          port_tx_ring: the ethdev port's queues and\n"
"                          descriptors; mbufs: the mbuf pool (see README:\n"
"                          Tuning)\n"
"  -k, --client            connect to --socket (QEMU chardev server=on) and\n"
"                          reconnect when it goes, instead of listening\n"
"      --socket-user USER  owner of the listening socket (name or uid;\n"
"                          default: vhostmq's own)\n"
"      --socket-group GROUP  its group (name or gid; default: vhostmq's own)\n"
"      --socket-mode MODE  its permission bits, octal (default 0660): owner,\n"
"                          group and mode decide who can attach\n"
"  -l, --log-level LEVEL   err | warn | info | debug\n"
"  -i, --stats-interval S  print the per-queue table every S seconds (0: off)\n"
"      --control PATH      control socket for vhostmqctl (default: the first\n"
"                          device's socket + \".ctl\", e.g. /tmp/vhostmq.sock.ctl)\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"--socket, --queues, --port, --cores, --poll-mode, --steering, --mtu,\n"
"--offload, --tune, --client and --socket-user/-group/-mode override the\n"
"device of a config that has exactly one; the --socket-* ones are for a\n"
"listening socket, not with --client, and the --tune port_* ones for an\n"
"ethdev port.\n"
"SIGUSR1 prints the table now; SIGINT/SIGTERM print it and exit.\n";

struct cli {
	const char *config;
	const char *socket, *queues, *port, *cores, *poll_mode, *log_level, *steering;
	const char *socket_user, *socket_group, *socket_mode, *mtu;
	const char *offload[CLI_MAX_OFFLOADS];   /* in the order given */
	unsigned n_offload;
	const char *tune[CLI_MAX_TUNES];         /* in the order given */
	unsigned n_tune;
	bool client;
	const char *control;
	unsigned stats_interval;
};

static int
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "vhostmq: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vhostmq --help'.\n");
	return 2;
}

/* Long options without a short form. */
enum {
	OPT_CONTROL = 256, OPT_SOCKET_USER, OPT_SOCKET_GROUP, OPT_SOCKET_MODE, OPT_MTU,
	OPT_OFFLOAD, OPT_TUNE,
};

static int
parse_cli(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "port", required_argument, NULL, 'p' },
		{ "cores", required_argument, NULL, 'C' },
		{ "poll-mode", required_argument, NULL, 'm' },
		{ "steering", required_argument, NULL, 'S' },
		{ "client", no_argument, NULL, 'k' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "socket-user", required_argument, NULL, OPT_SOCKET_USER },
		{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
		{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "offload", required_argument, NULL, OPT_OFFLOAD },
		{ "tune", required_argument, NULL, OPT_TUNE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:q:p:C:m:S:kl:i:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli->config = optarg; break;
		case 's': cli->socket = optarg; break;
		case 'q': cli->queues = optarg; break;
		case 'p': cli->port = optarg; break;
		case 'C': cli->cores = optarg; break;
		case 'm': cli->poll_mode = optarg; break;
		case 'S': cli->steering = optarg; break;
		case 'k': cli->client = true; break;
		case 'l': cli->log_level = optarg; break;
		case OPT_CONTROL: cli->control = optarg; break;
		case OPT_SOCKET_USER: cli->socket_user = optarg; break;
		case OPT_SOCKET_GROUP: cli->socket_group = optarg; break;
		case OPT_SOCKET_MODE: cli->socket_mode = optarg; break;
		case OPT_MTU: cli->mtu = optarg; break;
		case OPT_OFFLOAD:
			if (cli->n_offload == CLI_MAX_OFFLOADS)
				return die_usage("--offload: more than %s given",
				                 CLI_STR(CLI_MAX_OFFLOADS));
			cli->offload[cli->n_offload++] = optarg;
			break;
		case OPT_TUNE:
			if (cli->n_tune == CLI_MAX_TUNES)
				return die_usage("--tune: more than %s given",
				                 CLI_STR(CLI_MAX_TUNES));
			cli->tune[cli->n_tune++] = optarg;
			break;
		case 'i':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 86400)
				return die_usage("--stats-interval: '%s' is not 0..86400 seconds",
				                 optarg);
			cli->stats_interval = (unsigned)v;
			break;
		case 'h':
			printf(usage, VHOSTMQ_MAX_QP);
			return 1;
		case 'V':
			printf("vhostmq %s\n", VHOSTMQ_VERSION);
			return 1;
		case ':':
			return die_usage("%s needs a value", argv[optind - 1]);
		default:
			return die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return die_usage("unexpected argument '%s'", argv[optind]);
	return 0;
}

static int
cfg_fail(const struct cfg_err *err)
{
	char buf[700];

	fprintf(stderr, "vhostmq: %s\n", cfg_err_str(err, buf, sizeof(buf)));
	return 2;
}

/* Loads the config and applies the command-line overrides. */
static int
load_config(const struct cli *cli, struct cfg *cfg)
{
	struct cfg_err err = { 0 };
	struct cfg_device *d;
	int rc;

	rc = cli->config ? cfg_load_file(cli->config, cfg, &err)
	                 : cfg_load_string(cfg_default_json, "<built-in default config>", cfg,
	                                   &err);
	if (rc != 0)
		return cfg_fail(&err);
	if (cli->log_level && cfg_parse_log_level(cli->log_level, &cfg->log_level, &err) != 0)
		return cfg_fail(&err);
	if (!(cli->socket || cli->queues || cli->port || cli->cores || cli->poll_mode ||
	      cli->steering || cli->client || cli->socket_user || cli->socket_group ||
	      cli->socket_mode || cli->mtu || cli->n_offload || cli->n_tune))
		return 0;
	if (cfg->n_devices != 1) {
		fprintf(stderr, "vhostmq: --socket/--queues/--port/--cores/--poll-mode/--steering/"
		        "--mtu/--offload/--tune/--client/--socket-user/--socket-group/"
		        "--socket-mode "
		        "override the "
		        "config's single device, but %s has %u devices\n",
		        cli->config, cfg->n_devices);
		return 2;
	}
	d = &cfg->dev[0];
	if ((cli->socket && cfg_set_socket(cli->socket, d, &err) != 0) ||
	    (cli->queues && cfg_parse_queue_pairs(cli->queues, d, &err) != 0) ||
	    (cli->port && cfg_parse_port(cli->port, d, &err) != 0) ||
	    (cli->cores && cfg_parse_cores(cli->cores, d, &err) != 0) ||
	    (cli->poll_mode && cfg_parse_poll_mode(cli->poll_mode, d, &err) != 0) ||
	    (cli->steering && cfg_parse_steering(cli->steering, d, &err) != 0) ||
	    (cli->socket_user && cfg_parse_socket_user(cli->socket_user, d, &err) != 0) ||
	    (cli->socket_group && cfg_parse_socket_group(cli->socket_group, d, &err) != 0) ||
	    (cli->socket_mode && cfg_parse_socket_mode(cli->socket_mode, d, &err) != 0) ||
	    (cli->mtu && cfg_parse_mtu(cli->mtu, d, &err) != 0))
		return cfg_fail(&err);
	for (unsigned k = 0; k < cli->n_offload; k++)
		if (cfg_parse_offload(cli->offload[k], d, &err) != 0)
			return cfg_fail(&err);
	for (unsigned k = 0; k < cli->n_tune; k++)
		if (cfg_parse_tune(cli->tune[k], d, &err) != 0)
			return cfg_fail(&err);
	if (cli->client)
		d->client = true;
	/* The overrides may have made the device inconsistent (--client with a
	 * config's socket_user, --socket-user with its "client": true, or
	 * --tune port_rx_ring=... with a loopback port). */
	if (cfg_check_device(d, &err) != 0 || cfg_check_ports(cfg, &err) != 0)
		return cfg_fail(&err);
	return 0;
}

/* Every core must be one this process may run on; a device without cores
 * gets the highest such core (core 0 usually carries the system's work). */
static int
resolve_cores(struct cfg *cfg, const cpu_set_t *allowed)
{
	int last = -1;

	for (int c = 0; c < CPU_SETSIZE && c < BE_MAX_CORES; c++)
		if (CPU_ISSET(c, allowed))
			last = c;
	for (unsigned i = 0; i < cfg->n_devices; i++) {
		struct cfg_device *d = &cfg->dev[i];

		if (d->n_cores == 0) {
			d->cores[0] = (uint16_t)last;
			d->n_cores = 1;
		}
		for (unsigned k = 0; k < d->n_cores; k++) {
			if (d->cores[k] < BE_MAX_CORES && CPU_ISSET(d->cores[k], allowed))
				continue;
			fprintf(stderr, "vhostmq: devices[%u].cores: core %u is not available to "
			        "this process (see taskset/cgroups; highest allowed is %d)\n", i,
			        d->cores[k], last);
			return 2;
		}
	}
	return 0;
}

static bool
eal_has(const struct cfg *cfg, const char *a, const char *b, const char *c)
{
	for (unsigned i = 0; i < cfg->n_eal_args; i++) {
		const char *s = cfg->eal_args[i];

		if (!strcmp(s, a) || !strcmp(s, b) || !strncmp(s, c, strlen(c)))
			return true;
	}
	return false;
}

/* The runtime dir EAL made under our own prefix, removed at exit. */
static char eal_runtime_dir[256];

static int
start_eal(const struct cfg *cfg, const cpu_set_t *allowed)
{
	char *argv[CFG_MAX_EAL_ARGS + 16], lcores[64], mem[32], prefix[48];
	int argc = 0, n = 0, first = -1, last = -1;
	bool own_prefix = false;
	uint64_t pools = 0;

	for (unsigned i = 0; i < cfg->n_devices; i++) {
		struct pool_shape shape;

		pool_shape_of_cfg(cfg, i, &shape);
		pools += pool_bytes(cfg->dev[i].tune.mbufs ? cfg->dev[i].tune.mbufs
		                                           : pool_mbufs_needed(&shape));
	}
	argv[argc++] = (char *)"vhostmq";
	if (cfg->n_eal_args == 0) {
		/* Our own mbufs only (guest memory arrives as fds): no hugepages,
		 * no PCI scan, no shared config files. */
		snprintf(mem, sizeof(mem), "%" PRIu64, EAL_BASE_MB + (pools + (1u << 20) - 1) / (1u << 20));
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"-m";
		argv[argc++] = mem;
		argv[argc++] = (char *)"--no-pci";
		argv[argc++] = (char *)"--no-shconf";
		argv[argc++] = (char *)"--log-level=lib.eal:warning";
	}
	for (unsigned i = 0; i < cfg->n_eal_args; i++)
		argv[argc++] = (char *)cfg->eal_args[i];
	if (!eal_has(cfg, "--file-prefix", "--in-memory", "--file-prefix=")) {
		/* One prefix per process: two vhostmq never share DPDK's runtime
		 * dir (telemetry socket); scripts/setup.sh removes those of dead
		 * processes. */
		snprintf(prefix, sizeof(prefix), "--file-prefix=vhostmq-%d", (int)getpid());
		argv[argc++] = prefix;
		own_prefix = true;
	}
	if (!eal_has(cfg, "-l", "-c", "--lcores")) {
		/* The control thread floats over every allowed CPU; poll threads
		 * pin themselves. */
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (!CPU_ISSET(c, allowed))
				continue;
			if (first < 0)
				first = c;
			last = c;
			n++;
		}
		if (n == last - first + 1)
			snprintf(lcores, sizeof(lcores), "--lcores=0@(%d-%d)", first, last);
		else
			snprintf(lcores, sizeof(lcores), "--lcores=0@(%d)", first);
		argv[argc++] = lcores;
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "vhostmq: DPDK EAL start-up failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	/* (Not argv: EAL's getopt permutes it.) */
	if (own_prefix)
		snprintf(eal_runtime_dir, sizeof(eal_runtime_dir), "%s", rte_eal_get_runtime_dir());
	return 0;
}

/* The runtime dir under our own prefix holds only DPDK's telemetry socket,
 * which DPDK unlinks in an exit-time destructor, too late for an rmdir here:
 * the prefix is ours alone, so its entries go too. */
static void
remove_runtime_dir(void)
{
	struct dirent *e;
	DIR *dir;

	if (eal_runtime_dir[0] == '\0' || (dir = opendir(eal_runtime_dir)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
	rmdir(eal_runtime_dir);
}

enum ev_kind { EV_SIGNAL = 1, EV_TIMER, EV_LISTEN, EV_CONN, EV_CTL, EV_RECONNECT, EV_GUARD };

static uint64_t
ev_tag(enum ev_kind k, unsigned dev)
{
	return (uint64_t)k << 32 | dev;
}

static int
ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* A device just got its frontend on fd: its messages come through epoll. */
static void
watch_conn(int ep, struct be_dev *d, int fd, unsigned idx)
{
	if (fd >= 0 && d->conn != NULL && vhu_conn_sock(d->conn) == fd &&
	    ep_add(ep, fd, ev_tag(EV_CONN, idx)) != 0)
		vlog_err("device %s: epoll: %s", d->cfg.name, strerror(errno));
}

static int
run_loop(struct be *be, struct be_ctl *ctl, int sfd, unsigned stats_interval)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), tfd = -1, rfd = -1;

	if (ep < 0 || ep_add(ep, sfd, ev_tag(EV_SIGNAL, 0)) != 0 ||
	    ep_add(ep, be_ctl_fd(ctl), ev_tag(EV_CTL, 0)) != 0 ||
	    ep_add(ep, vhu_guard_fd(), ev_tag(EV_GUARD, 0)) != 0)
		return -errno;
	if (stats_interval) {
		struct itimerspec its = { .it_interval = { stats_interval, 0 },
		                          .it_value = { stats_interval, 0 } };

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) != 0 ||
		    ep_add(ep, tfd, ev_tag(EV_TIMER, 0)) != 0)
			return -errno;
	}
	bool clients = false;

	for (unsigned i = 0; i < be->ndev; i++) {
		if (be->dev[i].cfg.client) {
			clients = true;
			watch_conn(ep, &be->dev[i], be_dev_try_connect(&be->dev[i]), i);
		} else if (ep_add(ep, be->dev[i].listen_fd, ev_tag(EV_LISTEN, i)) != 0) {
			return -errno;
		}
	}
	if (clients) {
		/* Client devices without a frontend try again on this tick. */
		struct itimerspec its = {
			.it_interval = { 0, BE_RECONNECT_MS * 1000000L },
			.it_value = { 0, BE_RECONNECT_MS * 1000000L },
		};

		rfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (rfd < 0 || timerfd_settime(rfd, 0, &its, NULL) != 0 ||
		    ep_add(ep, rfd, ev_tag(EV_RECONNECT, 0)) != 0)
			return -errno;
	}
	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(ep, evs, (int)ARRAY_SIZE(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int k = 0; k < n; k++) {
			enum ev_kind kind = (enum ev_kind)(evs[k].data.u64 >> 32);
			struct be_dev *d = &be->dev[(uint32_t)evs[k].data.u64];
			struct signalfd_siginfo si;
			uint64_t ticks;
			int fd;

			switch (kind) {
			case EV_SIGNAL:
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGUSR1) {
					be_stats_print(stdout, be);
					break;
				}
				vlog_info("signal %u: shutting down", si.ssi_signo);
				close(ep);
				if (tfd >= 0)
					close(tfd);
				if (rfd >= 0)
					close(rfd);
				return 0;
			case EV_TIMER:
				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					be_stats_print(stdout, be);
				break;
			case EV_LISTEN:
				fd = vhu_accept(d->listen_fd);
				if (fd < 0)
					break;
				be_dev_attach(d, fd);
				watch_conn(ep, d, fd, (unsigned)(d - be->dev));
				break;
			case EV_RECONNECT:
				if (read(rfd, &ticks, sizeof(ticks)) != sizeof(ticks))
					break;
				for (unsigned i = 0; i < be->ndev; i++)
					if (be->dev[i].cfg.client && be->dev[i].conn == NULL)
						watch_conn(ep, &be->dev[i],
						           be_dev_try_connect(&be->dev[i]), i);
				break;
			case EV_CONN:
				/* Closing the socket on detach also drops it from epoll. */
				if (d->conn != NULL)
					be_dev_conn_event(d);
				break;
			case EV_CTL:
				be_ctl_event(ctl);
				break;
			case EV_GUARD:
				/* A detached device's socket left epoll when it
				 * closed; later events of this batch see conn NULL. */
				be_guard_event(be);
				break;
			}
		}
	}
}

/* The control socket: --control, else the first device's socket + ".ctl". */
static struct be_ctl *
open_control(struct be *be, const struct cfg *cfg, const char *path)
{
	char buf[sizeof(cfg->dev[0].socket) + 4], why[300];
	struct be_ctl *ctl;

	if (path == NULL) {
		snprintf(buf, sizeof(buf), "%s.ctl", cfg->dev[0].socket);
		path = buf;
	}
	ctl = be_ctl_open(be, path, why, sizeof(why));
	if (ctl == NULL)
		vlog_err("control socket: %s%s", why,
		         path == buf ? " (the first device's socket + \".ctl\"; see --control)" : "");
	return ctl;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	static struct cfg cfg;           /* large: keep it off the stack */
	static struct be be;
	struct be_ctl *ctl = NULL;
	cpu_set_t allowed;
	sigset_t sigs;
	int rc, sfd;

	if ((rc = parse_cli(argc, argv, &cli)) != 0)
		return rc == 1 ? 0 : rc;
	if ((rc = load_config(&cli, &cfg)) != 0)
		return rc;
	vlog_set_level((enum vlog_level)cfg.log_level);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
		perror("vhostmq: sched_getaffinity");
		return 1;
	}
	if ((rc = resolve_cores(&cfg, &allowed)) != 0)
		return rc;
	/* Block before any thread starts, so only the signalfd sees these. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		perror("vhostmq: signalfd");
		return 1;
	}
	if (start_eal(&cfg, &allowed) != 0)
		return 1;
	/* Before the first device: from its first SET_MEM_TABLE on, a frontend
	 * that shrinks its memory must cost only its own connection. After
	 * EAL init, though EAL's hugepage allocator still swaps in a SIGBUS
	 * handler of its own for as long as it touches a new hugepage (and
	 * restores ours): a fault in that window is not guarded. */
	if ((rc = vhu_guard_install()) != 0) {
		fprintf(stderr, "vhostmq: SIGBUS guard: %s\n", strerror(-rc));
		rte_eal_cleanup();
		remove_runtime_dir();
		return 1;
	}
	be.start_ns = be_now_ns();
	be.allowed = allowed;
	rc = be_devs_create(&be, &cfg);
	if (rc == 0 && (ctl = open_control(&be, &cfg, cli.control)) == NULL)
		rc = -EINVAL;
	if (rc == 0) {
		vlog_info("vhostmq %s ready", VHOSTMQ_VERSION);
		rc = run_loop(&be, ctl, sfd, cli.stats_interval);
		if (rc != 0)
			vlog_err("event loop: %s", strerror(-rc));
		be_stats_print(stdout, &be);
	}
	be_ctl_close(ctl);
	be_devs_destroy(&be);
	close(sfd);
	rte_eal_cleanup();
	remove_runtime_dir();
	return rc == 0 ? 0 : 1;
}
