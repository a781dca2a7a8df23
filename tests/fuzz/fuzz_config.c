/* fuzz_config.c - libFuzzer target: the INI config parser and checker.
 * Any input must parse or be rejected without a crash, a leak or UB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void ignore(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx, (void)path, (void)line, (void)warning, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txc_config *cfg = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse_string(text, "fuzz.ini", &cfg, ignore, NULL) == 0 && !cfg)
		abort();
	config_free(cfg);
	free(text);
	return 0;
}
