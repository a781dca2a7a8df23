/* tslot.c - per-thread values behind one pthread key; see tslot.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "err.h"
#include "tslot.h"

struct tval {
	unsigned slot;
	void *v;
	void (*dtor)(void *);
	struct tval *next;
};

static atomic_uint next_slot = 1;
static __thread struct tval *t_vals;
static __thread bool t_registered;
static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static bool g_key_ok;

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

/* The key's destructor: at thread exit (pthread_exit or a return from the
 * thread's function; never at exit()). */
static void thread_end(void *unused)
{
	struct tval *t = t_vals;

	(void)unused;
	t_vals = NULL;
	while (t) {
		struct tval *next = t->next;

		if (t->v && t->dtor)
			t->dtor(t->v);
		free(t);
		t = next;
	}
}

static void key_create(void)
{
	g_key_ok = pthread_key_create(&g_key, thread_end) == 0;
}

int tslot_set(unsigned slot, void *v, void (*dtor)(void *))
{
	struct tval *t = t_vals;

	while (t && t->slot != slot)
		t = t->next;
	if (!t && !v)
		return 0;
	if (!t_registered) {
		pthread_once(&g_key_once, key_create);
		/* any non-NULL value makes the destructor run */
		if (!g_key_ok || pthread_setspecific(g_key, &t_vals) != 0)
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
