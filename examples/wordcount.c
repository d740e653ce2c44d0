/*
 * wordcount.c — a second example plugin, one that leans on the C library (isspace, snprintf,
 * puts): every such call goes through a relocation that the loader binds to the process's
 * libc.so.6. It also has an initializer, which the loader runs once, when the plugin is opened.
 */
#include <ctype.h>
#include <stdio.h>

static long words_counted;                  /* static: not visible to plugin_lookup */

__attribute__((constructor)) static void announce(void)
{
    puts("wordcount.so: initializer called");
}

/* The number of words (runs of non-space characters) in text. */
long count_words(const char *text)
{
    long n = 0;
    int in_word = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isspace(*p))
            in_word = 0;
        else if (!in_word)
            in_word = 1, n++;
    }
    words_counted += n;
    return n;
}

/* How many words count_words has seen so far. */
long total_words(void)
{
    return words_counted;
}

/* How many characters n takes when written in decimal (for `plugin call ... digits N`). */
long digits(long n)
{
    char buf[32];
    return snprintf(buf, sizeof buf, "%ld", n);
}
