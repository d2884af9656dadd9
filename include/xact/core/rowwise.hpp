// xact/core/rowwise.hpp: the drivers that walk a contiguous [outer, axis, inner] array and
// reduce along the middle axis (softmax, log-softmax; anything "normalize along one axis").
//
//   normalize(op, x, y, shape)       three passes per row:
//                                      1. m = max over the row
//                                      2. t = op.term(x, c), c = op.center(m), every t in
//                                         [0, 1] (Op::unit_terms) and t = 1 at the max; s =
//                                         sum t, compensated (exactly so if Op::exact_sum);
//                                         t is written to y if Op::stores_terms
//                                      3. y = op.finish(t or x, c, k0, k1), where
//                                         op.row_constants(c, e_hi, e_lo, k) gives k0, k1 once
//                                         per row from the excess e = s - 1 = e_hi + e_lo
//                                         (the terms but the max's 1: relatively accurate even
//                                         when it is tiny; -1 for a row with no term 1)
//   normalize_backward(op, y, dy, dx, shape)  two passes per row:
//                                      1. s = sum op.grad_term(y, dy, err) (err: the exact
//                                         rounding error of the term, folded into the
//                                         compensation); the max of y too if Op::needs_max
//                                      2. dx = op.grad(y, dy, k0, k1), with k from
//                                         op.grad_constants(max_y, s_hi, s_lo, k)
//
// Layouts. The last axis (inner == 1): a row is contiguous; the SIMD lanes walk along it and
// are reduced horizontally in a fixed lane order, and the row's tail runs through the same batch
// code on a padded stack copy, its padding lanes masked out of every reduction. So a row's result
// depends on nothing but the row: not on its position, on outer, on alignment.
// Another axis (inner > 1): the lanes run across W neighbouring inner positions (W columns at
// once, each lane its own row, stride `inner` along the axis), so there is no horizontal work
// and no scalar loop: the last inner % W columns go through the same batch code, gathered into
// (and scattered from) a W-wide stack buffer one axis step at a time.
//
// Row constants (a log, a reciprocal) are computed by the op on scalars, lane by lane, so every
// layout uses the same code for them. Any alignment; y may be x (dx may be dy or y); no heap
// allocation.
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "accumulate.hpp"
#include "elementwise.hpp"
#include "simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

// A contiguous array of outer * axis * inner elements, reduced along `axis`.
struct row_shape {
  std::size_t outer = 1;
  std::size_t axis = 0;
  std::size_t inner = 1;
  std::size_t size() const noexcept { return outer * axis * inner; }
};

namespace rowwise {
namespace detail {

template <class B>
inline B lane_index() noexcept {
  using T = typename B::value_type;
  alignas(B::arch_type::alignment()) T idx[B::size];
  for (std::size_t i = 0; i < B::size; ++i) idx[i] = static_cast<T>(i);
  return B::load_aligned(idx);
}

// The sum of terms in [0, 1] (Op::unit_terms): started at 1, the running sum is >= 1 >= every
// term, so Fast2Sum (3 flops) gives each addition's exact error instead of a general
// compensated step (about 9). The errors go to c. A term below half an ulp of the running sum
// lands in c whole, so where one term is 1 and the others are tiny (one entry dominates a
// softmax row) c holds almost all of sum - 1 as a plain sum, with n roundings. Exact (for
// log-softmax, whose dominant entry gets y = -log1p(sum - 1)): c is itself accumulated with
// TwoSum (Knuth, branch-free: c may be smaller than the error it adds), its errors in cc; sum -
// 1 then keeps its relative accuracy (measured before: 29 ulp of y for a float row of 4099
// random entries with inner > 1, 891 for one value repeated). opaque: see compensated_sum (a
// no-op outside -ffast-math).
template <class V, bool Exact>
struct unit_sum {
  V s = V(1);
  V c = V(0);
  V cc = V(0);
  void add(const V& t) noexcept {
    const V n = simd::opaque(s + t);
    const V r = simd::opaque(t - simd::opaque(n - s));
    s = n;
    if constexpr (Exact) {
      const V m = simd::opaque(c + r);
      const V bb = simd::opaque(m - c);
      cc = cc + (simd::opaque(c - simd::opaque(m - bb)) + simd::opaque(r - bb));
      c = m;
    } else {
      c = c + r;
    }
  }
};

// hi + lo += v, the rounding error of hi + v kept (Knuth's TwoSum, opaque as above).
template <class V>
inline void two_sum_into(V& hi, V& lo, const V& v) noexcept {
  const V n = simd::opaque(hi + v);
  const V bb = simd::opaque(n - hi);
  lo = lo + (simd::opaque(hi - simd::opaque(n - bb)) + simd::opaque(v - bb));
  hi = n;
}

// The excess of a unit_sum over 1 (e = sum of the terms - 1) as hi + lo, for one lane's row
// (inner > 1: the lane started at 1 and holds a term 1, so s >= 2 unless the row has no such
// term, s = 1, e = -1; s - 2 is exact for s in [1, 2^p)).
template <class V>
inline void lane_excess(const unit_sum<V, true>& a, V& hi, V& lo) noexcept {
  hi = a.s - V(2);
  lo = V(0);
  two_sum_into(hi, lo, a.c);
  lo = lo + a.cc;
}
template <class V>
inline void lane_excess(const unit_sum<V, false>& a, V& hi, V& lo) noexcept {
  hi = a.s - V(2);
  lo = a.c;
}

// The same over the W lanes of one row (inner = 1), in lane order: each lane started at 1, so
// its s - 1 is its own terms' sum, exact (s < 2^p); their sum (>= 1: one lane holds the term 1)
// less 1 is exact too, then the c (and cc) of every lane join it through TwoSum.
template <class T, class A, bool Exact>
inline void row_excess(const unit_sum<xsimd::batch<T, A>, Exact>& a, T& hi, T& lo) noexcept {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size;
  alignas(A::alignment()) T s[W], c[W], cc[W];
  (a.s - B(T(1))).store_aligned(s);
  a.c.store_aligned(c);
  a.cc.store_aligned(cc);
  T sh = T(0), sl = T(0);
  for (std::size_t i = 0; i < W; ++i) two_sum_into(sh, sl, s[i]);
  hi = sh - T(1);
  lo = T(0);
  two_sum_into(hi, lo, sl);
  for (std::size_t i = 0; i < W; ++i) two_sum_into(hi, lo, c[i]);
  if constexpr (Exact)
    for (std::size_t i = 0; i < W; ++i) lo = lo + cc[i];
}

// A general compensated sum with Knuth's branch-free TwoSum (6 flops, no compare/select), the
// product error of a dot product folded into the same compensation.
template <class V>
struct two_sum_acc {
  V s = V(0);
  V c = V(0);
  void add(const V& t, const V& err) noexcept {
    // opaque (a no-op unless -ffast-math): TwoSum's steps as written.
    const V n = simd::opaque(s + t);
    const V bb = simd::opaque(n - s);
    c = c + ((simd::opaque(s - simd::opaque(n - bb)) + simd::opaque(t - bb)) + err);
    s = n;
  }
  compensated_sum<V> value() const noexcept {
    compensated_sum<V> r;
    r.s = s;
    r.c = c;
    return r;
  }
};

// Op::unit_terms is required (every term in [0, 1], one of them 1 unless the row has none);
// Op::exact_sum picks the TwoSum-compensated c.
template <class Op, class V>
using forward_sum_t = unit_sum<V, Op::exact_sum>;

// Column access for the inner > 1 layout: G groups of W full columns side by side (G = 2: a
// whole 64-byte line per axis step for float on AVX2, so each line is fetched once per pass;
// G = 4 where inner allows: two lines, and four independent chains per axis step: [8, L, 32]
// float, A/B in one binary, min of 200 runs: L = 1024 forward 0.88-0.90 -> 0.86 ns/element,
// backward 0.45-0.47 -> 0.33; L = 32768 forward 1.79 -> 1.33, backward 1.94 -> 1.18), or the
// first r < W columns through a stack buffer.
template <class B, std::size_t G>
struct full_cols {
  using T = typename B::value_type;
  static constexpr std::size_t groups = G;
  B load(const T* p, std::size_t g) const noexcept { return simd::load<B>(p + g * B::size); }
  void store(T* p, std::size_t g, const B& v) const noexcept { simd::store(p + g * B::size, v); }
};
template <class B>
struct part_cols {
  using T = typename B::value_type;
  static constexpr std::size_t groups = 1;
  std::size_t r;  // 0 < r < W
  B load(const T* p, std::size_t) const noexcept {
    alignas(B::arch_type::alignment()) T buf[B::size] = {};
    for (std::size_t j = 0; j < r; ++j) buf[j] = p[j];
    return B::load_aligned(buf);
  }
  void store(T* p, std::size_t, const B& v) const noexcept {
    alignas(B::arch_type::alignment()) T buf[B::size];
    v.store_aligned(buf);
    for (std::size_t j = 0; j < r; ++j) p[j] = buf[j];
  }
};

// Per-lane row constants from per-lane statistics, through the op's scalar code.
template <class B, class F>
inline void lane_constants(const B& a, const B& s, const B& c, B& k0, B& k1, F&& f) noexcept {
  using T = typename B::value_type;
  constexpr std::size_t W = B::size;
  alignas(B::arch_type::alignment()) T ab[W], sb[W], cb[W], k0b[W], k1b[W];
  a.store_aligned(ab);
  s.store_aligned(sb);
  c.store_aligned(cb);
  for (std::size_t i = 0; i < W; ++i) {
    T k[2] = {T(0), T(0)};
    f(ab[i], sb[i], cb[i], k);
    k0b[i] = k[0];
    k1b[i] = k[1];
  }
  k0 = B::load_aligned(k0b);
  k1 = B::load_aligned(k1b);
}

// GCC 12 cannot prove the tail copies stay below W when n is a known constant.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

// Rows of at least this many bytes prefetch the next row during their pass 2.
constexpr std::size_t row_prefetch_min = 32768;

// ---- forward, one contiguous row -----------------------------------------------------------
template <class A, class Op, class T>
XACT_FLATTEN inline void normalize_row(const Op& op, const T* x, T* y, std::size_t n,
                                       const T* next = nullptr) noexcept {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size;
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  const std::size_t body = n - n % W, m = n - body;
  alignas(A::alignment()) T buf[W] = {};
  const auto tail_mask = lane_index<B>() < B(static_cast<T>(m));
  if (m) {
    for (std::size_t j = 0; j < m; ++j) buf[j] = x[body + j];
  }
  // 1. max. A NaN may be dropped here: it makes its own term, hence the sum, NaN in pass 2.
  B mv0(ninf), mv1(ninf);
  std::size_t i = 0;
  for (; i + 2 * W <= body; i += 2 * W) {
    mv0 = simd::max(simd::load<B>(x + i), mv0);
    mv1 = simd::max(simd::load<B>(x + i + W), mv1);
  }
  if (i < body) mv0 = simd::max(simd::load<B>(x + i), mv0);
  if (m) mv1 = simd::max(simd::select(tail_mask, B::load_aligned(buf), B(ninf)), mv1);
  static_assert(Op::unit_terms, "rowwise::normalize sums terms in [0, 1]");
  const T c = op.center(simd::reduce_max(simd::max(mv0, mv1)));
  const B cv(c);
  // 2. terms and their sum. Four batches' terms at a time as one simd::wide (their exp chains
  // interleaved; the same bits per lane), added in order: the same sum as one at a time.
  forward_sum_t<Op, B> acc;
  constexpr std::size_t U = 4;
  using Wd = simd::wide<B, U>;
  const Wd cw(c);
  // A row beyond L1 (next: the following row, when rows are contiguous) has the next row
  // fetched into L2 while this pass computes: pass 1 of that row then reads L2, not memory
  // (softmax rows of 32768 floats: 1.53 -> 0.85 ns per element; oneDNN 1.06).
  const T* pf = n * sizeof(T) >= row_prefetch_min ? next : nullptr;
  for (i = 0; i + U * W <= body; i += U * W) {
    if (pf)
      for (std::size_t b = 0; b < U * W * sizeof(T); b += 64)
        xact::detail::prefetch_l2(reinterpret_cast<const char*>(pf + i) + b);
    const Wd t = op.term(simd::load<Wd>(x + i), cw);
    if constexpr (Op::stores_terms) simd::store(y + i, t);
    XACT_UNROLL for (std::size_t u = 0; u < U; ++u) acc.add(t.v[u]);
  }
  for (; i < body; i += W) {
    const B t = op.term(simd::load<B>(x + i), cv);
    if constexpr (Op::stores_terms) simd::store(y + i, t);
    acc.add(t);
  }
  if (m) {
    const B t = simd::select(tail_mask, op.term(B::load_aligned(buf), cv), B(T(0)));
    acc.add(t);
    if constexpr (Op::stores_terms) t.store_aligned(buf);
  }
  T hi, lo;
  row_excess(acc, hi, lo);
  T k[2] = {T(0), T(0)};
  op.row_constants(c, hi, lo, k);
  const B k0(k[0]), k1(k[1]);
  // 3. the output.
  const T* in = Op::stores_terms ? static_cast<const T*>(y) : x;
  for (i = 0; i < body; i += W) simd::store(y + i, op.finish(simd::load<B>(in + i), cv, k0, k1));
  if (m) {
    op.finish(B::load_aligned(buf), cv, k0, k1).store_aligned(buf);
    for (std::size_t j = 0; j < m; ++j) y[body + j] = buf[j];
  }
}

// ---- forward, G * W (or r < W) columns of an [axis, inner] slice, lanes across inner -------
template <class A, class Op, class T, class Cols>
inline void normalize_cols(const Op& op, const T* x, T* y, std::size_t n, std::size_t stride,
                           const Cols& cols) noexcept {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t G = Cols::groups;
  B cv[G], k0[G], k1[G];
  forward_sum_t<Op, B> acc[G];
  for (std::size_t g = 0; g < G; ++g) cv[g] = B(-std::numeric_limits<T>::infinity());
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t g = 0; g < G; ++g) cv[g] = simd::max(cols.load(x + a * stride, g), cv[g]);
  for (std::size_t g = 0; g < G; ++g) cv[g] = op.center(cv[g]);
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t g = 0; g < G; ++g) {
      const B t = op.term(cols.load(x + a * stride, g), cv[g]);
      if constexpr (Op::stores_terms) cols.store(y + a * stride, g, t);
      acc[g].add(t);
    }
  }
  for (std::size_t g = 0; g < G; ++g) {
    B hi, lo;
    lane_excess(acc[g], hi, lo);
    lane_constants(cv[g], hi, lo, k0[g], k1[g],
                   [&op](T c, T s, T sc, T(&k)[2]) { op.row_constants(c, s, sc, k); });
  }
  const T* in = Op::stores_terms ? static_cast<const T*>(y) : x;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t g = 0; g < G; ++g)
      cols.store(y + a * stride, g, op.finish(cols.load(in + a * stride, g), cv[g], k0[g], k1[g]));
}

// ---- backward, one contiguous row ----------------------------------------------------------
template <class A, class Op, class T>
inline void normalize_backward_row(const Op& op, const T* y, const T* dy, T* dx,
                                   std::size_t n) noexcept {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size;
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  const std::size_t body = n - n % W, m = n - body;
  alignas(A::alignment()) T yb[W] = {}, gb[W] = {};
  const auto tail_mask = lane_index<B>() < B(static_cast<T>(m));
  for (std::size_t j = 0; j < m; ++j) {
    yb[j] = y[body + j];
    gb[j] = dy[body + j];
  }
  // Two accumulators (even and odd batches, joined by one more TwoSum): two dependency chains
  // of TwoSums instead of one (rows of 1024 floats: 0.35 -> 0.31 ns per element).
  two_sum_acc<B> acc, acc1;
  B mv(ninf);
  std::size_t i = 0;
  const auto step = [&](two_sum_acc<B>& a, std::size_t at) {
    const B yv = simd::load<B>(y + at);
    B e;
    const B t = op.grad_term(yv, simd::load<B>(dy + at), e);
    a.add(t, e);
    if constexpr (Op::needs_max) mv = simd::max(yv, mv);
  };
  for (; i + 2 * W <= body; i += 2 * W) {
    step(acc, i);
    step(acc1, i + W);
  }
  if (i < body) {
    step(acc, i);
    i += W;
  }
  acc.add(acc1.s, acc1.c);
  if (m) {
    const B yv = B::load_aligned(yb);
    B e;
    const B t = op.grad_term(yv, B::load_aligned(gb), e);
    acc.add(simd::select(tail_mask, t, B(T(0))), simd::select(tail_mask, e, B(T(0))));
    if constexpr (Op::needs_max) mv = simd::max(simd::select(tail_mask, yv, B(ninf)), mv);
  }
  const compensated_sum<T> s = fold(acc.value());
  T k[2] = {T(0), T(0)};
  op.grad_constants(Op::needs_max ? simd::reduce_max(mv) : T(0), s.s, s.c, k);
  const B k0(k[0]), k1(k[1]);
  for (i = 0; i < body; i += W)
    simd::store(dx + i, op.grad(simd::load<B>(y + i), simd::load<B>(dy + i), k0, k1));
  if (m) {
    op.grad(B::load_aligned(yb), B::load_aligned(gb), k0, k1).store_aligned(gb);
    for (std::size_t j = 0; j < m; ++j) dx[body + j] = gb[j];
  }
}

template <class A, class Op, class T, class Cols>
inline void normalize_backward_cols(const Op& op, const T* y, const T* dy, T* dx, std::size_t n,
                                    std::size_t stride, const Cols& cols) noexcept {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t G = Cols::groups;
  two_sum_acc<B> acc[G];
  B mv[G], k0[G], k1[G];
  for (std::size_t g = 0; g < G; ++g) mv[g] = B(-std::numeric_limits<T>::infinity());
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t g = 0; g < G; ++g) {
      const B yv = cols.load(y + a * stride, g);
      B e;
      const B t = op.grad_term(yv, cols.load(dy + a * stride, g), e);
      acc[g].add(t, e);
      if constexpr (Op::needs_max) mv[g] = simd::max(yv, mv[g]);
    }
  }
  for (std::size_t g = 0; g < G; ++g)
    lane_constants(mv[g], acc[g].s, acc[g].c, k0[g], k1[g],
                   [&op](T mx, T s, T sc, T(&k)[2]) { op.grad_constants(mx, s, sc, k); });
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t g = 0; g < G; ++g)
      cols.store(
          dx + a * stride, g,
          op.grad(cols.load(y + a * stride, g), cols.load(dy + a * stride, g), k0[g], k1[g]));
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Walks every row of the shape: rows along the last axis, or column groups across inner.
template <class A, class T, class RowF, class ColF>
inline void walk(const row_shape& sh, RowF&& row, ColF&& col) {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size;
  if (sh.axis == 0 || sh.outer == 0 || sh.inner == 0) return;
  const std::size_t slice = sh.axis * sh.inner;
  for (std::size_t o = 0; o < sh.outer; ++o) {
    const std::size_t base = o * slice;
    if (sh.inner == 1) {
      row(base);
      continue;
    }
    std::size_t j = 0;
    for (; j + 4 * W <= sh.inner; j += 4 * W) col(base + j, full_cols<B, 4>{});
    for (; j + 2 * W <= sh.inner; j += 2 * W) col(base + j, full_cols<B, 2>{});
    for (; j + W <= sh.inner; j += W) col(base + j, full_cols<B, 1>{});
    if (j < sh.inner) col(base + j, part_cols<B>{sh.inner - j});
  }
}

inline void check_pointers(std::size_t n, const void* a, const char* an, const void* b,
                           const char* bn, const void* c = nullptr, const char* cn = nullptr) {
  if (n == 0) return;
  if (!a) xact::detail::throw_null(an);
  if (!b) xact::detail::throw_null(bn);
  if (cn && !c) xact::detail::throw_null(cn);
}

}  // namespace detail

// ---- public drivers ------------------------------------------------------------------------

template <class A = xsimd::default_arch, class Op, class T>
inline void normalize(const Op& op, const T* x, T* y, const row_shape& sh) {
  const std::size_t n = sh.size();
  detail::check_pointers(n, x, "x", y, "y");
  if (n == 0) return;
  xact::detail::check_overlap(x, y, n, "x");
  detail::walk<A, T>(
      sh,
      [&](std::size_t b) {
        detail::normalize_row<A>(op, x + b, y + b, sh.axis,
                                 b + sh.axis < n ? x + b + sh.axis : nullptr);
      },
      [&](std::size_t b, const auto& cols) {
        detail::normalize_cols<A>(op, x + b, y + b, sh.axis, sh.inner, cols);
      });
}

template <class A = xsimd::default_arch, class Op, class T>
inline void normalize_backward(const Op& op, const T* y, const T* dy, T* dx, const row_shape& sh) {
  const std::size_t n = sh.size();
  detail::check_pointers(n, y, "y", dy, "dy", dx, "dx");
  if (n == 0) return;
  xact::detail::check_overlap(y, dx, n, "y");
  xact::detail::check_overlap(dy, dx, n, "dy");
  detail::walk<A, T>(
      sh,
      [&](std::size_t b) { detail::normalize_backward_row<A>(op, y + b, dy + b, dx + b, sh.axis); },
      [&](std::size_t b, const auto& cols) {
        detail::normalize_backward_cols<A>(op, y + b, dy + b, dx + b, sh.axis, sh.inner, cols);
      });
}

}  // namespace rowwise
}  // namespace xact

XACT_DIAGNOSTICS_END
