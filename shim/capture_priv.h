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

/* Before fclose(F): F leaves every dirty list (fclose flushes it). */
void capture_forget_stream(FILE *f);

/* write(2) and fwrite(3) with the capture around them, for the wrappers
 * and the replay of a hit (so enclosing frames see it). */
ssize_t capture_write(int fd, const void *buf, size_t n);
size_t capture_fwrite(const void *p, size_t size, size_t n, FILE *f);

/* The table of wrappers, for capture_arm. */
const struct wrap_fn *capture_wrappers(size_t *n);

#endif
