/* fuzz_jwt — libFuzzer target for src/jwt.c.  The first byte picks the mode:
 * odd, the rest is a whole token; even, the rest is the payload JSON, wrapped
 * in a valid header and a bogus signature so the claim parser (which runs
 * before the signature check, as in Go) sees arbitrary JSON.  Whatever
 * decodes is validated and its limits exercised. */
#include "jwt.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *b64(const uint8_t *d, size_t n) {
  size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *s = g_malloc(cap);
  sodium_bin2base64(s, cap, d, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  char *token;
  if (data[0] & 1) {
    token = g_strndup((const char *)data + 1, size - 1);
  } else {
    static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    char *h = b64((const uint8_t *)hdr, strlen(hdr));
    char *p = b64(data + 1, size - 1);
    token = g_strdup_printf("%s.%s.AAAA", h, p);
    g_free(h);
    g_free(p);
  }
  char *err = NULL;
  JwtClaims *c = jwt_decode(token, &err);
  if (c) {
    GPtrArray *issues = g_ptr_array_new_with_free_func(g_free);
    jwt_claims_validate(c, 1000, issues);
    g_ptr_array_unref(issues);
    jwt_src_allows(c, "127.0.0.1");
    int64_t valid;
    jwt_times_allow(c, 0, &valid);
    jwt_claims_free(c);
  }
  g_free(err);
  g_free(token);
  return 0;
}
