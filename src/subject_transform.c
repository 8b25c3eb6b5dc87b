/* subject_transform.c — subject transforms (see subject_transform.h).
 *
 * Owns the compiled transforms it returns.  Pure code: no logging, no
 * global state, callable from any thread.  Callers: accounts.c (mappings,
 * stream and service imports) and the config parser (validation).
 *
 * A destination is compiled once into one record per '.'-token: either a
 * literal, or a function with the source-token positions it reads (the
 * wildcard number N is turned into the position of the N-th '*' of the
 * source, as nats-server does) and its integer/string argument.  Applying
 * it walks the records and writes into the caller's buffer; nothing is
 * allocated for subjects of up to 64 tokens.  Function tokens are
 * recognised the way nats-server's unanchored regular expressions
 * `{{\s*name\s*\((.*)\)\s*}}` recognise them (first letter of each word in
 * either case, greedy argument text), so the same destinations are
 * accepted and refused. */
#include "subject_transform.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

enum {
  TR_NONE = 0,   /* Go NoTransform: literal token */
  TR_BAD,
  TR_PARTITION,
  TR_WILDCARD,
  TR_SPLIT_FROM_LEFT,
  TR_SPLIT_FROM_RIGHT,
  TR_SLICE_FROM_LEFT,
  TR_SLICE_FROM_RIGHT,
  TR_SPLIT,
};

#define TR_STACK_TOKENS 64

typedef struct TrTok {
  int type;
  char *text;        /* owned: the destination token as written */
  size_t text_len;
  int *pos;          /* owned: source token positions read by the function */
  int npos;
  int32_t iarg;      /* partitions, split position or slice size */
  char *sarg;        /* owned: split delimiter */
} TrTok;

struct SubjectTransform {
  char *src, *dest;  /* owned */
  int nstoks;        /* tokens of src */
  TrTok *dtoks;      /* owned, ndtoks records */
  int ndtoks;
  bool has_funcs;    /* Go: len(dtokmftypes) > 0 (the source has wildcards) */
  bool dest_fwc;     /* last destination token is ">" */
};

static const char ERR_PREFIX[] = "invalid mapping destination";

/* ---- small helpers -------------------------------------------------------- */

static inline bool go_space(char c) {  /* RE2 \s */
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Go strconv.Atoi on a 64-bit platform. */
static bool go_atoi(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return false;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (!neg && v > (uint64_t)INT64_MAX) return false;
  if (neg && v > (uint64_t)INT64_MAX + 1) return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

/* strings.Trim(s, " ") */
static void trim_spaces(const char **s, size_t *n) {
  while (*n && (*s)[0] == ' ') (*s)++, (*n)--;
  while (*n && (*s)[*n - 1] == ' ') (*n)--;
}

/* Matches `{{\s*NAME\s*\((.*)\)\s*}}` anywhere in tok (leftmost, greedy).
 * In `name` an upper-case letter stands for that letter in either case. */
static bool mf_match(const char *tok, size_t len, const char *name, const char **arg, size_t *arglen) {
  size_t nl = strlen(name);
  for (size_t start = 0; start + 1 < len; start++) {
    if (tok[start] != '{' || tok[start + 1] != '{') continue;
    size_t p = start + 2;
    while (p < len && go_space(tok[p])) p++;
    size_t k = 0;
    for (; k < nl && p < len; k++, p++) {
      char want = name[k], got = tok[p];
      if (g_ascii_isupper(want) ? (got != want && got != g_ascii_tolower(want)) : got != want) break;
    }
    if (k < nl) continue;
    while (p < len && go_space(tok[p])) p++;
    if (p >= len || tok[p] != '(') continue;
    size_t cs = ++p;
    /* '.' does not match '\n': the argument ends before the first one. */
    size_t lim = cs;
    while (lim < len && tok[lim] != '\n') lim++;
    for (size_t q = lim; q-- > cs;) {
      if (tok[q] != ')') continue;
      size_t r = q + 1;
      while (r < len && go_space(tok[r])) r++;
      if (r + 1 < len && tok[r] == '}' && tok[r + 1] == '}') {
        *arg = tok + cs;
        *arglen = q - cs;
        return true;
      }
    }
  }
  return false;
}

/* Go regexp `,\s*` Split(s, -1).  Returns the argument count; pieces point
 * into s. */
typedef struct { const char *p; size_t n; } Piece;
static int split_args(const char *s, size_t n, Piece *out, int max) {
  int cnt = 0;
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == ',') {
      if (cnt < max) out[cnt].p = s + start, out[cnt].n = i - start;
      cnt++;
      if (i == n) break;
      size_t j = i + 1;
      while (j < n && go_space(s[j])) j++;
      start = j;
      i = j - 1;
    }
  }
  return cnt;
}

static char *mapping_err(const char *what, const char *token) {
  return g_strdup_printf("%s: %s in %s", ERR_PREFIX, what, token);
}

#define E_NOT_ENOUGH "not enough arguments passed to the function"
#define E_TOO_MANY "too many arguments passed to the function"
#define E_INVALID_ARG "function argument is invalid or in the wrong format"
#define E_UNKNOWN_FN "unknown function"

/* Go indexPlaceHolders.  Fills type, wildcard numbers (idx, nidx), int and
 * string arguments; returns an error text (transfer full) or NULL. */
static char *index_placeholders(const char *token, int *type, int64_t **idx, int *nidx, int32_t *iarg,
                                char **sarg) {
  size_t len = strlen(token);
  *type = TR_NONE;
  *idx = NULL;
  *nidx = 0;
  *iarg = -1;
  *sarg = NULL;
  if (len <= 1) return NULL;
  if (token[0] == '$') {
    int64_t v;
    if (!go_atoi(token + 1, len - 1, &v)) return NULL;  /* left as a literal, as Go */
    *type = TR_WILDCARD;
    *idx = g_new(int64_t, 1);
    (*idx)[0] = v;
    *nidx = 1;
    return NULL;
  }
  if (!(len > 4 && token[0] == '{' && token[1] == '{' && token[len - 2] == '}' && token[len - 1] == '}')) return NULL;

  const char *a;
  size_t an;
  Piece pc[64];
  int np;
  if (mf_match(token, len, "Wildcard", &a, &an)) {
    np = split_args(a, an, pc, G_N_ELEMENTS(pc));
    if (np == 1 && pc[0].n == 0) return mapping_err(E_NOT_ENOUGH, token);
    if (np > 1) return mapping_err(E_TOO_MANY, token);
    const char *s = pc[0].p;
    size_t n = pc[0].n;
    trim_spaces(&s, &n);
    int64_t v;
    if (!go_atoi(s, n, &v)) return mapping_err(E_INVALID_ARG, token);
    *type = TR_WILDCARD;
    *idx = g_new(int64_t, 1);
    (*idx)[0] = v;
    *nidx = 1;
    return NULL;
  }
  if (mf_match(token, len, "Partition", &a, &an)) {
    np = split_args(a, an, pc, G_N_ELEMENTS(pc));
    if (np < 2) return mapping_err(E_NOT_ENOUGH, token);
    if (np > (int)G_N_ELEMENTS(pc)) return mapping_err(E_INVALID_ARG, token);  /* our limit */
    const char *s = pc[0].p;
    size_t n = pc[0].n;
    trim_spaces(&s, &n);
    int64_t parts;
    if (!go_atoi(s, n, &parts)) return mapping_err(E_INVALID_ARG, token);
    int64_t *ix = g_new(int64_t, np - 1);
    for (int i = 1; i < np; i++) {
      s = pc[i].p, n = pc[i].n;
      trim_spaces(&s, &n);
      if (!go_atoi(s, n, &ix[i - 1])) {
        g_free(ix);
        return mapping_err(E_INVALID_ARG, token);
      }
    }
    *type = TR_PARTITION;
    *idx = ix;
    *nidx = np - 1;
    *iarg = (int32_t)parts;
    return NULL;
  }
  static const struct { const char *name; int type; } two_int[] = {
      {"SplitFromLeft", TR_SPLIT_FROM_LEFT},
      {"SplitFromRight", TR_SPLIT_FROM_RIGHT},
      {"SliceFromLeft", TR_SLICE_FROM_LEFT},
      {"SliceFromRight", TR_SLICE_FROM_RIGHT},
  };
  for (size_t f = 0; f < G_N_ELEMENTS(two_int); f++) {
    if (!mf_match(token, len, two_int[f].name, &a, &an)) continue;
    np = split_args(a, an, pc, G_N_ELEMENTS(pc));
    if (np < 2) return mapping_err(E_NOT_ENOUGH, token);
    if (np > 2) return mapping_err(E_TOO_MANY, token);
    int64_t v1, v2;
    const char *s = pc[0].p;
    size_t n = pc[0].n;
    trim_spaces(&s, &n);
    if (!go_atoi(s, n, &v1)) return mapping_err(E_INVALID_ARG, token);
    s = pc[1].p, n = pc[1].n;
    trim_spaces(&s, &n);
    if (!go_atoi(s, n, &v2)) return mapping_err(E_INVALID_ARG, token);
    *type = two_int[f].type;
    *idx = g_new(int64_t, 1);
    (*idx)[0] = v1;
    *nidx = 1;
    *iarg = (int32_t)v2;
    return NULL;
  }
  if (mf_match(token, len, "Split", &a, &an)) {
    np = split_args(a, an, pc, G_N_ELEMENTS(pc));
    if (np < 2) return mapping_err(E_NOT_ENOUGH, token);
    if (np > 2) return mapping_err(E_TOO_MANY, token);
    const char *s = pc[0].p;
    size_t n = pc[0].n;
    trim_spaces(&s, &n);
    int64_t v;
    if (!go_atoi(s, n, &v)) return mapping_err(E_INVALID_ARG, token);
    if (memchr(pc[1].p, ' ', pc[1].n) || memchr(pc[1].p, '.', pc[1].n)) return mapping_err(E_INVALID_ARG, token);
    *type = TR_SPLIT;
    *idx = g_new(int64_t, 1);
    (*idx)[0] = v;
    *nidx = 1;
    *sarg = g_strndup(pc[1].p, pc[1].n);
    return NULL;
  }
  return mapping_err(E_UNKNOWN_FN, token);
}

/* Go subjectInfo: valid?, token count, '*' count, ends with '>'. */
static bool subject_info(const char *s, int *ntok, int *npwc, bool *fwc) {
  *ntok = 0, *npwc = 0, *fwc = false;
  if (!*s) return false;
  const char *p = s;
  for (;;) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n == 0 || *fwc) return false;
    if (n == 1 && p[0] == '>') *fwc = true;
    else if (n == 1 && p[0] == '*') (*npwc)++;
    (*ntok)++;
    if (!dot) break;
    p = dot + 1;
  }
  return true;
}

void subject_transform_free(SubjectTransform *tr) {
  if (!tr) return;
  for (int i = 0; i < tr->ndtoks; i++) {
    g_free(tr->dtoks[i].text);
    g_free(tr->dtoks[i].pos);
    g_free(tr->dtoks[i].sarg);
  }
  g_free(tr->dtoks);
  g_free(tr->src);
  g_free(tr->dest);
  g_free(tr);
}

SubjectTransform *subject_transform_new(const char *src, const char *dest, char **err) {
  int sntok, snpwc, dntok, dnpwc;
  bool sfwc, dfwc;
  bool sv = subject_info(src, &sntok, &snpwc, &sfwc);
  bool dv = subject_info(dest, &dntok, &dnpwc, &dfwc);
  if (!sv || !dv || dnpwc > 0 || sfwc != dfwc) {
    if (err) *err = g_strdup("invalid subject");
    return NULL;
  }
  SubjectTransform *tr = g_new0(SubjectTransform, 1);
  tr->src = g_strdup(src);
  tr->dest = g_strdup(dest);
  tr->nstoks = sntok;
  tr->dest_fwc = dfwc;
  g_auto(GStrv) dtoks = g_strsplit(dest, ".", -1);
  tr->ndtoks = dntok;
  tr->dtoks = g_new0(TrTok, dntok);
  for (int i = 0; i < dntok; i++) {
    tr->dtoks[i].text = g_strdup(dtoks[i]);
    tr->dtoks[i].text_len = strlen(dtoks[i]);
  }
  if (snpwc == 0 && !sfwc) return tr;  /* fixed destination */

  /* Position of the N-th '*' in the source (N from 1). */
  g_auto(GStrv) stoks = g_strsplit(src, ".", -1);
  int *wc_pos = g_new0(int, snpwc + 1);
  for (int i = 0, n = 0; i < sntok; i++)
    if (strcmp(stoks[i], "*") == 0) wc_pos[++n] = i;
  tr->has_funcs = true;
  int nphs = 0;
  for (int i = 0; i < dntok; i++) {
    TrTok *t = &tr->dtoks[i];
    int64_t *idx;
    int nidx;
    char *e = index_placeholders(dtoks[i], &t->type, &idx, &nidx, &t->iarg, &t->sarg);
    if (e) {
      g_free(wc_pos);
      subject_transform_free(tr);
      if (err) *err = e;
      else g_free(e);
      return NULL;
    }
    if (t->type == TR_NONE) continue;
    nphs++;
    t->pos = g_new0(int, nidx);
    t->npos = nidx;
    for (int k = 0; k < nidx; k++) {
      if (idx[k] > snpwc) {
        if (err) *err = g_strdup_printf("%s: wildcard index out of range in %s: [%" G_GINT64_FORMAT "]", ERR_PREFIX,
                                        dtoks[i], idx[k]);
        g_free(idx);
        g_free(wc_pos);
        subject_transform_free(tr);
        return NULL;
      }
      /* Go looks the number up in a map: a number with no '*' (0, negative)
       * reads token 0. */
      t->pos[k] = idx[k] >= 1 ? wc_pos[idx[k]] : 0;
    }
    g_free(idx);
  }
  g_free(wc_pos);
  if (nphs < snpwc) {
    if (err) *err = g_strdup_printf("%s: not using all of the token wildcard(s) in %s", ERR_PREFIX, dest);
    subject_transform_free(tr);
    return NULL;
  }
  return tr;
}

const char *subject_transform_src(const SubjectTransform *tr) { return tr->src; }
const char *subject_transform_dest(const SubjectTransform *tr) { return tr->dest; }
bool subject_transform_is_fixed(const SubjectTransform *tr) { return !tr->has_funcs; }

/* ---- applying ------------------------------------------------------------- */

typedef struct {
  char *out;
  size_t cap, len;
} Wr;

static inline void wr(Wr *w, const char *s, size_t n) {
  if (w->len < w->cap) memcpy(w->out + w->len, s, MIN(n, w->cap - w->len));
  w->len += n;
}
static inline void wr_c(Wr *w, char c) { wr(w, &c, 1); }

/* Go strings.Split with an empty separator: one piece per UTF-8 sequence
 * (an invalid byte is a piece of its own). */
static size_t utf8_piece(const char *s, size_t n) {
  unsigned char c = (unsigned char)s[0];
  size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (need > n) return 1;
  for (size_t i = 1; i < need; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) return 1;
  return need;
}

static void apply_split(Wr *w, const char *tok, size_t tl, const char *sep) {
  size_t sl = strlen(sep);
  /* Collect the pieces as Go's strings.Split would, then write them with
   * its rules: empty pieces vanish, a '.' goes between two pieces only when
   * the next one is not empty and not after a leading empty piece. */
  size_t start = 0, i = 0;
  bool first = true, first_empty = false, have_prev = false;
  int j = 0;
  for (;;) {
    const char *piece;
    size_t pn;
    bool last;
    if (sl == 0) {
      if (tl == 0) {
        piece = tok, pn = 0, last = true;
      } else {
        pn = utf8_piece(tok + i, tl - i);
        piece = tok + i;
        i += pn;
        last = i >= tl;
      }
    } else {
      const char *hit = NULL;
      for (size_t k = start; k + sl <= tl; k++)
        if (memcmp(tok + k, sep, sl) == 0) {
          hit = tok + k;
          break;
        }
      piece = tok + start;
      if (hit) {
        pn = (size_t)(hit - piece);
        start = (size_t)(hit - tok) + sl;
        last = false;
      } else {
        pn = tl - start;
        last = true;
      }
    }
    if (have_prev) {
      /* separator after prev if this piece is non-empty and not (prev is the
       * first piece and empty) */
      if (pn != 0 && !(j == 1 && first_empty)) wr_c(w, '.');
    }
    if (pn) wr(w, piece, pn);
    if (first) first_empty = pn == 0, first = false;
    have_prev = true;
    j++;
    if (last) break;
  }
}

static void transform_tokens(const SubjectTransform *tr, const char **tk, const size_t *tkl, int ntk, Wr *w) {
  if (!tr->has_funcs) {
    wr(w, tr->dest, strlen(tr->dest));
    return;
  }
  int li = tr->ndtoks - 1;
  for (int i = 0; i < tr->ndtoks; i++) {
    const TrTok *t = &tr->dtoks[i];
    if (t->type == TR_NONE) {
      if (t->text_len == 1 && t->text[0] == '>') break;
      wr(w, t->text, t->text_len);
    } else {
      int p0 = t->npos > 0 ? t->pos[0] : 0;
      const char *s = p0 < ntk ? tk[p0] : "";
      size_t sl = p0 < ntk ? tkl[p0] : 0;
      int64_t a = t->iarg;
      switch (t->type) {
        case TR_PARTITION: {
          uint32_t h = 2166136261u;  /* FNV-1a 32 over the concatenated tokens */
          for (int k = 0; k < t->npos; k++) {
            int p = t->pos[k];
            if (p >= ntk) continue;
            for (size_t b = 0; b < tkl[p]; b++) h = (h ^ (unsigned char)tk[p][b]) * 16777619u;
          }
          /* Go divides by zero here and dies; we write partition 0. */
          uint32_t n = (uint32_t)t->iarg;
          char num[16];
          int nn = snprintf(num, sizeof num, "%u", n ? h % n : 0);
          wr(w, num, (size_t)nn);
          break;
        }
        case TR_WILDCARD:
          wr(w, s, sl);
          break;
        case TR_SPLIT_FROM_LEFT:
          if (a > 0 && (size_t)a < sl) {
            wr(w, s, (size_t)a);
            wr_c(w, '.');
            wr(w, s + a, sl - (size_t)a);
          } else {
            wr(w, s, sl);
          }
          break;
        case TR_SPLIT_FROM_RIGHT:
          if (a > 0 && (size_t)a < sl) {
            wr(w, s, sl - (size_t)a);
            wr_c(w, '.');
            wr(w, s + sl - (size_t)a, (size_t)a);
          } else {
            wr(w, s, sl);
          }
          break;
        case TR_SLICE_FROM_LEFT:
          if (a > 0 && (size_t)a < sl) {
            size_t z = (size_t)a;
            for (size_t k = 0; k + z <= sl; k += z) {
              if (k != 0) wr_c(w, '.');
              wr(w, s + k, z);
              if (k + z != sl && k + z + z > sl) {
                wr_c(w, '.');
                wr(w, s + k + z, sl - k - z);
                break;
              }
            }
          } else {
            wr(w, s, sl);
          }
          break;
        case TR_SLICE_FROM_RIGHT:
          if (a > 0 && (size_t)a < sl) {
            size_t z = (size_t)a, rem = sl % z;
            if (rem > 0) {
              wr(w, s, rem);
              wr_c(w, '.');
            }
            for (size_t k = rem; k + z <= sl; k += z) {
              wr(w, s + k, z);
              if (k + z < sl) wr_c(w, '.');
            }
          } else {
            wr(w, s, sl);
          }
          break;
        case TR_SPLIT:
          apply_split(w, s, sl, t->sarg ? t->sarg : "");
          break;
        default:
          break;
      }
    }
    if (i < li) wr_c(w, '.');
  }
  if (tr->ndtoks > 0 && tr->dtoks[tr->ndtoks - 1].text_len == 1 && tr->dtoks[tr->ndtoks - 1].text[0] == '>') {
    for (int i = tr->nstoks - 1; i < ntk; i++) {
      if (i < 0) continue;
      wr(w, tk[i], tkl[i]);
      if (i < ntk - 1) wr_c(w, '.');
    }
  }
}

size_t subject_transform_apply(const SubjectTransform *tr, const char *subject, size_t len, char *out, size_t cap) {
  Wr w = {out, cap, 0};
  if (!tr->has_funcs) {
    wr(&w, tr->dest, strlen(tr->dest));
    return w.len;
  }
  const char *stk[TR_STACK_TOKENS];
  size_t stkl[TR_STACK_TOKENS];
  const char **tk = stk;
  size_t *tkl = stkl;
  size_t n = 1;
  for (size_t i = 0; i < len; i++) n += subject[i] == '.';
  if (n > TR_STACK_TOKENS) {
    tk = g_new(const char *, n);
    tkl = g_new(size_t, n);
  }
  size_t start = 0;
  int ntk = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || subject[i] == '.') {
      tk[ntk] = subject + start;
      tkl[ntk] = i - start;
      ntk++;
      start = i + 1;
    }
  }
  transform_tokens(tr, tk, tkl, ntk, &w);
  if (tk != stk) {
    g_free(tk);
    g_free(tkl);
  }
  return w.len;
}

char *subject_transform_apply_dup(const SubjectTransform *tr, const char *subject, size_t len) {
  char buf[256];
  size_t n = subject_transform_apply(tr, subject, len, buf, sizeof buf);
  char *out = g_malloc(n + 1);
  if (n <= sizeof buf) memcpy(out, buf, n);
  else subject_transform_apply(tr, subject, len, out, n);
  out[n] = '\0';
  return out;
}

/* ---- helpers for imports -------------------------------------------------- */

char *subject_transform_tokenize(const char *subject) {
  g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
  GString *s = g_string_new(NULL);
  int n = 1;
  for (int i = 0; toks[i]; i++) {
    if (i) g_string_append_c(s, '.');
    if (strcmp(toks[i], "*") == 0) g_string_append_printf(s, "$%d", n++);
    else g_string_append(s, toks[i]);
  }
  return g_string_free(s, FALSE);
}

static bool is_dollar_n(const char *t) { return t[0] == '$' && t[1] >= '1' && t[1] <= '9'; }

char *subject_transform_untokenize(const char *subject) {
  g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
  GString *s = g_string_new(NULL);
  for (int i = 0; toks[i]; i++) {
    if (i) g_string_append_c(s, '.');
    g_string_append(s, is_dollar_n(toks[i]) ? "*" : toks[i]);
  }
  return g_string_free(s, FALSE);
}

SubjectTransform *subject_transform_reverse(const SubjectTransform *tr) {
  if (!tr->has_funcs) return subject_transform_new(tr->dest, tr->src, NULL);
  g_autofree char *nsrc = subject_transform_untokenize(tr->dest);
  /* The "$N" tokens of dest, in order, replace the '*'s of src. */
  g_auto(GStrv) dt = g_strsplit(tr->dest, ".", -1);
  g_auto(GStrv) st = g_strsplit(tr->src, ".", -1);
  GPtrArray *phs = g_ptr_array_new();
  for (int i = 0; dt[i]; i++)
    if (is_dollar_n(dt[i])) g_ptr_array_add(phs, dt[i]);
  GString *nd = g_string_new(NULL);
  guint used = 0;
  for (int i = 0; st[i]; i++) {
    if (i) g_string_append_c(nd, '.');
    if (strcmp(st[i], "*") == 0) {
      if (used >= phs->len) {
        g_ptr_array_free(phs, TRUE);
        g_string_free(nd, TRUE);
        return NULL;
      }
      g_string_append(nd, phs->pdata[used++]);
    } else {
      g_string_append(nd, st[i]);
    }
  }
  g_ptr_array_free(phs, TRUE);
  g_autofree char *ndest = g_string_free(nd, FALSE);
  return subject_transform_new(nsrc, ndest, NULL);
}

/* ---- validation ----------------------------------------------------------- */

char *subject_transform_validate_dest(const char *subject) {
  static const char *const fns[] = {"Partition", "Wildcard", "SplitFromLeft", "SplitFromRight",
                                     "SliceFromLeft", "SliceFromRight", "Split"};
  g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
  bool sfwc = false;
  for (int i = 0; toks[i]; i++) {
    const char *t = toks[i];
    size_t n = strlen(t);
    if (n == 0 || sfwc) return g_strdup_printf("%s: invalid subject in %s", ERR_PREFIX, t);
    if (n > 4 && t[0] == '{' && t[1] == '{' && t[n - 2] == '}' && t[n - 1] == '}') {
      bool known = false;
      const char *a;
      size_t an;
      for (size_t f = 0; f < G_N_ELEMENTS(fns) && !known; f++) known = mf_match(t, n, fns[f], &a, &an);
      if (!known) return mapping_err(E_UNKNOWN_FN, t);
      continue;
    }
    if (n == 1 && t[0] == '>') sfwc = true;
    else if (strpbrk(t, "\t\n\f\r ")) return g_strdup_printf("%s: invalid subject", ERR_PREFIX);
  }
  return NULL;
}
