/* auth.c - the secret file and keyed BLAKE2b MACs (libsodium). */
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

#define SECRET_MIN 16
#define SECRET_MAX 4096

/* Changing it invalidates every authenticated value ever written. */
static const char domain[] = "txcache value mac v1";

struct txc_auth {
	uint8_t key[crypto_generichash_KEYBYTES];
};

/* Opens PATH without following a final symlink and checks who may read it.
 * Returns an fd, or -1 with MSG set. */
static int open_checked(const char *path, char *msg, size_t msglen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(msg, msglen, "cannot open (%s)", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(msg, msglen, "not a regular file");
	} else if (sb.st_uid != geteuid()) {
		snprintf(msg, msglen, "must be owned by uid %u, not %u", (unsigned)geteuid(),
			 (unsigned)sb.st_uid);
	} else if (sb.st_mode & 077) {
		snprintf(msg, msglen, "must be mode 0600, not %04o",
			 (unsigned)(sb.st_mode & 07777));
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

/* Reads the whole file into BUF. Returns its length, or -1 with MSG set. */
static ssize_t read_secret(int fd, uint8_t *buf, size_t cap, char *msg, size_t msglen)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, msglen, "cannot read (%s)", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len < SECRET_MIN || len >= cap) {
		snprintf(msg, msglen, "must hold %d to %d bytes", SECRET_MIN, SECRET_MAX);
		return -1;
	}
	return (ssize_t)len;
}

int auth_open(const char *path, struct txc_auth **out, char *msg, size_t msglen)
{
	uint8_t secret[SECRET_MAX + 1];
	struct txc_auth *a;
	ssize_t len;
	int fd;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(msg, msglen, "libsodium failed to initialise");
		return TXC_ECONFIG;
	}
	fd = open_checked(path, msg, msglen);
	if (fd < 0)
		return TXC_ECONFIG;
	len = read_secret(fd, secret, sizeof(secret), msg, msglen);
	close(fd);
	if (len < 0) {
		sodium_memzero(secret, sizeof(secret));
		return TXC_ECONFIG;
	}
	a = malloc(sizeof(*a));
	if (a)
		crypto_generichash(a->key, sizeof(a->key), secret, (size_t)len, NULL, 0);
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

void auth_mac(const struct txc_auth *a, const struct txc_key *key, const uint8_t *val, size_t len,
	      uint8_t mac[TXC_AUTH_MAC])
{
	crypto_generichash_state st;
	uint8_t klen[2] = {(uint8_t)key->len, (uint8_t)(key->len >> 8)};

	crypto_generichash_init(&st, a->key, sizeof(a->key), TXC_AUTH_MAC);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	/* length first: key and value cannot trade bytes */
	crypto_generichash_update(&st, klen, sizeof(klen));
	crypto_generichash_update(&st, (const uint8_t *)key->text, key->len);
	crypto_generichash_update(&st, val, len);
	crypto_generichash_final(&st, mac, TXC_AUTH_MAC);
}

int auth_verify(const struct txc_auth *a, const struct txc_key *key, const uint8_t *val, size_t len)
{
	uint8_t mac[TXC_AUTH_MAC];

	if (!val || len < TXC_AUTH_MAC)
		return TXC_ECORRUPT;
#ifdef TXC_MUTANT_MAC /* make mutants: the MAC not verified */
	return 0;
#endif
	auth_mac(a, key, val, len - TXC_AUTH_MAC, mac);
	return crypto_verify_32(mac, val + len - TXC_AUTH_MAC) == 0 ? 0 : TXC_ECORRUPT;
}
