/* tslot.c - per-thread values without a pthread key; see tslot.h. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "tslot.h"

struct tval {
	unsigned slot;
	void *v;
	void (*dtor)(void *);
	struct tval *next;
};

int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern void *__dso_handle;

static atomic_uint next_slot = 1;
static __thread struct tval *t_vals;
static __thread bool t_registered;

unsigned tslot_new(void)
{
	return atomic_fetch_add(&next_slot, 1);
}

void *tslot_get(unsigned slot)
{
	for (struct tval *t = t_vals; t; t = t->next)
		if (t->slot == slot)
			return t->v;
	return NULL;
}

/* At thread exit; also in a thread calling exit() (see tslot.h). */
static void thread_end(void *unused)
{
	struct tval *t = t_vals;

	(void)unused;
	if (syscall(SYS_gettid) == getpid())
		return;
	t_vals = NULL;
	while (t) {
		struct tval *next = t->next;

		if (t->v && t->dtor)
			t->dtor(t->v);
		free(t);
		t = next;
	}
}

int tslot_set(unsigned slot, void *v, void (*dtor)(void *))
{
	struct tval *t = t_vals;

	while (t && t->slot != slot)
		t = t->next;
	if (!t && !v)
		return 0;
	if (!t_registered) {
		if (__cxa_thread_atexit_impl(thread_end, NULL, &__dso_handle) != 0)
			return TXC_ENOMEM;
		t_registered = true;
	}
	if (!t) {
		t = malloc(sizeof(*t));
		if (!t)
			return TXC_ENOMEM;
		t->slot = slot;
		t->next = t_vals;
		t_vals = t;
	}
	t->v = v;
	t->dtor = dtor;
	return 0;
}
