/* json_scan.h — a structural walk over JSON text without parsing it: where the
 * first value ends and how deep brackets nest.  json-glib neither says where
 * it stopped (Go's json.Unmarshal refuses trailing data) nor bounds its
 * recursion, so callers check both before handing text to it.
 * Pure function; any thread. */
#pragma once

#include <stddef.h>

/* *first_end: offset just past the first value, after leading whitespace (a
 * container ends at its closing bracket, a scalar at the next whitespace; n
 * when unterminated).  *max_depth: deepest {/[ nesting anywhere in s[0..n),
 * strings and their escapes skipped. */
void json_scan(const char *s, size_t n, size_t *first_end, int *max_depth);
