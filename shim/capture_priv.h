/* capture_priv.h - between capture.c (frames, replay, arming) and
 * capture_wrap.c (the wrappers). Not for other modules. */
#ifndef TXC_CAPTURE_PRIV_H
#define TXC_CAPTURE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "capture.h"
#include "wrap.h"

/* The calling thread's innermost frame; NULL when nothing is captured, which
 * is the wrappers' whole fast path. */
extern __thread struct capture_frame *capture_top __attribute__((tls_model("initial-exec")));

/* Drops dead frames (capture.h); the frame outside FR, or NULL. For
 * walking the frames from capture_top outwards. */
void capture_prune(void);
struct capture_frame *capture_outer(struct capture_frame *fr);

/* ---- capture_track.c: what the out fd refers to ---- */

/* True when FR is an out fd frame and FD currently refers to the open file
 * description FR's descriptor referred to when the call began. */
bool capture_frame_has_fd(const struct capture_frame *fr, int fd);

/* capture_frame_has_fd; when false and FD is the same file as FR's
 * descriptor by other means (a copy made before the call, a separate
 * open), marks FR never stored (see capture_track.c). */
bool capture_frame_claims(struct capture_frame *fr, int fd);

/* FR forgets the fd numbers LO..HI (closed or reused). */
void capture_fd_closed_in(struct capture_frame *fr, unsigned lo, unsigned hi);

/* At capture_begin of an out fd frame: its aliases, whether it is a
 * message-oriented socket, its file offset. */
void capture_fd_start(struct capture_frame *fr);

/* At capture_end: packs the segments; marks FR failed (never stored) when
 * its descriptor does not refer to its description any more, or when a
 * regular file's offset moved by more than the call could have written
 * through the wrappers. */
void capture_fd_finish(struct capture_frame *fr);

/* After dup/dup2/dup3/fcntl(F_DUPFD) returned NEWFD (>= 0) as a copy of
 * OLDFD: NEWFD joins the frames OLDFD belongs to and leaves the others. */
void capture_fd_dup(int oldfd, int newfd);

/* After FD was closed (or reopened on another file): it leaves every frame.
 * The range form for close_range. */
void capture_fd_closed(int fd);
void capture_fd_closed_range(unsigned lo, unsigned hi);

/* After a positioned write (pwrite...) of R bytes to FD was noted: they did
 * not move the file offset. */
void capture_fd_unmoved(int fd, ssize_t r);

/* Output to FD went by a path the capture cannot see (sendfile, splice...):
 * every frame FD belongs to is never stored; WHY is logged. */
void capture_bypass_fd(int fd, const char *why);

/* Before a kernel copy (sendfile, splice, copy_file_range) from IN: where
 * its bytes start (*OFF when given, else IN's offset), or -1 when IN is not
 * a regular file (they could not be read again). errno is preserved. */
int64_t capture_copy_start(int in, const int64_t *off);

/* After such a copy moved R bytes from IN at AT to OUT: reads them again
 * from IN (pread) and captures them as written to OUT; when that is not
 * possible (AT -1, a read fails) OUT's frames are bypassed with WHY. */
void capture_note_copy(int out, int in, int64_t at, ssize_t r, const char *why);

/* A child process may write to any inherited descriptor: every frame of
 * the thread is never stored. */
void capture_bypass_all(const char *why);

/* Before a raw write to FD: flushes the streams over FD that frames hold
 * dirty, so earlier stdio output of the call reaches FD first. */
void capture_before_fd(int fd);

/* After a raw write of N bytes at BUF to FD that returned R: appends the
 * bytes written (R > 0) to the matching frames; R < N marks them failed. */
void capture_note_fd(int fd, const void *buf, size_t n, ssize_t r);

/* The same for a vector: appends the first R bytes of IOV. */
void capture_note_fdv(int fd, const struct iovec *iov, int cnt, ssize_t r);

/* True when a frame of this thread matches stream F. */
bool capture_watches(FILE *f);

/* After a stdio call on F accepted LEN bytes at BUF (FAILED: it reported
 * an error or accepted less than asked): appends them to the matching
 * frames and marks F dirty in the fd frames. */
void capture_note_stream(FILE *f, const void *buf, size_t len, bool failed);

/* Output to F went by a path the capture does not take apart (wide
 * characters): every frame F matches is never stored; WHY is logged. */
void capture_bypass_stream(FILE *f, const char *why);

/* Before fclose(F): F leaves every dirty list (fclose flushes it). */
void capture_forget_stream(FILE *f);

/* write(2) and fwrite(3) with the capture around them, for the wrappers
 * and the replay of a hit (so enclosing frames see it). */
ssize_t capture_write(int fd, const void *buf, size_t n);
size_t capture_fwrite(const void *p, size_t size, size_t n, FILE *f);

/* The table of wrappers, for capture_arm: capture_wrap.c's (writes and
 * stdio), capture_wrap_fd.c's (descriptor copies, unseen write paths,
 * child processes) and capture_wrap_wide.c's (wide-character stdio). */
const struct wrap_fn *capture_wrappers(size_t *n);
const struct wrap_fn *capture_fd_wrappers(size_t *n);
const struct wrap_fn *capture_wide_wrappers(size_t *n);

#endif
