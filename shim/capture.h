/* capture.h - what a function writes to an "out fd" or "out stream"
 * parameter: captured on a miss, replayed on a hit.
 *
 * On a miss, dispatch pushes one frame per capture parameter on a
 * thread-local stack for the duration of the real call. Wrappers of the
 * write and stdio functions (installed in every module's GOT by
 * capture_arm, only when some configured function has such a parameter)
 * pass each call to libc and append what libc reported written to every
 * frame of the calling thread that the call matches:
 *   out fd N      write, writev, pwrite, send, sendto, sendmsg, dprintf on N,
 *                 and the stdio functions on any stream whose fileno is N;
 *   out stream S  the stdio functions on S (and printf, puts, putchar when S
 *                 is stdout).
 * Stdio bytes are taken at the API level, where the function hands them to
 * the stream. So that they reach N in the order captured, a stream over N
 * that the function wrote to is flushed before the function's next raw
 * write to N and when the call ends (a hit writes with write(2), so both
 * leave nothing of the call in the buffer).
 *
 * A frame never stored: any error or short write on a matching call
 * (captured bytes are exactly those written); a NULL stream.
 * A frame larger than its limit drops its bytes and is reported too big;
 * the writes themselves are never changed.
 * Frames nest: an inner capture's bytes, and an inner hit's replay, land in
 * every enclosing frame that matches. Other threads are never captured.
 *
 * A longjmp or a C++ exception out of a capturing call leaves its frames
 * behind. Frames therefore live in a thread-local array, each naming its
 * call's capture_call (an address in the caller's stack) and a random
 * token that call holds: before any frame is used, the frames whose call is
 * gone are dropped (its capture_call is at or above the current stack
 * frame, or no longer holds the token, or a new call was pushed at or above
 * it) and their buffers freed. Dead frames never store anything.
 */
#ifndef TXC_CAPTURE_H
#define TXC_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "config.h"
#include "sig.h"

#define CAPTURE_DIRTY_MAX 4
#define CAPTURE_ALIAS_MAX 8

/* One run of an out fd's bytes, by how the call wrote them (capture_seg.h). */
struct capture_seg {
	uint8_t tag; /* CAPSEG_RAW, CAPSEG_STDOUT, CAPSEG_STDERR */
	uint32_t len;
};

struct capture_frame {
	uintptr_t owner; /* the capture_call that pushed it (its address) */
	uint64_t token;	 /* equals the owner's token while the owner is alive */
	int param;	 /* index into sig->params */
	bool is_fd;	 /* OUT_FD; otherwise OUT_STREAM */
	int fd;		 /* OUT_FD: the descriptor */
	FILE *stream;	 /* OUT_STREAM: the stream */
	uint8_t *buf;	 /* captured bytes, malloc'ed; NULL when none */
	size_t len, cap, limit;
	bool failed;   /* an error or short write: never stored */
	bool oversize; /* more than LIMIT bytes: dropped */
	int ndirty;    /* OUT_FD: streams over fd with bytes captured, maybe unflushed */
	FILE *dirty[CAPTURE_DIRTY_MAX];
	const char *why; /* set with failed when the output bypassed the capture */
	/* OUT_FD only: */
	bool msg;		      /* message-oriented socket: one segment per write */
	struct capture_seg *segs;     /* malloc'ed; how the bytes were written */
	size_t nsegs, segcap;	      /* (capture_seg.c) */
	int nalias;		      /* fd numbers that refer to the call's description */
	int alias[CAPTURE_ALIAS_MAX]; /* alias[0..nalias); fd is one unless redirected */
	int nother;		      /* fd numbers seen written to that do not */
	int other[CAPTURE_ALIAS_MAX];
	uint64_t dev, ino; /* fd's file at the start (fstat), for copies of */
	bool isreg, known; /* it made before the call (known: fstat worked) */
	bool seekable;	   /* a regular file: its offset is checked at the end */
	int64_t off0;	   /* its offset at the start */
	uint64_t moved;	   /* bytes written that move the offset (not pwrite) */
	uint64_t streamed; /* bytes handed to stdio (reach fd when flushed) */
	uint64_t pwritten; /* bytes written at an offset (a hit writes them) */
	uint64_t pending0; /* stdout/stderr bytes buffered at the start */
};

/* What one capture parameter of a call captured, once the call ended. */
struct capture_out {
	int param;
	uint8_t *buf; /* malloc'ed, owned by the capture_call; NULL when none */
	size_t len;
	bool failed, oversize;
	const char *why; /* with failed: the reason, NULL for a failed write */
};

/* One call's captures; lives on the caller's stack. Its frames live in a
 * thread-local array while the call runs (capture_begin to capture_end). */
struct capture_call {
	uint64_t token; /* proves the call alive to its frames */
	int n, base;
	bool untracked; /* frames nested too deep to track: never stored */
	struct capture_out out[TXC_MAX_PARAMS];
};

/* Installs the wrappers in every loaded module when some function of CFG
 * that is cached (not a mutator) has an out fd or out stream parameter;
 * otherwise does nothing. Idempotent: slots already wrapped stay as they
 * are, so it may run again after a dlopen. Returns 0 or a negative code
 * (then nothing is captured and capture parameters are never stored). */
int capture_arm(const struct txc_config *cfg);

/* True once capture_arm installed the wrappers. */
bool capture_armed(void);

/* Pushes a frame for each capture parameter of SIG (AVALUE as libffi gives
 * the arguments), each keeping at most LIMIT bytes. CC->n is 0 when SIG has
 * none; then capture_end and capture_free do nothing. Never fails: a frame
 * that cannot be used is marked failed. */
void capture_begin(struct capture_call *cc, const struct txc_sig *sig, void *const *avalue,
		   size_t limit);

/* Flushes the streams the call left dirty and pops CC's frames, which must
 * be the thread's innermost. errno is preserved. */
void capture_end(struct capture_call *cc);

/* Points RES->out[i] of every capture parameter at its bytes (borrowed
 * from CC). Returns 0, TXC_ESYS when a write failed or was short (do not
 * store), or TXC_ETOOBIG when a capture exceeded its limit. */
int capture_fill(const struct capture_call *cc, struct txc_result *res);

/* Why CC cannot be stored, for the log: "a write failed or was short" or
 * how the output bypassed the capture. */
const char *capture_fail_reason(const struct capture_call *cc);

/* Frees the captured bytes. */
void capture_free(struct capture_call *cc);

/* Whether capture_replay could serve RES to this call: 0, or TXC_EINVAL
 * for a NULL stream or an out fd whose stdout/stderr runs have no such
 * stream over the caller's descriptor. Writes nothing. */
int capture_replayable(const struct txc_sig *sig, void *const *avalue,
		       const struct txc_result *res);

/* Replays the captured bytes in RES to the descriptors and streams of a
 * hit, in parameter order: write(2) looping over short writes, EINTR and
 * EAGAIN (waiting with poll), or one fwrite through the stream. Enclosing
 * frames capture the replay. Returns 0 when all was written or when a
 * failure came after some bytes went out (logged at warn: the hit stands),
 * TXC_ESYS when nothing could be written (run the real function instead),
 * TXC_EINVAL when capture_replayable refuses (nothing written). */
int capture_replay(const struct txc_sig *sig, void *const *avalue, const struct txc_result *res);

#endif
