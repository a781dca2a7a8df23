/* jsonout.h - the one way the CLI writes bytes into JSON.
 *
 * The rule, which README and txcache(1) state for programs that read
 * --json output:
 *   - bytes that are well-formed UTF-8 (RFC 3629: no overlong forms, no
 *     surrogates U+D800..U+DFFF, nothing above U+10FFFF) are a JSON string;
 *     '"' and '\' are escaped as \" and \\, U+0000..U+001F and U+007F as
 *     \u00XX; every other character is written as its UTF-8 bytes;
 *   - any other bytes are an object {"base64":"..."} (RFC 4648 alphabet,
 *     with padding) that decodes to exactly those bytes.
 * A reader gets the bytes back with: a string -> its UTF-8 encoding; an
 * object -> base64-decode its "base64" member. The output is always valid
 * JSON in UTF-8, whatever the input.
 */
#ifndef TXC_CLI_JSONOUT_H
#define TXC_CLI_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when S (LEN bytes, NULs allowed) is well-formed UTF-8 as above. */
bool json_utf8_valid(const void *s, size_t len);

/* Writes S (LEN bytes, any values) to OUT by the rule above. As an object
 * member name, pass only text known to be UTF-8 (function and parameter
 * names, which the signature parser limits to C identifiers): an object is
 * not a valid name. */
void cli_json_str(FILE *out, const char *s, size_t len);

#endif
