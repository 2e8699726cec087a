# Writes OUTPUT, INPUT compressed with gzip -9n (no name, no time stamp: the
# same bytes every build), as Debian wants manual pages and changelogs.
execute_process(COMMAND gzip -9n -c "${INPUT}" OUTPUT_FILE "${OUTPUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${INPUT}: ${rc}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
