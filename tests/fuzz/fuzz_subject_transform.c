/* fuzz_subject_transform.c — libFuzzer target: the input is split at its
 * first two NUL bytes into source, destination and subject; the transform
 * is compiled (errors must be texts, never crashes), applied, reversed, and
 * its destination validated.  The result of an apply must fit the size it
 * announced.
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true
 *        -Db_sanitize=address,undefined -Db_lundef=false */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "subject_transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *buf = g_malloc(size + 3);
  memcpy(buf, data, size);
  buf[size] = buf[size + 1] = buf[size + 2] = '\0';
  const char *src = buf;
  const char *dest = src + strlen(src) + 1;
  if (dest > buf + size) dest = buf + size + 1;
  const char *subj = dest + strlen(dest) + 1;
  if (subj > buf + size + 1) subj = buf + size + 2;
  char *err = NULL;
  SubjectTransform *tr = subject_transform_new(src, dest, &err);
  if (!tr && !err) abort();
  g_free(err);
  g_free(subject_transform_validate_dest(dest));
  if (tr) {
    char small[8];
    size_t need = subject_transform_apply(tr, subj, strlen(subj), small, sizeof small);
    char *full = subject_transform_apply_dup(tr, subj, strlen(subj));
    if (strlen(full) != need) abort();
    g_free(full);
    SubjectTransform *rv = subject_transform_reverse(tr);
    if (rv) {
      g_free(subject_transform_apply_dup(rv, subj, strlen(subj)));
      subject_transform_free(rv);
    }
    subject_transform_free(tr);
  }
  g_free(buf);
  return 0;
}
