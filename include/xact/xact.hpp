// xact: activation functions, fast and exact. The whole public API but the Eigen adapter
// (xact/eigen.hpp).
#pragma once

#include "core/accumulate.hpp"
#include "core/elementwise.hpp"
#include "core/math.hpp"
#include "core/simd.hpp"
#include "functions/relu.hpp"
#include "functions/sigmoid.hpp"
#include "functions/softmax.hpp"
#include "version.hpp"
