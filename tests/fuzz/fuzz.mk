# fuzz.mk - libFuzzer targets (clang 14) for the config parser, the
# signature parser and the value decoder. Included by the top Makefile.
#
#   make fuzz         each target for FUZZ_TIME seconds (default 60), growing
#                     a corpus in $(BUILD)/fuzz/corpus-NAME; crashes are
#                     written to $(BUILD)/fuzz/crash-NAME-*
#   make fuzz-check   replays tests/fuzz/corpus/{NAME,regressions/NAME}, then
#                     FUZZ_SHORT seconds (default 3) each: run by make check
#                     (tests/bats/75_sanitizers.bats)
# A crash that was fixed is kept as tests/fuzz/corpus/regressions/NAME/*.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_SHORT ?= 3
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Ishim -Iinclude $(FUZZ_SAN) -fsanitize=fuzzer-no-link
# only the pure modules the three targets reach
FUZZ_SRC   := $(addprefix shim/,config.c config_check.c config_include.c catalogue.c config_inval.c config_world.c cond.c capture_names.c sig.c sig_canon.c sigtypes.c fmt.c scalar.c codec.c \
                capture_fmt.c key.c err.c log.c highfd.c trustpath.c fpenv.c)
FUZZ_OBJ   := $(FUZZ_SRC:shim/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_NAMES := config sig codec
FUZZ_BINS  := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIBS  := -linih -lxxhash -lsodium -lpthread

.PHONY: fuzz fuzz-build fuzz-check
# kept between runs: make would delete them as intermediates
.SECONDARY: $(FUZZ_OBJ)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: shim/%.c $(wildcard shim/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(FUZZ_LIBS)

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$n && \
		echo "== fuzz_$$n: $(FUZZ_TIME) s" && \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/crash-$$n- $(FUZZ_DIR)/corpus-$$n \
			tests/fuzz/corpus/$$n tests/fuzz/corpus/regressions/$$n || exit 1; \
	done

fuzz-check: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		$(FUZZ_DIR)/fuzz_$$n -runs=0 tests/fuzz/corpus/$$n/* \
			tests/fuzz/corpus/regressions/$$n/* 2>$(FUZZ_DIR)/replay-$$n.log || \
			{ cat $(FUZZ_DIR)/replay-$$n.log; exit 1; }; \
		mkdir -p $(FUZZ_DIR)/short-$$n && \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_SHORT) \
			-artifact_prefix=$(FUZZ_DIR)/crash-$$n- $(FUZZ_DIR)/short-$$n \
			tests/fuzz/corpus/$$n 2>$(FUZZ_DIR)/short-$$n.log || \
			{ tail -n 60 $(FUZZ_DIR)/short-$$n.log; exit 1; }; \
		echo "fuzz_$$n: replayed and $(FUZZ_SHORT) s clean"; \
	done
