/* capture_names.c - capture_wraps_name (capture_names.h). A plain list, so
 * the config check needs nothing of the capture layer; tests/unit/
 * test_capture.c checks it against the wrapper tables both ways. */
#include <stddef.h>
#include <string.h>

#include "capture_names.h"

static const char *const names[] = {
    "write",
    "pwrite",
    "pwrite64",
    "writev",
    "send",
    "sendto",
    "sendmsg",
    "dprintf",
    "vdprintf",
    "__dprintf_chk",
    "__vdprintf_chk",
    "fprintf",
    "vfprintf",
    "printf",
    "vprintf",
    "__fprintf_chk",
    "__vfprintf_chk",
    "__printf_chk",
    "__vprintf_chk",
    "fwrite",
    "fwrite_unlocked",
    "fputs",
    "fputs_unlocked",
    "puts",
    "fputc",
    "putc",
    "fputc_unlocked",
    "putc_unlocked",
    "putchar",
    "putchar_unlocked",
    "fclose",
    "sendfile",
    "sendfile64",
    "copy_file_range",
    "splice",
    "tee",
    "vmsplice",
    "pwritev",
    "pwritev64",
    "pwritev2",
    "pwritev64v2",
    "sendmmsg",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "fcntl64",
    "close",
    "close_range",
    "freopen",
    "freopen64",
    "fork",
    "_Fork",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "popen",
    "vfork",
    "fputwc",
    "putwc",
    "fputwc_unlocked",
    "putwc_unlocked",
    "putwchar",
    "putwchar_unlocked",
    "fputws",
    "fputws_unlocked",
    "fwprintf",
    "vfwprintf",
    "wprintf",
    "vwprintf",
    "__fwprintf_chk",
    "__vfwprintf_chk",
    "__wprintf_chk",
    "__vwprintf_chk",
};

bool capture_wraps_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

size_t capture_wrapped_names(const char *const **list)
{
	*list = names;
	return sizeof(names) / sizeof(names[0]);
}
