/* A program whose socket calls are looked up at run time (dlopen, dlsym), as
 * ruby's and java's are: it imports no socket call, and `sockfix run` cannot
 * know it makes none, so it must not say so. */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW);
    int (*make)(int, int, int) = libc ? (int (*)(int, int, int))dlsym(libc, "socket") : NULL;
    printf("socket=%d\n", make ? make(AF_INET, SOCK_STREAM, 0) >= 0 : 0);
    return 0;
}
