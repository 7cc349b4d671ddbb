# Run at build time (cmake -DSOURCE_DIR=... -DOUTPUT=... -P version.cmake): writes OUTPUT with
# ELECTRA_VERSION, `git describe --always --dirty` of SOURCE_DIR ("unknown" outside a clone),
# and rewrites it only when that changed, so that a commit rebuilds one file.
execute_process(COMMAND git -C ${SOURCE_DIR} describe --always --dirty --tags
                OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR version STREQUAL "")
  set(version unknown)
endif()
set(text "// Written by cmake/version.cmake at build time.\n#define ELECTRA_VERSION \"${version}\"\n")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUTPUT} "${text}")
endif()
