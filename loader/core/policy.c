/*
 * policy.c — the security policy: every rule the loader applies to what it loads, stated here
 * and decided here. Every place that meets a security question asks this file; the front ends
 * only find the facts (a flag in a header, the place of a relocation, a path element).
 *
 * The rules (include/plugin.h, "Security policy", and the README say the same):
 *
 *   1. W^X. No mapping is ever writable and executable at once: a segment that asks for both is
 *      refused when its header is read (policy_segment), and every mmap and mprotect of the
 *      loader, all in core/vm.c, asks policy_prot first.
 *   2. Text relocations are refused: DT_TEXTREL / DF_TEXTREL, and any relocation or fixup
 *      whose place is in a segment that is not writable (policy_text_relocation).
 *   3. An executable stack is refused: PT_GNU_STACK with PF_X (policy_exec_stack). The stack of
 *      the process is never made executable.
 *   4. RELRO is enforced: PT_GNU_RELRO (and Mach-O's SG_READ_ONLY segments) become read-only
 *      once relocation is done, before any code of the object runs; the pages are those glibc
 *      protects (policy_relro_pages); a failed mprotect fails the open.
 *   5. PLUGIN_TRUSTED_FILES_ONLY: the plugin and every dependency file this open loads must be
 *      owned by the effective user or by root and not writable by group or others (an ACL
 *      that grants write shows in the group bits). Checked with fstat on the descriptor the
 *      loader maps from, never on the path, so the file checked is the file mapped. The
 *      directories on the way are not checked (ld.so checks nothing): a name in a writable
 *      directory can be pointed at another file, but that file must pass the same test, so
 *      every byte mapped was written by a trusted user. Memory images are the caller's bytes
 *      and are not checked; their dependency files are (policy_trusted_file).
 *   6. PLUGIN_CONFINE_DEPS: dependencies are searched for only in the options' search_paths
 *      (no LD_LIBRARY_PATH, RPATH, RUNPATH, ld.so cache, system directories, @rpath,
 *      @loader_path, @executable_path), and every dependency file this open loads must lie
 *      beneath one of those directories: the path of the opened descriptor (the kernel's,
 *      /proc/self/fd, all symlinks and ".." resolved) must start with the realpath of one of
 *      them. A DT_NEEDED path or a symlink that leads elsewhere is refused, not skipped.
 *      Objects already in the process (libc.so.6, objects earlier opens loaded) are reused by
 *      name wherever they came from: no new code is mapped for them. The plugin itself is the
 *      caller's choice and is not confined (policy_confined, policy_confined_file).
 *   7. Secure mode (AT_SECURE: a set-user-ID or set-group-ID process, or one that gained
 *      capabilities), as glibc 2.36's ld.so: LD_LIBRARY_PATH is ignored (policy_library_path);
 *      in RPATH and RUNPATH, $ORIGIN is honoured only as the first thing of a path element,
 *      alone or followed by '/' — an element with $ORIGIN elsewhere is dropped — and when it
 *      comes from the executable's own RPATH, the expanded path, "." and ".." resolved as
 *      text, must lie in a system directory (policy_origin, policy_origin_path); relative
 *      path elements are dropped (they always are here), and so is a relative DT_NEEDED path
 *      (ld.so would open it from the current directory: policy_relative_needed) and Mach-O's
 *      @executable_path (dyld refuses it in restricted processes: policy_executable_path).
 *      PLUGIN_DEBUG is ignored (policy_debug_env): its lines would give the load addresses of
 *      a privileged process to whoever started it (glibc honours LD_DEBUG there; we do not).
 *
 * Refusals under rules 1-3 are PLUGIN_ERR_UNSUPPORTED (the file asks for something we never
 * do); under 5 and 6, PLUGIN_ERR_POLICY (the file is fine, the caller's option refuses it);
 * under 7, what is dropped is simply not searched (a dependency then is not found, as with
 * ld.so). Every message names the file and the rule.
 */
#include "core/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- rules 1 to 4: what a mapping and a relocation may be -------------------------------- */

int policy_prot(const char *file, int prot, struct diag *d)
{
    if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, file,
                         "refusing a writable and executable mapping (W^X)");
    return 0;
}

int policy_segment(const char *file, const char *seg, uint32_t flags, struct diag *d)
{
    if ((flags & SEG_W) && (flags & SEG_X))
        return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, file, "segment %s is both writable and executable (W^X)", seg);
    return 0;
}

int policy_text_relocation(const char *file, const char *what, struct diag *d)
{
    return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, file, "%s (a text relocation): rebuild it with -fPIC", what);
}

int policy_exec_stack(const char *file, const char *what, struct diag *d)
{
    return diag_fail(d, PLUGIN_ERR_UNSUPPORTED, file, "asks for an executable stack (%s): refused", what);
}

/* glibc's _dl_protect_relro: from the start of RELRO rounded down to its end rounded down (the
 * last partial page also holds data that stays writable). */
bool policy_relro_pages(const struct image *im, uintptr_t *start, uintptr_t *end)
{
    uintptr_t page = vm_page_size();
    if (!im->relro_memsz)
        return false;
    *start = (im->bias + im->relro_vaddr) & ~(page - 1);
    *end = (im->bias + im->relro_vaddr + im->relro_memsz) & ~(page - 1);
    return *end > *start;
}

/* ---- rule 5: trusted files ----------------------------------------------------------------- */

static unsigned load_flags(const struct load *ld)
{
    return ld->opts ? ld->opts->flags : 0;
}

int policy_trusted_file(const struct load *ld, const struct source *s, struct diag *d)
{
    struct stat st;
    if (!(load_flags(ld) & PLUGIN_TRUSTED_FILES_ONLY) || s->mem)
        return 0;
    if (fstat(s->fd, &st) != 0)
        return diag_fail(d, PLUGIN_ERR_IO, s->name, "cannot stat: %s", strerror(errno));
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return diag_fail(d, PLUGIN_ERR_POLICY, s->name,
                         "refused by PLUGIN_TRUSTED_FILES_ONLY: owned by uid %u, neither root nor the effective user (uid %u)",
                         (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return diag_fail(d, PLUGIN_ERR_POLICY, s->name,
                         "refused by PLUGIN_TRUSTED_FILES_ONLY: writable by %s (mode %04o)",
                         (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
    return 0;
}

/* ---- rule 6: confined dependencies ------------------------------------------------------- */

bool policy_confined(const struct load *ld)
{
    return (load_flags(ld) & PLUGIN_CONFINE_DEPS) != 0;
}

/* real is path (canonical) or something beneath it. */
static bool beneath(const char *real, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return true;
    return strncmp(real, dir, n) == 0 && real[n] == '/';
}

/* The kernel's path of the open file: every symlink and ".." already resolved by the open. */
static bool fd_path(int fd, char *out, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, size - 1);
    if (n <= 0 || (size_t)n >= size - 1 || out[0] != '/')
        return false;
    out[n] = '\0';
    return strstr(out, " (deleted)") == NULL;
}

int policy_confined_file(const struct load *ld, const struct source *s, struct diag *d)
{
    char real[PATH_MAX], dir[PATH_MAX];
    if (!policy_confined(ld) || s->mem)
        return 0;
    if (!fd_path(s->fd, real, sizeof real))
        return diag_fail(d, PLUGIN_ERR_POLICY, s->name,
                         "refused by PLUGIN_CONFINE_DEPS: the opened file's real path cannot be read from /proc/self/fd");
    const char *const *sp = ld->opts->search_paths;
    for (size_t i = 0; sp && sp[i]; i++)
        if (sp[i][0] == '/' && realpath(sp[i], dir) && beneath(real, dir))
            return 0;
    return diag_fail(d, PLUGIN_ERR_POLICY, s->name,
                     "refused by PLUGIN_CONFINE_DEPS: the file is %s, not inside any of the search_paths directories",
                     real);
}

/* ---- rule 7: secure mode ------------------------------------------------------------------- */

bool policy_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

bool policy_library_path(const struct load *ld)
{
    return !(load_flags(ld) & (PLUGIN_NO_LD_LIBRARY_PATH | PLUGIN_CONFINE_DEPS)) && !policy_secure();
}

bool policy_origin(bool at_start, char next)
{
    return !policy_secure() || (at_start && (next == '\0' || next == '/'));
}

/* path with "." and ".." elements and repeated '/' removed, as text (glibc's
 * is_trusted_path_normalize does the same: nothing on disk is looked at); always ends in '/'. */
static bool normalize(const char *path, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || len == 0) {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[--n] != '/')
                ;
        } else {
            if (n + 1 + len + 2 > size)
                return false;
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len + (p[len] == '/');
    }
    out[n++] = '/';
    out[n] = '\0';
    return true;
}

bool policy_origin_path(const char *path, const char *const *trusted)
{
    char norm[PATH_MAX + 2];
    if (!policy_secure())
        return true;
    if (!normalize(path, norm, sizeof norm))
        return false;
    for (size_t i = 0; trusted[i]; i++) {
        size_t n = strlen(trusted[i]);
        if (strncmp(norm, trusted[i], n) == 0 && norm[n] == '/')
            return true;
    }
    return false;
}

bool policy_relative_needed(void)
{
    return !policy_secure();
}

bool policy_executable_path(void)
{
    return !policy_secure();
}

bool policy_debug_env(void)
{
    return !policy_secure();
}
