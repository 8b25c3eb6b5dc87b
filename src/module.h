/* module.h — optional features that live in loadable modules, so that a
 * server which does not use them maps none of their libraries.
 *
 * A module is a shared object cnatsd-<name>.so built from one .c file that
 * includes the heavy library (libsoup for "monitor", GnuTLS for "tls").  It
 * exports one symbol, `cnatsd_module_<name>`: a const struct whose first
 * field is a uint32_t ABI number, followed by function pointers.  The
 * struct type is declared in the feature's header (MonitorHttpModule in
 * monitor.h); the module never calls into the server — what it needs from
 * the core is passed to it as a table of functions — so it links only its
 * library and GLib and loads into any cnatsd binary (plain, ASan, fuzz).
 *
 * Adding a module — this is how "tls" was made one (GnuTLS and its
 * dependencies — nettle, hogweed, gmp, p11-kit, tasn1, idn2, unistring —
 * map 2.2 MiB and gnutls_global_init allocates another ~130 KiB at load,
 * in every server that linked it):
 *   1. tls.h keeps its functions as the interface the rest of the core calls,
 *      and adds `typedef struct TlsModule { uint32_t abi; ...one pointer per
 *      tls.h function... } TlsModule;` and `#define TLS_MODULE_ABI 1u`.
 *   2. tls.c (the only GnuTLS user) exports `__attribute__((visibility(
 *      "default"))) const TlsModule cnatsd_module_tls = {TLS_MODULE_ABI,
 *      ...};`; its functions keep their tls.h names, hidden by the module's
 *      -fvisibility=hidden (so they cannot clash with the shim's, and it
 *      needs no prototypes of its own).  It must not call into
 *      the core: what it needs (logging) comes in through the table, as
 *      MonitorHttpHost does for the monitor module.
 *   3. A small core file (tls_shim.c) implements each tls.h function as a
 *      call through `module_load("tls", TLS_MODULE_ABI, &error)`'s table,
 *      loading on first use; the first use is config time, only when TLS
 *      is configured (tls{} or --tls*), so a load failure is a config error.
 *      Functions given NULL answer without loading, and what needs no
 *      library (Go's cipher/curve names) stays in the shim.
 *   4. meson.build: `shared_module('cnatsd-tls', 'src/tls.c', name_prefix : '',
 *      dependencies : [glib_dep, gnutls_dep], gnu_symbol_visibility : 'hidden',
 *      install : true, install_dir : cnatsd_moduledir)` next to
 *      cnatsd_monitor_module (so it lands next to build/cnatsd), add it to
 *      alias_target('server', ...), move tls.c from src/meson.build to the
 *      module, and drop gnutls_dep from core_deps (test helpers that speak
 *      TLS as clients add it themselves: tests/lib/meson.build).
 *
 * Search order for cnatsd-<name>.so: $CNATSD_MODULE_DIR, the directory of
 * the running executable (/proc/self/exe: build/cnatsd finds
 * build/cnatsd-<name>.so), the build directory it was compiled in (for test
 * programs elsewhere in the build tree), then the install directory
 * (libdir/cnatsd).
 * Protocol loop thread (or startup). */
#pragma once

#include <glib.h>
#include <stdint.h>

/* The module's table (borrowed: modules stay loaded until exit), or NULL
 * with *error set when no loadable module with that name, symbol and ABI
 * was found.  Loading twice returns the same table. */
const void *module_load(const char *name, uint32_t abi, GError **error);
