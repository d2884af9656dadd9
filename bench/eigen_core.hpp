// Eigen for the baselines, included under xact's suppression of GCC 12's -Wmaybe-uninitialized
// false positive inside its AVX-512 intrinsic headers (GCC bug 105593; core/simd.hpp): Eigen's
// own AVX-512 packet code trips it wherever the baselines inline it.
#pragma once

#include <xact/core/simd.hpp>

XACT_DIAGNOSTICS_BEGIN
#include <Eigen/Core>
XACT_DIAGNOSTICS_END
