/*
 * hwcaps.c — the glibc-hwcaps subdirectories this process searches, asked of the CPU once.
 *
 * glibc 2.33 and later search, in every directory of a library search (RPATH, LD_LIBRARY_PATH,
 * RUNPATH, the system directories), glibc-hwcaps/<name>/ for each name the CPU supports, best
 * first, before the directory itself; the ld.so cache lists libraries of those subdirectories
 * too, and ld.so takes the best one the CPU supports. The names and the CPU test are per CPU
 * (arch/<cpu>/hwcaps.c): x86-64-v4, -v3, -v2 on x86-64, none on aarch64.
 */
#include "elf/hwcaps.h"

#include <pthread.h>
#include <string.h>

static struct elf_hwcaps caps;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;

static void ask_cpu(void)
{
    caps.n = arch_hwcaps_subdirs(caps.names);
    caps.isa = arch_isa_levels();
}

const struct elf_hwcaps *elf_hwcaps(void)
{
    pthread_once(&caps_once, ask_cpu);
    return &caps;
}

unsigned elf_hwcaps_priority(const char *name)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return (unsigned)i + 1;
    return 0;
}

bool elf_hwcaps_isa_ok(uint32_t level)
{
    const struct elf_hwcaps *h = elf_hwcaps();
    return h->isa == ARCH_ISA_ANY || (level < 32 && (h->isa >> level & 1u));
}
