// xact/core/elementwise.hpp: the drivers that walk contiguous arrays for elementwise functions.
//
//   forward(op, x, y, n)                     y[i] = f(x[i])
//   backward(op, x, y, dy, dx, n)            dx[i] = dy[i] * f'(x[i]), from whichever of x, y the
//                                            op can use (x preferred: it is exact where y has
//                                            rounded); a pointer the op does not read may be null
//   backward_from_x(op, x, dy, dx, n)        the same, naming the source explicitly
//   backward_from_y(op, y, dy, dx, n)
//   backward_with_param(op, x, dy, dx, n)    dx as backward_from_x, and returns the gradient of
//                                            the op's one learnable scalar (Swish's beta),
//                                            summed with compensation (see below)
//
// Any length, any alignment; the output may be exactly one of the inputs (in place), never a
// partial overlap. The body runs one SIMD batch at a time; the tail (n not a multiple of the
// batch width W) runs through the same batch code on a zero-padded copy on the stack, so the
// result for element i never depends on n, on i's position or on alignment. No heap allocation.
//
// An op is a functor with any of:
//   V forward(V x) const
//   V backward_from_x(V x, V dy) const
//   V backward_from_y(V y, V dy) const
//   V backward(V x, V y, V dy) const          (needs both)
//   V backward_param_from_x(V x, V dy, V& dparam) const   (for backward_with_param)
// and optionally `void check_backward_from_y() const`, which throws when y cannot determine
// the derivative (LeakyReLU with slope <= 0).
//
// The arch A is a template parameter (default: what the compiler targets), so a translation
// unit may instantiate other widths: xact::forward<xsimd::avx2>(op, x, y, n).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "accumulate.hpp"
#include "simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

namespace detail {

template <class...>
using void_t = void;

template <class Op, class V, class = void>
struct has_forward : std::false_type {};
template <class Op, class V>
struct has_forward<Op, V, void_t<decltype(std::declval<const Op&>().forward(std::declval<V>()))>>
    : std::true_type {};

template <class Op, class V, class = void>
struct has_backward_from_x : std::false_type {};
template <class Op, class V>
struct has_backward_from_x<Op, V,
                           void_t<decltype(std::declval<const Op&>().backward_from_x(
                               std::declval<V>(), std::declval<V>()))>> : std::true_type {};

template <class Op, class V, class = void>
struct has_backward_from_y : std::false_type {};
template <class Op, class V>
struct has_backward_from_y<Op, V,
                           void_t<decltype(std::declval<const Op&>().backward_from_y(
                               std::declval<V>(), std::declval<V>()))>> : std::true_type {};

template <class Op, class V, class = void>
struct has_backward_xy : std::false_type {};
template <class Op, class V>
struct has_backward_xy<Op, V,
                       void_t<decltype(std::declval<const Op&>().backward(
                           std::declval<V>(), std::declval<V>(), std::declval<V>()))>>
    : std::true_type {};

template <class Op, class V, class = void>
struct has_backward_param_from_x : std::false_type {};
template <class Op, class V>
struct has_backward_param_from_x<Op, V,
                                 void_t<decltype(std::declval<const Op&>().backward_param_from_x(
                                     std::declval<V>(), std::declval<V>(), std::declval<V&>()))>>
    : std::true_type {};

template <class Op, class = void>
struct has_check_backward_from_y : std::false_type {};
template <class Op>
struct has_check_backward_from_y<
    Op, void_t<decltype(std::declval<const Op&>().check_backward_from_y())>> : std::true_type {};

template <class Op>
inline void check_from_y(const Op& op) {
  if constexpr (has_check_backward_from_y<Op>::value) op.check_backward_from_y();
}

[[noreturn]] inline void throw_null(const char* what) {
  throw std::invalid_argument(std::string("xact: null pointer for ") + what + " with n > 0");
}

// Only exact aliasing is allowed between an output and an input.
template <class T>
inline void check_overlap(const T* in, const T* out, std::size_t n, const char* what) {
  if (in == nullptr || in == out || n == 0) return;
  const auto a = reinterpret_cast<std::uintptr_t>(in);
  const auto b = reinterpret_cast<std::uintptr_t>(out);
  const std::uintptr_t bytes = n * sizeof(T);
  if (a < b + bytes && b < a + bytes)
    throw std::invalid_argument(std::string("xact: output partially overlaps ") + what +
                                " (only exact in-place is allowed)");
}

// The op as the loops hold it: a local copy when that is cheap (trivially copyable, at most 64
// bytes: every op in xact), else a reference. Through a reference to the caller's op, the
// compiler must assume that each SIMD store (the intrinsics store through may_alias types) can
// change the op's parameters, so it reloads and reconverts them for every batch: LeakyReLU
// forward with a runtime slope ran at 0.19-0.30 ns per element (16K floats, bench/) against 0.09
// for a local op, where the slope and its test hoist out of the loop.
template <class Op>
using local_op_t = std::conditional_t<std::is_trivially_copyable<Op>::value && sizeof(Op) <= 64,
                                      const Op, const Op&>;

// Batches per iteration of the body loop: the one place the unroll factor lives. 4 measured
// faster than 1 on small arrays of cheap kernels (ReLU backward at 1K floats: 0.09-0.13 ->
// 0.084 ns/element; sigmoid backward_from_y 0.21-0.23 -> 0.18-0.19), and no slower elsewhere
// (AMD EPYC, AVX2; bench/ and its README notes). Each batch is still computed by the same code,
// so results do not change.
constexpr std::size_t elementwise_unroll = 4;

#ifndef XACT_ELEMENTWISE_GROUP
#define XACT_ELEMENTWISE_GROUP 4
#endif

// Of those, how many batches an op evaluates together, as one simd::wide (see simd.hpp): their
// dependency chains interleaved instruction by instruction. Per lane the same operations, so the
// same bits as one batch at a time (the tests compare the body with the tail, which runs one
// batch). Divides elementwise_unroll. Measured (AMD EPYC Zen 3, AVX2, 16K floats, minimum of
// 300 runs, two helper builds loading the machine): sigmoid forward 0.62-0.87 ns -> 0.57-0.66
// with 4, tanh 0.90-1.33 -> 0.70-0.90, softplus 1.38-1.92 -> 1.04-1.10, sigmoid backward
// 1.07-1.40 -> 0.88-1.02; 2 was in between.
constexpr std::size_t elementwise_group = XACT_ELEMENTWISE_GROUP;
static_assert(elementwise_unroll % elementwise_group == 0, "xact: group must divide unroll");

// Only ops that say so run grouped: `static constexpr bool simd_wide = true;` promises that the
// op's code uses nothing but operators on V, V(scalar), simd:: and math:: functions, which all
// accept a simd::wide. Other ops (a user's, written for "a scalar or an xsimd batch") get one
// batch at a time.
template <class Op, class = void>
struct accepts_wide : std::false_type {};
template <class Op>
struct accepts_wide<Op, void_t<decltype(Op::simd_wide)>> : std::bool_constant<Op::simd_wide> {};

// An op may also name its own group (a divisor of elementwise_unroll), `static constexpr
// std::size_t simd_group = 2;`, where four chains measured slower (swish forward: 0.81 ns with
// two, 0.97 with four; sigmoid 0.62 with two, 0.54 with four; 16K floats, same run).
template <class Op, class = void>
struct op_group : std::integral_constant<std::size_t, elementwise_group> {};
template <class Op>
struct op_group<Op, void_t<decltype(Op::simd_group)>>
    : std::integral_constant<std::size_t, Op::simd_group> {};

// Streaming stores (elementwise_stream_bytes, below) pay only where the kernel keeps up with
// memory: measured at 16M floats (AVX-512, one binary, min of 30), relu, leaky_relu and
// x_min_exp forward, relu backward and sigmoid's backward from y ran 7-25% faster, while tanh,
// swish and softplus forward ran 5-25% slower (their arithmetic leaves the memory bus idle,
// and the non-temporal writes then only cost). So an op opts in per direction:
// `static constexpr bool stream_forward = true;` / `stream_backward = true;` (backward from x,
// or from x and y). Backward from y streams for every op: y (1 - y) dy and its kind are cheap.
template <class Op, class = void>
struct stream_forward_of : std::false_type {};
template <class Op>
struct stream_forward_of<Op, void_t<decltype(Op::stream_forward)>>
    : std::bool_constant<Op::stream_forward> {};
template <class Op, class = void>
struct stream_backward_of : std::false_type {};
template <class Op>
struct stream_backward_of<Op, void_t<decltype(Op::stream_backward)>>
    : std::bool_constant<Op::stream_backward> {};

template <class Op>
constexpr std::size_t group_of() noexcept {
  static_assert(elementwise_unroll % op_group<Op>::value == 0, "xact: group must divide unroll");
  return accepts_wide<Op>::value ? op_group<Op>::value : 1;
}

#ifndef XACT_PREFETCH_BYTES
#define XACT_PREFETCH_BYTES 2048
#endif

// How far ahead of the loads the body loop prefetches its inputs, in bytes. A kernel with many
// instructions per element fills the reorder window with arithmetic, so the core itself has few
// loads in flight, and on arrays beyond the caches the hardware prefetcher alone left sigmoid
// forward at 16M floats at ~65% of the memcpy roof. 0 turns it off. Prefetches never fault, so
// reading ahead past the end of an array is harmless; no result depends on it.
constexpr std::size_t elementwise_prefetch_bytes = XACT_PREFETCH_BYTES;

// One cache line at p into L2 (and the outer levels), not L1.
inline void prefetch_l2(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 2);
#else
  (void)p;
#endif
}

template <std::size_t Bytes>
inline void prefetch_lines(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  for (std::size_t b = 0; b < Bytes; b += 64)
    __builtin_prefetch(static_cast<const char*>(p) + elementwise_prefetch_bytes + b);
#else
  (void)p;
#endif
}

#ifndef XACT_STREAM_BYTES
#define XACT_STREAM_BYTES (std::size_t(32) << 20)
#endif

// Outputs of at least this many bytes are written with streaming stores (simd::store_stream)
// by the directions that opt in (stream_forward_of, above): an array that large does not stay
// in the caches anyway, and without the read for ownership of each output line a pass moves a
// third less memory. Smaller outputs use ordinary stores, so that the next layer finds them in
// the caches. 0 streams every output of those directions; SIZE_MAX never.
constexpr std::size_t elementwise_stream_bytes = XACT_STREAM_BYTES;

// The one loop every elementwise driver runs: out[i] = f(in_0[i], ..., in_K-1[i]).
template <class A, std::size_t G, bool Stream, class T, class F, class... In, std::size_t... J>
XACT_FLATTEN inline void map_impl(F&& f, T* out, std::size_t n, std::index_sequence<J...>,
                                  const In*... in) {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size;
  constexpr std::size_t U = elementwise_unroll;
  using Wd = std::conditional_t<G == 1, B, simd::wide<B, G>>;
  // Elements [i, i + m), m < W: padded with zeros, run through the same batch code, and only
  // the valid lanes copied out. The result of an element never depends on where it falls.
  const auto partial = [&](std::size_t i, std::size_t m) {
  // m < W always; GCC 12 cannot see it when n is a constant and warns (-Warray-bounds).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
    alignas(A::alignment()) T buf[sizeof...(In) + 1][W] = {};
    for (std::size_t j = 0; j < m; ++j) ((buf[J][j] = in[i + j]), ...);
    const B r = f(B::load_aligned(buf[J])...);
    r.store_aligned(buf[sizeof...(In)]);
    for (std::size_t j = 0; j < m; ++j) out[i + j] = buf[sizeof...(In)][j];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  };
  std::size_t i = 0;
  // In place (out == in) is safe: each batch is loaded before its own store, and never after.
  const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(out);
  if (Stream && n * sizeof(T) >= elementwise_stream_bytes && n >= 2 * U * W &&
      addr % sizeof(T) == 0) {
    // Streaming: the elements before the first batch-aligned output address go through the
    // padded path, then the body streams (aligned) and is fenced.
    constexpr std::size_t bytes = W * sizeof(T);
    const std::size_t head = (bytes - addr % bytes) % bytes / sizeof(T);
    if (head > 0) partial(0, head);
    for (i = head; i + U * W <= n; i += U * W) {
      if constexpr (elementwise_prefetch_bytes > 0)
        (prefetch_lines<U * W * sizeof(T)>(in + i), ...);
      XACT_UNROLL for (std::size_t u = 0; u < U; u += G)
          simd::store_stream(out + i + u * W, f(simd::load<Wd>(in + i + u * W)...));
    }
    simd::stream_fence();
  }
  for (; i + U * W <= n; i += U * W) {
    if constexpr (elementwise_prefetch_bytes > 0) (prefetch_lines<U * W * sizeof(T)>(in + i), ...);
    XACT_UNROLL for (std::size_t u = 0; u < U; u += G)
        simd::store(out + i + u * W, f(simd::load<Wd>(in + i + u * W)...));
  }
  for (; i + W <= n; i += W) simd::store(out + i, f(simd::load<B>(in + i)...));
  if (i < n) partial(i, n - i);
}

// G: batches per call of f (group_of<Op>()); Stream: whether large outputs stream.
template <class A, std::size_t G, bool Stream = false, class T, class F, class... In>
inline void map(F&& f, T* out, std::size_t n, const In*... in) {
  map_impl<A, G, Stream>(std::forward<F>(f), out, n, std::index_sequence_for<In...>{}, in...);
}

}  // namespace detail

// ---- pointer forms -------------------------------------------------------------------------

template <class A = xsimd::default_arch, class Op, class T>
inline void forward(const Op& op, const T* x, T* y, std::size_t n) {
  using B = xsimd::batch<T, A>;
  static_assert(detail::has_forward<Op, B>::value, "xact::forward: op has no forward(V)");
  if (n == 0) return;
  if (!x) detail::throw_null("x");
  if (!y) detail::throw_null("y");
  detail::check_overlap(x, y, n, "x");
  detail::local_op_t<Op> o = op;
  detail::map<A, detail::group_of<Op>(), detail::stream_forward_of<Op>::value>(
      [&o](const auto& xv) { return o.forward(xv); }, y, n, x);
}

template <class A = xsimd::default_arch, class Op, class T>
inline void backward_from_x(const Op& op, const T* x, const T* dy, T* dx, std::size_t n) {
  using B = xsimd::batch<T, A>;
  static_assert(detail::has_backward_from_x<Op, B>::value,
                "xact::backward_from_x: op has no backward_from_x(x, dy)");
  if (n == 0) return;
  if (!x) detail::throw_null("x");
  if (!dy) detail::throw_null("dy");
  if (!dx) detail::throw_null("dx");
  detail::check_overlap(x, dx, n, "x");
  detail::check_overlap(dy, dx, n, "dy");
  detail::local_op_t<Op> o = op;
  detail::map<A, detail::group_of<Op>(), detail::stream_backward_of<Op>::value>(
      [&o](const auto& xv, const auto& g) { return o.backward_from_x(xv, g); }, dx, n, x, dy);
}

template <class A = xsimd::default_arch, class Op, class T>
inline void backward_from_y(const Op& op, const T* y, const T* dy, T* dx, std::size_t n) {
  using B = xsimd::batch<T, A>;
  static_assert(detail::has_backward_from_y<Op, B>::value,
                "xact::backward_from_y: op has no backward_from_y(y, dy); use backward_from_x");
  detail::check_from_y(op);
  if (n == 0) return;
  if (!y) detail::throw_null("y");
  if (!dy) detail::throw_null("dy");
  if (!dx) detail::throw_null("dx");
  detail::check_overlap(y, dx, n, "y");
  detail::check_overlap(dy, dx, n, "dy");
  detail::local_op_t<Op> o = op;
  detail::map<A, detail::group_of<Op>(), true>(
      [&o](const auto& yv, const auto& g) { return o.backward_from_y(yv, g); }, dx, n, y, dy);
}

// Picks the most accurate source the op supports among the non-null pointers.
template <class A = xsimd::default_arch, class Op, class T>
inline void backward(const Op& op, const T* x, const T* y, const T* dy, T* dx, std::size_t n) {
  using B = xsimd::batch<T, A>;
  if constexpr (detail::has_backward_xy<Op, B>::value) {
    if (n == 0) return;
    if (!x) detail::throw_null("x");
    if (!y) detail::throw_null("y");
    if (!dy) detail::throw_null("dy");
    if (!dx) detail::throw_null("dx");
    detail::check_overlap(x, dx, n, "x");
    detail::check_overlap(y, dx, n, "y");
    detail::check_overlap(dy, dx, n, "dy");
    detail::local_op_t<Op> o = op;
    detail::map<A, detail::group_of<Op>(), detail::stream_backward_of<Op>::value>(
        [&o](const auto& xv, const auto& yv, const auto& g) { return o.backward(xv, yv, g); }, dx,
        n, x, y, dy);
  } else {
    constexpr bool fx = detail::has_backward_from_x<Op, B>::value;
    constexpr bool fy = detail::has_backward_from_y<Op, B>::value;
    static_assert(fx || fy, "xact::backward: op has no backward");
    if constexpr (fx) {
      if (x != nullptr || !fy) return backward_from_x<A>(op, x, dy, dx, n);
    }
    if constexpr (fy) return backward_from_y<A>(op, y, dy, dx, n);
  }
}

// Backward for an op with one learnable scalar parameter p (Swish's beta), fused in one pass:
//   dx[i] = dy[i] * df/dx(x[i])          and the return value   sum_i dy[i] * df/dp(x[i]).
// The op provides `V backward_param_from_x(V x, V dy, V& dparam) const`: it returns the dx term
// and sets dparam to the element's term of the sum. Any length, any alignment, dx may be exactly
// x or dy (in place); no heap allocation. dx[i] is bit-identical to backward_from_x's.
// The sum is compensated (compensated_sum per lane, then reduce() in lane order): its error is
// about 2 eps |sum| + n eps^2 sum |terms|, not n eps sum |terms|. It is deterministic for a given
// n and arch; elements fall into lanes by i mod W, so another SIMD width may differ in the last
// bit. The tail runs through the same batch code on a zero-padded stack copy, and the padded
// lanes' terms are replaced by exact zeros (a select, whatever the op computes for x = dy = 0),
// so padding never changes the sum. n = 0 returns 0.
template <class A = xsimd::default_arch, class Op, class T>
inline T backward_with_param(const Op& op, const T* x, const T* dy, T* dx, std::size_t n) {
  using B = xsimd::batch<T, A>;
  static_assert(detail::has_backward_param_from_x<Op, B>::value,
                "xact::backward_with_param: op has no backward_param_from_x(x, dy, dparam)");
  if (n == 0) return T(0);
  if (!x) detail::throw_null("x");
  if (!dy) detail::throw_null("dy");
  if (!dx) detail::throw_null("dx");
  detail::check_overlap(x, dx, n, "x");
  detail::check_overlap(dy, dx, n, "dy");
  constexpr std::size_t W = B::size;
  detail::local_op_t<Op> o = op;
  compensated_sum<B> acc;
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    B dp;
    const B g = o.backward_param_from_x(simd::load<B>(x + i), simd::load<B>(dy + i), dp);
    simd::store(dx + i, g);
    acc.add(dp);
  }
  if (i < n) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
    const std::size_t m = n - i;
    alignas(A::alignment()) T buf[4][W] = {};  // x, dy, dx, lane-valid flags
    for (std::size_t j = 0; j < m; ++j) {
      buf[0][j] = x[i + j];
      buf[1][j] = dy[i + j];
      buf[3][j] = T(1);
    }
    B dp;
    const B g = o.backward_param_from_x(B::load_aligned(buf[0]), B::load_aligned(buf[1]), dp);
    g.store_aligned(buf[2]);
    acc.add(simd::select(B::load_aligned(buf[3]) != B(0), dp, B(0)));
    for (std::size_t j = 0; j < m; ++j) dx[i + j] = buf[2][j];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  }
  return reduce(acc);
}

// ---- contiguous ranges: std::vector, std::array, std::span, Eigen vectors ------------------

namespace detail {
template <class R, class = void>
struct is_contiguous_range : std::false_type {};
template <class R>
struct is_contiguous_range<
    R, void_t<decltype(std::declval<R&>().data()), decltype(std::declval<R&>().size())>>
    : std::true_type {};

// Eigen expressions with strides go through xact/eigen.hpp, which handles them correctly.
template <class R, class = void>
struct has_inner_stride : std::false_type {};
template <class R>
struct has_inner_stride<R, void_t<decltype(std::declval<R&>().innerStride())>> : std::true_type {};

template <class R>
constexpr bool is_plain_range_v = is_contiguous_range<std::remove_reference_t<R>>::value &&
                                  !has_inner_stride<std::remove_reference_t<R>>::value;

template <class R>
using range_value_t = std::remove_cv_t<std::remove_pointer_t<decltype(std::declval<R&>().data())>>;

template <class R>
inline std::size_t range_size(const R& r) {
  return static_cast<std::size_t>(r.size());
}

inline void check_sizes(std::size_t a, std::size_t b, const char* what) {
  if (a != b)
    throw std::invalid_argument(std::string("xact: size mismatch: ") + what + " (" +
                                std::to_string(a) + " vs " + std::to_string(b) + ")");
}
}  // namespace detail

template <class A = xsimd::default_arch, class Op, class X, class Y,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Y>, int> = 0>
inline void forward(const Op& op, const X& x, Y&& y) {
  detail::check_sizes(detail::range_size(x), detail::range_size(y), "x and y");
  forward<A>(op, x.data(), y.data(), detail::range_size(x));
}

template <class A = xsimd::default_arch, class Op, class X, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<DY> &&
                               detail::is_plain_range_v<DX>,
                           int> = 0>
inline void backward_from_x(const Op& op, const X& x, const DY& dy, DX&& dx) {
  detail::check_sizes(detail::range_size(x), detail::range_size(dy), "x and dy");
  detail::check_sizes(detail::range_size(x), detail::range_size(dx), "x and dx");
  backward_from_x<A>(op, x.data(), dy.data(), dx.data(), detail::range_size(x));
}

template <class A = xsimd::default_arch, class Op, class Yr, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<Yr> && detail::is_plain_range_v<DY> &&
                               detail::is_plain_range_v<DX>,
                           int> = 0>
inline void backward_from_y(const Op& op, const Yr& y, const DY& dy, DX&& dx) {
  detail::check_sizes(detail::range_size(y), detail::range_size(dy), "y and dy");
  detail::check_sizes(detail::range_size(y), detail::range_size(dx), "y and dx");
  backward_from_y<A>(op, y.data(), dy.data(), dx.data(), detail::range_size(y));
}

// x or y may be an empty range when the op does not read it.
template <class A = xsimd::default_arch, class Op, class X, class Yr, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Yr> &&
                               detail::is_plain_range_v<DY> && detail::is_plain_range_v<DX>,
                           int> = 0>
inline void backward(const Op& op, const X& x, const Yr& y, const DY& dy, DX&& dx) {
  const std::size_t n = detail::range_size(dy);
  detail::check_sizes(n, detail::range_size(dx), "dy and dx");
  const bool hx = detail::range_size(x) != 0, hy = detail::range_size(y) != 0;
  if (hx) detail::check_sizes(n, detail::range_size(x), "x and dy");
  if (hy) detail::check_sizes(n, detail::range_size(y), "y and dy");
  if (n != 0 && !hx && !hy) throw std::invalid_argument("xact::backward: neither x nor y given");
  backward<A>(op, hx ? x.data() : nullptr, hy ? y.data() : nullptr, dy.data(), dx.data(), n);
}

template <class A = xsimd::default_arch, class Op, class X, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<DY> &&
                               detail::is_plain_range_v<DX>,
                           int> = 0>
inline detail::range_value_t<const X> backward_with_param(const Op& op, const X& x, const DY& dy,
                                                          DX&& dx) {
  detail::check_sizes(detail::range_size(x), detail::range_size(dy), "x and dy");
  detail::check_sizes(detail::range_size(x), detail::range_size(dx), "x and dx");
  return backward_with_param<A>(op, x.data(), dy.data(), dx.data(), detail::range_size(x));
}

}  // namespace xact

XACT_DIAGNOSTICS_END
