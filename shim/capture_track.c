/* capture_track.c - which descriptors an out fd's output goes through,
 * and the checks that every byte of it was seen; see capture_priv.h.
 *
 * A frame keeps the fd numbers that refer to the open file description
 * its descriptor referred to at the start ("aliases"). The dup and close
 * wrappers keep the set current: dup2(devnull, fd) takes fd out (what it
 * writes then goes elsewhere and is not the call's output), dup2(saved,
 * fd) puts it back, and a dup() of it is one more way to write the same
 * output. A descriptor written to during the call that refers to the same
 * file as fd but did not come from it during the call (a copy made before
 * the call, 2>&1, or a separate open; fstat device and inode) makes the
 * frame never stored: its bytes reach fd's reader in this run, but whether
 * they do in another run depends on how that run's descriptors are set up,
 * which the key does not see.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio_ext.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_priv.h"
#include "capture_seg.h"
#include "err.h"

#define FOR_FRAMES(fr) for (struct capture_frame *fr = capture_top; fr; fr = capture_outer(fr))

bool capture_frame_has_fd(const struct capture_frame *fr, int fd)
{
	if (!fr->is_fd || fd < 0)
		return false;
	for (int i = 0; i < fr->nalias; i++)
		if (fr->alias[i] == fd)
			return true;
	return false;
}

static uint64_t pending_over(FILE *f, int fd)
{
	return f && fileno_unlocked(f) == fd ? (uint64_t)__fpending(f) : 0;
}

static void set_why(struct capture_frame *fr, const char *why);

/* FD is not an alias of FR: marks FR when FD is the same file by other
 * means. Each such FD is looked at once (FR->other). */
static void check_other(struct capture_frame *fr, int fd)
{
	struct stat st;
	for (int i = 0; i < fr->nother; i++)
		if (fr->other[i] == fd)
			return;
	if (fr->known && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == fr->dev &&
	    (uint64_t)st.st_ino == fr->ino)
		set_why(fr, "written through another descriptor of the same file");
	else if (fr->nother < CAPTURE_ALIAS_MAX)
		fr->other[fr->nother++] = fd;
}

bool capture_frame_claims(struct capture_frame *fr, int fd)
{
	if (capture_frame_has_fd(fr, fd))
		return true;
	/* while fd itself points elsewhere, it is the call's own doing */
	if (fr->is_fd && fd >= 0 && !fr->failed && capture_frame_has_fd(fr, fr->fd)) {
		int saved = errno;
		check_other(fr, fd);
		errno = saved;
	}
	return false;
}

void capture_fd_start(struct capture_frame *fr)
{
	int type = 0;
	socklen_t tl = sizeof(type);
	struct stat st;
	fr->nalias = 1;
	fr->alias[0] = fr->fd;
	fr->nother = 0;
	fr->msg = getsockopt(fr->fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
		  (type == SOCK_DGRAM || type == SOCK_SEQPACKET);
	fr->known = fstat(fr->fd, &st) == 0;
	fr->dev = fr->known ? (uint64_t)st.st_dev : 0;
	fr->ino = fr->known ? (uint64_t)st.st_ino : 0;
	fr->isreg = fr->known && S_ISREG(st.st_mode);
	if (fr->isreg) {
		fr->off0 = lseek(fr->fd, 0, SEEK_CUR);
		fr->seekable = fr->off0 >= 0;
	}
	fr->pending0 = pending_over(stdout, fr->fd) + pending_over(stderr, fr->fd);
}

static void set_why(struct capture_frame *fr, const char *why)
{
	if (!fr->failed || !fr->why)
		fr->why = why;
	fr->failed = true;
}

void capture_fd_finish(struct capture_frame *fr)
{
	if (!capture_frame_has_fd(fr, fr->fd))
		set_why(fr, "the descriptor was closed or redirected and not restored");
	if (!fr->failed && fr->seekable) {
		off_t off = lseek(fr->fd, 0, SEEK_CUR);
		uint64_t delta = off >= fr->off0 ? (uint64_t)(off - fr->off0) : UINT64_MAX;
		/* stdio bytes reach the file when flushed: at most all of them;
		 * a function may move the offset past what it pwrite()s, as
		 * the hit's write of those bytes does */
		uint64_t most = fr->moved + fr->pwritten + fr->streamed + fr->pending0;
		if (off < 0 || delta < fr->moved || delta > most)
			set_why(fr, "the file's offset moved by other than the captured bytes");
	}
	if (!fr->failed && !fr->oversize) {
		int rc = capseg_pack(fr);
		if (rc == TXC_ETOOBIG)
			fr->oversize = true;
		else if (rc != 0)
			fr->failed = true;
	}
	free(fr->segs); /* not packed: the frame is not stored */
	fr->segs = NULL;
	fr->nsegs = fr->segcap = 0;
}

void capture_fd_unmoved(int fd, ssize_t r)
{
	if (r <= 0)
		return;
	FOR_FRAMES(fr)
	if (capture_frame_has_fd(fr, fd) && fr->moved >= (uint64_t)r) {
		fr->moved -= (uint64_t)r;
		fr->pwritten += (uint64_t)r;
	}
}

static void alias_drop(struct capture_frame *fr, int fd)
{
	capture_fd_closed_in(fr, (unsigned)fd, (unsigned)fd);
}

void capture_fd_dup(int oldfd, int newfd)
{
	int saved = errno;
	capture_prune();
	FOR_FRAMES(fr)
	{
		if (!fr->is_fd || oldfd == newfd)
			continue;
		bool joins = capture_frame_has_fd(fr, oldfd);
		alias_drop(fr, newfd);
		if (joins && fr->nalias < CAPTURE_ALIAS_MAX)
			fr->alias[fr->nalias++] = newfd;
		else if (joins) /* cannot follow it: its writes would be missed */
			set_why(fr, "too many copies of the descriptor");
	}
	errno = saved;
}

void capture_fd_closed(int fd)
{
	capture_fd_closed_range((unsigned)fd, (unsigned)fd);
}

/* Drops LO..HI from the N numbers at SET. */
static void drop_range(int *set, int *n, unsigned lo, unsigned hi)
{
	for (int i = 0; i < *n; i++)
		if ((unsigned)set[i] >= lo && (unsigned)set[i] <= hi)
			set[i--] = set[--*n];
}

void capture_fd_closed_in(struct capture_frame *fr, unsigned lo, unsigned hi)
{
	drop_range(fr->alias, &fr->nalias, lo, hi);
	drop_range(fr->other, &fr->nother, lo, hi);
}

void capture_fd_closed_range(unsigned lo, unsigned hi)
{
	capture_prune();
	FOR_FRAMES(fr)
	if (fr->is_fd)
		capture_fd_closed_in(fr, lo, hi);
}

void capture_bypass_fd(int fd, const char *why)
{
	capture_prune();
	FOR_FRAMES(fr)
	if (capture_frame_has_fd(fr, fd))
		set_why(fr, why);
}

void capture_bypass_all(const char *why)
{
	capture_prune();
	FOR_FRAMES(fr)
	set_why(fr, why);
}

int64_t capture_copy_start(int in, const int64_t *off)
{
	struct stat st;
	int saved = errno;
	int64_t at = -1;
	if (fstat(in, &st) == 0 && S_ISREG(st.st_mode))
		at = off ? *off : (int64_t)lseek(in, 0, SEEK_CUR);
	errno = saved;
	return at;
}

/* Datagrams are at most 64 KiB: one chunk is one message. */
#define COPY_CHUNK (1u << 20)

void capture_note_copy(int out, int in, int64_t at, ssize_t r, const char *why)
{
	bool watched = false;
	if (r <= 0)
		return;
	FOR_FRAMES(fr)
	watched |= capture_frame_claims(fr, out);
	if (!watched)
		return;
	int saved = errno;
	size_t done = 0, chunk = (size_t)r < COPY_CHUNK ? (size_t)r : COPY_CHUNK;
	uint8_t *buf = at >= 0 ? malloc(chunk) : NULL;
	while (buf && done < (size_t)r) {
		size_t want = (size_t)r - done < chunk ? (size_t)r - done : chunk;
		ssize_t got = pread(in, buf, want, (off_t)(at + (int64_t)done));
		if (got <= 0)
			break;
		capture_note_fd(out, buf, (size_t)got, got);
		done += (size_t)got;
	}
	free(buf);
	if (done < (size_t)r) /* not all of it could be read again */
		capture_bypass_fd(out, why);
	errno = saved;
}
