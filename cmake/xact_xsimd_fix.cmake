# Debian 12's xsimd 8.1 package exports a target that links "xtl" (xsimd's optional companion
# library, header-only) without depending on it. Where xtl is not installed, that name would turn
# into a bogus -lxtl at link time; an empty interface target in its place is exactly what xsimd
# needs from it here (nothing).
if(TARGET xsimd AND NOT TARGET xtl)
  find_package(xtl QUIET CONFIG)
  if(NOT TARGET xtl)
    add_library(xtl INTERFACE IMPORTED)
  endif()
endif()
