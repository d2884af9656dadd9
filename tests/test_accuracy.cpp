// Every registered accuracy case over a strided walk: 2^20 floats spread over all 2^32 bit
// patterns, 2^20 doubles (all binades plus the ranges where the functions change). The
// exhaustive walk (label `exhaustive`) is in test_exhaustive.cpp.
#include <cstdio>

#include "support.hpp"

namespace {

TEST(Accuracy, FloatStrided) {
  ASSERT_FALSE(xt::registry<float>().empty());
  for (const auto& c : xt::registry<float>()) {
    const auto w = xt::scan_floats(c, 4096 + 1);
    std::printf("[accuracy] %-12s %-16s float  max %5.2f ulp over %llu (bound %g)\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound);
    EXPECT_GT(w.checked, 0u) << c.function;
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

TEST(Accuracy, DoubleSampled) {
  ASSERT_FALSE(xt::registry<double>().empty());
  for (const auto& c : xt::registry<double>()) {
    const auto w = xt::scan_doubles(c, 1 << 20);
    std::printf("[accuracy] %-12s %-16s double max %5.2f ulp over %llu (bound %g)\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound);
    EXPECT_GT(w.checked, 0u) << c.function;
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

}  // namespace
