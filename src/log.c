/* log.c — log sink with nats-server's line format.
 *
 * Owns the output FILE (stderr or -l file).  Any thread may log; stdio's
 * per-FILE lock keeps lines whole.  The level gates are plain globals read
 * on the hot path (trace checks happen per protocol op). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

bool log_debug_enabled;
bool log_trace_enabled;

static struct {
  FILE *out;       /* owned when it is a file; stderr otherwise */
  char *path;      /* owned */
  bool logtime;
  bool utc;
  long pid;
} logger = {.logtime = true};

static const char *level_tag[] = {"[FTL]", "[ERR]", "[WRN]", "[INF]", "[DBG]", "[TRC]"};

bool log_configure(const LogConfig *cfg, char **error) {
  log_debug_enabled = cfg->debug;
  log_trace_enabled = cfg->trace;
  logger.logtime = cfg->logtime;
  logger.utc = cfg->logtime_utc;
  logger.pid = (long)getpid();
  g_free(logger.path);
  logger.path = cfg->file ? g_strdup(cfg->file) : NULL;
  if (logger.path && !log_reopen()) {
    if (error) *error = g_strdup_printf("error opening log file %s: %s", cfg->file, g_strerror(errno));
    return false;
  }
  return true;
}

bool log_reopen(void) {
  if (!logger.path) return true;
  FILE *f = fopen(logger.path, "a");
  if (!f) return false;
  setvbuf(f, NULL, _IOLBF, 0);
  FILE *old = logger.out;
  logger.out = f;
  if (old && old != stderr) fclose(old);
  return true;
}

void log_close(void) {
  if (logger.out && logger.out != stderr) fclose(logger.out);
  logger.out = NULL;
  g_clear_pointer(&logger.path, g_free);
}

void log_write(LogLevel level, const char *fmt, ...) {
  FILE *out = logger.out ? logger.out : stderr;
  char stamp[64] = "";
  if (logger.logtime) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    if (logger.utc) gmtime_r(&tv.tv_sec, &tm);
    else localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%06ld ", (long)tv.tv_usec);
  }
  if (!logger.pid) logger.pid = (long)getpid();
  va_list ap;
  va_start(ap, fmt);
  flockfile(out);
  fprintf(out, "[%ld] %s%s ", logger.pid, stamp, level_tag[level]);
  vfprintf(out, fmt, ap);
  fputc('\n', out);
  funlockfile(out);
  va_end(ap);
  fflush(out);
}
