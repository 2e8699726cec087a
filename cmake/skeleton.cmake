# Writes OUTPUT, bpftool's skeleton of the BPF object INPUT named NAME.
execute_process(COMMAND "${BPFTOOL}" gen skeleton "${INPUT}" name "${NAME}"
                OUTPUT_FILE "${OUTPUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bpftool gen skeleton ${INPUT}: ${rc}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
