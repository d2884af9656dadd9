# Compile-only check of the headers with a cross compiler (AArch64 NEON): every function of the
# umbrella header instantiated over float and double (tests/robust/compile_check.cpp).
#   cmake -DSOURCE=<xact> -DCXX=aarch64-linux-gnu-g++ -DWORK_DIR=<dir> -P cross_compile.cmake
# xsimd is header-only and arch-neutral: its host copy is used through a directory that holds
# nothing else (the host's /usr/include would bring x86 system headers), as a system directory
# (-isystem) as it is on an AArch64 machine: xsimd 8.1's NEON code trips -Wsign-compare.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/inc)
find_path(xsimd_dir xsimd/xsimd.hpp PATHS /usr/include /usr/local/include REQUIRED)
file(CREATE_LINK ${xsimd_dir}/xsimd ${WORK_DIR}/inc/xsimd SYMBOLIC)
foreach(flags "-O2" "-O2 -ffast-math -DXACT_ALLOW_FAST_MATH")
  separate_arguments(f UNIX_COMMAND "${flags}")
  execute_process(
    COMMAND ${CXX} -std=c++17 ${f} -Wall -Wextra -Wpedantic -Werror -I${SOURCE}/include
            -isystem ${WORK_DIR}/inc -c ${SOURCE}/tests/robust/compile_check.cpp
            -o ${WORK_DIR}/compile_check.o
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cross compile failed (${CXX} ${flags})")
  endif()
  execute_process(COMMAND ${CXX} -std=c++17 ${f} -I${SOURCE}/include -isystem ${WORK_DIR}/inc -dM -E
                  -x c++ ${SOURCE}/tests/robust/compile_check.cpp OUTPUT_VARIABLE defs)
  string(REGEX MATCH "XSIMD_WITH_NEON64 1" neon "${defs}")
  message(STATUS "compiled with ${CXX} ${flags}: ${neon}")
endforeach()
