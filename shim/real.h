/* The real socket functions behind the hooks. Each is bound once with
 * dlsym(RTLD_NEXT); a result that is our own hook, or a call made while
 * binding is under way (dlsym re-entering a hook), falls back to the raw
 * system call, so a hook can always reach the kernel. */
#ifndef SOCKFIX_SHIM_REAL_H
#define SOCKFIX_SHIM_REAL_H

#include <stdbool.h>
#include <sys/socket.h>

void real_bind_all(void);

int real_socket(int domain, int type, int protocol);
int real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int real_listen(int fd, int backlog);
int real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int real_close(int fd);
int real_dup(int fd);
int real_dup2(int fd, int to);
int real_dup3(int fd, int to, int flags);
int real_fcntl(int fd, int cmd, unsigned long arg, bool is64);
int real_close_range(unsigned lo, unsigned hi, int flags);

/* The hooks' own addresses, so binding can refuse them. */
int sf_hook_socket(int domain, int type, int protocol);
int sf_hook_bind(int fd, const struct sockaddr *addr, socklen_t len);
int sf_hook_listen(int fd, int backlog);
int sf_hook_accept(int fd, struct sockaddr *addr, socklen_t *len);
int sf_hook_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int sf_hook_connect(int fd, const struct sockaddr *addr, socklen_t len);
int sf_hook_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int sf_hook_close(int fd);
int sf_hook_dup(int fd);
int sf_hook_dup2(int fd, int to);
int sf_hook_dup3(int fd, int to, int flags);
int sf_hook_fcntl(int fd, int cmd, ...);
int sf_hook_fcntl64(int fd, int cmd, ...);
int sf_hook_close_range(unsigned lo, unsigned hi, int flags);

#endif
