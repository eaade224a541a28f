/* SPDX-License-Identifier: BSD-3-Clause */
/* common/log.c - the logger behind log.h. Each line is formatted into one
 * buffer and written with a single write(2), so lines from different threads
 * never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "common/log.h"

static enum vlog_level vlog_max = VLOG_INFO;   /* set once at start-up */

void
vlog_set_level(enum vlog_level l)
{
	vlog_max = l;
}

void
vlog(enum vlog_level l, const char *fmt, ...)
{
	static const char *const tag[] = { "ERR", "WARN", "INFO", "DEBUG" };
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, k;

	if (l > vlog_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld vhostmq %s: ",
	             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tag[l]);
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += k < 0 ? 0 : (k < (int)sizeof(line) - n - 1 ? k : (int)sizeof(line) - n - 2);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;              /* nowhere left to report it */
}

bool
vlog_ratelimit_ok(struct vlog_ratelimit *rl, const char *line, unsigned *missed)
{
	struct timespec now;
	unsigned h = 2166136261u;        /* FNV-1a */
	long long t;

	*missed = 0;
	if (rl == NULL)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (long long)now.tv_sec + 1;   /* never 0: at == 0 marks an empty slot */
	for (const char *p = line; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (unsigned i = 0; i < VLOG_RATELIMIT_RECENT; i++)
		if (rl->recent[i].at != 0 && rl->recent[i].hash == h &&
		    t - rl->recent[i].at < (long long)rl->interval_s) {
			rl->missed++;
			return false;
		}
	if (t - rl->window >= (long long)rl->interval_s) {
		rl->window = t;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->missed++;
		return false;
	}
	rl->printed++;
	rl->recent[rl->next++ % VLOG_RATELIMIT_RECENT] = (struct vlog_recent){ h, t };
	*missed = rl->missed;
	rl->missed = 0;
	return true;
}
