/* fmt.h - a fast subset of snprintf for start-up paths.
 *
 * txc_fmt/txc_vfmt behave exactly like snprintf/vsnprintf: they write at
 * most CAP bytes including the NUL (nothing when CAP is 0) and return the
 * length the whole text would have. Directives handled inline: %s, %.*s,
 * %d, %u, %llu and %%; a format with any other directive is handed to
 * vsnprintf whole. Why: glibc's vsnprintf costs about a thousand
 * instructions per call, and the signature parser and canonical form call
 * it hundreds of times for a 20-function config (README "Start-up").
 */
#ifndef TXC_FMT_H
#define TXC_FMT_H

#include <stdarg.h>
#include <stddef.h>

int txc_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int txc_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
