/* jsonout.c - bytes into JSON: a string when UTF-8, else base64 (jsonout.h). */
#include <stdint.h>

#include "jsonout.h"

/* The length of the well-formed UTF-8 sequence at S (N bytes left), 0 when
 * there is none. The second-byte ranges are those of RFC 3629's table: they
 * exclude overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool json_utf8_valid(const void *p, size_t len)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void base64(FILE *out, const uint8_t *s, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (n > 2)
			v |= s[i + 2];
		fputc(abc[v >> 18 & 63], out);
		fputc(abc[v >> 12 & 63], out);
		fputc(n > 1 ? abc[v >> 6 & 63] : '=', out);
		fputc(n > 2 ? abc[v & 63] : '=', out);
	}
}

void cli_json_str(FILE *out, const char *s, size_t len)
{
	const uint8_t *b = (const uint8_t *)s;
	if (!json_utf8_valid(b, len)) {
		/* JSON strings hold characters, not bytes: these have no
		 * string that a reader would decode back to them */
		fputs("{\"base64\":\"", out);
		base64(out, b, len);
		fputs("\"}", out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (b[i] == '"' || b[i] == '\\')
			fprintf(out, "\\%c", b[i]);
		else if (b[i] < 0x20 || b[i] == 0x7f)
			fprintf(out, "\\u%04x", b[i]);
		else
			fputc(b[i], out);
	}
	fputc('"', out);
}
