/* nkey.c — NKey encoding (base32 + CRC16/XMODEM) and Ed25519 via libsodium.
 * Pure functions; any thread.  libsodium must be initialised (sodium_init)
 * by the server before the first nkey_pair_create. */
#include "nkey.h"

#include <sodium.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint16_t nkey_crc16(const uint8_t *data, size_t len) {
  /* CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection. */
  uint16_t crc = 0;
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)data[i] << 8;
    for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

static size_t base32_encode(const uint8_t *in, size_t len, char *out) {
  size_t o = 0;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    buffer = (buffer << 8) | in[i];
    bits += 8;
    while (bits >= 5) {
      out[o++] = b32_alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out[o++] = b32_alphabet[(buffer << (5 - bits)) & 31];
  out[o] = '\0';
  return o;
}

static int base32_decode(const char *in, size_t len, uint8_t *out, size_t cap) {
  uint32_t buffer = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    const char *p = strchr(b32_alphabet, in[i]);
    if (!p || !in[i]) return -1;
    buffer = (buffer << 5) | (uint32_t)(p - b32_alphabet);
    bits += 5;
    if (bits >= 8) {
      if (o == cap) return -1;
      out[o++] = (uint8_t)(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  return (int)o;
}

void nkey_encode_public(uint8_t prefix, const uint8_t raw[32], char out[NKEY_PUBLIC_LEN + 1]) {
  uint8_t buf[35];
  buf[0] = prefix;
  memcpy(buf + 1, raw, 32);
  uint16_t crc = nkey_crc16(buf, 33);
  buf[33] = (uint8_t)(crc & 0xff);  /* little endian, as the nkeys format defines */
  buf[34] = (uint8_t)(crc >> 8);
  base32_encode(buf, sizeof buf, out);
}

bool nkey_decode_public(const char *encoded, uint8_t expected_prefix, uint8_t raw[32]) {
  uint8_t buf[40];
  if (strlen(encoded) != NKEY_PUBLIC_LEN) return false;
  if (base32_decode(encoded, NKEY_PUBLIC_LEN, buf, sizeof buf) != 35) return false;
  uint16_t crc = (uint16_t)(buf[33] | (buf[34] << 8));
  if (nkey_crc16(buf, 33) != crc || buf[0] != expected_prefix) return false;
  memcpy(raw, buf + 1, 32);
  return true;
}

bool nkey_pair_create(NkeyPair *out, uint8_t prefix) {
  if (crypto_sign_keypair(out->public_key, out->secret_key) != 0) return false;
  nkey_encode_public(prefix, out->public_key, out->encoded_public);
  return true;
}
