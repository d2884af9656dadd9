// xact: activation functions, fast and exact. The whole public API but the Eigen adapter
// (xact/eigen.hpp).
#pragma once

#include "core/accumulate.hpp"
#include "core/channelwise.hpp"
#include "core/elementwise.hpp"
#include "core/math.hpp"
#include "core/simd.hpp"
#include "functions/dice.hpp"
#include "functions/leaky_relu.hpp"
#include "functions/prelu.hpp"
#include "functions/relu.hpp"
#include "functions/sigmoid.hpp"
#include "functions/softmax.hpp"
#include "functions/softplus.hpp"
#include "functions/swish.hpp"
#include "functions/tanh.hpp"
#include "functions/x_min_exp.hpp"
#include "version.hpp"
