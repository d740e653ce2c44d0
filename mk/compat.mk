# make compat — `plugin load` over every shared library of the system library directory, each in
# its own process bounded in time, against glibc's dlopen over the same files. Included by the
# Makefile (after BUILD, CC, CPPFLAGS, WARN, CFLAGS, MULTIARCH and DEPS_STAMP are defined).
#
#   make compat                          /usr/lib/<multiarch>, 10 s per file
#   make compat COMPAT_DIR=/some/dir COMPAT_TIMEOUT=5 COMPAT_JOBS=8
#
# Prints the count loaded, the count refused grouped by reason (paths, addresses and numbers
# normalized away), and the count crashed (killed by a signal or out of time), which must be 0:
# the target fails otherwise; and, for the files both load, how many initialize their objects in
# glibc's order. The per-file results are kept in $(BUILD)/compat/. Native lane only
# (the files are this machine's).

COMPAT_DIR     ?= /usr/lib/$(MULTIARCH)
COMPAT_TIMEOUT ?= 10
COMPAT_JOBS    ?= 4

# glibc's side: dlopen(RTLD_NOW | RTLD_LOCAL), a comparison tool (never linked into the library).
# Linked against the CLI's libraries (--no-as-needed keeps them): both processes then start with
# the same objects, and a dlopen initializes the same new ones as `plugin load` (the initializer
# order is compared).
$(BUILD)/compat/compat_dlopen: tests/compat_dlopen.c mk/compat.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< -Wl,--no-as-needed $(ELF_LIBS)

.PHONY: compat
compat: $(DEPS_STAMP) $(BUILD)/plugin $(BUILD)/compat/compat_dlopen
	@bash scripts/compat.sh --plugin $(BUILD)/plugin --oracle $(BUILD)/compat/compat_dlopen \
	  --dir $(COMPAT_DIR) --timeout $(COMPAT_TIMEOUT) --jobs $(COMPAT_JOBS) --out $(BUILD)/compat
