/* log.h — nats-server's logging: "[pid] 2006/01/02 15:04:05.000000 [INF] text"
 * on stderr (coloured labels on a terminal) or in a -l file (with size-based
 * rotation), or syslog lines (local -s, remote -r udp:// tcp:// unix://).
 * Callable from any thread.  Library-style modules (parser, sublist, conf)
 * never log; their callers do. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

#include "forward.h"

typedef enum LogLevel { LOG_FATAL, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE } LogLevel;

/* Where lines go and which are written.  As with nats-server the sink is the
 * first of: file, remote syslog, local syslog, stderr.  There are no
 * per-subsystem levels: -D, -V, -VV (and -DV, -DVV) are the only controls. */
typedef struct LogConfig {
  bool debug;                /* -D */
  bool trace;                /* -V */
  bool trace_verbose;        /* -VV: also trace system account traffic */
  bool logtime;              /* -T, default true */
  bool logtime_utc;          /* 2.10: timestamps of log lines in UTC */
  const char *file;          /* borrowed; -l; NULL = no file */
  int64_t size_limit;        /* logfile_size_limit: rotate past this many bytes; 0 = never */
  int64_t max_num;           /* 2.10 logfile_max_num: keep max_num-1 rotated files; 0 = all */
  bool syslog;               /* -s */
  const char *remote_syslog; /* borrowed; -r udp://host:port, tcp://host:port, unix:///path */
} LogConfig;

/* Opens the sink cfg names and switches to it (closing the previous one).
 * On failure the previous sink stays and *error (transfer full) holds the
 * text nats-server dies with, e.g. "error opening file: open x: ...". */
bool log_configure(const LogConfig *cfg, char **error);
/* The same from server options: at startup and on config reload. */
bool log_apply_options(const Options *o, char **error);
/* SIGUSR1: reopen the same -l file (after an external mv).  False with
 * *error (transfer full) if it cannot be opened; true and a no-op when
 * the sink is not a file. */
bool log_reopen(char **error);
bool log_is_file(void);
void log_close(void);

/* Prints msg as Go's standard "log" package does ("2006/01/02 15:04:05 msg")
 * on stderr: what nats-server's log.Fatalf prints before it exits 1. */
void log_print_std(const char *msg);

extern bool log_debug_enabled;
extern bool log_trace_enabled;
extern bool log_trace_sys_enabled;

void log_write(LogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_fatal(...) log_write(LOG_FATAL, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_trace_enabled) log_write(LOG_TRACE, __VA_ARGS__); } while (0)
