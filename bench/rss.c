/* rss: a process that makes one listening socket (so the shim loads its
 * policy) and prints its resident set size in KiB: "rss_kib", and its two
 * parts "anon_kib" (private memory) and "file_kib" (pages of mapped files,
 * mostly shared library text, shared with every other process). Compare
 * runs bare, under an empty preload and under sockfix. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0)
        return 1;
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            printf("rss_kib %ld\n", strtol(line + 6, NULL, 10));
        else if (strncmp(line, "RssAnon:", 8) == 0)
            printf("anon_kib %ld\n", strtol(line + 8, NULL, 10));
        else if (strncmp(line, "RssFile:", 8) == 0)
            printf("file_kib %ld\n", strtol(line + 8, NULL, 10));
    if (f)
        fclose(f);
    close(fd);
    return 0;
}
