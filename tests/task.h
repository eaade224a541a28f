/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/task.h - this process's threads as /proc shows them: the tid of the
 * thread with a given name (pthread_setname_np), for tests that check a poll
 * thread's pinning, sleep or exit. */
#ifndef VHOSTMQ_TESTS_TASK_H
#define VHOSTMQ_TESTS_TASK_H
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tid of this process's thread named comm, or -1 if there is none. */
static inline int
task_by_name(const char *comm)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int tid = -1;

	if (d == NULL)
		return -1;
	while (tid < 0 && (e = readdir(d)) != NULL) {
		char path[300], name[64] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(name, sizeof(name), f) != NULL) {
			name[strcspn(name, "\n")] = '\0';
			if (strcmp(name, comm) == 0)
				tid = atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return tid;
}

#endif
