// The drivers' contracts: range overloads, size checks, null pointers, overlap, alignment.
#include <algorithm>
#include <array>
#include <numeric>
#if __has_include(<span>) && __cplusplus >= 202002L
#include <span>
#endif

#include "support.hpp"

namespace {

TEST(Drivers, RangeOverloads) {
  std::vector<float> x{-1.f, 0.f, 2.f}, y(3), dx(3), dy{1.f, 1.f, 1.f};
  xact::forward(xact::relu{}, x, y);
  EXPECT_EQ(y, (std::vector<float>{0.f, 0.f, 2.f}));
  std::array<double, 3> xa{-1, 0, 2}, ya{};
  xact::forward(xact::relu{}, xa, ya);
  EXPECT_EQ(ya[2], 2.0);
  xact::backward_from_x(xact::relu{}, x, dy, dx);
  EXPECT_EQ(dx, (std::vector<float>{0.f, 0.f, 1.f}));
  std::vector<float> y1{0.5f}, dy1{1.f}, dx1(1);
  xact::backward_from_y(xact::sigmoid{}, y1, dy1, dx1);
  EXPECT_EQ(dx1[0], 0.25f);
  // The generic backward: x given -> from x; x empty -> from y.
  std::vector<float> none, s{0.5f}, g{1.f}, out(1);
  xact::backward(xact::sigmoid{}, std::vector<float>{0.f}, none, g, out);
  EXPECT_EQ(out[0], 0.25f);
  out[0] = 0;
  xact::backward(xact::sigmoid{}, none, s, g, out);
  EXPECT_EQ(out[0], 0.25f);
#if defined(__cpp_lib_span)
  std::span<float> sx(x), sy(y);
  xact::forward(xact::sigmoid{}, sx, sy);
  EXPECT_EQ(y[1], 0.5f);
#endif
}

TEST(Drivers, SizeMismatchThrows) {
  std::vector<float> x(5), y(4), dy(5), dx(5);
  EXPECT_THROW(xact::forward(xact::relu{}, x, y), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_x(xact::relu{}, x, y, dx), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_x(xact::relu{}, x, dy, y), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_y(xact::sigmoid{}, y, dy, dx), std::invalid_argument);
  std::vector<float> none;
  EXPECT_THROW(xact::backward(xact::sigmoid{}, none, none, dy, dx), std::invalid_argument);
}

TEST(Drivers, NullPointersAndOverlap) {
  std::vector<float> x(16, 1.f);
  EXPECT_THROW(xact::forward(xact::relu{}, static_cast<const float*>(nullptr), x.data(), 4),
               std::invalid_argument);
  EXPECT_THROW(xact::forward(xact::relu{}, x.data(), static_cast<float*>(nullptr), 4),
               std::invalid_argument);
  EXPECT_NO_THROW(xact::forward(xact::relu{}, static_cast<const float*>(nullptr),
                                static_cast<float*>(nullptr), 0));
  // Exactly in place is fine; a shifted overlap is refused.
  EXPECT_NO_THROW(xact::forward(xact::relu{}, x.data(), x.data(), 8));
  EXPECT_THROW(xact::forward(xact::relu{}, x.data(), x.data() + 1, 8), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_x(xact::relu{}, x.data(), x.data() + 8, x.data() + 2, 8),
               std::invalid_argument);
}

TEST(Drivers, EveryAlignmentGivesTheSameBits) {
  // Misaligned by every number of bytes a float* can be: results equal the scalar call.
  std::vector<float> base = xt::conformance_inputs<float>(300, 7);
  std::vector<float> want(base.size());
  for (std::size_t i = 0; i < base.size(); ++i) want[i] = xact::sigmoid{}(base[i]);
  alignas(64) float buf[320 + 16];
  for (std::size_t shift = 0; shift < 16; ++shift) {
    std::copy(base.begin(), base.end(), buf + shift);
    xact::forward(xact::sigmoid{}, buf + shift, buf + shift, base.size());
    for (std::size_t i = 0; i < base.size(); ++i)
      ASSERT_TRUE(xt::same_bits(buf[shift + i], want[i])) << shift << " " << i;
  }
}

// Outputs of xact::detail::elementwise_stream_bytes and more take the streaming body (aligned
// non-temporal stores after a head through the padded path) in the directions that opt in
// (x_min_exp forward, leaky_relu backward, every backward from y): the same bits as smaller
// calls (NaN matching NaN: its sign is not specified), at every output misalignment, in place
// and not.
template <class T>
std::size_t first_difference(const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!xt::same_bits(a[i], b[i])) return i;
  return n;
}
template <class T>
void check_streaming() {
  static_assert(xact::detail::stream_forward_of<xact::x_min_exp>::value &&
                    xact::detail::stream_backward_of<xact::leaky_relu>::value,
                "the directions this test streams");
  constexpr std::size_t S = xact::detail::elementwise_stream_bytes;
  if (S > (std::size_t(64) << 20)) GTEST_SKIP() << "XACT_STREAM_BYTES beyond the test's 64 MiB";
  const std::size_t n = std::max<std::size_t>(S / sizeof(T) + 37, 4099);
  const std::size_t chunk = std::max<std::size_t>(1, S / sizeof(T) / 2);
  std::vector<T> x(n + 16), dy(n + 16), out(n + 16), want(n), wdx(n), wdy(n);
  const std::vector<T> v = xt::conformance_inputs<T>(4096, 11);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = v[i % v.size()] * T(i % 3 == 0 ? 100 : 1);  // x_min_exp's tails too
    dy[i] = v[(i * 7 + 3) % v.size()];
  }
  const xact::leaky_relu leaky(0.3);
  for (std::size_t shift : {std::size_t(0), std::size_t(1), std::size_t(5)}) {
    const T* xs = x.data() + shift;
    // Below the threshold: chunks of at most half of it.
    for (std::size_t i = 0; i < n; i += chunk) {
      const std::size_t m = std::min(chunk, n - i);
      xact::forward(xact::x_min_exp{}, xs + i, want.data() + i, m);
      xact::backward_from_x(leaky, xs + i, dy.data() + i, wdx.data() + i, m);
      xact::backward_from_y(xact::sigmoid{}, xs + i, dy.data() + i, wdy.data() + i, m);
    }
    for (std::size_t o : {std::size_t(0), std::size_t(3)}) {
      xact::forward(xact::x_min_exp{}, xs, out.data() + o, n);
      ASSERT_EQ(first_difference(out.data() + o, want.data(), n), n) << shift << " " << o;
      xact::backward_from_x(leaky, xs, dy.data(), out.data() + o, n);
      ASSERT_EQ(first_difference(out.data() + o, wdx.data(), n), n) << shift << " " << o;
      xact::backward_from_y(xact::sigmoid{}, xs, dy.data(), out.data() + o, n);
      ASSERT_EQ(first_difference(out.data() + o, wdy.data(), n), n) << shift << " " << o;
    }
    std::copy(x.begin(), x.end(), out.begin());
    xact::forward(xact::x_min_exp{}, out.data() + shift, out.data() + shift, n);  // in place
    ASSERT_EQ(first_difference(out.data() + shift, want.data(), n), n) << shift;
  }
}
TEST(Drivers, StreamingStoresGiveTheSameBitsFloat) { check_streaming<float>(); }
TEST(Drivers, StreamingStoresGiveTheSameBitsDouble) { check_streaming<double>(); }

TEST(Drivers, OtherArchInstantiates) {
  // A translation unit can pick a narrower width explicitly.
  std::vector<float> x{-1.f, 2.f, 3.f}, y(3);
  xact::forward<xsimd::default_arch>(xact::relu{}, x.data(), y.data(), x.size());
  EXPECT_EQ(y[1], 2.f);
}

}  // namespace
