# Proves include_direction.cmake fails on each kind of upward include, and on SQL outside the
# domain and db: a copy of src/ gets one planted line at a time, the checker must fail and name
# the file.
#
#   cmake -DSOURCE_DIR=<src> -DCHECKER=<include_direction.cmake> -DWORK=<scratch dir> -P planted_includes.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK})
file(COPY ${SOURCE_DIR}/ DESTINATION ${WORK}/src)

# file to plant in | include planted (or, starting with "SQL ", a statement as a string)
set(plants
    "bot/domain/orders.hpp|bot/handlers/context.hpp"
    "bot/domain/orders.cpp|discord/rest.hpp"
    "bot/domain/catalog.cpp|common/http_client.hpp"
    "bot/domain/users.cpp|bot/notify/customer.hpp"
    "bot/domain/accounts.cpp|bot/jobs/jobs.hpp"
    "bot/jobs/jobs.cpp|bot/handlers/router.hpp"
    "bot/notify/delivery.cpp|bot/handlers/customer.hpp"
    "discord/rest.cpp|bot/domain/types.hpp"
    "gateway/service.cpp|bot/db/connection.hpp"
    "bot/handlers/review.cpp|bot/app/bot.hpp"
    "common/http.cpp|discord/model.hpp"
    "bot/handlers/review.cpp|SQL SELECT status FROM orders WHERE id = ?"
    "bot/jobs/health.cpp|SQL UPDATE servers SET health = ?"
    "bot/notify/customer.cpp|SQL DELETE FROM settings WHERE key = ?")

# The copy as it is passes.
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/src -P ${CHECKER} RESULT_VARIABLE clean
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT clean EQUAL 0)
  message(FATAL_ERROR "the unplanted copy fails already:\n${out}")
endif()

foreach(plant ${plants})
  string(REPLACE "|" ";" pair "${plant}")
  list(GET pair 0 file)
  list(GET pair 1 include)
  set(path ${WORK}/src/${file})
  file(READ ${path} original)
  if(include MATCHES "^SQL ")
    string(SUBSTRING "${include}" 4 -1 statement)
    file(WRITE ${path} "${original}\nconstexpr const char* kPlanted = \"${statement}\";\n")
  else()
    file(WRITE ${path} "${original}\n#include \"${include}\"\n")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/src -P ${CHECKER} RESULT_VARIABLE result
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  file(WRITE ${path} "${original}")
  if(result EQUAL 0)
    message(FATAL_ERROR "${file} including ${include} passed the check")
  endif()
  string(FIND "${out}" "${file}: " at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${file} including ${include} failed without naming the file:\n${out}")
  endif()
  message(STATUS "caught: ${file} -> ${include}")
endforeach()
