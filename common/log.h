/* SPDX-License-Identifier: BSD-3-Clause */
/* common/log.h - one line per event on stderr, with a level and a wall-clock
 * timestamp, or, when stderr is the journal, with the syslog priority that
 * journald files the line under. Shared by every module that logs (virtio/ itself never does: it
 * reports through return values and counters). Safe from any thread. */
#ifndef VHOSTMQ_COMMON_LOG_H
#define VHOSTMQ_COMMON_LOG_H
#include <stdbool.h>

enum vlog_level { VLOG_ERR, VLOG_WARN, VLOG_INFO, VLOG_DEBUG };

void vlog_set_level(enum vlog_level l);
void vlog(enum vlog_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Looks again at where stderr goes: true when it is the journal
 * (JOURNAL_STREAM names fd 2's device and inode, as systemd sets it for a
 * service), and lines then start with "<N>" (sd-daemon(3): 3 err, 4 warn,
 * 6 info, 7 debug) instead of the time. The first vlog() looks by itself;
 * call this after redirecting stderr. */
bool vlog_detect_sink(void);

/* Rejection lines of one source (a device), which a frontend can repeat at
 * will, also by reconnecting: a line repeating one of the last few logged
 * within interval_s is dropped, and at most burst lines per interval get
 * through at all. The owner keeps it across connections; one thread uses it. */
#define VLOG_RATELIMIT_RECENT 8
struct vlog_ratelimit {
	unsigned interval_s, burst;
	long long window;                /* start of the current interval */
	unsigned printed, missed;
	struct vlog_recent { unsigned hash; long long at; } recent[VLOG_RATELIMIT_RECENT];
	unsigned next;
};
#define VLOG_RATELIMIT_INIT { .interval_s = 10, .burst = 100 }

/* true: log line; *missed is how many lines were dropped since the last one
 * that got through (say so). NULL rl: always true. */
bool vlog_ratelimit_ok(struct vlog_ratelimit *rl, const char *line, unsigned *missed);

#define vlog_err(...)   vlog(VLOG_ERR, __VA_ARGS__)
#define vlog_warn(...)  vlog(VLOG_WARN, __VA_ARGS__)
#define vlog_info(...)  vlog(VLOG_INFO, __VA_ARGS__)
#define vlog_debug(...) vlog(VLOG_DEBUG, __VA_ARGS__)

#endif
