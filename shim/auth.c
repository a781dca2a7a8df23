/* auth.c - the secret file, its subkeys, and sealed values (libsodium). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "err.h"
#include "privfile.h"

#define SECRET_MIN 16
#define SECRET_MAX 4096

/* Changing one of them invalidates every sealed value or key ever written. */
static const char domain[] = "txcache sealed value v1";
static const uint8_t magic[4] = {'T', 'X', 'S', '1'};

struct txc_auth {
	uint8_t prf[TXC_PRF_KEY];
	uint8_t seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

int auth_open(const char *path, struct txc_auth **out, char *msg, size_t msglen)
{
	uint8_t secret[SECRET_MAX + 1];
	struct txc_auth *a;
	size_t len;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(msg, msglen, "libsodium failed to initialise");
		return TXC_ECONFIG;
	}
	/* binary: read whole, nothing stripped */
	if (privfile_read_raw(path, secret, sizeof(secret), SECRET_MIN, &len, msg, msglen) != 0)
		return TXC_ECONFIG;
	a = malloc(sizeof(*a));
	if (a) {
		uint8_t master[crypto_kdf_KEYBYTES];
		crypto_generichash(master, sizeof(master), secret, len, NULL, 0);
		crypto_kdf_derive_from_key(a->prf, sizeof(a->prf), 1, "txc-keys", master);
		crypto_kdf_derive_from_key(a->seal, sizeof(a->seal), 2, "txc-seal", master);
		sodium_memzero(master, sizeof(master));
	}
	sodium_memzero(secret, sizeof(secret));
	if (!a)
		return TXC_ENOMEM;
	*out = a;
	return 0;
}

void auth_free(struct txc_auth *a)
{
	if (!a)
		return;
	sodium_memzero(a, sizeof(*a));
	free(a);
}

const uint8_t *auth_prf_key(const struct txc_auth *a)
{
	return a->prf;
}

static void put_le64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* The associated data: the domain, the key's length and text (length
 * first: key and header cannot trade bytes), then the envelope header. */
static size_t make_ad(const struct txc_key *key, const uint8_t *head,
		      uint8_t ad[sizeof(domain) + 2 + TXC_KEY_MAX + TXC_SEAL_HEAD])
{
	size_t n = 0;
	memcpy(ad, domain, sizeof(domain));
	n += sizeof(domain);
	ad[n++] = (uint8_t)key->len;
	ad[n++] = (uint8_t)(key->len >> 8);
	memcpy(ad + n, key->text, key->len);
	n += key->len;
	memcpy(ad + n, head, TXC_SEAL_HEAD);
	return n + TXC_SEAL_HEAD;
}

void auth_seal(const struct txc_auth *a, const struct txc_key *key, const struct txc_seal_times *t,
	       uint8_t *buf, size_t len)
{
	uint8_t ad[sizeof(domain) + 2 + TXC_KEY_MAX + TXC_SEAL_HEAD];
	memcpy(buf, magic, sizeof(magic));
	put_le64(buf + 4, t->created);
	put_le64(buf + 12, t->expires);
	randombytes_buf(buf + 20, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	size_t adlen = make_ad(key, buf, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
	    buf + TXC_SEAL_HEAD, buf + TXC_SEAL_HEAD + len, NULL, buf + TXC_SEAL_HEAD, len, ad,
	    adlen, NULL, buf + 20, a->seal);
}

int auth_unseal(const struct txc_auth *a, const struct txc_key *key, uint8_t *val, size_t len,
		struct txc_seal_times *t)
{
	uint8_t ad[sizeof(domain) + 2 + TXC_KEY_MAX + TXC_SEAL_HEAD];
	if (!val || len < TXC_SEAL_OVERHEAD || memcmp(val, magic, sizeof(magic)) != 0)
		return TXC_ECORRUPT;
	size_t body = len - TXC_SEAL_OVERHEAD, adlen = make_ad(key, val, ad);
#ifdef TXC_MUTANT_MAC /* make mutants: decrypted without the tag checked */
	(void)adlen;  /* the AEAD's keystream: block 1 on */
	int rc = crypto_stream_xchacha20_xor_ic(val + TXC_SEAL_HEAD, val + TXC_SEAL_HEAD, body,
						val + 20, 1, a->seal);
#else
	/* libsodium checks the tag before it decrypts a byte */
	int rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
	    val + TXC_SEAL_HEAD, NULL, val + TXC_SEAL_HEAD, body, val + TXC_SEAL_HEAD + body, ad,
	    adlen, val + 20, a->seal);
#endif
	if (rc != 0)
		return TXC_ECORRUPT;
	t->created = get_le64(val + 4);
	t->expires = get_le64(val + 12);
	return 0;
}
