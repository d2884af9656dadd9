# Configures, builds and runs a copy of xact's test suite with other compiler flags (the `flags`,
# `sanitize` and `fuzz` labels; see cmake/xact_robust.cmake). Script mode:
#   cmake -DSOURCE=<xact> -DWORK_DIR=<dir> -DCXX=<compiler> -DFLAGS="<CXXFLAGS>"
#         -DARCHS="native;baseline" [-DREQUIRE=avx512f] [-DRUN=ON] [-DEXHAUSTIVE=sigmoid]
#         [-DLDFLAGS=<link flags>] [-DEXTRA="-DVAR=value;..."] [-DTARGETS="a;b"] -P subbuild.cmake
# REQUIRE names CPU features (as __builtin_cpu_supports spells them) that the binaries need: where
# this CPU lacks one, the suite is built but not run, and the test says so and passes as skipped.
cmake_minimum_required(VERSION 3.25)
foreach(v SOURCE WORK_DIR CXX)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "subbuild.cmake: ${v} not set")
  endif()
endforeach()
if(NOT DEFINED RUN)
  set(RUN ON)
endif()

function(run)
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  string(TIMESTAMP t1 "%s")
  math(EXPR dt "${t1} - ${t0}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "subbuild: failed (${rc}) after ${dt} s: ${ARGN}")
  endif()
  message(STATUS "subbuild: ${dt} s: ${ARGN}")
endfunction()

file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK_DIR} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=${FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LDFLAGS}"
    "-DXACT_TEST_ARCHS=${ARCHS}"
    -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF -DXACT_BUILD_EXAMPLES=OFF -DXACT_ROBUST=OFF
    ${EXTRA})
set(targets "")
foreach(t IN LISTS TARGETS)
  list(APPEND targets --target ${t})
endforeach()
if(NOT DEFINED JOBS)
  cmake_host_system_information(RESULT JOBS QUERY NUMBER_OF_LOGICAL_CORES)
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR} -j${JOBS} ${targets})

if(NOT RUN)
  message(STATUS "subbuild: built only (RUN=OFF)")
  return()
endif()

# Can this CPU run what was built? A probe compiled for the baseline asks it. REQUIRE arrives
# with its separators escaped (\\; from add_test): split it into a list first.
string(REPLACE "\\;" ";" REQUIRE "${REQUIRE}")
if(REQUIRE)
  set(probe_src ${WORK_DIR}/cpu_probe.cpp)
  set(cond "true")
  foreach(f IN LISTS REQUIRE)
    string(APPEND cond " && __builtin_cpu_supports(\"${f}\")")
  endforeach()
  file(WRITE ${probe_src} "int main() { __builtin_cpu_init(); return (${cond}) ? 0 : 1; }\n")
  execute_process(COMMAND ${CXX} ${probe_src} -o ${WORK_DIR}/cpu_probe RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "subbuild: cannot build the CPU probe")
  endif()
  execute_process(COMMAND ${WORK_DIR}/cpu_probe RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(STATUS "subbuild: built; NOT RUN: this CPU lacks one of ${REQUIRE} (XACT_SKIPPED)")
    return()
  endif()
endif()

run(${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR} -LE "exhaustive|fuzz|sanitize|flags|consumer"
    -j${JOBS} --output-on-failure --timeout 1800)

# The exhaustive walk of the named functions (all 2^32 floats), one per arch: every build agrees
# with the long-double reference within the bounds the accuracy registry states. ARCHS arrives
# with its separators escaped, as REQUIRE does: split it first (unsplit, a two-arch build ran
# one binary with the other arch's name as an argument: the fast_math build walked natively
# only, sessions 8-9).
string(REPLACE "\\;" ";" ARCHS "${ARCHS}")
if(EXHAUSTIVE)
  foreach(arch IN LISTS ARCHS)
    set(ENV{XACT_EXHAUSTIVE_FILTER} ${EXHAUSTIVE})
    run(${WORK_DIR}/tests/xact_tests_${arch} --gtest_filter=Exhaustive.AllFloats)
  endforeach()
endif()
