/* tslot.h - per-thread values without a pthread key.
 *
 * glibc gives a process 1024 thread-specific data keys in all, and they are
 * the program's: a program that creates keys until none is left must get
 * as many under the shim. A slot is a number; each thread keeps a short
 * list of (slot, value, destructor) in its own TLS, and one thread-exit
 * callback per thread (__cxa_thread_atexit_impl, what C++ thread_local
 * uses) calls the destructors when the thread ends.
 *
 * Unlike key destructors, thread-exit callbacks also run in the thread that
 * calls exit(), before atexit handlers. In the process's main thread the
 * destructors are therefore not called (the process is ending, and atexit
 * handlers may still use the values); a main thread that ends with
 * pthread_exit() leaves its values allocated.
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
