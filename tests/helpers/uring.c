/* A program that imports io_uring_queue_init (weakly: it runs without
 * liburing), as a program built against liburing does; `sockfix run` must
 * warn that sockets made through io_uring are out of LD_PRELOAD's reach. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

extern int io_uring_queue_init(unsigned entries, void *ring, unsigned flags) __attribute__((weak));

int main(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    printf("liburing=%d\n", io_uring_queue_init != NULL);
    close(fd);
    return 0;
}
