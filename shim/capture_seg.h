/* capture_seg.h - the bytes of an out fd as runs ("segments") of how the
 * call wrote them, so that a hit writes them the same way.
 *
 * A raw segment went to the descriptor itself (write, send...); a stdout or
 * stderr segment went into that stream's buffer (the stream was over the
 * descriptor) and reaches it when the stream is flushed, after whatever the
 * program had buffered before. A hit fwrite()s stream segments to the same
 * stream, so they land after the program's earlier buffered output as they
 * did on the miss, and writes raw segments with write(2). Before a raw
 * segment it flushes the streams earlier segments wrote to, as the miss did
 * before the function's raw write (capture_before_fd).
 *
 * On a message-oriented socket (SOCK_DGRAM, SOCK_SEQPACKET) each write is
 * its own raw segment and is replayed as one write: datagram boundaries are
 * kept. Elsewhere adjacent segments of one kind are merged.
 *
 * The stored layout is in capture_fmt.h.
 */
#ifndef TXC_CAPTURE_SEG_H
#define TXC_CAPTURE_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#include "capture_fmt.h"

enum { CAPSEG_RAW = CAPFMT_RAW, CAPSEG_STDOUT = CAPFMT_STDOUT, CAPSEG_STDERR = CAPFMT_STDERR };

/* Records that N more bytes (N > 0, about to be appended to FR->buf) came
 * as TAG; JOIN: they continue the previous write (a vector's next part).
 * Returns 0, or TXC_ENOMEM / TXC_ETOOBIG (the caller must not store). */
int capseg_note(struct capture_frame *fr, uint8_t tag, size_t n, bool join);

/* Replaces FR->buf/len by the stored layout above and frees FR->segs.
 * Returns 0, TXC_ENOMEM or TXC_ETOOBIG (more than FR->limit bytes); on
 * failure FR->buf is freed and NULL. */
int capseg_pack(struct capture_frame *fr);

/* Checks that BLOB (LEN bytes) is well formed and that every stream it
 * names is over FD in this process (nothing is written). Returns 0, or
 * TXC_ECORRUPT / TXC_ERANGE (run the real function). */
int capseg_check(int fd, const uint8_t *blob, size_t len);

/* Writes BLOB's segments to FD, as described above. Returns 0, or TXC_ESYS
 * with errno set; *WROTE tells whether any byte went out. */
int capseg_replay(int fd, const uint8_t *blob, size_t len, bool *wrote);

#endif
