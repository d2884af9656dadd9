# Robustness checks, each a ctest test under its own label, excluded from the default run
# (scripts/test.sh: -LE "exhaustive|fuzz|sanitize|flags"):
#   flags     the suite rebuilt with other flags and CPU targets (scripts/robust.sh)
#   sanitize  the suite under AddressSanitizer + UndefinedBehaviorSanitizer (scripts/sanitize.sh)
#   fuzz      libFuzzer targets built with clang, run for a fixed time each (scripts/fuzz.sh)
# Each configures and builds its own copy of the tests under <build>/robust/<name>.
# Included from tests/CMakeLists.txt.
option(XACT_ROBUST "Add the flags/sanitize/fuzz tests (sub-builds)" ON)
set(XACT_FUZZ_SECONDS 60 CACHE STRING "Run time of each fuzz target in the fuzz label")
set(XACT_FUZZ_CXX "clang++-14" CACHE STRING "Compiler with libFuzzer for the fuzz label")
set(XACT_ROBUST_EXHAUSTIVE "sigmoid" CACHE STRING
    "Functions whose exhaustive float walk each flags build runs (empty: none)")
option(XACT_FUZZ "Build the libFuzzer targets (needs clang with -fsanitize=fuzzer)" OFF)

set(_xr_dir ${CMAKE_CURRENT_LIST_DIR}/../tests)
get_filename_component(_xr_dir ${_xr_dir} ABSOLUTE)

# Tests the default suite gains: exactly-sized heap buffers at every tail length.
foreach(arch IN LISTS XACT_TEST_ARCHS)
  if(TARGET xact_tests_${arch})
    target_sources(xact_tests_${arch} PRIVATE ${_xr_dir}/robust/test_tails.cpp)
  endif()
endforeach()

if(XACT_FUZZ)
  add_subdirectory(${_xr_dir}/fuzz ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
endif()

if(NOT XACT_ROBUST OR MSVC)
  return()
endif()

# xact_subbuild(<name> <label> FLAGS <flags> ARCHS <archs> [REQUIRE <cpu features>] [RUN OFF]
#               [EXHAUSTIVE <fn>] [CXX <compiler>])
function(xact_subbuild name label)
  cmake_parse_arguments(S "" "FLAGS;LDFLAGS;RUN;EXHAUSTIVE;CXX;TIMEOUT" "ARCHS;REQUIRE" ${ARGN})
  if(NOT S_CXX)
    set(S_CXX ${CMAKE_CXX_COMPILER})
  endif()
  if(NOT DEFINED S_RUN)
    set(S_RUN ON)
  endif()
  if(NOT S_TIMEOUT)
    set(S_TIMEOUT 3600)
  endif()
  string(REPLACE ";" "\\;" archs "${S_ARCHS}")
  string(REPLACE ";" "\\;" req "${S_REQUIRE}")
  add_test(NAME ${label}.${name}
    COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR}
            -DWORK_DIR=${PROJECT_BINARY_DIR}/robust/${name} -DCXX=${S_CXX}
            "-DFLAGS=${S_FLAGS}" "-DLDFLAGS=${S_LDFLAGS}" "-DARCHS=${archs}" "-DREQUIRE=${req}" -DRUN=${S_RUN}
            "-DEXHAUSTIVE=${S_EXHAUSTIVE}" -P ${_xr_dir}/robust/subbuild.cmake)
  set_tests_properties(${label}.${name} PROPERTIES LABELS "${label}" TIMEOUT ${S_TIMEOUT}
    SKIP_REGULAR_EXPRESSION "XACT_SKIPPED" RUN_SERIAL ON)
endfunction()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(_xr_x86 ON)
endif()

# ---- flags: optimisation levels, fast-math, CPU targets ----
# -O0 without the exhaustive walk: unoptimized SIMD code walks all 2^32 floats in well over an
# hour on 2 cores (cut after 11 minutes, session 8); its strided accuracy walks run as everywhere.
xact_subbuild(O0 flags FLAGS "-O0" ARCHS native)
xact_subbuild(O3_native flags FLAGS "-O3 -march=native" ARCHS native
  EXHAUSTIVE "${XACT_ROBUST_EXHAUSTIVE}")
# -ffast-math at link time would also start the program with FTZ/DAZ on (crtfastmath.o on x86):
# linked with -fno-fast-math, this build checks what the compiler does to the code, with IEEE
# subnormals; the FTZ/DAZ modes are checked by tests/test_denormals.cpp in every build.
xact_subbuild(fast_math flags FLAGS "-O3 -ffast-math -DXACT_ALLOW_FAST_MATH"
  LDFLAGS "-fno-fast-math" ARCHS "native;baseline" EXHAUSTIVE "${XACT_ROBUST_EXHAUSTIVE}")
if(_xr_x86)
  # The baseline (SSE2) build of the default suite, walked exhaustively too.
  xact_subbuild(sse2 flags FLAGS "-O2" ARCHS baseline EXHAUSTIVE "${XACT_ROBUST_EXHAUSTIVE}")
  # The AVX-512 build (x86-64-v4) with the same warnings as every build: GCC 12's false positive
  # inside its own avx512fintrin.h (bug 105593) is handled by the headers (core/simd.hpp,
  # XACT_DIAGNOSTICS_BEGIN), so that this build also checks a user's -Wall -Werror AVX-512 build.
  xact_subbuild(avx512 flags FLAGS "-O3"
    ARCHS x86-64-v4
    REQUIRE "avx512f;avx512dq;avx512bw;avx512vl" EXHAUSTIVE "${XACT_ROBUST_EXHAUSTIVE}")
endif()

# NEON: the headers compile for AArch64 (compile only) where a cross compiler is installed.
find_program(XACT_AARCH64_CXX aarch64-linux-gnu-g++)
if(XACT_AARCH64_CXX)
  add_test(NAME flags.aarch64_compile
    COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR} -DCXX=${XACT_AARCH64_CXX}
            -DWORK_DIR=${PROJECT_BINARY_DIR}/robust/aarch64
            -P ${_xr_dir}/robust/cross_compile.cmake)
  set_tests_properties(flags.aarch64_compile PROPERTIES LABELS "flags" TIMEOUT 1800)
endif()

# ---- sanitize: ASan + UBSan, no recovery ----
# -DXACT_NO_FLATTEN: the drivers' loops are not flattened (everything they call inlined into
# them), so that GCC 12's points-to analysis and register allocation do not run on huge
# instrumented functions: test_dice.cpp's AVX-512 object took over 45 minutes (never finished,
# session 9) with it and 2 minutes without (session 10). The same code paths and memory
# accesses, inlined less (the results do not depend on inlining; see XACT_FLATTEN in
# core/simd.hpp). -g1: line tables, all a report needs. The limit covers the build too.
xact_subbuild(asan_ubsan sanitize
  FLAGS "-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -DXACT_NO_FLATTEN"
  ARCHS "native;baseline" TIMEOUT 14400)

# ---- fuzz: one libFuzzer target per driver kind, built once (fixture), run each ----
find_program(_xr_fuzz_cxx ${XACT_FUZZ_CXX})
if(_xr_fuzz_cxx)
  set(_xr_fuzz_dir ${PROJECT_BINARY_DIR}/robust/fuzz)
  include(${_xr_dir}/fuzz/targets.cmake)  # sets XACT_FUZZ_TARGETS
  string(REPLACE ";" "\\;" _xr_targets "${XACT_FUZZ_TARGETS}")
  add_test(NAME fuzz.build
    COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR} -DWORK_DIR=${_xr_fuzz_dir}
            -DCXX=${_xr_fuzz_cxx} -DFLAGS=-O1 -DARCHS= -DRUN=OFF "-DTARGETS=${_xr_targets}"
            "-DEXTRA=-DXACT_FUZZ=ON" -P ${_xr_dir}/robust/subbuild.cmake)
  set_tests_properties(fuzz.build PROPERTIES LABELS fuzz FIXTURES_SETUP xact_fuzz TIMEOUT 3600
    RUN_SERIAL ON)
  foreach(t IN LISTS XACT_FUZZ_TARGETS)
    file(MAKE_DIRECTORY ${_xr_fuzz_dir}/corpus-${t})
    # Inputs that once failed (tests/fuzz/regressions/<target>/) are read as a second corpus:
    # run first, every time.
    set(_xr_regr ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${t})
    if(NOT IS_DIRECTORY ${_xr_regr})
      set(_xr_regr "")
    endif()
    add_test(NAME fuzz.${t}
      COMMAND ${_xr_fuzz_dir}/tests/fuzz/${t} -max_total_time=${XACT_FUZZ_SECONDS}
              -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 ${_xr_fuzz_dir}/corpus-${t}
              ${_xr_regr})
    set_tests_properties(fuzz.${t} PROPERTIES LABELS fuzz FIXTURES_REQUIRED xact_fuzz
      TIMEOUT 1800 RUN_SERIAL ON)
  endforeach()
endif()
