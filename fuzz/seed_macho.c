/* seed_macho.c — a small Mach-O plugin for the fuzz target's seed corpus: rebased pointers, a
 * flat-lookup import, a weak import, an initializer and a thread-local variable. Freestanding:
 * it is built with clang-19 -target <cpu>-apple-macos11 and no macOS SDK. */
extern int host_value(void);
extern int maybe(void) __attribute__((weak_import));
int counter = 5;
int *ptr = &counter;
const char *const names[] = { "a", "bb", "ccc" };
__thread int tv = 3;
int get(void) { return *ptr + host_value() + (maybe ? maybe() : 0) + tv; }
__attribute__((constructor)) static void init(void) { counter += host_value(); }
