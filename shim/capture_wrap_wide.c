/* capture_wrap_wide.c - wide-character output on a captured stream.
 *
 * fputwc, fwprintf & co. convert to multibyte inside libc, by the stream's
 * conversion state and the locale: the bytes they hand to the stream are
 * not the arguments. They are not captured; a call that uses one on a
 * watched stream (an out stream, or a stream over an out fd) is never
 * stored. Outside a capture they cost one thread-local load.
 */
#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

#include "capture_priv.h"

/* glibc's fortified wide printf entry points. */
extern int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...);
extern int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap);
extern int __wprintf_chk(int flag, const wchar_t *fmt, ...);
extern int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap);

static const char why[] = "wide-character output to the stream";

static void note_wide(FILE *f)
{
	if (__builtin_expect(capture_top != NULL, 0))
		capture_bypass_stream(f, why);
}

#define WCHAR_WRAPPER(name, stream)                                                                \
	static wint_t w_##name(wchar_t c, FILE *f)                                                 \
	{                                                                                          \
		note_wide(stream);                                                                 \
		return name(c, f);                                                                 \
	}

WCHAR_WRAPPER(fputwc, f)
WCHAR_WRAPPER(putwc, f)
WCHAR_WRAPPER(fputwc_unlocked, f)
WCHAR_WRAPPER(putwc_unlocked, f)

static wint_t w_putwchar(wchar_t c)
{
	note_wide(stdout);
	return putwchar(c);
}

static wint_t w_putwchar_unlocked(wchar_t c)
{
	note_wide(stdout);
	return putwchar_unlocked(c);
}

static int w_fputws(const wchar_t *s, FILE *f)
{
	note_wide(f);
	return fputws(s, f);
}

static int w_fputws_unlocked(const wchar_t *s, FILE *f)
{
	note_wide(f);
	return fputws_unlocked(s, f);
}

static int w_vfwprintf(FILE *f, const wchar_t *fmt, va_list ap)
{
	note_wide(f);
	return vfwprintf(f, fmt, ap);
}

static int w_fwprintf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfwprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

static int w_vwprintf(const wchar_t *fmt, va_list ap)
{
	return w_vfwprintf(stdout, fmt, ap);
}

static int w_wprintf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfwprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

static int w_vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap)
{
	note_wide(f);
	return __vfwprintf_chk(f, flag, fmt, ap);
}

static int w_fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfwprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

static int w_vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
	return w_vfwprintf_chk(stdout, flag, fmt, ap);
}

static int w_wprintf_chk(int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfwprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

#define W(name) WRAP_FN(name)

static const struct wrap_fn table[] = {
    W(fputwc),
    W(putwc),
    W(fputwc_unlocked),
    W(putwc_unlocked),
    W(putwchar),
    W(putwchar_unlocked),
    W(fputws),
    W(fputws_unlocked),
    W(fwprintf),
    W(vfwprintf),
    W(wprintf),
    W(vwprintf),
    {"__fwprintf_chk", (void *)__fwprintf_chk, (void *)w_fwprintf_chk},
    {"__vfwprintf_chk", (void *)__vfwprintf_chk, (void *)w_vfwprintf_chk},
    {"__wprintf_chk", (void *)__wprintf_chk, (void *)w_wprintf_chk},
    {"__vwprintf_chk", (void *)__vwprintf_chk, (void *)w_vwprintf_chk},
};

const struct wrap_fn *capture_wide_wrappers(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}
