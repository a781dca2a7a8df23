/* server.c - the webpage program: a tiny HTTP server, or one CGI-style
 * request on stdout.
 *
 *   webpage render USER        writes USER's page to stdout (fd 1)
 *   webpage set USER TEXT      changes USER's text
 *   webpage serve PORT [N]     serves N requests (default: forever) on
 *                              127.0.0.1:PORT; PORT 0 picks one and prints it.
 *                              GET /USER renders; GET /set/USER/TEXT updates.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "page.h"

/* Answers one request read from client C. */
static void serve_one(int c)
{
	char req[1024], path[512];
	size_t n = 0;
	/* read the whole header: closing with unread input would send a reset */
	req[0] = '\0';
	while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (n == 0)
		return;
	if (sscanf(req, "GET /%511s", path) != 1) {
		dprintf(c, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (strncmp(path, "set/", 4) == 0) {
		char *user = path + 4, *text = strchr(user, '/');
		if (text)
			*text++ = '\0';
		int rc = text ? page_update(user, text) : -1;
		dprintf(c, "HTTP/1.0 %s\r\nContent-Length: 0\r\n\r\n",
			rc == 0 ? "204 No Content" : "400 Bad Request");
		return;
	}
	page_render(c, path);
}

static int serve(int port, long count)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t alen = sizeof(a);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
		perror("webpage: listen");
		return 1;
	}
	printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (long i = 0; count < 0 || i < count; i++) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "render") == 0)
		return page_render(1, argv[2]) == 0 ? 0 : 1;
	if (argc == 4 && strcmp(argv[1], "set") == 0)
		return page_update(argv[2], argv[3]) == 0 ? 0 : 1;
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]), argc == 4 ? atol(argv[3]) : -1);
	fprintf(stderr, "usage: webpage render USER | set USER TEXT | serve PORT [N]\n");
	return 2;
}
