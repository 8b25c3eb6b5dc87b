/* module.c — finds and loads cnatsd-<name>.so modules (see module.h).
 *
 * Owns the table of loaded modules (name → dlopen handle), kept until exit:
 * modules are never unloaded, so their tables and any GType they register
 * stay valid, and sanitizer reports keep their symbols.  Called at startup
 * or from the protocol loop thread, only when a feature is configured. */
#include "module.h"

#include <dlfcn.h>
#include <gio/gio.h>
#include <string.h>

#ifndef CNATSD_MODULEDIR
#define CNATSD_MODULEDIR "/usr/local/lib/cnatsd"
#endif

static GHashTable *module_tables;  /* owned: name (owned) → table (borrowed from the module) */

static void *module_open_in(const char *dir, const char *file, GString *tried) {
  g_autofree char *path = g_build_filename(dir, file, NULL);
  /* RTLD_LOCAL: a module's symbols never satisfy another's */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    g_string_append_printf(tried, "%s%s", tried->len ? "; " : "", e ? e : path);
  }
  return h;
}

const void *module_load(const char *name, uint32_t abi, GError **error) {
  if (module_tables) {
    const void *t = g_hash_table_lookup(module_tables, name);
    if (t) return t;
  }
  g_autofree char *file = g_strdup_printf("cnatsd-%s.so", name);
  g_autoptr(GString) tried = g_string_new(NULL);
  void *h = NULL;
  const char *env = g_getenv("CNATSD_MODULE_DIR");
  if (env && *env) h = module_open_in(env, file, tried);
  if (!h) {
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe) {
      g_autofree char *dir = g_path_get_dirname(exe);
      h = module_open_in(dir, file, tried);
    }
  }
#ifdef CNATSD_BUILD_MODULEDIR
  /* test programs linking libcnatsd run from other build subdirectories */
  if (!h) h = module_open_in(CNATSD_BUILD_MODULEDIR, file, tried);
#endif
  if (!h) h = module_open_in(CNATSD_MODULEDIR, file, tried);
  if (!h) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "can't load module %s: %s", file, tried->str);
    return NULL;
  }
  g_autofree char *sym = g_strdup_printf("cnatsd_module_%s", name);
  const uint32_t *table = dlsym(h, sym);
  if (!table || *table != abi) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "module %s: %s %s (want ABI %u)", file, sym,
                table ? "has another ABI" : "missing", abi);
    dlclose(h);
    return NULL;
  }
  if (!module_tables) module_tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert(module_tables, g_strdup(name), (gpointer)table);
  return table;
}
