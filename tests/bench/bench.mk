# bench.mk - `make bench` (included by the top Makefile): builds what it
# needs, starts its own memcached, prints the table and writes
# tests/bench/results.md and tests/bench/latency.svg. Not part of make check.
BENCH_OUT := $(BUILD)/bench

.PHONY: bench
bench: deps all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@mkdir -p $(BENCH_OUT)
	$(CC) -O2 -g -std=gnu11 -Wall -Wextra -o $(BENCH_OUT)/bench tests/bench/bench.c \
		-L$(BUILD)/fixtures -Wl,-rpath,$(abspath $(BUILD))/fixtures -lperf -lmemcached -lpthread
	$(CC) -O2 -fPIC -shared -o $(BENCH_OUT)/libempty.so tests/bench/empty.c
	@BUILD=$(abspath $(BUILD)) tests/bench/bench.sh
