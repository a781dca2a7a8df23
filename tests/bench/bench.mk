# bench.mk - `make bench` (included by the top Makefile): builds what it
# needs, starts its own memcached, prints the table and writes
# tests/bench/results.md and the plots tests/bench/{latency,size,scaling}.svg.
# Not part of make check.
BENCH_OUT := $(BUILD)/bench

.PHONY: bench
bench: deps all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@mkdir -p $(BENCH_OUT)
	$(CC) -O2 -g -fPIC -shared -Wl,-soname,libbench.so -o $(BENCH_OUT)/libbench.so \
		tests/bench/benchlib.c
	$(CC) -O2 -g -std=gnu11 -Wall -Wextra -o $(BENCH_OUT)/bench tests/bench/bench.c \
		-L$(BUILD)/fixtures -Wl,-rpath,$(abspath $(BUILD))/fixtures -lperf \
		-L$(BENCH_OUT) -Wl,-rpath,$(abspath $(BENCH_OUT)) -lbench -lmemcached -lpthread -lm
	$(CC) -O2 -fPIC -shared -o $(BENCH_OUT)/libempty.so tests/bench/empty.c
	@BUILD=$(abspath $(BUILD)) tests/bench/bench.sh
