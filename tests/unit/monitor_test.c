/* monitor_test.c — the monitoring formatters against values printed by Go
 * (time.Duration.String, nats-server's myUptime, encoding/json). */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "monitor.h"
#include "monitor_json.h"

static void check_duration(int64_t ns, const char *want) {
  g_autoptr(GString) s = g_string_new(NULL);
  monitor_format_duration(s, ns);
  g_assert_cmpstr(s->str, ==, want);
}

static void test_duration(void) {
  /* Go's own durationTests table (time/time_test.go). */
  check_duration(0, "0s");
  check_duration(1, "1ns");
  check_duration(1100, "1.1\xc2\xb5s");
  check_duration(2200000, "2.2ms");
  check_duration(3300000000LL, "3.3s");
  check_duration(4 * 60000000000LL + 5000000000LL, "4m5s");
  check_duration(4 * 60000000000LL + 5001000000LL, "4m5.001s");
  check_duration(5 * 3600000000000LL + 6 * 60000000000LL + 7001000000LL, "5h6m7.001s");
  check_duration(8 * 60000000000LL + 1, "8m0.000000001s");
  check_duration(INT64_MAX, "2562047h47m16.854775807s");
  check_duration(INT64_MIN, "-2562047h47m16.854775808s");
  check_duration(-1100, "-1.1\xc2\xb5s");
}

static void check_uptime(int64_t secs, const char *want) {
  g_autoptr(GString) s = g_string_new(NULL);
  monitor_format_uptime(s, secs * G_USEC_PER_SEC + 123);
  g_assert_cmpstr(s->str, ==, want);
}

static void test_uptime(void) {
  /* nats-server TestMyUptime */
  int64_t d = 22;
  check_uptime(d, "22s");
  d += 4 * 60;
  check_uptime(d, "4m22s");
  d += 4 * 3600;
  check_uptime(d, "4h4m22s");
  d += 32 * 24 * 3600;
  check_uptime(d, "32d4h4m22s");
  d += 22LL * 365 * 24 * 3600;
  check_uptime(d, "22y32d4h4m22s");
  check_uptime(0, "0s");
}

static void test_time(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  monitor_format_time(s, 1795325333174997LL, true);
  g_assert_cmpstr(s->str, ==, "2026-11-22T05:28:53.174997Z");
  g_string_truncate(s, 0);
  monitor_format_time(s, 1795325333000000LL, true);  /* no fraction: none printed */
  g_assert_cmpstr(s->str, ==, "2026-11-22T05:28:53Z");
  g_string_truncate(s, 0);
  monitor_format_time(s, 1795325333100000LL, true);  /* trailing zeros trimmed */
  g_assert_cmpstr(s->str, ==, "2026-11-22T05:28:53.1Z");
}

static void check_double(double v, const char *want) {
  g_autoptr(GString) s = g_string_new(NULL);
  jw_append_double(s, v);
  g_assert_cmpstr(s->str, ==, want);
}

static void test_double(void) {
  /* encoding/json output for the same float64 values */
  check_double(0, "0");
  check_double(0.8, "0.8");
  check_double(1.0 / 3, "0.3333333333333333");
  check_double(1e-7, "1e-7");
  check_double(1e21, "1e+21");
  check_double(123456789, "123456789");
  check_double(2, "2");
  check_double(12.5, "12.5");
  check_double(1e20, "100000000000000000000");
  check_double(-0.000001, "-0.000001");
  check_double(5e-324, "5e-324");
}

static void test_string_escapes(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  jw_append_string(s, "a<b>&\"\\\n\x01\xe2\x80\xa8\xff\xe2\x82\xac");
  g_assert_cmpstr(s->str, ==, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\u2028\\ufffd\xe2\x82\xac\"");
}

static void test_indent(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  JsonW w;
  jw_init(&w, s, true);
  jw_begin_object(&w, NULL);
  jw_begin_array(&w, "a");
  jw_end_array(&w);
  jw_begin_object(&w, "b");
  jw_end_object(&w);
  jw_begin_array(&w, "c");
  jw_int(&w, NULL, 1);
  jw_int(&w, NULL, 2);
  jw_end_array(&w);
  jw_begin_object(&w, "d");
  jw_null(&w, "x");
  jw_end_object(&w);
  jw_end_object(&w);
  g_assert_cmpstr(s->str, ==,
                  "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    2\n  ],\n  \"d\": {\n    \"x\": null\n  }\n}");
  g_string_truncate(s, 0);
  jw_init(&w, s, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "status", "ok");
  jw_bool(&w, "b", true);
  jw_end_object(&w);
  g_assert_cmpstr(s->str, ==, "{\"status\":\"ok\",\"b\":true}");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/monitor/duration-string", test_duration);
  g_test_add_func("/monitor/uptime", test_uptime);
  g_test_add_func("/monitor/time-rfc3339nano", test_time);
  g_test_add_func("/monitor/json-double", test_double);
  g_test_add_func("/monitor/json-string-escapes", test_string_escapes);
  g_test_add_func("/monitor/json-indent", test_indent);
  return g_test_run();
}
