/* test_config.c - the INI loader: defaults, validation, line numbers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "err.h"

struct rep {
	int line;
	bool warning;
	char msg[512];
};

static struct rep reps[64];
static int nreps;

static void record(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx;
	if (strcmp(path, "t.ini") != 0 && path[0] != '/')
		printf("# unexpected path %s\n", path);
	if (nreps < 64) {
		reps[nreps].line = line;
		reps[nreps].warning = warning;
		snprintf(reps[nreps].msg, sizeof(reps[nreps].msg), "%s", msg);
		nreps++;
	}
}

static struct txc_config *cfg;

static int load(const char *text)
{
	nreps = 0;
	config_free(cfg);
	cfg = NULL;
	return config_parse_string(text, "t.ini", &cfg, record, NULL);
}

static void dump(void)
{
	for (int i = 0; i < nreps; i++)
		printf("#   %d%s: %s\n", reps[i].line, reps[i].warning ? " (warning)" : "",
		       reps[i].msg);
}

/* True when a report at LINE contains WANT and it is the only report. */
static bool only(int line, const char *want)
{
	bool ok = nreps == 1 && reps[0].line == line && strstr(reps[0].msg, want) &&
		  !strchr(reps[0].msg, '\n') && strncmp(reps[0].msg, "error", 5) != 0;
	if (!ok) {
		printf("# want only %d: %s; got %d reports\n", line, want, nreps);
		dump();
	}
	return ok;
}

/* True when some report is at LINE and contains WANT. */
static bool has(int line, bool warning, const char *want)
{
	for (int i = 0; i < nreps; i++)
		if (reps[i].line == line && reps[i].warning == warning && strstr(reps[i].msg, want))
			return true;
	printf("# want %d: %s\n", line, want);
	dump();
	return false;
}

/* Loads "[cache]\nservers = 127.0.0.1\n" followed by REST (rest starts at line 3)
 * and expects exactly one error at LINE containing WANT. */
static bool bad(const char *rest, int line, const char *want)
{
	char text[4096];
	snprintf(text, sizeof(text), "[cache]\nservers = 127.0.0.1\n%s", rest);
	int rc = load(text);
	return rc == TXC_ECONFIG && cfg == NULL && only(line, want);
}

static bool good(const char *rest)
{
	char text[4096];
	snprintf(text, sizeof(text), "[cache]\nservers = 127.0.0.1\n%s", rest);
	int rc = load(text);
	if (rc != 0 || nreps != 0) {
		printf("# rc %d\n", rc);
		dump();
	}
	return rc == 0 && cfg != NULL;
}

static const char header_example[] =
    "[cache]\n"
    "servers    = 127.0.0.1:11211, /run/memcached/memcached.sock  ; host:port or unix socket\n"
    "namespace  = myapp        ; default \"txcache\"\n"
    "ttl        = 3600         ; default 0 = never expires\n"
    "timeout_ms = 50           ; bound on one memcached op\n"
    "enabled    = yes          ; yes/no\n"
    "log        = warn         ; error|warn|info|debug\n"
    "max_value  = 1048576      ; (extension)\n"
    "\n"
    "[function db_get]         ; one section per function\n"
    "signature  = int db_get(string user, out string[cap] email, size_t cap)\n"
    "ttl        = 60\n"
    "ignore     = cap          ; comma-separated parameter names\n"
    "cache_if   = ret >= 0     ; ret OP VALUE\n"
    "version    = GLIBC_2.29   ; (extension) optional symbol version\n"
    "library    = libm.so.6    ; (extension) optional defining library\n"
    "\n"
    "[function db_set]\n"
    "signature  = int db_set(string user, string email)\n"
    "invalidates = db_get(user)    ; comma-separated targets f(arg, ...) or f(*)\n";

static void test_example(void)
{
	CHECK(load(header_example) == 0 && nreps == 0, "header example loads");
	if (!cfg)
		return dump();
	CHECK(strcmp(cfg->path, "t.ini") == 0, "path recorded");
	CHECK(cfg->nservers == 2 && strcmp(cfg->servers[0].host, "127.0.0.1") == 0 &&
		  cfg->servers[0].port == 11211 && !cfg->servers[0].is_socket,
	      "tcp server");
	CHECK(strcmp(cfg->servers[1].host, "/run/memcached/memcached.sock") == 0 &&
		  cfg->servers[1].is_socket && cfg->servers[1].port == 0,
	      "socket server");
	CHECK(strcmp(cfg->ns, "myapp") == 0 && cfg->ttl == 3600 && cfg->timeout_ms == 50 &&
		  cfg->enabled && cfg->log_level == TXC_LOG_WARN && cfg->max_value == 1048576,
	      "cache values");
	CHECK(cfg->nfns == 2 && config_find_fn(cfg, "db_get") == 0 &&
		  config_find_fn(cfg, "db_set") == 1 && config_find_fn(cfg, "nope") == -1,
	      "functions");
	const struct txc_fn_config *g = &cfg->fns[0], *s = &cfg->fns[1];
	CHECK(g->line == 10 && s->line == 18, "section lines");
	CHECK(g->ttl == 60 && s->ttl == 3600, "ttl own and inherited");
	CHECK(g->sig.nparams == 3 && g->sig.params[0].keyed && !g->sig.params[2].keyed,
	      "ignore cleared cap");
	CHECK(g->cache_if.set && g->cache_if.nterms == 1 && g->cache_if.terms[0].op == TXC_CMP_GE &&
		  g->cache_if.terms[0].lit == 0 && g->cache_if.terms[0].type == TXC_T_INT,
	      "cache_if ret >= 0");
	CHECK(strcmp(g->version, "GLIBC_2.29") == 0 && strcmp(g->library, "libm.so.6") == 0,
	      "version and library");
	CHECK(g->ninval == 0 && s->ninval == 1 && s->inval[0].target == 0 && !s->inval[0].all &&
		  s->inval[0].nargs == 1 && s->inval[0].args[0] == 0,
	      "invalidates db_get(user)");
	CHECK(!s->cache_if.set && s->version[0] == '\0' && s->library[0] == '\0',
	      "unset fields empty");
}

static void test_defaults(void)
{
	CHECK(load("[cache]\nservers = localhost\n") == 0, "minimal file");
	CHECK(cfg && strcmp(cfg->ns, "txcache") == 0 && cfg->ttl == 0 && cfg->timeout_ms == 50 &&
		  cfg->enabled && cfg->log_level == TXC_LOG_WARN && cfg->max_value == 1048576 &&
		  cfg->nfns == 0,
	      "defaults");
	CHECK(cfg && cfg->nservers == 1 && strcmp(cfg->servers[0].host, "localhost") == 0 &&
		  cfg->servers[0].port == 11211,
	      "bare host gets port 11211");
	CHECK(load("") == TXC_ECONFIG && only(0, "no servers: [cache] servers is required"),
	      "empty file: no servers");
	CHECK(load("[cache]\nttl = 5\n") == TXC_ECONFIG && only(0, "no servers"), "no servers");
}

static void test_cache_values(void)
{
	CHECK(bad("ttl = 2592001\n", 3, "memcached"), "ttl above 30 days explains why");
	CHECK(good("ttl = 2592000\n") && cfg->ttl == 2592000, "ttl 30 days");
	CHECK(bad("ttl = -1\n", 3, "ttl: '-1' is not a non-negative integer"), "ttl negative");
	CHECK(bad("ttl = 10s\n", 3, "not a non-negative integer"), "ttl trailing junk");
	CHECK(bad("ttl =\n", 3, "not a non-negative integer"), "ttl empty");
	CHECK(bad("ttl = 99999999999999999999999\n", 3, "ttl"), "ttl overflow");
	CHECK(bad("timeout_ms = 0\n", 3, "timeout_ms: 0 is out of range 1..60000"), "timeout 0");
	CHECK(bad("timeout_ms = 60001\n", 3, "out of range"), "timeout too big");
	CHECK(good("timeout_ms = 60000\n") && cfg->timeout_ms == 60000, "timeout 60000");
	CHECK(bad("max_value = 1023\n", 3, "max_value"), "max_value small");
	CHECK(bad("max_value = 134217729\n", 3, "max_value"), "max_value big");
	CHECK(good("max_value = 1024\n") && cfg->max_value == 1024, "max_value 1024");
	CHECK(bad("namespace = my app\n", 3, "namespace"), "namespace space");
	CHECK(bad("namespace = a:b\n", 3, "namespace"), "namespace colon");
	CHECK(bad("namespace =\n", 3, "namespace"), "namespace empty");
	char text[300];
	memset(text, 0, sizeof(text));
	strcpy(text, "namespace = ");
	memset(text + strlen(text), 'n', 100);
	strcat(text, "\n");
	CHECK(good(text) && strlen(cfg->ns) == 100, "namespace 100 bytes");
	text[strlen(text) - 1] = 'n';
	strcat(text, "\n");
	CHECK(bad(text, 3, "namespace"), "namespace 101 bytes");
	CHECK(good("namespace = A-z_0.9\n") && strcmp(cfg->ns, "A-z_0.9") == 0, "namespace chars");

	static const char *const yes[] = {"yes", "true", "on", "1", "YES"};
	static const char *const no[] = {"no", "false", "off", "0", "Off"};
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "enabled = %s\n", no[i]);
		CHECK(good(text) && !cfg->enabled, "enabled = %s", no[i]);
		snprintf(text, sizeof(text), "enabled = %s\n", yes[i]);
		CHECK(good(text) && cfg->enabled, "enabled = %s", yes[i]);
	}
	CHECK(bad("enabled = maybe\n", 3, "enabled"), "enabled bad");
	CHECK(good("log = debug\n") && cfg->log_level == TXC_LOG_DEBUG, "log debug");
	CHECK(good("log = error\n") && cfg->log_level == TXC_LOG_ERROR, "log error");
	CHECK(good("log = info\n") && cfg->log_level == TXC_LOG_INFO, "log info");
	CHECK(bad("log = loud\n", 3, "log: unknown level 'loud'"), "log bad");

	int level = -1;
	CHECK(config_parse_log_level("warning", &level) == 0 && level == TXC_LOG_WARN, "warning");
	CHECK(config_parse_log_level("warn", &level) == 0 && level == TXC_LOG_WARN, "warn");
	CHECK(config_parse_log_level("debug", &level) == 0 && level == TXC_LOG_DEBUG, "debug");
	CHECK(config_parse_log_level("verbose", &level) == TXC_EINVAL, "verbose rejected");
	CHECK(config_parse_log_level(NULL, &level) == TXC_EINVAL, "NULL rejected");
}

static void test_servers(void)
{
	CHECK(load("[cache]\nservers = a:1, b.example.com:65535 ,/tmp/mc.sock,c\n") == 0 &&
		  cfg->nservers == 4,
	      "four servers");
	CHECK(cfg && cfg->servers[0].port == 1 &&
		  strcmp(cfg->servers[1].host, "b.example.com") == 0 &&
		  cfg->servers[1].port == 65535 && cfg->servers[2].is_socket &&
		  cfg->servers[3].port == 11211,
	      "server fields");
	CHECK(load("[cache]\nservers = a:0\n") == TXC_ECONFIG && only(2, "1..65535"), "port 0");
	CHECK(load("[cache]\nservers = a:65536\n") == TXC_ECONFIG && only(2, "1..65535"),
	      "port 65536");
	CHECK(load("[cache]\nservers = a:\n") == TXC_ECONFIG && only(2, "port"), "empty port");
	CHECK(load("[cache]\nservers = a:1x\n") == TXC_ECONFIG && only(2, "port"), "port junk");
	CHECK(load("[cache]\nservers = :11211\n") == TXC_ECONFIG && only(2, "host is missing"),
	      "no host");
	CHECK(load("[cache]\nservers = [::1]:11211\n") == TXC_ECONFIG && only(2, "IPv6"), "ipv6");
	CHECK(load("[cache]\nservers = a:1,,b:2\n") == TXC_ECONFIG && only(2, "empty entry"),
	      "empty entry");
	CHECK(load("[cache]\nservers = a:1,\n") == TXC_ECONFIG && only(2, "empty entry"),
	      "trailing comma");
	CHECK(load("[cache]\nservers =\n") == TXC_ECONFIG && has(2, false, "empty entry"),
	      "empty servers");
	CHECK(load("[cache]\nservers = a:1 b:2\n") == TXC_ECONFIG && only(2, "separate servers"),
	      "space separated");
	char text[1024] = "[cache]\nservers = h";
	for (int i = 1; i < 17; i++)
		strcat(text, ",h");
	strcat(text, "\n");
	CHECK(load(text) == TXC_ECONFIG && only(2, "more than 16"), "17 servers");
}

static void test_structure(void)
{
	CHECK(load("ttl = 5\n[cache]\nservers = a\n") == TXC_ECONFIG &&
		  only(1, "outside of any section"),
	      "key before any section");
	CHECK(load("[cache]\nservers = a\n[cach]\nx = 1\n") == TXC_ECONFIG &&
		  only(3, "unknown section [cach]"),
	      "unknown section, its keys skipped");
	CHECK(load("[cache]\nservers = a\nspeed = 11\n") == 0 && only(3, "unknown key 'speed'") &&
		  reps[0].warning,
	      "unknown key is a warning");
	CHECK(load("[cache]\nservers = a\n[function f]\nsignature = int f(int)\ncolor = red\n") ==
		      0 &&
		  has(5, true, "unknown key 'color'"),
	      "unknown function key is a warning");
	CHECK(bad("ttl = 1\nttl = 2\n", 4, "duplicate key 'ttl'"), "duplicate key");
	CHECK(bad("[cache]\n", 3, "duplicate section [cache]"), "duplicate cache section");
	CHECK(bad("just words\n", 3, "expected 'key = value'"), "line without =");
	CHECK(bad("[function f\n", 3, "without ']'"), "section without ]");
	CHECK(bad("[function f] junk\nsignature = int f(void)\n", 3, "text after ']'"),
	      "text after ]");
	CHECK(good("[function f] ; comment\nsignature = int f(void)\n"), "comment after ]");
	CHECK(good("; comment\n# comment\n\n   \n"), "comments and blanks");
	CHECK(load("\xEF\xBB\xBF[cache]\nservers = a\n") == 0, "BOM at start");
	CHECK(load("[cache]\r\nservers = a\r\n") == 0 && strcmp(cfg->servers[0].host, "a") == 0,
	      "CRLF lines");
	CHECK(load("[cache]\nservers = a") == 0, "no final newline");
	CHECK(bad("[function]\n", 3, "function name is missing"), "function without name");
	CHECK(bad("[function 1f]\n", 3, "not a C identifier"), "bad function name");
	CHECK(bad("[function f]\nttl = 1\n", 3, "signature is required"), "no signature");
	CHECK(bad("[function f]\n", 3, "signature is required"), "empty function section");
	CHECK(bad("[function f]\nsignature = int f(void)\n[function f]\nsignature = int f(void)\n",
		  5, "duplicate section [function f] (first on line 3)"),
	      "duplicate function");
	CHECK(bad("[function f]\nsignature = int g(void)\n", 4, "does not match"), "name mismatch");
	CHECK(bad("[function f]\nsignature = int f(strng s)\n", 4,
		  "signature: parameter 1 (s): unknown type 'strng'"),
	      "signature error");

	/* A long function name survives inih's 50-byte section buffer. */
	char name[64], text[512];
	memset(name, 'x', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "[function %s]\nsignature = int %s(void)\n", name, name);
	CHECK(good(text) && strcmp(cfg->fns[0].sig.name, name) == 0, "63-byte function name");
	snprintf(text, sizeof(text), "[function %sx]\nsignature = int f(void)\n", name);
	CHECK(bad(text, 3, "longer than 63"), "64-byte function name");
}

static void test_lines(void)
{
	char text[1024];
	memset(text, 0, sizeof(text));
	strcpy(text, "[cache]\nservers = a\n; ");
	memset(text + strlen(text), 'c', 250);
	strcat(text, "\nttl = x\n");
	CHECK(load(text) == TXC_ECONFIG && nreps == 2 && has(3, false, "line longer than 197") &&
		  has(4, false, "ttl"),
	      "long line reported once, line count kept");
	memset(text, 0, sizeof(text));
	strcpy(text, "[cache]\nservers = a\n");
	memset(text + strlen(text), ' ', 197);
	strcat(text, "\n");
	CHECK(load(text) == 0 && nreps == 0, "197 spaces fit");

	/* Continuations join with a space. */
	CHECK(good("[function f]\nsignature = int f(string a,\n    int b,\n\tint c)\n"
		   "ignore = b,\n  c\n") &&
		  cfg->fns[0].sig.nparams == 3 && !cfg->fns[0].sig.params[1].keyed &&
		  !cfg->fns[0].sig.params[2].keyed,
	      "continued signature and ignore");
	CHECK(load("[cache]\nservers = a:1,\n  b:2\n") == 0 && cfg->nservers == 2,
	      "continued servers");
	CHECK(bad("ttl = 1\n  2\n", 4, "'ttl' cannot continue"), "ttl continuation refused");
	CHECK(bad("[function f]\nsignature = int f(\n  int a) ; c\n  junk\n", 4,
		  "trailing text after ')'"),
	      "continuation comments stripped; error at the key line");

	/* Errors come sorted by line, each with its own line. */
	CHECK(load("[cache]\nttl = x\n[bogus]\nservers = a\n[function g]\nsignature = int h()\n"
		   "nope\n") == TXC_ECONFIG &&
		  nreps == 5 && reps[0].line == 0 && reps[1].line == 2 && reps[2].line == 3 &&
		  reps[3].line == 6 && reps[4].line == 7,
	      "several errors sorted");
}

static void test_fn_values(void)
{
	const char *sig = "[function f]\nsignature = int f(string s, bytes[n] b, size_t n, "
			  "out string[n] o, double d)\n";
	char text[1024];
#define FN(extra) (snprintf(text, sizeof(text), "%s%s", sig, extra), text)
	CHECK(good(FN("ignore = s, n, d, b\n")), "ignore keyed kinds");
	CHECK(bad(FN("ignore = o\n"), 5, "ignore: 'o' is not keyed"), "ignore out");
	CHECK(bad(FN("ignore = zz\n"), 5, "no parameter named 'zz'"), "ignore unknown");
	CHECK(bad(FN("ignore = s, s\n"), 5, "listed twice"), "ignore twice");
	CHECK(bad(FN("ignore = s,,n\n"), 5, "empty entry"), "ignore empty entry");
	CHECK(bad(FN("ttl = 2592001\n"), 5, "memcached"), "fn ttl range");
	CHECK(load("[function f]\nsignature = int f()\n[cache]\nttl = 7\nservers = a\n") == 0 &&
		  cfg->fns[0].ttl == 7,
	      "ttl inherited from a later [cache]");
	CHECK(good(FN("")) && cfg->identity == TXC_ID_BUILD_ID &&
		  cfg->fns[0].identity == TXC_ID_BUILD_ID,
	      "identity defaults to build-id");
	CHECK(load("[function f]\nsignature = int f()\n[function g]\nsignature = int g()\n"
		   "identity = build-id\n[cache]\nidentity = soname\nservers = a\n") == 0 &&
		  cfg->fns[0].identity == TXC_ID_SONAME && cfg->fns[1].identity == TXC_ID_BUILD_ID,
	      "identity inherited from [cache], overridden per function");
	CHECK(bad(FN("identity = path\n"), 5, "identity: 'path' is not build-id or soname"),
	      "bad identity");
	CHECK(good(FN("ignore = s\n")) && good("[function h]\nsignature = int h(symptr p)\n"
					       "ignore = p\n"),
	      "a symptr can be ignored");

	static const struct {
		const char *cond;
		int op;
		int64_t lit;
	} conds[] = {
	    {"ret == 0", TXC_CMP_EQ, 0},
	    {"ret!=-1", TXC_CMP_NE, -1},
	    {"ret < 0x10", TXC_CMP_LT, 16},
	    {"ret <= -0x10", TXC_CMP_LE, -16},
	    {"ret >= 2147483647", TXC_CMP_GE, INT32_MAX},
	    {"ret >= -2147483648", TXC_CMP_GE, INT32_MIN},
	};
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		snprintf(text, sizeof(text), "%scache_if = %s\n", sig, conds[i].cond);
		bool ok = good(text);
		const struct txc_cond *c = ok ? &cfg->fns[0].cache_if : NULL;
		CHECK(c && c->set && c->nterms == 1 && (int)c->terms[0].op == conds[i].op &&
			  c->terms[0].lit == (uint64_t)conds[i].lit,
		      "cache_if %s", conds[i].cond);
	}
	CHECK(bad(FN("cache_if = ret >= 2147483648\n"), 5,
		  "2147483648 is out of range for int (ret)"),
	      "too big literal");
	CHECK(bad(FN("cache_if = ret > 2.5\n"), 5, "2.5 is not an integer (ret is int)"),
	      "float literal for an int return");
	CHECK(bad(FN("cache_if = ret == NULL\n"), 5, "NULL needs a string"), "NULL with int");
	CHECK(bad(FN("cache_if = ret = 0\n"), 5, "operator"), "= is not an operator");
	CHECK(bad(FN("cache_if = res > 0\n"), 5, "expected ret, errno or *NAME"), "not ret");
	CHECK(bad(FN("cache_if = ret > abc\n"), 5, "not a number"), "bad value");
	CHECK(bad(FN("cache_if = ret > 1e\n"), 5, "not a number"), "bad float");
	CHECK(bad(FN("cache_if = ret > 0x\n"), 5, "not a number"), "bad hex");
	CHECK(bad(FN("cache_if = ret > inf\n"), 5, "not a number"), "inf refused");
	CHECK(bad(FN("cache_if = ret > 1 2\n"), 5, "expected 'and', 'or' or the end"),
	      "trailing junk");
	CHECK(bad("[function v]\nsignature = void v()\ncache_if = ret == 0\n", 5, "returns void"),
	      "void return");
	CHECK(good("[function s]\nsignature = string s()\ncache_if = ret != NULL\n") &&
		  cfg->fns[0].cache_if.terms[0].type == TXC_T_VOID &&
		  cfg->fns[0].cache_if.terms[0].op == TXC_CMP_NE,
	      "string != NULL");
	CHECK(good("[function s]\nsignature = owned string s()\ncache_if = ret == NULL\n"),
	      "owned string == NULL");
	CHECK(bad("[function s]\nsignature = string s()\ncache_if = ret < NULL\n", 5,
		  "only works with == and !="),
	      "NULL with <");
	CHECK(
	    bad("[function s]\nsignature = string s()\ncache_if = ret == 0\n", 5, "string return"),
	    "string compared with number");
	CHECK(good(FN(
		  "cache_if = ret == 0\n    or ret == 1\nouts_if = ret > 0 and\n  errno == 0\n")) &&
		  cfg->fns[0].cache_if.nterms == 2 && cfg->fns[0].outs_if.nterms == 2,
	      "conditions continue on indented lines");
	CHECK(good(FN("outs_if = ret == 0\nnegative_ttl = 7\n")) && cfg->fns[0].negative_ttl == 7,
	      "negative_ttl parsed");
	CHECK(good("ttl = 50\nnegative_ttl = 9\n[function f]\n"
		   "signature = int f(int a)\nouts_if = ret == 0\n[function g]\n"
		   "signature = int g(int a)\nouts_if = ret == 0\nnegative_ttl = 3\n") &&
		  cfg->fns[0].negative_ttl == 9 && cfg->fns[1].negative_ttl == 3,
	      "negative_ttl inherited from [cache], overridden per function");
	CHECK(good("ttl = 50\n[function f]\nsignature = int f(int a)\n"
		   "ttl = 20\n") &&
		  cfg->fns[0].negative_ttl == 20,
	      "negative_ttl defaults to the function's ttl");
	CHECK(bad(FN("outs_if = ret == 0\nnegative_ttl = 2592001\n"), 6,
		  "negative_ttl: 2592001 is out of range"),
	      "negative_ttl over 30 days");
	double zero = 0;
	uint64_t zero_bits;
	memcpy(&zero_bits, &zero, sizeof(zero_bits));
	CHECK(good("[function d]\nsignature = double d()\ncache_if = ret > 0\n") &&
		  cfg->fns[0].cache_if.terms[0].lit == zero_bits,
	      "double return with integer literal");

	CHECK(bad(FN("version = GLIBC 2\n"), 5, "without spaces"), "version with space");
	CHECK(bad(FN("version =\n"), 5, "non-empty"), "empty version");
	char lib[400];
	memset(lib, 0, sizeof(lib));
	strcpy(lib, "library = ");
	memset(lib + strlen(lib), 'l', 64);
	strcat(lib, "\n");
	CHECK(good(FN(lib)) && strlen(cfg->fns[0].library) == 64, "library 64 bytes");
	snprintf(text, sizeof(text), "%sversion = %s", sig, lib + 10);
	CHECK(bad(text, 5, "version: longer than 63"), "version 64 bytes");
#undef FN
}

static void test_invalidates(void)
{
	static const char get[] = "[function get]\nsignature = int get(string user, int id, "
				  "out string[cap] o, size_t cap)\nignore = cap\n";
	char text[2048];
#define TWO(set) (snprintf(text, sizeof(text), "%s%s", get, set), text)
	/* target before and after the mutator */
	CHECK(good(TWO("[function set]\nsignature = int set(long k, string u)\n"
		       "invalidates = get(u, k), get(*)\n")),
	      "target defined before");
	const struct txc_fn_config *s = cfg ? &cfg->fns[1] : NULL;
	CHECK(s && s->ninval == 2 && s->inval[0].target == 0 && s->inval[0].nargs == 2 &&
		  s->inval[0].args[0] == 1 && s->inval[0].args[1] == 0 && !s->inval[0].all &&
		  s->inval[1].all && s->inval[1].target == 0 && s->inval[1].nargs == 0,
	      "args mapped in the target's keyed order");
	snprintf(text, sizeof(text),
		 "[cache]\nservers = a\n[function set]\nsignature = int set(string u, int i)\n"
		 "invalidates = get( u , i ),\n  other()\n%s[function other]\n"
		 "signature = int other(void)\n",
		 get);
	CHECK(load(text) == 0 && nreps == 0 && cfg->fns[0].ninval == 2 &&
		  cfg->fns[0].inval[0].target == 1 && cfg->fns[0].inval[1].target == 2 &&
		  cfg->fns[0].inval[1].nargs == 0,
	      "targets defined after, continued list");

	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get(u)\n"), 8,
		  "get takes 2 arguments, one per keyed parameter (user, id), got 1"),
	      "argument count lists keyed params");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u, double d)\n"
		      "invalidates = get(u, d)\n"),
		  8, "'d' (double) cannot stand for id (int)"),
	      "type mismatch");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u, float d, double e)\n"
		      "invalidates = get(u, u)\n"),
		  8, "'u' (string) cannot stand for id"),
	      "string for int");
	CHECK(good(TWO("[function set]\nsignature = int set(string u, unsigned char c)\n"
		       "invalidates = get(u, c)\n")),
	      "integer to integer");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u, int i)\n"
		      "invalidates = get(u, x)\n"),
		  8, "no parameter named 'x'"),
	      "unknown mutator param");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u, out int *i)\n"
		      "invalidates = get(u, i)\n"),
		  8, "cannot stand for"),
	      "out param as arg");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = nope(u)\n"), 8,
		  "no [function nope] section"),
	      "unknown target");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = set(u)\n"), 8,
		  "cannot invalidate itself"),
	      "self");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get\n"), 8,
		  "expected '('"),
	      "missing parens");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get(*, u)\n"),
		  8, "'*' must be the only"),
	      "star with names");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get(*) x\n"), 8,
		  "expected ','"),
	      "junk between targets");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates =\n"), 8,
		  "empty value"),
	      "empty invalidates");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get(*)\n"
		      "[function del]\nsignature = int del(string u)\ninvalidates = set(*)\n"),
		  11, "set has invalidates itself"),
	      "target with invalidates");
	CHECK(bad(TWO("[function set]\nsignature = int set(string u)\ninvalidates = get(*), "
		      "get(*), get(*), get(*), get(*), get(*), get(*), get(*), get(*)\n"),
		  8, "more than 8"),
	      "too many targets");
#undef TWO
}

static void test_files(void)
{
	struct txc_config *c = (struct txc_config *)1;
	nreps = 0;
	CHECK(config_load("/nonexistent/txcache.ini", &c, record, NULL) == TXC_ECONFIG &&
		  c == NULL && only(0, "cannot open: No such file or directory"),
	      "missing file");
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "[cache]\nservers = a\nbogus\n[function f]\nsignature = "
				   "int f(void)\n";
	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1,
	      "temp file");
	nreps = 0;
	CHECK(config_load(path, &c, record, NULL) == TXC_ECONFIG && only(3, "expected 'key"),
	      "file errors have lines");
	/* a NUL byte in a file */
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "[cache]\nservers = a\n\0x\n", 23) == 23,
	      "rewrite");
	CHECK(ftruncate(fd, 23) == 0, "truncate");
	nreps = 0;
	CHECK(config_load(path, &c, record, NULL) == TXC_ECONFIG && only(3, "NUL byte"), "NUL");
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && ftruncate(fd, 0) == 0 &&
		  write(fd, header_example, sizeof(header_example) - 1) > 0,
	      "example file");
	nreps = 0;
	CHECK(config_load(path, &c, NULL, NULL) == 0 && c && c->nfns == 2 &&
		  strcmp(c->path, path) == 0,
	      "load file without a report callback");
	config_free(c);
	config_free(NULL);
	close(fd);
	unlink(path);
}

/* Every prefix and many one-byte corruptions of the example load or fail
 * cleanly, every report with a message and a line inside the text. */
static void test_robustness(void)
{
	static const char junk[] = "[]=;#,() \t\n*\x01\xff";
	size_t n = strlen(header_example);
	int bad_reports = 0, total = 0;
	for (size_t k = 0; k <= n; k++) {
		char *p = malloc(n + 1);
		memcpy(p, header_example, k);
		p[k] = '\0';
		for (size_t c = 0; c <= (k == n ? sizeof(junk) - 1 : 0); c++) {
			for (size_t j = 0; j < (c ? n : 1); j += 7) {
				char save = p[j];
				if (c)
					p[j] = junk[c - 1];
				int rc = load(p);
				total++;
				bad_reports += !(rc == 0 || (rc == TXC_ECONFIG && nreps > 0));
				for (int i = 0; i < nreps; i++)
					bad_reports += reps[i].line < 0 || reps[i].line > 21 ||
						       !reps[i].msg[0];
				p[j] = save;
			}
		}
		free(p);
	}
	CHECK(bad_reports == 0, "%d damaged files: clean results", total);
}

/* errno = keep|restore: [cache] default, per function override. */
static void test_errno_option(void)
{
	CHECK(good("[function f]\nsignature = int f()\n") && !cfg->errno_keep &&
		  !cfg->fns[0].errno_keep,
	      "errno: restore by default");
	CHECK(load("[function f]\nsignature = int f()\n[function g]\nsignature = int g()\n"
		   "errno = restore\n[cache]\nservers = a\nerrno = keep\n") == 0 &&
		  cfg->errno_keep && cfg->fns[0].errno_keep && !cfg->fns[1].errno_keep,
	      "errno: [cache] keep inherited (from a later section), restore overrides");
	CHECK(good("errno = KEEP\n") && cfg->errno_keep, "errno: case-insensitive");
	CHECK(bad("errno = maybe\n", 3, "errno: 'maybe' is not keep or restore"),
	      "errno: bad value in [cache]");
	CHECK(bad("[function f]\nsignature = int f()\nerrno = 1\n", 5,
		  "errno: '1' is not keep or restore"),
	      "errno: bad value in a function");
}

/* stale, refresh, beta: inherited from [cache], per function, errors. */
static void test_fresh_options(void)
{
	CHECK(good("[function f]\nsignature = int f()\n") && cfg->fns[0].stale_s == 0 &&
		  !cfg->fns[0].refresh_early && cfg->fns[0].beta == 1.0,
	      "fresh: no stale, refresh = expiry, beta 1 by default");
	CHECK(load("[function f]\nsignature = int f()\n[function g]\nsignature = int g()\n"
		   "stale = 5\nrefresh = expiry\n[cache]\nservers = a\nttl = 60\nstale = 30\n"
		   "refresh = early\nbeta = 2.5\n") == 0 &&
		  cfg->fns[0].stale_s == 30 && cfg->fns[0].refresh_early &&
		  cfg->fns[0].beta == 2.5 && cfg->fns[1].stale_s == 5 &&
		  !cfg->fns[1].refresh_early && cfg->fns[1].beta == 2.5,
	      "fresh: [cache] values inherited (from a later section), a function's win");
	CHECK(bad("stale = -1\n", 3, "stale: '-1' is not a non-negative integer"),
	      "fresh: negative stale");
	CHECK(bad("stale = 2592001\n", 3, "stale: 2592001 is out of range 0..2592000"),
	      "fresh: stale over 30 days");
	CHECK(bad("ttl = 2592000\n[function f]\nsignature = int f()\nstale = 1\n", 6,
		  "stale: ttl 2592000 + stale 1 of [function f] is more than 2592000 s"),
	      "fresh: ttl + stale over 30 days, at the function's stale");
	CHECK(bad("ttl = 10\nstale = 2592000\n[function f]\nsignature = int f()\n", 4,
		  "stale: ttl 10 + stale 2592000"),
	      "fresh: inherited ttl + stale over 30 days, at [cache]'s stale");
	CHECK(bad("refresh = Early\n", 3, "refresh: 'Early' is not early or expiry"),
	      "fresh: refresh is early or expiry");
	CHECK(bad("refresh = early\nbeta = nan\n", 4, "beta: 'nan' is not a number above 0"),
	      "fresh: beta nan");
	CHECK(bad("refresh = early\nbeta = 1e400\n", 4, "beta: '1e400' is not a number above 0"),
	      "fresh: beta overflowing");
	CHECK(bad("refresh = early\nbeta = 0x10\n", 4, "beta: '0x10' is not a number above 0"),
	      "fresh: beta in hex");
	CHECK(good("ttl = 5\nrefresh = early\nbeta = .5\n") && cfg->beta == 0.5, "fresh: beta .5");
	CHECK(load("[cache]\nservers = a\nbeta = 3\n") == 0 && nreps == 1 &&
		  has(3, true, "beta: no effect without refresh = early"),
	      "fresh: beta without refresh = early is a warning");
	CHECK(load("[cache]\nservers = a\n[function f]\nsignature = int f()\nrefresh = early\n") ==
		      0 &&
		  nreps == 1 && has(5, true, "refresh: no effect with ttl = 0"),
	      "fresh: refresh with ttl 0 is a warning");
}

static void test_mode_option(void)
{
	CHECK(good("[function f]\nsignature = int f()\n") && cfg->mode == TXC_MODE_NORMAL &&
		  cfg->fns[0].mode == TXC_MODE_NORMAL,
	      "mode: normal by default");
	CHECK(load("[function f]\nsignature = int f()\n[function g]\nsignature = int g()\n"
		   "mode = Recache\n[function h]\nsignature = int h(int x)\n"
		   "invalidates = f(*)\n[cache]\nservers = a\nmode = readonly\n") == 0 &&
		  cfg->mode == TXC_MODE_READONLY && cfg->fns[0].mode == TXC_MODE_READONLY &&
		  cfg->fns[1].mode == TXC_MODE_RECACHE && cfg->fns[2].mode == TXC_MODE_NORMAL,
	      "mode: [cache] inherited (from a later section), a function's own wins, a "
	      "mutator stays normal, case ignored");
	CHECK(bad("mode = fast\n", 3, "mode: 'fast' is not normal, readonly, recache or off"),
	      "mode: bad value in [cache]");
	CHECK(bad("[function f]\nsignature = int f()\nmode = \n", 5,
		  "mode: '' is not normal, readonly, recache or off"),
	      "mode: empty value in a function");
	CHECK(bad("[function f]\nsignature = int f()\n[function g]\nsignature = int g()\n"
		  "invalidates = f(*)\nmode = off\n",
		  8,
		  "mode: g has invalidates: it is never cached, and it always invalidates, "
		  "so it takes no mode"),
	      "mode: refused on a mutator");
	enum txc_mode m = TXC_MODE_OFF;
	CHECK(config_parse_mode("readonlyx", &m) == TXC_EINVAL && m == TXC_MODE_OFF &&
		  config_parse_mode(NULL, &m) == TXC_EINVAL,
	      "config_parse_mode: no prefix match, NULL refused, *MODE unchanged");
	CHECK(strcmp(config_mode_name(TXC_MODE_RECACHE), "recache") == 0 &&
		  strcmp(config_mode_name((enum txc_mode)9), "?") == 0,
	      "config_mode_name");
}

int main(void)
{
	test_example();
	test_defaults();
	test_cache_values();
	test_servers();
	test_structure();
	test_lines();
	test_fn_values();
	test_invalidates();
	test_files();
	test_robustness();
	test_errno_option();
	test_fresh_options();
	test_mode_option();
	config_free(cfg);
	return check_done();
}
