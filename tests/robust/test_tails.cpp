// Tail handling never touches memory outside [0, n): every registered accuracy case (every
// function, direction and type) at every length 0 .. 4W+3 on heap buffers of exactly n elements,
// so AddressSanitizer (label `sanitize`) catches any read or write past either end. Each element
// also equals the same element computed in the body of a long array (tail = body).
#include <memory>

#include "support.hpp"

namespace {

template <class T>
void check_tails() {
  constexpr std::size_t W = xsimd::batch<T>::size;
  constexpr std::size_t N = 4 * W + 3;
  ASSERT_FALSE(xt::registry<T>().empty());
  const std::vector<T> in = xt::conformance_inputs<T>(N + 64, 11);
  std::vector<T> dy(N + 64);
  for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = xt::dy_pattern<T>(i);
  for (const auto& c : xt::registry<T>()) {
    // The body reference: a long array, each element computed W-aligned somewhere inside it.
    std::vector<T> body(in.size());
    c.run(in.data(), dy.data(), body.data(), in.size());
    for (std::size_t n = 0; n <= N; ++n) {
      // new T[n]: exactly n elements (new T[0] is a valid pointer to no element).
      std::unique_ptr<T[]> x(new T[n]), g(new T[n]), out(new T[n]);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = in[i];
        g[i] = dy[i];
      }
      c.run(x.get(), g.get(), out.get(), n);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_TRUE(xt::same_lane(out[i], body[i]))
            << c.function << " " << c.direction << " n=" << n << " i=" << i;
      // In place over the input.
      c.run(x.get(), g.get(), x.get(), n);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_TRUE(xt::same_lane(x[i], body[i]))
            << c.function << " " << c.direction << " in place n=" << n << " i=" << i;
    }
  }
}

TEST(Tails, ExactHeapBuffersFloat) { check_tails<float>(); }
TEST(Tails, ExactHeapBuffersDouble) { check_tails<double>(); }

}  // namespace
