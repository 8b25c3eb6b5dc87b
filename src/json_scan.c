/* json_scan.c — see json_scan.h.  Used on CONNECT (client.c) and on $SYS
 * request options (events.c). */
#include "json_scan.h"

#include <glib.h>
#include <stdbool.h>

void json_scan(const char *s, size_t n, size_t *first_end, int *max_depth) {
  size_t i = 0;
  while (i < n && g_ascii_isspace(s[i])) i++;
  *first_end = n;
  *max_depth = 0;
  if (i < n && s[i] != '{' && s[i] != '[') {
    size_t j = i;
    while (j < n && !g_ascii_isspace(s[j])) j++;  /* a scalar such as null */
    *first_end = j;
  }
  bool first_open = *first_end == n, in_str = false;
  int depth = 0;
  for (; i < n; i++) {
    char ch = s[i];
    if (in_str) {
      if (ch == '\\') i++;
      else if (ch == '"') in_str = false;
    } else if (ch == '"') {
      in_str = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > *max_depth) *max_depth = depth;
    } else if ((ch == '}' || ch == ']') && --depth == 0 && first_open) {
      *first_end = i + 1;
      first_open = false;
    }
  }
}
