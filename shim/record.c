#define SOCKFIX_SHIM
#include "record.h"

#include "fdtable.h"

/* In .data, with its magic in the file image: found in the library's
 * writable mapping from outside (see record.h). */
__attribute__((used, aligned(64))) struct sf_record sf_record = {
    .magic = SF_RECORD_MAGIC,
    .version = SF_RECORD_VERSION,
    .size = sizeof(struct sf_record),
    .state = SF_RECORD_WAITING,
    .fdtab_size = FDTAB_SIZE,
    .entry_size = sizeof(struct sf_fd_entry),
};
