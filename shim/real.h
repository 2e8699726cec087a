/* The real functions behind the hooks (the list is shim/hooks.def). Each is
 * bound once with dlsym(RTLD_NEXT); a result that is our own hook, or a call
 * made while binding is under way (dlsym re-entering a hook), falls back to
 * the raw system call, so a hook can always reach the kernel. */
#ifndef SOCKFIX_SHIM_REAL_H
#define SOCKFIX_SHIM_REAL_H

#include <sys/socket.h>

void real_bind_all(void);

/* real_NAME calls the function the hook NAME stands in front of. The hooks
 * themselves have default visibility only so that the link can export them
 * under the libc names; the version script keeps sf_hook_NAME local. */
#define SF_HOOK(name, params, args)                                                                \
    int real_##name params;                                                                        \
    __attribute__((visibility("default"))) int sf_hook_##name params;
#define SF_HOOK_VARIADIC(name, params, args)                                                       \
    int real_##name params;                                                                        \
    __attribute__((visibility("default"))) int sf_hook_##name(int, int, ...);
#include "hooks.def"

#endif
