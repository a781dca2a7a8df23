/* auth.h - the secret (secret_file = PATH): keys that reveal nothing and
 * values that are sealed.
 *
 * Two subkeys are derived from the secret (libsodium crypto_kdf, contexts
 * "txc-keys" and "txc-seal"), so that neither use can help an attack on the
 * other:
 *   - the PRF key: keys of calls are a keyed BLAKE2b of the arguments
 *     (key.h, key_fn_set_prf); without the secret a key tells nothing about
 *     the arguments, and no one can test a guess against it;
 *   - the sealing key: every stored value is an XChaCha20-Poly1305 box
 *     (AEAD, a random 24-byte nonce per value). The associated data are a
 *     domain tag, the memcached key text and the envelope header, so a value
 *     moved to another key, or with its times changed, fails to open. A
 *     reader of memcached learns only sizes.
 *
 * Envelope (all integers little endian):
 *   0  magic       "TXS1"                                      4
 *   4  created     CLOCK_REALTIME ns when the call that made the value
 *                  started (its lookup)                        8
 *  12  expires     CLOCK_REALTIME ns after which the value is refused;
 *                  0 = never (ttl = 0)                         8
 *  20  nonce                                                   24
 *  44  ciphertext  the codec's bytes (codec.h), encrypted      N
 *  44+N tag        Poly1305                                    16
 *
 * The secret file must be a regular file owned by the effective user, with
 * no permission for group or others (mode 0600 or 0400), holding 16 to 4096
 * bytes. Its bytes are hashed into a 32-byte master key, from which the
 * subkeys are derived; nothing else of the file is kept.
 */
#ifndef TXC_AUTH_H
#define TXC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define TXC_SEAL_HEAD	  44
#define TXC_SEAL_TAG	  16
#define TXC_SEAL_OVERHEAD (TXC_SEAL_HEAD + TXC_SEAL_TAG)

struct txc_auth;

/* What a sealed value says about itself, authenticated. */
struct txc_seal_times {
	int64_t created; /* CLOCK_REALTIME ns */
	int64_t expires; /* CLOCK_REALTIME ns; 0 = never */
};

/* Reads the secret at PATH. Returns 0 and *OUT (free with auth_free), or
 * TXC_ECONFIG (unusable file; MSG holds the reason, e.g. "must be mode
 * 0600") or TXC_ENOMEM, with *OUT NULL. */
int auth_open(const char *path, struct txc_auth **out, char *msg, size_t msglen);

/* Wipes and frees A. NULL is allowed. */
void auth_free(struct txc_auth *a);

/* The 32-byte key of the keys' PRF; lives as long as A. */
const uint8_t *auth_prf_key(const struct txc_auth *a);

/* Seals BUF in place for KEY: BUF holds TXC_SEAL_HEAD bytes of room, then
 * the LEN codec bytes, then TXC_SEAL_TAG bytes of room. Writes the header
 * with T, encrypts, appends the tag. The sealed value is BUF[0..LEN +
 * TXC_SEAL_OVERHEAD). Never fails. */
void auth_seal(const struct txc_auth *a, const struct txc_key *key, const struct txc_seal_times *t,
	       uint8_t *buf, size_t len);

/* Opens the sealed value VAL[0..LEN) stored under KEY, in place. Returns 0
 * with *T and the codec bytes at VAL + TXC_SEAL_HEAD, LEN -
 * TXC_SEAL_OVERHEAD long; or TXC_ECORRUPT (not an envelope, too short, or
 * it does not verify under KEY), after which VAL's ciphertext may read as
 * zeros (libsodium wipes its output when the tag is wrong). */
int auth_unseal(const struct txc_auth *a, const struct txc_key *key, uint8_t *val, size_t len,
		struct txc_seal_times *t);

#endif
