# Fixtures, the test binary and the demo. Included by the Makefile.
