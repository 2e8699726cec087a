/* Binding a hook to the libc name it interposes. */
#ifndef SOCKFIX_SHIM_EXPORT_H
#define SOCKFIX_SHIM_EXPORT_H

/* In assembly: glibc declares the socket calls with transparent unions that
 * a C alias could not match. The version script (exports.map) exports them,
 * and nothing else. */
#define SF_EXPORT_AS(name, hook)                                                                   \
    __asm__(".globl " #name "\n.type " #name ", @function\n.set " #name ", " #hook)

#endif
