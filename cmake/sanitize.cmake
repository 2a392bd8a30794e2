# CONGVAN_SANITIZE: build every target of the project with sanitizers
# (tests/sanitize/run.sh configures build-asan/ and build-tsan/ with it;
# tests/sanitize/README.md). Empty by default: no sanitizer.
#
#   -DCONGVAN_SANITIZE=address,undefined   ASan + UBSan; UBSan findings abort
#   -DCONGVAN_SANITIZE=thread              TSan, with the absl::Mutex shim
#
# The system's libraries (gRPC, protobuf, OpenSSL, RocksDB, Abseil) are
# Debian's, not instrumented. Debian's Abseil is not built with TSan, so its
# Mutex is invisible to it: with `thread`, every executable also links
# tests/sanitize/tsan_absl_mutex.cc, which tells TSan what each absl::Mutex
# and absl::CondVar call does (congvan_sanitize_executables() below).
set(CONGVAN_SANITIZE "" CACHE STRING
  "Sanitizers for every target: address,undefined or thread (empty: none); tests/sanitize/README.md")

if(CONGVAN_SANITIZE)
  add_compile_options(-fsanitize=${CONGVAN_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${CONGVAN_SANITIZE})
  if(CONGVAN_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# Links the absl::Mutex shim into every executable under `dir` (TSan only).
# The top-level CMakeLists.txt calls it once every target exists.
function(congvan_sanitize_executables dir)
  if(NOT CONGVAN_SANITIZE MATCHES "thread")
    return()
  endif()
  if(NOT TARGET congvan_tsan_absl_mutex)
    add_library(congvan_tsan_absl_mutex OBJECT ${PROJECT_SOURCE_DIR}/tests/sanitize/tsan_absl_mutex.cc)
    target_link_libraries(congvan_tsan_absl_mutex PUBLIC absl::synchronization ${CMAKE_DL_LIBS})
    # The shim's definitions must also win for calls made from shared
    # libraries (gRPC's and Abseil's own Notification use absl::Mutex).
    target_link_options(congvan_tsan_absl_mutex INTERFACE
      "-Wl,--export-dynamic-symbol=_ZN4absl*5Mutex*"
      "-Wl,--export-dynamic-symbol=_ZN4absl*7CondVar*"
      "-Wl,--export-dynamic-symbol=_ZN*4absl*12Notification*")
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_libraries(${target} PRIVATE congvan_tsan_absl_mutex)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    congvan_sanitize_executables(${subdir})
  endforeach()
  # The shim's proof (tests/sanitize/tsan_shim_check.cc), with and without it.
  if(dir STREQUAL PROJECT_SOURCE_DIR)
    foreach(check tsan_shim_check tsan_shim_check_noshim)
      add_executable(${check} EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/tests/sanitize/tsan_shim_check.cc)
      target_link_libraries(${check} PRIVATE absl::synchronization absl::time)
    endforeach()
    target_link_libraries(tsan_shim_check PRIVATE congvan_tsan_absl_mutex)
  endif()
endfunction()
