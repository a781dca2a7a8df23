/* capture_fmt.h - the stored layout of an out fd capture (value format 3),
 * shared by the codec (which checks it on decode) and capture_seg.c (which
 * writes and replays it). Pure functions: no I/O, no state.
 *
 *   4 bytes nseg, then nseg times (1 byte tag, 4 bytes length), then the
 *   bytes; the lengths add up to the rest exactly. Little endian. Tags:
 *   CAPFMT_RAW (written to the descriptor), CAPFMT_STDOUT, CAPFMT_STDERR
 *   (handed to that stream over the descriptor); see capture_seg.h.
 */
#ifndef TXC_CAPTURE_FMT_H
#define TXC_CAPTURE_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { CAPFMT_RAW = 0, CAPFMT_STDOUT = 1, CAPFMT_STDERR = 2, CAPFMT_TAG_MAX = 2 };

#define CAPFMT_SEG_BYTES 5 /* tag + length */

/* True when BLOB (LEN bytes) is a well-formed capture: every tag known,
 * lengths adding up, nothing left over. */
bool capfmt_valid(const uint8_t *blob, size_t len);

/* Little-endian 32-bit load and store. */
uint32_t capfmt_get32(const uint8_t *p);
void capfmt_put32(uint8_t *p, uint32_t v);

#endif
