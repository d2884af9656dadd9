// xact/eigen.hpp: Eigen 3.4 interop. Opt-in (xact.hpp does not include it): include this header
// after, or instead of, <xact/xact.hpp> when Eigen is on the include path.
//
// 1. The drivers on Eigen objects: arrays, vectors, matrices (either storage order), Map, Ref,
//    blocks, and read-only expressions as inputs:
//
//      xact::forward(op, x, y)                     y = f(x)        (y may be x: in place)
//      xact::backward_from_x(op, x, dy, dx)
//      xact::backward_from_y(op, y, dy, dx)
//      xact::backward(op, x, y, dy, dx)             x or y may be empty when the op does not
//                                                  read it
//
//    All operands have the same rows() and cols(). Nothing is copied when the data is
//    contiguous: the pointer drivers of core/elementwise.hpp run on the memory itself, once for
//    a whole contiguous object, once per column (row) of a block whose inner stride is 1.
//    Anything else (a non-unit inner stride, operands of different storage orders, an
//    expression) goes in chunks through a small fixed buffer on the stack and through the same
//    pointer drivers, so every element's result is bit-identical to the pointer driver's on
//    the same value. No heap allocation (an input expression that Eigen must evaluate, like a
//    matrix product, is evaluated once by Eigen's own evaluator). Outputs must not partially
//    overlap inputs.
//
// 2. An xact function inside an Eigen expression:
//
//      y = x.unaryExpr(xact::eigen::expr(xact::sigmoid{})) * 2 + b;
//      dx = x.binaryExpr(dy, xact::eigen::expr_backward_from_x(xact::sigmoid{}));
//      dx = y.binaryExpr(dy, xact::eigen::expr_backward_from_y(xact::sigmoid{}));
//
//    The adapters are vectorized: Eigen hands them its packets, and a packet with the width of
//    xsimd's default batch (__m256 on AVX, __m128 on SSE2) is converted to that batch with no
//    memory round trip; any other packet (Eigen's half packets) runs the scalar form lane by
//    lane. Both give the bit-identical results of the array drivers.
//
// 3. Softmax and log-softmax along each row of a matrix (rows = samples), and Dice with its
//    statistics per column (columns = features), for either storage order: see their sections
//    below.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "core/channelwise.hpp"
#include "core/elementwise.hpp"
#include "functions/softmax.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

namespace eigen_detail {

using Eigen::Index;

template <class E>
using plain_t = std::remove_cv_t<std::remove_reference_t<E>>;

template <class E, class = void>
struct is_dense : std::false_type {};
template <class E>
struct is_dense<E, detail::void_t<typename plain_t<E>::Scalar>>
    : std::is_base_of<Eigen::DenseBase<plain_t<E>>, plain_t<E>> {};

template <class... E>
constexpr bool all_dense_v = (is_dense<E>::value && ...);

template <class E>
constexpr bool direct_v = (static_cast<unsigned>(plain_t<E>::Flags) & Eigen::DirectAccessBit) != 0;

template <class E>
constexpr bool writable_v = !std::is_const<std::remove_reference_t<E>>::value &&
                            (static_cast<unsigned>(plain_t<E>::Flags) & Eigen::LvalueBit) != 0;

// How the output is walked: lines along its inner dimension (a column of a column-major
// matrix, a row of a row-major one), `len` elements each.
struct shape {
  Index rows, cols;
  bool row_major;
  Index lines() const { return row_major ? rows : cols; }
  Index len() const { return row_major ? cols : rows; }
  Index row(Index line, Index t) const { return row_major ? line : t; }
  Index col(Index line, Index t) const { return row_major ? t : line; }
};

// A read view. With direct access: the pointer and strides (element (i, j) at
// p[i * rs + j * cs]); otherwise Eigen's evaluator, built once.
template <class E, bool Direct = direct_v<E>>
class in_view;

template <class E>
class in_view<E, true> {
 public:
  using T = typename plain_t<E>::Scalar;
  explicit in_view(const E& e)
      : p_(e.size() ? e.data() : nullptr), rs_(e.rowStride()), cs_(e.colStride()) {}
  bool present() const { return p_ != nullptr; }
  T at(Index i, Index j) const { return p_[i * rs_ + j * cs_]; }
  // The start of a line if it is contiguous, else null.
  const T* line(const shape& s, Index l) const {
    if (!p_) return nullptr;
    if ((s.row_major ? cs_ : rs_) != 1) return nullptr;
    return p_ + (s.row_major ? l * rs_ : l * cs_);
  }
  // The whole object as one contiguous run in the walk's order.
  bool linear(const shape& s) const {
    if (!p_) return true;
    const Index along = s.row_major ? cs_ : rs_, across = s.row_major ? rs_ : cs_;
    return along == 1 && (s.lines() <= 1 || across == s.len());
  }
  const T* data() const { return p_; }

 private:
  const T* p_;
  Index rs_, cs_;
};

template <class E>
class in_view<E, false> {
 public:
  using T = typename plain_t<E>::Scalar;
  explicit in_view(const E& e) : ev_(e), present_(e.size() != 0) {}
  bool present() const { return present_; }
  T at(Index i, Index j) const { return ev_.coeff(i, j); }
  const T* line(const shape&, Index) const { return nullptr; }
  bool linear(const shape&) const { return !present_; }
  const T* data() const { return nullptr; }

 private:
  Eigen::internal::evaluator<plain_t<E>> ev_;
  bool present_;
};

template <class E, bool Direct = direct_v<E>>
class out_view;

template <class E>
class out_view<E, true> {
 public:
  using T = typename plain_t<E>::Scalar;
  explicit out_view(E& e) : p_(e.data()), rs_(e.rowStride()), cs_(e.colStride()) {}
  T& at(Index i, Index j) const { return p_[i * rs_ + j * cs_]; }
  T* line(const shape& s, Index l) const {
    if ((s.row_major ? cs_ : rs_) != 1) return nullptr;
    return p_ + (s.row_major ? l * rs_ : l * cs_);
  }
  bool linear(const shape& s) const {
    const Index along = s.row_major ? cs_ : rs_, across = s.row_major ? rs_ : cs_;
    return along == 1 && (s.lines() <= 1 || across == s.len());
  }
  T* data() const { return p_; }

 private:
  T* p_;
  Index rs_, cs_;
};

template <class E>
class out_view<E, false> {
 public:
  using T = typename plain_t<E>::Scalar;
  explicit out_view(E& e) : ev_(e) {}
  T& at(Index i, Index j) const { return ev_.coeffRef(i, j); }
  T* line(const shape&, Index) const { return nullptr; }
  bool linear(const shape&) const { return false; }
  T* data() const { return nullptr; }

 private:
  mutable Eigen::internal::evaluator<plain_t<E>> ev_;
};

// Elements per chunk of the strided path: 4 buffers of 256 doubles = 8 KiB of stack.
constexpr Index chunk = 256;

template <class E>
inline void check_shape(const E& e, Index rows, Index cols, const char* what, bool optional) {
  if (optional && e.size() == 0) return;
  if (e.rows() != rows || e.cols() != cols)
    throw std::invalid_argument(std::string("xact: shape mismatch: ") + what + " is " +
                                std::to_string(e.rows()) + "x" + std::to_string(e.cols()) +
                                ", the output " + std::to_string(rows) + "x" +
                                std::to_string(cols));
}

template <class T, class InV>
inline const T* gather(const InV& in, const T* line, T* buf, const shape& s, Index l, Index t0,
                       Index m) {
  if (!in.present()) return nullptr;
  if (line) return line + t0;
  for (Index t = 0; t < m; ++t) buf[t] = in.at(s.row(l, t0 + t), s.col(l, t0 + t));
  return buf;
}

// Runs kernel(out, n, in...) (a pointer driver) over the whole output: one call when every
// operand is one contiguous run in the same order, one call per line when every line is
// contiguous, else chunk by chunk through stack buffers. An absent input (an empty backward
// x or y) is passed as null.
template <class T, class Kernel, class OutV, class... InV, std::size_t... J>
inline void walk_impl(const shape& s, Kernel& kernel, const OutV& out, std::index_sequence<J...>,
                      const InV&... in) {
  const Index lines = s.lines(), len = s.len();
  if (lines == 0 || len == 0) {
    kernel(static_cast<T*>(nullptr), std::size_t(0),
           (static_cast<void>(in), static_cast<const T*>(nullptr))...);
    return;
  }
  if (out.linear(s) && (in.linear(s) && ...)) {
    kernel(out.data(), static_cast<std::size_t>(lines * len), in.data()...);
    return;
  }
  constexpr std::size_t K = sizeof...(InV);
  T buf[K + 1][chunk];
  for (Index l = 0; l < lines; ++l) {
    T* const o = out.line(s, l);
    const T* const ip[K] = {in.line(s, l)...};
    if (o && ((ip[J] != nullptr || !in.present()) && ...)) {
      kernel(o, static_cast<std::size_t>(len), ip[J]...);
      continue;
    }
    for (Index t0 = 0; t0 < len; t0 += chunk) {
      const Index m = std::min(chunk, len - t0);
      const T* const src[K] = {gather(in, ip[J], buf[J], s, l, t0, m)...};
      T* const dst = o ? o + t0 : buf[K];
      kernel(dst, static_cast<std::size_t>(m), src[J]...);
      if (!o)
        for (Index t = 0; t < m; ++t) out.at(s.row(l, t0 + t), s.col(l, t0 + t)) = buf[K][t];
    }
  }
}

template <class Out, class... In>
struct scalar_of {
  using type = typename plain_t<Out>::Scalar;
  static_assert((std::is_same<typename plain_t<In>::Scalar, type>::value && ...),
                "xact: all Eigen operands must have the same scalar type");
  static_assert(std::is_same<type, float>::value || std::is_same<type, double>::value,
                "xact works on float and double");
  static_assert(writable_v<Out>, "xact: the output must be a writable Eigen object (lvalue)");
};

// Checks the shapes, builds the views, walks. `opt` says which inputs may be empty.
template <class Kernel, class Out, class... In>
inline void run(Kernel&& kernel, std::initializer_list<bool> opt,
                std::initializer_list<const char*> names, Out& out, const In&... in) {
  using T = typename scalar_of<Out, In...>::type;
  const shape s{out.rows(), out.cols(), bool(plain_t<Out>::IsRowMajor)};
  {
    auto o = opt.begin();
    auto nm = names.begin();
    (check_shape(in, s.rows, s.cols, *nm++, *o++), ...);
  }
  walk_impl<T>(s, kernel, out_view<Out>(out), std::index_sequence_for<In...>{}, in_view<In>(in)...);
}

}  // namespace eigen_detail

// ---- the drivers on Eigen objects ----------------------------------------------------------

template <class A = xsimd::default_arch, class Op, class X, class Y,
          std::enable_if_t<eigen_detail::all_dense_v<X, Y>, int> = 0>
inline void forward(const Op& op, const X& x, Y&& y) {
  using T = typename eigen_detail::plain_t<Y>::Scalar;
  eigen_detail::run([&op](T* o, std::size_t n, const T* xi) { xact::forward<A>(op, xi, o, n); },
                    {false}, {"x"}, y, x);
}

template <class A = xsimd::default_arch, class Op, class X, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<X, DY, DX>, int> = 0>
inline void backward_from_x(const Op& op, const X& x, const DY& dy, DX&& dx) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  eigen_detail::run([&op](T* o, std::size_t n, const T* xi,
                          const T* g) { xact::backward_from_x<A>(op, xi, g, o, n); },
                    {false, false}, {"x", "dy"}, dx, x, dy);
}

template <class A = xsimd::default_arch, class Op, class Yr, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<Yr, DY, DX>, int> = 0>
inline void backward_from_y(const Op& op, const Yr& y, const DY& dy, DX&& dx) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  eigen_detail::run([&op](T* o, std::size_t n, const T* yi,
                          const T* g) { xact::backward_from_y<A>(op, yi, g, o, n); },
                    {false, false}, {"y", "dy"}, dx, y, dy);
}

// x or y may be empty (size 0) when the op does not read it.
template <class A = xsimd::default_arch, class Op, class X, class Yr, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<X, Yr, DY, DX>, int> = 0>
inline void backward(const Op& op, const X& x, const Yr& y, const DY& dy, DX&& dx) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  if (dx.size() != 0 && x.size() == 0 && y.size() == 0)
    throw std::invalid_argument("xact::backward: neither x nor y given");
  eigen_detail::run([&op](T* o, std::size_t n, const T* xi, const T* yi,
                          const T* g) { xact::backward<A>(op, xi, yi, g, o, n); },
                    {true, true, false}, {"x", "y", "dy"}, dx, x, y, dy);
}

// ---- softmax and log-softmax along the rows of Eigen matrices -----------------------------
//
// A matrix is [samples, features]: each row is normalized over its columns, whichever the
// storage order (row-major: rowwise's [rows, cols, 1] layout, contiguous rows; column-major:
// [1, cols, rows], the SIMD lanes across rows). A vector (a compile-time vector type) is a
// single row (when the output is a vector type). Views whose rows are contiguous (row-major blocks,
// Map with an outer stride) run one row at a time, in place; any other view or mix of storage
// orders is copied into a row-major temporary (one heap allocation per operand) and back.
//
//   xact::softmax_forward(x, y)          xact::softmax_backward(y, dy, dx)
//   xact::log_softmax_forward(x, y)      xact::log_softmax_backward(y, dy, dx)
//
// Results are those of the pointer forms on the same layout: bit-identical within one storage
// order; between the two orders the summation order differs, within the documented bound.

namespace eigen_detail {

template <class, class U>
using second_t = U;

enum class rows_layout { row_major, col_major, rows_apart, copy };

// Element (i, j) at p[i * rs + j * cs].
template <class E>
inline rows_layout layout_of(const E& e) {
  if constexpr (!direct_v<E>) {
    return rows_layout::copy;
  } else {
    const Index r = e.rows(), c = e.cols();
    if (plain_t<E>::IsVectorAtCompileTime)
      return e.innerStride() == 1 ? rows_layout::row_major : rows_layout::copy;
    const Index rs = e.rowStride(), cs = e.colStride();
    if ((cs == 1 || c <= 1) && (rs == c || r <= 1)) return rows_layout::row_major;
    if ((rs == 1 || r <= 1) && (cs == r || c <= 1)) return rows_layout::col_major;
    if (cs == 1 || c <= 1) return rows_layout::rows_apart;
    return rows_layout::copy;
  }
}

template <class E>
inline Index row_stride_of(const E& e) {
  if constexpr (direct_v<E>)
    return e.rowStride();
  else
    return 0;
}

template <class E>
inline auto data_of(E& e) {
  if constexpr (direct_v<E>)
    return e.data();
  else
    return static_cast<typename plain_t<E>::Scalar*>(nullptr);
}

// kernel(out, outer, axis, inner, in...) runs a pointer form of the rowwise driver.
template <class Kernel, class Out, class... In>
inline void run_rows(Kernel&& kernel, std::initializer_list<const char*> names, Out& out,
                     const In&... in) {
  using T = typename scalar_of<Out, In...>::type;
  const Index rows = out.rows(), cols = out.cols();
  {
    auto nm = names.begin();
    (check_shape(in, rows, cols, *nm++, false), ...);
  }
  if (out.size() == 0) return;
  const bool vec = plain_t<Out>::IsVectorAtCompileTime;
  const rows_layout lo = layout_of(out);
  const bool same = ((layout_of(in) == lo) && ...);
  auto z = [](Index v) { return static_cast<std::size_t>(v); };
  if (same && lo == rows_layout::row_major) {
    if (vec)
      kernel(data_of(out), 1, z(out.size()), 1, data_of(in)...);
    else
      kernel(data_of(out), z(rows), z(cols), 1, data_of(in)...);
  } else if (same && lo == rows_layout::col_major) {
    kernel(data_of(out), 1, z(cols), z(rows), data_of(in)...);
  } else if (same && lo == rows_layout::rows_apart) {
    for (Index i = 0; i < rows; ++i)
      kernel(data_of(out) + i * row_stride_of(out), 1, z(cols), 1,
             (data_of(in) + i * row_stride_of(in))...);
  } else {
    using R = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    R o(rows, cols);
    const std::tuple<second_t<In, R>...> ins{R(in)...};  // one evaluated copy per input
    std::apply(
        [&](const auto&... c) {
          if (vec)
            kernel(o.data(), 1, z(out.size()), 1, c.data()...);
          else
            kernel(o.data(), z(rows), z(cols), 1, c.data()...);
        },
        ins);
    out = o;
  }
}

}  // namespace eigen_detail

template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<eigen_detail::all_dense_v<X, Y>, int> = 0>
inline void softmax_forward(const X& x, Y&& y) {
  using T = typename eigen_detail::plain_t<Y>::Scalar;
  eigen_detail::run_rows([](T* o, std::size_t outer, std::size_t axis, std::size_t inner,
                            const T* xi) { xact::softmax_forward<A>(xi, o, outer, axis, inner); },
                         {"x"}, y, x);
}
template <class A = xsimd::default_arch, class Yr, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<Yr, DY, DX>, int> = 0>
inline void softmax_backward(const Yr& y, const DY& dy, DX&& dx) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  eigen_detail::run_rows(
      [](T* o, std::size_t outer, std::size_t axis, std::size_t inner, const T* yi, const T* g) {
        xact::softmax_backward<A>(yi, g, o, outer, axis, inner);
      },
      {"y", "dy"}, dx, y, dy);
}
template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<eigen_detail::all_dense_v<X, Y>, int> = 0>
inline void log_softmax_forward(const X& x, Y&& y) {
  using T = typename eigen_detail::plain_t<Y>::Scalar;
  eigen_detail::run_rows(
      [](T* o, std::size_t outer, std::size_t axis, std::size_t inner, const T* xi) {
        xact::log_softmax_forward<A>(xi, o, outer, axis, inner);
      },
      {"x"}, y, x);
}
template <class A = xsimd::default_arch, class Yr, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<Yr, DY, DX>, int> = 0>
inline void log_softmax_backward(const Yr& y, const DY& dy, DX&& dx) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  eigen_detail::run_rows(
      [](T* o, std::size_t outer, std::size_t axis, std::size_t inner, const T* yi, const T* g) {
        xact::log_softmax_backward<A>(yi, g, o, outer, axis, inner);
      },
      {"y", "dy"}, dx, y, dy);
}

// ---- Dice statistics per feature (column) over the samples (rows) -----------------------
//
//   xact::dice_forward(d, x, y, mode)         d: an xact::dice<T> with d.alpha.size() == cols
//   xact::dice_backward(d, x, dy, dx, mode)   mode: xact::dice_mode::training or inference
//
// Row-major [samples, features] is channel_shape{rows, cols, 1}; column-major is
// channel_shape{1, cols, rows, channels_first} (each feature's samples contiguous). Other views
// and mixed orders go through row-major copies (one heap allocation per operand). Templates
// over the Dice type, so this header does not need functions/dice.hpp.

namespace eigen_detail {

// kernel(out, shape, in...) runs a pointer form of the channelwise driver.
template <class Kernel, class Out, class... In>
inline void run_features(Kernel&& kernel, std::initializer_list<const char*> names, Out& out,
                         const In&... in) {
  using T = typename scalar_of<Out, In...>::type;
  const Index rows = out.rows(), cols = out.cols();
  {
    auto nm = names.begin();
    (check_shape(in, rows, cols, *nm++, false), ...);
  }
  const auto z = [](Index v) { return static_cast<std::size_t>(v); };
  const channel_shape by_rows{z(rows), z(cols), 1, layout::channels_last};
  const rows_layout lo = layout_of(out);
  const bool same = ((layout_of(in) == lo) && ...);
  if (same && lo == rows_layout::row_major) {
    kernel(data_of(out), by_rows, data_of(in)...);
  } else if (same && lo == rows_layout::col_major) {
    kernel(data_of(out), channel_shape{1, z(cols), z(rows), layout::channels_first},
           data_of(in)...);
  } else {
    using R = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    R o(rows, cols);
    const std::tuple<second_t<In, R>...> ins{R(in)...};
    std::apply([&](const auto&... c) { kernel(o.data(), by_rows, c.data()...); }, ins);
    out = o;
  }
}

}  // namespace eigen_detail

template <class A = xsimd::default_arch, class Dice, class Mode, class X, class Y,
          std::enable_if_t<eigen_detail::all_dense_v<X, Y>, int> = 0>
inline void dice_forward(Dice& d, const X& x, Y&& y, Mode mode) {
  using T = typename eigen_detail::plain_t<Y>::Scalar;
  eigen_detail::run_features(
      [&](T* o, const channel_shape& s, const T* xi) { d.template forward<A>(s, xi, o, mode); },
      {"x"}, y, x);
}
template <class A = xsimd::default_arch, class Dice, class Mode, class X, class DY, class DX,
          std::enable_if_t<eigen_detail::all_dense_v<X, DY, DX>, int> = 0>
inline void dice_backward(Dice& d, const X& x, const DY& dy, DX&& dx, Mode mode) {
  using T = typename eigen_detail::plain_t<DX>::Scalar;
  eigen_detail::run_features([&](T* o, const channel_shape& s, const T* xi,
                                 const T* g) { d.template backward<A>(s, xi, g, o, mode); },
                             {"x", "dy"}, dx, x, dy);
}

// ---- xact functions inside Eigen expressions -----------------------------------------------

namespace eigen_detail {

// Is Eigen's packet P the register of xsimd's default batch (Packet8f and __m256 on AVX, Packet4f
// and __m128 on SSE2)? Compared by lane count and size: naming the register type in a template
// argument makes GCC warn that its vector attributes are ignored.
template <class P>
struct native_packet {
  using T = typename Eigen::internal::unpacket_traits<P>::type;
  using B = xsimd::batch<T, xsimd::default_arch>;
  static constexpr bool value = !std::is_arithmetic<P>::value &&
                                Eigen::internal::unpacket_traits<P>::size == int(B::size) &&
                                sizeof(P) == sizeof(B);
};

// f on one Eigen packet: as one xsimd batch when the widths match, else lane by lane.
template <class P, class F>
inline P on_packet(const P& p, const F& f) {
  using T = typename Eigen::internal::unpacket_traits<P>::type;
  using B = xsimd::batch<T, xsimd::default_arch>;
  if constexpr (native_packet<P>::value) {
    return static_cast<P>(f(B(p)));
  } else {
    constexpr int n = Eigen::internal::unpacket_traits<P>::size;
    T lanes[n];
    Eigen::internal::pstoreu(lanes, p);
    for (int i = 0; i < n; ++i) lanes[i] = f(lanes[i]);
    return Eigen::internal::ploadu<P>(lanes);
  }
}

template <class P, class F>
inline P on_packets(const P& a, const P& b, const F& f) {
  using T = typename Eigen::internal::unpacket_traits<P>::type;
  using B = xsimd::batch<T, xsimd::default_arch>;
  if constexpr (native_packet<P>::value) {
    return static_cast<P>(f(B(a), B(b)));
  } else {
    constexpr int n = Eigen::internal::unpacket_traits<P>::size;
    T la[n], lb[n];
    Eigen::internal::pstoreu(la, a);
    Eigen::internal::pstoreu(lb, b);
    for (int i = 0; i < n; ++i) la[i] = f(la[i], lb[i]);
    return Eigen::internal::ploadu<P>(la);
  }
}

}  // namespace eigen_detail

namespace eigen {

// x.unaryExpr(expr(op)): y = f(x).
template <class Op>
struct forward_expr {
  Op op;
  template <class T>
  T operator()(const T& x) const {
    return op.forward(x);
  }
  template <class P>
  P packetOp(const P& p) const {
    return eigen_detail::on_packet(p, [this](const auto& v) { return op.forward(v); });
  }
};

// x.binaryExpr(dy, expr_backward_from_x(op)): dx = dy f'(x).
template <class Op>
struct backward_from_x_expr {
  Op op;
  template <class T>
  T operator()(const T& x, const T& dy) const {
    return op.backward_from_x(x, dy);
  }
  template <class P>
  P packetOp(const P& x, const P& dy) const {
    return eigen_detail::on_packets(
        x, dy, [this](const auto& a, const auto& b) { return op.backward_from_x(a, b); });
  }
};

// y.binaryExpr(dy, expr_backward_from_y(op)): dx = dy f'(x) from y = f(x).
template <class Op>
struct backward_from_y_expr {
  Op op;
  template <class T>
  T operator()(const T& y, const T& dy) const {
    return op.backward_from_y(y, dy);
  }
  template <class P>
  P packetOp(const P& y, const P& dy) const {
    return eigen_detail::on_packets(
        y, dy, [this](const auto& a, const auto& b) { return op.backward_from_y(a, b); });
  }
};

template <class Op>
inline forward_expr<Op> expr(const Op& op) {
  return {op};
}
template <class Op>
inline backward_from_x_expr<Op> expr_backward_from_x(const Op& op) {
  return {op};
}
template <class Op>
inline backward_from_y_expr<Op> expr_backward_from_y(const Op& op) {
  detail::check_from_y(op);
  return {op};
}

}  // namespace eigen
}  // namespace xact

namespace Eigen {
namespace internal {
// Roughly the cost of an exp (Eigen weighs it when deciding to evaluate nested expressions).
template <class Op>
struct functor_traits<xact::eigen::forward_expr<Op>> {
  enum { Cost = 30 * NumTraits<float>::MulCost, PacketAccess = 1 };
};
template <class Op>
struct functor_traits<xact::eigen::backward_from_x_expr<Op>> {
  enum { Cost = 40 * NumTraits<float>::MulCost, PacketAccess = 1 };
};
template <class Op>
struct functor_traits<xact::eigen::backward_from_y_expr<Op>> {
  enum { Cost = 20 * NumTraits<float>::MulCost, PacketAccess = 1 };
};
}  // namespace internal
}  // namespace Eigen

XACT_DIAGNOSTICS_END
