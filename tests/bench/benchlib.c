/* benchlib.c - libbench.so: the functions only `make bench` calls
 * (tests/bench/bench.sh), built by tests/bench/bench.mk.
 *
 * bn_out(n, buf, cap) writes min(n, cap) bytes of a pattern that depends on
 * n and returns that count: with the signature
 * "int bn_out(int n, out bytes[cap:ret] buf, size_t cap)" its cached value
 * holds n bytes, so one function gives the size curve (16 B .. 1 MiB).
 * bn_f00 .. bn_f49 are fifty trivial int(int) functions: a config listing
 * them all has fifty sets of counters waiting for each publication.
 */
#include <stddef.h>
#include <string.h>

#define BN_API __attribute__((visibility("default")))

BN_API int bn_out(int n, unsigned char *buf, size_t cap);

BN_API int bn_out(int n, unsigned char *buf, size_t cap)
{
	size_t len = n < 0 ? 0 : (size_t)n;

	if (len > cap)
		len = cap;
	memset(buf, 'a' + n % 26, len);
	return (int)len;
}

/* fifty definitions from one line; unformatted to the end of the file */
// clang-format off
#define BN_F(i) BN_API int bn_f##i(int x); \
		BN_API int bn_f##i(int x) { return x * 2 + 1##i; }
#define BN_F10(d) BN_F(d##0) BN_F(d##1) BN_F(d##2) BN_F(d##3) BN_F(d##4) \
		  BN_F(d##5) BN_F(d##6) BN_F(d##7) BN_F(d##8) BN_F(d##9)
BN_F10(0) BN_F10(1) BN_F10(2) BN_F10(3) BN_F10(4)
