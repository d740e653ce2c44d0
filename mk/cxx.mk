# C++: the plugin fixtures/cxx/cxx_plugin.cpp and the C++ host tests/cxx_host.cpp (which links
# libplugin.a). Included by the Makefile after mk/tests.mk. Used by tests/elf/test_cxx.c.
#
#   $(FIX)/cxx/cxx_plugin.so    g++ (aarch64-linux-gnu-g++ in that lane), needs libstdc++.so.6
#   $(BUILD)/tests/cxx_host     the host that catches the plugin's exceptions (run by the test)
#   $(FIX)/cxx/uniq_inline_{a,b}.so  fixtures/cxx/uniq_inline.cpp twice: an inline function's static
#                               local, a unique symbol (tests/elf/test_scope.c)
#
# Neither is sanitized except the host's own code with SANITIZE (it links the library like any
# program using it would).

FIXTURE_CXX := $(CROSS)g++
CXX_WARN    := -std=c++17 -Wall -Wextra -Werror
CXX_PLUGIN  := $(FIX)/cxx/cxx_plugin.so
CXX_HOST    := $(BUILD)/tests/cxx_host

$(CXX_PLUGIN): fixtures/cxx/cxx_plugin.cpp mk/cxx.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CXX) -shared -fPIC -O1 -g $(CXX_WARN) -o $@ $<

CXX_UNIQ := $(FIX)/cxx/uniq_inline_a.so $(FIX)/cxx/uniq_inline_b.so
$(FIX)/cxx/uniq_inline_%.so: fixtures/cxx/uniq_inline.cpp mk/cxx.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CXX) -shared -fPIC -O1 -g $(CXX_WARN) -DUNIQ_WHO=$* -o $@ $<

$(CXX_HOST): tests/cxx_host.cpp include/plugin.h mk/cxx.mk $(BUILD)/libplugin.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CXX) $(CPPFLAGS) $(CXX_WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libplugin.a $(ELF_LIBS)

fixtures: $(CXX_PLUGIN) $(CXX_UNIQ)
$(TEST_BIN): | $(CXX_PLUGIN) $(CXX_HOST) $(CXX_UNIQ)
