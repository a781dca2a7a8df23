/* codec.h - the bytes stored in memcached for one cached call.
 *
 * Layout (all integers little endian):
 *   0  magic      "TXC\x01"         4
 *   4  version    1                  1
 *   5  flags      0 (reserved)       1
 *   6  reserved   0                  2
 *   8  sig digest                    16
 *  24  key digest                    16
 *  40  ns_gen                        8
 *  48  fn_gen                        8
 *  56  cost_ns    real call duration 8
 *  64  payload length                4
 *  68  reserved   0                  4
 *  72  checksum   XXH3-64 of bytes 0..71 and the payload, with this field zero  8
 *  80  payload
 * Payload: the return value (scalar: 8 bytes portable form; string: 1 byte
 * null flag, 4 bytes length, the bytes without NUL), then each
 * out-parameter in order: 1 byte present flag, then when present
 * (OUT_SCALAR: 8 bytes portable form; OUT_STRING, OUT_BYTES: 4 bytes length
 * and the bytes). OUT_FD and OUT_STREAM have an entry too, always present:
 * 4 bytes length and the bytes the call wrote (any bytes, NULs included).
 * Signatures without them encode exactly as before (version 1 unchanged);
 * the signature digest keeps the two layouts apart. Nothing may follow.
 */
#ifndef TXC_CODEC_H
#define TXC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "sig.h"

#define TXC_VALUE_HEADER  80
#define TXC_VALUE_VERSION 1

struct txc_value_meta {
	struct txc_digest sig; /* must equal the reader's signature digest */
	struct txc_digest key; /* must equal the digest of the key read */
	uint64_t ns_gen;       /* generations read before the real call */
	uint64_t fn_gen;
	uint64_t cost_ns; /* how long the real call took */
};

struct txc_out {
	bool present;	  /* the caller passed a non-NULL pointer */
	uint64_t num;	  /* OUT_SCALAR: portable form */
	const void *data; /* OUT_STRING (no NUL), OUT_BYTES, OUT_FD/OUT_STREAM: captured */
	uint64_t len;
};

/* One call's result. Pointers are borrowed: from the call on encode, from
 * the decoded buffer on decode. */
struct txc_result {
	uint64_t ret;			    /* TXC_R_SCALAR: portable form */
	const char *ret_str;		    /* TXC_R_STRING, TXC_R_OWNED_STRING: NULL for NULL */
	uint64_t ret_len;		    /* bytes of ret_str without the NUL */
	struct txc_out out[TXC_MAX_PARAMS]; /* indexed like sig->params */
};

/* Returns the encoded size of RES under SIG, or 0 when a length exceeds
 * 32 bits (such a value cannot be stored). */
size_t codec_size(const struct txc_sig *sig, const struct txc_result *res);

/* Encodes into BUF of CAP bytes. Returns 0 and sets *LEN, or TXC_ETOOBIG
 * when CAP is smaller than codec_size(). BUF is unspecified on failure. */
int codec_encode(const struct txc_sig *sig, const struct txc_value_meta *meta,
		 const struct txc_result *res, uint8_t *buf, size_t cap, size_t *len);

/* Decodes BUF of LEN bytes. Verifies magic, version, length, checksum, that
 * the signature and key digests equal SIG_DIGEST and KEY_DIGEST, and that the
 * payload parses exactly under SIG. Returns 0 and fills *META and *RES (whose
 * pointers point into BUF), or TXC_ECORRUPT on any mismatch, leaving them
 * unspecified. Never reads outside BUF[0..LEN). Generations are not checked
 * here: the caller compares meta->ns_gen and meta->fn_gen. */
int codec_decode(const struct txc_sig *sig, const struct txc_digest *sig_digest,
		 const struct txc_digest *key_digest, const uint8_t *buf, size_t len,
		 struct txc_value_meta *meta, struct txc_result *res);

#endif
