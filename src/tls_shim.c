/* tls_shim.c — the core's side of TLS: implements tls.h by forwarding to
 * the loadable module cnatsd-tls.so (tls.c, GnuTLS).
 *
 * Owns: the pointer to the module's TlsModule table (borrowed from the
 * module, which stays loaded until exit) and the lists of Go's cipher suite
 * and curve names (plain data, so validating a tls{} block and --help_tls
 * need no GnuTLS).  Thread: the table is set on the main thread while the
 * options load, by the first tls_config_new, before any TlsConfig exists;
 * afterwards it is only read (protocol loop thread), so no locking.
 *
 * Every TlsConfig and TlsConn comes from the module, so a function given one
 * forwards without checking: one indirect call on the hot path (recv, send,
 * pending).  Functions given NULL answer without loading anything, so a
 * server without TLS (options free, reload compare, /varz) never maps GnuTLS.
 * The few functions that take no config (DN and PEM helpers; in the server
 * reached only through a TLS connection, in tests directly) load on use. */
#include "tls.h"

#include <string.h>

#include "module.h"

static const TlsModule *tls_mod;  /* borrowed: module tables stay valid until exit */

/* The module's table, loading it on the first call; NULL with *error set
 * when cnatsd-tls.so cannot be loaded. */
static const TlsModule *tls_shim_module(GError **error) {
  if (!tls_mod) tls_mod = module_load("tls", TLS_MODULE_ABI, error);
  return tls_mod;
}

/* For the helpers that have no way to report a load failure. */
static const TlsModule *tls_shim_module_or_warn(void) {
  g_autoptr(GError) error = NULL;
  const TlsModule *m = tls_shim_module(&error);
  if (!m) g_warning("TLS: %s", error->message);
  return m;
}

TlsConfig *tls_config_new(const TlsConfigOpts *o, GError **error) {
  const TlsModule *m = tls_shim_module(error);
  if (!m) {
    g_prefix_error(error, "TLS is configured but ");
    return NULL;
  }
  return m->config_new(o, error);
}

void tls_config_free(TlsConfig *cfg) {
  if (cfg) tls_mod->config_free(cfg);
}

TlsConfig *tls_config_ref(TlsConfig *cfg) { return tls_mod->config_ref(cfg); }

bool tls_config_reload_same(const TlsConfig *a, const TlsConfig *b) {
  if (!a || !b) return a == b;
  return tls_mod->config_reload_same(a, b);
}

bool tls_config_verify(const TlsConfig *cfg) { return cfg && tls_mod->config_verify(cfg); }
const char *tls_config_cert_file(const TlsConfig *cfg) { return cfg ? tls_mod->config_cert_file(cfg) : NULL; }
const char *tls_config_key_file(const TlsConfig *cfg) { return cfg ? tls_mod->config_key_file(cfg) : NULL; }

TlsConn *tls_conn_new(TlsConfig *cfg, int fd) { return tls_mod->conn_new(cfg, fd); }

void tls_conn_free(TlsConn *t) {
  if (t) tls_mod->conn_free(t);
}

TlsIo tls_conn_handshake(TlsConn *t, char **why) { return tls_mod->conn_handshake(t, why); }
bool tls_conn_wants_write(const TlsConn *t) { return tls_mod->conn_wants_write(t); }
ssize_t tls_conn_recv(TlsConn *t, void *buf, size_t cap) { return tls_mod->conn_recv(t, buf, cap); }
size_t tls_conn_pending(const TlsConn *t) { return tls_mod->conn_pending(t); }
ssize_t tls_conn_send(TlsConn *t, const void *buf, size_t len) { return tls_mod->conn_send(t, buf, len); }

void tls_conn_bye(TlsConn *t) {
  if (t) tls_mod->conn_bye(t);
}

const char *tls_conn_version(const TlsConn *t) { return tls_mod->conn_version(t); }
const char *tls_conn_cipher(const TlsConn *t) { return tls_mod->conn_cipher(t); }
GPtrArray *tls_conn_peer_certs(const TlsConn *t) { return tls_mod->conn_peer_certs(t); }
TlsPeerIdentity *tls_conn_peer_identity(const TlsConn *t) { return tls_mod->conn_peer_identity(t); }

void tls_peer_identity_free(TlsPeerIdentity *id) {
  if (id) tls_mod->peer_identity_free(id);
}

bool tls_dn_match(const char *a, const char *b, bool ordered) {
  const TlsModule *m = tls_shim_module_or_warn();
  return m && m->dn_match(a, b, ordered);
}

char *tls_pem_subject_string(const char *pem, size_t len) {
  const TlsModule *m = tls_shim_module_or_warn();
  return m ? m->pem_subject_string(pem, len) : NULL;
}

bool tls_pem_spki_sha256(const char *pem, size_t len, char out[65]) {
  const TlsModule *m = tls_shim_module_or_warn();
  return m && m->pem_spki_sha256(pem, len, out);
}

/* ---- Go's names (crypto/tls's CipherSuites and CurveIDs as nats-server
 * accepts them); tls.c maps the configured ones to GnuTLS priorities ---- */

static const char *const go_ciphers[] = {
    "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256"};

static const char *const go_curves[] = {"X25519", "CurveP256", "CurveP384", "CurveP521"};

bool tls_cipher_name_known(const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(go_ciphers); i++)
    if (strcmp(go_ciphers[i], name) == 0) return true;
  return false;
}

bool tls_curve_name_known(const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(go_curves); i++)
    if (strcmp(go_curves[i], name) == 0) return true;
  return false;
}

const char *tls_cipher_name(size_t i) { return i < G_N_ELEMENTS(go_ciphers) ? go_ciphers[i] : NULL; }
const char *tls_curve_name(size_t i) { return i < G_N_ELEMENTS(go_curves) ? go_curves[i] : NULL; }
