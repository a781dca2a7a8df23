/* page.h - a deliberately slow web page renderer: the example of caching
 * what a function writes (txcache "out fd").
 *
 * The "data" is a text file (env WEBPAGE_DB, default /tmp/webpage.txt) of
 * lines "USER TEXT...". Rendering first sleeps WEBPAGE_DELAY_MS milliseconds
 * (default 1000), standing for templates, queries and so on. Nothing here
 * knows about txcache: config/webpage.ini caches page_render from outside.
 */
#ifndef PAGE_H
#define PAGE_H

/* Writes a complete HTTP/1.0 response with USER's page to the descriptor
 * FD (a client socket, or stdout for a CGI-style run). Returns 0, or -1
 * when a write failed (errno tells why). An unknown USER gets a 404 page. */
int page_render(int fd, const char *user);

/* Sets USER's text, adding USER when unknown; the file is replaced
 * atomically. Returns 0, or -1 (bad argument, or errno from the file). */
int page_update(const char *user, const char *text);

#endif
