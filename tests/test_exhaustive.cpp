// The long accuracy run (ctest label `exhaustive`, scripts/exhaustive.sh): every one of the 2^32
// floats through every registered float case, and 2^26 sampled doubles per double case.
// XACT_EXHAUSTIVE_FILTER=name restricts it to the functions whose name contains `name`.
#include <cstdio>
#include <cstdlib>

#include "support.hpp"

namespace {

bool selected(const std::string& fn) {
  const char* f = std::getenv("XACT_EXHAUSTIVE_FILTER");
  return f == nullptr || *f == 0 || fn.find(f) != std::string::npos;
}

TEST(Exhaustive, AllFloats) {
  for (const auto& c : xt::registry<float>()) {
    if (!selected(c.function)) continue;
    const auto w = xt::scan_floats(c, 1);
    std::printf("[exhaustive] %-12s %-16s float  max %5.2f ulp over %llu (bound %g) %s\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound, w.describe().c_str());
    std::fflush(stdout);
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

TEST(Exhaustive, ManyDoubles) {
  for (const auto& c : xt::registry<double>()) {
    if (!selected(c.function)) continue;
    const auto w = xt::scan_doubles(c, 1 << 26);
    std::printf("[exhaustive] %-12s %-16s double max %5.2f ulp over %llu (bound %g) %s\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound, w.describe().c_str());
    std::fflush(stdout);
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

}  // namespace
