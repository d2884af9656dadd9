// xact/eigen.hpp: the drivers on Eigen arrays, matrices (both storage orders), Ref, Map, blocks
// and expressions, and the unaryExpr/binaryExpr adapters, all bit-identical to the pointer
// drivers on the same values.
// GCC before 13 warns inside its AVX-512 intrinsic headers where Eigen's own products inline them
// (GCC bug 105593: the products of the tests below, outside xact; xact's headers cover their own
// code): Eigen is included under the same suppression as xact's headers use.
#include <xact/core/simd.hpp>
XACT_DIAGNOSTICS_BEGIN
#include <Eigen/Dense>
XACT_DIAGNOSTICS_END
#include <random>
#include <vector>
#include <xact/eigen.hpp>

#include "support.hpp"

namespace {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using RMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Values over the interesting range, with the specials sprinkled in.
template <class T>
Mat<T> values(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 g(seed);
  const T special[] = {T(0),
                       T(-0.0),
                       std::numeric_limits<T>::infinity(),
                       -std::numeric_limits<T>::infinity(),
                       std::numeric_limits<T>::quiet_NaN(),
                       std::numeric_limits<T>::denorm_min()};
  Mat<T> m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) {
      const std::uint32_t r = g();
      m(i, j) = (r % 17 == 0) ? special[(r >> 8) % 6] : T(int(r % 60001) - 30000) / T(1000);
    }
  return m;
}

// Expected results, from the pointer drivers on a plain column-major copy of the inputs.
template <class T, class Op>
Mat<T> want_forward(const Op& op, const Mat<T>& x) {
  Mat<T> y(x.rows(), x.cols());
  xact::forward(op, x.data(), y.data(), static_cast<std::size_t>(x.size()));
  return y;
}
template <class T, class Op>
Mat<T> want_backward_x(const Op& op, const Mat<T>& x, const Mat<T>& dy) {
  Mat<T> dx(x.rows(), x.cols());
  xact::backward_from_x(op, x.data(), dy.data(), dx.data(), static_cast<std::size_t>(x.size()));
  return dx;
}
template <class T, class Op>
Mat<T> want_backward_y(const Op& op, const Mat<T>& y, const Mat<T>& dy) {
  Mat<T> dx(y.rows(), y.cols());
  xact::backward_from_y(op, y.data(), dy.data(), dx.data(), static_cast<std::size_t>(y.size()));
  return dx;
}

template <class W, class G>
::testing::AssertionResult same(const W& want, const G& got) {
  if (want.rows() != got.rows() || want.cols() != got.cols())
    return ::testing::AssertionFailure() << "shape " << got.rows() << "x" << got.cols();
  for (Eigen::Index j = 0; j < want.cols(); ++j)
    for (Eigen::Index i = 0; i < want.rows(); ++i)
      if (!xt::same_bits(want(i, j), got(i, j)))
        return ::testing::AssertionFailure()
               << "(" << i << ", " << j << "): want " << want(i, j) << " got " << got(i, j);
  return ::testing::AssertionSuccess();
}

template <class T>
class Eigen_ : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Eigen_, Types);

// Overload resolution: Eigen objects go to eigen.hpp, standard ranges to elementwise.hpp.
static_assert(!xact::detail::is_plain_range_v<Eigen::VectorXf>, "Eigen is not a plain range");
static_assert(!xact::detail::is_plain_range_v<Eigen::Map<Eigen::ArrayXf>>, "");
static_assert(xact::detail::is_plain_range_v<std::vector<float>>, "");
static_assert(xact::eigen_detail::all_dense_v<Eigen::ArrayXXd, Eigen::Ref<Eigen::VectorXf>>, "");
static_assert(!xact::eigen_detail::all_dense_v<std::vector<float>>, "");

TEST(Eigen, OverloadsResolve) {
  std::vector<float> v{-1.f, 0.f, 1.f}, w(3);
  xact::forward(xact::sigmoid{}, v, w);  // the range form, with eigen.hpp included
  EXPECT_EQ(w[1], 0.5f);
  // Filled by value, not Map-copied from v's 3 floats: GCC 12 -O3 -ffast-math (SSE2) warns
  // -Warray-bounds on the copy's 4-float packet load, which the run-time size check skips.
  Eigen::VectorXf a(3), b(3);
  a << v[0], v[1], v[2];
  xact::forward(xact::sigmoid{}, a, b);
  EXPECT_EQ(b[0], w[0]);
  EXPECT_EQ(b[2], w[2]);
}

TYPED_TEST(Eigen_, Arrays) {
  using T = TypeParam;
  const xact::sigmoid op;
  for (Eigen::Index n : {0, 1, 7, 8, 9, 1013}) {
    const Mat<T> x = values<T>(n, 1, 1), dy = values<T>(n, 1, 2);
    const Mat<T> y = want_forward(op, x);
    Eigen::Array<T, Eigen::Dynamic, 1> xa = x, dya = dy, ya(n), dxa(n);
    xact::forward(op, xa, ya);
    EXPECT_TRUE(same(y, ya.matrix()));
    xact::backward_from_x(op, xa, dya, dxa);
    EXPECT_TRUE(same(want_backward_x(op, x, dy), dxa.matrix()));
    const Eigen::Array<T, Eigen::Dynamic, 1> yc = ya;
    xact::backward_from_y(op, yc, dya, dxa);
    EXPECT_TRUE(same(want_backward_y(op, y, dy), dxa.matrix()));
    // backward picks x when given, y otherwise.
    xact::backward(op, xa, Eigen::Array<T, Eigen::Dynamic, 1>(), dya, dxa);
    EXPECT_TRUE(same(want_backward_x(op, x, dy), dxa.matrix()));
    xact::backward(op, Eigen::Array<T, Eigen::Dynamic, 1>(), yc, dya, dxa);
    EXPECT_TRUE(same(want_backward_y(op, y, dy), dxa.matrix()));
    // In place.
    xact::forward(op, xa, xa);
    EXPECT_TRUE(same(y, xa.matrix()));
  }
  // Two-dimensional arrays, fixed sizes.
  const Mat<T> x = values<T>(5, 3, 3);
  Eigen::Array<T, 5, 3> xf = x, yf;
  xact::forward(xact::relu{}, xf, yf);
  EXPECT_TRUE(same(want_forward(xact::relu{}, x), yf.matrix()));
}

TYPED_TEST(Eigen_, MatricesBothStorageOrders) {
  using T = TypeParam;
  const xact::sigmoid op;
  const Mat<T> x = values<T>(37, 29, 4), dy = values<T>(37, 29, 5);
  const Mat<T> y = want_forward(op, x), dxw = want_backward_x(op, x, dy);
  const RMat<T> xr = x, dyr = dy;
  RMat<T> yr(37, 29), dxr(37, 29);
  Mat<T> yc(37, 29), dxc(37, 29);
  xact::forward(op, xr, yr);  // row-major to row-major: one contiguous run
  EXPECT_TRUE(same(y, yr));
  xact::forward(op, x, yc);
  EXPECT_TRUE(same(y, yc));
  xact::forward(op, xr, yc);  // mixed orders: through the stack buffers
  EXPECT_TRUE(same(y, yc));
  xact::forward(op, x, yr);
  EXPECT_TRUE(same(y, yr));
  xact::backward_from_x(op, xr, dy, dxr);
  EXPECT_TRUE(same(dxw, dxr));
  xact::backward_from_x(op, x, dyr, dxc);
  EXPECT_TRUE(same(dxw, dxc));
  xact::backward_from_y(op, yr, dyr, dxr);
  EXPECT_TRUE(same(want_backward_y(op, y, dy), dxr));
}

TYPED_TEST(Eigen_, RefMapAndBlocks) {
  using T = TypeParam;
  const xact::sigmoid op;
  const Mat<T> x = values<T>(300, 41, 6), dy = values<T>(300, 41, 7);
  const Mat<T> y = want_forward(op, x), dxw = want_backward_x(op, x, dy);

  // Ref to a column (contiguous) and to a block (inner-contiguous columns).
  {
    Mat<T> out = Mat<T>::Zero(300, 41);
    const Eigen::Ref<const Mat<T>> xb = x.block(3, 2, 250, 30);
    Eigen::Ref<Mat<T>> ob = out.block(3, 2, 250, 30);
    xact::forward(op, xb, ob);
    EXPECT_TRUE(same(y.block(3, 2, 250, 30), out.block(3, 2, 250, 30)));
    EXPECT_EQ(out.col(0).cwiseAbs().sum(), T(0)) << "wrote outside the block";
    Eigen::Matrix<T, Eigen::Dynamic, 1> c(300);
    xact::forward(op, Eigen::Ref<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(x.col(5)), c);
    EXPECT_TRUE(same(y.col(5), c));
  }
  // A row of a column-major matrix: inner stride 300, longer than one stack chunk.
  {
    Eigen::Matrix<T, 1, Eigen::Dynamic> r(41);
    xact::forward(op, x.row(17), r);
    EXPECT_TRUE(same(y.row(17), r));
    RMat<T> big = values<T>(3, 700, 8), out(3, 700);
    Mat<T> wantb = want_forward(op, Mat<T>(big));
    xact::forward(op, big.col(9), out.col(9));  // both strided
    EXPECT_TRUE(same(wantb.col(9), out.col(9)));
    xact::backward_from_x(op, big.transpose().col(1), big.transpose().col(2),
                          out.transpose().col(0));
    EXPECT_TRUE(same(want_backward_x(op, Mat<T>(big.row(1)), Mat<T>(big.row(2))), out.row(0)));
  }
  // Map with an outer stride, with an inner stride, in place on a non-contiguous block.
  {
    std::vector<T> buf(64 * 41), outb(64 * 41, T(7));
    Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>> xm(buf.data(), 50, 41, Eigen::OuterStride<>(64));
    Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>> ym(outb.data(), 50, 41, Eigen::OuterStride<>(64));
    xm = x.topRows(50);
    xact::forward(op, xm, ym);
    EXPECT_TRUE(same(y.topRows(50), ym));
    EXPECT_EQ(outb[60], T(7)) << "wrote into the padding";

    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<3>> xs(x.data(),
                                                                                       100);
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<3>> gs(dy.data(),
                                                                                       100);
    Eigen::Matrix<T, Eigen::Dynamic, 1> d(100);
    xact::backward_from_x(op, xs, gs, d);
    for (Eigen::Index i = 0; i < 100; ++i)
      ASSERT_TRUE(xt::same_bits(d(i), dxw(3 * i % 300, 3 * i / 300))) << i;

    Mat<T> inplace = x;
    xact::forward(op, inplace.block(1, 1, 200, 13), inplace.block(1, 1, 200, 13));
    EXPECT_TRUE(same(y.block(1, 1, 200, 13), inplace.block(1, 1, 200, 13)));
    RMat<T> inr = x;
    auto col = inr.col(4);  // strided, in place through the buffers
    xact::forward(op, col, col);
    EXPECT_TRUE(same(y.col(4), inr.col(4)));
    EXPECT_TRUE(same(x.col(3), inr.col(3)));
  }
}

TYPED_TEST(Eigen_, ExpressionsAsInputs) {
  using T = TypeParam;
  const xact::sigmoid op;
  const Mat<T> a = values<T>(20, 9, 9), b = values<T>(9, 11, 10);
  Mat<T> y(20, 9), p(20, 11);
  xact::forward(op, a * T(2) + Mat<T>::Ones(20, 9), y);
  EXPECT_TRUE(same(want_forward(op, Mat<T>(a * T(2) + Mat<T>::Ones(20, 9))), y));
  const Mat<T> af = a.unaryExpr([](T v) { return xt::nan_bits(v) || xt::inf_bits(v) ? T(0) : v; });
  const Mat<T> bf = b.unaryExpr([](T v) { return xt::nan_bits(v) || xt::inf_bits(v) ? T(0) : v; });
  xact::forward(op, af * bf, p);  // a product: evaluated once by Eigen
  EXPECT_TRUE(same(want_forward(op, Mat<T>(af * bf)), p));
}

TYPED_TEST(Eigen_, ShapeChecks) {
  using T = TypeParam;
  Mat<T> x(3, 4), y(4, 3), dy(3, 4), dx(3, 4);
  x.setZero();
  dy.setOnes();
  EXPECT_THROW(xact::forward(xact::sigmoid{}, x, y), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_x(xact::sigmoid{}, x, y, dx), std::invalid_argument);
  EXPECT_THROW(xact::backward(xact::sigmoid{}, Mat<T>(), Mat<T>(), dy, dx), std::invalid_argument);
  EXPECT_NO_THROW(xact::backward(xact::sigmoid{}, x, Mat<T>(), dy, dx));
  EXPECT_EQ(dx(2, 3), T(0.25));
}

// The adapters inside Eigen expressions, on sizes that use full packets, half packets (fixed
// size 4 and 2) and scalar remainders.
TYPED_TEST(Eigen_, ExpressionAdapters) {
  using T = TypeParam;
  const xact::sigmoid op;
  for (Eigen::Index n : {1, 3, 4, 8, 13, 1001}) {
    const Mat<T> x = values<T>(n, 3, 11), dy = values<T>(n, 3, 12);
    const Mat<T> y = want_forward(op, x);
    const Mat<T> got = x.unaryExpr(xact::eigen::expr(op));
    EXPECT_TRUE(same(y, got));
    const Mat<T> twice = x.array().unaryExpr(xact::eigen::expr(op)) * T(2);
    EXPECT_TRUE(same(Mat<T>(y * T(2)), twice));
    const Mat<T> gx = x.binaryExpr(dy, xact::eigen::expr_backward_from_x(op));
    EXPECT_TRUE(same(want_backward_x(op, x, dy), gx));
    const Mat<T> gy = y.binaryExpr(dy, xact::eigen::expr_backward_from_y(op));
    EXPECT_TRUE(same(want_backward_y(op, y, dy), gy));
  }
  const Mat<T> x = values<T>(4, 1, 13);
  Eigen::Matrix<T, 4, 1> x4 = x, y4 = x4.unaryExpr(xact::eigen::expr(op));
  EXPECT_TRUE(same(want_forward(op, x), y4));
  Eigen::Matrix<T, 2, 1> x2 = x.topRows(2), y2 = x2.unaryExpr(xact::eigen::expr(op));
  EXPECT_TRUE(same(want_forward(op, Mat<T>(x.topRows(2))), y2));
}

}  // namespace

// Softmax along each row (rows = samples), whichever the storage order; bit-identical to the
// pointer forms on the same layout: row-major [rows, cols, 1], column-major [1, cols, rows].
namespace {

template <class T>
// By bits: std::isfinite folds to true under -ffinite-math-only (the flags.fast_math build).
Mat<T> finite_values(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  return values<T>(rows, cols, seed).unaryExpr([](T v) {
    return xt::nan_bits(v) || xt::inf_bits(v) ? T(1) : v;
  });
}

TYPED_TEST(Eigen_, SoftmaxRowsBothStorageOrders) {
  using T = TypeParam;
  const Eigen::Index r = 13, c = 37;
  const Mat<T> x = finite_values<T>(r, c, 21), dy = finite_values<T>(r, c, 22);
  const RMat<T> xr = x, dyr = dy;
  // The references: the pointer forms on each layout.
  RMat<T> yr_want(r, c), dxr_want(r, c), lr_want(r, c);
  Mat<T> yc_want(r, c), dxc_want(r, c);
  xact::softmax_forward(xr.data(), yr_want.data(), r, c, 1);
  xact::softmax_backward(yr_want.data(), dyr.data(), dxr_want.data(), r, c, 1);
  xact::log_softmax_forward(xr.data(), lr_want.data(), r, c, 1);
  xact::softmax_forward(x.data(), yc_want.data(), 1, c, r);
  xact::softmax_backward(yc_want.data(), dy.data(), dxc_want.data(), 1, c, r);

  RMat<T> yr(r, c), dxr(r, c), lr(r, c);
  Mat<T> yc(r, c), dxc(r, c);
  xact::softmax_forward(xr, yr);
  EXPECT_TRUE(same(yr_want, yr));
  xact::softmax_backward(yr, dyr, dxr);
  EXPECT_TRUE(same(dxr_want, dxr));
  xact::log_softmax_forward(xr, lr);
  EXPECT_TRUE(same(lr_want, lr));
  xact::softmax_forward(x, yc);
  EXPECT_TRUE(same(yc_want, yc));
  xact::softmax_backward(yc, dy, dxc);
  EXPECT_TRUE(same(dxc_want, dxc));
  // Each row is a distribution, and the two orders agree to rounding.
  for (Eigen::Index i = 0; i < r; ++i) {
    EXPECT_NEAR(double(yr.row(i).sum()), 1.0, 1e-5);
    for (Eigen::Index j = 0; j < c; ++j) EXPECT_LE(xt::ulp_distance(yc(i, j), yr(i, j)), 4);
  }
  // Mixed orders and an expression go through a row-major copy: the row-major result.
  Mat<T> ym(r, c);
  xact::softmax_forward(xr, ym);
  EXPECT_TRUE(same(yr_want, ym));
  xact::softmax_forward(x * T(1), yr);
  EXPECT_TRUE(same(yr_want, yr));
  // Array types too.
  Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ya(r, c);
  xact::softmax_forward(xr.array(), ya);
  EXPECT_TRUE(same(yr_want, ya.matrix()));
}

TYPED_TEST(Eigen_, SoftmaxViews) {
  using T = TypeParam;
  const RMat<T> big = finite_values<T>(20, 50, 23);
  // Row-major block: rows contiguous but apart, one row at a time, in place.
  RMat<T> work = big;
  xact::softmax_forward(work.block(2, 3, 10, 40), work.block(2, 3, 10, 40));
  for (Eigen::Index i = 0; i < 10; ++i) {
    RMat<T> want(1, 40);
    const RMat<T> row = big.block(2 + i, 3, 1, 40);
    xact::softmax_forward(row.data(), want.data(), 1, 40, 1);
    ASSERT_TRUE(same(want, work.block(2 + i, 3, 1, 40))) << i;
  }
  EXPECT_TRUE(same(big.col(0), work.col(0))) << "wrote outside the block";
  // A column-major block: copied, softmax along its rows.
  const Mat<T> cm = big;
  Mat<T> out = Mat<T>::Zero(20, 50);
  xact::softmax_forward(cm.block(1, 1, 5, 7), out.block(1, 1, 5, 7));
  const RMat<T> sub = cm.block(1, 1, 5, 7);
  RMat<T> want(5, 7);
  xact::softmax_forward(sub.data(), want.data(), 5, 7, 1);
  EXPECT_TRUE(same(want, out.block(1, 1, 5, 7)));
  // Vector types: one distribution over the whole vector, in either orientation.
  const Eigen::Matrix<T, Eigen::Dynamic, 1> v = cm.col(3);
  Eigen::Matrix<T, Eigen::Dynamic, 1> sv(20);
  Eigen::Matrix<T, 1, Eigen::Dynamic> sr(20);
  xact::softmax_forward(v, sv);
  xact::softmax_forward(v.transpose(), sr);
  Eigen::Matrix<T, Eigen::Dynamic, 1> wv(20);
  xact::softmax_forward(v.data(), wv.data(), 1, 20, 1);
  EXPECT_TRUE(same(wv, sv));
  EXPECT_TRUE(same(wv.transpose(), sr));
  EXPECT_THROW(xact::softmax_forward(cm, sv), std::invalid_argument);
}

}  // namespace

// Dice: statistics per feature (column) over the samples (rows), either storage order,
// bit-identical to the pointer form on the same layout.
#if __has_include(<xact/functions/dice.hpp>)
#include <xact/functions/dice.hpp>

namespace {

TYPED_TEST(Eigen_, DiceFeaturesAreColumns) {
  using T = TypeParam;
  using xact::channel_shape;
  using xact::dice_mode;
  using xact::layout;
  const Eigen::Index r = 33, c = 6;
  const Mat<T> x = finite_values<T>(r, c, 31), dy = finite_values<T>(r, c, 32);
  const RMat<T> xr = x, dyr = dy;
  for (dice_mode mode : {dice_mode::training, dice_mode::inference}) {
    // Row-major: [N, C].
    xact::dice<T> d(c), w(c);
    RMat<T> y(r, c), want(r, c), dx(r, c), dxw(r, c);
    xact::dice_forward(d, xr, y, mode);
    w.forward(channel_shape{std::size_t(r), std::size_t(c), 1, layout::channels_last}, xr.data(),
              want.data(), mode);
    EXPECT_TRUE(same(want, y));
    xact::dice_backward(d, xr, dyr, dx, mode);
    w.backward(channel_shape{std::size_t(r), std::size_t(c), 1, layout::channels_last}, xr.data(),
               dyr.data(), dxw.data(), mode);
    EXPECT_TRUE(same(dxw, dx));
    EXPECT_EQ(d.grad_alpha, w.grad_alpha);
    // Column-major: each feature's samples contiguous, [1, C, N] channels first.
    xact::dice<T> dc(c), wc(c);
    Mat<T> yc(r, c), wantc(r, c), dxc(r, c), dxwc(r, c);
    const channel_shape cs{1, std::size_t(c), std::size_t(r), layout::channels_first};
    xact::dice_forward(dc, x, yc, mode);
    wc.forward(cs, x.data(), wantc.data(), mode);
    EXPECT_TRUE(same(wantc, yc));
    xact::dice_backward(dc, x, dy, dxc, mode);
    wc.backward(cs, x.data(), dy.data(), dxwc.data(), mode);
    EXPECT_TRUE(same(dxwc, dxc));
    // The same statistics either way (to rounding): the per-feature mean and variance.
    for (Eigen::Index j = 0; j < c; ++j)
      EXPECT_NEAR(double(d.batch_mean[j]), double(dc.batch_mean[j]), 1e-4);
    for (Eigen::Index i = 0; i < r; ++i)
      for (Eigen::Index j = 0; j < c; ++j) EXPECT_NEAR(double(yc(i, j)), double(y(i, j)), 1e-4);
    // A block goes through a row-major copy: the row-major result.
    xact::dice<T> db(c);
    Mat<T> big = Mat<T>::Zero(r + 4, c + 2);
    big.block(2, 1, r, c) = x;
    Mat<T> out = Mat<T>::Zero(r + 4, c + 2);
    xact::dice_forward(db, big.block(2, 1, r, c), out.block(2, 1, r, c), mode);
    EXPECT_TRUE(same(want, out.block(2, 1, r, c)));
  }
}

}  // namespace
#endif
