/* sig.h - the signature language: "int db_get(string user, out string[cap] email, size_t cap)".
 *
 * A parsed signature is a plain value (no heap memory): copy it freely.
 * This module knows nothing of libffi, memcached or the config file, so the
 * parser can be fuzzed on its own.
 */
#ifndef TXC_SIG_H
#define TXC_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXC_MAX_PARAMS 16
#define TXC_NAME_MAX   64 /* identifiers, including the NUL */

/* Scalar types, by value. Order is part of the key format: append only. */
enum txc_type {
	TXC_T_VOID = 0,
	TXC_T_CHAR,
	TXC_T_SCHAR,
	TXC_T_UCHAR,
	TXC_T_SHORT,
	TXC_T_USHORT,
	TXC_T_INT,
	TXC_T_UINT,
	TXC_T_LONG,
	TXC_T_ULONG,
	TXC_T_LLONG,
	TXC_T_ULLONG,
	TXC_T_SIZE,
	TXC_T_SSIZE,
	TXC_T_I8,
	TXC_T_U8,
	TXC_T_I16,
	TXC_T_U16,
	TXC_T_I32,
	TXC_T_U32,
	TXC_T_I64,
	TXC_T_U64,
	TXC_T_BOOL,
	TXC_T_FLOAT,
	TXC_T_DOUBLE,
	TXC_T_COUNT_
};

/* What the C type is on this ABI. */
struct txc_type_info {
	const char *name; /* canonical spelling, e.g. "unsigned long" */
	uint8_t size;	  /* sizeof on this machine */
	bool is_signed;	  /* char follows CHAR_MIN */
	bool is_float;	  /* float and double */
};

/* Returns the facts for T, or NULL when T is out of range. Static storage. */
const struct txc_type_info *sig_type_info(enum txc_type t);

/* Reads the scalar of type T stored at P and returns it widened to 64 bits:
 * signed types sign-extended, unsigned and bool zero-extended, float as its
 * 32 IEEE bits, double as its 64 IEEE bits. This is the portable form used by
 * keys and values, identical on every architecture. */
uint64_t sig_scalar_load(enum txc_type t, const void *p);

/* The inverse: writes exactly sizeof(T) bytes at P from the portable form V. */
void sig_scalar_store(enum txc_type t, uint64_t v, void *p);

enum txc_kind {
	TXC_K_SCALAR,	    /* T name: by value, keyed */
	TXC_K_STRING,	    /* string: const char *, keyed by content, NULL != "" */
	TXC_K_BYTES,	    /* bytes[LEN]: const void *, keyed by content */
	TXC_K_PTR,	    /* ptr: opaque, never keyed, passed through */
	TXC_K_OUT_STRING,   /* out string[CAP]: char * buffer filled with a string */
	TXC_K_OUT_BYTES,    /* out bytes[CAP] or out bytes[CAP:LEN] */
	TXC_K_OUT_SCALAR,   /* out T *: one scalar written through the pointer */
	TXC_K_OUT_FD,	    /* out fd: an int descriptor; what the call writes to it */
	TXC_K_OUT_STREAM,   /* out stream: a FILE *; what the call writes through it */
	TXC_K_SYMPTR,	    /* symptr: a pointer into a library, keyed by where (symptr.h) */
	TXC_K_FILE,	    /* file: a path (const char *), keyed by it and the file's stat */
	TXC_K_FILE_CONTENT, /* file:content: a path, keyed by it and the file's bytes */
	TXC_K_INOUT_SCALAR  /* inout T *: keyed by the value on entry, written back like out T * */
};

/* True for out T * and inout T *: one scalar written through the pointer. */
static inline bool sig_kind_is_out_scalar(enum txc_kind k)
{
	return k == TXC_K_OUT_SCALAR || k == TXC_K_INOUT_SCALAR;
}

/* True for the two file kinds: a string naming a file (filekey.h). */
static inline bool sig_kind_is_file(enum txc_kind k)
{
	return k == TXC_K_FILE || k == TXC_K_FILE_CONTENT;
}

enum txc_ret {
	TXC_R_VOID,	    /* void */
	TXC_R_SCALAR,	    /* a scalar type; see ret_type */
	TXC_R_STRING,	    /* string: char *, storage owned by txcache on a hit, per thread */
	TXC_R_OWNED_STRING, /* owned string: malloc'ed copy on a hit */
	TXC_R_STATIC_STRING /* static string: interned for the life of the process on a hit */
};

/* True for the three kinds that return a char *. */
static inline bool sig_ret_is_string(enum txc_ret r)
{
	return r == TXC_R_STRING || r == TXC_R_OWNED_STRING || r == TXC_R_STATIC_STRING;
}

/* A size given as a number, a parameter, the return value, or read
 * through a pointer ("*name": an out or inout integer scalar; as a CAP or a
 * bytes LEN its value on entry, as the LEN of out bytes its value after
 * the call; a NULL pointer counts as 0). */
enum txc_size_from { TXC_SZ_NONE, TXC_SZ_LITERAL, TXC_SZ_PARAM, TXC_SZ_RET, TXC_SZ_DEREF };
struct txc_size {
	enum txc_size_from from;
	uint64_t literal; /* TXC_SZ_LITERAL */
	int param;	  /* TXC_SZ_PARAM, TXC_SZ_DEREF: index into params */
};

struct txc_param {
	char name[TXC_NAME_MAX]; /* "" when unnamed */
	enum txc_kind kind;
	enum txc_type type;   /* SCALAR, OUT_SCALAR and INOUT_SCALAR */
	struct txc_size size; /* BYTES: LEN; OUT_STRING, OUT_BYTES: CAP */
	struct txc_size len;  /* OUT_BYTES[CAP:LEN]: LEN; otherwise NONE */
	bool keyed;	      /* SCALAR, STRING, BYTES, INOUT_SCALAR: true until ignored */
};

struct txc_sig {
	char name[TXC_NAME_MAX];
	enum txc_ret ret;
	enum txc_type ret_type; /* TXC_R_SCALAR only; TXC_T_VOID otherwise */
	int nparams;
	struct txc_param params[TXC_MAX_PARAMS];
};

/* Parses TEXT into *OUT.
 * Returns 0, or TXC_EINVAL with a one-line reason (no file or line: the
 * caller adds those) written to ERR, at most ERRCAP bytes, NUL-terminated.
 * *OUT is unspecified after a failure.
 * Rules enforced: names unique; LEN/CAP refer to an integer SCALAR parameter
 * (declared before or after) or a number; "ret" only as the LEN of
 * out bytes and only with an integer return; void only as a return type;
 * a returned ptr is rejected (it cannot be cached). */
int sig_parse(const char *text, struct txc_sig *out, char *err, size_t errcap);

/* Typedef names a config adds ([types]: "argon2_type = int"). */
#define TXC_MAX_USER_TYPES 32
struct txc_sig_types {
	int n;
	struct {
		char name[TXC_NAME_MAX];
		enum txc_type type;
	} v[TXC_MAX_USER_TYPES];
};

/* Adds NAME = TARGET (a [types] line: "argon2_type = int") to TYPES.
 * Returns 0, or TXC_EINVAL with a one-line reason in ERR (as sig_parse)
 * and TYPES unchanged: NAME is not an identifier, is a word of C or of
 * the language, a built-in typedef or already in TYPES; TARGET is not a
 * C scalar type (a built-in typedef or an earlier NAME is one); TYPES is
 * full (TXC_MAX_USER_TYPES). */
int sig_types_add(struct txc_sig_types *types, const char *name, const char *target, char *err,
		  size_t errcap);

/* sig_parse with the typedef names of TYPES known too (NULL: none). */
int sig_parse_types(const char *text, const struct txc_sig_types *types, struct txc_sig *out,
		    char *err, size_t errcap);

/* Writes size S of SIG as the canonical text spells it ("16", "ret", "n",
 * "*n"; "?" for none) into BUF of CAP bytes, cut to fit. */
void sig_size_text(const struct txc_sig *sig, const struct txc_size *s, char *buf, size_t cap);

/* Returns the index of the parameter called NAME, or -1. */
int sig_find_param(const struct txc_sig *sig, const char *name);

/* Writes the canonical text of SIG (types and kinds normalised, names kept,
 * size references by name, one space after commas, "[ignored]" after
 * parameters whose keyed flag was cleared) into BUF of CAP bytes.
 * Returns 0, or TXC_ETOOBIG when it does not fit. Two signatures that key
 * differently always have different canonical texts. */
int sig_canonical(const struct txc_sig *sig, char *buf, size_t cap);

/* True when parameter P of SIG contributes to the key as an input: keyed SCALAR,
 * STRING, BYTES, SYMPTR and file parameters. Out-parameters contribute only whether their
 * pointer is NULL; an inout T * its value on entry unless ignored (see key.h), but it
 * is not an input here: it cannot be given by hand or mapped by invalidate. */
bool sig_param_keyed(const struct txc_param *p);

/* True for the out-parameter kinds that are buffers (out string, out bytes,
 * out T *, inout T *). The capture kinds below are not among them. */
bool sig_param_is_out(const struct txc_param *p);

/* True for out fd and out stream: never keyed (like ptr); what the call
 * writes to them is captured and stored with the result (see capture.h). */
bool sig_param_is_capture(const struct txc_param *p);

#endif
