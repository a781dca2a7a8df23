/* test_catalogue.c - the catalogue directory (catalogue.h) and the config's
 * include = / from = (config_include.c): merging, precedence, defaults,
 * and what a config that asks for what cannot be had becomes. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue.h"
#include "check.h"
#include "config.h"
#include "err.h"

static char dir[] = "/tmp/txc-cat-XXXXXX";
static struct txc_config *cfg;
static char notes[4096];
static int nwarn, nerr;

static void record(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx;
	size_t n = strlen(notes);
	snprintf(notes + n, sizeof(notes) - n, "%s:%d:%s %s\n", path, line, warning ? " w:" : "",
		 msg);
	warning ? nwarn++ : nerr++;
}

static int load(const char *text)
{
	notes[0] = '\0';
	nwarn = nerr = 0;
	config_free(cfg);
	cfg = NULL;
	return config_parse_string(text, "t.ini", &cfg, record, NULL);
}

static void put(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0)
		perror(path);
}

static const struct txc_fn_config *fn(const char *name)
{
	int i = config_find_fn(cfg, name);
	return i >= 0 ? &cfg->fns[i] : NULL;
}

static void test_dir(void)
{
	char buf[PATH_MAX];
	CHECK(catalogue_name_ok("zlib") && catalogue_name_ok("lib-x_1.2+"), "names");
	CHECK(!catalogue_name_ok("") && !catalogue_name_ok(".hidden") &&
		  !catalogue_name_ok("a/b") && !catalogue_name_ok("..") &&
		  !catalogue_name_ok("a b") && !catalogue_name_ok(NULL),
	      "not names");
	unsetenv("TXCACHE_CATALOGUE");
	CHECK(strcmp(catalogue_dir(), TXC_TEST_DEFAULT_DIR) == 0, "built-in dir: %s",
	      catalogue_dir());
	setenv("TXCACHE_CATALOGUE", "", 1);
	CHECK(strcmp(catalogue_dir(), TXC_TEST_DEFAULT_DIR) == 0, "empty env: the built-in dir");
	setenv("TXCACHE_CATALOGUE", dir, 1);
	CHECK(catalogue_path("zlib", buf, sizeof(buf)) == 0 &&
		  strncmp(buf, dir, strlen(dir)) == 0 &&
		  strcmp(buf + strlen(dir), "/zlib.ini") == 0,
	      "path %s", buf);
	CHECK(catalogue_path("../x", buf, sizeof(buf)) == TXC_EINVAL && buf[0] == '\0', "bad name");
	CHECK(catalogue_path("zlib", buf, 10) == TXC_ETOOBIG && buf[0] == '\0', "too long");
}

static const char head[] = "[cache]\nservers = /tmp/s\n"; /* lines 1-2 */

static void test_merge(void)
{
	put("a.ini",
	    "[catalogue]\nlibrary = liba.so.1\ndoc = test\n"
	    "[function fa]\nsignature = int fa(int x)\nttl = 5\nmode = readonly\n"
	    "[function shared]\nsignature = int shared(int x)\n",
	    0644);
	put("b.ini",
	    "[function fb]\nsignature = int fb(int x)\nlibrary = libother.so\n"
	    "[function shared]\nsignature = int shared(int y)\n"
	    "[function fc]\nfrom = a\nsignature = int fc(int x)\n",
	    0644);
	char text[1024];
	snprintf(text, sizeof(text),
		 "%sinclude = a, b, a\n"			 /* 3 */
		 "[function fa]\nttl = 9\n"			 /* 4-5 */
		 "[function solo]\nfrom = b\n"			 /* 6-7 */
		 "[function fb]\nlibrary = mine.so\n"		 /* 8-9 */
		 "[function own]\nsignature = int own(int x)\n", /* 10-11 */
		 head);
	int rc = load(text);
	CHECK(rc == 0, "a skipped entry leaves the config valid");
	CHECK(cfg && cfg->nfns == 5, "own, fa, fb, shared, fc: %d", cfg ? cfg->nfns : -1);
	if (!cfg)
		return;
	const struct txc_fn_config *f = fn("fa");
	CHECK(f && f->ttl == 9 && f->mode == TXC_MODE_READONLY,
	      "the user's ttl wins, the rest stays");
	CHECK(f && strcmp(f->library, "liba.so.1") == 0 && strcmp(f->from, "a") == 0,
	      "[catalogue] library is the default");
	f = fn("fb");
	CHECK(f && strcmp(f->library, "mine.so") == 0 && strcmp(f->from, "b") == 0,
	      "the user's library wins over the entry's");
	f = fn("shared");
	CHECK(f && strcmp(f->from, "a") == 0 && strcmp(f->sig.params[0].name, "x") == 0,
	      "the first catalogue's entry is kept");
	CHECK(strstr(notes, "t.ini:3: w: include = b: shared is also in a, included first"),
	      "the second is a warning at include's line");
	CHECK(fn("fc") && fn("own") && strcmp(fn("own")->from, "") == 0, "fc from b, own alone");
	CHECK(!fn("solo") && strstr(notes, "t.ini:7: w: from = b: no [function solo] in "),
	      "solo is skipped at its from line");
	CHECK(nerr == 0 && nwarn == 2, "two warnings, no error");
}

static void test_errors(void)
{
	char text[1024];
	snprintf(text, sizeof(text), "%s[function fa]\nfrom = a\nignore = nosuch\n", head);
	CHECK(load(text) == TXC_ECONFIG && strstr(notes, "t.ini:5:"),
	      "the user's bad override is the config's error");
	put("bad.ini", "[function x]\nsignature = int x(int\n", 0644);
	snprintf(text, sizeof(text), "%sinclude = bad\n[function fa]\nfrom = bad\n", head);
	CHECK(load(text) == 0 && cfg->nfns == 0, "a catalogue that does not parse adds nothing");
	CHECK(strstr(notes, "t.ini:3: w: include = bad: ") &&
		  strstr(notes, "/bad.ini:2: signature") &&
		  strstr(notes, "t.ini:5: w: from = bad: ") && nwarn == 2 && nerr == 0,
	      "one warning per asking line, naming the file's line");
	put("open.ini", "[function x]\nsignature = int x(int y)\n", 0666);
	snprintf(text, sizeof(text), "%sinclude = open\n", head);
	CHECK(load(text) == 0 && cfg->nfns == 0 && strstr(notes, "refusing"),
	      "a catalogue others can write is refused");
	snprintf(text, sizeof(text), "%sinclude = ,, ,\n", head);
	CHECK(load(text) == 0 && cfg->nfns == 0 && nwarn == 0, "an empty list is nothing");
	snprintf(text, sizeof(text), "%sinclude = %0100d\n", head, 1);
	CHECK(load(text) == 0 && strstr(notes, "not a catalogue name"), "a long name");
}

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_dir();
	test_merge();
	test_errors();
	config_free(cfg);
	char cmd[PATH_MAX];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	if (check_failed)
		printf("# last reports:\n%s", notes);
	return check_done();
}
