# Writes OUTPUT, a C file defining sf_builtin_policy_text from INPUT.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"/* Generated from config/sockfix.ini by cmake/embed.cmake; do not edit. */
#include <stddef.h>
const char sf_builtin_policy_text[] = {
${bytes}0x00};
const size_t sf_builtin_policy_len = ${len};
")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
