/* tslot.h - per-thread values, many behind one pthread key.
 *
 * A slot is a number; each thread keeps a short list of (slot, value,
 * destructor) in its own TLS, and one pthread key (created on the first
 * tslot_set of the process) calls the destructors when the thread ends.
 * So the shim holds one of the program's 1024 thread keys once a thread
 * has made a cached call. A keyless version (__cxa_thread_atexit_impl, what
 * C++ thread_local uses) deadlocked: it takes the loader's lock, which a
 * constructor holds while it joins a thread making its first cached call
 * (tests/bats/79_loader.bats).
 *
 * As with every key destructor, nothing runs in a thread that calls exit()
 * (the process is ending, and atexit handlers may still use the values).
 */
#ifndef TXC_TSLOT_H
#define TXC_TSLOT_H

/* A new slot number, never handed out before (slots are not reused). */
unsigned tslot_new(void);

/* The calling thread's value in SLOT, or NULL. */
void *tslot_get(unsigned slot);

/* Sets the calling thread's value in SLOT to V (NULL: removes it, without
 * calling the destructor); DTOR(V) runs when the thread ends. Returns 0, or
 * TXC_ENOMEM (the value is then not set). */
int tslot_set(unsigned slot, void *v, void (*dtor)(void *));

#endif
