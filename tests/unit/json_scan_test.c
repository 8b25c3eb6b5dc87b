/* json_scan: end of the first value and nesting depth, strings skipped. */
#include <glib.h>
#include <string.h>

#include "json_scan.h"

typedef struct {
  const char *text;
  size_t first_end;
  int max_depth;
} Case;

static void test_cases(void) {
  static const Case cases[] = {
      {"{}", 2, 1},
      {"  {\"a\":[1,2]}  ", 13, 2},
      {"{\"a\":\"}]\\\"{\"}", 13, 1},   /* brackets and an escaped quote inside a string */
      {"{} {}", 2, 1},                   /* trailing second value */
      {"null", 4, 0},
      {"  true  x", 6, 0},
      {"[[[", 3, 3},                     /* unterminated: the end of the text */
      {"", 0, 0},
      {"{\"a\":{}} [[[[]]]]", 8, 4},     /* depth counts the whole text */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const Case *c = &cases[i];
    size_t end;
    int depth;
    json_scan(c->text, strlen(c->text), &end, &depth);
    g_test_message("case %zu: %s", i, c->text);
    g_assert_cmpuint(end, ==, c->first_end);
    g_assert_cmpint(depth, ==, c->max_depth);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/json_scan/cases", test_cases);
  return g_test_run();
}
