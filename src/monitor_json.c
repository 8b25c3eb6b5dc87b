/* monitor_json.c — Go-compatible JSON writer and value formatting for the
 * monitoring endpoints (see monitor_json.h and monitor.h): durations,
 * uptimes and times as Go prints them.  Pure formatting: no I/O, any thread. */
#include "monitor_json.h"

#include <time.h>

#include "monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(JsonW *w, GString *out, bool indent) {
  memset(w, 0, sizeof *w);
  w->out = out;
  w->indent = indent;
}

static void jw_newline(JsonW *w, int depth) {
  if (!w->indent) return;
  g_string_append_c(w->out, '\n');
  for (int i = 0; i < depth; i++) g_string_append(w->out, "  ");
}

void jw_key(JsonW *w, const char *key) {
  if (w->depth > 0) {
    if (!w->empty[w->depth]) g_string_append_c(w->out, ',');
    w->empty[w->depth] = false;
    jw_newline(w, w->depth);
  }
  if (key) {
    jw_append_string(w->out, key);
    g_string_append(w->out, w->indent ? ": " : ":");
  }
}

static void jw_open(JsonW *w, const char *key, char c) {
  jw_key(w, key);
  g_string_append_c(w->out, c);
  /* Deeper nesting than we ever produce is a programmer error. */
  g_assert(w->depth + 1 < JW_MAX_DEPTH);
  w->depth++;
  w->empty[w->depth] = true;
}

static void jw_close(JsonW *w, char c) {
  bool was_empty = w->empty[w->depth];
  w->depth--;
  if (!was_empty) jw_newline(w, w->depth);
  g_string_append_c(w->out, c);
}

void jw_begin_object(JsonW *w, const char *key) { jw_open(w, key, '{'); }
void jw_end_object(JsonW *w) { jw_close(w, '}'); }
void jw_begin_array(JsonW *w, const char *key) { jw_open(w, key, '['); }
void jw_end_array(JsonW *w) { jw_close(w, ']'); }

void jw_string(JsonW *w, const char *key, const char *value) {
  jw_key(w, key);
  jw_append_string(w->out, value ? value : "");
}

void jw_int(JsonW *w, const char *key, int64_t value) {
  jw_key(w, key);
  g_string_append_printf(w->out, "%" G_GINT64_FORMAT, value);
}

void jw_uint(JsonW *w, const char *key, uint64_t value) {
  jw_key(w, key);
  g_string_append_printf(w->out, "%" G_GUINT64_FORMAT, value);
}

void jw_bool(JsonW *w, const char *key, bool value) {
  jw_key(w, key);
  g_string_append(w->out, value ? "true" : "false");
}

void jw_double(JsonW *w, const char *key, double value) {
  jw_key(w, key);
  jw_append_double(w->out, value);
}

void jw_null(JsonW *w, const char *key) {
  jw_key(w, key);
  g_string_append(w->out, "null");
}

void jw_append_string(GString *out, const char *s) {
  static const char hex[] = "0123456789abcdef";
  g_string_append_c(out, '"');
  const char *p = s;
  while (*p) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) {
      switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '<': case '>': case '&':
          /* Go escapes these so JSON is safe inside HTML. */
          g_string_append(out, "\\u00");
          g_string_append_c(out, hex[c >> 4]);
          g_string_append_c(out, hex[c & 0xf]);
          break;
        default:
          if (c < 0x20) {
            g_string_append(out, "\\u00");
            g_string_append_c(out, hex[c >> 4]);
            g_string_append_c(out, hex[c & 0xf]);
          } else {
            g_string_append_c(out, (char)c);
          }
      }
      p++;
      continue;
    }
    const char *end = NULL;
    gunichar u = g_utf8_get_char_validated(p, -1);
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      g_string_append(out, "\\ufffd");  /* Go replaces invalid UTF-8 */
      p++;
      continue;
    }
    end = g_utf8_next_char(p);
    if (u == 0x2028 || u == 0x2029) g_string_append_printf(out, "\\u%04x", u);
    else g_string_append_len(out, p, end - p);
    p = end;
  }
  g_string_append_c(out, '"');
}

void jw_append_double(GString *out, double v) {
  if (isnan(v) || isinf(v)) {
    /* Go refuses these; never produced by the monitor. */
    g_string_append(out, "0");
    return;
  }
  /* Shortest representation that reads back to the same value, as Go's
   * strconv 'f'/'e' with precision -1. */
  char buf[64];
  double a = fabs(v);
  bool use_exp = a != 0 && (a < 1e-6 || a >= 1e21);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (strtod(buf, NULL) == v) break;
  }
  if (use_exp) {
    /* Go: e+21 keeps two digits, e-07 becomes e-7. */
    char *e = strchr(buf, 'e');
    char mant[40];
    size_t ml = (size_t)(e - buf);
    memcpy(mant, buf, ml);
    mant[ml] = '\0';
    int exp = atoi(e + 1);
    if (exp < 0) g_string_append_printf(out, "%se-%d", mant, -exp);
    else g_string_append_printf(out, "%se+%02d", mant, exp);
    return;
  }
  /* Fixed notation with as many decimals as the shortest form needs. */
  char *e = strchr(buf, 'e');
  int exp = atoi(e + 1);
  int digits = 0;  /* significant digits in mantissa */
  for (const char *q = buf; q < e; q++)
    if (*q >= '0' && *q <= '9') digits++;
  int decimals = digits - 1 - exp;
  if (decimals < 0) decimals = 0;
  g_string_append_printf(out, "%.*f", decimals, v);
}

/* ---- formatting ---------------------------------------------------------- */

static void append_frac(GString *out, uint64_t v, int prec) {
  /* v / 10^prec with trailing zeros (and a bare '.') dropped, as Go's fmtFrac. */
  uint64_t pow = 1;
  for (int i = 0; i < prec; i++) pow *= 10;
  g_string_append_printf(out, "%" G_GUINT64_FORMAT, v / pow);
  uint64_t frac = v % pow;
  if (!frac) return;
  char digits[24];
  snprintf(digits, sizeof digits, "%0*" G_GUINT64_FORMAT, prec, frac);
  int n = prec;
  while (n > 0 && digits[n - 1] == '0') n--;
  g_string_append_c(out, '.');
  g_string_append_len(out, digits, n);
}

void monitor_format_duration(GString *out, int64_t ns) {
  if (ns == 0) {
    g_string_append(out, "0s");
    return;
  }
  uint64_t u = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
  if (ns < 0) g_string_append_c(out, '-');
  if (u < 1000000000ULL) {
    if (u < 1000) {
      g_string_append_printf(out, "%" G_GUINT64_FORMAT "ns", u);
    } else if (u < 1000000) {
      append_frac(out, u, 3);
      g_string_append(out, "\xc2\xb5s");
    } else {
      append_frac(out, u, 6);
      g_string_append(out, "ms");
    }
    return;
  }
  uint64_t secs_ns = u % 60000000000ULL;
  uint64_t mins = u / 60000000000ULL;
  uint64_t hours = mins / 60;
  mins %= 60;
  if (hours) g_string_append_printf(out, "%" G_GUINT64_FORMAT "h", hours);
  if (hours || mins) g_string_append_printf(out, "%" G_GUINT64_FORMAT "m", mins);
  append_frac(out, secs_ns, 9);
  g_string_append_c(out, 's');
}

void monitor_format_uptime(GString *out, int64_t us) {
  int64_t tsecs = us / G_USEC_PER_SEC;
  int64_t tmins = tsecs / 60, thrs = tmins / 60, tdays = thrs / 24, tyrs = tdays / 365;
  if (tyrs > 0)
    g_string_append_printf(out, "%" G_GINT64_FORMAT "y%" G_GINT64_FORMAT "d%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT
                                "m%" G_GINT64_FORMAT "s",
                           tyrs, tdays % 365, thrs % 24, tmins % 60, tsecs % 60);
  else if (tdays > 0)
    g_string_append_printf(out, "%" G_GINT64_FORMAT "d%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s",
                           tdays, thrs % 24, tmins % 60, tsecs % 60);
  else if (thrs > 0)
    g_string_append_printf(out, "%" G_GINT64_FORMAT "h%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s", thrs, tmins % 60,
                           tsecs % 60);
  else if (tmins > 0)
    g_string_append_printf(out, "%" G_GINT64_FORMAT "m%" G_GINT64_FORMAT "s", tmins, tsecs % 60);
  else
    g_string_append_printf(out, "%" G_GINT64_FORMAT "s", tsecs);
}

void monitor_format_time(GString *out, int64_t us, bool utc) {
  time_t secs = (time_t)(us / G_USEC_PER_SEC);
  int64_t frac = us % G_USEC_PER_SEC;
  if (frac < 0) {
    frac += G_USEC_PER_SEC;
    secs--;
  }
  struct tm tm;
  if (utc) gmtime_r(&secs, &tm);
  else localtime_r(&secs, &tm);
  g_string_append_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac) {
    char digits[8];
    snprintf(digits, sizeof digits, "%06" G_GINT64_FORMAT, frac);
    int n = 6;
    while (n > 0 && digits[n - 1] == '0') n--;
    g_string_append_c(out, '.');
    g_string_append_len(out, digits, n);
  }
  long off = utc ? 0 : tm.tm_gmtoff;
  if (off == 0) {
    g_string_append_c(out, 'Z');
  } else {
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    g_string_append_printf(out, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
  }
}

void jw_time(JsonW *w, const char *key, int64_t us, bool utc) {
  jw_key(w, key);
  g_string_append_c(w->out, '"');
  monitor_format_time(w->out, us, utc);
  g_string_append_c(w->out, '"');
}

void jw_uptime(JsonW *w, const char *key, int64_t us) {
  jw_key(w, key);
  g_string_append_c(w->out, '"');
  monitor_format_uptime(w->out, us);
  g_string_append_c(w->out, '"');
}

char *jw_uptime_string(int64_t us) {
  GString *s = g_string_new(NULL);
  monitor_format_uptime(s, us);
  return g_string_free(s, FALSE);
}

/* Go's getRTT().String(): 0 prints "0s"; sub-millisecond values are shown
 * to the microsecond, which is our resolution anyway. */
void jw_rtt(JsonW *w, const char *key, int64_t rtt_us) {
  jw_key(w, key);
  g_string_append_c(w->out, '"');
  monitor_format_duration(w->out, rtt_us * 1000);
  g_string_append_c(w->out, '"');
}
