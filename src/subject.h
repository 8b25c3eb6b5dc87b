/* subject.h — NATS subject utilities: validation, wildcard tests, token
 * matching.  Pure functions over (pointer, length) byte strings; no
 * allocation, no state, safe from any thread.
 *
 * Rules (nats-server 2.9.10): tokens are separated by '.'; a token that is
 * exactly "*" matches one token, a token that is exactly ">" matches one or
 * more trailing tokens.  '*' or '>' inside a longer token ("*a", "foo>") are
 * ordinary characters. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Go IsValidSubject: non-empty, no empty token, nothing after a ">" token,
 * and no ' ', '\t', '\n', '\r', '\f' anywhere (only these five: '\v' and
 * non-ASCII spaces are accepted, as in Go).  Wildcards allowed. */
bool subject_is_valid(const char *s, size_t len);

/* Go IsValidLiteralSubject, exactly: no empty token and no "*" or ">"
 * token.  Like Go it does NOT reject whitespace (Go uses it for the
 * pedantic PUB check, so "a\fb" passes there too). */
bool subject_is_valid_literal(const char *s, size_t len);

/* Go IsValidPublishSubject: subject_is_valid() and no wildcard token. */
bool subject_is_valid_publish(const char *s, size_t len);

/* Go subjectHasWildcard: some token is exactly "*" or ">".  Does not check
 * validity. */
bool subject_has_wildcard(const char *s, size_t len);

/* Does `pattern` (may hold wildcards) match `subject`, whose tokens are all
 * taken literally ("*" in `subject` only matches "*" or a wildcard)?  ">"
 * acts as a wildcard only as the last token of `pattern`.  False when either
 * side is empty or has an empty token.  This is exactly the relation the
 * Sublist implements between a subscription and a published subject. */
bool subject_matches(const char *pattern, size_t plen, const char *subject, size_t slen);

/* Go subjectIsSubsetMatch(sub, of): is every subject matched by `sub` also
 * matched by `of`?  Both may hold wildcards.  Keeps Go's quirk that a token
 * of `of` that merely starts with '*' ("*x") is treated like "*". */
/* Whether some literal subject matches both patterns (Go's SubjectsCollide):
 * "foo.*" and "*.bar" collide on "foo.bar"; "foo.*" and "foo.*.baz" never do. */
bool subject_collide(const char *a, size_t alen, const char *b, size_t blen);
bool subject_is_subset(const char *sub, size_t sublen, const char *of, size_t oflen);

/* Splits on '.' like Go strings.Split (empty tokens kept; "" gives one empty
 * token).  Fills at most `max` (pointer, length) pairs pointing into `s`.
 * Returns the token count, or -1 when there are more than `max` tokens. */
int subject_tokenize(const char *s, size_t len, const char **tok, size_t *toklen, int max);

/* Number of '.'-separated tokens (Go len(bytes.Split(s, "."))): for the
 * max_subscription_tokens limit. */
size_t subject_num_tokens(const char *s, size_t len);

/* Queue group names: Go checks nothing beyond what the protocol parser lets
 * through, so any non-empty name without the argument separators ' ', '\t',
 * '\r', '\n' is accepted ("*", ">", "a.b", "_sys_" included; the "_sys_"
 * permission rule belongs to the client). */
bool subject_is_valid_queue(const char *q, size_t len);
