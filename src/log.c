/* log.c — the log sink, in nats-server's formats.
 *
 * Owns the one output: stderr, the -l file, or a syslog socket.  Any thread
 * may log; a mutex keeps each line whole, keeps the rotation byte count
 * right and lets log_configure (startup, reload) and log_reopen (SIGUSR1,
 * loop thread) swap the sink under writers.  The level gates are plain
 * globals read without the lock on the hot path (trace checks happen per
 * protocol op); a stale read during a reload only costs one line.
 * Callers: main (log_apply_options at startup), the config reload
 * (log_apply_options again: level flags, file, syslog), the SIGUSR1 handler in
 * server.c (log_reopen: the same path again, as nats-server does).
 *
 * Formats, as nats-server 2.9.10 writes them:
 *  - stderr/file: "[pid] 2006/01/02 15:04:05.000000 [INF] text\n" (no time
 *    with -T=false); labels are coloured when stderr is a character device.
 *  - file rotation (logfile_size_limit): after the write that takes the file
 *    past the limit it is renamed to "<file>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn"
 *    (local time), reopened, and starts with
 *    "[pid] <time> [INF] Rotated log, backup saved as \"<backup>\"\r\n" —
 *    that one line ends in CRLF, as Go writes it outside its log package.
 *  - syslog: no pid/time prefix of ours; the syslog header is
 *    "<pri>Jan _2 15:04:05 tag[pid]: " for local sockets (-s, unix://) and
 *    "<pri>2006-01-02T15:04:05Z07:00 host tag[pid]: " for udp:// and tcp://,
 *    each message followed by "\n".  -s uses facility daemon, -r facility 0. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "opts.h"

bool log_debug_enabled;
bool log_trace_enabled;
bool log_trace_sys_enabled;

typedef enum SinkKind { SINK_STDERR, SINK_FILE, SINK_SYSLOG } SinkKind;

typedef struct Sink {
  SinkKind kind;
  int fd;              /* owned unless SINK_STDERR (2) */
  char *path;          /* owned; SINK_FILE: the -l path */
  int64_t out;         /* SINK_FILE: bytes in the current file */
  int64_t limit;       /* SINK_FILE: rotate past this; 0 = never */
  int64_t max_num;     /* SINK_FILE: rotated files kept + 1; 0 = all */
  bool colors;         /* SINK_STDERR */
  /* SINK_SYSLOG: enough to reconnect, as Go's syslog writer retries once */
  bool sys_local;      /* local header format (unix sockets) */
  int sys_facility;    /* 3<<3 (daemon) for -s, 0 for -r */
  int sys_family, sys_type;
  struct sockaddr_storage sys_addr;
  socklen_t sys_addrlen;
  bool sys_default_paths; /* -s: try /dev/log, /var/run/syslog, /var/run/log */
} Sink;

static GMutex lock;
static Sink sink = {.kind = SINK_STDERR, .fd = 2};
static bool logtime = true;
static bool logtime_utc;
static char pid_prefix[32];
static char hostname[256];

static const char *const plain_label[] = {"[FTL] ", "[ERR] ", "[WRN] ", "[INF] ", "[DBG] ", "[TRC] "};
static const char *const color_label[] = {"[\x1b[31mFTL\x1b[0m] ", "[\x1b[31mERR\x1b[0m] ", "[\x1b[0;93mWRN\x1b[0m] ",
                                          "[\x1b[32mINF\x1b[0m] ", "[\x1b[36mDBG\x1b[0m] ", "[\x1b[33mTRC\x1b[0m] "};
/* syslog severities: crit, err, warning, notice, debug, and notice for traces */
static const int syslog_severity[] = {2, 3, 4, 5, 7, 5};

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  /* nothing sensible to do: the log is the error channel */
    p += w;
    n -= (size_t)w;
  }
}

static void sink_free(Sink *s) {
  if (s->kind != SINK_STDERR && s->fd >= 0) close(s->fd);
  g_free(s->path);
  *s = (Sink){.kind = SINK_STDERR, .fd = 2};
}

/* Go's *os.PathError text: "<op> <path>: <errno text in lower case>". */
static char *path_error(const char *op, const char *path, int err) {
  g_autofree char *why = g_strdup(g_strerror(err));
  why[0] = g_ascii_tolower(why[0]);
  return g_strdup_printf("%s %s: %s", op, path, why);
}

/* ---- timestamps ------------------------------------------------------------ */

static void now_tm(struct timespec *ts, struct tm *tm, bool utc) {
  clock_gettime(CLOCK_REALTIME, ts);
  if (utc) gmtime_r(&ts->tv_sec, tm);
  else localtime_r(&ts->tv_sec, tm);
}

/* "2006/01/02 15:04:05.000000 " (Go's LstdFlags|Lmicroseconds). */
static size_t format_stamp(char *buf, size_t cap, bool utc) {
  struct timespec ts;
  struct tm tm;
  now_tm(&ts, &tm, utc);
  size_t n = strftime(buf, cap, "%Y/%m/%d %H:%M:%S", &tm);
  n += (size_t)snprintf(buf + n, cap - n, ".%06ld ", ts.tv_nsec / 1000);
  return n;
}

void log_print_std(const char *msg) {
  struct timespec ts;
  struct tm tm;
  now_tm(&ts, &tm, false);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
  fprintf(stderr, "%s %s\n", stamp, msg);
  fflush(stderr);
}

/* ---- file sink --------------------------------------------------------------- */

static bool file_open(Sink *s, const char *path, char **error) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    g_autofree char *why = path_error(fd < 0 ? "open" : "stat", path, err);
    if (error) *error = g_strdup_printf("error opening file: %s", why);
    return false;
  }
  s->kind = SINK_FILE;
  s->fd = fd;
  s->path = g_strdup(path);
  s->out = st.st_size;
  return true;
}

/* A line written straight to the file (rotation notices): always local time
 * and CRLF, as Go's fileLogger.logDirect does. */
static size_t file_direct(Sink *s, LogLevel level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static size_t file_direct(Sink *s, LogLevel level, const char *fmt, ...) {
  GString *line = g_string_new(pid_prefix);
  if (logtime) {
    char stamp[48];
    format_stamp(stamp, sizeof stamp, false);
    g_string_append(line, stamp);
  }
  g_string_append(line, plain_label[level]);
  va_list ap;
  va_start(ap, fmt);
  g_string_append_vprintf(line, fmt, ap);
  va_end(ap);
  g_string_append(line, "\r\n");
  write_all(s->fd, line->str, line->len);
  size_t n = line->len;
  g_string_free(line, TRUE);
  return n;
}

static char *go_quote(const char *s) {
  size_t need = errors_quote(s, strlen(s), NULL, 0) + 1;
  char *q = g_malloc(need);
  errors_quote(s, strlen(s), q, need);
  return q;
}

/* "<base>.YYYY.MM.DD.hh.mm.ss[.fraction]": a backup this logger made. */
static bool is_backup_name(const char *name, const char *base) {
  size_t bl = strlen(base);
  if (strncmp(name, base, bl) != 0 || name[bl] != '.') return false;
  const char *p = name + bl + 1;
  static const int widths[] = {4, 2, 2, 2, 2, 2};
  static const int maxima[] = {9999, 12, 31, 23, 59, 59};
  for (size_t i = 0; i < G_N_ELEMENTS(widths); i++) {
    int v = 0;
    for (int k = 0; k < widths[i]; k++, p++) {
      if (!g_ascii_isdigit(*p)) return false;
      v = v * 10 + (*p - '0');
    }
    if (v > maxima[i] || (i == 1 && v == 0) || (i == 2 && v == 0)) return false;
    if (i + 1 < G_N_ELEMENTS(widths) && *p++ != '.') return false;
  }
  if (*p == '\0') return true;
  if (*p++ != '.') return false;
  size_t digits = 0;
  for (; g_ascii_isdigit(*p); p++) digits++;
  return *p == '\0' && digits >= 1 && digits <= 9;
}

static int compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* logfile_max_num (2.10): keep the newest max_num-1 backups. */
static void file_purge(Sink *s) {
  g_autofree char *dir = g_path_get_dirname(s->path);
  g_autofree char *base = g_path_get_basename(s->path);
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d) {
    g_autofree char *qdir = go_quote(dir);
    g_autofree char *why = path_error("open", dir, errno);
    file_direct(s, LOG_ERROR, "Unable to read directory %s for log purge (%s), will attempt next rotation", qdir, why);
    return;
  }
  g_autoptr(GPtrArray) backups = g_ptr_array_new_with_free_func(g_free);
  for (const char *name; (name = g_dir_read_name(d));) {
    if (!is_backup_name(name, base)) continue;
    g_autofree char *full = g_build_filename(dir, name, NULL);
    if (g_file_test(full, G_FILE_TEST_IS_DIR)) continue;
    g_ptr_array_add(backups, g_strdup(name));
  }
  g_dir_close(d);
  g_ptr_array_sort(backups, compare_names);  /* the stamp sorts oldest first */
  int64_t keep = s->max_num - 1;
  for (guint i = 0; (int64_t)(backups->len - i) > keep; i++) {
    const char *name = backups->pdata[i];
    g_autofree char *full = g_build_filename(dir, name, NULL);
    g_autofree char *qname = go_quote(name);
    if (unlink(full) != 0) {
      g_autofree char *why = path_error("remove", full, errno);
      file_direct(s, LOG_ERROR, "Unable to remove backup log file %s (%s), will attempt next rotation", qname, why);
      return;
    }
    file_direct(s, LOG_INFO, "Purged log file %s", qname);
  }
}

static void file_rotate(Sink *s) {
  close(s->fd);
  s->fd = -1;
  struct timespec ts;
  struct tm tm;
  now_tm(&ts, &tm, false);
  g_autofree char *bak = g_strdup_printf("%s.%04d.%02d.%02d.%02d.%02d.%02d.%09ld", s->path, tm.tm_year + 1900,
                                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  (void)rename(s->path, bak);
  s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
  if (s->fd < 0) {
    /* nats-server panics here; there is no log left to report to. */
    g_autofree char *q = go_quote(s->path);
    g_autofree char *why = path_error("open", s->path, errno);
    fprintf(stderr, "panic: Unable to re-open the logfile %s after rotation: %s\n", q, why);
    _exit(2);
  }
  g_autofree char *qbak = go_quote(bak);
  s->out = (int64_t)file_direct(s, LOG_INFO, "Rotated log, backup saved as %s", qbak);
  if (s->max_num > 0) file_purge(s);
}

/* ---- syslog sink ------------------------------------------------------------- */

static int sys_connect_addr(int family, int type, const struct sockaddr *sa, socklen_t len) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, sa, len) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

static bool sys_connect_local(Sink *s) {
  static const char *const paths[] = {"/dev/log", "/var/run/syslog", "/var/run/log"};
  static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
  for (size_t t = 0; t < G_N_ELEMENTS(types); t++)
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
      struct sockaddr_un un = {.sun_family = AF_UNIX};
      g_strlcpy(un.sun_path, paths[i], sizeof un.sun_path);
      int fd = sys_connect_addr(AF_UNIX, types[t], (struct sockaddr *)&un, sizeof un);
      if (fd >= 0) {
        s->fd = fd;
        s->sys_type = types[t];
        return true;
      }
    }
  return false;
}

static bool sys_reconnect(Sink *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->sys_default_paths) return sys_connect_local(s);
  s->fd = sys_connect_addr(s->sys_family, s->sys_type, (struct sockaddr *)&s->sys_addr, s->sys_addrlen);
  return s->fd >= 0;
}

/* Go's "dial tcp 127.0.0.1:1: connect: connection refused". */
static char *dial_error(const char *net, const char *addr, const char *op, int err) {
  g_autofree char *why = g_strdup(g_strerror(err));
  why[0] = g_ascii_tolower(why[0]);
  return g_strdup_printf("error connecting to syslog: \"dial %s %s: %s: %s\"", net, addr, op, why);
}

static bool sys_open_remote(Sink *s, const char *url, char **error) {
  /* url.Parse: a scheme is letters, digits, + - . after a leading letter. */
  const char *colon = strchr(url, ':');
  size_t slen = 0;
  if (colon && g_ascii_isalpha(url[0])) {
    slen = (size_t)(colon - url);
    for (size_t i = 0; i < slen; i++)
      if (!g_ascii_isalnum(url[i]) && !strchr("+-.", url[i])) slen = 0;
  } else if (colon && colon != url) {
    /* nats-server dies with url.Parse's error ("127.0.0.1:514" has no scheme) */
    *error = g_strdup_printf("parse \"%s\": first path segment in URL cannot contain colon", url);
    return false;
  }
  g_autofree char *scheme = g_ascii_strdown(url, (gssize)slen);
  const char *rest = slen ? url + slen + 1 : url;
  if (strcmp(scheme, "udp") != 0 && strcmp(scheme, "tcp") != 0 && strcmp(scheme, "unix") != 0) {
    *error = g_strdup_printf("error invalid network type: \"%s\"", scheme);
    return false;
  }
  bool unix_sock = strcmp(scheme, "unix") == 0;
  g_autofree char *host_port = NULL, *path = NULL;
  if (g_str_has_prefix(rest, "//")) {
    const char *auth = rest + 2, *slash = strchr(auth, '/');
    host_port = slash ? g_strndup(auth, (gsize)(slash - auth)) : g_strdup(auth);
    path = g_strdup(slash ? slash : "");
  } else {
    host_port = g_strdup("");
    path = g_strdup(rest);
  }
  s->kind = SINK_SYSLOG;
  s->sys_facility = 0;
  if (unix_sock) {
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof un.sun_path) {
      *error = dial_error("unix", path, "connect", ENAMETOOLONG);
      return false;
    }
    g_strlcpy(un.sun_path, path, sizeof un.sun_path);
    s->sys_local = true;
    s->sys_family = AF_UNIX;
    s->sys_type = SOCK_STREAM;
    memcpy(&s->sys_addr, &un, sizeof un);
    s->sys_addrlen = sizeof un;
    if (!sys_reconnect(s)) {
      *error = dial_error("unix", path, "connect", errno);
      return false;
    }
    return true;
  }
  /* host:port, [v6]:port */
  const char *pc = strrchr(host_port, ':');
  g_autofree char *host = pc ? g_strndup(host_port, (gsize)(pc - host_port)) : g_strdup(host_port);
  const char *port = pc ? pc + 1 : "";
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host) - 2);
    host[strlen(host) - 2] = '\0';
  }
  bool udp = strcmp(scheme, "udp") == 0;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM}, *res = NULL;
  if (!pc) {
    *error = g_strdup_printf("error connecting to syslog: \"dial %s: address %s: missing port in address\"", scheme, host_port);
    return false;
  }
  int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
  if (rc != 0 || !res) {
    *error = g_strdup_printf("error connecting to syslog: \"dial %s: lookup %s: %s\"", scheme, host,
                             rc == EAI_NONAME ? "no such host" : gai_strerror(rc));
    return false;
  }
  s->sys_local = false;
  s->sys_family = res->ai_family;
  s->sys_type = res->ai_socktype;
  memcpy(&s->sys_addr, res->ai_addr, res->ai_addrlen);
  s->sys_addrlen = res->ai_addrlen;
  freeaddrinfo(res);
  if (!sys_reconnect(s)) {
    *error = dial_error(scheme, host_port, "connect", errno);
    return false;
  }
  return true;
}

static void sys_send(Sink *s, LogLevel level, const char *msg, size_t len) {
  char head[320];
  struct timespec ts;
  struct tm tm;
  now_tm(&ts, &tm, false);
  int pri = s->sys_facility | syslog_severity[level];
  char stamp[64];
  size_t hn;
  if (s->sys_local) {
    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    hn = (size_t)snprintf(head, sizeof head, "<%d>%s %s[%ld]: ", pri, stamp, program_invocation_short_name, (long)getpid());
  } else {
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) g_strlcpy(stamp + n, "Z", sizeof stamp - n);
    else snprintf(stamp + n, sizeof stamp - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600, labs(off) % 3600 / 60);
    hn = (size_t)snprintf(head, sizeof head, "<%d>%s %s %s[%ld]: ", pri, stamp, hostname, program_invocation_short_name,
                          (long)getpid());
  }
  hn = MIN(hn, sizeof head - 1);
  bool nl = len == 0 || msg[len - 1] != '\n';
  g_autofree char *pkt = g_malloc(hn + len + 1);
  memcpy(pkt, head, hn);
  memcpy(pkt + hn, msg, len);
  size_t total = hn + len;
  if (nl) pkt[total++] = '\n';
  /* One try, then one reconnect and retry, as Go's syslog writer does. */
  for (int attempt = 0; attempt < 2; attempt++) {
    if (s->fd >= 0) {
      ssize_t w = send(s->fd, pkt, total, MSG_NOSIGNAL);
      if (w == (ssize_t)total) return;
    }
    if (attempt == 0 && !sys_reconnect(s)) return;
  }
}

/* ---- configuration ----------------------------------------------------------- */

bool log_configure(const LogConfig *cfg, char **error) {
  g_autofree char *err = NULL;
  Sink next = {.kind = SINK_STDERR, .fd = -1};
  char host[sizeof hostname] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) g_strlcpy(host, "localhost", sizeof host);
  if (cfg->file && *cfg->file) {
    if (!file_open(&next, cfg->file, &err)) goto fail;
    next.limit = cfg->size_limit > 0 ? cfg->size_limit : 0;
    next.max_num = cfg->max_num > 0 ? cfg->max_num : 0;
  } else if (cfg->remote_syslog && *cfg->remote_syslog) {
    if (!sys_open_remote(&next, cfg->remote_syslog, &err)) goto fail;
  } else if (cfg->syslog) {
    next.kind = SINK_SYSLOG;
    next.sys_local = true;
    next.sys_default_paths = true;
    next.sys_facility = 3 << 3; /* daemon */
    if (!sys_connect_local(&next)) {
      err = g_strdup("error connecting to syslog: \"Unix syslog delivery error\"");
      goto fail;
    }
  } else {
    next.fd = 2;
    struct stat st;
    next.colors = fstat(2, &st) == 0 && S_ISCHR(st.st_mode);
  }
  g_mutex_lock(&lock);
  sink_free(&sink);
  sink = next;
  memcpy(hostname, host, sizeof hostname);
  logtime = cfg->logtime;
  logtime_utc = cfg->logtime_utc;
  snprintf(pid_prefix, sizeof pid_prefix, "[%ld] ", (long)getpid());
  log_debug_enabled = cfg->debug;
  log_trace_enabled = cfg->trace || cfg->trace_verbose;
  log_trace_sys_enabled = cfg->trace_verbose;
  bool rotate_now = sink.kind == SINK_FILE && sink.limit > 0 && sink.out > sink.limit;
  g_mutex_unlock(&lock);
  /* A file already past the limit rotates right after this line. */
  if (rotate_now) log_info("Rotating logfile...");
  return true;
fail:
  sink_free(&next);
  if (error) *error = g_steal_pointer(&err);
  return false;
}

bool log_apply_options(const Options *o, char **error) {
  LogConfig lc = {.debug = o->debug,
                  .trace = o->trace,
                  .trace_verbose = o->trace_verbose,
                  .logtime = o->logtime,
                  .logtime_utc = o->logtime_utc,
                  .file = o->log_file,
                  .size_limit = o->log_size_limit,
                  .max_num = o->log_max_num,
                  .syslog = o->syslog,
                  .remote_syslog = o->remote_syslog};
  return log_configure(&lc, error);
}

bool log_is_file(void) {
  g_mutex_lock(&lock);
  bool is_file = sink.kind == SINK_FILE;
  g_mutex_unlock(&lock);
  return is_file;
}

bool log_reopen(char **error) {
  g_mutex_lock(&lock);
  if (sink.kind != SINK_FILE) {
    g_mutex_unlock(&lock);
    return true;
  }
  Sink next = {.kind = SINK_STDERR, .fd = -1};
  g_autofree char *path = g_strdup(sink.path);
  g_autofree char *err = NULL;
  if (!file_open(&next, path, &err)) {
    g_mutex_unlock(&lock);
    if (error) *error = g_steal_pointer(&err);
    return false;
  }
  next.limit = sink.limit;
  next.max_num = sink.max_num;
  sink_free(&sink);
  sink = next;
  bool rotate_now = sink.limit > 0 && sink.out > sink.limit;
  g_mutex_unlock(&lock);
  if (rotate_now) log_info("Rotating logfile...");
  return true;
}

void log_close(void) {
  g_mutex_lock(&lock);
  sink_free(&sink);
  g_mutex_unlock(&lock);
}

/* ---- writing ------------------------------------------------------------------ */

void log_write(LogLevel level, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *big = NULL;
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  const char *msg = small;
  if (n < 0) return;
  if ((size_t)n >= sizeof small) {
    va_start(ap, fmt);
    big = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    msg = big;
  }
  size_t msg_len = (size_t)n;

  g_mutex_lock(&lock);
  if (!pid_prefix[0]) snprintf(pid_prefix, sizeof pid_prefix, "[%ld] ", (long)getpid());
  if (sink.kind == SINK_SYSLOG) {
    sys_send(&sink, level, msg, msg_len);
    g_mutex_unlock(&lock);
    return;
  }
  char head[128];
  size_t hn = (size_t)g_strlcpy(head, pid_prefix, sizeof head);
  if (logtime) hn += format_stamp(head + hn, sizeof head - hn, logtime_utc);
  hn += (size_t)g_strlcpy(head + hn, (sink.colors ? color_label : plain_label)[level], sizeof head - hn);
  hn = MIN(hn, sizeof head - 1);
  /* One write per line (no interleaving with other processes either). */
  bool nl = msg_len == 0 || msg[msg_len - 1] != '\n';
  size_t total = hn + msg_len + (nl ? 1 : 0);
  char stack[1024];
  g_autofree char *heap = total > sizeof stack ? g_malloc(total) : NULL;
  char *line = heap ? heap : stack;
  memcpy(line, head, hn);
  memcpy(line + hn, msg, msg_len);
  if (nl) line[total - 1] = '\n';
  write_all(sink.fd, line, total);
  if (sink.kind == SINK_FILE) {
    sink.out += (int64_t)total;
    if (sink.limit > 0 && sink.out > sink.limit) file_rotate(&sink);
  }
  g_mutex_unlock(&lock);
}
