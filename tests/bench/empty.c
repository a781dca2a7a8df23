/* empty.c - libempty.so: the start-up benchmark's baseline preload. */
int txc_bench_empty;
