#include "elf_probe.h"

#include <elf.h>
#include <fcntl.h>
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

struct image {
    const unsigned char *base;
    size_t size;
};

static const char *const socket_calls[] = {"socket", "bind",    "listen",
                                           "accept", "accept4", "connect"};

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

static bool imports_socket_calls(const struct image *img, const ElfW_Ehdr *eh)
{
    for (size_t i = 0; i < eh->e_shnum; i++) {
        const ElfW_Shdr *sh = section(img, eh, i);
        if (!sh || sh->sh_type != SHT_DYNSYM || sh->sh_entsize != sizeof(ElfW_Sym) ||
            !in_bounds(img, sh->sh_offset, sh->sh_size))
            continue;
        const ElfW_Shdr *strtab = section(img, eh, sh->sh_link);
        const ElfW_Sym *syms = (const ElfW_Sym *)(img->base + sh->sh_offset);
        for (size_t k = 0; k < sh->sh_size / sizeof *syms; k++) {
            if (syms[k].st_shndx != SHN_UNDEF)
                continue;
            const char *name = string_at(img, strtab, syms[k].st_name);
            for (size_t c = 0; name && c < sizeof socket_calls / sizeof socket_calls[0]; c++)
                if (strcmp(name, socket_calls[c]) == 0)
                    return true;
        }
    }
    return false;
}

static bool file_imports_socket_calls(const char *path)
{
    struct image img;
    if (map_file(path, &img) != 0)
        return false;
    const ElfW_Ehdr *eh = elf_header(&img);
    bool yes = eh && imports_socket_calls(&img, eh);
    unmap(&img);
    return yes;
}

/* Asks the program's own dynamic loader which libraries it would load
 * ("LD --list PROGRAM", what ldd does) and looks for a socket import in any. */
static bool libraries_import_socket_calls(const char *interp, const char *path)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return false;
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
    bool found = false;
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        /* "\tlibcurl.so.4 => /usr/lib/.../libcurl.so.4 (0x...)" */
        char *arrow = strstr(line, "=> ");
        char *lib = arrow ? arrow + 3 : line + strspn(line, " \t");
        lib[strcspn(lib, " \t\n")] = '\0';
        if (!found && lib[0] == '/' && file_imports_socket_calls(lib))
            found = true;
    }
    if (f)
        fclose(f);
    else
        close(pipefd[0]);
    waitpid(pid, NULL, 0);
    return found;
}

enum reach elf_reachability(const char *path, char *interp, size_t len)
{
    interp[0] = '\0';
    struct image img;
    if (map_file(path, &img) != 0)
        return REACH_UNKNOWN;
    if (img.base[0] == '#' && img.base[1] == '!') {
        unmap(&img);
        return REACH_SCRIPT;
    }
    const ElfW_Ehdr *eh = elf_header(&img);
    if (!eh || eh->e_phentsize != sizeof(ElfW_Phdr)) {
        unmap(&img);
        return REACH_UNKNOWN;
    }
    for (size_t i = 0; i < eh->e_phnum; i++) {
        size_t off = eh->e_phoff + i * sizeof(ElfW_Phdr);
        if (!in_bounds(&img, off, sizeof(ElfW_Phdr)))
            break;
        const ElfW_Phdr *ph = (const ElfW_Phdr *)(img.base + off);
        if (ph->p_type == PT_INTERP && in_bounds(&img, ph->p_offset, ph->p_filesz) &&
            ph->p_filesz > 0 && ph->p_filesz < len) {
            memcpy(interp, img.base + ph->p_offset, ph->p_filesz);
            interp[ph->p_filesz] = '\0';
        }
    }
    enum reach r;
    if (has_go_section(&img, eh))
        r = REACH_GO;
    else if (!interp[0])
        r = REACH_STATIC;
    else if (imports_socket_calls(&img, eh) || libraries_import_socket_calls(interp, path))
        r = REACH_OK;
    else
        r = REACH_NO_IMPORTS;
    unmap(&img);
    return r;
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
        return "imports no socket call from libc, itself or through its libraries: "
               "the policy applies only to sockets made by libraries it loads later or by "
               "programs it starts";
    default:
        return NULL;
    }
}
