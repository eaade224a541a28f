/* SPDX-License-Identifier: BSD-3-Clause */
/* common/log.c - the logger behind log.h. Each line is formatted into one
 * buffer and written with a single write(2), so lines from different threads
 * never interleave. On a terminal or a file a line starts with the time;
 * on the journal (systemd's stderr) with its syslog priority instead. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/log.h"

static enum vlog_level vlog_max = VLOG_INFO;   /* set once at start-up */
/* 1: stderr is the journal, 0: it is not, -1: not looked at yet. Written by
 * vlog_detect_sink() (whichever thread logs first, or the caller), relaxed:
 * every thread that looks finds the same answer. */
static int vlog_journal = -1;

bool
vlog_detect_sink(void)
{
	/* systemd's stream protocol (systemd.exec(5), JOURNAL_STREAM): the
	 * device and inode of the journal's socket as "DEV:INO" in decimal.
	 * The variable is inherited, so a child whose stderr was redirected
	 * elsewhere still has it: only a match with fd 2 itself counts. */
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;
	bool j = env != NULL &&
	         sscanf(env, "%llu:%llu%n", &dev, &ino, &end) == 2 && env[end] == '\0' &&
	         fstat(STDERR_FILENO, &st) == 0 &&
	         (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;

	__atomic_store_n(&vlog_journal, j ? 1 : 0, __ATOMIC_RELAXED);
	return j;
}

void
vlog_set_level(enum vlog_level l)
{
	vlog_max = l;
}

void
vlog(enum vlog_level l, const char *fmt, ...)
{
	static const char *const tag[] = { "ERR", "WARN", "INFO", "DEBUG" };
	/* sd-daemon(3) prefixes: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
	static const char *const prio[] = { "<3>", "<4>", "<6>", "<7>" };
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, k, journal;

	if (l > vlog_max)
		return;
	journal = __atomic_load_n(&vlog_journal, __ATOMIC_RELAXED);
	if (journal < 0)
		journal = vlog_detect_sink();
	if (journal) {
		/* journald stamps the time and the program name itself. */
		n = snprintf(line, sizeof(line), "%s", prio[l]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld vhostmq %s: ",
		             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tag[l]);
	}
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
