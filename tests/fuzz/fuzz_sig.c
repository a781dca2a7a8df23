/* fuzz_sig.c - libFuzzer target: the signature parser.
 * Property: a signature that parses has a canonical text that parses again
 * to the same canonical text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct txc_sig a, b;
	char err[256], c1[4096], c2[4096];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sig_parse(text, &a, err, sizeof(err)) == 0 && sig_canonical(&a, c1, sizeof(c1)) == 0) {
		if (sig_parse(c1, &b, err, sizeof(err)) != 0)
			abort();
		if (sig_canonical(&b, c2, sizeof(c2)) != 0 || strcmp(c1, c2) != 0)
			abort();
	}
	free(text);
	return 0;
}
