/* sigtypes.c - built-in typedef names (see sigtypes.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <wchar.h>

#include <sys/socket.h>

#include "sigtypes.h"

/* The C base type with the size and signedness of CTYPE on this ABI, so
 * that a typedef whose definition differs between architectures (nlink_t,
 * blksize_t, wchar_t) is read at the width the library uses here. int is
 * preferred to long, long to long long, as glibc defines them on LP64. */
#define SIGNED_OF(ctype) ((ctype)-1 < (ctype)1)
#define BASE_OF(ctype)                                                                             \
	(SIGNED_OF(ctype) ? (sizeof(ctype) == sizeof(int)	  ? TXC_T_INT                      \
			     : sizeof(ctype) == sizeof(long)	  ? TXC_T_LONG                     \
			     : sizeof(ctype) == sizeof(long long) ? TXC_T_LLONG                    \
			     : sizeof(ctype) == sizeof(short)	  ? TXC_T_SHORT                    \
								  : TXC_T_SCHAR)                       \
			  : (sizeof(ctype) == sizeof(unsigned)		   ? TXC_T_UINT            \
			     : sizeof(ctype) == sizeof(unsigned long)	   ? TXC_T_ULONG           \
			     : sizeof(ctype) == sizeof(unsigned long long) ? TXC_T_ULLONG          \
			     : sizeof(ctype) == sizeof(unsigned short)	   ? TXC_T_USHORT          \
									   : TXC_T_UCHAR))

/* LEN: the name's length, so that a lookup (every word of every signature
 * at start) compares lengths before bytes instead of calling strlen. */
#define TY(name, type)                                                                             \
	{                                                                                          \
		name, sizeof(name) - 1, type                                                       \
	}

static const struct {
	const char *name;
	size_t len;
	enum txc_type type;
} builtin[] = {
    /* the language's own spellings: fixed-width, keyed under their name */
    TY("size_t", TXC_T_SIZE),
    TY("ssize_t", TXC_T_SSIZE),
    TY("int8_t", TXC_T_I8),
    TY("uint8_t", TXC_T_U8),
    TY("int16_t", TXC_T_I16),
    TY("uint16_t", TXC_T_U16),
    TY("int32_t", TXC_T_I32),
    TY("uint32_t", TXC_T_U32),
    TY("int64_t", TXC_T_I64),
    TY("uint64_t", TXC_T_U64),
    TY("bool", TXC_T_BOOL),
    TY("_Bool", TXC_T_BOOL),
    TY("float", TXC_T_FLOAT),
    TY("double", TXC_T_DOUBLE),
    /* zlib.h and zconf.h: fixed C types on every ABI */
    TY("uLong", TXC_T_ULONG),
    TY("uLongf", TXC_T_ULONG),
    TY("uInt", TXC_T_UINT),
    TY("uIntf", TXC_T_UINT),
    TY("Bytef", TXC_T_UCHAR),
    TY("Byte", TXC_T_UCHAR),
    TY("charf", TXC_T_CHAR),
    TY("intf", TXC_T_INT),
    TY("z_size_t", TXC_T_SIZE),
    TY("z_off_t", TXC_T_LONG),
    /* POSIX and C library typedefs: whatever they are here */
    TY("off_t", BASE_OF(off_t)),
    TY("off64_t", BASE_OF(off64_t)),
    TY("time_t", BASE_OF(time_t)),
    TY("uid_t", BASE_OF(uid_t)),
    TY("gid_t", BASE_OF(gid_t)),
    TY("pid_t", BASE_OF(pid_t)),
    TY("mode_t", BASE_OF(mode_t)),
    TY("dev_t", BASE_OF(dev_t)),
    TY("ino_t", BASE_OF(ino_t)),
    TY("nlink_t", BASE_OF(nlink_t)),
    TY("blksize_t", BASE_OF(blksize_t)),
    TY("blkcnt_t", BASE_OF(blkcnt_t)),
    TY("socklen_t", BASE_OF(socklen_t)),
    TY("ptrdiff_t", BASE_OF(ptrdiff_t)),
    TY("intptr_t", BASE_OF(intptr_t)),
    TY("uintptr_t", BASE_OF(uintptr_t)),
    TY("intmax_t", BASE_OF(intmax_t)),
    TY("uintmax_t", BASE_OF(uintmax_t)),
    TY("wchar_t", BASE_OF(wchar_t)),
    TY("clock_t", BASE_OF(clock_t)),
    TY("suseconds_t", BASE_OF(suseconds_t)),
    TY("useconds_t", BASE_OF(useconds_t)),
};

static bool same(const char *word, const char *name, size_t len)
{
	if (len > 0 && word[0] != name[0])
		return false;
	return strlen(word) == len && memcmp(word, name, len) == 0;
}

static bool same_builtin(size_t i, const char *name, size_t len)
{
	return builtin[i].len == len && memcmp(builtin[i].name, name, len) == 0;
}

bool sigtypes_is_builtin(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (same_builtin(i, name, len))
			return true;
	return false;
}

int sigtypes_lookup(const char *name, size_t len, const struct txc_sig_types *types,
		    enum txc_type *t)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (same_builtin(i, name, len)) {
			*t = builtin[i].type;
			return 1;
		}
	}
	for (int i = 0; types && i < types->n && i < TXC_MAX_USER_TYPES; i++) {
		if (strnlen(types->v[i].name, TXC_NAME_MAX) == len &&
		    memcmp(types->v[i].name, name, len) == 0) {
			*t = types->v[i].type;
			return 1;
		}
	}
	return 0;
}

bool sigtypes_is_qualifier(const char *name, size_t len)
{
	static const char *const quals[] = {"const", "volatile", "restrict", "__restrict",
					    "__restrict__"};
	for (size_t i = 0; i < sizeof(quals) / sizeof(quals[0]); i++)
		if (same(quals[i], name, len))
			return true;
	return false;
}
