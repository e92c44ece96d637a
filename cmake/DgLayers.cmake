# Layers: one static library per src/ folder, with the folder dependencies declared explicitly.
#
#   dg_layer(NAME [EXECUTABLE exe] [PUBLIC layer-or-target...] [PRIVATE layer-or-target...]
#            [SOURCES extra.cc...])
#
# builds the static library dg_NAME (or, with EXECUTABLE, the program `exe`) from src/NAME/*.cc. A bare word in PUBLIC/PRIVATE is another layer (declared in
# any order), a word with "::" an imported target. PUBLIC is for folders whose headers this
# folder's headers include; PRIVATE for those only its .cc files include.
#
# Enforcement: a layer's headers are reachable only through its own include root,
# build/layers/NAME, which holds one symlink NAME -> src/NAME. A target sees the roots of the
# layers it links (PUBLIC ones transitively), never src/ itself, so `#include "serve/wal.h"` in a
# folder that does not depend on serve fails to compile ("No such file or directory").
# dg_finish_layers() then refuses a configure whose declared graph has a cycle, naming it.
# scripts/layer_graph.sh prints the graph for docs/ARCHITECTURE.md and checks the declarations
# against the includes actually written.
set_property(GLOBAL PROPERTY DG_LAYERS "")

function(dg_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 L "" "EXECUTABLE" "PUBLIC;PRIVATE;SOURCES")
  if(L_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dg_layer(${name}): unexpected arguments ${L_UNPARSED_ARGUMENTS}")
  endif()
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${root})
  if(NOT EXISTS ${root}/${name})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${root}/${name} SYMBOLIC)
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(L_EXECUTABLE)
    set(target ${L_EXECUTABLE})
    add_executable(${target} ${sources} ${L_SOURCES})
  else()
    set(target dg_${name})
    add_library(${target} STATIC ${sources} ${L_SOURCES})
  endif()
  target_include_directories(${target} PUBLIC ${root})
  set_property(GLOBAL PROPERTY DG_LAYER_TARGET_${name} ${target})
  set_property(GLOBAL APPEND PROPERTY DG_LAYERS ${name})
  set_property(GLOBAL PROPERTY DG_LAYER_PUBLIC_${name} "${L_PUBLIC}")
  set_property(GLOBAL PROPERTY DG_LAYER_PRIVATE_${name} "${L_PRIVATE}")
endfunction()

# Depth-first search over the declared edges; a back edge is a cycle, reported as a path.
function(_dg_visit node path)
  get_property(state GLOBAL PROPERTY DG_LAYER_STATE_${node})
  if(state STREQUAL "done")
    return()
  endif()
  if(state STREQUAL "active")
    list(APPEND path ${node})
    list(JOIN path " -> " shown)
    message(FATAL_ERROR "Layer dependency cycle: ${shown}. The folder graph must be a DAG "
      "(docs/ARCHITECTURE.md, Layers).")
  endif()
  set_property(GLOBAL PROPERTY DG_LAYER_STATE_${node} active)
  get_property(deps GLOBAL PROPERTY DG_LAYER_DEPS_${node})
  foreach(dep ${deps})
    _dg_visit(${dep} "${path};${node}")
  endforeach()
  set_property(GLOBAL PROPERTY DG_LAYER_STATE_${node} done)
endfunction()

# Checks the declared graph (every dependency a declared layer, no cycle), then links the layers.
# Call once after the last dg_layer().
function(dg_finish_layers)
  get_property(layers GLOBAL PROPERTY DG_LAYERS)
  foreach(layer ${layers})
    set(edges "")
    foreach(scope PUBLIC PRIVATE)
      get_property(deps GLOBAL PROPERTY DG_LAYER_${scope}_${layer})
      foreach(dep ${deps})
        if(NOT dep MATCHES "::")
          get_property(dep_target GLOBAL PROPERTY DG_LAYER_TARGET_${dep})
          if(NOT dep IN_LIST layers)
            message(FATAL_ERROR "dg_layer(${layer}): '${dep}' is not a declared layer")
          elseif(NOT dep_target MATCHES "^dg_")
            message(FATAL_ERROR "dg_layer(${layer}): '${dep}' is a program, not a library")
          endif()
          list(APPEND edges ${dep})
        endif()
      endforeach()
    endforeach()
    set_property(GLOBAL PROPERTY DG_LAYER_DEPS_${layer} "${edges}")
  endforeach()
  foreach(layer ${layers})
    _dg_visit(${layer} "")
  endforeach()
  foreach(layer ${layers})
    get_property(target GLOBAL PROPERTY DG_LAYER_TARGET_${layer})
    foreach(scope PUBLIC PRIVATE)
      get_property(deps GLOBAL PROPERTY DG_LAYER_${scope}_${layer})
      foreach(dep ${deps})
        if(dep MATCHES "::")
          target_link_libraries(${target} ${scope} ${dep})
        else()
          target_link_libraries(${target} ${scope} dg_${dep})
        endif()
      endforeach()
    endforeach()
  endforeach()
  list(LENGTH layers n)
  message(STATUS "Layers: ${n} folders; the dependency graph is acyclic")
endfunction()
