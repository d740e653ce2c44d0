# Benchmark and fuzzer. Included by the Makefile (after BUILD, CC, CPPFLAGS, WARN, CFLAGS,
# SANFLAGS, ELF_LIBS, LIB_SRCS and DEPS_STAMP are defined).
#
#   make bench                      plugin_open / plugin_lookup against dlopen / dlsym: a table,
#                                   and $(BUILD)/bench/bench.csv, bench.json
#   make bench-plot                 PNGs of the last run (gnuplot, installed by scripts/deps.sh bench)
#   make fuzz [FUZZ_SECONDS=60]     build the libFuzzer targets and run EVERY one that long
#   make fuzz-smoke                 each target briefly (FUZZ_SMOKE_SECONDS=25), then the reproducers
#   make fuzz-build                 only build $(BUILD)/fuzz/fuzz_* and their seed corpora
#   make fuzz-regress               run every reproducer in fuzz/crashes through every target once
#   FUZZ_TARGETS='elf macho'        fuzz only these (elf macho describe ldcache)
#   FUZZ_ARGS='-jobs=2'             more libFuzzer flags
#
# The fuzzers are clang-only (libFuzzer): the library is recompiled with coverage and ASan + UBSan
# into $(BUILD)/fuzz/obj, separate from the normal objects. Each run ends with libFuzzer's last
# status line (execs, cov, ft), also kept in $(BUILD)/fuzz/logs/<target>.log.

# ---- benchmark ----

BENCH_OUT := $(BUILD)/bench

# The benchmark's own plugin, twice: one copy for each loader (see bench/bench.c).
$(BENCH_OUT)/bench_plugin.so: bench/bench_plugin.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<
$(BENCH_OUT)/bench_plugin_glibc.so $(BENCH_OUT)/bench_plugin_warm.so $(BENCH_OUT)/bench_plugin_glibc_warm.so: \
    $(BENCH_OUT)/bench_plugin.so
	cp $< $@

# libelf and zlib are linked statically: with the shared libelf, libz.so.1 would already be in
# the process and its "cold" open would be a cache hit for both loaders.
$(BENCH_OUT)/bench: bench/bench.c $(BUILD)/libplugin.a include/plugin.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a \
	  -Wl,-Bstatic -lelf -lz -Wl,-Bdynamic -lpthread -ldl

# Generated objects with many relocations (bench/gen_relocs.sh): N relative and N/10 symbolic,
# for the growth series, and 200k + 20k for the large case. Each also twice (one per loader).
BENCH_RELOCS := 1000 10000 100000 200000 1000000
BENCH_GEN    := $(foreach n,$(BENCH_RELOCS),$(BENCH_OUT)/bench_relocs_$(n).so $(BENCH_OUT)/bench_relocs_$(n)_glibc.so)
$(BENCH_OUT)/bench_relocs_%.s: bench/gen_relocs.sh
	@mkdir -p $(dir $@)
	sh bench/gen_relocs.sh $* $$(( $* / 10 )) > $@
$(BENCH_OUT)/bench_relocs_%.so: $(BENCH_OUT)/bench_relocs_%.s | $(DEPS_STAMP)
	gcc -shared -fPIC -o $@ $<
$(BENCH_OUT)/bench_relocs_%_glibc.so: $(BENCH_OUT)/bench_relocs_%.so
	cp $< $@
.PRECIOUS: $(BENCH_OUT)/bench_relocs_%.s

.PHONY: bench bench-plot
bench: $(BENCH_OUT)/bench $(BENCH_OUT)/bench_plugin.so $(BENCH_OUT)/bench_plugin_glibc.so \
       $(BENCH_OUT)/bench_plugin_warm.so $(BENCH_OUT)/bench_plugin_glibc_warm.so $(BENCH_GEN)
	$(BENCH_OUT)/bench $(BENCH_OUT)

# Ratios per case, and open time against relocations for both loaders, from the last run.
bench-plot:
	@bash scripts/deps.sh bench
	@test -f $(BENCH_OUT)/bench.csv || { echo "make bench first"; exit 1; }
	gnuplot -e "csv='$(BENCH_OUT)/bench.csv'; out='$(BENCH_OUT)'" bench/plot.gp
	@echo "plots: $(BENCH_OUT)/bench-ratios.png $(BENCH_OUT)/bench-growth.png"

# ---- fuzzers ----
#
#   fuzz_elf       plugin_open_memory of an ELF image with PLUGIN_NO_RUN, then lookups (the export
#                  table, versioned lookups), plugin_addr_info, a resolve callback (fuzz_open.c)
#   fuzz_macho     the same for Mach-O, thin and universal (fat seeds of both CPUs)
#   fuzz_describe  what `plugin info` / `plugin symbols` read, both formats, any CPU: the CLI's own
#                  commands (tools/inspect_*.c) over the input as a file, and the readers over memory
#   fuzz_ldcache   the ld.so cache parser (loader/elf/ldcache.c) over the input's bytes

FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_ARGS    ?=
FUZZ_OUT     := $(BUILD)/fuzz
FUZZ_ALL     := elf macho describe ldcache
FUZZ_TARGETS ?= $(FUZZ_ALL)
# UBSan includes -fsanitize=alignment: the loader refuses misaligned tables (fuzz/crashes/misaligned-*).
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

FUZZ_CFLAGS  := -O1 -g $(FUZZ_SAN)
FUZZ_OBJDIR  := $(FUZZ_OUT)/obj
FUZZ_BINS    := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_ALL))
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(LIB_SRCS))
FUZZ_TOOLS   := $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,tools/inspect_elf.c tools/inspect_macho.c tools/text_out.c)
FUZZ_HDRS    := $(wildcard include/*.h loader/*/*.h arch/*.h tools/*.h fuzz/*.h)

.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TOOLS) $(FUZZ_OBJDIR)/fuzz/fuzz_open.o

$(FUZZ_OBJDIR)/%.o: %.c $(FUZZ_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Every target: its own source, the shared open/check code, the library (and the CLI's readers).
$(FUZZ_OUT)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJDIR)/fuzz/fuzz_open.o $(FUZZ_OBJS) $(FUZZ_TOOLS) $(FUZZ_HDRS)
	$(FUZZ_CC) $(CPPFLAGS) -Ifuzz -std=gnu11 -Wall -Wextra -Werror $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(FUZZ_OBJDIR)/fuzz/fuzz_open.o $(FUZZ_OBJS) $(FUZZ_TOOLS) $(ELF_LIBS)

# ---- seed corpora: $(SEED_DIR)/<target>/ ----
# ELF: fuzz/seed_plugin.c linked several ways (stripped, to keep inputs small), truncated copies of
# one of them, and every ELF fixture (stripped copies, the other CPU's objects included). Mach-O:
# fuzz/seed_macho.c for both CPUs in both fixup styles, universal files of them (32- and 64-bit fat
# headers), and every Mach-O fixture (dylibs, bundles, universal files). describe: both.
# ldcache: this system's /etc/ld.so.cache and truncated copies. fuzz/crashes/* (reproducers of
# past findings) are seeds of every target too.
SEED_DIR   := $(FUZZ_OUT)/seeds
SEED_NAMES := lazy now relr sysv symbolic versioned compact
SEEDS      := $(patsubst %,$(SEED_DIR)/elf/seed_%.so,$(SEED_NAMES))
SEED_BASE  := -shared -fPIC -O1 -std=gnu11 -Wall -Wextra -Werror -s
LLVM_STRIP := /usr/lib/llvm-19/bin/llvm-strip

$(SEED_DIR)/elf/seed_lazy.so:      SEED_LDFLAGS := -Wl,-z,lazy
$(SEED_DIR)/elf/seed_now.so:       SEED_LDFLAGS := -Wl,-z,now,-z,relro
$(SEED_DIR)/elf/seed_relr.so:      SEED_LDFLAGS := -Wl,-z,pack-relative-relocs
$(SEED_DIR)/elf/seed_sysv.so:      SEED_LDFLAGS := -Wl,--hash-style=sysv
$(SEED_DIR)/elf/seed_symbolic.so:  SEED_LDFLAGS := -Wl,-Bsymbolic
$(SEED_DIR)/elf/seed_versioned.so: SEED_LDFLAGS := -Wl,--version-script=fuzz/seed_plugin.map
$(SEED_DIR)/elf/seed_compact.so:   SEED_LDFLAGS := -Wl,-z,noseparate-code,--hash-style=gnu,--build-id=none

$(SEED_DIR)/elf/seed_%.so: fuzz/seed_plugin.c fuzz/seed_plugin.map | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(SEED_BASE) -o $@ $< $(SEED_LDFLAGS)

# Mach-O seeds for both CPUs, both fixup generations (clang-19 / lld-19, no SDK needed), and
# universal files of the two CPUs' builds.
SEED_MACHO  := $(SEED_DIR)/macho
MACHO_SEEDS := $(foreach c,x86_64 arm64,$(SEED_MACHO)/seed_info.$(c).dylib $(SEED_MACHO)/seed_chained.$(c).dylib) \
               $(SEED_MACHO)/seed_fat.dylib $(SEED_MACHO)/seed_fat64.dylib
SEEDS       += $(MACHO_SEEDS)
$(SEED_MACHO)/obj/seed.%.o: fuzz/seed_macho.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	/usr/lib/llvm-19/bin/clang -target $*-apple-macos11 -O1 -c -o $@ $<
$(SEED_MACHO)/seed_info.%.dylib: $(SEED_MACHO)/obj/seed.%.o
	/usr/lib/llvm-19/bin/ld64.lld -arch $* -platform_version macos 11.0 11.0 -dylib \
	  -undefined dynamic_lookup -o $@ $<
$(SEED_MACHO)/seed_chained.%.dylib: $(SEED_MACHO)/obj/seed.%.o
	/usr/lib/llvm-19/bin/ld64.lld -arch $* -platform_version macos 11.0 11.0 -dylib \
	  -undefined dynamic_lookup -fixup_chains -o $@ $<
$(SEED_MACHO)/seed_fat.dylib: $(SEED_MACHO)/seed_chained.x86_64.dylib $(SEED_MACHO)/seed_info.arm64.dylib
	/usr/lib/llvm-19/bin/llvm-lipo -create $^ -output $@
$(SEED_MACHO)/seed_fat64.dylib: $(SEED_MACHO)/seed_info.x86_64.dylib $(SEED_MACHO)/seed_chained.arm64.dylib
	/usr/lib/llvm-19/bin/llvm-lipo -create -fat64 $^ -output $@

$(FUZZ_OUT)/.seeds-truncated: $(SEED_DIR)/elf/seed_compact.so
	for n in 16 64 120 400 1000 2000 4000; do head -c $$n $< > $(SEED_DIR)/elf/trunc_$$n.bin; done
	head -c $$(( $$(stat -c %s $<) - 8 )) $< > $(SEED_DIR)/elf/trunc_end.bin
	@touch $@

# The fixtures (mk/tests.mk, mk/macho.mk), copied as seeds: ELF ones stripped (llvm-strip reads
# both CPUs), Mach-O ones as they are. Files over 256 KiB are left out (slow to mutate).
$(FUZZ_OUT)/.seeds-fixtures: | fixtures
	@mkdir -p $(SEED_DIR)/elf $(SEED_DIR)/macho
	find $(FIX) -name '*.so' -size -256k -not -path '*/initgraph/*' | while read -r f; do \
	  n=fix_$$(echo "$${f#$(FIX)/}" | tr / _); $(LLVM_STRIP) --strip-all -o $(SEED_DIR)/elf/$$n "$$f"; done
	find $(FIX)/macho \( -name '*.dylib' -o -name '*.bundle' \) -size -256k | while read -r f; do \
	  cp "$$f" $(SEED_DIR)/macho/fix_$$(echo "$${f#$(FIX)/macho/}" | tr / _); done
	@touch $@

$(FUZZ_OUT)/.seeds-ldcache:
	@mkdir -p $(SEED_DIR)/ldcache
	cp /etc/ld.so.cache $(SEED_DIR)/ldcache/ld.so.cache
	for n in 16 48 200 1000; do head -c $$n /etc/ld.so.cache > $(SEED_DIR)/ldcache/trunc_$$n.bin; done
	@touch $@

# Which seed directories each target reads (the corpus it writes comes first, see below).
FUZZ_SEEDS_elf      := $(SEED_DIR)/elf
FUZZ_SEEDS_macho    := $(SEED_DIR)/macho
FUZZ_SEEDS_describe := $(SEED_DIR)/elf $(SEED_DIR)/macho
FUZZ_SEEDS_ldcache  := $(SEED_DIR)/ldcache
# fuzz_describe calls the CLI's commands, which print: -close_fd_mask=3 keeps that off the terminal.
FUZZ_FLAGS_describe := -close_fd_mask=3
# The loading targets keep every image that loads (handles are never freed): -fork=1 runs them in
# child processes that libFuzzer restarts every few seconds (1 s, 2 s, ... up to 300 s), so memory
# stays bounded over a long campaign; a crash, leak or timeout in a child still ends the run.
FUZZ_FLAGS_elf      := -fork=1
FUZZ_FLAGS_macho    := -fork=1

# fuzz/crashes holds reproducers of past findings; they stay as seeds once fixed. While one is
# still open, `make fuzz` stops on it at once: FUZZ_CRASH_SEEDS= leaves them out, or
# FUZZ_ARGS='-fork=2 -ignore_crashes=1' keeps fuzzing past crashes (each one saved as an artifact).
FUZZ_CRASH_SEEDS ?= $(wildcard fuzz/crashes)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-smoke
fuzz-build: $(FUZZ_BINS) $(SEEDS) $(FUZZ_OUT)/.seeds-truncated $(FUZZ_OUT)/.seeds-fixtures \
            $(FUZZ_OUT)/.seeds-ldcache

# fuzz/run.sh runs one target and prints its last status line (execs, cov, ft) and final stats.
FUZZ_RUN = sh fuzz/run.sh $(FUZZ_OUT) $(1) $(2) '$(FUZZ_FLAGS_$(1)) $(FUZZ_ARGS)' $(FUZZ_SEEDS_$(1)) $(FUZZ_CRASH_SEEDS)

fuzz: fuzz-build
	@$(foreach t,$(FUZZ_TARGETS),$(call FUZZ_RUN,$(t),$(FUZZ_SECONDS)) &&) true

# CI: every target briefly (4 x 20 s by default, about 100 s with the fork overshoot), then every reproducer through every target.
fuzz-smoke: fuzz-build
	@$(foreach t,$(FUZZ_TARGETS),$(call FUZZ_RUN,$(t),$(FUZZ_SMOKE_SECONDS)) &&) true
	@$(MAKE) --no-print-directory fuzz-regress

# Every reproducer through every target (each target takes any bytes: a Mach-O reproducer found by
# one target is valid input for the ELF and describe targets too). A crash fails the run.
fuzz-regress: $(FUZZ_BINS)
	@for t in $(FUZZ_ALL); do echo "== fuzz_$$t: $(words $(wildcard fuzz/crashes/*)) reproducers"; \
	  ASAN_OPTIONS=detect_leaks=1 $(FUZZ_OUT)/fuzz_$$t $(FUZZ_FLAGS_$$t) $(wildcard fuzz/crashes/*) \
	    > $(FUZZ_OUT)/regress_$$t.log 2>&1 || { tail -40 $(FUZZ_OUT)/regress_$$t.log; exit 1; }; done
	@echo "fuzz-regress: every reproducer passed through every target"
