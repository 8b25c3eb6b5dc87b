/* tls.c — GnuTLS for client connections (see tls.h).  The only file that
 * includes GnuTLS headers.  Built as the loadable module cnatsd-tls.so
 * (module.h), never into the core: its functions are reached through the
 * `cnatsd_module_tls` table at the end, which tls_shim.c calls.  It links
 * only GnuTLS and GLib and calls nothing in the core.  The module is built
 * with hidden visibility, so these functions keep their tls.h names (grep
 * finds them next to their callers) without clashing with the shim's.
 *
 * Owns: certificate credentials and the priority cache (TlsConfig), and one
 * gnutls session per TLS client (TlsConn).  Thread: TlsConfig is built on
 * the main thread while options load and is read-only afterwards; sessions
 * run on the protocol loop thread, on the client's raw non-blocking fd, so
 * the loop's epoll set drives handshake, reads and writes (no GIOStream).
 *
 * Also here: what Go's crypto/x509 prints of a certificate (pkix.Name's
 * String(), SHA-256 of SPKI and DER for /connz and pinned_certs) and the
 * RFC 4514 DN comparison verify_and_map uses, so auth.c stays free of DER. */
#include "tls.h"

#include <errno.h>
#include <gio/gio.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* nats-server's defaults: TLS 1.2 minimum, ECDHE with AEAD ciphers only,
 * X25519 first; AES-128-GCM preferred, as Go picks it on AES hardware.
 * tls_priority() builds the same shape from configured names. */
#define TLS_PRIORITY_BASE "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"
#define TLS_AEAD_CIPHERS ":-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM"
#define TLS_DEFAULT_KX ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-MAC-ALL:+AEAD"
#define TLS_DEFAULT_GROUPS ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"

static char *tls_priority(const char *const *ciphers, const char *const *curves);

/* Reference counted: the options hold one reference and every TlsConn one
 * more, so a reload can replace the options while sessions on the old
 * credentials are still open (they keep them until they close). */
struct TlsConfig {
  int refcount;
  gnutls_certificate_credentials_t creds; /* owned */
  gnutls_priority_t prio;                 /* owned */
  bool verify;
  char *cert_file, *key_file, *ca_file;   /* owned */
  char *priority;                         /* owned: the priority string in use */
  bool used;                              /* a session was started on it */
};

struct TlsConn {
  gnutls_session_t s;   /* owned */
  TlsConfig *cfg;       /* one reference */
  int fd;               /* borrowed */
  bool send_blocked;    /* last record_send returned AGAIN: retry with NULL, 0 */
  bool handshake_done;
  bool first_record_checked;
};

static void set_open_error(GError **error, const char *path) {
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "open %s: no such file or directory", path);
}

TlsConfig *tls_config_new(const TlsConfigOpts *o, GError **error) {
  /* Go's GenTLSConfig checks, in its order. */
  bool has_cert = o->cert_file && *o->cert_file, has_key = o->key_file && *o->key_file;
  if (has_cert && !has_key) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "missing 'key_file' in TLS configuration");
    return NULL;
  }
  if (!has_cert && has_key) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "missing 'cert_file' in TLS configuration");
    return NULL;
  }
  g_autoptr(TlsConfig) cfg = g_new0(TlsConfig, 1);
  cfg->refcount = 1;
  if (gnutls_certificate_allocate_credentials(&cfg->creds) < 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS credentials could not be allocated");
    return NULL;
  }
  if (has_cert) {
    const char *missing = !g_file_test(o->cert_file, G_FILE_TEST_EXISTS) ? o->cert_file
                          : !g_file_test(o->key_file, G_FILE_TEST_EXISTS) ? o->key_file
                                                                           : NULL;
    if (missing) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "error parsing X509 certificate/key pair: open %s: no such file or directory",
                  missing);
      return NULL;
    }
    int rc = gnutls_certificate_set_x509_key_file2(cfg->creds, o->cert_file, o->key_file, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "error parsing X509 certificate/key pair: %s",
                  rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "tls: private key does not match public key"
                  : rc == GNUTLS_E_BASE64_DECODING_ERROR || rc == GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR
                      ? "tls: failed to find any PEM data in certificate input"
                      : gnutls_strerror(rc));
      return NULL;
    }
    cfg->cert_file = g_strdup(o->cert_file);
    cfg->key_file = g_strdup(o->key_file);
  }
  if (o->ca_file && *o->ca_file) {
    if (!g_file_test(o->ca_file, G_FILE_TEST_EXISTS)) {
      set_open_error(error, o->ca_file);
      return NULL;
    }
    if (gnutls_certificate_set_x509_trust_file(cfg->creds, o->ca_file, GNUTLS_X509_FMT_PEM) <= 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "failed to parse root ca certificate");
      return NULL;
    }
    cfg->ca_file = g_strdup(o->ca_file);
  } else if (o->verify) {
    /* Go verifies client certificates against the system roots then. */
    gnutls_certificate_set_x509_system_trust(cfg->creds);
  }
  cfg->verify = o->verify;
  cfg->priority = tls_priority(o->cipher_suites, o->curves);
  if (gnutls_priority_init(&cfg->prio, cfg->priority, NULL) < 0) {
    /* e.g. only suites this GnuTLS build lacks (RC4): fall back to the defaults */
    g_free(cfg->priority);
    cfg->priority = tls_priority(NULL, o->curves);
    if (gnutls_priority_init(&cfg->prio, cfg->priority, NULL) < 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS priority string rejected");
      return NULL;
    }
  }
  return g_steal_pointer(&cfg);
}

TlsConfig *tls_config_ref(TlsConfig *cfg) {
  cfg->refcount++;
  return cfg;
}

bool tls_config_reload_same(const TlsConfig *a, const TlsConfig *b) {
  if (!a || !b) return a == b;
  /* nats-server compares its tls.Config with reflect.DeepEqual: a CA pool
   * holds closures, which never compare equal, so a config with ca_file
   * always counts as changed ("Reloaded: tls = enabled" on every reload). */
  if (a->ca_file || b->ca_file) return false;
  /* Go's tls.Config creates its session ticket keys at the first handshake,
   * after which it no longer equals a freshly loaded one. */
  if (a->used) return false;
  return a->verify == b->verify && g_strcmp0(a->cert_file, b->cert_file) == 0 &&
         g_strcmp0(a->key_file, b->key_file) == 0 && g_strcmp0(a->priority, b->priority) == 0;
}

void tls_config_free(TlsConfig *cfg) {
  if (!cfg || --cfg->refcount > 0) return;
  if (cfg->creds) gnutls_certificate_free_credentials(cfg->creds);
  if (cfg->prio) gnutls_priority_deinit(cfg->prio);
  g_free(cfg->cert_file);
  g_free(cfg->key_file);
  g_free(cfg->ca_file);
  g_free(cfg->priority);
  g_free(cfg);
}

bool tls_config_verify(const TlsConfig *cfg) { return cfg && cfg->verify; }
const char *tls_config_cert_file(const TlsConfig *cfg) { return cfg ? cfg->cert_file : NULL; }
const char *tls_config_key_file(const TlsConfig *cfg) { return cfg ? cfg->key_file : NULL; }

/* ---- cipher suites and curves (Go's names: tls_shim.c lists them) -------- */

/* GnuTLS priority elements of Go's TLS 1.2 suites: key exchange, cipher, MAC. */
static const struct { const char *go, *kx, *cipher, *mac; } suite_parts[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", "RSA", "ARCFOUR-128", "SHA1"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "3DES-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", "AES-128-CBC", "SHA256"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA", "ARCFOUR-128", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA", "ARCFOUR-128", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA", "3DES-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA", "AES-128-CBC", "SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA", "AES-128-CBC", "SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
};

static void add_once(GString *s, const char *prefix, const char *item) {
  g_autofree char *tok = g_strdup_printf(":+%s%s", prefix, item);
  if (!strstr(s->str, tok)) g_string_append(s, tok);
}

/* The priority string for configured Go names.  GnuTLS selects by parts
 * (key exchange, cipher, MAC), so a list of suites maps to the union of
 * their parts; TLS 1.3 keeps its AEAD suites, which Go does not let
 * cipher_suites change either. */
static char *tls_priority(const char *const *ciphers, const char *const *curves) {
  GString *s = g_string_new(TLS_PRIORITY_BASE);
  if (!ciphers || !*ciphers) {
    g_string_append(s, TLS_AEAD_CIPHERS TLS_DEFAULT_KX);
  } else {
    g_string_append(s, TLS_AEAD_CIPHERS);
    GString *kx = g_string_new(":-KX-ALL"), *mac = g_string_new(":-MAC-ALL:+AEAD");
    for (const char *const *c = ciphers; *c; c++) {
      for (size_t i = 0; i < G_N_ELEMENTS(suite_parts); i++) {
        if (strcmp(*c, suite_parts[i].go) != 0) continue;
        add_once(kx, "", suite_parts[i].kx);
        add_once(s, "", suite_parts[i].cipher);
        add_once(mac, "", suite_parts[i].mac);
      }
    }
    g_string_append(s, kx->str);
    g_string_append(s, mac->str);
    g_string_free(kx, TRUE);
    g_string_free(mac, TRUE);
  }
  if (!curves || !*curves) {
    g_string_append(s, TLS_DEFAULT_GROUPS);
  } else {
    static const struct { const char *go, *group; } groups[] = {
        {"X25519", "X25519"}, {"CurveP256", "SECP256R1"}, {"CurveP384", "SECP384R1"}, {"CurveP521", "SECP521R1"}};
    g_string_append(s, ":-GROUP-ALL");
    for (const char *const *c = curves; *c; c++)
      for (size_t i = 0; i < G_N_ELEMENTS(groups); i++)
        if (strcmp(*c, groups[i].go) == 0) add_once(s, "GROUP-", groups[i].group);
  }
  return g_string_free(s, FALSE);
}

/* ---- sessions ------------------------------------------------------------- */

TlsConn *tls_conn_new(TlsConfig *cfg, int fd) {
  TlsConn *t = g_new0(TlsConn, 1);
  t->fd = fd;
  if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
    g_free(t);
    return NULL;
  }
  t->cfg = tls_config_ref(cfg);
  cfg->used = true;
  gnutls_priority_set(t->s, cfg->prio);
  gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, cfg->creds);
  gnutls_transport_set_int(t->s, fd);
  /* The loop's timer enforces tls timeout; GnuTLS must not keep its own. */
  gnutls_handshake_set_timeout(t->s, 0);
  if (cfg->verify) {
    gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(t->s, NULL, 0);
  }
  return t;
}

void tls_conn_free(TlsConn *t) {
  if (!t) return;
  gnutls_deinit(t->s);
  tls_config_free(t->cfg);
  g_free(t);
}

/* The handshake errors clients see most, in crypto/tls words. */
static char *tls_error_text(TlsConn *t, int rc) {
  switch (rc) {
    case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    case GNUTLS_E_UNEXPECTED_PACKET:
    case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
    case GNUTLS_E_RECORD_OVERFLOW:
      return g_strdup("local error: tls: unexpected message");
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
      return g_strdup("tls: client didn't provide a certificate");
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR: {
      unsigned status = gnutls_session_get_verify_cert_status(t->s);
      if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
        return g_strdup("tls: failed to verify client certificate: x509: certificate signed by unknown authority");
      if (status & GNUTLS_CERT_EXPIRED)
        return g_strdup("tls: failed to verify client certificate: x509: certificate has expired or is not yet valid");
      return g_strdup("tls: failed to verify client certificate: x509: certificate is not valid");
    }
    case GNUTLS_E_PREMATURE_TERMINATION:
    case GNUTLS_E_PULL_ERROR:
      return g_strdup("EOF");
    case GNUTLS_E_WARNING_ALERT_RECEIVED:
    case GNUTLS_E_FATAL_ALERT_RECEIVED: {
      const char *name = gnutls_alert_get_name(gnutls_alert_get(t->s));
      g_autofree char *lower = g_ascii_strdown(name ? name : "alert", -1);
      return g_strdup_printf("remote error: tls: %s", lower);
    }
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
      if (!t->cfg->cert_file) return g_strdup("tls: no certificates configured");  /* tls{} without cert_file */
      return g_strdup("tls: no cipher suite supported by both client and server");
    default:
      return g_strdup(gnutls_strerror(rc));
  }
}

TlsIo tls_conn_handshake(TlsConn *t, char **why) {
  if (!t->first_record_checked) {
    /* crypto/tls refuses a first record that is not a handshake record
     * without sending an alert (plain text to a TLS port); so do we. */
    unsigned char h[9];  /* record header (5) + handshake message header (4) */
    ssize_t n = recv(t->fd, h, sizeof h, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return TLS_IO_WANT_READ;
    if (n == 0) {
      if (why) *why = g_strdup("EOF");
      return TLS_IO_ERROR;
    }
    if (n >= 1 && h[0] != 0x16) {
      /* crypto/tls has read what was there when it looked: consume it too,
       * so the close is a FIN, not a reset that destroys our INFO. */
      char junk[512];
      while (recv(t->fd, junk, sizeof junk, 0) == (ssize_t)sizeof junk) {}
      if (why) *why = g_strdup("tls: first record does not look like a TLS handshake");
      return TLS_IO_ERROR;
    }
    /* GnuTLS would wait (up to the tls timeout) for the rest of a handshake
     * message that claims to be huge or is no ClientHello; crypto/tls fails
     * it as soon as the header is in, so do we. */
    if (n > 0 && n < (ssize_t)sizeof h) return TLS_IO_WANT_READ;
    if (n == (ssize_t)sizeof h) {
      uint32_t len = (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8];
      if (len > 65536) {
        if (why) *why = g_strdup_printf("tls: handshake message of length %u bytes exceeds maximum of 65536 bytes", len);
        return TLS_IO_ERROR;
      }
      if (h[5] != 1) {
        if (why) *why = g_strdup("local error: tls: unexpected message");
        return TLS_IO_ERROR;
      }
    }
    t->first_record_checked = true;
  }
  /* Non-fatal results (a warning alert) are retried, but not forever: a
   * peer must not keep the loop here. */
  for (int tries = 0;; tries++) {
    int rc = gnutls_handshake(t->s);
    if (rc == GNUTLS_E_SUCCESS) {
      t->handshake_done = true;
      return TLS_IO_DONE;
    }
    if (rc == GNUTLS_E_INTERRUPTED) continue;
    if (rc == GNUTLS_E_AGAIN) return gnutls_record_get_direction(t->s) ? TLS_IO_WANT_WRITE : TLS_IO_WANT_READ;
    if (!gnutls_error_is_fatal(rc) && tries < 16) continue;  /* e.g. a warning alert */
    if (why) *why = tls_error_text(t, rc);
    /* Like crypto/tls, tell the peer why (best effort: never blocks). */
    if (rc != GNUTLS_E_PREMATURE_TERMINATION && rc != GNUTLS_E_PULL_ERROR && rc != GNUTLS_E_PUSH_ERROR &&
        rc != GNUTLS_E_FATAL_ALERT_RECEIVED)
      gnutls_alert_send_appropriate(t->s, rc);
    return TLS_IO_ERROR;
  }
}

bool tls_conn_wants_write(const TlsConn *t) { return gnutls_record_get_direction(t->s) == 1; }

ssize_t tls_conn_recv(TlsConn *t, void *buf, size_t cap) {
  for (;;) {
    ssize_t n = gnutls_record_recv(t->s, buf, cap);
    if (n >= 0) return n;
    if (n == GNUTLS_E_INTERRUPTED) continue;
    if (n == GNUTLS_E_AGAIN) {
      errno = EAGAIN;
      return -1;
    }
    if (n == GNUTLS_E_PREMATURE_TERMINATION) return 0;  /* TCP close without close_notify: Go sees EOF */
    if (n == GNUTLS_E_WARNING_ALERT_RECEIVED) continue;   /* consumed; read on */
    /* Anything else ends the connection, renegotiation included: crypto/tls
     * servers refuse it (no_renegotiation) and so do we. */
    if (n == GNUTLS_E_REHANDSHAKE) gnutls_alert_send(t->s, GNUTLS_AL_FATAL, GNUTLS_A_NO_RENEGOTIATION);
    errno = ECONNRESET;
    return -1;
  }
}

size_t tls_conn_pending(const TlsConn *t) { return gnutls_record_check_pending(t->s); }

ssize_t tls_conn_send(TlsConn *t, const void *buf, size_t len) {
  for (;;) {
    /* After AGAIN GnuTLS holds the record already encrypted: resume it. */
    ssize_t n = t->send_blocked ? gnutls_record_send(t->s, NULL, 0) : gnutls_record_send(t->s, buf, len);
    if (n >= 0) {
      t->send_blocked = false;
      return n;
    }
    if (n == GNUTLS_E_INTERRUPTED) {
      t->send_blocked = true;
      continue;
    }
    if (n == GNUTLS_E_AGAIN) {
      t->send_blocked = true;
      errno = EAGAIN;
      return -1;
    }
    errno = EPIPE;
    return -1;
  }
}

void tls_conn_bye(TlsConn *t) {
  if (t && t->handshake_done && !t->send_blocked) gnutls_bye(t->s, GNUTLS_SHUT_WR);
}

const char *tls_conn_version(const TlsConn *t) {
  switch (gnutls_protocol_get_version(t->s)) {
    case GNUTLS_TLS1_0: return "1.0";
    case GNUTLS_TLS1_1: return "1.1";
    case GNUTLS_TLS1_2: return "1.2";
    case GNUTLS_TLS1_3: return "1.3";
    default: return "Unknown [0x0]";
  }
}

const char *tls_conn_cipher(const TlsConn *t) {
  gnutls_cipher_algorithm_t c = gnutls_cipher_get(t->s);
  if (gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3) {
    switch (c) {
      case GNUTLS_CIPHER_AES_128_GCM: return "TLS_AES_128_GCM_SHA256";
      case GNUTLS_CIPHER_AES_256_GCM: return "TLS_AES_256_GCM_SHA384";
      case GNUTLS_CIPHER_CHACHA20_POLY1305: return "TLS_CHACHA20_POLY1305_SHA256";
      default: return "Unknown [0x0]";
    }
  }
  bool ecdsa = gnutls_kx_get(t->s) == GNUTLS_KX_ECDHE_ECDSA;
  switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM:
      return ecdsa ? "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case GNUTLS_CIPHER_AES_256_GCM:
      return ecdsa ? "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" : "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
      return ecdsa ? "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" : "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305";
    default: return "Unknown [0x0]";
  }
}

/* ---- certificates as Go prints them --------------------------------------- */

static void hex_sha256(const void *data, size_t len, char out[65]) {
  unsigned char d[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static bool crt_spki_sha256(gnutls_x509_crt_t crt, char out[65]) {
  gnutls_pubkey_t pk;
  if (gnutls_pubkey_init(&pk) < 0) return false;
  gnutls_datum_t der = {0};
  bool ok = gnutls_pubkey_import_x509(pk, crt, 0) >= 0 && gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der) >= 0;
  if (ok) hex_sha256(der.data, der.size, out);
  gnutls_free(der.data);
  gnutls_pubkey_deinit(pk);
  return ok;
}

/* One attribute of the subject, in DER order. */
typedef struct Ava {
  const char *oid;   /* borrowed from the dn */
  size_t oid_len;
  const unsigned char *val;
  size_t val_len;
  int rdn;           /* index of its RDN, DER order */
} Ava;

/* attributeTypeNames of Go's pkix (and go-ldap's, which adds DC). */
static const char *oid_short_name(const char *oid, size_t len, bool with_dc) {
  static const struct { const char *oid, *name; } names[] = {
      {"2.5.4.6", "C"}, {"2.5.4.10", "O"}, {"2.5.4.11", "OU"}, {"2.5.4.3", "CN"}, {"2.5.4.5", "SERIALNUMBER"},
      {"2.5.4.7", "L"}, {"2.5.4.8", "ST"}, {"2.5.4.9", "STREET"}, {"2.5.4.17", "POSTALCODE"}};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    if (strlen(names[i].oid) == len && memcmp(names[i].oid, oid, len) == 0) return names[i].name;
  if (with_dc && len == 26 && memcmp(oid, "0.9.2342.19200300.100.1.25", 26) == 0) return "DC";
  return NULL;
}

static bool oid_is(const Ava *a, const char *oid) {
  return a->oid_len == strlen(oid) && memcmp(a->oid, oid, a->oid_len) == 0;
}

/* All AVAs of the subject in DER order; false on a malformed name. */
static bool crt_subject_avas(gnutls_x509_crt_t crt, GArray *out) {
  gnutls_x509_dn_t dn;
  if (gnutls_x509_crt_get_subject(crt, &dn) < 0) return false;
  for (int irdn = 0; irdn < 64; irdn++) {
    int iava = 0;
    for (;; iava++) {
      gnutls_x509_ava_st ava;
      int rc = gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava);
      if (rc < 0) break;
      /* the OID comes NUL-terminated or not: measure it */
      size_t ol = ava.oid.size;
      while (ol > 0 && ava.oid.data[ol - 1] == '\0') ol--;
      Ava a = {(const char *)ava.oid.data, ol, ava.value.data, ava.value.size, irdn};
      g_array_append_val(out, a);
    }
    if (iava == 0) break;
  }
  return true;
}

/* Go's escaping of attribute values in RDNSequence.String(). */
static void append_escaped(GString *s, const unsigned char *v, size_t n) {
  for (size_t k = 0; k < n; k++) {
    char c = (char)v[k];
    bool esc = strchr(",+\"\\<>;", c) && c != '\0';
    if (c == ' ') esc = k == 0 || k == n - 1;
    if (c == '#') esc = k == 0;
    if (esc) g_string_append_c(s, '\\');
    g_string_append_c(s, c);
  }
}

/* asn1.Marshal of a Go string: PrintableString when every byte is in its
 * set ('*' and '&' excluded), else UTF8String; then "#" + hex. */
static void append_der_hex(GString *s, const unsigned char *v, size_t n) {
  bool printable = true;
  for (size_t k = 0; k < n; k++) {
    unsigned char c = v[k];
    if (!(g_ascii_isalnum(c) || strchr(" '()+,-./:=?", c)) || c == '\0') printable = false;
  }
  g_string_append_printf(s, "#%02x", printable ? 0x13 : 0x0c);
  if (n < 128) g_string_append_printf(s, "%02x", (unsigned)n);
  else if (n < 256) g_string_append_printf(s, "81%02x", (unsigned)n);
  else g_string_append_printf(s, "82%04x", (unsigned)n);
  for (size_t k = 0; k < n; k++) g_string_append_printf(s, "%02x", v[k]);
}

typedef struct Rdn {
  const Ava *avas[16];  /* borrowed */
  int n;
} Rdn;

/* RDNSequence.String(): last RDN first, values joined by '+'. */
static void rdns_string(GString *s, const Rdn *rdns, int n) {
  for (int i = n - 1; i >= 0; i--) {
    if (i < n - 1) g_string_append_c(s, ',');
    for (int j = 0; j < rdns[i].n; j++) {
      const Ava *a = rdns[i].avas[j];
      if (j > 0) g_string_append_c(s, '+');
      const char *name = oid_short_name(a->oid, a->oid_len, false);
      if (name) {
        g_string_append_printf(s, "%s=", name);
        append_escaped(s, a->val, a->val_len);
      } else {
        g_string_append_len(s, a->oid, (gssize)a->oid_len);
        g_string_append_c(s, '=');
        append_der_hex(s, a->val, a->val_len);
      }
    }
  }
}

/* pkix.Name.ToRDNSequence(): the parsed standard attributes in Go's fixed
 * order, each type as one (possibly multi-valued) RDN. */
static int to_rdn_sequence(const GArray *avas, Rdn *out, int cap, int n) {
  static const char *const order[] = {"2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "2.5.4.17",
                                      "2.5.4.10", "2.5.4.11", "2.5.4.3", "2.5.4.5"};
  for (size_t k = 0; k < G_N_ELEMENTS(order) && n < cap; k++) {
    Rdn r = {.n = 0};
    bool single = strcmp(order[k], "2.5.4.3") == 0 || strcmp(order[k], "2.5.4.5") == 0;
    for (guint i = 0; i < avas->len; i++) {
      const Ava *a = &g_array_index(avas, Ava, i);
      if (!oid_is(a, order[k])) continue;
      if (single) {
        r.avas[0] = a;  /* CommonName / SerialNumber: the last one wins */
        r.n = 1;
      } else if (r.n < 16) {
        r.avas[r.n++] = a;
      }
    }
    if (r.n && (!single || r.avas[0]->val_len > 0)) out[n++] = r;
  }
  return n;
}

static char *crt_subject_string(gnutls_x509_crt_t crt, bool with_extra) {
  g_autoptr(GArray) avas = g_array_new(FALSE, FALSE, sizeof(Ava));
  if (!crt_subject_avas(crt, avas)) return NULL;
  Rdn rdns[96];
  int n = 0;
  if (with_extra) {
    /* Name.String(): attributes Go did not parse into fields go first
     * (so they print last). */
    static const char *const parsed[] = {"2.5.4.3", "2.5.4.5", "2.5.4.6", "2.5.4.7", "2.5.4.8",
                                         "2.5.4.9", "2.5.4.10", "2.5.4.11", "2.5.4.17"};
    for (guint i = 0; i < avas->len && n < 64; i++) {
      const Ava *a = &g_array_index(avas, Ava, i);
      bool skip = false;
      for (size_t k = 0; k < G_N_ELEMENTS(parsed); k++) skip |= oid_is(a, parsed[k]);
      if (!skip) rdns[n++] = (Rdn){.avas = {a}, .n = 1};
    }
  }
  n = to_rdn_sequence(avas, rdns, (int)G_N_ELEMENTS(rdns), n);
  GString *s = g_string_new(NULL);
  rdns_string(s, rdns, n);
  return g_string_free(s, FALSE);
}

static gnutls_x509_crt_t crt_from_pem(const char *pem, size_t len) {
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0) return NULL;
  gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
  if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
    gnutls_x509_crt_deinit(crt);
    return NULL;
  }
  return crt;
}

char *tls_pem_subject_string(const char *pem, size_t len) {
  gnutls_x509_crt_t crt = crt_from_pem(pem, len);
  if (!crt) return NULL;
  char *s = crt_subject_string(crt, true);
  gnutls_x509_crt_deinit(crt);
  return s;
}

bool tls_pem_spki_sha256(const char *pem, size_t len, char out[65]) {
  gnutls_x509_crt_t crt = crt_from_pem(pem, len);
  if (!crt) return false;
  bool ok = crt_spki_sha256(crt, out);
  gnutls_x509_crt_deinit(crt);
  return ok;
}

static void tls_peer_cert_free(gpointer p) {
  TlsPeerCert *pc = p;
  g_free(pc->subject);
  g_free(pc);
}

GPtrArray *tls_conn_peer_certs(const TlsConn *t) {
  GPtrArray *out = g_ptr_array_new_with_free_func(tls_peer_cert_free);
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->s, &n);
  for (unsigned i = 0; certs && i < n; i++) {
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) break;
    if (gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER) >= 0) {
      TlsPeerCert *pc = g_new0(TlsPeerCert, 1);
      pc->subject = crt_subject_string(crt, true);
      if (!pc->subject) pc->subject = g_strdup("");
      crt_spki_sha256(crt, pc->spki_sha256);
      hex_sha256(certs[i].data, certs[i].size, pc->cert_sha256);
      g_ptr_array_add(out, pc);
    }
    gnutls_x509_crt_deinit(crt);
  }
  return out;
}

/* go-ldap's FromRawCertSubject as an RFC 4514 string (last RDN first, the
 * values of one RDN in reverse); NULL when a type has no short name there. */
static char *crt_subject_rfc4514(gnutls_x509_crt_t crt) {
  g_autoptr(GArray) avas = g_array_new(FALSE, FALSE, sizeof(Ava));
  if (!crt_subject_avas(crt, avas)) return NULL;
  GString *s = g_string_new(NULL);
  int last_rdn = -1;
  for (int i = (int)avas->len - 1; i >= 0; i--) {
    const Ava *a = &g_array_index(avas, Ava, i);
    const char *name = oid_short_name(a->oid, a->oid_len, true);
    if (!name) {
      g_string_free(s, TRUE);
      return NULL;
    }
    if (s->len) g_string_append_c(s, a->rdn == last_rdn ? '+' : ',');
    last_rdn = a->rdn;
    g_string_append_printf(s, "%s=", name);
    for (size_t k = 0; k < a->val_len; k++) {
      char c = (char)a->val[k];
      if (strchr(",+\"\\<>;=#", c) && c) g_string_append_c(s, '\\');
      g_string_append_c(s, c);
    }
  }
  return g_string_free(s, FALSE);
}

static char **crt_san_list(gnutls_x509_crt_t crt, int want) {
  GPtrArray *out = g_ptr_array_new();
  for (unsigned i = 0; i < 256; i++) {
    char buf[1024];
    size_t sz = sizeof buf - 1;
    unsigned type = 0;
    int rc = gnutls_x509_crt_get_subject_alt_name2(crt, i, buf, &sz, &type, NULL);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
    if (rc < 0) continue;
    if ((int)type == want) g_ptr_array_add(out, g_strndup(buf, sz));
  }
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

TlsPeerIdentity *tls_conn_peer_identity(const TlsConn *t) {
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->s, &n);
  if (!certs || n == 0) return NULL;
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0) return NULL;
  if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
    gnutls_x509_crt_deinit(crt);
    return NULL;
  }
  TlsPeerIdentity *id = g_new0(TlsPeerIdentity, 1);
  id->emails = crt_san_list(crt, GNUTLS_SAN_RFC822NAME);
  id->dns_names = crt_san_list(crt, GNUTLS_SAN_DNSNAME);
  id->uris = crt_san_list(crt, GNUTLS_SAN_URI);
  id->rdn_string = crt_subject_string(crt, false);
  id->dn_rfc4514 = crt_subject_rfc4514(crt);
  g_autoptr(GArray) avas = g_array_new(FALSE, FALSE, sizeof(Ava));
  GString *dcs = g_string_new(NULL);
  if (crt_subject_avas(crt, avas)) {
    for (guint i = 0; i < avas->len; i++) {
      const Ava *a = &g_array_index(avas, Ava, i);
      if (!oid_is(a, "0.9.2342.19200300.100.1.25")) continue;
      if (dcs->len) g_string_append_c(dcs, ',');
      g_string_append(dcs, "DC=");
      g_string_append_len(dcs, (const char *)a->val, (gssize)a->val_len);
    }
  }
  id->dcs = g_string_free(dcs, FALSE);
  if (!id->rdn_string) id->rdn_string = g_strdup("");
  gnutls_x509_crt_deinit(crt);
  return id;
}

void tls_peer_identity_free(TlsPeerIdentity *id) {
  if (!id) return;
  g_strfreev(id->emails);
  g_strfreev(id->dns_names);
  g_strfreev(id->uris);
  g_free(id->rdn_string);
  g_free(id->dn_rfc4514);
  g_free(id->dcs);
  g_free(id);
}

/* ---- RFC 4514 distinguished names (go-ldap's ParseDN subset) --------------- */

typedef struct DnAttr {
  char *type, *value;  /* owned */
  int rdn;
} DnAttr;

static void dn_attrs_clear(GArray *a) {
  for (guint i = 0; i < a->len; i++) {
    g_free(g_array_index(a, DnAttr, i).type);
    g_free(g_array_index(a, DnAttr, i).value);
  }
  g_array_free(a, TRUE);
}

/* Parses "CN=a,O=b+OU=c" into attributes; NULL on syntax errors. */
static GArray *dn_parse(const char *s) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(DnAttr));
  int rdn = 0;
  const char *p = s;
  while (*p == ' ') p++;
  if (!*p) return out;
  for (;;) {
    const char *eq = p;
    while (*eq && *eq != '=' && *eq != ',' && *eq != '+') eq++;
    if (*eq != '=') goto bad;
    g_autofree char *type = g_strstrip(g_strndup(p, (gsize)(eq - p)));
    if (!*type) goto bad;
    p = eq + 1;
    GString *v = g_string_new(NULL);
    while (*p == ' ') p++;
    while (*p && *p != ',' && *p != '+' && *p != ';') {
      if (*p == '\\') {
        p++;
        if (g_ascii_isxdigit(p[0]) && g_ascii_isxdigit(p[1])) {
          g_string_append_c(v, (char)(g_ascii_xdigit_value(p[0]) * 16 + g_ascii_xdigit_value(p[1])));
          p += 2;
          continue;
        }
        if (!*p) {
          g_string_free(v, TRUE);
          goto bad;
        }
      }
      g_string_append_c(v, *p++);
    }
    while (v->len && v->str[v->len - 1] == ' ') g_string_truncate(v, v->len - 1);
    DnAttr a = {g_steal_pointer(&type), g_string_free(v, FALSE), rdn};
    g_array_append_val(out, a);
    if (!*p) break;
    if (*p != '+') rdn++;
    p++;
    while (*p == ' ') p++;
  }
  return out;
bad:
  dn_attrs_clear(out);
  return NULL;
}

/* Whether RDN i of a has exactly the attributes of RDN j of b. */
static bool rdn_equal(GArray *a, int i, GArray *b, int j) {
  int na = 0, nb = 0;
  for (guint x = 0; x < a->len; x++) na += g_array_index(a, DnAttr, x).rdn == i;
  for (guint y = 0; y < b->len; y++) nb += g_array_index(b, DnAttr, y).rdn == j;
  if (na != nb) return false;
  for (int pass = 0; pass < 2; pass++) {
    GArray *p = pass ? b : a, *q = pass ? a : b;
    int pi = pass ? j : i, qi = pass ? i : j;
    for (guint x = 0; x < p->len; x++) {
      DnAttr *pa = &g_array_index(p, DnAttr, x);
      if (pa->rdn != pi) continue;
      bool found = false;
      for (guint y = 0; y < q->len && !found; y++) {
        DnAttr *qa = &g_array_index(q, DnAttr, y);
        found = qa->rdn == qi && g_ascii_strcasecmp(pa->type, qa->type) == 0 && strcmp(pa->value, qa->value) == 0;
      }
      if (!found) return false;
    }
  }
  return true;
}

bool tls_dn_match(const char *a, const char *b, bool ordered) {
  if (!a || !b) return false;
  GArray *da = dn_parse(a), *db = dn_parse(b);
  bool ok = da && db;
  if (ok) {
    int ra = da->len ? g_array_index(da, DnAttr, da->len - 1).rdn + 1 : 0;
    int rb = db->len ? g_array_index(db, DnAttr, db->len - 1).rdn + 1 : 0;
    ok = ra == rb && ra > 0;
    for (int i = 0; ok && i < ra; i++) {
      if (ordered) {
        ok = rdn_equal(da, i, db, i);
      } else {
        bool found = false;
        for (int j = 0; j < rb && !found; j++) found = rdn_equal(da, i, db, j);
        ok = found;
      }
    }
  }
  if (da) dn_attrs_clear(da);
  if (db) dn_attrs_clear(db);
  return ok;
}

/* ---- the module's table (tls.h, module.h) ---------------------------------- */

__attribute__((visibility("default"))) const TlsModule cnatsd_module_tls = {
    .abi = TLS_MODULE_ABI,
    .config_new = tls_config_new,
    .config_free = tls_config_free,
    .config_ref = tls_config_ref,
    .config_reload_same = tls_config_reload_same,
    .config_verify = tls_config_verify,
    .config_cert_file = tls_config_cert_file,
    .config_key_file = tls_config_key_file,
    .conn_new = tls_conn_new,
    .conn_free = tls_conn_free,
    .conn_handshake = tls_conn_handshake,
    .conn_wants_write = tls_conn_wants_write,
    .conn_recv = tls_conn_recv,
    .conn_pending = tls_conn_pending,
    .conn_send = tls_conn_send,
    .conn_bye = tls_conn_bye,
    .conn_version = tls_conn_version,
    .conn_cipher = tls_conn_cipher,
    .conn_peer_certs = tls_conn_peer_certs,
    .conn_peer_identity = tls_conn_peer_identity,
    .peer_identity_free = tls_peer_identity_free,
    .dn_match = tls_dn_match,
    .pem_subject_string = tls_pem_subject_string,
    .pem_spki_sha256 = tls_pem_spki_sha256,
};
