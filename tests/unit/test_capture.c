/* test_capture.c - out fd / out stream in the signature language, keys and
 * the value format, and the capture frames driven directly (no GOT: the
 * frames are fed through capture_write/capture_fwrite as the wrappers do). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture_names.h"
#include "capture_priv.h"
#include "check.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "key.h"
#include "sig.h"

static void test_sig(void)
{
	struct txc_sig s;
	char err[200], canon[300];
	int rc = sig_parse("int f(out fd fd, string t, out stream o)", &s, err, sizeof(err));
	CHECK(rc == 0, "parses out fd and out stream: %s", err);
	CHECK(s.params[0].kind == TXC_K_OUT_FD && s.params[2].kind == TXC_K_OUT_STREAM, "kinds");
	CHECK(!sig_param_keyed(&s.params[0]) && !sig_param_is_out(&s.params[0]) &&
		  sig_param_is_capture(&s.params[0]) && sig_param_is_capture(&s.params[2]),
	      "never keyed, not a buffer out, a capture");
	CHECK(sig_canonical(&s, canon, sizeof(canon)) == 0 &&
		  strcmp(canon, "int f(out fd fd, string t, out stream o)") == 0,
	      "canonical: %s", canon);
	CHECK(sig_parse("int f(out sock s)", &s, err, sizeof(err)) != 0 &&
		  strstr(err, "fd or stream") != NULL,
	      "unknown out kind names fd and stream: %s", err);
}

static void test_key_and_codec(void)
{
	struct txc_sig s;
	struct txc_key_fn kf;
	char err[200];
	sig_parse("int f(out fd fd, string t)", &s, err, sizeof(err));
	CHECK(key_fn_init(&kf, "ns", &s) == 0, "key_fn_init");
	int fd1 = 1, fd2 = 7;
	const char *t = "x";
	void *av1[] = {&fd1, &t}, *av2[] = {&fd2, &t};
	struct txc_arg a1[2], a2[2];
	struct txc_key k1, k2;
	const struct txc_digest id = {{1}};
	key_args_from_ffi(&s, av1, a1, NULL);
	key_args_from_ffi(&s, av2, a2, NULL);
	key_build(&kf, &id, &s, a1, &k1);
	key_build(&kf, &id, &s, a2, &k2);
	CHECK(strcmp(k1.text, k2.text) == 0, "the descriptor is not keyed");

	/* one raw segment of 5 bytes (capture_fmt.h) */
	static const char bytes[] = "\1\0\0\0\0\5\0\0\0a\0b\nc";
	struct txc_result r = {.ret = 5};
	r.out[0].present = true;
	r.out[0].data = bytes;
	r.out[0].len = sizeof(bytes) - 1;
	struct txc_value_meta m = {.sig = kf.sig_digest, .key = k1.digest}, m2;
	uint8_t buf[256];
	size_t len = 0;
	struct txc_result d;
	CHECK(codec_encode(&s, &m, &r, buf, sizeof(buf), &len) == 0 &&
		  len == TXC_VALUE_HEADER + 8 + 1 + 4 + 14,
	      "encodes the capture as a blob (%zu bytes)", len);
	CHECK(codec_decode(&s, &kf.sig_digest, &k1.digest, buf, len, &m2, &d) == 0 &&
		  d.out[0].present && d.out[0].len == 14 && memcmp(d.out[0].data, bytes, 14) == 0,
	      "decodes the captured bytes, NUL included");
	static const char *const bad[] = {
	    "\1\0\0\0\0\4\0\0\0a\0b\nc", /* lengths do not add up */
	    "\1\0\0\0\3\5\0\0\0a\0b\nc", /* unknown tag */
	    "\2\0\0\0\0\5\0\0\0a\0b\nc", /* more segments than room */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.out[0].data = bad[i];
		CHECK(codec_encode(&s, &m, &r, buf, sizeof(buf), &len) == 0 &&
			  codec_decode(&s, &kf.sig_digest, &k1.digest, buf, len, &m2, &d) ==
			      TXC_ECORRUPT,
		      "a malformed segment table is corrupt (%zu)", i);
	}
}

/* Arms capture with a config naming one writer (the test binary is the
 * module holding the shim's code, so nothing is patched). */
static void arm(void)
{
	static const char ini[] = "[cache]\nservers = /nonexistent.sock\n"
				  "[function g]\nsignature = void g(out fd fd)\n";
	struct txc_config *cfg = NULL;
	CHECK(config_parse_string(ini, "t.ini", &cfg, NULL, NULL) == 0 && capture_arm(cfg) == 0 &&
		  capture_armed(),
	      "armed");
	config_free(cfg);
}

/* A nested capturing call: in a deeper stack frame, as dispatch's are. */
static __attribute__((noinline)) void inner_call(const struct txc_sig *s, void **av, int fd)
{
	struct capture_call inner;
	struct txc_result r;
	memset(&r, 0, sizeof(r));
	capture_begin(&inner, s, av, 16); /* 2 bytes + the segment table */
	capture_write(fd, "de", 2);
	capture_end(&inner);
	CHECK(capture_fill(&inner, &r) == 0 && r.out[0].len == 4 + 5 + 2 &&
		  memcmp(r.out[0].data, "\1\0\0\0\0\2\0\0\0de", 11) == 0,
	      "inner frame holds its bytes only, as one raw segment");
	capture_free(&inner);
}

static void test_frames(void)
{
	struct txc_sig s;
	char err[200];
	int p[2];
	sig_parse("void g(out fd fd)", &s, err, sizeof(err));
	CHECK(pipe(p) == 0, "pipe");
	struct capture_call outer;
	void *av[] = {&p[1]};
	capture_begin(&outer, &s, av, 8);
	CHECK(outer.n == 1 && capture_top != NULL, "one frame pushed");
	capture_write(p[1], "abc", 3);
	inner_call(&s, av, p[1]);
	capture_write(p[1], "fghij", 5); /* outer reaches 10 > 8 */
	capture_write(9999, "zz", 2);	 /* another descriptor: EBADF, not ours */
	capture_end(&outer);
	CHECK(capture_top == NULL, "frames popped");
	struct txc_result r;
	memset(&r, 0, sizeof(r));
	CHECK(capture_fill(&outer, &r) == TXC_ETOOBIG, "outer over its limit: too big");
	capture_free(&outer);
	char got[16] = {0};
	CHECK(read(p[0], got, sizeof(got)) == 10 && strcmp(got, "abcdefghij") == 0,
	      "every byte still reached the descriptor: %s", got);
	close(p[0]);
	capture_begin(&outer, &s, av, 64);
	CHECK(capture_write(p[1], "x", 1) < 0, "write to a closed pipe fails");
	capture_end(&outer);
	CHECK(capture_fill(&outer, &r) == TXC_ESYS, "a failed write: not stored");
	capture_free(&outer);
	close(p[1]);
}

/* One capturing call of g(out fd) on FD, running BODY; returns what
 * capture_fill returned, the bytes in *OUT (freed by the caller). */
static int capture_one(int fd, void (*body)(int), uint8_t **out, size_t *len)
{
	struct txc_sig s;
	char err[200];
	struct capture_call cc;
	struct txc_result r;
	void *av[] = {&fd};
	sig_parse("void g(out fd fd)", &s, err, sizeof(err));
	memset(&r, 0, sizeof(r));
	capture_begin(&cc, &s, av, 4096);
	body(fd);
	capture_end(&cc);
	int rc = capture_fill(&cc, &r);
	*len = r.out[0].len;
	*out = malloc(*len + 1);
	if (*out && *len)
		memcpy(*out, r.out[0].data, *len);
	capture_free(&cc);
	return rc;
}

/* what the dup/close wrappers do, called directly (nothing is patched) */
static void redirected(int fd)
{
	int saved = dup(fd), null = open("/dev/null", O_WRONLY);
	capture_fd_dup(fd, saved);
	capture_write(fd, "a", 1);
	dup2(null, fd);
	capture_fd_dup(null, fd);
	capture_write(fd, "noise", 5);
	capture_write(saved, "b", 1); /* the saved copy is the same output */
	dup2(saved, fd);
	capture_fd_dup(saved, fd);
	close(saved);
	capture_fd_closed(saved);
	close(null);
	capture_fd_closed(null);
	capture_write(fd, "c", 1);
}

static void left_redirected(int fd)
{
	int null = open("/dev/null", O_WRONLY);
	capture_write(fd, "a", 1);
	capture_fd_dup(null, fd); /* as if dup2(null, fd) had run */
	close(null);
}

static void three_sends(int fd)
{
	capture_write(fd, "x", 1);
	capture_write(fd, "yy", 2);
	struct iovec iov[2] = {{"z", 1}, {"zz", 2}};
	capture_note_fdv(fd, iov, 2, 3); /* one sendmsg of two parts */
}

static void test_tracking(void)
{
	int p[2], sv[2];
	uint8_t *b;
	size_t len;
	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "pipe, socketpair");
	CHECK(capture_one(p[1], redirected, &b, &len) == 0 && len == 4 + 5 + 3 &&
		  memcmp(b + 9, "abc", 3) == 0,
	      "dup2 over the fd: what went to /dev/null is not captured, the saved copy is");
	free(b);
	CHECK(capture_one(p[1], left_redirected, &b, &len) == TXC_ESYS,
	      "a call that leaves its fd pointing elsewhere is not stored");
	free(b);
	CHECK(capture_one(sv[0], three_sends, &b, &len) == 0 && len == 4 + 3 * 5 + 6 && b[0] == 3 &&
		  b[5] == 1 && b[10] == 2 && b[15] == 3,
	      "a datagram socket: one run per write, a vector is one");
	free(b);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* The config check refuses the writers capture wraps from a plain list
 * (capture_names.c): it must name exactly the wrapper tables' functions. */
static void test_names_match_wrappers(void)
{
	const char *const *names;
	size_t nn = capture_wrapped_names(&names), nw, missing = 0, extra = 0;
	const struct wrap_fn *w = capture_wrappers(&nw);
	for (size_t i = 0; i < nw; i++)
		if (!capture_wraps_name(w[i].name)) {
			printf("# wrapped but not listed: %s\n", w[i].name);
			missing++;
		}
	for (size_t i = 0; i < nn; i++) {
		bool found = false;
		for (size_t k = 0; k < nw && !found; k++)
			found = strcmp(w[k].name, names[i]) == 0;
		if (!found) {
			printf("# listed but not wrapped: %s\n", names[i]);
			extra++;
		}
	}
	CHECK(missing == 0 && extra == 0 && nn == nw,
	      "capture_names lists exactly the wrapped functions");
	CHECK(capture_wraps_name("fputs") && !capture_wraps_name("render"),
	      "fputs is a wrapped writer, render is not");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_sig();
	test_key_and_codec();
	arm();
	test_frames();
	test_tracking();
	test_names_match_wrappers();
	return check_done();
}
