/* scalar.c - facts about scalar types and their portable 64-bit form. */
#include <limits.h>
#include <string.h>
#include <sys/types.h>

#include "sig.h"

#define T(name, ctype, sgn, flt)                                                                   \
	{                                                                                          \
		name, sizeof(ctype), sgn, flt                                                      \
	}

static const struct txc_type_info type_table[TXC_T_COUNT_] = {
    [TXC_T_VOID] = {"void", 0, false, false},
    [TXC_T_CHAR] = T("char", char, CHAR_MIN < 0, false),
    [TXC_T_SCHAR] = T("signed char", signed char, true, false),
    [TXC_T_UCHAR] = T("unsigned char", unsigned char, false, false),
    [TXC_T_SHORT] = T("short", short, true, false),
    [TXC_T_USHORT] = T("unsigned short", unsigned short, false, false),
    [TXC_T_INT] = T("int", int, true, false),
    [TXC_T_UINT] = T("unsigned int", unsigned int, false, false),
    [TXC_T_LONG] = T("long", long, true, false),
    [TXC_T_ULONG] = T("unsigned long", unsigned long, false, false),
    [TXC_T_LLONG] = T("long long", long long, true, false),
    [TXC_T_ULLONG] = T("unsigned long long", unsigned long long, false, false),
    [TXC_T_SIZE] = T("size_t", size_t, false, false),
    [TXC_T_SSIZE] = T("ssize_t", ssize_t, true, false),
    [TXC_T_I8] = T("int8_t", int8_t, true, false),
    [TXC_T_U8] = T("uint8_t", uint8_t, false, false),
    [TXC_T_I16] = T("int16_t", int16_t, true, false),
    [TXC_T_U16] = T("uint16_t", uint16_t, false, false),
    [TXC_T_I32] = T("int32_t", int32_t, true, false),
    [TXC_T_U32] = T("uint32_t", uint32_t, false, false),
    [TXC_T_I64] = T("int64_t", int64_t, true, false),
    [TXC_T_U64] = T("uint64_t", uint64_t, false, false),
    [TXC_T_BOOL] = T("bool", _Bool, false, false),
    [TXC_T_FLOAT] = T("float", float, false, true),
    [TXC_T_DOUBLE] = T("double", double, false, true),
};

const struct txc_type_info *sig_type_info(enum txc_type t)
{
	if ((unsigned)t >= TXC_T_COUNT_)
		return NULL;
	return &type_table[t];
}

uint64_t sig_scalar_load(enum txc_type t, const void *p)
{
	const struct txc_type_info *ti = sig_type_info(t);
	if (!ti || ti->size == 0)
		return 0;
	if (t == TXC_T_BOOL)
		return *(const _Bool *)p ? 1 : 0;
	switch (ti->size) {
	case 1: {
		uint8_t v;
		memcpy(&v, p, 1);
		return ti->is_signed ? (uint64_t)(int64_t)(int8_t)v : v;
	}
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return ti->is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		/* float keeps its 32 raw bits: is_signed is false for it */
		return ti->is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

void sig_scalar_store(enum txc_type t, uint64_t v, void *p)
{
	const struct txc_type_info *ti = sig_type_info(t);
	if (!ti || ti->size == 0)
		return;
	if (t == TXC_T_BOOL) {
		*(_Bool *)p = v != 0;
		return;
	}
	switch (ti->size) {
	case 1: {
		uint8_t b = (uint8_t)v;
		memcpy(p, &b, 1);
		break;
	}
	case 2: {
		uint16_t b = (uint16_t)v;
		memcpy(p, &b, 2);
		break;
	}
	case 4: {
		uint32_t b = (uint32_t)v;
		memcpy(p, &b, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
		break;
	}
}

bool sig_param_keyed(const struct txc_param *p)
{
	switch (p->kind) {
	case TXC_K_SCALAR:
	case TXC_K_STRING:
	case TXC_K_BYTES:
	case TXC_K_SYMPTR:
	case TXC_K_FILE:
	case TXC_K_FILE_CONTENT:
		return p->keyed;
	default:
		return false;
	}
}

bool sig_param_is_out(const struct txc_param *p)
{
	return p->kind == TXC_K_OUT_STRING || p->kind == TXC_K_OUT_BYTES ||
	       sig_kind_is_out_scalar(p->kind);
}

bool sig_param_is_capture(const struct txc_param *p)
{
	return p->kind == TXC_K_OUT_FD || p->kind == TXC_K_OUT_STREAM;
}
