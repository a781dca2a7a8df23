/* test_retstr.c - the char * a hit returns: lifetimes, interning, the bound. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "retstr.h"

static char *make(struct retstr_fn *r, const char *s)
{
	char *out = (char *)"untouched";
	int rc = retstr_make(r, s, s ? strlen(s) : 0, &out);
	return rc == 0 ? out : NULL;
}

/* string: the previous result keeps its bytes through one more call. */
static void test_string(void)
{
	struct retstr_fn r;
	char longer[1000];

	CHECK(retstr_init(&r, TXC_R_STRING) == 0, "string: init");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	char *a = make(&r, "a");
	char *b = make(&r, longer); /* longer: the old code freed a here */
	CHECK(a && strcmp(a, "a") == 0, "string: previous result intact after a longer one");
	CHECK(b && strcmp(b, longer) == 0 && a != b, "string: the longer one in its own buffer");
	char *c = make(&r, "c");
	CHECK(c && strcmp(c, "c") == 0 && strcmp(b, longer) == 0,
	      "string: the third call leaves the second intact");
	CHECK(c == a, "string: the third call reuses the first buffer (the documented contract)");
	CHECK(make(&r, NULL) == NULL, "string: NULL stays NULL");
	retstr_release(&r);
}

static void *other_thread(void *arg)
{
	return make(arg, "thread");
}

static void test_string_threads(void)
{
	struct retstr_fn r;
	pthread_t t;
	void *theirs = NULL;

	retstr_init(&r, TXC_R_STRING);
	char *mine = make(&r, "main");
	pthread_create(&t, NULL, other_thread, &r);
	pthread_join(t, &theirs);
	CHECK(theirs && theirs != mine && strcmp(mine, "main") == 0,
	      "string: each thread has its own buffers");
	retstr_release(&r);
}

static void test_owned(void)
{
	struct retstr_fn r;

	retstr_init(&r, TXC_R_OWNED_STRING);
	char *a = make(&r, "x"), *b = make(&r, "x");
	CHECK(a && b && a != b && strcmp(a, "x") == 0, "owned: a fresh copy each time");
	free(a);
	retstr_undo(&r, b); /* frees: ASan and valgrind would see a double free or a leak */
	retstr_release(&r);
}

static void test_static(void)
{
	struct retstr_fn r, other;
	char buf[32];

	retstr_init(&r, TXC_R_STATIC_STRING);
	retstr_init(&other, TXC_R_STATIC_STRING);
	char *one = make(&r, "one"), *two = make(&r, "two");
	CHECK(one && two && one != two && strcmp(one, "one") == 0, "static: two values");
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "value %d", i);
		make(&r, buf);
	}
	CHECK(make(&r, "one") == one && strcmp(one, "one") == 0 && strcmp(two, "two") == 0,
	      "static: 500 other values later, the same pointer and bytes");
	CHECK(make(&other, "one") != one, "static: each function interns its own");
	CHECK(make(&r, "") != NULL && make(&r, NULL) == NULL, "static: empty and NULL");
	char *ad = (char *)"one";
	retstr_adopt(&r, &ad);
	CHECK(ad == one, "static: adopt gives the interned pointer");
	struct retstr_fn s;
	retstr_init(&s, TXC_R_STRING);
	ad = (char *)"one";
	retstr_adopt(&s, &ad);
	CHECK(strcmp(ad, "one") == 0 && ad != one, "string: adopt leaves the pointer alone");
	retstr_release(&s);
	retstr_release(&other);
	retstr_release(&r);
	CHECK(retstr_static_bytes() == 0, "release gives every byte back");
}

/* Last: the bound is per process. */
static void test_bound(void)
{
	struct retstr_fn r;
	static char big[65536];
	char *first = NULL, *p;
	int n = 0, rc = 0;

	retstr_init(&r, TXC_R_STATIC_STRING);
	for (int i = 0; i < 40 && rc == 0; i++) {
		memset(big, 'a' + i % 26, sizeof(big) - 1);
		big[0] = (char)('0' + i % 10);
		big[1] = (char)('0' + i / 10);
		rc = retstr_make(&r, big, sizeof(big) - 1, &p);
		if (rc == 0 && !first)
			first = p;
		n += rc == 0;
	}
	CHECK(rc == TXC_ETOOBIG && n >= 10 && n < 16,
	      "bound: %d values of 64 KiB, then TXC_ETOOBIG", n);
	CHECK(retstr_static_bytes() <= RETSTR_STATIC_MAX, "bound: %zu bytes interned",
	      retstr_static_bytes());
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '0';
	big[1] = '0';
	p = NULL;
	CHECK(retstr_make(&r, big, sizeof(big) - 1, &p) == 0 && p == first,
	      "bound: a value interned before is still served past the bound");
	big[0] = big[1] = 'z';
	p = NULL;
	CHECK(retstr_make(&r, big, sizeof(big) - 1, &p) == TXC_ETOOBIG && p == NULL,
	      "bound: a new one is refused, *OUT untouched");
	retstr_release(&r);
	retstr_init(&r, TXC_R_STATIC_STRING);
	CHECK(retstr_make(&r, big, sizeof(big) - 1, &p) == 0, "bound: room again after release");
	retstr_release(&r);
}

/* More string functions than glibc has thread keys (1024): one key for all. */
static void test_many_string_fns(void)
{
	enum { N = 1100 };
	static struct retstr_fn fns[N];
	int ok = 0, served = 0;
	for (int i = 0; i < N; i++)
		ok += retstr_init(&fns[i], TXC_R_STRING) == 0;
	CHECK(ok == N, "1100 string functions set up");
	for (int i = 0; i < N; i++) {
		char *p = make(&fns[i], i % 2 ? "odd" : "even");
		served += p && strcmp(p, i % 2 ? "odd" : "even") == 0;
	}
	CHECK(served == N, "each serves its own buffers");
	pthread_key_t keys[900];
	int made = 0;
	while (made < 900 && pthread_key_create(&keys[made], NULL) == 0)
		made++;
	CHECK(made == 900, "900 thread keys left for the program");
	for (int i = 0; i < made; i++)
		pthread_key_delete(keys[i]);
	for (int i = 0; i < N; i++)
		retstr_release(&fns[i]);
}

int main(void)
{
	test_string();
	test_many_string_fns();
	test_string_threads();
	test_owned();
	test_static();
	test_bound();
	return check_done();
}
