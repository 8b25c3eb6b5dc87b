/* log.h — nats-server's log line format: "[pid] 2006/01/02 15:04:05.000000 [INF] text".
 * Callable from any thread (stdio locking).  Library-style modules (parser,
 * sublist, conf) never log; their callers do. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <glib.h>

typedef enum LogLevel { LOG_FATAL, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE } LogLevel;

typedef struct LogConfig {
  bool debug;       /* -D */
  bool trace;       /* -V */
  bool trace_verbose; /* -VV: also trace system account traffic (kept for flag parity) */
  bool logtime;     /* -T, default true */
  bool logtime_utc;
  const char *file; /* borrowed; NULL = stderr */
} LogConfig;

bool log_configure(const LogConfig *cfg, char **error);  /* (transfer full) *error on failure */
bool log_reopen(void);                                   /* SIGUSR1 */
void log_close(void);

extern bool log_debug_enabled;
extern bool log_trace_enabled;

void log_write(LogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_fatal(...) log_write(LOG_FATAL, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_trace_enabled) log_write(LOG_TRACE, __VA_ARGS__); } while (0)
