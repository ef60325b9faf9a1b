# The direction of every #include between the parts of src/ (docs/architecture.md, "Layers"):
# fails, naming each file, when a part includes one it may not depend on. Also fails on SQL (a
# string starting SELECT / INSERT INTO / UPDATE ... SET / DELETE FROM) anywhere in the bot but
# bot/domain and bot/db.
#
#   cmake -DSOURCE_DIR=<src> -P include_direction.cmake
#
# Each part lists what it may include besides itself. A folder that is not in the table fails
# too, so a new part is placed in the layers when it is added. The domain also stays clear of
# HTTP (common/http*.hpp): it speaks to gateways through the GatewayDirectory interface.
cmake_minimum_required(VERSION 3.25)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<src> -P include_direction.cmake")
endif()

set(may_include_common "")
set(may_include_discord "common")
set(may_include_gateway "common")
set(may_include_bot/db "common")
set(may_include_bot/domain "bot/db;common")
set(may_include_bot/ui "bot/domain;bot/db;common")
set(may_include_bot/gateway_client "bot/domain;bot/db;common")
set(may_include_bot/core "bot/domain;bot/db;bot/ui;discord;common")
set(may_include_bot/notify "bot/core;bot/domain;bot/db;bot/ui;discord;common")
set(may_include_bot/handlers "bot/notify;bot/core;bot/domain;bot/db;bot/ui;discord;common")
set(may_include_bot/jobs "bot/notify;bot/core;bot/domain;bot/db;bot/ui;discord;common")
set(may_include_bot/app
    "bot/handlers;bot/jobs;bot/notify;bot/core;bot/gateway_client;bot/domain;bot/db;bot/ui;discord;common")

# "bot/domain/orders.hpp" -> "bot/domain"; "discord/rest.hpp" -> "discord".
function(part_of path out)
  string(REPLACE "/" ";" pieces "${path}")
  list(GET pieces 0 first)
  list(LENGTH pieces count)
  if(first STREQUAL "bot" AND count GREATER 2)
    list(GET pieces 1 second)
    set(${out} "bot/${second}" PARENT_SCOPE)
  else()
    set(${out} "${first}" PARENT_SCOPE)
  endif()
endfunction()

file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.hpp ${SOURCE_DIR}/*.cpp ${SOURCE_DIR}/*.inc)
list(SORT sources)
set(problems "")
set(checked 0)
foreach(source ${sources})
  part_of("${source}" part)
  if(NOT DEFINED may_include_${part})
    string(APPEND problems "\n  ${source}: part '${part}' is not in the layer table of include_direction.cmake")
    continue()
  endif()
  set(allowed ${part} ${may_include_${part}})
  if(part MATCHES "^bot/" AND NOT part STREQUAL "bot/domain" AND NOT part STREQUAL "bot/db")
    file(STRINGS ${SOURCE_DIR}/${source} sql
         REGEX "\"(SELECT [^\"]* FROM|INSERT INTO |UPDATE [a-z_]+ SET|DELETE FROM )")
    if(sql)
      string(APPEND problems "\n  ${source}: SQL outside bot/domain and bot/db")
    endif()
  endif()
  file(STRINGS ${SOURCE_DIR}/${source} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${lines})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" included "${line}")
    if(NOT included MATCHES "/")
      continue()  # a file beside it (an .inc of the same part)
    endif()
    math(EXPR checked "${checked} + 1")
    part_of("${included}" target)
    if(NOT target IN_LIST allowed)
      string(APPEND problems "\n  ${source}: ${part} must not include ${included} (${target})")
    elseif(part STREQUAL "bot/domain" AND included MATCHES "^common/http")
      string(APPEND problems "\n  ${source}: bot/domain must not include ${included} (HTTP)")
    endif()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "no #include lines found under ${SOURCE_DIR}")
endif()
if(problems)
  message(FATAL_ERROR "includes against the direction of the layers:${problems}")
endif()
message(STATUS "${checked} includes in ${SOURCE_DIR} follow the layers")
