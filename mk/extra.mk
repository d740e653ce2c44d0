# Benchmark and fuzzer. Included by the Makefile (after BUILD, CC, CPPFLAGS, WARN, CFLAGS,
# SANFLAGS, ELF_LIBS, LIB_SRCS and DEPS_STAMP are defined).
#
#   make bench                      plugin_open / plugin_lookup against dlopen / dlsym: a table,
#                                   and $(BUILD)/bench/bench.csv, bench.json
#   make bench-plot                 PNGs of the last run (gnuplot, installed by scripts/deps.sh bench)
#   make fuzz [FUZZ_SECONDS=60]     build the libFuzzer target and run it that long
#   make fuzz-build                 only build $(BUILD)/fuzz/fuzz_elf and its seed corpus
#   make fuzz-regress               run every reproducer in fuzz/crashes once (stops at a crash)
#   FUZZ_ARGS='-jobs=2'             more libFuzzer flags
#
# The fuzzer is clang-only (libFuzzer): the library is recompiled with coverage and ASan + UBSan
# into $(BUILD)/fuzz/obj, separate from the normal objects.

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

# ---- fuzzer ----

FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_OUT     := $(BUILD)/fuzz
# UBSan includes -fsanitize=alignment: the loader refuses misaligned tables (fuzz/crashes/misaligned-*).
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

FUZZ_CFLAGS  := -O1 -g $(FUZZ_SAN)
FUZZ_OBJDIR  := $(FUZZ_OUT)/obj
FUZZ_BIN     := $(FUZZ_OUT)/fuzz_elf
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(LIB_SRCS))
FUZZ_HDRS    := $(wildcard include/*.h loader/*/*.h arch/*.h)

$(FUZZ_OBJDIR)/%.o: %.c $(FUZZ_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BIN): fuzz/fuzz_elf.c $(FUZZ_OBJS) $(FUZZ_HDRS)
	$(FUZZ_CC) $(CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	  -o $@ $< $(FUZZ_OBJS) $(ELF_LIBS)

# Seeds: fuzz/seed_plugin.c linked several ways (stripped, to keep inputs small), plus
# truncated copies of one of them. fuzz/crashes/* (reproducers of past findings) are seeds too.
SEED_DIR   := $(FUZZ_OUT)/seeds
SEED_NAMES := lazy now relr sysv symbolic versioned compact
SEEDS      := $(patsubst %,$(SEED_DIR)/seed_%.so,$(SEED_NAMES))
SEED_BASE  := -shared -fPIC -O1 -std=gnu11 -Wall -Wextra -Werror -s

$(SEED_DIR)/seed_lazy.so:      SEED_LDFLAGS := -Wl,-z,lazy
$(SEED_DIR)/seed_now.so:       SEED_LDFLAGS := -Wl,-z,now,-z,relro
$(SEED_DIR)/seed_relr.so:      SEED_LDFLAGS := -Wl,-z,pack-relative-relocs
$(SEED_DIR)/seed_sysv.so:      SEED_LDFLAGS := -Wl,--hash-style=sysv
$(SEED_DIR)/seed_symbolic.so:  SEED_LDFLAGS := -Wl,-Bsymbolic
$(SEED_DIR)/seed_versioned.so: SEED_LDFLAGS := -Wl,--version-script=fuzz/seed_plugin.map
$(SEED_DIR)/seed_compact.so:   SEED_LDFLAGS := -Wl,-z,noseparate-code,--hash-style=gnu,--build-id=none

$(SEED_DIR)/seed_%.so: fuzz/seed_plugin.c fuzz/seed_plugin.map | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(SEED_BASE) -o $@ $< $(SEED_LDFLAGS)

# Mach-O seeds for this CPU, both fixup generations (clang-19 / lld-19, no SDK needed).
MACHO_CPU   := $(if $(filter aarch64,$(ARCH)),arm64,x86_64)
MACHO_SEEDS := $(SEED_DIR)/seed_macho_info.dylib $(SEED_DIR)/seed_macho_chained.dylib
SEEDS       += $(MACHO_SEEDS)
$(SEED_DIR)/seed_macho.o: fuzz/seed_macho.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	/usr/lib/llvm-19/bin/clang -target $(MACHO_CPU)-apple-macos11 -O1 -c -o $@ $<
$(SEED_DIR)/seed_macho_info.dylib: $(SEED_DIR)/seed_macho.o
	/usr/lib/llvm-19/bin/ld64.lld -arch $(MACHO_CPU) -platform_version macos 11.0 11.0 -dylib \
	  -undefined dynamic_lookup -o $@ $<
$(SEED_DIR)/seed_macho_chained.dylib: $(SEED_DIR)/seed_macho.o
	/usr/lib/llvm-19/bin/ld64.lld -arch $(MACHO_CPU) -platform_version macos 11.0 11.0 -dylib \
	  -undefined dynamic_lookup -fixup_chains -o $@ $<

$(FUZZ_OUT)/.seeds-truncated: $(SEED_DIR)/seed_compact.so
	for n in 16 64 120 400 1000 2000 4000; do head -c $$n $< > $(SEED_DIR)/trunc_$$n.bin; done
	head -c $$(( $$(stat -c %s $<) - 8 )) $< > $(SEED_DIR)/trunc_end.bin
	@touch $@

# fuzz/crashes holds reproducers of past findings; they stay as seeds once fixed. While one is
# still open, `make fuzz` stops on it at once: FUZZ_SEED_DIRS='$(SEED_DIR)' leaves them out, or
# FUZZ_ARGS='-fork=2 -ignore_crashes=1' keeps fuzzing past crashes (each one saved as an artifact).
FUZZ_SEED_DIRS ?= $(SEED_DIR) $(wildcard fuzz/crashes)

.PHONY: fuzz fuzz-build fuzz-regress
fuzz-build: $(FUZZ_BIN) $(SEEDS) $(FUZZ_OUT)/.seeds-truncated

# The first directory receives what the fuzzer finds; the others are read-only seeds.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/corpus $(FUZZ_OUT)/artifacts
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	  -artifact_prefix=$(FUZZ_OUT)/artifacts/ $(FUZZ_ARGS) \
	  $(FUZZ_OUT)/corpus $(FUZZ_SEED_DIRS)

fuzz-regress: $(FUZZ_BIN)
	$(FUZZ_BIN) $(wildcard fuzz/crashes/*)
