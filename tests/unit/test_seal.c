/* test_seal.c - secret_file's parts (auth.h, key.h's PRF, revoke.h): a
 * sealed value opens only under its own key with every byte intact; keys
 * under a secret are neither the plain keys nor another secret's; the
 * revocation table never forgets a refusal. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"
#include "err.h"
#include "key.h"
#include "revoke.h"

static char dir[] = "/tmp/txc-seal-XXXXXX";

/* A secret file holding BYTE repeated 32 times; returns the auth. */
static struct txc_auth *secret(int byte)
{
	char path[64], msg[160];
	uint8_t b[32];
	struct txc_auth *a = NULL;
	snprintf(path, sizeof(path), "%s/s%d", dir, byte);
	memset(b, byte, sizeof(b));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		return NULL;
	close(fd);
	if (auth_open(path, &a, msg, sizeof(msg)) != 0)
		printf("# auth_open: %s\n", msg);
	unlink(path);
	return a;
}

static void key_of(const char *text, struct txc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->len = strlen(text);
	memcpy(k->text, text, k->len);
}

static void test_seal(struct txc_auth *a, struct txc_auth *b)
{
	static const char body[] = "the codec's bytes: a crypt() hash $6$salt$abcdef";
	size_t n = sizeof(body), len = n + TXC_SEAL_OVERHEAD;
	uint8_t v[256], w[256];
	struct txc_key k1, k2;
	struct txc_seal_times t = {1800000000000000000LL, 1800000060000000000LL}, got;
	key_of("ns:f:0123456789abcdef0123456789abcdef", &k1);
	key_of("ns:f:0123456789abcdef0123456789abcdee", &k2);

	memcpy(v + TXC_SEAL_HEAD, body, n);
	auth_seal(a, &k1, &t, v, n);
	CHECK(memmem(v, len, "crypt", 5) == NULL && memmem(v, len, "$6$", 3) == NULL,
	      "the sealed bytes do not hold the plaintext");
	memcpy(w, v, len);
	CHECK(auth_unseal(a, &k1, w, len, &got) == 0 && got.created == t.created &&
		  got.expires == t.expires && memcmp(w + TXC_SEAL_HEAD, body, n) == 0,
	      "opens under its key with its times and bytes");
	memcpy(w, v, len);
	CHECK(auth_unseal(a, &k2, w, len, &got) == TXC_ECORRUPT, "another key's: refused");
	CHECK(auth_unseal(b, &k1, w, len, &got) == TXC_ECORRUPT, "another secret's: refused");
	int bad = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(w, v, len);
		w[i] ^= 0x01;
		bad += auth_unseal(a, &k1, w, len, &got) != TXC_ECORRUPT;
	}
	CHECK(bad == 0, "every one of %zu bytes flipped: refused (%d opened)", len, bad);
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(w, v, len);
		bad += auth_unseal(a, &k1, w, cut, &got) != TXC_ECORRUPT;
	}
	CHECK(bad == 0, "every truncation refused");
	memcpy(w, v, len);
	w[len] = 0;
	CHECK(auth_unseal(a, &k1, w, len + 1, &got) == TXC_ECORRUPT, "a byte appended: refused");
	uint8_t v2[256];
	memcpy(v2 + TXC_SEAL_HEAD, body, n);
	auth_seal(a, &k1, &t, v2, n);
	CHECK(memcmp(v + 20, v2 + 20, 24) != 0 && memcmp(v + 44, v2 + 44, n) != 0,
	      "sealing twice: fresh nonce, different ciphertext");
	CHECK(auth_unseal(a, &k1, v2, len, &got) == 0 && memcmp(v2 + TXC_SEAL_HEAD, body, n) == 0,
	      "an empty-AD-free round trip of the second");
}

static void test_prf(struct txc_auth *a, struct txc_auth *b)
{
	struct txc_sig s;
	struct txc_key_fn plain, ka, kb;
	struct txc_key kp, k1, k2, k3;
	struct txc_digest id = {{0}};
	struct txc_arg args[2] = {{0}};
	static uint8_t big[128 << 10];
	char err[128];
	CHECK(sig_parse("string crypt(string phrase, string setting)", &s, err, sizeof(err)) == 0,
	      "parse");
	key_fn_init(&plain, "ns", &s);
	key_fn_init(&ka, "ns", &s);
	key_fn_init(&kb, "ns", &s);
	key_fn_set_prf(&ka, auth_prf_key(a));
	key_fn_set_prf(&kb, auth_prf_key(b));
	args[0].ptr = "hunter2";
	args[0].len = 7;
	args[1].ptr = "$6$salt";
	args[1].len = 7;
	key_build(&plain, &id, &s, args, &kp);
	key_build(&ka, &id, &s, args, &k1);
	key_build(&kb, &id, &s, args, &k2);
	key_build(&ka, &id, &s, args, &k3);
	CHECK(strcmp(kp.text, k1.text) != 0 && strcmp(k1.text, k2.text) != 0,
	      "plain, secret A and secret B keys all differ");
	CHECK(strcmp(k1.text, k3.text) == 0 && k1.len == kp.len, "deterministic, same length");
	struct txc_key_fn other;
	struct txc_key ko;
	key_fn_init(&other, "ns2", &s);
	key_fn_set_prf(&other, auth_prf_key(a));
	key_build(&other, &id, &s, args, &ko);
	CHECK(strcmp(ko.text + ko.len - 32, k1.text + k1.len - 32) != 0,
	      "the same arguments in another namespace: another digest");
	/* the streaming path (an argument past the stack buffer) agrees with itself
	 * and differs from a one-byte change at the end */
	memset(big, 'x', sizeof(big));
	args[0].ptr = big;
	args[0].len = sizeof(big);
	key_build(&ka, &id, &s, args, &k1);
	big[sizeof(big) - 1] = 'y';
	key_build(&ka, &id, &s, args, &k2);
	big[sizeof(big) - 1] = 'x';
	key_build(&ka, &id, &s, args, &k3);
	CHECK(strcmp(k1.text, k2.text) != 0 && strcmp(k1.text, k3.text) == 0,
	      "128 KiB argument: the last byte counts");
}

static void test_revoke(void)
{
	struct txc_revoke *r = revoke_process();
	struct txc_digest d[REVOKE_SLOTS * 2 + 1];
	uint64_t f0 = revoke_id("ns:f0:", 6), f1 = revoke_id("ns:f1:", 6),
		 f2 = revoke_id("ns:f2:", 6);
	uint64_t ns = revoke_id("ns:@gen", 7), other = revoke_id("other:@gen", 10);
	CHECK(r == revoke_process() && f0 && f0 != f1, "one table per process; ids differ");
	for (int i = 0; i < REVOKE_SLOTS * 2 + 1; i++) {
		int v = 2 * i; /* the table's tag sets the low bit */
		memset(&d[i], 0, sizeof(d[i]));
		memcpy(d[i].b, &v, sizeof(v));
		d[i].b[8] = 0x5a;
	}
	CHECK(revoke_since(r, f0, ns, &d[0]) == 0, "nothing seen: 0");
	revoke_note(r, f0, &d[0], 100);
	CHECK(revoke_since(r, f0, ns, &d[0]) == 100 && revoke_since(r, f0, ns, &d[1]) == 0 &&
		  revoke_since(r, f1, ns, &d[0]) == 0,
	      "a call: only that call of that function");
	revoke_note(r, f0, &d[0], 50);
	CHECK(revoke_since(r, f0, ns, &d[0]) == 100, "a time never moves back");
	/* d[REVOKE_SLOTS / 2] shares d[0]'s slot (the digest's first bytes):
	 * it pushes d[0] out, which widens to function 0 */
	revoke_note(r, f0, &d[REVOKE_SLOTS / 2], 200);
	CHECK(revoke_since(r, f0, ns, &d[0]) >= 100 &&
		  revoke_since(r, f0, ns, &d[REVOKE_SLOTS / 2]) == 200,
	      "a call pushed out is still refused (through its function)");
	CHECK(revoke_since(r, f2, ns, &d[0]) == 0, "another function untouched");
	int lost = 0;
	for (int i = 0; i < REVOKE_SLOTS * 2 + 1; i++)
		revoke_note(r, f1, &d[i], 1000 + i);
	for (int i = 0; i < REVOKE_SLOTS * 2 + 1; i++)
		lost += revoke_since(r, f1, ns, &d[i]) < 1000 + i;
	CHECK(lost == 0, "%d calls noted in %d slots: none forgotten", REVOKE_SLOTS * 2 + 1,
	      REVOKE_SLOTS);
	revoke_note(r, f2, NULL, 300);
	CHECK(revoke_since(r, f2, ns, &d[5]) == 300, "a function: every call of it");
	revoke_gens(r, f0, ns, 7, 9, 400);
	CHECK(revoke_since(r, f0, ns, &d[7]) < 400, "the first generations read: no invalidation");
	revoke_gens(r, f0, ns, 7, 9, 450);
	CHECK(revoke_since(r, f0, ns, &d[7]) < 400, "the same again: none");
	revoke_gens(r, f0, ns, 8, 9, 500);
	CHECK(revoke_since(r, f0, ns, &d[7]) == 500 && revoke_since(r, f2, ns, &d[7]) == 300,
	      "a function generation moved: that function");
	revoke_gens(r, f0, ns, 7, 9, 550);
	CHECK(revoke_since(r, f0, ns, &d[7]) == 550, "and moved back (a replayed counter): again");
	revoke_gens(r, f2, ns, 1, 10, 600);
	CHECK(revoke_since(r, f2, ns, &d[5]) == 600 && revoke_since(r, f0, ns, &d[7]) == 600,
	      "the namespace generation moved: every function");
	CHECK(revoke_since(r, f2, other, &d[5]) == 300, "another namespace's functions untouched");
	revoke_note(r, ns, NULL, 700);
	CHECK(revoke_since(r, f0, ns, NULL) == 700, "a namespace invalidation");
	int full = 0;
	for (int i = 0; i < REVOKE_GROUPS + 10; i++) {
		char name[32];
		int n = snprintf(name, sizeof(name), "many:g%d:", i);
		revoke_note(r, revoke_id(name, (size_t)n), NULL, 800 + i);
		full += revoke_since(r, revoke_id(name, (size_t)n), 0, NULL) < 800 + i;
	}
	CHECK(full == 0, "past %d groups: the shared entry still refuses", REVOKE_GROUPS);
	CHECK(revoke_since(NULL, f0, ns, NULL) == 0, "no table: never refuses");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	struct txc_auth *a = secret(1), *b = secret(2);
	CHECK(a && b, "two secrets open");
	if (a && b) {
		test_seal(a, b);
		test_prf(a, b);
	}
	test_revoke();
	auth_free(a);
	auth_free(b);
	rmdir(dir);
	return check_done();
}
