/* key.h - memcached keys of calls: "<namespace>:<function>:<32 hex digits>".
 *
 * The digest is XXH3-128 over a length-prefixed, type-tagged encoding of the
 * signature digest and the keyed arguments; with secret_file, a BLAKE2b-128
 * keyed with a subkey of the secret (auth.h) over the same bytes, so that a
 * key can be neither computed nor tested from guessed arguments without it. Every number is written
 * in a fixed width and byte order (little endian, 64 bits, via sig_scalar_load), so a key is the
 * same in every process, run, machine and architecture. Out-parameters add one tagged byte: whether
 * the caller passed NULL, because a function may answer differently without a buffer.
 *
 * Namespaces are at most 100 bytes and function names at most 63, so a key
 * is at most 100 + 1 + 63 + 1 + 32 = 197 bytes: no cutting or hashing of
 * names is ever needed, and keys never carry whitespace or control bytes.
 */
#ifndef TXC_KEY_H
#define TXC_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filekey.h"
#include "sig.h"

#define TXC_KEY_MAX 250
#define TXC_PRF_KEY 32

struct txc_digest {
	uint8_t b[16];
};

struct txc_key {
	char text[TXC_KEY_MAX + 1]; /* NUL-terminated */
	size_t len;
	struct txc_digest digest; /* the digest the text ends with */
};

/* Per-function data computed once at load. */
struct txc_key_fn {
	char prefix[TXC_KEY_MAX + 1]; /* "<ns>:<fn>:" */
	size_t prefix_len;
	struct txc_digest sig_digest; /* XXH3-128 of sig_canonical() */
	const uint8_t *prf;	      /* TXC_PRF_KEY bytes, borrowed; NULL: XXH3 */
};

/* The value of one parameter of a call, as the encoder sees it. */
struct txc_arg {
	uint64_t num;			/* SCALAR: portable form (sig_scalar_load);
					 * INOUT_SCALAR: the value on entry, 0 for NULL */
	const void *ptr;		/* STRING, BYTES: the data, NULL for a NULL pointer;
					 * SYMPTR: the pointer (key_args_from_ffi), then its
					 * text (symptr_args_text) before key_build;
					 * out kinds: the caller's pointer (only NULL-ness is keyed) */
	uint64_t len;			/* STRING: strlen (0 when NULL); BYTES: LEN */
	const struct txc_filekey *file; /* file kinds: the file's state (world.h);
					 * NULL keys as "state unknown" */
};

/* What a key covers besides the arguments (world.h fills it): the values
 * of the key_env variables and the working directory at the call. */
struct txc_key_world {
	int nenv;
	const char *const *env_name; /* NENV names, from the config */
	const char *const *env_val;  /* their values; NULL: unset (not "") */
	const char *cwd;	     /* NULL: key_cwd is off */
	size_t cwd_len;
};

/* Fills *KF for function SIG in namespace NS.
 * Returns 0, or TXC_EINVAL when NS or the name would break the key rules. */
int key_fn_init(struct txc_key_fn *kf, const char *ns, const struct txc_sig *sig);

/* Keys of KF's calls from now on are BLAKE2b keyed with PRF (TXC_PRF_KEY
 * bytes, borrowed: it must outlive KF; NULL: XXH3 again). */
void key_fn_set_prf(struct txc_key_fn *kf, const uint8_t *prf);

/* Converts libffi's argument array (AVALUE[i] points at the i-th argument)
 * into ARGS[0..nparams-1]. Reads strings to find their length. A BYTES
 * length comes from its literal, the referenced parameter's value, or
 * what a referenced inout integer points to.
 * Returns 0, or TXC_EINVAL when a keyed, non-NULL bytes argument has a
 * negative signed length: it would key as 0 bytes, the key of every buffer
 * with that length (PKCS5_PBKDF2_HMAC reads passlen = -1 as "a C string"),
 * so such a call must not be cached. *BAD (when BAD is not NULL) is then
 * that parameter's index; ARGS are filled all the same (that length 0). */
int key_args_from_ffi(const struct txc_sig *sig, void *const *avalue, struct txc_arg *args,
		      int *bad);

/* Builds the key of a call with the keyed arguments ARGS (indexed like
 * sig->params; entries of parameters that are not keyed are ignored, except
 * the NULL-ness of out-parameters) reaching the definition whose identity
 * digest is IDENT (ident.h; never NULL). A SYMPTR argument must already hold
 * its text (symptr.h). A signature with a float or double parameter or
 * return is keyed by the thread's current rounding mode too (fegetround)
 * when it is not FE_TONEAREST. Returns 0; *OUT is always filled. */
int key_build(const struct txc_key_fn *kf, const struct txc_digest *ident,
	      const struct txc_sig *sig, const struct txc_arg *args, struct txc_key *out);

/* key_build with the world W too (NULL: none, as key_build). */
int key_build_world(const struct txc_key_fn *kf, const struct txc_digest *ident,
		    const struct txc_sig *sig, const struct txc_arg *args,
		    const struct txc_key_world *w, struct txc_key *out);

/* key_build under rounding mode MODE (an FE_* rounding constant) instead of
 * the current one: invalidation names a call's key in every mode. */
int key_build_round(const struct txc_key_fn *kf, const struct txc_digest *ident,
		    const struct txc_sig *sig, const struct txc_arg *args, int mode,
		    struct txc_key *out);

/* The rounding modes key_build_round distinguishes, FE_TONEAREST first, and
 * whether SIG's keys depend on the mode at all. */
extern const int key_round_modes[4];
bool key_sig_has_fp(const struct txc_sig *sig);

/* The generation key of one function: "<ns>:<fn>:gen". Its value is a
 * decimal counter; bumping it invalidates every cached call of the function. */
void key_gen_fn(const struct txc_key_fn *kf, struct txc_key *out);

/* An auxiliary key of one function: "<ns>:<fn>:SUFFIX" (SUFFIX at most 8
 * bytes, never 32 hex digits, so it cannot meet a call's key). */
void key_fn_aux(const struct txc_key_fn *kf, const char *suffix, struct txc_key *out);

/* The generation key of a namespace: "<ns>:@gen" ('@' never starts a
 * function name, so it cannot meet a function's keys). */
int key_gen_ns(const char *ns, struct txc_key *out);

/* Writes the 32 lowercase hex digits of D and a NUL into HEX (33 bytes). */
void key_digest_hex(const struct txc_digest *d, char hex[33]);

#endif
