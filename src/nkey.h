/* nkey.h — NATS NKeys: Ed25519 keys in base32 with a type prefix and CRC16.
 * Used for the server identity (INFO server_id) now, NKey user auth later. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prefix bytes (first base32 character of the encoded key). */
enum {
  NKEY_PREFIX_SEED = 18 << 3,     /* 'S' */
  NKEY_PREFIX_PRIVATE = 15 << 3,  /* 'P' */
  NKEY_PREFIX_SERVER = 13 << 3,   /* 'N' */
  NKEY_PREFIX_CLUSTER = 2 << 3,   /* 'C' */
  NKEY_PREFIX_OPERATOR = 14 << 3, /* 'O' */
  NKEY_PREFIX_ACCOUNT = 0,        /* 'A' */
  NKEY_PREFIX_USER = 20 << 3,     /* 'U' */
};

#define NKEY_PUBLIC_LEN 56  /* encoded length of a public key, without NUL */

typedef struct NkeyPair {
  uint8_t public_key[32];
  uint8_t secret_key[64];   /* libsodium's form: seed || public key */
  char encoded_public[NKEY_PUBLIC_LEN + 1];
} NkeyPair;

/* Fresh random key pair of the given public prefix. */
bool nkey_pair_create(NkeyPair *out, uint8_t prefix);
/* Encodes prefix + 32 raw bytes + CRC16 in base32 (no padding) into out (57 bytes). */
void nkey_encode_public(uint8_t prefix, const uint8_t raw[32], char out[NKEY_PUBLIC_LEN + 1]);
/* Decodes and checks an encoded public key; returns false on bad length, CRC or prefix. */
bool nkey_decode_public(const char *encoded, uint8_t expected_prefix, uint8_t raw[32]);
uint16_t nkey_crc16(const uint8_t *data, size_t len);
