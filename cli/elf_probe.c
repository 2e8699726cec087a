#include "elf_probe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ElfW_Ehdr ElfW(Ehdr)
#define ElfW_Phdr ElfW(Phdr)
#define ElfW_Shdr ElfW(Shdr)
#define ElfW_Sym ElfW(Sym)

#if defined(__x86_64__)
#define EM_NATIVE EM_X86_64
#elif defined(__aarch64__)
#define EM_NATIVE EM_AARCH64
#elif defined(__i386__)
#define EM_NATIVE EM_386
#elif defined(__arm__)
#define EM_NATIVE EM_ARM
#elif defined(__riscv)
#define EM_NATIVE EM_RISCV
#else
#error "elf_probe: add this architecture's ELF machine"
#endif

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_X86_64:
        return "x86-64";
    case EM_AARCH64:
        return "aarch64";
    case EM_386:
        return "i386";
    case EM_ARM:
        return "arm";
    case EM_RISCV:
        return "riscv";
    default:
        return "another processor";
    }
}

struct image {
    const unsigned char *base;
    size_t size;
};

static const char *const socket_calls[] = {"socket", "bind",    "listen",
                                           "accept", "accept4", "connect"};

/* What the dynamic imports of one or more files say. */
struct imports {
    bool socket, dlopen;
    char io_uring[64];
};

static int map_file(const char *path, struct image *img)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    img->base = p;
    img->size = (size_t)st.st_size;
    return 0;
}

static void unmap(struct image *img)
{
    munmap((void *)img->base, img->size);
}

static bool in_bounds(const struct image *img, size_t off, size_t len)
{
    return off <= img->size && len <= img->size - off;
}

/* The ELF header, when the image is an ELF file of this machine's class. */
static const ElfW_Ehdr *elf_header(const struct image *img)
{
    const ElfW_Ehdr *eh = (const ElfW_Ehdr *)img->base;
    if (!in_bounds(img, 0, sizeof *eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return NULL;
    if (eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
        return NULL;
    return eh;
}

static const ElfW_Shdr *section(const struct image *img, const ElfW_Ehdr *eh, size_t i)
{
    size_t off = eh->e_shoff + i * sizeof(ElfW_Shdr);
    if (eh->e_shentsize != sizeof(ElfW_Shdr) || !in_bounds(img, off, sizeof(ElfW_Shdr)))
        return NULL;
    return (const ElfW_Shdr *)(img->base + off);
}

static const char *string_at(const struct image *img, const ElfW_Shdr *strtab, size_t i)
{
    if (!strtab || i >= strtab->sh_size || !in_bounds(img, strtab->sh_offset, strtab->sh_size))
        return NULL;
    const char *s = (const char *)img->base + strtab->sh_offset + i;
    return memchr(s, '\0', strtab->sh_size - i) ? s : NULL;
}

static bool has_go_section(const struct image *img, const ElfW_Ehdr *eh)
{
    const ElfW_Shdr *names = section(img, eh, eh->e_shstrndx);
    for (size_t i = 0; i < eh->e_shnum; i++) {
        const ElfW_Shdr *sh = section(img, eh, i);
        const char *name = sh ? string_at(img, names, sh->sh_name) : NULL;
        if (name && (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0))
            return true;
    }
    return false;
}

static void note_import(const char *name, struct imports *im)
{
    for (size_t c = 0; c < sizeof socket_calls / sizeof socket_calls[0]; c++)
        if (strcmp(name, socket_calls[c]) == 0)
            im->socket = true;
    if (strcmp(name, "dlopen") == 0 || strcmp(name, "dlmopen") == 0)
        im->dlopen = true;
    if (strncmp(name, "io_uring_", 9) == 0 && !im->io_uring[0])
        snprintf(im->io_uring, sizeof im->io_uring, "%s", name);
}

static void read_imports(const struct image *img, const ElfW_Ehdr *eh, struct imports *im)
{
    for (size_t i = 0; i < eh->e_shnum; i++) {
        const ElfW_Shdr *sh = section(img, eh, i);
        if (!sh || sh->sh_type != SHT_DYNSYM || sh->sh_entsize != sizeof(ElfW_Sym) ||
            !in_bounds(img, sh->sh_offset, sh->sh_size))
            continue;
        const ElfW_Shdr *strtab = section(img, eh, sh->sh_link);
        const ElfW_Sym *syms = (const ElfW_Sym *)(img->base + sh->sh_offset);
        for (size_t k = 0; k < sh->sh_size / sizeof *syms; k++) {
            const char *name =
                syms[k].st_shndx == SHN_UNDEF ? string_at(img, strtab, syms[k].st_name) : NULL;
            if (name)
                note_import(name, im);
        }
    }
}

static void file_imports(const char *path, struct imports *im)
{
    struct image img;
    if (map_file(path, &img) != 0)
        return;
    const ElfW_Ehdr *eh = elf_header(&img);
    if (eh)
        read_imports(&img, eh, im);
    unmap(&img);
}

/* Asks the program's own dynamic loader which libraries it would load
 * ("LD --list PROGRAM", what ldd does) and reads the imports of each. */
static void library_imports(const char *interp, const char *path, struct imports *im)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return;
    }
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        char *const argv[] = {(char *)interp, "--list", (char *)path, NULL};
        char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
        execve(interp, argv, envp);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        /* "\tlibcurl.so.4 => /usr/lib/.../libcurl.so.4 (0x...)" */
        char *arrow = strstr(line, "=> ");
        char *lib = arrow ? arrow + 3 : line + strspn(line, " \t");
        lib[strcspn(lib, " \t\n")] = '\0';
        const char *base = strrchr(lib, '/');
        if (base && strncmp(base + 1, "liburing.so", 11) == 0 && !im->io_uring[0])
            snprintf(im->io_uring, sizeof im->io_uring, "liburing");
        if (lib[0] == '/')
            file_imports(lib, im);
    }
    if (f)
        fclose(f);
    else
        close(pipefd[0]);
    waitpid(pid, NULL, 0);
}

static void read_interp(const struct image *img, const ElfW_Ehdr *eh, char *interp, size_t len)
{
    for (size_t i = 0; i < eh->e_phnum; i++) {
        size_t off = eh->e_phoff + i * sizeof(ElfW_Phdr);
        if (!in_bounds(img, off, sizeof(ElfW_Phdr)))
            break;
        const ElfW_Phdr *ph = (const ElfW_Phdr *)(img->base + off);
        if (ph->p_type == PT_INTERP && in_bounds(img, ph->p_offset, ph->p_filesz) &&
            ph->p_filesz > 0 && ph->p_filesz < len) {
            memcpy(interp, img->base + ph->p_offset, ph->p_filesz);
            interp[ph->p_filesz] = '\0';
        }
    }
}

void elf_probe(const char *path, struct elf_facts *f)
{
    memset(f, 0, sizeof *f);
    f->reach = REACH_UNKNOWN;
    struct image img;
    if (map_file(path, &img) != 0)
        return;
    if (img.base[0] == '#' && img.base[1] == '!') {
        unmap(&img);
        f->reach = REACH_SCRIPT;
        return;
    }
    const ElfW_Ehdr *eh = elf_header(&img);
    if (!eh || eh->e_phentsize != sizeof(ElfW_Phdr)) {
        unmap(&img);
        return;
    }
    f->elf_class = eh->e_ident[EI_CLASS];
    f->machine = eh->e_machine;
    read_interp(&img, eh, f->interp, sizeof f->interp);
    struct imports im = {0};
    if (has_go_section(&img, eh)) {
        f->reach = REACH_GO;
    } else if (!f->interp[0]) {
        f->reach = REACH_STATIC;
    } else {
        read_imports(&img, eh, &im);
        /* $ORIGIN is the real directory (java: /usr/lib/jvm/.../bin, not /usr/bin) */
        char real[PATH_MAX];
        library_imports(f->interp, realpath(path, real) ? real : path, &im);
        /* dlopen may load socket code later (ruby, java): nothing to say then */
        f->reach = im.socket || im.dlopen ? REACH_OK : REACH_NO_IMPORTS;
        snprintf(f->io_uring, sizeof f->io_uring, "%s", im.io_uring);
    }
    unmap(&img);
}

const char *reach_warning(enum reach r)
{
    switch (r) {
    case REACH_STATIC:
        return "is statically linked (no ELF interpreter): LD_PRELOAD cannot reach it, "
               "so the policy will not apply";
    case REACH_GO:
        return "is a Go program: Go makes socket system calls directly, not through libc, "
               "so LD_PRELOAD cannot reach them and the policy will not apply";
    case REACH_NO_IMPORTS:
        return "imports neither a socket call nor dlopen from libc, itself or through its "
               "libraries: the policy applies only to sockets made by programs it starts";
    default:
        return NULL;
    }
}

/* DF_1_PIE in the dynamic section: an executable, which the loader refuses
 * to preload. */
static bool is_pie(const struct image *img, const ElfW_Ehdr *eh)
{
    for (size_t i = 0; i < eh->e_phnum; i++) {
        size_t off = eh->e_phoff + i * sizeof(ElfW_Phdr);
        if (!in_bounds(img, off, sizeof(ElfW_Phdr)))
            break;
        const ElfW_Phdr *ph = (const ElfW_Phdr *)(img->base + off);
        if (ph->p_type != PT_DYNAMIC || !in_bounds(img, ph->p_offset, ph->p_filesz))
            continue;
        const ElfW(Dyn) *d = (const ElfW(Dyn) *)(img->base + ph->p_offset);
        for (size_t k = 0; k < ph->p_filesz / sizeof *d && d[k].d_tag != DT_NULL; k++)
            if (d[k].d_tag == DT_FLAGS_1 && (d[k].d_un.d_val & DF_1_PIE))
                return true;
    }
    return false;
}

int elf_check_preloadable(const char *path, unsigned char elf_class, unsigned short machine,
                          char *why, size_t len)
{
    struct image img;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "%s", strerror(errno));
        return -1;
    }
    close(fd);
    if (map_file(path, &img) != 0) {
        snprintf(why, len, "is not a regular file");
        return -1;
    }
    /* e_type and e_machine sit at the same offsets in 32- and 64-bit headers */
    const unsigned char *id = img.base;
    uint16_t type = 0, mach = 0;
    if (in_bounds(&img, 0, 20)) {
        memcpy(&type, id + 16, 2);
        memcpy(&mach, id + 18, 2);
    }
    unsigned char want_class =
        elf_class ? elf_class : (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32);
    unsigned short want_machine = machine ? machine : EM_NATIVE;
    const ElfW_Ehdr *eh = elf_header(&img); /* NULL for the other class */
    int r = -1;
    if (!in_bounds(&img, 0, 20) || memcmp(id, ELFMAG, SELFMAG) != 0)
        snprintf(why, len, "is not an ELF file");
    else if (id[EI_CLASS] != want_class)
        snprintf(why, len, "is a %s object; the program is %s",
                 id[EI_CLASS] == ELFCLASS64 ? "64-bit" : "32-bit",
                 want_class == ELFCLASS64 ? "64-bit" : "32-bit");
    else if (mach != want_machine)
        snprintf(why, len, "is built for %s; the program is for %s", machine_name(mach),
                 machine_name(want_machine));
    else if (type != ET_DYN)
        snprintf(why, len, "is not a shared object (ELF type %u)", (unsigned)type);
    else if (eh && is_pie(&img, eh))
        snprintf(why, len, "is a position-independent executable, not a shared object");
    else
        r = 0;
    unmap(&img);
    return r;
}
