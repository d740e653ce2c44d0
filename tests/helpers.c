/*
 * helpers.c — see helpers.h.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *fixture(const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", FIXTURE_DIR, name) < 0)
        cr_assert_fail("asprintf");
    return p;
}

plugin *open_fixture(const char *name)
{
    plugin_error err;
    const char *path = fixture(name);
    plugin *p = plugin_open(path, &err);
    cr_assert_not_null(p, "plugin_open(%s) failed: code %d: %s", path, err.code, err.message);
    cr_assert_eq(err.code, PLUGIN_OK, "success but code %d", err.code);
    cr_assert_str_empty(err.message, "success but message \"%s\"", err.message);
    return p;
}

void *must_lookup(plugin *p, const char *name)
{
    plugin_error err;
    void *a = plugin_lookup(p, name, &err);
    cr_assert_not_null(a, "plugin_lookup(%s) failed: code %d: %s", name, err.code, err.message);
    cr_assert_eq(err.code, PLUGIN_OK);
    cr_assert_str_empty(err.message);
    return a;
}

char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    cr_assert_not_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf);
        }
    }
    cr_assert(!ferror(f), "cannot read %s", path);
    fclose(f);
    buf[n] = '\0';
    if (size)
        *size = n;
    return buf;
}

void write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "cannot create %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, size), (ssize_t)size, "short write to %s", path);
    close(fd);
}

char *make_temp_dir(void)
{
    char *tmpl = strdup("/tmp/plugin-test-XXXXXX");
    cr_assert_not_null(tmpl);
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return tmpl;
}

/* "start-end perms offset dev inode [path]": anonymous when there is no path. */
static int anonymous_line(const char *line, size_t len)
{
    int field = 0;
    size_t i = 0;
    while (i < len && field < 5) {          /* skip five fields and the blanks after them */
        while (i < len && line[i] != ' ')
            i++;
        while (i < len && line[i] == ' ')
            i++;
        field++;
    }
    return i >= len || line[i] == '\n';
}

char *maps_snapshot(void)
{
    /* The program break, for qemu-user: its /proc/self/maps (emulated for the guest) does not
     * name the heap "[heap]". The heap is the anonymous mapping that ends at the break; reading
     * the file may move the break, so the break before and after are both looked for. */
    uintptr_t brk_before = (uintptr_t)sbrk(0);
    char *all = read_file("/proc/self/maps", NULL);
    char *out = malloc(strlen(all) + 1);
    cr_assert_not_null(out);
    uintptr_t brk_after = (uintptr_t)sbrk(0);
    size_t n = 0;
    for (char *line = all; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        /* [heap] grows with malloc; [stack] with the depth of the call that reads the file. */
        int skip = memmem(line, len, "[heap]", 6) || memmem(line, len, "[stack]", 7);
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && anonymous_line(line, len) &&
            ((lo < brk_before && brk_before <= hi) || (lo < brk_after && brk_after <= hi)))
            skip = 1;
#if defined(__SANITIZE_ADDRESS__)
        /* AddressSanitizer's allocator maps and unmaps anonymous memory on every malloc size
         * class it touches, so under ASan only file-backed mappings are compared (a leaked
         * mapping of a plugin file is still caught; the plain build checks everything). */
        skip |= anonymous_line(line, len);
#endif
        if (!skip) {
            memcpy(out + n, line, len);
            n += len;
        }
        line += len;
    }
    out[n] = '\0';
    free(all);
    return out;
}

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory's own descriptor */
}

int maps_perms_of(const void *addr, char perms[5])
{
    char *all = read_file("/proc/self/maps", NULL);
    uintptr_t a = (uintptr_t)addr;
    int found = -1;
    for (char *line = all; *line;) {
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
            memcpy(perms, p, 5);
            found = 0;
            break;
        }
        char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    free(all);
    return found;
}

int count_wx_mappings(char first[256])
{
    char *all = read_file("/proc/self/maps", NULL);
    int n = 0;
    first[0] = '\0';
    for (char *line = all; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && p[1] == 'w' && p[2] == 'x') {
            if (n++ == 0)
                snprintf(first, 256, "%.*s", (int)len, line);
        }
        if (!end)
            break;
        line = end + 1;
    }
    free(all);
    return n;
}

char *self_argv0(void)
{
    char *cmd = read_file("/proc/self/cmdline", NULL);   /* "argv0\0argv1\0..." */
    return cmd;                                          /* first string ends at the first NUL */
}

/* ---- libelf ---- */

struct elf_file {
    int fd;
    Elf *elf;
};

static void elf_open_file(const char *path, struct elf_file *ef)
{
    cr_assert_neq(elf_version(EV_CURRENT), EV_NONE);
    ef->fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert(ef->fd >= 0, "cannot open %s: %s", path, strerror(errno));
    ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
    cr_assert_not_null(ef->elf, "libelf cannot read %s: %s", path, elf_errmsg(-1));
}

static void elf_close_file(struct elf_file *ef)
{
    elf_end(ef->elf);
    close(ef->fd);
}

static Elf_Scn *find_section(Elf *elf, Elf64_Word type, GElf_Shdr *sh)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL)
        if (gelf_getshdr(scn, sh) && sh->sh_type == type)
            return scn;
    return NULL;
}

static int dyn_find(const char *path, int64_t tag, int index, uint64_t *val, char **str)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(ef.elf, SHT_DYNAMIC, &sh);
    int found = 0;
    if (scn) {
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n; i++) {
            GElf_Dyn dyn;
            if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag == tag && index-- == 0) {
                if (val)
                    *val = dyn.d_un.d_val;
                if (str) {
                    const char *s = elf_strptr(ef.elf, sh.sh_link, dyn.d_un.d_val);
                    *str = s ? strdup(s) : NULL;
                }
                found = 1;
                break;
            }
        }
    }
    elf_close_file(&ef);
    return found;
}

int file_dyn_tag(const char *path, int64_t tag, uint64_t *val)
{
    return dyn_find(path, tag, 0, val, NULL);
}

char *file_dyn_string(const char *path, int64_t tag, int index)
{
    char *s = NULL;
    if (!dyn_find(path, tag, index, NULL, &s))
        return NULL;
    return s;
}

static int find_symbol(const char *path, const char *name, int dynamic, GElf_Sym *out)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(ef.elf, dynamic ? SHT_DYNSYM : SHT_SYMTAB, &sh);
    int found = 0;
    if (scn) {
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; d && i < n && !found; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym))
                break;
            const char *s = elf_strptr(ef.elf, sh.sh_link, sym.st_name);
            if (s && strcmp(s, name) == 0) {
                *out = sym;
                found = 1;
            }
        }
    }
    elf_close_file(&ef);
    return found;
}

int file_find_symbol(const char *path, const char *name, int dynamic,
                    int *bind, int *vis, unsigned *shndx)
{
    GElf_Sym sym;
    if (!find_symbol(path, name, dynamic, &sym))
        return 0;
    if (bind)
        *bind = GELF_ST_BIND(sym.st_info);
    if (vis)
        *vis = GELF_ST_VISIBILITY(sym.st_other);
    if (shndx)
        *shndx = sym.st_shndx;
    return 1;
}

int file_symbol_value(const char *path, const char *name, int dynamic, uint64_t *value)
{
    GElf_Sym sym;
    if (!find_symbol(path, name, dynamic, &sym))
        return 0;
    *value = sym.st_value;
    return 1;
}

char *file_undefined_dynsyms(const char *path)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(ef.elf, SHT_DYNSYM, &sh);
    size_t cap = 1, len = 0;
    char *out = calloc(1, 1);
    if (scn) {
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; d && i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != SHN_UNDEF)
                continue;
            const char *s = elf_strptr(ef.elf, sh.sh_link, sym.st_name);
            if (!s)
                continue;
            size_t sl = strlen(s);
            cap += sl + 1;
            out = realloc(out, cap);
            cr_assert_not_null(out);
            memcpy(out + len, s, sl);
            out[len + sl] = ' ';
            len += sl + 1;
            out[len] = '\0';
        }
    }
    elf_close_file(&ef);
    return out;
}

char *file_function_at(const char *path, uint64_t value)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(ef.elf, SHT_SYMTAB, &sh);
    char *out = NULL;
    Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
    size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    for (size_t i = 1; i < n && !out; i++) {
        GElf_Sym sym;
        const char *s;
        if (gelf_getsym(d, (int)i, &sym) && sym.st_value == value && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
            (s = elf_strptr(ef.elf, sh.sh_link, sym.st_name)))
            out = strdup(s);
    }
    elf_close_file(&ef);
    return out;
}

int file_phdr(const char *path, uint32_t type, uint64_t *vaddr, uint64_t *memsz)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    size_t n = 0;
    cr_assert_eq(elf_getphdrnum(ef.elf, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(ef.elf, (int)i, &ph) && ph.p_type == type) {
            if (vaddr)
                *vaddr = ph.p_vaddr;
            if (memsz)
                *memsz = ph.p_memsz;
            found = 1;
        }
    }
    elf_close_file(&ef);
    return found;
}

int file_section(const char *path, const char *name, uint64_t *offset, uint64_t *size)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    size_t shstrndx;
    cr_assert_eq(elf_getshdrstrndx(ef.elf, &shstrndx), 0);
    int found = 0;
    for (Elf_Scn *scn = NULL; !found && (scn = elf_nextscn(ef.elf, scn)) != NULL;) {
        GElf_Shdr sh;
        const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(ef.elf, shstrndx, sh.sh_name) : NULL;
        if (n && strcmp(n, name) == 0 && sh.sh_type != SHT_NOBITS) {
            *offset = sh.sh_offset;
            *size = sh.sh_size;
            found = 1;
        }
    }
    elf_close_file(&ef);
    return found;
}

int file_load_containing(const char *path, uint64_t vaddr, uint64_t *seg_vaddr, uint64_t *seg_memsz)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    size_t n = 0;
    cr_assert_eq(elf_getphdrnum(ef.elf, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(ef.elf, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
            vaddr < ph.p_vaddr + ph.p_memsz) {
            *seg_vaddr = ph.p_vaddr;
            *seg_memsz = ph.p_memsz;
            found = 1;
        }
    }
    elf_close_file(&ef);
    return found;
}

uint64_t file_load_align(const char *path)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    size_t n = 0;
    cr_assert_eq(elf_getphdrnum(ef.elf, &n), 0);
    uint64_t align = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(ef.elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_align > align)
            align = ph.p_align;
    }
    elf_close_file(&ef);
    return align;
}

unsigned file_machine(const char *path)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    GElf_Ehdr eh;
    cr_assert_not_null(gelf_getehdr(ef.elf, &eh), "%s: no ELF header", path);
    elf_close_file(&ef);
    return eh.e_machine;
}

/* Count the RELA entries of path that are of the given type (type < 0: any type), when
 * readonly is set only those whose place lies in a non-writable PT_LOAD, when symbol is not NULL
 * only those against the .dynsym symbol of that name. */
static long count_relas(const char *path, int64_t type, int readonly, const char *symbol)
{
    struct elf_file ef;
    elf_open_file(path, &ef);
    size_t nph = 0;
    cr_assert_eq(elf_getphdrnum(ef.elf, &nph), 0);
    long count = 0;
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;
    while ((scn = elf_nextscn(ef.elf, scn)) != NULL) {
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Rela r;
            if (!gelf_getrela(d, (int)i, &r))
                continue;
            if (type >= 0 && GELF_R_TYPE(r.r_info) != (uint64_t)type)
                continue;
            if (symbol) {
                GElf_Shdr symsh;
                Elf_Scn *syms = elf_getscn(ef.elf, sh.sh_link);
                Elf_Data *sd = syms ? elf_getdata(syms, NULL) : NULL;
                GElf_Sym sym;
                const char *name;
                if (!sd || !gelf_getshdr(syms, &symsh) || GELF_R_SYM(r.r_info) == 0 ||
                    !gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &sym) ||
                    !(name = elf_strptr(ef.elf, symsh.sh_link, sym.st_name)) ||
                    strcmp(name, symbol) != 0)
                    continue;
            }
            int in_readonly = 0;
            for (size_t k = 0; readonly && k < nph; k++) {
                GElf_Phdr ph;
                if (gelf_getphdr(ef.elf, (int)k, &ph) && ph.p_type == PT_LOAD &&
                    !(ph.p_flags & PF_W) && r.r_offset >= ph.p_vaddr &&
                    r.r_offset < ph.p_vaddr + ph.p_memsz)
                    in_readonly = 1;
            }
            count += !readonly || in_readonly;
        }
    }
    elf_close_file(&ef);
    return count;
}

long file_reloc_count(const char *path, uint32_t type)
{
    return count_relas(path, type, 0, NULL);
}

long file_relocs_into_readonly(const char *path)
{
    return count_relas(path, -1, 1, NULL);
}

long file_relocs_against(const char *path, const char *symbol)
{
    return count_relas(path, -1, 0, symbol);
}

int file_symbol_type(const char *path, const char *name, int dynamic)
{
    GElf_Sym sym;
    if (!find_symbol(path, name, dynamic, &sym))
        return -1;
    return GELF_ST_TYPE(sym.st_info);
}

/* ---- running a program ---- */

struct sink {
    int fd;
    char *buf;
    size_t len, cap;
};

static int sink_read(struct sink *s)
{
    if (s->cap - s->len < 4096) {
        s->cap = s->cap ? s->cap * 2 : 8192;
        s->buf = realloc(s->buf, s->cap);
        cr_assert_not_null(s->buf);
        s->buf[s->len] = '\0';
    }
    ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
    if (n < 0 && errno == EINTR)
        return 1;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return 0;
    }
    s->len += (size_t)n;
    s->buf[s->len] = '\0';
    return 1;
}

int run_capture(char *const argv[], char **out, char **err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    struct sink so = { .fd = po[0] }, se = { .fd = pe[0] };
    while (so.fd >= 0 || se.fd >= 0) {
        struct pollfd p[2] = { { so.fd, POLLIN, 0 }, { se.fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (so.fd >= 0 && p[0].revents)
            sink_read(&so);
        if (se.fd >= 0 && p[1].revents)
            sink_read(&se);
    }
    if (so.fd >= 0)
        close(so.fd);
    if (se.fd >= 0)
        close(se.fd);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!so.buf)
        so.buf = calloc(1, 1);
    if (!se.buf)
        se.buf = calloc(1, 1);
    if (out)
        *out = so.buf;
    else
        free(so.buf);
    if (err)
        *err = se.buf;
    else
        free(se.buf);
    return status;
}

struct run run_program(char *const argv[])
{
    struct run r = { -1, NULL, NULL };
    int status = run_capture(argv, &r.out, &r.err);
    cr_assert_neq(status, -1, "cannot run %s", argv[0]);
    if (WIFEXITED(status))
        r.code = WEXITSTATUS(status);
    return r;
}

void trace_collect(void *ctx, const struct plugin_trace_event *ev)
{
    const char *line = ev->text;
    struct tracebuf *t = ctx;
    int n = snprintf(t->text + t->len, sizeof t->text - t->len, "%s\n", line);
    if (n > 0 && t->len + (size_t)n < sizeof t->text)
        t->len += (size_t)n;
}
