/* test_world.c - keys that see the world: the file kinds in the signature
 * language, key_env / key_cwd in the config, the file states (filekey.h)
 * and what the key encoding makes of them (key.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "err.h"
#include "filekey.h"
#include "key.h"
#include "sig.h"
#include "world.h"

static char g_dir[] = "/tmp/txc-world.XXXXXX";

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void nap_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&t, NULL);
}

static void test_sig(void)
{
	struct txc_sig s;
	char err[256], canon[256];
	CHECK(sig_parse("int f(file path, file:content c, string file)", &s, err, sizeof(err)) == 0,
	      "file, file:content parse; 'file' stays a valid name: %s", err);
	CHECK(s.params[0].kind == TXC_K_FILE && s.params[1].kind == TXC_K_FILE_CONTENT &&
		  s.params[2].kind == TXC_K_STRING,
	      "kinds");
	CHECK(sig_param_keyed(&s.params[0]) && sig_param_keyed(&s.params[1]), "file kinds keyed");
	CHECK(sig_canonical(&s, canon, sizeof(canon)) == 0 &&
		  strcmp(canon, "int f(file path, file:content c, string file)") == 0,
	      "canonical: %s", canon);
	CHECK(sig_parse("int f(file:contents p)", &s, err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "expected 'content' after 'file:'"),
	      "file:contents refused: %s", err);
	CHECK(sig_parse("int f(file: p)", &s, err, sizeof(err)) == TXC_EINVAL, "file: refused");
}

static struct txc_config *load(const char *text)
{
	struct txc_config *cfg = NULL;
	config_parse_string(text, "t.ini", &cfg, NULL, NULL);
	return cfg;
}

static void test_config(void)
{
	struct txc_config *c = load("[cache]\nservers = /s\nkey_env = LANG, TZ\nkey_cwd = yes\n"
				    "key_locale = yes\n"
				    "[function f]\nsignature = int f(int x)\n"
				    "[function g]\nsignature = int g(int x)\nkey_env = HOME\n"
				    "key_cwd = no\nkey_locale = no\n"
				    "[function h]\nsignature = int h(int x)\nkey_env =\n");
	CHECK(c != NULL, "key_env / key_cwd load");
	if (!c)
		return;
	CHECK(c->fns[0].nkey_env == 2 && !strcmp(c->fns[0].key_env[1], "TZ") && c->fns[0].key_cwd,
	      "a function inherits [cache]");
	CHECK(c->fns[1].nkey_env == 1 && !strcmp(c->fns[1].key_env[0], "HOME") &&
		  !c->fns[1].key_cwd,
	      "a function's own key_env replaces [cache]'s; its key_cwd wins");
	CHECK(c->fns[2].nkey_env == 0, "an empty key_env: no variables");
	CHECK(c->fns[0].key_locale && !c->fns[1].key_locale && c->fns[2].key_locale &&
		  world_used(&c->fns[2]),
	      "key_locale: inherited from [cache], a function's own wins; it makes a world");
	config_free(c);
	CHECK(!load("[cache]\nservers = /s\nkey_env = LANG, LANG\n"), "duplicate refused");
	CHECK(!load("[cache]\nservers = /s\nkey_env = 1X\n"), "bad name refused");
	CHECK(!load("[cache]\nservers = /s\nkey_env = A,,B\n"), "empty entry refused");
	CHECK(!load("[cache]\nservers = /s\nkey_env = A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q\n"),
	      "17 names refused");
	CHECK(!load("[cache]\nservers = /s\nkey_cwd = maybe\n"), "key_cwd = maybe refused");
	CHECK(!load("[cache]\nservers = /s\nkey_locale = maybe\n"), "key_locale = maybe refused");
}

static void test_filekey(void)
{
	char a[256], fifo[256], link[256], notdir[256];
	struct txc_filekey k, c;
	snprintf(a, sizeof(a), "%s/a", g_dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", g_dir);
	snprintf(link, sizeof(link), "%s/missing/x", g_dir);
	snprintf(notdir, sizeof(notdir), "%s/a/x", g_dir); /* through a regular file */
	put(a, "one\n");
	CHECK(filekey_take(a, false, &k) == 0 && k.cls == FILEKEY_PRESENT && k.size == 4,
	      "file: present");
	CHECK(!k.settled && filekey_still(a, &k) == TXC_EEXIST,
	      "file: written just now: not settled, nothing may be stored");
	nap_ms(150);
	CHECK(filekey_take(a, false, &k) == 0 && k.settled && filekey_still(a, &k) == 0,
	      "file: settled and unchanged: may be stored");
	put(a, "two\n");
	CHECK(filekey_still(a, &k) == TXC_EEXIST, "file: rewritten (same size) during the call");
	/* mtime put back: ctime still moves */
	struct timespec old[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
	utimensat(AT_FDCWD, a, old, 0);
	nap_ms(150);
	CHECK(filekey_take(a, false, &c) == 0 && c.mtime_s == 1000000000 && c.ctime_s >= k.ctime_s,
	      "file: mtime set back");
	CHECK(c.ctime_s != k.ctime_s || c.ctime_ns != k.ctime_ns, "file: ctime differs");
	CHECK(filekey_take(a, true, &c) == 0 && c.content && c.size == 4, "content: present");
	CHECK(filekey_still(a, &c) == 0, "content: no settling needed");
	put(a, "one\n");
	CHECK(filekey_still(a, &c) == TXC_EEXIST, "content: other bytes, same size");
	CHECK(filekey_take(link, false, &k) == 0 && k.cls == FILEKEY_MISSING, "missing: ENOENT");
	CHECK(filekey_take(link, true, &k) == 0 && k.cls == FILEKEY_MISSING, "content missing");
	CHECK(filekey_take(notdir, false, &k) == 0 && k.cls == FILEKEY_NOTDIR,
	      "ENOTDIR keys apart");
	CHECK(filekey_take(notdir, true, &k) == 0 && k.cls == FILEKEY_NOTDIR, "content: ENOTDIR");
	CHECK(filekey_take(g_dir, false, &k) == 0 && k.cls == FILEKEY_PRESENT, "file: a directory");
	CHECK(filekey_take(g_dir, true, &k) == TXC_EINVAL, "content: a directory is refused");
	CHECK(mkfifo(fifo, 0600) == 0 && filekey_take(fifo, false, &k) == TXC_EINVAL &&
		  filekey_take(fifo, true, &k) == TXC_EINVAL,
	      "a FIFO is refused (no open blocks)");
	errno = 1234;
	filekey_take(link, false, &k);
	CHECK(errno == 1234, "errno kept");
	unlink(fifo);
	unlink(a);
}

static void kf_fixed(struct txc_key_fn *kf)
{
	memset(kf, 0, sizeof(*kf));
	strcpy(kf->prefix, "ns:f:");
	kf->prefix_len = 5;
}

static struct txc_key key_of(const struct txc_sig *s, const struct txc_arg *a,
			     const struct txc_key_world *w)
{
	static const struct txc_digest id = {{1}};
	struct txc_key_fn kf;
	struct txc_key k;
	kf_fixed(&kf);
	key_build_world(&kf, &id, s, a, w, &k);
	return k;
}

static void test_key_world(void)
{
	struct txc_sig s;
	char err[128];
	sig_parse("int f(file p)", &s, err, sizeof(err));
	struct txc_filekey fk = {.cls = FILEKEY_PRESENT, .dev = 1, .ino = 2, .size = 3};
	struct txc_filekey fk2 = fk;
	fk2.ctime_ns = 1;
	struct txc_arg a = {0, "/x", 2, &fk}, b = a;
	struct txc_key k1 = key_of(&s, &a, NULL), k2;
	b.file = &fk2;
	k2 = key_of(&s, &b, NULL);
	CHECK(strcmp(k1.text, k2.text) != 0, "a file's ctime is keyed");
	b.file = NULL;
	k2 = key_of(&s, &b, NULL);
	CHECK(strcmp(k1.text, k2.text) != 0, "an unknown state differs from any state");
	struct txc_sig t;
	sig_parse("int f(string p)", &t, err, sizeof(err));
	k2 = key_of(&t, &a, NULL);
	CHECK(strcmp(k1.text, k2.text) != 0, "file and string differ");

	const char *names[2] = {"LANG", "TZ"}, *unset[2] = {NULL, NULL}, *empty[2] = {"", NULL};
	struct txc_key_world w0 = {0, names, unset, NULL, 0}, w1 = {2, names, unset, NULL, 0};
	struct txc_key_world w2 = {2, names, empty, NULL, 0}, w3 = {2, names, unset, "/", 1};
	struct txc_key n = key_of(&s, &a, NULL), e0 = key_of(&s, &a, &w0);
	struct txc_key e1 = key_of(&s, &a, &w1), e2 = key_of(&s, &a, &w2), e3 = key_of(&s, &a, &w3);
	CHECK(strcmp(n.text, e0.text) == 0, "an empty world keys as none (keys unchanged)");
	CHECK(strcmp(n.text, e1.text) != 0, "key_env names are keyed, even unset");
	CHECK(strcmp(e1.text, e2.text) != 0, "unset and empty differ");
	CHECK(strcmp(e1.text, e3.text) != 0, "the cwd is keyed");
}

int main(void)
{
	if (!mkdtemp(g_dir))
		return 1;
	test_sig();
	test_config();
	test_filekey();
	test_key_world();
	rmdir(g_dir);
	return check_done();
}
