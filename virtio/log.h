/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio/log.h - one line per event on stderr, with a level and a wall-clock
 * timestamp. Shared by every module that logs (virtio/ itself never does: it
 * reports through return values and counters). Safe from any thread. */
#ifndef VHOSTMQ_VIRTIO_LOG_H
#define VHOSTMQ_VIRTIO_LOG_H

enum vlog_level { VLOG_ERR, VLOG_WARN, VLOG_INFO, VLOG_DEBUG };

void vlog_set_level(enum vlog_level l);
void vlog(enum vlog_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vlog_err(...)   vlog(VLOG_ERR, __VA_ARGS__)
#define vlog_warn(...)  vlog(VLOG_WARN, __VA_ARGS__)
#define vlog_info(...)  vlog(VLOG_INFO, __VA_ARGS__)
#define vlog_debug(...) vlog(VLOG_DEBUG, __VA_ARGS__)

#endif
