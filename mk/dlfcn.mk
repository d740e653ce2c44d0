# The dlfcn layer (include/plugin_dlfcn.h): its fixtures and the ported dlopen program. Included by
# the Makefile after mk/tests.mk (FIX, FIXTURE_CC, FIXTURE_BASE, FIXTURE_WARN, TEST_BIN, EX).
#
#   $(FIX)/dlfcn/...            fixtures/dlfcn/README lists them; tests/core/test_dlfcn.c uses them
#   $(BUILD)/tests/dlhost       examples/dlhost.c (a <dlfcn.h> program ported by two lines), dynamic
#   $(BUILD)/tests/dlhost_static  the same, -static, from the library sources with plain flags
#                                 (like static_host: never sanitized)
#   $(EX)/dlmod_upper.so, $(EX)/dlmod_count.so  the modules it loads
DLF     := $(FIX)/dlfcn
DLF_CC   = $(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -Wl,--no-as-needed
DLF_FIXTURES := $(DLF)/hidden/libdltarget.so $(DLF)/dl_caller.so $(DLF)/dl_bfs_root.so $(DLF)/libdlglob.so \
                $(DLF)/dl_glob_user.so $(DLF)/libdlbase.so $(DLF)/dl_wrap.so
FIXTURES += $(DLF_FIXTURES)
fixtures: $(DLF_FIXTURES)

$(DLF)/hidden/libdltarget.so: fixtures/dlfcn/target.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -Wl,-soname,libdltarget.so -o $@ $<
# -fno-optimize-sibling-calls: the opener must be called from here, not jumped to.
$(DLF)/dl_caller.so: fixtures/dlfcn/caller.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -fno-optimize-sibling-calls -o $@ $< -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/hidden'
$(DLF)/libdlbfs_deep.so: fixtures/dlfcn/who.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -DWHO_FN=bfs_name '-DWHO="deep"' -Wl,-soname,libdlbfs_deep.so -o $@ $<
$(DLF)/libdlbfs_b.so: fixtures/dlfcn/who.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -DWHO_FN=bfs_name '-DWHO="b"' -Wl,-soname,libdlbfs_b.so -o $@ $<
$(DLF)/libdlbfs_a.so: fixtures/dlfcn/who.c $(DLF)/libdlbfs_deep.so
	$(DLF_CC) -DWHO_FN=a_name '-DWHO="a"' -Wl,-soname,libdlbfs_a.so -o $@ $< -L$(DLF) -ldlbfs_deep \
	  -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'
$(DLF)/dl_bfs_root.so: fixtures/dlfcn/who.c $(DLF)/libdlbfs_a.so $(DLF)/libdlbfs_b.so
	$(DLF_CC) -DWHO_FN=root_name '-DWHO="root"' -o $@ $< -L$(DLF) -ldlbfs_a -ldlbfs_b \
	  -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'
$(DLF)/libdlglob.so: fixtures/dlfcn/who.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -DWHO_FN=dl_glob_name '-DWHO="glob"' -Wl,-soname,libdlglob.so -o $@ $<
$(DLF)/dl_glob_user.so: fixtures/dlfcn/glob_user.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -o $@ $<
$(DLF)/libdlbase.so: fixtures/dlfcn/base.c mk/dlfcn.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DLF_CC) -Wl,-soname,libdlbase.so -o $@ $<
$(DLF)/dl_wrap.so: fixtures/dlfcn/wrap.c $(DLF)/libdlbase.so
	$(DLF_CC) -o $@ $< -L$(DLF) -ldlbase -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'

# The ported program, and its modules (examples/, built by the demo's rule for $(EX)/%.so).
DLHOST_DEPS := examples/dlhost.c include/plugin.h include/plugin_dlfcn.h
$(BUILD)/tests/dlhost: $(DLHOST_DEPS) $(BUILD)/libplugin.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)
$(BUILD)/tests/dlhost_static: $(DLHOST_DEPS) $(LIB_SRCS) $(wildcard loader/*/*.h arch/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -static $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(LIB_SRCS) -lelf -lz -lpthread
$(TEST_BIN): | $(DLF_FIXTURES) $(BUILD)/tests/dlhost $(BUILD)/tests/dlhost_static $(EX)/dlmod_upper.so $(EX)/dlmod_count.so
