/* fmt.c - a fast subset of snprintf (see fmt.h). */
#include <stdio.h>
#include <string.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap, len; /* len counts every byte, written or not */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 < o->cap) {
		size_t room = o->cap - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put_u(struct out *o, unsigned long long v, int neg)
{
	char d[24];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		d[--i] = '-';
	put(o, d + i, sizeof(d) - i);
}

/* One directive after '%' at *F; returns -1 for one it does not handle. */
static int directive(struct out *o, const char **f, va_list *ap)
{
	const char *p = *f;
	if (p[0] == 's') {
		const char *s = va_arg(*ap, const char *);
		put(o, s, strlen(s));
	} else if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
		int prec = va_arg(*ap, int);
		const char *s = va_arg(*ap, const char *);
		put(o, s, prec < 0 ? strlen(s) : strnlen(s, (size_t)prec));
		p += 2;
	} else if (p[0] == 'd') {
		int v = va_arg(*ap, int);
		put_u(o, v < 0 ? -(unsigned long long)v : (unsigned long long)v, v < 0);
	} else if (p[0] == 'u') {
		put_u(o, va_arg(*ap, unsigned), 0);
	} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') {
		put_u(o, va_arg(*ap, unsigned long long), 0);
		p += 2;
	} else if (p[0] == '%') {
		put(o, "%", 1);
	} else {
		return -1;
	}
	*f = p + 1;
	return 0;
}

int txc_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = {buf, cap, 0};
	va_list cp, mine;
	va_copy(cp, ap);
	va_copy(mine, ap);
	const char *f = fmt;
	while (*f) {
		const char *pct = strchr(f, '%');
		size_t n = pct ? (size_t)(pct - f) : strlen(f);
		put(&o, f, n);
		f += n;
		if (!pct)
			break;
		f++;
		if (directive(&o, &f, &mine) < 0) {
			va_end(mine);
			int r = vsnprintf(buf, cap, fmt, cp);
			va_end(cp);
			return r;
		}
	}
	va_end(mine);
	va_end(cp);
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len > (size_t)__INT_MAX__ ? -1 : (int)o.len;
}

int txc_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = txc_vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return r;
}
