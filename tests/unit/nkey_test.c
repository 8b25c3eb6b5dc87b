/* nkey_test.c — NKey encoding: keys made by nats-server decode with a valid
 * CRC and prefix, ours round-trip, and corrupted keys are refused. */
#include <glib.h>
#include <sodium.h>
#include <string.h>

#include "nkey.h"

/* server_id values printed by /usr/sbin/nats-server 2.9.10 */
static const char *go_server_ids[] = {
    "NDKMXEFSWAUD5PPVMYFULHYD42DMGHFUJFWAUAV45NAWVIDBDGVCSOX3",
    "NC5VQMR73QD6HSP5EMIVUHTUOJPMLJASTLHXRPDATZUVHGHI5BD2NAA3",
    "NBDLFWKUADIPJ7LMTIKVOBOCL7FYMGRSRXAKEETK5KJAA7LHXPV2RDMD",
};

static void test_decode_go_ids(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(go_server_ids); i++) {
    uint8_t raw[32];
    g_assert_true(nkey_decode_public(go_server_ids[i], NKEY_PREFIX_SERVER, raw));
    char again[NKEY_PUBLIC_LEN + 1];
    nkey_encode_public(NKEY_PREFIX_SERVER, raw, again);
    g_assert_cmpstr(again, ==, go_server_ids[i]);
    /* wrong expected type */
    g_assert_false(nkey_decode_public(go_server_ids[i], NKEY_PREFIX_USER, raw));
  }
}

static void test_roundtrip_and_corruption(void) {
  g_assert_cmpint(sodium_init(), >=, 0);
  for (int i = 0; i < 100; i++) {
    NkeyPair kp;
    g_assert_true(nkey_pair_create(&kp, NKEY_PREFIX_SERVER));
    g_assert_cmpuint(strlen(kp.encoded_public), ==, NKEY_PUBLIC_LEN);
    g_assert_cmpint(kp.encoded_public[0], ==, 'N');
    uint8_t raw[32];
    g_assert_true(nkey_decode_public(kp.encoded_public, NKEY_PREFIX_SERVER, raw));
    g_assert_true(memcmp(raw, kp.public_key, 32) == 0);
    char bad[NKEY_PUBLIC_LEN + 1];
    memcpy(bad, kp.encoded_public, sizeof bad);
    bad[10 + i % 40] = bad[10 + i % 40] == 'A' ? 'B' : 'A';
    g_assert_false(nkey_decode_public(bad, NKEY_PREFIX_SERVER, raw));
  }
  uint8_t raw[32];
  g_assert_false(nkey_decode_public("NSHORT", NKEY_PREFIX_SERVER, raw));
  g_assert_false(nkey_decode_public("", NKEY_PREFIX_SERVER, raw));
}

static void test_crc16_vector(void) {
  /* CRC-16/XMODEM check value for "123456789" */
  g_assert_cmpuint(nkey_crc16((const uint8_t *)"123456789", 9), ==, 0x31C3);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nkey/decode-go-ids", test_decode_go_ids);
  g_test_add_func("/nkey/roundtrip-and-corruption", test_roundtrip_and_corruption);
  g_test_add_func("/nkey/crc16-vector", test_crc16_vector);
  return g_test_run();
}
