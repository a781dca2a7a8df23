# install.mk - `make install` and `make uninstall`, included by the Makefile.
#
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]
#
# Installs the shim as libtxcache.so.0 (its soname) with the libtxcache.so
# link for -ltxcache, include/txcache.h, txcache.pc for pkg-config, the
# txcache command and the man pages txcache(1) and txcache.ini(5).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
TXC_VERSION := $(shell sed -n 's/^#define TXC_VERSION "\(.*\)"$$/\1/p' shim/version.h)
INSTALL     ?= install
# The compiler's multiarch name (x86_64-linux-gnu), or nothing: `txcache run`
# and `txcache check` also look for the shim in ../lib/MULTIARCH, where
# Debian puts libraries (shim/cli/shimpath.h).
MULTIARCH   ?= $(shell $(CC) -print-multiarch 2>/dev/null)

.PHONY: install uninstall

$(BUILD)/obj/cli/shimpath.o: REQ += $(if $(MULTIARCH),-DTXC_MULTIARCH='"$(MULTIARCH)"')

# The soname link, so programs linked against build/ run from build/.
all: $(BUILD)/libtxcache.so.0
$(BUILD)/libtxcache.so.0: $(BUILD)/libtxcache.so
	ln -sf libtxcache.so $@

$(BUILD)/txcache.pc: shim/txcache.pc.in shim/install.mk | $(BUILD)/obj/cli
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(TXC_VERSION)|g' $< >$@

# The .pc file depends on PREFIX: regenerate it on every install.
install: all
	@rm -f $(BUILD)/txcache.pc
	@$(MAKE) --no-print-directory $(BUILD)/txcache.pc PREFIX='$(PREFIX)' LIBDIR='$(LIBDIR)' \
		INCLUDEDIR='$(INCLUDEDIR)'
	$(INSTALL) -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(INCLUDEDIR)' \
		'$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(MANDIR)/man5'
	$(INSTALL) -m 0755 $(BUILD)/txcache '$(DESTDIR)$(BINDIR)/txcache'
	$(INSTALL) -m 0755 $(BUILD)/libtxcache.so '$(DESTDIR)$(LIBDIR)/libtxcache.so.0'
	ln -sf libtxcache.so.0 '$(DESTDIR)$(LIBDIR)/libtxcache.so'
	$(INSTALL) -m 0644 include/txcache.h '$(DESTDIR)$(INCLUDEDIR)/txcache.h'
	$(INSTALL) -m 0644 $(BUILD)/txcache.pc '$(DESTDIR)$(PKGCONFIGDIR)/txcache.pc'
	$(INSTALL) -m 0644 shim/man/txcache.1 '$(DESTDIR)$(MANDIR)/man1/txcache.1'
	$(INSTALL) -m 0644 shim/man/txcache.ini.5 '$(DESTDIR)$(MANDIR)/man5/txcache.ini.5'

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/txcache' '$(DESTDIR)$(LIBDIR)/libtxcache.so.0' \
		'$(DESTDIR)$(LIBDIR)/libtxcache.so' '$(DESTDIR)$(INCLUDEDIR)/txcache.h' \
		'$(DESTDIR)$(PKGCONFIGDIR)/txcache.pc' '$(DESTDIR)$(MANDIR)/man1/txcache.1' \
		'$(DESTDIR)$(MANDIR)/man5/txcache.ini.5'
