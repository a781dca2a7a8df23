/* capture_fmt.c - see capture_fmt.h. */
#include "capture_fmt.h"

uint32_t capfmt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void capfmt_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool capfmt_valid(const uint8_t *blob, size_t len)
{
	if (!blob || len < 4)
		return false;
	uint64_t n = capfmt_get32(blob), sum = 0;
	if (n > (len - 4) / CAPFMT_SEG_BYTES)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *s = blob + 4 + i * CAPFMT_SEG_BYTES;
		uint32_t sl = capfmt_get32(s + 1);
		if (s[0] > CAPFMT_TAG_MAX || sl == 0)
			return false;
		sum += sl;
	}
	return sum == len - 4 - n * CAPFMT_SEG_BYTES;
}
