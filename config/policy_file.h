/* Reading a policy from a file, and the built-in default policy. */
#ifndef SOCKFIX_CONFIG_POLICY_FILE_H
#define SOCKFIX_CONFIG_POLICY_FILE_H

#include <stddef.h>

#include "policy.h"

/* Files above this size are refused: a policy is a few hundred lines. */
#define SF_POLICY_MAX_BYTES 1048576

#define SF_BUILTIN_SOURCE "(built-in default)"

struct stat;

/* Whether a process with effective user euid may trust a file with this
 * status, like sshd's StrictModes: a process running as root refuses a
 * policy that is writable by group or others or owned by a user other than
 * root, since whoever can write it controls the sockets of a root service.
 * Returns 0, or -1 with the reason in err. Other users are not checked. */
int sf_policy_check_owner(const struct stat *st, unsigned euid, char *err, size_t errlen);

/* Reads a policy file into buf without allocating: the file is opened
 * non-blocking and must be a regular file of at most SF_POLICY_MAX_BYTES that passes
 * sf_policy_check_owner for a process of effective user euid.
 * Returns its length; -1 with the reason in err ("No such file or
 * directory", "is not a regular file", ...); or -2 when it does not fit
 * in cap - 1 bytes (one byte is kept to tell the end of the file). */
long sf_policy_read(const char *path, unsigned euid, char *buf, size_t cap, char *err,
                    size_t errlen);

/* Loads and parses a policy file. A file that cannot be read gives a policy
 * holding one "FILE: reason" error. The file is opened non-blocking and must
 * be a regular file, so a FIFO or a device cannot hang or flood the caller.
 * NULL only when out of memory. */
struct sf_policy *sf_policy_load_file(const char *path);

/* The system-wide policy, used when SOCKFIX_CONFIG is not set. */
#define SF_SYSTEM_POLICY "/etc/sockfix/sockfix.ini"

/* The policy file a process uses: the file named by env_path (the value of
 * SOCKFIX_CONFIG) when it is set and not empty; else SF_SYSTEM_POLICY when it
 * exists; else NULL, the built-in default. The shim and the sockfix command
 * share this rule, so both always read the same policy. */
const char *sf_policy_locate(const char *env_path);

/* Loads the policy sf_policy_locate names. */
struct sf_policy *sf_policy_load_default(const char *env_path);

/* config/sockfix.ini as compiled into the program. */
extern const char sf_builtin_policy_text[];
extern const size_t sf_builtin_policy_len;

struct sf_policy *sf_policy_builtin(void);

#endif
