# A plugin calling libm (IFUNC'd functions). Included by the Makefile after mk/tests.mk.
$(FIX)/libm/libm_user.so: fixtures/libm/libm_user.c mk/libm.mk | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FIXTURE_CC) $(FIXTURE_BASE) $(FIXTURE_WARN) -o $@ $< -lm
fixtures: $(FIX)/libm/libm_user.so
$(TEST_BIN): | $(FIX)/libm/libm_user.so
# The test computes the expected values with its own libm.
$(TEST_BIN): CRITERION_LIBS += -lm
