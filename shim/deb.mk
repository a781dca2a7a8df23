# deb.mk - `make deb`: the Debian package, included by the Makefile.
#
#   make deb      ->  $(BUILD)/txcache_VERSION_ARCH.deb, checked by lintian
#
# dpkg-buildpackage runs in a copy of the tree, $(BUILD)/deb/src: it writes
# its results to the parent directory and runs `make clean` (which would
# delete $(BUILD)), neither of which may touch the checkout; and with none
# of this make's variables (MAKEFLAGS holds BUILD=...: the copy's `make
# clean` would delete this one's build directory). The package's
# version is debian/changelog's; it must be shim/version.h's, which
# `txcache --version` prints: checked here before the build, and by
# debian/rules against the built program. Lintian errors fail the build
# (LINTIAN= skips it); its warnings are printed. The package is rebuilt only
# when a file git knows changed, so a second `make deb` (tests/bats/69_deb)
# costs nothing.
DEB_DIR     := $(BUILD)/deb
DEB_STAMP   := $(BUILD)/deb.stamp
DEB_ARCH     = $(shell dpkg-architecture -qDEB_HOST_ARCH)
DEB_VERSION  = $(shell dpkg-parsechangelog -S Version)
DEB_FILE     = txcache_$(DEB_VERSION)_$(DEB_ARCH).deb
LINTIAN     ?= lintian
DPKG_BUILDPACKAGE_FLAGS ?= -us -uc -b -j2
# The files the package is built from (only looked for when deb is a goal).
DEB_INPUTS  := $(if $(filter deb,$(MAKECMDGOALS)),$(wildcard \
	$(shell git ls-files -co --exclude-standard 2>/dev/null)))

.PHONY: deb deb-version deb-force

deb: $(DEB_STAMP)
	@echo "deb: $(BUILD)/$$(cat '$(DEB_STAMP)')"

deb-version:
	@[ '$(DEB_VERSION)' = '$(TXC_VERSION)' ] || { echo "debian/changelog says \
	$(DEB_VERSION), shim/version.h says $(TXC_VERSION): add a changelog entry (dch -v)" >&2; exit 1; }

# The copy: the files git knows (tracked and new, as they are now), or
# everything but build directories when this is not a git checkout.
$(DEB_STAMP): $(or $(DEB_INPUTS),deb-force) | deb-version
	rm -rf '$(DEB_DIR)' '$@' && mkdir -p '$(DEB_DIR)/src'
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z -co --exclude-standard | \
			tar --null --ignore-failed-read -T - -cf - 2>/dev/null; \
	else tar --exclude-vcs --exclude='./build*' -cf - .; fi | tar -C '$(DEB_DIR)/src' -xf -
	cd '$(DEB_DIR)/src' && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD \
		dpkg-buildpackage $(DPKG_BUILDPACKAGE_FLAGS)
	if [ -n '$(LINTIAN)' ]; then $(LINTIAN) --fail-on error '$(DEB_DIR)/$(DEB_FILE)'; fi
	cp '$(DEB_DIR)/$(DEB_FILE)' '$(BUILD)/$(DEB_FILE)'
	echo '$(DEB_FILE)' >'$@'
