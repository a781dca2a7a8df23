/* capture_names.c - capture_wraps_name (capture_names.h). */
#include <string.h>

#include "capture_names.h"
#include "capture_priv.h"

bool capture_wraps_name(const char *name)
{
	size_t n;
	const struct wrap_fn *tab = capture_wrappers(&n);
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(tab[i].name, name) == 0)
			return true;
	return false;
}
