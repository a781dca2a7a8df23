/* capture_wrap_fd.c - the capture wrappers that are not writes: copies and
 * closes of descriptors (so a frame follows what its out fd refers to),
 * write paths whose bytes the shim cannot see (the frame is then never
 * stored), and child processes (which inherit the descriptors).
 *
 * sendfile, copy_file_range and splice move bytes from another descriptor
 * inside the kernel: from a regular file they are read again (pread at the
 * offset the copy started from) and captured; from a pipe or socket they
 * are gone, and so are tee's (pipe to pipe), so those mark the frames of
 * their output descriptor. vmsplice maps the caller's pages into a pipe
 * (the reader sees them as they are when it reads): it marks them too.
 * pwritev and sendmmsg carry their bytes and are captured like writev and
 * sendmsg.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture_priv.h"

#define IDLE (__builtin_expect(capture_top == NULL, 1))

static const char child_why[] = "a child process was started during the call";

/* ---- unseen write paths ---- */

static const char sendfile_why[] = "sendfile from a non-regular file wrote to the descriptor";

static ssize_t w_sendfile(int out, int in, off_t *off, size_t n)
{
	if (IDLE)
		return sendfile(out, in, off, n);
	capture_before_fd(out);
	int64_t o = off ? (int64_t)*off : 0, at = capture_copy_start(in, off ? &o : NULL);
	ssize_t r = sendfile(out, in, off, n);
	capture_note_copy(out, in, at, r, sendfile_why);
	return r;
}

static ssize_t w_sendfile64(int out, int in, off64_t *off, size_t n)
{
	if (IDLE)
		return sendfile64(out, in, off, n);
	capture_before_fd(out);
	int64_t o = off ? (int64_t)*off : 0, at = capture_copy_start(in, off ? &o : NULL);
	ssize_t r = sendfile64(out, in, off, n);
	capture_note_copy(out, in, at, r, sendfile_why);
	return r;
}

/* OOUT given: OUT's own offset does not move */
static ssize_t w_copy_file_range(int in, off64_t *oin, int out, off64_t *oout, size_t n,
				 unsigned flags)
{
	if (IDLE)
		return copy_file_range(in, oin, out, oout, n, flags);
	capture_before_fd(out);
	int64_t o = oin ? (int64_t)*oin : 0, at = capture_copy_start(in, oin ? &o : NULL);
	ssize_t r = copy_file_range(in, oin, out, oout, n, flags);
	capture_note_copy(out, in, at, r, "copy_file_range wrote to the descriptor");
	if (oout)
		capture_fd_unmoved(out, r);
	return r;
}

static ssize_t w_splice(int in, off64_t *oin, int out, off64_t *oout, size_t n, unsigned flags)
{
	if (IDLE)
		return splice(in, oin, out, oout, n, flags);
	capture_before_fd(out);
	int64_t o = oin ? (int64_t)*oin : 0, at = capture_copy_start(in, oin ? &o : NULL);
	ssize_t r = splice(in, oin, out, oout, n, flags);
	capture_note_copy(out, in, at, r, "splice from a pipe wrote to the descriptor");
	if (oout)
		capture_fd_unmoved(out, r);
	return r;
}

static ssize_t w_tee(int in, int out, size_t n, unsigned flags)
{
	ssize_t r = tee(in, out, n, flags);
	if (!IDLE && r > 0)
		capture_bypass_fd(out, "tee wrote to the descriptor");
	return r;
}

static ssize_t w_vmsplice(int fd, const struct iovec *iov, size_t cnt, unsigned flags)
{
	if (IDLE)
		return vmsplice(fd, iov, cnt, flags);
	capture_before_fd(fd);
	ssize_t r = vmsplice(fd, iov, cnt, flags);
	if (r > 0)
		capture_bypass_fd(fd, "vmsplice wrote to the descriptor");
	return r;
}

/* ---- positioned vectors and message batches: captured ---- */

static ssize_t note_pwritev(int fd, const struct iovec *iov, int cnt, ssize_t r, bool moves)
{
	capture_note_fdv(fd, iov, cnt, r);
	if (!moves)
		capture_fd_unmoved(fd, r);
	return r;
}

static ssize_t w_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (IDLE)
		return pwritev(fd, iov, cnt, off);
	capture_before_fd(fd);
	return note_pwritev(fd, iov, cnt, pwritev(fd, iov, cnt, off), false);
}

static ssize_t w_pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	if (IDLE)
		return pwritev64(fd, iov, cnt, off);
	capture_before_fd(fd);
	return note_pwritev(fd, iov, cnt, pwritev64(fd, iov, cnt, off), false);
}

/* offset -1: at (and moving) the file offset, like writev */
static ssize_t w_pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (IDLE)
		return pwritev2(fd, iov, cnt, off, flags);
	capture_before_fd(fd);
	return note_pwritev(fd, iov, cnt, pwritev2(fd, iov, cnt, off, flags), off == -1);
}

static ssize_t w_pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	if (IDLE)
		return pwritev64v2(fd, iov, cnt, off, flags);
	capture_before_fd(fd);
	return note_pwritev(fd, iov, cnt, pwritev64v2(fd, iov, cnt, off, flags), off == -1);
}

static int w_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	if (IDLE)
		return sendmmsg(fd, v, n, flags);
	capture_before_fd(fd);
	int r = sendmmsg(fd, v, n, flags);
	for (int i = 0; i < r; i++) {
		const struct msghdr *m = &v[i].msg_hdr;
		capture_note_fdv(fd, m->msg_iov, (int)m->msg_iovlen, (ssize_t)v[i].msg_len);
		if (m->msg_name || m->msg_controllen)
			capture_bypass_fd(fd, "sendmmsg with an address or control data");
	}
	if (r >= 0 && (unsigned)r < n) /* the rest was not sent: a short write */
		capture_note_fd(fd, NULL, 1, 0);
	return r;
}

/* ---- descriptor copies and closes ---- */

static int w_dup(int fd)
{
	int r = dup(fd);
	if (!IDLE && r >= 0)
		capture_fd_dup(fd, r);
	return r;
}

static int w_dup2(int fd, int to)
{
	int r = dup2(fd, to);
	if (!IDLE && r >= 0)
		capture_fd_dup(fd, r);
	return r;
}

static int w_dup3(int fd, int to, int flags)
{
	int r = dup3(fd, to, flags);
	if (!IDLE && r >= 0)
		capture_fd_dup(fd, r);
	return r;
}

/* Every fcntl argument is an int or a pointer: passed on as glibc does. */
#define FCNTL_WRAPPER(name)                                                                        \
	static int w_##name(int fd, int cmd, ...)                                                  \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, cmd);                                                                 \
		void *arg = va_arg(ap, void *);                                                    \
		va_end(ap);                                                                        \
		int r = name(fd, cmd, arg);                                                        \
		if (!IDLE && r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))                 \
			capture_fd_dup(fd, r);                                                     \
		return r;                                                                          \
	}

FCNTL_WRAPPER(fcntl)
FCNTL_WRAPPER(fcntl64)

static int w_close(int fd)
{
	int r = close(fd);
	if (!IDLE) /* closed even when it reports EINTR (Linux) */
		capture_fd_closed(fd);
	return r;
}

static int w_close_range(unsigned lo, unsigned hi, int flags)
{
	int r = close_range(lo, hi, flags);
	if (!IDLE && r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		capture_fd_closed_range(lo, hi);
	return r;
}

/* freopen closes the stream's descriptor and opens a file in its place. */
static FILE *w_freopen(const char *path, const char *mode, FILE *f)
{
	if (IDLE || !path)
		return freopen(path, mode, f);
	int fd = f ? fileno(f) : -1;
	FILE *r = freopen(path, mode, f);
	capture_fd_closed(fd);
	return r;
}

static FILE *w_freopen64(const char *path, const char *mode, FILE *f)
{
	if (IDLE || !path)
		return freopen64(path, mode, f);
	int fd = f ? fileno(f) : -1;
	FILE *r = freopen64(path, mode, f);
	capture_fd_closed(fd);
	return r;
}

/* ---- child processes: marked before, so a forked child's frames are
 * marked too ---- */

static void note_child(void)
{
	if (!IDLE)
		capture_bypass_all(child_why);
}

static pid_t w_fork(void)
{
	note_child();
	return fork();
}

static pid_t w__Fork(void)
{
	note_child();
	return _Fork();
}

static int w_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			 const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	note_child();
	return posix_spawn(pid, path, fa, at, argv, envp);
}

static int w_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	note_child();
	return posix_spawnp(pid, file, fa, at, argv, envp);
}

static int w_system(const char *cmd)
{
	note_child();
	return system(cmd);
}

static FILE *w_popen(const char *cmd, const char *mode)
{
	note_child();
	return popen(cmd, mode);
}

/* vfork's child runs on its parent's stack until it execs: a wrapper with
 * a stack frame of its own would be overwritten under the parent. The
 * wrapper is therefore a few instructions that note the child and jump to
 * vfork with the caller's frame. Other architectures do not wrap vfork. */
void capture_note_vfork(void);
void capture_note_vfork(void)
{
	note_child();
}

#if defined(__x86_64__)
void txc_w_vfork(void);
__asm__(".text\n"
	".globl txc_w_vfork\n"
	".hidden txc_w_vfork\n"
	".type txc_w_vfork, @function\n"
	"txc_w_vfork:\n"
	"	endbr64\n" /* a no-op unless indirect branch tracking is on */
	"	sub $8, %rsp\n"
	"	call capture_note_vfork\n"
	"	add $8, %rsp\n"
	"	jmp vfork@PLT\n"
	".size txc_w_vfork, .-txc_w_vfork\n");
#define VFORK_WRAPPER 1
#elif defined(__aarch64__)
void txc_w_vfork(void);
__asm__(".text\n"
	".globl txc_w_vfork\n"
	".hidden txc_w_vfork\n"
	".type txc_w_vfork, %function\n"
	"txc_w_vfork:\n"
	"	hint #34\n" /* bti c: a no-op unless branch target identification is on */
	"	stp x29, x30, [sp, -16]!\n"
	"	mov x29, sp\n"
	"	bl capture_note_vfork\n"
	"	ldp x29, x30, [sp], 16\n"
	"	b vfork\n"
	".size txc_w_vfork, .-txc_w_vfork\n");
#define VFORK_WRAPPER 1
#endif

#define W(name) WRAP_FN(name)

static const struct wrap_fn table[] = {
    W(sendfile),
    W(sendfile64),
    W(copy_file_range),
    W(splice),
    W(tee),
    W(vmsplice),
    W(pwritev),
    W(pwritev64),
    W(pwritev2),
    W(pwritev64v2),
    W(sendmmsg),
    W(dup),
    W(dup2),
    W(dup3),
    W(fcntl),
    W(fcntl64),
    W(close),
    W(close_range),
    W(freopen),
    W(freopen64),
    W(fork),
    W(_Fork),
    W(posix_spawn),
    W(posix_spawnp),
    W(system),
    W(popen),
#ifdef VFORK_WRAPPER
    {"vfork", (void *)vfork, (void *)txc_w_vfork},
#endif
};

const struct wrap_fn *capture_fd_wrappers(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}
