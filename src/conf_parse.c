/* conf_parse.c — builds the ConfValue tree from conf_lex tokens.
 *
 * Owns: ConfValue trees, include resolution, $variable scoping, the
 * per-parse resource budget, and Go-compatible duration parsing. Library
 * style: no logging, no globals, no state between calls; runs on the thread
 * that loads the configuration (startup, SIGHUP reload). Callers: opts, tests.
 *
 * Design: like nats-server, parsing keeps a stack of open containers (the
 * root map first) and a separate stack of pending keys; a value is stored
 * when it completes — into the innermost container, under the most recent
 * pending key if that container is a map. Reproducing this shape (rather
 * than a recursive-descent grammar) keeps nats-server's corner cases, e.g. an
 * integer with an unknown suffix stores nothing and leaves its key pending.
 * $name looks through the open maps, innermost first, then the environment
 * (whose text is parsed as "pk=<text>" without positions). A variable's
 * value is deep-copied; the copies count against CONF_MAX_VALUES, which with
 * the other CONF_MAX_* limits bounds memory, time and recursion depth. */

#include "conf_parse.h"

#include "conf_lex.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* ---- errors ---- */

typedef struct {
  char *file; /* owned, may be NULL */
  int line;
  int column;
} ConfErrorPrivate;

static void conf_error_private_init(ConfErrorPrivate *priv) { (void)priv; }
static void conf_error_private_copy(const ConfErrorPrivate *src, ConfErrorPrivate *dest) {
  dest->file = g_strdup(src->file);
  dest->line = src->line;
  dest->column = src->column;
}
static void conf_error_private_clear(ConfErrorPrivate *priv) { g_clear_pointer(&priv->file, g_free); }

G_DEFINE_EXTENDED_ERROR(ConfError, conf_error)

static void set_error_at(GError **error, ConfErrorCode code, const char *file, int line, int column,
                         const char *fmt, ...) G_GNUC_PRINTF(6, 7);
static void set_error_at(GError **error, ConfErrorCode code, const char *file, int line, int column,
                         const char *fmt, ...) {
  if (!error)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  GError *e = g_error_new_literal(CONF_ERROR, code, msg);
  g_free(msg);
  ConfErrorPrivate *priv = conf_error_get_private(e);
  priv->file = g_strdup(file);
  priv->line = line;
  priv->column = column;
  g_propagate_error(error, e);
}

bool conf_error_get_location(const GError *error, const char **file, int *line, int *column) {
  if (!error || error->domain != CONF_ERROR)
    return false;
  ConfErrorPrivate *priv = conf_error_get_private(error);
  if (file)
    *file = priv->file;
  if (line)
    *line = priv->line;
  if (column)
    *column = priv->column;
  return true;
}

char *conf_error_format(const GError *error) {
  const char *file = NULL;
  int line = 0, col = 0;
  if (!error)
    return g_strdup("");
  if (conf_error_get_location(error, &file, &line, &col) && line > 0)
    return g_strdup_printf("%s:%d:%d: %s", file ? file : "", line, col, error->message);
  return g_strdup(error->message);
}

/* ---- values ---- */

typedef struct {
  char *key;        /* owned */
  ConfValue *value; /* owned */
} MapEntry;

struct ConfValue {
  ConfKind kind;
  bool used_variable;
  int height;       /* 0 for scalars, 1 + tallest child for containers */
  int line;         /* 0 when the value has no position */
  int column;
  GRefString *file; /* owned reference, NULL when no position */
  char *str;        /* owned: STRING text, DATETIME source text */
  size_t str_len;
  union {
    int64_t i;
    double f;
    bool b;
    int64_t dt;
  } u;
  GPtrArray *items;  /* ARRAY: owned ConfValue* */
  GArray *entries;   /* MAP: owned MapEntry, in written order */
  GHashTable *index; /* MAP: key (borrowed from entries) → position+1; built once large */
};

#define MAP_INDEX_THRESHOLD 16

typedef struct {
  uint64_t bytes_left;
  uint64_t values_left;
} Budget;

static void entry_clear(gpointer p) {
  MapEntry *e = p;
  g_free(e->key);
  conf_value_free(e->value);
}

void conf_value_free(ConfValue *v) {
  if (!v)
    return;
  /* Recursion depth is bounded by CONF_MAX_DEPTH. */
  if (v->items)
    g_ptr_array_unref(v->items);
  if (v->index)
    g_hash_table_unref(v->index);
  if (v->entries)
    g_array_unref(v->entries);
  g_free(v->str);
  if (v->file)
    g_ref_string_release(v->file);
  g_free(v);
}

static ConfValue *value_new(ConfKind kind, Budget *b) {
  if (b->values_left == 0)
    return NULL;
  b->values_left--;
  ConfValue *v = g_new0(ConfValue, 1);
  v->kind = kind;
  if (kind == CONF_ARRAY) {
    v->items = g_ptr_array_new_with_free_func((GDestroyNotify)conf_value_free);
    v->height = 1;
  } else if (kind == CONF_MAP) {
    v->entries = g_array_new(FALSE, FALSE, sizeof(MapEntry));
    g_array_set_clear_func(v->entries, entry_clear);
    v->height = 1;
  }
  return v;
}

static void value_set_pos(ConfValue *v, GRefString *file, int line, int column) {
  if (v->file)
    g_ref_string_release(v->file);
  v->file = file ? g_ref_string_acquire(file) : NULL;
  v->line = line;
  v->column = column;
}

static ConfValue *value_copy(const ConfValue *src, Budget *b) {
  ConfValue *v = value_new(src->kind, b);
  if (!v)
    return NULL;
  v->used_variable = src->used_variable;
  v->height = src->height;
  value_set_pos(v, src->file, src->line, src->column);
  v->u = src->u;
  if (src->str) {
    v->str = g_memdup2(src->str, src->str_len + 1);
    v->str_len = src->str_len;
  }
  if (src->items) {
    for (guint i = 0; i < src->items->len; i++) {
      ConfValue *c = value_copy(g_ptr_array_index(src->items, i), b);
      if (!c) {
        conf_value_free(v);
        return NULL;
      }
      g_ptr_array_add(v->items, c);
    }
  }
  if (src->entries) {
    for (guint i = 0; i < src->entries->len; i++) {
      const MapEntry *se = &g_array_index(src->entries, MapEntry, i);
      ConfValue *c = value_copy(se->value, b);
      if (!c) {
        conf_value_free(v);
        return NULL;
      }
      MapEntry e = {g_strdup(se->key), c};
      g_array_append_val(v->entries, e);
    }
    if (src->index) {
      v->index = g_hash_table_new(g_str_hash, g_str_equal);
      for (guint i = 0; i < v->entries->len; i++)
        g_hash_table_insert(v->index, g_array_index(v->entries, MapEntry, i).key,
                            GUINT_TO_POINTER(i + 1));
    }
  }
  return v;
}

static gssize map_find(const ConfValue *m, const char *key) {
  if (m->index) {
    gpointer p = g_hash_table_lookup(m->index, key);
    return p ? (gssize)GPOINTER_TO_UINT(p) - 1 : -1;
  }
  for (guint i = 0; i < m->entries->len; i++)
    if (strcmp(g_array_index(m->entries, MapEntry, i).key, key) == 0)
      return (gssize)i;
  return -1;
}

static void grow_height(ConfValue *container, const ConfValue *child) {
  if (child->height + 1 > container->height)
    container->height = child->height + 1;
}

/* Stores value under key (takes both). A repeated key replaces the value in
 * place, as a Go map assignment does. */
static void map_set(ConfValue *m, char *key, ConfValue *value) {
  grow_height(m, value);
  gssize at = map_find(m, key);
  if (at >= 0) {
    MapEntry *e = &g_array_index(m->entries, MapEntry, at);
    conf_value_free(e->value);
    e->value = value;
    g_free(key);
    return;
  }
  MapEntry e = {key, value};
  g_array_append_val(m->entries, e);
  if (m->index) {
    g_hash_table_insert(m->index, e.key, GUINT_TO_POINTER(m->entries->len));
  } else if (m->entries->len > MAP_INDEX_THRESHOLD) {
    m->index = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < m->entries->len; i++)
      g_hash_table_insert(m->index, g_array_index(m->entries, MapEntry, i).key,
                          GUINT_TO_POINTER(i + 1));
  }
}

/* ---- paths (Go's path/filepath on Unix, lexical only) ---- */

static char *path_clean(const char *p) {
  if (!*p)
    return g_strdup(".");
  bool rooted = p[0] == '/';
  g_auto(GStrv) parts = g_strsplit(p, "/", -1);
  GPtrArray *out = g_ptr_array_new();
  for (char **s = parts; *s; s++) {
    if (!**s || strcmp(*s, ".") == 0)
      continue;
    if (strcmp(*s, "..") == 0) {
      if (out->len && strcmp(g_ptr_array_index(out, out->len - 1), "..") != 0) {
        g_ptr_array_remove_index(out, out->len - 1);
        continue;
      }
      if (rooted)
        continue;
    }
    g_ptr_array_add(out, *s);
  }
  g_ptr_array_add(out, NULL);
  char *joined = g_strjoinv("/", (char **)out->pdata);
  g_ptr_array_free(out, TRUE);
  char *res;
  if (rooted)
    res = g_strconcat("/", joined, NULL);
  else if (!*joined)
    res = g_strdup(".");
  else
    res = g_strdup(joined);
  g_free(joined);
  return res;
}

static char *path_dir(const char *p) {
  const char *slash = strrchr(p, '/');
  if (!slash)
    return g_strdup(".");
  g_autofree char *head = g_strndup(p, (gsize)(slash - p + 1));
  return path_clean(head);
}

/* filepath.Join(dir, name): an absolute name does NOT replace dir. */
static char *path_join(const char *dir, const char *name) {
  if (!*dir && !*name)
    return g_strdup("");
  if (!*dir)
    return path_clean(name);
  if (!*name)
    return path_clean(dir);
  g_autofree char *j = g_strconcat(dir, "/", name, NULL);
  return path_clean(j);
}

/* Go's os error text: strerror with a lower-case first letter. */
static char *go_errno_text(int err) {
  char *s = g_strdup(g_strerror(err));
  if (s[0])
    s[0] = g_ascii_tolower(s[0]);
  return s;
}

/* Reads a whole file like os.ReadFile, bounded by CONF_MAX_FILE_SIZE and
 * the parse budget. Error text like Go's: "open X: ...", "read X: ...". */
static char *read_file(const char *path, size_t *len_out, Budget *b, GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    g_autofree char *t = go_errno_text(errno);
    set_error_at(error, CONF_ERROR_IO, path, 0, 0, "open %s: %s", path, t);
    return NULL;
  }
  GString *buf = g_string_sized_new(4096);
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_autofree char *t = go_errno_text(errno);
      set_error_at(error, CONF_ERROR_IO, path, 0, 0, "read %s: %s", path, t);
      close(fd);
      g_string_free(buf, TRUE);
      return NULL;
    }
    if (n == 0)
      break;
    if (buf->len + (size_t)n > CONF_MAX_FILE_SIZE || buf->len + (size_t)n > b->bytes_left) {
      set_error_at(error, CONF_ERROR_LIMIT, path, 0, 0,
                   "read %s: file too large (limit %u bytes per file, %u in total)", path,
                   CONF_MAX_FILE_SIZE, CONF_MAX_TOTAL_INPUT);
      close(fd);
      g_string_free(buf, TRUE);
      return NULL;
    }
    g_string_append_len(buf, chunk, n);
  }
  close(fd);
  *len_out = buf->len;
  return g_string_free(buf, FALSE);
}

/* ---- parser ---- */

typedef struct {
  char *key; /* owned */
  int line;
  int pos;
} PendingKey;

typedef struct {
  ConfLex *lx;      /* owned */
  GPtrArray *ctxs;  /* open containers, root first; owned (each not yet attached) */
  GArray *keys;     /* PendingKey, owned */
  char *dir;        /* owned: directory includes are relative to */
  GRefString *fp;   /* owned ref: file name stamped on values */
  bool pedantic;    /* positions on values (nats-server's ParseFileWithChecks) */
  ConfParseFlags flags;
  Budget *budget; /* borrowed: shared by the whole parse */
  int include_depth;
  int env_depth;
} Parser;

static ConfValue *parse_text(const char *data, size_t len, const char *fp, bool pedantic,
                             ConfParseFlags flags, Budget *budget, int include_depth,
                             int env_depth, GError **error);
static ConfValue *parse_file_at(const char *path, bool pedantic, ConfParseFlags flags,
                                Budget *budget, int include_depth, int env_depth,
                                GError **error);

static void pending_key_clear(gpointer p) { g_free(((PendingKey *)p)->key); }

static void perr(Parser *p, GError **error, ConfErrorCode code, int line, int col,
                 const char *fmt, ...) G_GNUC_PRINTF(6, 7);
static void perr(Parser *p, GError **error, ConfErrorCode code, int line, int col,
                 const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  set_error_at(error, code, p->fp, line, col, "%s", msg);
}

static void limit_values(Parser *p, GError **error, const ConfToken *t) {
  perr(p, error, CONF_ERROR_LIMIT, t->line, (int)t->pos,
       "configuration has too many values (limit %u)", CONF_MAX_VALUES);
}

static ConfValue *top_ctx(Parser *p) { return g_ptr_array_index(p->ctxs, p->ctxs->len - 1); }

static void stamp(Parser *p, ConfValue *v, const ConfToken *t) {
  if (p->pedantic)
    value_set_pos(v, p->fp, t->line, (int)t->pos);
}

/* Stores a completed value (taken) in the innermost container. */
static bool set_value(Parser *p, ConfValue *v, const ConfToken *t, GError **error) {
  ConfValue *ctx = top_ctx(p);
  if ((int)p->ctxs->len + v->height > CONF_MAX_DEPTH) {
    conf_value_free(v);
    perr(p, error, CONF_ERROR_LIMIT, t->line, (int)t->pos,
         "nesting depth exceeds the limit of %d on line %d", CONF_MAX_DEPTH, t->line);
    return false;
  }
  if (ctx->kind == CONF_ARRAY) {
    grow_height(ctx, v);
    g_ptr_array_add(ctx->items, v);
    return true;
  }
  if (p->keys->len == 0) {
    /* nats-server would panic here; no known input reaches it. */
    conf_value_free(v);
    perr(p, error, CONF_ERROR_SYNTAX, t->line, (int)t->pos, "BUG in parser, keys stack empty");
    return false;
  }
  PendingKey *k = &g_array_index(p->keys, PendingKey, p->keys->len - 1);
  char *key = g_steal_pointer(&k->key);
  if (p->pedantic) {
    /* Report map entries at their key, as nats-server does. */
    v->line = k->line;
    v->column = k->pos;
  }
  g_array_set_size(p->keys, p->keys->len - 1);
  map_set(ctx, key, v);
  return true;
}

/* Go's strconv.ParseInt(s, 10, 64): 0 ok, 1 syntax error, 2 out of range. */
static int go_parse_int(const char *s, size_t n, int64_t *out) {
  if (n == 0)
    return 1;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n)
    return 1;
  uint64_t v = 0;
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < '0' || c > '9')
      return 1;
    if (v > UINT64_MAX / 10)
      return 2;
    uint64_t nv = v * 10 + (c - '0');
    if (nv < v * 10)
      return 2;
    v = nv;
  }
  if (neg) {
    if (v > (uint64_t)INT64_MAX + 1)
      return 2;
    *out = (int64_t)(0 - v);
  } else {
    if (v > (uint64_t)INT64_MAX)
      return 2;
    *out = (int64_t)v;
  }
  return 0;
}

static bool process_integer(Parser *p, const ConfToken *t, GError **error) {
  /* Digits (any Unicode digit, as counted by the lexer) and '-' lead; the
   * count is in runes but slices bytes — faithfully odd, and only ever
   * matters for non-ASCII digits, which fail either way. */
  size_t runes = 0;
  for (size_t i = 0; i < t->val_len;) {
    size_t w;
    int32_t r = conf_utf8_decode(t->val + i, t->val_len - i, &w);
    if (!conf_is_digit(r) && r != '-')
      break;
    runes++;
    i += w;
  }
  size_t ndig = MIN(runes, t->val_len);
  int64_t num = 0;
  int rc = go_parse_int(t->val, ndig, &num);
  if (rc == 2) {
    perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos, "integer '%s' is out of the range",
         t->val);
    return false;
  }
  if (rc == 1) {
    perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos, "expected integer, but got '%s'",
         t->val);
    return false;
  }
  g_autofree char *suffix = g_ascii_strdown(t->val + ndig, (gssize)(t->val_len - ndig));
  g_strstrip(suffix);
  static const struct {
    const char *names[3];
    uint64_t mult;
  } units[] = {
      {{"", NULL, NULL}, 1},
      {{"k", NULL, NULL}, 1000ull},
      {{"kb", "ki", "kib"}, 1ull << 10},
      {{"m", NULL, NULL}, 1000000ull},
      {{"mb", "mi", "mib"}, 1ull << 20},
      {{"g", NULL, NULL}, 1000000000ull},
      {{"gb", "gi", "gib"}, 1ull << 30},
      {{"t", NULL, NULL}, 1000000000000ull},
      {{"tb", "ti", "tib"}, 1ull << 40},
      {{"p", NULL, NULL}, 1000000000000000ull},
      {{"pb", "pi", "pib"}, 1ull << 50},
      {{"e", NULL, NULL}, 1000000000000000000ull},
      {{"eb", "ei", "eib"}, 1ull << 60},
  };
  for (size_t u = 0; u < G_N_ELEMENTS(units); u++) {
    for (int j = 0; j < 3 && units[u].names[j]; j++) {
      if (strcmp(suffix, units[u].names[j]) != 0)
        continue;
      ConfValue *v = value_new(CONF_INTEGER, p->budget);
      if (!v) {
        limit_values(p, error, t);
        return false;
      }
      v->u.i = (int64_t)((uint64_t)num * units[u].mult); /* wraps like Go's int64 */
      stamp(p, v, t);
      return set_value(p, v, t, error);
    }
  }
  /* Unknown suffix (e.g. "1kbb"): nats-server stores nothing. */
  return true;
}

static bool process_float(Parser *p, const ConfToken *t, GError **error) {
  bool ascii = t->val_len > 0;
  for (size_t i = 0; i < t->val_len; i++) {
    char c = t->val[i];
    if (!(g_ascii_isdigit(c) || c == '.' || (c == '-' && i == 0)))
      ascii = false;
  }
  if (!ascii) {
    perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos, "expected float, but got '%s'",
         t->val);
    return false;
  }
  double d = g_ascii_strtod(t->val, NULL);
  if (isinf(d)) {
    perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos, "float '%s' is out of the range",
         t->val);
    return false;
  }
  ConfValue *v = value_new(CONF_FLOAT, p->budget);
  if (!v) {
    limit_values(p, error, t);
    return false;
  }
  v->u.f = d;
  stamp(p, v, t);
  return set_value(p, v, t, error);
}

static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* time.Parse("2006-01-02T15:04:05Z", s). */
static bool parse_zulu(const char *s, size_t n, int64_t *out) {
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  if (n != sizeof shape - 1)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (shape[i] == 'd' ? !g_ascii_isdigit(s[i]) : s[i] != shape[i])
      return false;
  }
#define NUM2(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
  int year = NUM2(0) * 100 + NUM2(2), mon = NUM2(5), day = NUM2(8);
  int hh = NUM2(11), mm = NUM2(14), ss = NUM2(17);
#undef NUM2
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 ||
      ss > 59)
    return false;
  *out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
  return true;
}

static ConfValue *string_value(Parser *p, const char *s, size_t n) {
  ConfValue *v = value_new(CONF_STRING, p->budget);
  if (!v)
    return NULL;
  v->str = g_malloc(n + 1);
  memcpy(v->str, s, n);
  v->str[n] = '\0';
  v->str_len = n;
  return v;
}

/* Looks up $name: open maps innermost first, then the environment. Returns
 * a new value (transfer full) or NULL with error set. */
static ConfValue *lookup_variable(Parser *p, const ConfToken *t, GError **error) {
  const char *name = t->val;
  if (g_str_has_prefix(name, "2a$")) {
    /* An unquoted bcrypt hash ($2a$...) is a string, not a reference. */
    g_autofree char *s = g_strconcat("$", name, NULL);
    ConfValue *v = string_value(p, s, strlen(s));
    if (!v)
      limit_values(p, error, t);
    return v;
  }
  for (guint i = p->ctxs->len; i-- > 0;) {
    ConfValue *m = g_ptr_array_index(p->ctxs, i);
    if (m->kind != CONF_MAP)
      continue;
    gssize at = map_find(m, name);
    if (at < 0)
      continue;
    ConfValue *found = g_array_index(m->entries, MapEntry, at).value;
    if (p->pedantic)
      found->used_variable = true;
    ConfValue *v = value_copy(found, p->budget);
    if (!v) {
      limit_values(p, error, t);
      return NULL;
    }
    v->used_variable = false;
    return v;
  }
  const char *env = NULL;
  if (!(p->flags & CONF_PARSE_NO_ENV) && name[0] && !strchr(name, '='))
    env = g_getenv(name);
  if (!env) {
    perr(p, error, CONF_ERROR_VARIABLE, t->line, (int)t->pos,
         "variable reference for '%s' on line %d can not be found", name, t->line);
    return NULL;
  }
  if (p->env_depth >= CONF_MAX_ENV_DEPTH) {
    perr(p, error, CONF_ERROR_LIMIT, t->line, (int)t->pos,
         "variable reference for '%s' on line %d could not be parsed: environment variables "
         "nested deeper than %d",
         name, t->line, CONF_MAX_ENV_DEPTH);
    return NULL;
  }
  g_autofree char *text = g_strconcat("pk=", env, NULL);
  GError *inner = NULL;
  ConfValue *root = parse_text(text, strlen(text), "", false, p->flags, p->budget,
                               p->include_depth, p->env_depth + 1, &inner);
  if (!root) {
    perr(p, error, inner->code == CONF_ERROR_LIMIT ? CONF_ERROR_LIMIT : CONF_ERROR_VARIABLE,
         t->line, (int)t->pos, "variable reference for '%s' on line %d could not be parsed: %s",
         name, t->line, inner->message);
    g_error_free(inner);
    return NULL;
  }
  gssize at = map_find(root, "pk");
  ConfValue *v = NULL;
  if (at >= 0) {
    MapEntry *e = &g_array_index(root->entries, MapEntry, at);
    v = g_steal_pointer(&e->value);
  }
  conf_value_free(root);
  if (!v) {
    perr(p, error, CONF_ERROR_VARIABLE, t->line, (int)t->pos,
         "variable reference for '%s' on line %d can not be found", name, t->line);
    return NULL;
  }
  return v;
}

static bool process_include(Parser *p, const ConfToken *t, GError **error) {
  if (p->flags & CONF_PARSE_NO_INCLUDES) {
    perr(p, error, CONF_ERROR_INCLUDE, t->line, (int)t->pos,
         "error parsing include file '%s', includes are disabled", t->val);
    return false;
  }
  g_autofree char *path = path_join(p->dir, t->val);
  GError *inner = NULL;
  ConfValue *m;
  if (p->include_depth >= CONF_MAX_INCLUDE_DEPTH) {
    set_error_at(&inner, CONF_ERROR_LIMIT, p->fp, t->line, (int)t->pos,
                 "includes nested deeper than %d", CONF_MAX_INCLUDE_DEPTH);
    m = NULL;
  } else {
    m = parse_file_at(path, p->pedantic, p->flags, p->budget, p->include_depth + 1, p->env_depth,
                      &inner);
  }
  if (!m) {
    const char *file = NULL;
    int line = 0, col = 0;
    conf_error_get_location(inner, &file, &line, &col);
    if (line == 0) {
      file = p->fp;
      line = t->line;
      col = (int)t->pos;
    }
    set_error_at(error, inner->code == CONF_ERROR_LIMIT ? CONF_ERROR_LIMIT : CONF_ERROR_INCLUDE,
                 file, line, col, "error parsing include file '%s', %s", t->val, inner->message);
    g_error_free(inner);
    return false;
  }
  bool ok = true;
  for (guint i = 0; ok && i < m->entries->len; i++) {
    MapEntry *e = &g_array_index(m->entries, MapEntry, i);
    PendingKey k = {g_steal_pointer(&e->key), e->value->line, e->value->column};
    g_array_append_val(p->keys, k);
    ok = set_value(p, g_steal_pointer(&e->value), t, error);
  }
  conf_value_free(m);
  return ok;
}

static bool push_ctx(Parser *p, ConfKind kind, const ConfToken *t, GError **error) {
  if (p->ctxs->len >= CONF_MAX_DEPTH) {
    perr(p, error, CONF_ERROR_LIMIT, t->line, (int)t->pos,
         "nesting depth exceeds the limit of %d on line %d", CONF_MAX_DEPTH, t->line);
    return false;
  }
  ConfValue *v = value_new(kind, p->budget);
  if (!v) {
    limit_values(p, error, t);
    return false;
  }
  g_ptr_array_add(p->ctxs, v);
  return true;
}

static bool process_token(Parser *p, ConfToken *t, GError **error) {
  ConfValue *v;
  switch (t->type) {
  case CONF_TOK_ERROR:
    perr(p, error, CONF_ERROR_SYNTAX, t->line, (int)t->pos, "Parse error on line %d: '%s'",
         t->line, t->val);
    return false;
  case CONF_TOK_KEY: {
    PendingKey k = {g_steal_pointer(&t->val), t->line, (int)t->pos};
    g_array_append_val(p->keys, k);
    return true;
  }
  case CONF_TOK_MAP_START:
    return push_ctx(p, CONF_MAP, t, error);
  case CONF_TOK_ARRAY_START:
    return push_ctx(p, CONF_ARRAY, t, error);
  case CONF_TOK_MAP_END:
  case CONF_TOK_ARRAY_END:
    if (p->ctxs->len < 2) {
      perr(p, error, CONF_ERROR_SYNTAX, t->line, (int)t->pos, "BUG in parser, context stack empty");
      return false;
    }
    v = g_ptr_array_steal_index(p->ctxs, p->ctxs->len - 1);
    stamp(p, v, t);
    return set_value(p, v, t, error);
  case CONF_TOK_STRING:
    v = string_value(p, t->val, t->val_len);
    if (!v) {
      limit_values(p, error, t);
      return false;
    }
    stamp(p, v, t);
    return set_value(p, v, t, error);
  case CONF_TOK_INTEGER:
    return process_integer(p, t, error);
  case CONF_TOK_FLOAT:
    return process_float(p, t, error);
  case CONF_TOK_BOOL: {
    g_autofree char *low = g_ascii_strdown(t->val, -1);
    bool b;
    if (!strcmp(low, "true") || !strcmp(low, "yes") || !strcmp(low, "on"))
      b = true;
    else if (!strcmp(low, "false") || !strcmp(low, "no") || !strcmp(low, "off"))
      b = false;
    else {
      perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos, "expected boolean value, but got '%s'",
           t->val);
      return false;
    }
    v = value_new(CONF_BOOL, p->budget);
    if (!v) {
      limit_values(p, error, t);
      return false;
    }
    v->u.b = b;
    stamp(p, v, t);
    return set_value(p, v, t, error);
  }
  case CONF_TOK_DATETIME: {
    int64_t secs;
    if (!parse_zulu(t->val, t->val_len, &secs)) {
      perr(p, error, CONF_ERROR_VALUE, t->line, (int)t->pos,
           "expected Zulu formatted DateTime, but got '%s'", t->val);
      return false;
    }
    v = string_value(p, t->val, t->val_len);
    if (!v) {
      limit_values(p, error, t);
      return false;
    }
    v->kind = CONF_DATETIME;
    v->u.dt = secs;
    stamp(p, v, t);
    return set_value(p, v, t, error);
  }
  case CONF_TOK_VARIABLE:
    v = lookup_variable(p, t, error);
    if (!v)
      return false;
    if (p->pedantic)
      value_set_pos(v, p->fp, t->line, (int)t->pos);
    return set_value(p, v, t, error);
  case CONF_TOK_INCLUDE:
    return process_include(p, t, error);
  case CONF_TOK_NIL:
  case CONF_TOK_EOF:
  case CONF_TOK_TEXT:
  case CONF_TOK_COMMENT_START:
    return true;
  }
  return true;
}

static ConfValue *parse_text(const char *data, size_t len, const char *fp, bool pedantic,
                             ConfParseFlags flags, Budget *budget, int include_depth,
                             int env_depth, GError **error) {
  if (len > budget->bytes_left) {
    set_error_at(error, CONF_ERROR_LIMIT, fp, 0, 0,
                 "configuration input exceeds %u bytes in total", CONF_MAX_TOTAL_INPUT);
    return NULL;
  }
  budget->bytes_left -= len;
  Parser p = {0};
  p.lx = conf_lex_new(data, len);
  p.ctxs = g_ptr_array_new_with_free_func((GDestroyNotify)conf_value_free);
  p.keys = g_array_new(FALSE, FALSE, sizeof(PendingKey));
  g_array_set_clear_func(p.keys, pending_key_clear);
  p.dir = path_dir(fp);
  p.fp = g_ref_string_new(fp);
  p.pedantic = pedantic;
  p.flags = flags;
  p.budget = budget;
  p.include_depth = include_depth;
  p.env_depth = env_depth;

  ConfValue *root = NULL;
  ConfToken dummy = {0};
  dummy.line = 1;
  if (push_ctx(&p, CONF_MAP, &dummy, error)) {
    for (;;) {
      ConfToken t = conf_lex_next(p.lx);
      if (t.type == CONF_TOK_EOF) {
        conf_token_clear(&t);
        root = g_ptr_array_steal_index(p.ctxs, 0);
        break;
      }
      bool ok = process_token(&p, &t, error);
      conf_token_clear(&t);
      if (!ok)
        break;
    }
  }
  conf_lex_free(p.lx);
  g_ptr_array_unref(p.ctxs); /* containers never closed are dropped, as in nats-server */
  g_array_unref(p.keys);
  g_free(p.dir);
  g_ref_string_release(p.fp);
  return root;
}

static ConfValue *parse_file_at(const char *path, bool pedantic, ConfParseFlags flags,
                                Budget *budget, int include_depth, int env_depth,
                                GError **error) {
  size_t len = 0;
  GError *io = NULL;
  g_autofree char *data = read_file(path, &len, budget, &io);
  if (!data) {
    /* nats-server's non-pedantic ParseFile adds a prefix; the pedantic one does not. */
    if (!pedantic && io->code == CONF_ERROR_IO)
      g_prefix_error(&io, "error opening config file: ");
    g_propagate_error(error, io);
    return NULL;
  }
  return parse_text(data, len, path, pedantic, flags, budget, include_depth, env_depth, error);
}

/* ---- public ---- */

static void budget_init(Budget *b) {
  b->bytes_left = CONF_MAX_TOTAL_INPUT;
  b->values_left = CONF_MAX_VALUES;
}

ConfValue *conf_parse_file_full(const char *path, ConfParseFlags flags, GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  Budget b;
  budget_init(&b);
  return parse_file_at(path, true, flags, &b, 0, 0, error);
}

ConfValue *conf_parse_file(const char *path, GError **error) {
  return conf_parse_file_full(path, CONF_PARSE_DEFAULT, error);
}

ConfValue *conf_parse_data(const char *data, size_t len, const char *pseudo_path,
                           ConfParseFlags flags, GError **error) {
  Budget b;
  budget_init(&b);
  if (len > CONF_MAX_FILE_SIZE) {
    set_error_at(error, CONF_ERROR_LIMIT, pseudo_path ? pseudo_path : "", 0, 0,
                 "configuration too large (limit %u bytes)", CONF_MAX_FILE_SIZE);
    return NULL;
  }
  return parse_text(data ? data : "", data ? len : 0, pseudo_path ? pseudo_path : "", true, flags,
                    &b, 0, 0, error);
}

ConfValue *conf_parse_string(const char *text, const char *pseudo_path, GError **error) {
  g_return_val_if_fail(text != NULL, NULL);
  return conf_parse_data(text, strlen(text), pseudo_path, CONF_PARSE_DEFAULT, error);
}

ConfKind conf_value_kind(const ConfValue *v) { return v->kind; }

const char *conf_value_kind_name(ConfKind k) {
  static const char *const n[] = {"string", "integer", "float", "bool", "datetime", "array", "map"};
  return (unsigned)k < G_N_ELEMENTS(n) ? n[k] : "?";
}

const char *conf_value_go_type(const ConfValue *v) {
  static const char *const n[] = {"string", "int64", "float64", "bool", "time.Time", "[]interface {}",
                                  "map[string]interface {}"};
  return v && (unsigned)v->kind < G_N_ELEMENTS(n) ? n[v->kind] : "interface {}";
}

const char *conf_value_string(const ConfValue *v) {
  return v && (v->kind == CONF_STRING || v->kind == CONF_DATETIME) ? v->str : NULL;
}
size_t conf_value_string_len(const ConfValue *v) {
  return v && (v->kind == CONF_STRING || v->kind == CONF_DATETIME) ? v->str_len : 0;
}
int64_t conf_value_int(const ConfValue *v) { return v && v->kind == CONF_INTEGER ? v->u.i : 0; }
double conf_value_float(const ConfValue *v) { return v && v->kind == CONF_FLOAT ? v->u.f : 0.0; }
bool conf_value_bool(const ConfValue *v) { return v && v->kind == CONF_BOOL && v->u.b; }
int64_t conf_value_datetime(const ConfValue *v) {
  return v && v->kind == CONF_DATETIME ? v->u.dt : 0;
}
size_t conf_value_array_len(const ConfValue *v) {
  return v && v->kind == CONF_ARRAY ? v->items->len : 0;
}
const ConfValue *conf_value_array_get(const ConfValue *v, size_t i) {
  return v && v->kind == CONF_ARRAY && i < v->items->len ? g_ptr_array_index(v->items, i) : NULL;
}
size_t conf_value_map_len(const ConfValue *v) {
  return v && v->kind == CONF_MAP ? v->entries->len : 0;
}
const char *conf_value_map_key(const ConfValue *v, size_t i) {
  return v && v->kind == CONF_MAP && i < v->entries->len
             ? g_array_index(v->entries, MapEntry, i).key
             : NULL;
}
const ConfValue *conf_value_map_value(const ConfValue *v, size_t i) {
  return v && v->kind == CONF_MAP && i < v->entries->len
             ? g_array_index(v->entries, MapEntry, i).value
             : NULL;
}
const ConfValue *conf_value_map_get(const ConfValue *map, const char *key) {
  if (!map || map->kind != CONF_MAP || !key)
    return NULL;
  gssize at = map_find(map, key);
  return at >= 0 ? g_array_index(map->entries, MapEntry, at).value : NULL;
}
const ConfValue *conf_value_map_lookup(const ConfValue *map, const char *key) {
  if (!map || map->kind != CONF_MAP || !key)
    return NULL;
  for (guint i = map->entries->len; i-- > 0;) {
    const MapEntry *e = &g_array_index(map->entries, MapEntry, i);
    if (g_ascii_strcasecmp(e->key, key) == 0)
      return e->value;
  }
  return NULL;
}
const char *conf_value_file(const ConfValue *v) { return v ? v->file : NULL; }
int conf_value_line(const ConfValue *v) { return v ? v->line : 0; }
int conf_value_column(const ConfValue *v) { return v ? v->column : 0; }
bool conf_value_is_used_variable(const ConfValue *v) { return v && v->used_variable; }

/* ---- JSON ---- */

static void json_string(GString *out, const char *s, size_t n) {
  g_string_append_c(out, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, (char)c);
      i++;
    } else if (c < 0x20) {
      g_string_append_printf(out, "\\u%04x", c);
      i++;
    } else if (c < 0x80) {
      g_string_append_c(out, (char)c);
      i++;
    } else {
      size_t w;
      int32_t r = conf_utf8_decode(s + i, n - i, &w);
      if (r == 0xFFFD && w == 1)
        g_string_append(out, "\\ufffd");
      else
        g_string_append_len(out, s + i, (gssize)w);
      i += w;
    }
  }
  g_string_append_c(out, '"');
}

static void json_value(GString *out, const ConfValue *v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  switch (v->kind) {
  case CONF_STRING:
  case CONF_DATETIME:
    json_string(out, v->str, v->str_len);
    break;
  case CONF_INTEGER:
    g_string_append_printf(out, "%" G_GINT64_FORMAT, v->u.i);
    break;
  case CONF_FLOAT:
    if (isfinite(v->u.f)) {
      g_ascii_dtostr(buf, sizeof buf, v->u.f);
      g_string_append(out, buf);
      if (!strpbrk(buf, ".eE"))
        g_string_append(out, ".0");
    } else {
      g_string_append(out, "null");
    }
    break;
  case CONF_BOOL:
    g_string_append(out, v->u.b ? "true" : "false");
    break;
  case CONF_ARRAY:
    g_string_append_c(out, '[');
    for (guint i = 0; i < v->items->len; i++) {
      if (i)
        g_string_append_c(out, ',');
      json_value(out, g_ptr_array_index(v->items, i));
    }
    g_string_append_c(out, ']');
    break;
  case CONF_MAP:
    g_string_append_c(out, '{');
    for (guint i = 0; i < v->entries->len; i++) {
      const MapEntry *e = &g_array_index(v->entries, MapEntry, i);
      if (i)
        g_string_append_c(out, ',');
      json_string(out, e->key, strlen(e->key));
      g_string_append_c(out, ':');
      json_value(out, e->value);
    }
    g_string_append_c(out, '}');
    break;
  }
}

char *conf_value_to_json(const ConfValue *v) {
  GString *out = g_string_new(NULL);
  if (v)
    json_value(out, v);
  else
    g_string_append(out, "null");
  return g_string_free(out, FALSE);
}

/* ---- durations (Go's time.ParseDuration) ---- */

/* Go's time.quote: bytes outside printable ASCII as \xNN. */
static char *go_time_quote(const char *s, size_t n) {
  GString *q = g_string_new("\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80 || c < 0x20) {
      g_string_append_printf(q, "\\x%02x", c);
    } else {
      if (c == '"' || c == '\\')
        g_string_append_c(q, '\\');
      g_string_append_c(q, (char)c);
    }
  }
  g_string_append_c(q, '"');
  return g_string_free(q, FALSE);
}

static bool duration_fail(GError **error, const char *orig, const char *unit, size_t unit_len) {
  g_autofree char *qo = go_time_quote(orig, strlen(orig));
  if (unit) {
    g_autofree char *qu = go_time_quote(unit, unit_len);
    g_set_error(error, CONF_ERROR, CONF_ERROR_VALUE, "time: unknown unit %s in duration %s", qu, qo);
  } else {
    g_set_error(error, CONF_ERROR, CONF_ERROR_VALUE, "time: invalid duration %s", qo);
  }
  return false;
}

bool conf_parse_duration(const char *orig, int64_t *out_ns, GError **error) {
  const uint64_t lim = 1ull << 63;
  const char *s = orig ? orig : "";
  uint64_t d = 0;
  bool neg = false;
  if (*s == '-' || *s == '+') {
    neg = *s == '-';
    s++;
  }
  if (strcmp(s, "0") == 0) {
    *out_ns = 0;
    return true;
  }
  if (!*s)
    return duration_fail(error, orig ? orig : "", NULL, 0);
  while (*s) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(*s == '.' || g_ascii_isdigit(*s)))
      return duration_fail(error, orig, NULL, 0);
    const char *b = s;
    for (; g_ascii_isdigit(*s); s++) {
      if (v > lim / 10)
        return duration_fail(error, orig, NULL, 0);
      v = v * 10 + (uint64_t)(*s - '0');
      if (v > lim)
        return duration_fail(error, orig, NULL, 0);
    }
    bool pre = s != b, post = false;
    if (*s == '.') {
      s++;
      b = s;
      bool overflow = false;
      for (; g_ascii_isdigit(*s); s++) {
        if (overflow)
          continue;
        if (f > (lim - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + (uint64_t)(*s - '0');
        if (y > lim) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = s != b;
    }
    if (!pre && !post)
      return duration_fail(error, orig, NULL, 0);
    const char *u = s;
    while (*s && *s != '.' && !g_ascii_isdigit(*s))
      s++;
    size_t ulen = (size_t)(s - u);
    if (ulen == 0) {
      g_autofree char *qo = go_time_quote(orig, strlen(orig));
      g_set_error(error, CONF_ERROR, CONF_ERROR_VALUE, "time: missing unit in duration %s", qo);
      return false;
    }
    static const struct {
      const char *name;
      uint64_t ns;
    } units[] = {{"ns", 1},
                 {"us", 1000},
                 {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
                 {"\xce\xbcs", 1000}, /* U+03BC greek mu */
                 {"ms", 1000000},
                 {"s", 1000000000ull},
                 {"m", 60000000000ull},
                 {"h", 3600000000000ull}};
    uint64_t unit = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
      if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0)
        unit = units[i].ns;
    if (!unit)
      return duration_fail(error, orig, u, ulen);
    if (v > lim / unit)
      return duration_fail(error, orig, NULL, 0);
    v *= unit;
    if (f > 0) {
      v += (uint64_t)((double)f * ((double)unit / scale));
      if (v > lim)
        return duration_fail(error, orig, NULL, 0);
    }
    d += v;
    if (d > lim)
      return duration_fail(error, orig, NULL, 0);
  }
  if (neg) {
    *out_ns = (int64_t)(0 - d);
    return true;
  }
  if (d > lim - 1)
    return duration_fail(error, orig, NULL, 0);
  *out_ns = (int64_t)d;
  return true;
}

void conf_report(GPtrArray *list, const ConfValue *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (!v) {
    g_ptr_array_add(list, g_steal_pointer(&msg));
    return;
  }
  const char *file = conf_value_file(v);
  g_ptr_array_add(list, g_strdup_printf("%s:%d:%d: %s", file ? file : "", conf_value_line(v), conf_value_column(v), msg));
}
