/* auth.h - values authenticated with a secret (secret_file = PATH).
 *
 * With a secret, every stored value is the codec's bytes followed by a
 * 32-byte keyed BLAKE2b (libsodium crypto_generichash) over a domain tag,
 * the memcached key text and those bytes. A reader without the same secret
 * cannot produce a value that verifies, so whoever can write to memcached
 * but lacks the secret can never make a program return their data.
 *
 * The secret file must be a regular file owned by the effective user, with
 * no permission for group or others (mode 0600 or 0400), holding 16 to 4096
 * bytes. Its bytes are hashed into the 32-byte MAC key; nothing else of the
 * file is kept.
 */
#ifndef TXC_AUTH_H
#define TXC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define TXC_AUTH_MAC 32

struct txc_auth;

/* Reads the secret at PATH. Returns 0 and *OUT (free with auth_free), or
 * TXC_ECONFIG (unusable file; MSG holds the reason, e.g. "must be mode
 * 0600") or TXC_ENOMEM, with *OUT NULL. */
int auth_open(const char *path, struct txc_auth **out, char *msg, size_t msglen);

/* Wipes and frees A. NULL is allowed. */
void auth_free(struct txc_auth *a);

/* Writes the MAC of VAL[0..LEN) stored under KEY into MAC. */
void auth_mac(const struct txc_auth *a, const struct txc_key *key, const uint8_t *val, size_t len,
	      uint8_t mac[TXC_AUTH_MAC]);

/* Checks that VAL[0..LEN) ends with the MAC of what precedes it under KEY.
 * Returns 0 (the value proper is VAL[0..LEN - TXC_AUTH_MAC)) or
 * TXC_ECORRUPT (too short or wrong MAC). Constant time in the MAC. */
int auth_verify(const struct txc_auth *a, const struct txc_key *key, const uint8_t *val,
		size_t len);

#endif
