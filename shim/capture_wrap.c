/* capture_wrap.c - the wrappers capture_arm writes into GOT slots.
 *
 * Each wrapper calls the libc function it stands for (the shim's own GOT
 * is never patched, so a plain call reaches libc) and, only when the
 * calling thread has a capture frame, tells capture.c what libc reported
 * written. Raw writes are seen at the syscall-wrapper level; stdio at the
 * API level, because libc's internal flushes never pass through a GOT. The
 * printf family formats once with vsnprintf and hands the bytes to fwrite
 * when, and only when, the stream is being captured.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture_priv.h"

/* glibc's fortified entry points (_FORTIFY_SOURCE programs call these). */
extern int __printf_chk(int flag, const char *fmt, ...);
extern int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
extern int __dprintf_chk(int fd, int flag, const char *fmt, ...);
extern int __vprintf_chk(int flag, const char *fmt, va_list ap);
extern int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
extern int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);

#define IDLE		  (__builtin_expect(capture_top == NULL, 1))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* ---- raw writes ---- */

static ssize_t w_write(int fd, const void *buf, size_t n)
{
	return IDLE ? write(fd, buf, n) : capture_write(fd, buf, n);
}

static ssize_t w_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (IDLE)
		return pwrite(fd, buf, n, off);
	capture_before_fd(fd);
	ssize_t r = pwrite(fd, buf, n, off);
	capture_note_fd(fd, buf, n, r);
	capture_fd_unmoved(fd, r);
	return r;
}

static ssize_t w_pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	if (IDLE)
		return pwrite64(fd, buf, n, off);
	capture_before_fd(fd);
	ssize_t r = pwrite64(fd, buf, n, off);
	capture_note_fd(fd, buf, n, r);
	capture_fd_unmoved(fd, r);
	return r;
}

static ssize_t w_writev(int fd, const struct iovec *iov, int cnt)
{
	if (IDLE)
		return writev(fd, iov, cnt);
	capture_before_fd(fd);
	ssize_t r = writev(fd, iov, cnt);
	capture_note_fdv(fd, iov, cnt, r);
	return r;
}

static ssize_t w_send(int fd, const void *buf, size_t n, int flags)
{
	if (IDLE)
		return send(fd, buf, n, flags);
	capture_before_fd(fd);
	ssize_t r = send(fd, buf, n, flags);
	capture_note_fd(fd, buf, n, r);
	return r;
}

static ssize_t w_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
			socklen_t tolen)
{
	if (IDLE)
		return sendto(fd, buf, n, flags, to, tolen);
	capture_before_fd(fd);
	ssize_t r = sendto(fd, buf, n, flags, to, tolen);
	capture_note_fd(fd, buf, n, r);
	if (to && r >= 0) /* a hit could not send it there */
		capture_bypass_fd(fd, "sendto with an address");
	return r;
}

static ssize_t w_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (IDLE)
		return sendmsg(fd, msg, flags);
	capture_before_fd(fd);
	ssize_t r = sendmsg(fd, msg, flags);
	capture_note_fdv(fd, msg ? msg->msg_iov : NULL, msg ? (int)msg->msg_iovlen : 0, r);
	if (msg && (msg->msg_name || msg->msg_controllen) && r >= 0)
		capture_bypass_fd(fd, "sendmsg with an address or control data");
	return r;
}

/* ---- formatting ---- */

/* Formats into SBUF (CAP bytes) or, when longer, a malloc'ed buffer.
 * Returns the length and *OUT, or -1 (errno set, *OUT unset). */
PRINTF_LIKE(4, 0)
static int format(char *sbuf, size_t cap, char **out, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(sbuf, cap, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -1;
	*out = sbuf;
	if ((size_t)n < cap)
		return n;
	char *m = malloc((size_t)n + 1);
	if (!m)
		return -1;
	vsnprintf(m, (size_t)n + 1, fmt, ap);
	*out = m;
	return n;
}

static void release(char *s, const char *sbuf)
{
	int saved = errno;
	if (s != sbuf)
		free(s);
	errno = saved;
}

/* vdprintf on a captured thread: every byte through capture_write. Like
 * glibc, a short write is continued and an error ends it with -1. */
PRINTF_LIKE(2, 0)
static int dprintf_captured(int fd, const char *fmt, va_list ap)
{
	char sbuf[512], *s;
	int n = format(sbuf, sizeof(sbuf), &s, fmt, ap);
	if (n < 0)
		return -1;
	size_t off = 0;
	while (off < (size_t)n) {
		ssize_t r = capture_write(fd, s + off, (size_t)n - off);
		if (r <= 0) {
			n = -1;
			break;
		}
		off += (size_t)r;
	}
	release(s, sbuf);
	return n;
}

/* vfprintf on a captured stream: format, then fwrite what was formatted. */
PRINTF_LIKE(2, 0)
static int fprintf_captured(FILE *f, const char *fmt, va_list ap)
{
	char sbuf[512], *s;
	int n = format(sbuf, sizeof(sbuf), &s, fmt, ap);
	if (n < 0) {
		capture_note_stream(f, NULL, 0, true);
		return -1;
	}
	size_t w = capture_fwrite(s, 1, (size_t)n, f);
	release(s, sbuf);
	return w < (size_t)n ? -1 : n;
}

PRINTF_LIKE(2, 0)
static int w_vdprintf(int fd, const char *fmt, va_list ap)
{
	return IDLE ? vdprintf(fd, fmt, ap) : dprintf_captured(fd, fmt, ap);
}

PRINTF_LIKE(2, 3)
static int w_dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF_LIKE(3, 0)
static int w_vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return IDLE ? __vdprintf_chk(fd, flag, fmt, ap) : dprintf_captured(fd, fmt, ap);
}

PRINTF_LIKE(3, 4)
static int w_dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF_LIKE(2, 0)
static int w_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	if (IDLE || !capture_watches(f))
		return vfprintf(f, fmt, ap);
	return fprintf_captured(f, fmt, ap);
}

PRINTF_LIKE(2, 3)
static int w_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF_LIKE(1, 0)
static int w_vprintf(const char *fmt, va_list ap)
{
	return w_vfprintf(stdout, fmt, ap);
}

PRINTF_LIKE(1, 2)
static int w_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF_LIKE(3, 0)
static int w_vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	if (IDLE || !capture_watches(f))
		return __vfprintf_chk(f, flag, fmt, ap);
	return fprintf_captured(f, fmt, ap);
}

PRINTF_LIKE(3, 4)
static int w_fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

PRINTF_LIKE(2, 0)
static int w_vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return w_vfprintf_chk(stdout, flag, fmt, ap);
}

PRINTF_LIKE(2, 3)
static int w_printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = w_vfprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- the rest of stdio ---- */

static size_t w_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	return IDLE ? fwrite(p, size, n, f) : capture_fwrite(p, size, n, f);
}

static size_t w_fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f)
{
	if (IDLE)
		return fwrite_unlocked(p, size, n, f);
	size_t r = fwrite_unlocked(p, size, n, f);
	capture_note_stream(f, p, r * size, r < n);
	return r;
}

static void note_string(FILE *f, const char *s, int r, bool newline)
{
	capture_note_stream(f, s, r == EOF ? 0 : strlen(s), r == EOF);
	if (newline && r != EOF)
		capture_note_stream(f, "\n", 1, false);
}

static int w_fputs(const char *s, FILE *f)
{
	if (IDLE)
		return fputs(s, f);
	int r = fputs(s, f);
	note_string(f, s, r, false);
	return r;
}

static int w_fputs_unlocked(const char *s, FILE *f)
{
	if (IDLE)
		return fputs_unlocked(s, f);
	int r = fputs_unlocked(s, f);
	note_string(f, s, r, false);
	return r;
}

static int w_puts(const char *s)
{
	if (IDLE)
		return puts(s);
	int r = puts(s);
	note_string(stdout, s, r, true);
	return r;
}

static void note_char(FILE *f, int c, int r)
{
	unsigned char ch = (unsigned char)c;
	capture_note_stream(f, &ch, r == EOF ? 0 : 1, r == EOF);
}

#define CHAR_WRAPPER(name, call, stream)                                                           \
	static int w_##name(int c, FILE *f)                                                        \
	{                                                                                          \
		(void)f;                                                                           \
		if (IDLE)                                                                          \
			return call;                                                               \
		int r = call;                                                                      \
		note_char(stream, c, r);                                                           \
		return r;                                                                          \
	}

CHAR_WRAPPER(fputc, fputc(c, f), f)
CHAR_WRAPPER(putc, putc(c, f), f)
CHAR_WRAPPER(fputc_unlocked, fputc_unlocked(c, f), f)
CHAR_WRAPPER(putc_unlocked, putc_unlocked(c, f), f)

static int w_putchar(int c)
{
	if (IDLE)
		return putchar(c);
	int r = putchar(c);
	note_char(stdout, c, r);
	return r;
}

static int w_putchar_unlocked(int c)
{
	if (IDLE)
		return putchar_unlocked(c);
	int r = putchar_unlocked(c);
	note_char(stdout, c, r);
	return r;
}

static int w_fclose(FILE *f)
{
	if (IDLE)
		return fclose(f);
	int fd = fileno_unlocked(f);
	capture_forget_stream(f);
	int r = fclose(f);
	capture_fd_closed(fd); /* closed inside libc, by no wrapper */
	return r;
}

#define W(name) WRAP_FN(name)

static const struct wrap_fn table[] = {
    W(write),
    W(pwrite),
    W(pwrite64),
    W(writev),
    W(send),
    W(sendto),
    W(sendmsg),
    W(dprintf),
    W(vdprintf),
    {"__dprintf_chk", (void *)__dprintf_chk, (void *)w_dprintf_chk},
    {"__vdprintf_chk", (void *)__vdprintf_chk, (void *)w_vdprintf_chk},
    W(fprintf),
    W(vfprintf),
    W(printf),
    W(vprintf),
    {"__fprintf_chk", (void *)__fprintf_chk, (void *)w_fprintf_chk},
    {"__vfprintf_chk", (void *)__vfprintf_chk, (void *)w_vfprintf_chk},
    {"__printf_chk", (void *)__printf_chk, (void *)w_printf_chk},
    {"__vprintf_chk", (void *)__vprintf_chk, (void *)w_vprintf_chk},
    W(fwrite),
    W(fwrite_unlocked),
    W(fputs),
    W(fputs_unlocked),
    W(puts),
    W(fputc),
    W(putc),
    W(fputc_unlocked),
    W(putc_unlocked),
    W(putchar),
    W(putchar_unlocked),
    W(fclose),
};

/* This table, capture_wrap_fd.c's and capture_wrap_wide.c's. Built once, at the first arming
 * (start-up: no other thread arms). */
const struct wrap_fn *capture_wrappers(size_t *n)
{
	static struct wrap_fn all[WRAP_MAX];
	static size_t nall;
	if (nall == 0) {
		size_t nfd, nwide, nt = sizeof(table) / sizeof(table[0]);
		const struct wrap_fn *fd = capture_fd_wrappers(&nfd);
		const struct wrap_fn *wide = capture_wide_wrappers(&nwide);
		if (nt + nfd + nwide > WRAP_MAX)
			nfd = nwide = 0; /* not with WRAP_MAX as it is */
		memcpy(all, table, sizeof(table));
		memcpy(all + nt, fd, nfd * sizeof(*fd));
		memcpy(all + nt + nfd, wide, nwide * sizeof(*wide));
		nall = nt + nfd + nwide;
	}
	*n = nall;
	return all;
}
