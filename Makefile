# txcache - see README.md. `make demo` and `make check` install what they need.
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifneq ($(CI)$(WERROR),)
WARN    += -Werror
endif
# Required flags come after the user's CFLAGS so they are never clobbered.
REQ     := -std=gnu11 -fPIC -fvisibility=hidden -D_GNU_SOURCE -Ishim -Iinclude $(WARN)
LIBS    := -lmemcached -lffi -linih -lxxhash -lsodium -ldl -lpthread -lm
# The shim loads libmemcached on first use (shim/mc.h); -z defs catches a direct call.
# Its other libraries are linked from their PIC archives and kept hidden: every
# shared library costs each preloaded program's start-up an open, mmaps and
# relocations (README "Start-up"). SHIM_STATIC= links them shared instead.
SHIM_STATIC ?= -Wl,--exclude-libs,ALL -Wl,-Bstatic -lffi_pic -linih -lxxhash -lsodium -Wl,-Bdynamic
# x86-64: the shim's few libm functions are inline (shim/fpenv.c, shim/fresh.c).
SHIM_LIBM ?= $(if $(filter x86_64-%,$(shell $(CC) -dumpmachine)),,-lm)
SHIM_LIBS := $(if $(SHIM_STATIC),$(SHIM_STATIC) -ldl -lpthread $(SHIM_LIBM),$(filter-out -lmemcached,$(LIBS)))

LIB_SRC := $(wildcard shim/*.c)
LIB_OBJ := $(LIB_SRC:shim/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/prof_tramp_S.o
CLI_SRC := $(wildcard shim/cli/*.c)
CLI_OBJ := $(CLI_SRC:shim/cli/%.c=$(BUILD)/obj/cli/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check check-verify demo asan tsan torture clean format format-check unit mutants
all: $(BUILD)/libtxcache.so $(BUILD)/txcache

$(BUILD)/obj/%.o: shim/%.c $(wildcard shim/*.h) | $(BUILD)/obj/cli
	$(CC) $(CFLAGS) $(REQ) -MMD -c -o $@ $<

# profile mode's trampolines (x86_64; an empty object elsewhere)
$(BUILD)/obj/prof_tramp_S.o: shim/prof_tramp.S | $(BUILD)/obj/cli
	$(CC) $(CFLAGS) $(REQ) -c -o $@ $<

$(BUILD)/obj/cli/%.o: shim/cli/%.c $(wildcard shim/*.h) | $(BUILD)/obj/cli
	$(CC) $(CFLAGS) $(REQ) -Ishim/cli -MMD -c -o $@ $<

$(BUILD)/obj/cli:
	mkdir -p $@ $(BUILD)/tests

# The core archive: every module. The CLI and unit tests take what they use.
$(BUILD)/libtxcore.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libtxcache.so: $(LIB_OBJ) shim/txcache.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=shim/txcache.map \
		-Wl,-soname,libtxcache.so.0 -Wl,-z,now -Wl,-z,defs -o $@ $(LIB_OBJ) $(SHIM_LIBS)

$(BUILD)/txcache: $(CLI_OBJ) $(BUILD)/libtxcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libtxcore.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(BUILD)/libtxcore.a
	$(CC) $(CFLAGS) $(REQ) -Itests/unit -o $@ $< $(BUILD)/libtxcore.a $(LIBS)

unit: $(UNIT_BIN)

deps:
	@tests/deps.sh

# Unit tests and every bats suite, the suites again in verify mode, and a
# short torture run; one closing "N passed, N failed" (tests/check.sh).
check: deps all unit
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@BUILD=$(abspath $(BUILD)) tests/check.sh

# The bats suites again with every hit verified: must report 0 mismatches.
check-verify: deps all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@BUILD=$(abspath $(BUILD)) tests/check_verify.sh

demo: deps all
	@$(MAKE) --no-print-directory -C examples/slowdb BUILD=$(abspath $(BUILD))
	@examples/demo.sh

# ASan + UBSan build of everything into build-asan/, then the same suite.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all unit
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath build-asan)
	@TXCACHE_ASAN=1 BUILD=build-asan tests/run.sh

# Deliberate faults (TXC_MUTANT_* switches), one build each in build-mut-*/:
# every one must make a test fail. Prints the table (tests/mutants.sh).
mutants: deps all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@BUILD=$(BUILD) tests/mutants.sh

# The torture test alone: TORTURE_SECONDS=600 make torture for ten minutes.
torture: deps all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath $(BUILD))
	@BUILD=$(abspath $(BUILD)) tests/torture/run.sh

# ThreadSanitizer build into build-tsan/, then the thread, fork and signal
# suites and the torture test with the TSan runtime preloaded: any report
# fails the run (TSan's exit code 66). (82_lock is left out: its processes
# race one another, not threads, and TSan's slowness breaks its timing.)
TSAN_SUITES := tests/bats/73_host.bats tests/bats/76_signals.bats tests/bats/77_fork.bats \
	tests/bats/81_near.bats tests/bats/90_capture.bats
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan CFLAGS="-O1 -g -fsanitize=thread" \
		LDFLAGS="-fsanitize=thread" all
	@$(MAKE) --no-print-directory -C tests/fixtures BUILD=$(abspath build-tsan)
	@TXCACHE_TSAN=1 BUILD=build-tsan tests/run.sh bats $(TSAN_SUITES)
	@TXCACHE_TSAN=1 BUILD=build-tsan tests/torture/run.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-mut-*

format:
	clang-format -i shim/*.[ch] shim/cli/*.[ch] include/*.h tests/unit/*.[ch]

format-check:
	clang-format --dry-run --Werror shim/*.[ch] shim/cli/*.[ch] include/*.h tests/unit/*.[ch]

# Fragments owned by their concerns: install, the Debian package, benchmarks, fuzzing.
-include shim/install.mk shim/deb.mk tests/bench/bench.mk tests/fuzz/fuzz.mk shim/cross.mk

# The catalogue of verified signatures (README "Catalogue", shim/catalogue.h):
# the directory the shim and the CLI read when TXCACHE_CATALOGUE is unset,
# and where `make install` puts config/catalogue/*.ini.
PREFIX ?= /usr/local
CATALOGUE_DIR ?= $(PREFIX)/share/txcache/catalogue
$(BUILD)/obj/catalogue.o: REQ += -DTXC_CATALOGUE_DIR='"$(CATALOGUE_DIR)"'
# rebuilt when the directory changes (`make install PREFIX=/usr` after `make`)
$(BUILD)/obj/catalogue.o $(BUILD)/tests/test_catalogue: $(BUILD)/catalogue-dir
$(BUILD)/catalogue-dir: catalogue-dir-force | $(BUILD)/obj/cli
	@echo '$(CATALOGUE_DIR)' | cmp -s - $@ || echo '$(CATALOGUE_DIR)' >$@
$(BUILD)/tests/test_catalogue: REQ += -DTXC_TEST_DEFAULT_DIR='"$(CATALOGUE_DIR)"'
.PHONY: install-catalogue uninstall-catalogue catalogue-dir-force
install: install-catalogue
install-catalogue:
	install -d '$(DESTDIR)$(CATALOGUE_DIR)'
	install -m 0644 config/catalogue/*.ini '$(DESTDIR)$(CATALOGUE_DIR)/'
uninstall: uninstall-catalogue
uninstall-catalogue:
	rm -f $(patsubst config/catalogue/%,'$(DESTDIR)$(CATALOGUE_DIR)/%',$(wildcard config/catalogue/*.ini))
	-rmdir '$(DESTDIR)$(CATALOGUE_DIR)' 2>/dev/null

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
