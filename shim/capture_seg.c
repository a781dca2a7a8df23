/* capture_seg.c - out fd segments: recording, packing, replay; see
 * capture_seg.h. Also capture_replay (capture.h), the hit's side. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_priv.h"
#include "capture_seg.h"
#include "err.h"
#include "log.h"

#define SEG_BYTES CAPFMT_SEG_BYTES

int capseg_note(struct capture_frame *fr, uint8_t tag, size_t n, bool join)
{
	struct capture_seg *last = fr->nsegs ? &fr->segs[fr->nsegs - 1] : NULL;
	bool merge = last && last->tag == tag && (join || !(tag == CAPSEG_RAW && fr->msg));
	if (merge && n <= UINT32_MAX - last->len) {
		last->len += (uint32_t)n;
		return 0;
	}
	if (n > UINT32_MAX)
		return TXC_ETOOBIG;
	if (fr->nsegs == fr->segcap) {
		size_t nc = fr->segcap ? fr->segcap * 2 : 8;
		struct capture_seg *ns = realloc(fr->segs, nc * sizeof(*ns));
		if (!ns)
			return TXC_ENOMEM;
		fr->segs = ns;
		fr->segcap = nc;
	}
	fr->segs[fr->nsegs++] = (struct capture_seg){tag, (uint32_t)n};
	return 0;
}

int capseg_pack(struct capture_frame *fr)
{
	size_t head = 4 + fr->nsegs * SEG_BYTES, total = head + fr->len;
	int rc = 0;
	uint8_t *b = NULL;
	if (fr->nsegs > UINT32_MAX || total > fr->limit)
		rc = TXC_ETOOBIG;
	else if (!(b = malloc(total ? total : 1)))
		rc = TXC_ENOMEM;
	if (rc == 0) {
		capfmt_put32(b, (uint32_t)fr->nsegs);
		for (size_t i = 0; i < fr->nsegs; i++) {
			b[4 + i * SEG_BYTES] = fr->segs[i].tag;
			capfmt_put32(b + 4 + i * SEG_BYTES + 1, fr->segs[i].len);
		}
		if (fr->len)
			memcpy(b + head, fr->buf, fr->len);
	}
	free(fr->buf);
	free(fr->segs);
	fr->segs = NULL;
	fr->nsegs = fr->segcap = 0;
	fr->buf = b;
	fr->len = fr->cap = rc == 0 ? total : 0;
	return rc;
}

static FILE *seg_stream(uint8_t tag)
{
	return tag == CAPSEG_STDOUT ? stdout : tag == CAPSEG_STDERR ? stderr : NULL;
}

int capseg_check(int fd, const uint8_t *blob, size_t len)
{
	if (!capfmt_valid(blob, len))
		return TXC_ECORRUPT;
	uint32_t n = capfmt_get32(blob);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t tag = blob[4 + (size_t)i * SEG_BYTES];
		FILE *f = seg_stream(tag);
		/* the function wrote through a stream over its descriptor: a
		 * caller whose stream is elsewhere must get the real function */
		if (tag != CAPSEG_RAW && (!f || fileno(f) != fd))
			return TXC_ERANGE;
	}
	return 0;
}

/* Writes all of P, as a careful caller of write(2) would. Returns 0, or
 * TXC_ESYS with errno set; *WROTE tells whether any byte went out. */
static int replay_raw(int fd, const uint8_t *p, size_t len, bool *wrote)
{
	while (len > 0) {
		ssize_t r = capture_top ? capture_write(fd, p, len) : write(fd, p, len);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			*wrote = true;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
				continue;
		}
		if (r == 0)
			errno = EIO;
		return TXC_ESYS;
	}
	return 0;
}

static int replay_stream(FILE *f, const uint8_t *p, size_t len, bool *wrote)
{
	size_t w = capture_top ? capture_fwrite(p, 1, len, f) : fwrite(p, 1, len, f);
	if (w > 0)
		*wrote = true;
	return w == len ? 0 : TXC_ESYS;
}

int capseg_replay(int fd, const uint8_t *blob, size_t len, bool *wrote)
{
	uint32_t n = capfmt_get32(blob);
	const uint8_t *data = blob + 4 + (size_t)n * SEG_BYTES;
	bool dirty[3] = {false, false, false};
	(void)len; /* checked by capseg_check */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = blob + 4 + (size_t)i * SEG_BYTES;
		uint32_t sl = capfmt_get32(s + 1);
		int rc;
		if (s[0] == CAPSEG_RAW) {
			/* the miss flushed these before the function's raw write */
			for (int t = CAPSEG_STDOUT; t <= CAPSEG_STDERR; t++)
				if (dirty[t] && fflush(seg_stream((uint8_t)t)) != 0)
					return TXC_ESYS;
			dirty[1] = dirty[2] = false;
			rc = replay_raw(fd, data, sl, wrote);
		} else {
			dirty[s[0]] = true;
			rc = replay_stream(seg_stream(s[0]), data, sl, wrote);
		}
		if (rc != 0)
			return rc;
		data += sl;
	}
	return 0;
}

int capture_replayable(const struct txc_sig *sig, void *const *avalue, const struct txc_result *res)
{
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_out *o = &res->out[i];
		if (sig->params[i].kind == TXC_K_OUT_STREAM && !*(FILE *const *)avalue[i])
			return TXC_EINVAL;
		if (sig->params[i].kind == TXC_K_OUT_FD && o->present &&
		    capseg_check(*(const int *)avalue[i], o->data, (size_t)o->len) != 0)
			return TXC_EINVAL;
	}
	return 0;
}

int capture_replay(const struct txc_sig *sig, void *const *avalue, const struct txc_result *res)
{
	if (capture_replayable(sig, avalue, res) != 0)
		return TXC_EINVAL;
	bool wrote = false;
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		const struct txc_out *o = &res->out[i];
		if (!sig_param_is_capture(p) || !o->present || o->len == 0)
			continue;
		int rc =
		    p->kind == TXC_K_OUT_FD
			? capseg_replay(*(const int *)avalue[i], o->data, (size_t)o->len, &wrote)
			: replay_stream(*(FILE *const *)avalue[i], o->data, (size_t)o->len, &wrote);
		if (rc != 0 && !wrote)
			return TXC_ESYS;
		if (rc != 0) {
			log_msg(TXC_LOG_WARN,
				"%s: replaying the cached output of '%s' failed "
				"part way (%s)",
				sig->name, p->name, strerror(errno));
			return 0;
		}
	}
	return 0;
}
