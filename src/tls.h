/* tls.h — TLS for client connections (GnuTLS behind a narrow interface).
 *
 * Nothing here exposes a GnuTLS type: tls.c is the only file that includes
 * GnuTLS headers, and it is the loadable module cnatsd-tls.so (module.h),
 * so a server without TLS maps no GnuTLS.  The core calls the functions
 * below; tls_shim.c implements them by forwarding through the module's
 * TlsModule table, loaded by the first tls_config_new (config time, only
 * when tls{} or a --tls* flag is given).  A TlsConfig is built once from
 * the tls{} block or the --tls* flags (Go's GenTLSConfig: files are read
 * and checked at config time); a TlsConn wraps one non-blocking client
 * socket after INFO was sent.
 *
 * Thread: TlsConfig is immutable after creation (reference counted); a TlsConn is used by the
 * protocol loop thread only. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct TlsConfig TlsConfig;
typedef struct TlsConn TlsConn;

/* What the tls{} block (or the flags) said; strings owned by the caller. */
typedef struct TlsConfigOpts {
  const char *cert_file, *key_file, *ca_file;
  bool verify;     /* require and verify client certificates */
  bool insecure;   /* accepted; only meaningful for outgoing connections */
  /* Go names (cipher_suites, curve_preferences); NULL-terminated, NULL =
   * nats-server's defaults.  As in Go, cipher suites restrict TLS 1.2 only. */
  const char *const *cipher_suites;
  const char *const *curves;
} TlsConfigOpts;

/* (transfer full) Loads certificate, key and CA; NULL with *error set to
 * nats-server's message (e.g. "error parsing X509 certificate/key pair: ..."). */
TlsConfig *tls_config_new(const TlsConfigOpts *o, GError **error);
/* Drops one reference (accepts NULL); sessions hold their own. */
void tls_config_free(TlsConfig *cfg);
TlsConfig *tls_config_ref(TlsConfig *cfg);
/* Would nats-server's reload see these as the same TLS config?  (Same files,
 * verify and suites; never when a CA file is involved: see tls.c.) */
bool tls_config_reload_same(const TlsConfig *a, const TlsConfig *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsConfig, tls_config_free)
bool tls_config_verify(const TlsConfig *cfg);
/* PEM of the server certificate chain and key (borrowed), for the HTTPS
 * monitor; NULL when none was configured. */
const char *tls_config_cert_file(const TlsConfig *cfg);
const char *tls_config_key_file(const TlsConfig *cfg);

/* Go's names (cipher_suites, curve_preferences): true when known. */
bool tls_cipher_name_known(const char *name);
bool tls_curve_name_known(const char *name);
/* The i-th known name (for --help_tls); NULL past the end. */
const char *tls_cipher_name(size_t i);
const char *tls_curve_name(size_t i);

typedef enum TlsIo {
  TLS_IO_DONE = 0,
  TLS_IO_WANT_READ,
  TLS_IO_WANT_WRITE,
  TLS_IO_ERROR,
} TlsIo;

/* (transfer full) A server-side session on fd (borrowed, non-blocking). */
TlsConn *tls_conn_new(TlsConfig *cfg, int fd);
void tls_conn_free(TlsConn *t);          /* accepts NULL; does not close fd */

/* Drives the handshake.  On TLS_IO_ERROR, *why (transfer full) is the error
 * as nats-server words it (crypto/tls texts for the common cases). */
TlsIo tls_conn_handshake(TlsConn *t, char **why);
/* Whether the handshake wants the socket writable to make progress. */
bool tls_conn_wants_write(const TlsConn *t);

/* Reads decrypted bytes: > 0 bytes, 0 on EOF (close_notify or TCP close),
 * -1 with errno (EAGAIN: nothing more now). */
ssize_t tls_conn_recv(TlsConn *t, void *buf, size_t cap);
/* Bytes already decrypted or buffered inside the session (epoll cannot see
 * them): read again before waiting for EPOLLIN. */
size_t tls_conn_pending(const TlsConn *t);
/* Encrypts and sends from buf: bytes consumed (> 0), or -1 with errno
 * (EAGAIN: call again later with the same buf, at least as long). */
ssize_t tls_conn_send(TlsConn *t, const void *buf, size_t len);
/* Best-effort close_notify, never blocks. */
void tls_conn_bye(TlsConn *t);

/* After the handshake: "1.3", and the cipher suite as Go names it. */
const char *tls_conn_version(const TlsConn *t);      /* borrowed (static) */
const char *tls_conn_cipher(const TlsConn *t);       /* borrowed (static or owned by t) */

/* One peer certificate as /connz shows it (Go's TLSPeerCert). */
typedef struct TlsPeerCert {
  char *subject;        /* owned: Go's pkix.Name.String() */
  char spki_sha256[65]; /* hex SHA-256 of the SubjectPublicKeyInfo */
  char cert_sha256[65]; /* hex SHA-256 of the DER certificate */
} TlsPeerCert;

/* (transfer full) array of TlsPeerCert*, leaf first; empty if none. */
GPtrArray *tls_conn_peer_certs(const TlsConn *t);

/* What verify_and_map looks at in the leaf certificate (all owned). */
typedef struct TlsPeerIdentity {
  char **emails;        /* NULL-terminated */
  char **dns_names;
  char **uris;
  char *rdn_string;     /* Go's Subject.ToRDNSequence().String() */
  char *dn_rfc4514;     /* the raw subject, RFC 4514 order (last RDN first) */
  char *dcs;            /* ",DC=..." domain components, "" if none */
} TlsPeerIdentity;
/* (transfer full) NULL when the peer sent no certificate. */
TlsPeerIdentity *tls_conn_peer_identity(const TlsConn *t);
void tls_peer_identity_free(TlsPeerIdentity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsPeerIdentity, tls_peer_identity_free)

/* Whether two distinguished names (RFC 4514 strings) are equal: same RDNs
 * in the same order (ordered = true) or in any order, attribute types and
 * values compared case-insensitively (go-ldap's DN.Equal / RDNsMatch).
 * False when either does not parse. */
bool tls_dn_match(const char *a, const char *b, bool ordered);

/* Testable pieces of the DER work (used by the unit test on fixture certs). */
/* (transfer full) Go's pkix.Name.String() of a PEM certificate's subject; NULL on bad input. */
char *tls_pem_subject_string(const char *pem, size_t len);
/* hex SHA-256 of a PEM certificate's SubjectPublicKeyInfo into out[65]. */
bool tls_pem_spki_sha256(const char *pem, size_t len, char out[65]);

/* ---- the module (module.h) ------------------------------------------------ */

/* What cnatsd-tls.so exports as `cnatsd_module_tls`: one pointer per
 * function above that needs GnuTLS (the Go name lists are plain data and
 * stay in the core, tls_shim.c).  Bump TLS_MODULE_ABI when this changes. */
#define TLS_MODULE_ABI 1u
typedef struct TlsModule {
  uint32_t abi;
  TlsConfig *(*config_new)(const TlsConfigOpts *o, GError **error);
  void (*config_free)(TlsConfig *cfg);
  TlsConfig *(*config_ref)(TlsConfig *cfg);
  bool (*config_reload_same)(const TlsConfig *a, const TlsConfig *b);
  bool (*config_verify)(const TlsConfig *cfg);
  const char *(*config_cert_file)(const TlsConfig *cfg);
  const char *(*config_key_file)(const TlsConfig *cfg);
  TlsConn *(*conn_new)(TlsConfig *cfg, int fd);
  void (*conn_free)(TlsConn *t);
  TlsIo (*conn_handshake)(TlsConn *t, char **why);
  bool (*conn_wants_write)(const TlsConn *t);
  ssize_t (*conn_recv)(TlsConn *t, void *buf, size_t cap);
  size_t (*conn_pending)(const TlsConn *t);
  ssize_t (*conn_send)(TlsConn *t, const void *buf, size_t len);
  void (*conn_bye)(TlsConn *t);
  const char *(*conn_version)(const TlsConn *t);
  const char *(*conn_cipher)(const TlsConn *t);
  GPtrArray *(*conn_peer_certs)(const TlsConn *t);
  TlsPeerIdentity *(*conn_peer_identity)(const TlsConn *t);
  void (*peer_identity_free)(TlsPeerIdentity *id);
  bool (*dn_match)(const char *a, const char *b, bool ordered);
  char *(*pem_subject_string)(const char *pem, size_t len);
  bool (*pem_spki_sha256)(const char *pem, size_t len, char out[65]);
} TlsModule;
