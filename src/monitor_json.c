/* monitor_json.c — Go-compatible JSON writer for the monitoring endpoints
 * (see monitor_json.h).  Pure formatting: no I/O, any thread. */
#include "monitor_json.h"

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
