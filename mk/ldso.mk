# Fixtures and a host for fidelity to ld.so (issue 10): glibc-hwcaps subdirectories, objects
# linked -z nodlopen, thread-local blocks from the process's malloc. Included by the Makefile
# after mk/tests.mk.
#
#   $(FIX)/hwcaps/a/libhw.so                       hw_level() = 1 (the directory itself)
#   $(FIX)/hwcaps/a/glibc-hwcaps/x86-64-v2/        ... = 2
#   $(FIX)/hwcaps/a/glibc-hwcaps/x86-64-v9/        ... = 9 (a level that does not exist)
#   $(FIX)/hwcaps/b/libhw.so and glibc-hwcaps/x86-64-v{2,3,4}/   1, 2, 3, 4
#   $(FIX)/hwcaps/user_a.so, user_b.so             need libhw.so, DT_RUNPATH $ORIGIN/a or /b
#   $(FIX)/hwcaps/user_bare.so                     needs libhw.so, no path of its own
#   $(FIX)/nodlopen/libnoopen.so                   linked -z nodlopen (DF_1_NOOPEN)
#   $(FIX)/nodlopen/noopen_user.so                 needs libnoopen.so, DT_RUNPATH $ORIGIN
#   $(BUILD)/tests/malloc_host                     replaces malloc; loads a TLS fixture (never
#                                                  sanitized: ASan brings its own malloc)
#   $(BUILD)/tests/noopen_host                     linked against libnoopen.so (so it is in the
#                                                  process before any open)

HW_FIX    := $(FIX)/hwcaps
HW_CC      = $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,--no-as-needed
HW_LIBS   := $(HW_FIX)/a/libhw.so $(HW_FIX)/a/glibc-hwcaps/x86-64-v2/libhw.so \
             $(HW_FIX)/a/glibc-hwcaps/x86-64-v9/libhw.so \
             $(HW_FIX)/b/libhw.so $(HW_FIX)/b/glibc-hwcaps/x86-64-v2/libhw.so \
             $(HW_FIX)/b/glibc-hwcaps/x86-64-v3/libhw.so $(HW_FIX)/b/glibc-hwcaps/x86-64-v4/libhw.so
# The level is the digit of the subdirectory's name (1 for the directory itself).
hw_level_of = $(or $(patsubst x86-64-v%,%,$(filter x86-64-v%,$(subst /, ,$(1)))),1)

$(HW_LIBS): fixtures/hwcaps/hw.c mk/ldso.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(HW_CC) -DHW_LEVEL=$(call hw_level_of,$@) -Wl,-soname,libhw.so -o $@ $<
$(HW_FIX)/user_a.so $(HW_FIX)/user_b.so: $(HW_FIX)/user_%.so: fixtures/hwcaps/hw_user.c $(HW_FIX)/%/libhw.so
	$(HW_CC) -o $@ $< -L$(HW_FIX)/$* -lhw -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/$*'
$(HW_FIX)/user_bare.so: fixtures/hwcaps/hw_user.c $(HW_FIX)/a/libhw.so
	$(HW_CC) -o $@ $< -L$(HW_FIX)/a -lhw

NOOPEN_FIX := $(FIX)/nodlopen
$(NOOPEN_FIX)/libnoopen.so: fixtures/deps/dep.c mk/ldso.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(HW_CC) -DDEP_NAME=noopen -DDEP_VALUE=17 -Wl,-soname,libnoopen.so -Wl,-z,nodlopen -o $@ $<
$(NOOPEN_FIX)/noopen_user.so: fixtures/deps/user.c $(NOOPEN_FIX)/libnoopen.so
	$(HW_CC) -DUSER_NAME=noopen_user -DUSER_DEP1=noopen -o $@ $< -L$(NOOPEN_FIX) -lnoopen \
	  -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'

LDSO_FIXTURES := $(HW_LIBS) $(HW_FIX)/user_a.so $(HW_FIX)/user_b.so $(HW_FIX)/user_bare.so \
                 $(NOOPEN_FIX)/libnoopen.so $(NOOPEN_FIX)/noopen_user.so

# Built straight from the library sources with the plain flags, as the static host is.
MALLOC_HOST := $(BUILD)/tests/malloc_host
$(MALLOC_HOST): tests/malloc_host.c $(LIB_SRCS) $(TEST_HDRS) mk/ldso.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/malloc_host.c $(LIB_SRCS) $(ELF_LIBS)

NOOPEN_HOST := $(BUILD)/tests/noopen_host
$(NOOPEN_HOST): tests/noopen_host.c $(LIB_SRCS) $(TEST_HDRS) $(NOOPEN_FIX)/libnoopen.so mk/ldso.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ tests/noopen_host.c $(LIB_SRCS) $(ELF_LIBS) \
	  -L$(NOOPEN_FIX) -lnoopen -Wl,-rpath,$(abspath $(NOOPEN_FIX))

fixtures: $(LDSO_FIXTURES)
$(TEST_BIN): | $(LDSO_FIXTURES) $(MALLOC_HOST) $(NOOPEN_HOST)
