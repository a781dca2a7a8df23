# cross.mk - the ELF code must stay architecture-neutral: compile the files
# that read relocations and symbol tables for aarch64 with Debian's cross
# compiler (gcc-aarch64-linux-gnu), when it is installed. Part of `make check`.
CROSS_CC  ?= aarch64-linux-gnu-gcc
CROSS_SRC := shim/prof_tramp.c shim/prof_tramp.S shim/interpose.c shim/dl.c shim/scope.c shim/elfsym.c shim/ident.c shim/cli/elfscan.c shim/cli/cmd_check.c
CROSS_OUT := $(BUILD)/cross-aarch64

.PHONY: cross-check
cross-check:
	@if command -v $(CROSS_CC) >/dev/null 2>&1; then \
		mkdir -p $(CROSS_OUT) && \
		for f in $(CROSS_SRC); do \
			$(CROSS_CC) -O2 $(REQ) -Werror -Ishim/cli -c -o $(CROSS_OUT)/$$(basename $$f .c).o $$f \
				|| exit 1; \
		done && \
		echo "cross-check: $(words $(CROSS_SRC)) files compile for aarch64 ($(CROSS_CC))"; \
	else \
		echo "cross-check: $(CROSS_CC) not installed; skipped"; \
	fi

check: cross-check
