/* subject_transform.h — subject transforms (nats-server 2.9.10's `transform`
 * in accounts.go, later subject_transform.go): a source pattern and a
 * destination template whose tokens may be "$N" or mustache functions
 * ({{wildcard(N)}}, {{partition(n,N...)}}, {{split(N,sep)}},
 * {{splitFromLeft(N,p)}}, {{splitFromRight(N,p)}}, {{sliceFromLeft(N,s)}},
 * {{sliceFromRight(N,s)}}).  Used by subject mappings and by stream and
 * service imports.
 *
 * Immutable once built; pure functions, no logging, any thread.  Error
 * messages are nats-server's texts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SubjectTransform SubjectTransform;

/* Go newTransform(src, dest).  On failure returns NULL and, when err is not
 * NULL, sets *err (transfer full) to Go's error text, e.g. "invalid subject"
 * or "invalid mapping destination: unknown function in {{foo(1)}}". */
SubjectTransform *subject_transform_new(const char *src, const char *dest, char **err);
void subject_transform_free(SubjectTransform *tr);  /* accepts NULL */

const char *subject_transform_src(const SubjectTransform *tr);
const char *subject_transform_dest(const SubjectTransform *tr);
/* True when the destination is used as is (the source has no wildcard). */
bool subject_transform_is_fixed(const SubjectTransform *tr);

/* Go transformSubject: rewrites `subject` (assumed to match the source)
 * into out, writing at most cap bytes (no NUL).  Returns the full length
 * of the result, so a caller whose buffer was too small calls again with
 * one at least that big.  Allocates only for subjects of > 64 tokens. */
size_t subject_transform_apply(const SubjectTransform *tr, const char *subject, size_t len, char *out, size_t cap);
/* The same into a new string (transfer full). */
char *subject_transform_apply_dup(const SubjectTransform *tr, const char *subject, size_t len);

/* Go transform.reverse(): the transform back from dest to src, or NULL. */
SubjectTransform *subject_transform_reverse(const SubjectTransform *tr);

/* Go transformTokenize: "foo.*.*" -> "foo.$1.$2". (transfer full) */
char *subject_transform_tokenize(const char *subject);
/* Go transformUntokenize: "foo.$1.$2" -> "foo.*.*". (transfer full) */
char *subject_transform_untokenize(const char *subject);

/* Go ValidateMappingDestination: NULL when fine, else the error text
 * (transfer full). */
char *subject_transform_validate_dest(const char *subject);
