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
 * Adding a module ("tls" as the example):
 *   1. tls.h declares `typedef struct TlsModule { uint32_t abi; ...fns... }
 *      TlsModule;` and `#define TLS_MODULE_ABI 1u`, with no GnuTLS types.
 *   2. tls.c defines the functions and
 *      `G_MODULE_EXPORT const TlsModule cnatsd_module_tls = {TLS_MODULE_ABI, ...};`
 *   3. meson.build: `shared_module('cnatsd-tls', 'src/tls.c', name_prefix : '',
 *      dependencies : [glib_dep, gnutls_dep], install : true,
 *      install_dir : cnatsd_moduledir)` next to cnatsd_exe (so it lands in
 *      the same build directory as the binary), and drop gnutls_dep from
 *      core_deps.
 *   4. the caller, once TLS is configured:
 *      `const TlsModule *t = module_load("tls", TLS_MODULE_ABI, &error);`
 *
 * Search order for cnatsd-<name>.so: $CNATSD_MODULE_DIR, the directory of
 * the running executable (/proc/self/exe: build/cnatsd finds
 * build/cnatsd-<name>.so), then the install directory (libdir/cnatsd).
 * Protocol loop thread (or startup). */
#pragma once

#include <glib.h>
#include <stdint.h>

/* The module's table (borrowed: modules stay loaded until exit), or NULL
 * with *error set when no loadable module with that name, symbol and ABI
 * was found.  Loading twice returns the same table. */
const void *module_load(const char *name, uint32_t abi, GError **error);
