/* codec.h - the bytes stored in memcached for one cached call.
 *
 * Layout, version 5 (all integers little endian):
 *   0  magic      "TXC\x01"         4
 *   4  version    5                  1
 *   5  flags      bit 0: errno stored; bit 1: outs not stored (outs_if
 *                 failed: every out scalar / string / bytes entry is
 *                 absent, flag 0); other bits 0      1
 *   6  fp flags   the floating-point exceptions the real call raised:
 *                 1 inexact, 2 underflow, 4 overflow, 8 divide by zero,
 *                 16 invalid (fpenv.h); other bits 0     1
 *   7  reserved   0                  1
 *   8  sig digest                    16
 *  24  key digest                    16
 *  40  ns_gen                        8
 *  48  fn_gen                        8
 *  56  cost_ns    real call duration 8
 *  64  payload length                4
 *  68  errno      the errno the real call set (int32), 0 unless flags bit 0   4
 *  72  checksum   XXH3-64 of the whole value, with this field zero  8
 *  80  fresh_until  CLOCK_REALTIME ns since the epoch after which the value
 *                 is stale (store time + ttl; fresh.h); 0 = never   8
 *  88  payload
 * Payload: the return value (scalar: 8 bytes portable form; string, owned
 * string, static string: 1 byte null flag, then unless null 4 bytes length
 * and the bytes without NUL), then each out-parameter in order: 1 byte
 * present flag, then when present (OUT_SCALAR: 8 bytes portable form;
 * OUT_STRING, OUT_BYTES: 8 bytes capacity, the CAP the real call was given,
 * then 4 bytes length and the bytes). OUT_FD and OUT_STREAM have an entry
 * too, always present: 4 bytes length and the bytes the call wrote (any
 * bytes, NULs included); for OUT_FD those bytes are the segmented layout of
 * capture_fmt.h, checked on decode. Nothing may follow.
 *
 * Checked against the signature on decode: an out string's length + 1 and
 * an out bytes' length are at most its stored capacity; a literal CAP equals
 * the stored capacity; out bytes[CAP] holds exactly CAP bytes; out
 * bytes[CAP:ret] holds min(ret, CAP) bytes (a negative ret counting as 0)
 * and out bytes[CAP:N], N a number, min(N, CAP): exactly as the miss path
 * stores them. out bytes[CAP:param] is checked at
 * hit time (result.h), where the parameter's value is known.
 *
 * Versions 1 (no errno, no capacities), 2 (OUT_FD stored as plain bytes),
 * 3 (no fp flags: a hit would not raise them) and 4 (no fresh_until: stale
 * = SECONDS could not tell its age) decode as TXC_ENOTFOUND: a miss whose
 * real call overwrites it.
 */
#ifndef TXC_CODEC_H
#define TXC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "sig.h"

#define TXC_VALUE_HEADER  88
#define TXC_VALUE_VERSION 5
#define TXC_FE_ALL	  0x1f /* the fp flags bits of byte 6 */

struct txc_value_meta {
	struct txc_digest sig; /* must equal the reader's signature digest */
	struct txc_digest key; /* must equal the digest of the key read */
	uint64_t ns_gen;       /* generations read before the real call */
	uint64_t fn_gen;
	uint64_t cost_ns;     /* how long the real call took */
	uint64_t fresh_until; /* CLOCK_REALTIME ns; 0 = never stale (fresh.h) */
};

struct txc_out {
	bool present;	  /* the caller passed a non-NULL pointer */
	uint64_t num;	  /* OUT_SCALAR: portable form */
	const void *data; /* OUT_STRING (no NUL), OUT_BYTES, OUT_FD/OUT_STREAM: captured */
	uint64_t len;
	uint64_t cap; /* OUT_STRING, OUT_BYTES: the capacity the real call was given
		       * (UINT64_MAX: unbounded, e.g. txcache set without one) */
};

/* One call's result. Pointers are borrowed: from the call on encode, from
 * the decoded buffer on decode. */
struct txc_result {
	uint64_t ret;			    /* TXC_R_SCALAR: portable form */
	const char *ret_str;		    /* TXC_R_STRING, TXC_R_OWNED_STRING: NULL for NULL */
	uint64_t ret_len;		    /* bytes of ret_str without the NUL */
	struct txc_out out[TXC_MAX_PARAMS]; /* indexed like sig->params */
	bool err_set;			    /* the real call set errno (to err) */
	int32_t err;			    /* that errno; 0 when !err_set */
	uint8_t fe_raised;		    /* fp flags the real call raised (byte 6) */
	bool outs_dropped; /* flags bit 1: buffer outs not stored (every out[i].present
			    * false for them); a hit leaves the caller's buffers */
};

/* Returns the encoded size of RES under SIG, or 0 when a length exceeds
 * 32 bits (such a value cannot be stored). */
size_t codec_size(const struct txc_sig *sig, const struct txc_result *res);

/* Encodes into BUF of CAP bytes. Returns 0 and sets *LEN; TXC_ETOOBIG when
 * CAP is smaller than codec_size() (or a length exceeds 32 bits); TXC_EINVAL
 * for what decode would reject: a string holding a NUL, or an out length
 * that disagrees with its capacity or the signature (see the layout). BUF
 * is unspecified on failure. RES->err is written only when RES->err_set. */
int codec_encode(const struct txc_sig *sig, const struct txc_value_meta *meta,
		 const struct txc_result *res, uint8_t *buf, size_t cap, size_t *len);

/* Decodes BUF of LEN bytes. Verifies magic, version, length, checksum, that
 * the signature and key digests equal SIG_DIGEST and KEY_DIGEST, that the
 * payload parses exactly under SIG and that its lengths agree with the
 * signature (see the layout above). Returns 0 and fills *META and *RES
 * (whose pointers point into BUF); TXC_ENOTFOUND for a value of another
 * format version (magic intact: written by an older or newer txcache); or
 * TXC_ECORRUPT on any other mismatch. *META and *RES are unspecified after
 * a failure. Never reads outside BUF[0..LEN). Generations are not checked
 * here: the caller compares meta->ns_gen and meta->fn_gen. */
int codec_decode(const struct txc_sig *sig, const struct txc_digest *sig_digest,
		 const struct txc_digest *key_digest, const uint8_t *buf, size_t len,
		 struct txc_value_meta *meta, struct txc_result *res);

#endif
