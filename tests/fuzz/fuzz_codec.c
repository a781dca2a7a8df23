/* fuzz_codec.c - libFuzzer target: the value decoder.
 *
 * Input: one selector byte, then a value. The selector picks a signature
 * and whether the harness repairs the header (magic, version, payload
 * length, checksum; the errno flag and field are kept) so that the fuzzer
 * reaches the payload parser, which a 64-bit checksum would otherwise
 * hide. Properties: decode never reads outside the value (ASan), and
 * whatever decodes re-encodes to the very same bytes (decoding is strict).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "codec.h"

static const char *const sigs[] = {
    "long f(long x)",
    "int g(string s, out string[cap] o, size_t cap)",
    "string h(int a)",
    "owned string w(string a)",
    "size_t z(ptr c, out bytes[cap:ret] d, size_t cap, bytes[n] s, size_t n, int l)",
    "void v(out int * q, out bytes[16] b, out double * d)",
    "static string t(int e)",
    "ssize_t r(out bytes[cap:ret] d, size_t cap, out string[8] s, out bytes[c2:n] e, int n, "
    "int c2)",
};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static struct txc_sig parsed[NSIGS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void repair(uint8_t *v, size_t len)
{
	static const uint8_t zero[8];
	uint32_t plen = (uint32_t)(len - TXC_VALUE_HEADER);
	XXH3_state_t st;
	uint64_t sum;

	memcpy(v, "TXC\x01", 4);
	v[4] = TXC_VALUE_VERSION;
	v[5] &= 0x01;	    /* keeps "errno stored" and its field */
	v[6] &= TXC_FE_ALL; /* keeps the fp flags */
	v[7] = 0;
	for (int i = 0; i < 4; i++)
		v[64 + i] = (uint8_t)(plen >> (8 * i));
	if (!(v[5] & 0x01))
		memset(v + 68, 0, 4);
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, v, 72);
	XXH3_64bits_update(&st, zero, 8);
	XXH3_64bits_update(&st, v + 80, len - 80); /* fresh_until and the payload */
	sum = XXH3_64bits_digest(&st);
	for (int i = 0; i < 8; i++)
		v[72 + i] = (uint8_t)(sum >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct txc_value_meta meta;
	struct txc_result res;
	struct txc_digest sd, kd;
	char err[128];
	uint8_t *v, *again;
	size_t len, n;
	unsigned sel;

	if (!ready) {
		for (size_t i = 0; i < NSIGS; i++)
			if (sig_parse(sigs[i], &parsed[i], err, sizeof(err)) != 0)
				abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	sel = data[0];
	len = size - 1;
	/* an exact-size copy: ASan sees any read past the value */
	v = malloc(len ? len : 1);
	if (!v)
		return 0;
	memcpy(v, data + 1, len);
	if ((sel & 0x80) && len >= TXC_VALUE_HEADER)
		repair(v, len);
	/* the digests the reader expects: those the value claims, or zeros */
	memset(&sd, 0, sizeof(sd));
	memset(&kd, 0, sizeof(kd));
	if ((sel & 0x40) && len >= 40) {
		memcpy(sd.b, v + 8, 16);
		memcpy(kd.b, v + 24, 16);
	}
	const struct txc_sig *sig = &parsed[(sel & 0x3f) % NSIGS];
	if (codec_decode(sig, &sd, &kd, v, len, &meta, &res) == 0) {
		n = codec_size(sig, &res);
		again = malloc(n ? n : 1);
		if (!again || n != len || codec_encode(sig, &meta, &res, again, n, &n) != 0 ||
		    memcmp(again, v, len) != 0)
			abort();
		free(again);
	}
	free(v);
	return 0;
}
