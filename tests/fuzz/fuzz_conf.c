/* fuzz_conf — libFuzzer target for the configuration lexer and parser.
 * Includes and environment lookups are disabled so runs are hermetic; every
 * accepted tree is walked (JSON dump) to touch all accessors. */
#include "conf_parse.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GError *err = NULL;
  ConfValue *v = conf_parse_data((const char *)data, size, "fuzz.conf",
                                 CONF_PARSE_NO_INCLUDES | CONF_PARSE_NO_ENV, &err);
  if (v) {
    char *json = conf_value_to_json(v);
    free(json);
    conf_value_free(v);
  } else {
    char *msg = conf_error_format(err);
    g_free(msg);
    g_error_free(err);
  }
  /* Durations are parsed from config strings too. */
  if (size < 64) {
    char *s = g_strndup((const char *)data, size);
    int64_t ns;
    GError *derr = NULL;
    if (!conf_parse_duration(s, &ns, &derr))
      g_error_free(derr);
    g_free(s);
  }
  return 0;
}
