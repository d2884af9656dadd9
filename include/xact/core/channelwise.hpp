// xact/core/channelwise.hpp: the driver for functions with one parameter (or statistic) per
// channel: PReLU's alpha, Dice's mean, 1/std, alpha, gamma, beta.
//
// Shapes. A tensor of channel_shape{batch, channels, inner, order} holds batch * channels * inner
// elements, where inner is the product of every other axis (spatial, time):
//   layout::channels_first   [N, C, inner...]   (PyTorch)       x[(n * C + c) * inner + i]
//   layout::channels_last    [N, inner..., C]   (TensorFlow)    x[(n * inner + i) * C + c]
// The caller names the layout: it is never guessed from the sizes.
//
// The one entry point, channelwise<A>(shape, params, in, out, sums, f), calls for every element
//   out[e] = f(p, v, t)
// with p the K per-channel parameters of e's channel (each broadcast to a batch), v the NI
// inputs at e, and t the M terms f returns for e; every term is summed per channel over batch
// and inner, compensated (accumulate.hpp), and sums[m][c] receives the sum (overwritten).
// out may be null (a pure reduction), and may be exactly one of the inputs (in place), never a
// partial overlap. f must be lane-wise (no cross-lane operation): then the value for element e
// never depends on e's position, on the shape's walk or on alignment, and a scalar call of the
// same math gives the same bits.
//
// The walk. Every layout is seen as [outer, C, inner] (channels_last is [N * inner, C, 1]).
//  - inner >= 4W, or a multiple of W (W = batch width): runs of inner elements share one channel:
//    each run goes through SIMD batches with the parameters broadcast, the tail through the
//    same batch code on a padded stack copy with the padded lanes masked out of the sums. The
//    walk is in memory order over blocks of channels whose accumulators fit 16 KiB of stack.
//  - shorter runs (channels_last, [N, C] tables): the tensor is periodic with period L = C*inner.
//    The parameters are expanded into a stack tile covering the fewest periods that fill whole
//    batches when that fits (else one period, in blocks ending on channel and batch borders);
//    the tensor is walked tile by tile with one lane-wise accumulator per tile position, folded
//    per channel (compensated) at the end; a tensor that fits in L2 strip by strip (one batch
//    of tile positions down a block of rows that fits L1, parameters and accumulators in
//    registers, merged once per strip), a larger one in memory order.
// Also channel_moments (float): per-channel sums of x - shift and its square in one pass,
// accumulated in double (batch statistics; Dice's training forward), and
// channel_moments_finish: mean, variance and 1/sqrt(var + eps) from those sums.
// Sums: terms are added 4 batches at a time (a plain sum of 4) into Neumaier accumulators: the
// error bound is about 2 eps |sum| + 1.5 eps sum|terms| whatever the count (a plain running
// sum's grows as n eps sum|terms|), and in practice a million terms come out within an ulp of
// the exact sum (test_prelu: 0 ulp over 2^20 + 37 products). A
// term or partial sum of +-inf gives +-inf (not the NaN of inf - inf in the correction).
// No heap allocation: stack buffers of at most (K + 2M) * kTileBytes + 16 KiB bytes (tiles of
// 4 KiB for AVX-512 float, see channel_tiles).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "accumulate.hpp"
#include "elementwise.hpp"
#include "simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

enum class layout { channels_first, channels_last };

struct channel_shape {
  std::size_t batch = 1;     // N
  std::size_t channels = 1;  // C
  std::size_t inner = 1;     // product of the remaining axes (1 for [N, C])
  layout order = layout::channels_first;

  std::size_t size() const noexcept { return batch * channels * inner; }
  // Elements per channel: the count the statistics and parameter gradients are taken over.
  std::size_t per_channel() const noexcept { return batch * inner; }
};

namespace detail {

// Forced inline: inside a large f (Dice's backward), GCC otherwise calls these per batch.
#if defined(__GNUC__)
#define XACT_CHANNEL_INLINE inline __attribute__((always_inline))
#else
#define XACT_CHANNEL_INLINE inline
#endif

// Runs shorter than this go through the periodic walk (a padded tail per run would dominate).
template <class T, class A>
constexpr std::size_t channel_run_min() {
  return 4 * xsimd::batch<T, A>::size;
}
// Bytes of one stack tile (per parameter, per accumulator half).
constexpr std::size_t kTileBytes = 2048;

// Lane-valid mask for the first m lanes of a batch.
template <class B>
inline typename simd::traits<B>::mask first_lanes(std::size_t m) noexcept {
  using T = typename simd::traits<B>::scalar;
  constexpr std::size_t W = B::size;
  alignas(B::arch_type::alignment()) T idx[W];
  for (std::size_t j = 0; j < W; ++j) idx[j] = T(j);
  return B::load_aligned(idx) < B(T(m));
}

// The compensated total, except where a term or the running sum was infinite: the correction
// is then inf - inf = NaN, and the plain sum (+-inf, or NaN for inf - inf) is the answer.
template <class B>
inline typename simd::traits<B>::scalar channel_total(const compensated_sum<B>& acc) noexcept {
  using T = typename simd::traits<B>::scalar;
  const T r = reduce(acc);
  if (r - r == T(0)) return r;
  if constexpr (simd::is_batch<B>::value)
    return simd::reduce_add(acc.s);
  else
    return acc.s;
}

// One element batch: load NI inputs at in[j] + off, call f, store; the M terms go to t.
template <class B, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
XACT_CHANNEL_INLINE void channel_step(F& f, const std::array<B, K>& p,
                                      const std::array<const T*, NI>& in, std::size_t off, T* out,
                                      std::array<B, M>& t) {
  std::array<B, NI> v;
  for (std::size_t j = 0; j < NI; ++j) v[j] = simd::load<B>(in[j] + off);
  const B r = f(p, v, t);
  if (out) simd::store(out + off, r);
}

// The same for the last m < W elements, through a zero-padded copy; padded lanes' terms are 0.
template <class B, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
inline void channel_tail(F& f, const std::array<B, K>& p, const std::array<const T*, NI>& in,
                         std::size_t off, std::size_t m, T* out, std::array<B, M>& t) {
  constexpr std::size_t W = B::size;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
  alignas(B::arch_type::alignment()) T buf[NI + 1][W] = {};
  for (std::size_t j = 0; j < NI; ++j)
    for (std::size_t k = 0; k < m; ++k) buf[j][k] = in[j][off + k];
  std::array<B, NI> v;
  for (std::size_t j = 0; j < NI; ++j) v[j] = B::load_aligned(buf[j]);
  const B r = f(p, v, t);
  if (out) {
    r.store_aligned(buf[NI]);
    for (std::size_t k = 0; k < m; ++k) out[off + k] = buf[NI][k];
  }
  if (M > 0) {
    const auto valid = first_lanes<B>(m);
    for (std::size_t j = 0; j < M; ++j) t[j] = simd::select(valid, t[j], B(T(0)));
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

// Whether f also takes simd::wide values (a generic f whose math is written over V): then
// the walks hand it G batches that share their parameters (G rows at one tile position, or G
// consecutive batches of a run) as one wide: their dependency chains interleave (see
// simd::wide), with the same bits per lane, and its terms are added in the same order as one
// batch at a time. A generic f must then compile for wides. (Dice forward [N, 64] at 16K
// floats: 1.20 -> 0.97 ns per element.)
template <class F, class Wd, std::size_t K, std::size_t NI, std::size_t M, class = void>
struct takes_wide : std::false_type {};
template <class F, class Wd, std::size_t K, std::size_t NI, std::size_t M>
struct takes_wide<F, Wd, K, NI, M,
                  std::void_t<decltype(std::declval<F&>()(std::declval<const std::array<Wd, K>&>(),
                                                          std::declval<const std::array<Wd, NI>&>(),
                                                          std::declval<std::array<Wd, M>&>()))>>
    : std::true_type {};

// G element batches at in[j] + off + h * stride (h < G), each with the same parameters p: f
// on one wide when it takes one (flattened: the wide math inlined), else batch by batch. The
// terms of batch h go to t[h].
template <class B, std::size_t G, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
XACT_CHANNEL_INLINE void wide_step(F& f, const std::array<B, K>& p,
                                   const std::array<const T*, NI>& in, std::size_t off,
                                   std::size_t stride, T* out, std::array<B, M>* t) {
  using Wd = simd::wide<B, G>;
  std::array<Wd, K> pw;
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t h = 0; h < G; ++h) pw[k].v[h] = p[k];
  std::array<Wd, NI> v;
  for (std::size_t j = 0; j < NI; ++j)
    for (std::size_t h = 0; h < G; ++h) v[j].v[h] = simd::load<B>(in[j] + off + h * stride);
  std::array<Wd, M> tw;
  const Wd r = f(pw, v, tw);
  if (out)
    for (std::size_t h = 0; h < G; ++h) simd::store(out + off + h * stride, r.v[h]);
  for (std::size_t h = 0; h < G; ++h)
    for (std::size_t m = 0; m < M; ++m) t[h][m] = tw[m].v[h];
}
template <class B, std::size_t G, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
XACT_CHANNEL_INLINE void group_step(F& f, const std::array<B, K>& p,
                                    const std::array<const T*, NI>& in, std::size_t off,
                                    std::size_t stride, T* out, std::array<B, M>* t) {
  if constexpr (takes_wide<F, simd::wide<B, G>, K, NI, M>::value)
    wide_step<B, G>(f, p, in, off, stride, out, t);
  else
    for (std::size_t h = 0; h < G; ++h) channel_step<B>(f, p, in, off + h * stride, out, t[h]);
}

// Terms are added G at a time (a plain sum of G batches: error <= (G-1) eps of their
// magnitudes) into the compensated accumulators: the compensated add, 4x dearer than a plain
// one, then runs once per G batches, and its latency chain is G times shorter.
constexpr std::size_t kGroup = 4;

template <class B, std::size_t M>
XACT_CHANNEL_INLINE void add_terms(std::array<compensated_sum<B>, M>& acc,
                                   const std::array<B, M>* t, std::size_t g) {
  for (std::size_t m = 0; m < M; ++m) {
    B v = t[0][m];
    for (std::size_t k = 1; k < g; ++k) v += t[k][m];
    // compensated_sum::add, spelled out to be inlined (the same operations, the same bits; the
    // same opaque steps, which keep -ffast-math from folding the error term to 0).
    B& s = acc[m].s;
    const B sum = simd::opaque(s + v);
    acc[m].c = acc[m].c + simd::select(simd::abs(s) >= simd::abs(v), simd::opaque(s - sum) + v,
                                       simd::opaque(v - sum) + s);
    s = sum;
  }
}

// Runs of inner elements share one channel: the parameters are broadcast once per run. The
// walk is in memory order (batch, then channel) over blocks of channels whose accumulators fit
// a 16 KiB stack buffer (a single pass over memory up to 256 channels of one float sum with
// AVX2).
template <class A, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
XACT_FLATTEN inline void channel_runs(std::size_t outer, std::size_t C, std::size_t inner,
                                      const std::array<const T*, K>& params,
                                      std::array<const T*, NI> in, T* out,
                                      const std::array<T*, M>& sums, F& f) {
  using B = xsimd::batch<T, A>;
  using Acc = std::array<compensated_sum<B>, M>;
  constexpr std::size_t W = B::size, G = kGroup;
  constexpr std::size_t entries =
      M == 0 ? 1 : std::max<std::size_t>(1, 16384 / ((M > 0 ? M : 1) * sizeof(compensated_sum<B>)));
  const std::size_t cb = M == 0 ? C : entries;
  Acc acc[entries];
  std::array<B, M> t[G];
  for (std::size_t c0 = 0; c0 < C; c0 += cb) {
    const std::size_t c1 = std::min(C, c0 + cb);
    if (M > 0)
      for (std::size_t c = c0; c < c1; ++c) acc[c - c0] = Acc{};
    for (std::size_t b = 0; b < outer; ++b) {
      for (std::size_t c = c0; c < c1; ++c) {
        std::array<B, K> p;
        for (std::size_t k = 0; k < K; ++k) p[k] = B(params[k][c]);
        Acc& a = acc[M == 0 ? 0 : c - c0];
        const std::size_t base = (b * C + c) * inner;
        T* o = out ? out + base : nullptr;
        std::array<const T*, NI> src;
        for (std::size_t j = 0; j < NI; ++j) src[j] = in[j] + base;
        std::size_t i = 0;
        for (; i + G * W <= inner; i += G * W) {
          group_step<B, G>(f, p, src, i, W, o, t);
          add_terms<B, M>(a, t, G);
        }
        std::size_t g = 0;
        for (; i + W <= inner; i += W) channel_step<B>(f, p, src, i, o, t[g++]);
        if (i < inner) channel_tail<B>(f, p, src, i, inner - i, o, t[g++]);
        if (g) add_terms<B, M>(a, t, g);
      }
    }
    if (M > 0)
      for (std::size_t c = c0; c < c1; ++c)
        for (std::size_t m = 0; m < M; ++m) sums[m][c] = channel_total(acc[c - c0][m]);
  }
}

// Short runs (inner < channel_run_min; channels_last is inner = 1): the tensor is periodic with
// period L = C * inner. The parameters are expanded into a stack tile covering the fewest
// periods that fill whole batches (when that fits; else one period, in blocks ending on channel
// and batch borders), and the tensor is walked G tiles at a time, with one lane-wise
// accumulator per tile position in stack arrays, folded per channel at the end.
template <class A, std::size_t K, std::size_t NI, std::size_t M, class T, class F>
XACT_FLATTEN inline void channel_tiles(std::size_t outer, std::size_t C, std::size_t inner,
                                       const std::array<const T*, K>& params,
                                       std::array<const T*, NI> in, T* out,
                                       const std::array<T*, M>& sums, F& f) {
  using B = xsimd::batch<T, A>;
  constexpr std::size_t W = B::size, G = kGroup;
  // Elements per tile, a multiple of W: kTileBytes, or 4 W^2 where that is more (AVX-512 float:
  // 1024), so that a block holds at least one unit (inner < 4W here, so unit <= 4W^2).
  constexpr std::size_t cap = std::max(kTileBytes / sizeof(T), 4 * W * W);
  static_assert(cap % W == 0 && cap >= 4 * W * W, "tile too small for this arch");
  const std::size_t L = C * inner;
  const std::size_t total = outer * L;
  const std::size_t g0 = std::gcd(L, W);
  const std::size_t reps = (L * (W / g0) <= cap) ? W / g0 : 1;
  const std::size_t P = L * reps;
  const std::size_t unit = inner / std::gcd(inner, W) * W;
  const std::size_t block = (P <= cap) ? P : (cap / unit) * unit;
  const std::size_t rows = total / P, rem = total % P;

  alignas(A::alignment()) T tile[K > 0 ? K : 1][cap];
  alignas(A::alignment()) T acc_s[M > 0 ? M : 1][cap];
  alignas(A::alignment()) T acc_c[M > 0 ? M : 1][cap];

  for (std::size_t j0 = 0; j0 < P; j0 += block) {
    const std::size_t len = std::min(block, P - j0);
    const std::size_t padded = (len + W - 1) / W * W;
    // Fill without a division per element: the channel changes every inner positions.
    {
      std::size_t c = (j0 / inner) % C, i = j0 % inner;
      for (std::size_t j = 0; j < len; ++j) {
        for (std::size_t k = 0; k < K; ++k) tile[k][j] = params[k][c];
        if (++i == inner) {
          i = 0;
          if (++c == C) c = 0;
        }
      }
    }
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t j = 0; j < padded; ++j) acc_s[m][j] = acc_c[m][j] = T(0);

    // g rows starting at `base`, each `seg` long (<= len), one tile position batch at a time.
    auto rows_at = [&](std::size_t base, std::size_t g, std::size_t seg) {
      std::array<const T*, NI> src[G];
      T* o[G];
      for (std::size_t k = 0; k < g; ++k) {
        for (std::size_t j = 0; j < NI; ++j) src[k][j] = in[j] + base + k * P;
        o[k] = out ? out + base + k * P : nullptr;
      }
      std::array<B, M> t[G];
      for (std::size_t q = 0; q < seg; q += W) {
        std::array<B, K> p;
        for (std::size_t k = 0; k < K; ++k) p[k] = B::load_aligned(&tile[k][q]);
        if (g == G && q + W <= seg)
          group_step<B, G>(f, p, src[0], q, P, o[0], t);
        else
          for (std::size_t k = 0; k < g; ++k) {
            if (q + W <= seg)
              channel_step<B>(f, p, src[k], q, o[k], t[k]);
            else
              channel_tail<B>(f, p, src[k], q, seg - q, o[k], t[k]);
          }
        if (M > 0) {
          std::array<compensated_sum<B>, M> a;
          for (std::size_t m = 0; m < M; ++m)
            a[m] = compensated_sum<B>{B::load_aligned(&acc_s[m][q]), B::load_aligned(&acc_c[m][q])};
          add_terms<B, M>(a, t, g);
          for (std::size_t m = 0; m < M; ++m) {
            a[m].s.store_aligned(&acc_s[m][q]);
            a[m].c.store_aligned(&acc_c[m][q]);
          }
        }
      }
    };
    // The whole rows. Without sums (a forward): memory order, G periods at a time, each tile
    // batch loaded once for the G (PReLU [N, 32] forward: 0.14 -> 0.115 ns per element at 16K
    // floats, 0.166 -> 0.128 at 256K; the strips cost more than they save without
    // accumulators), with the pointers in locals that the stores cannot be assumed to change.
    // With sums, a tensor that fits in L2 (<= 256 KiB touched): strip by strip, below, which
    // cuts the instructions; a larger one in memory order, G rows at a time: the strips break
    // the sequential stream at DRAM sizes (PReLU [N, C] at 16M floats: forward 0.75 in memory
    // order vs 1.23 ns/element in strips, backward 1.16 vs 2.52; scripts/bench.sh).
    if constexpr (M == 0) {
      const std::size_t full = len / W * W;
      const auto periods = [&](std::size_t base, std::size_t g) {
        std::array<B, 0> t[G];
        std::array<B, K> p;
        for (std::size_t q = 0; q < full; q += W) {
          for (std::size_t k = 0; k < K; ++k) p[k] = B::load_aligned(&tile[k][q]);
          if (g == G)
            group_step<B, G>(f, p, in, base + q, P, out, t);
          else
            for (std::size_t h = 0; h < g; ++h)
              channel_step<B>(f, p, in, base + h * P + q, out, t[h]);
        }
        if (full == len) return;
        for (std::size_t k = 0; k < K; ++k) p[k] = B::load_aligned(&tile[k][full]);
        for (std::size_t h = 0; h < g; ++h)
          channel_tail<B>(f, p, in, base + h * P + full, len - full, out, t[h]);
      };
      std::size_t r = 0;
      for (; r + G <= rows; r += G) periods(r * P + j0, G);
      for (; r < rows; ++r) periods(r * P + j0, 1);
    } else if (total * sizeof(T) * (NI + (out ? 1 : 0)) > (std::size_t(256) << 10)) {
      std::size_t r = 0;
      for (; r + G <= rows; r += G) rows_at(r * P + j0, G, len);
      if (r < rows) rows_at(r * P + j0, rows - r, len);
    } else {
      // The whole rows: strip by strip (one batch of tile positions down a block of rows that
      // stays in L1), the parameters and the accumulators in registers for the whole strip:
      // no per-row setup, and one merge into the stack accumulators per strip.
      const std::size_t row_bytes = len * sizeof(T) * (NI + (out ? 1 : 0));
      const std::size_t rb = std::max<std::size_t>(G, 16384 / row_bytes / G * G);
      for (std::size_t r0 = 0; r0 < rows; r0 += rb) {
        const std::size_t r1 = std::min(rows, r0 + rb);
        for (std::size_t q = 0; q < len; q += W) {
          std::array<B, K> p;
          for (std::size_t k = 0; k < K; ++k) p[k] = B::load_aligned(&tile[k][q]);
          std::array<compensated_sum<B>, M> a;
          std::array<B, M> t[G];
          const auto strip = [&](auto step) {
            std::size_t r = r0, off = r0 * P + j0 + q;
            for (; r + G <= r1; r += G, off += G * P) {
              if (q + W <= len)
                group_step<B, G>(f, p, in, off, P, out, t);
              else
                for (std::size_t g = 0; g < G; ++g) step(off + g * P, t[g]);
              add_terms<B, M>(a, t, G);
            }
            std::size_t g = 0;
            for (; r < r1; ++r, off += P) step(off, t[g++]);
            if (g) add_terms<B, M>(a, t, g);
          };
          if (q + W <= len)
            strip([&](std::size_t off, std::array<B, M>& tt) {
              channel_step<B>(f, p, in, off, out, tt);
            });
          else
            strip([&](std::size_t off, std::array<B, M>& tt) {
              channel_tail<B>(f, p, in, off, len - q, out, tt);
            });
          for (std::size_t m = 0; m < M; ++m) {
            compensated_sum<B> sm{B::load_aligned(&acc_s[m][q]), B::load_aligned(&acc_c[m][q])};
            sm.add(a[m]);
            sm.s.store_aligned(&acc_s[m][q]);
            sm.c.store_aligned(&acc_c[m][q]);
          }
        }
      }
    }
    if (rem > j0) rows_at(rows * P + j0, 1, std::min(len, rem - j0));

    // Fold: channel c owns positions t*L + c*inner + i (t < reps, i < inner) of the period.
    const std::size_t c0 = j0 / inner, c1 = reps == 1 ? (j0 + len) / inner : C;
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t c = c0; c < c1; ++c) {
        compensated_sum<T> rs;
        T lo = T(0);
        for (std::size_t t = 0; t < reps; ++t)
          for (std::size_t i = 0; i < inner; ++i) {
            const std::size_t j = t * L + c * inner + i - j0;
            rs.add(acc_s[m][j]);
            lo += acc_c[m][j];
          }
        rs.c += lo;
        sums[m][c] = channel_total(rs);
      }
  }
}

template <class T>
inline void check_ptr(const T* p, const char* what) {
  if (!p) throw_null(what);
}

// D::size floats at p (any alignment) as a batch of doubles: one conversion with a memory operand
// on AVX and SSE2, a stack copy elsewhere.
template <class A>
inline xsimd::batch<double, A> widen_load(const float* p) noexcept {
  using D = xsimd::batch<double, A>;
#if defined(__AVX__)
  if constexpr (std::is_base_of<xsimd::avx, A>::value && D::size == 4)
    return D(_mm256_cvtps_pd(_mm_loadu_ps(p)));
#endif
#if defined(__SSE2__)
  if constexpr (std::is_base_of<xsimd::sse2, A>::value && D::size == 2)
    return D(_mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
#endif
  alignas(A::alignment()) double b[D::size];
  for (std::size_t j = 0; j < D::size; ++j) b[j] = p[j];
  return D::load_aligned(b);
}

}  // namespace detail

// out[e] = f(p, v, t) over the whole tensor; sums[m][c] = sum of t[m] over channel c.
//   params: K pointers to C values each;  in: NI pointers to shape.size() values each;
//   out: shape.size() values or null;     sums: M pointers to C values each (overwritten).
// f: B f(const std::array<B, K>& p, const std::array<B, NI>& v, std::array<B, M>& t), lane-wise.
template <class A = xsimd::default_arch, std::size_t K, std::size_t NI, std::size_t M, class T,
          class F>
inline void channelwise(const channel_shape& shape, const std::array<const T*, K>& params,
                        const std::array<const T*, NI>& in, T* out, const std::array<T*, M>& sums,
                        F&& f) {
  const std::size_t C = shape.channels, n = shape.size();
  if (C == 0) return;
  for (std::size_t k = 0; k < K; ++k) detail::check_ptr(params[k], "a channel parameter");
  for (std::size_t m = 0; m < M; ++m) detail::check_ptr(sums[m], "a channel sum");
  if (n == 0) {
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t c = 0; c < C; ++c) sums[m][c] = T(0);
    return;
  }
  for (std::size_t j = 0; j < NI; ++j) {
    detail::check_ptr(in[j], "an input");
    if (out) detail::check_overlap(in[j], static_cast<const T*>(out), n, "an input");
  }
  const bool first = shape.order == layout::channels_first;
  const std::size_t outer = first ? shape.batch : shape.batch * shape.inner;
  const std::size_t inner = first ? shape.inner : 1;
  constexpr std::size_t W = xsimd::batch<T, A>::size;
  if (inner >= detail::channel_run_min<T, A>() || (inner >= W && inner % W == 0))
    detail::channel_runs<A>(outer, C, inner, params, in, out, sums, f);
  else
    detail::channel_tiles<A>(outer, C, inner, params, in, out, sums, f);
}

// Batch statistics of float data in one pass: per channel c, with d = x - shift[c] (taken in
// double, exact for any two floats whose exponents differ by less than 29),
//   s1[c] = sum d,   s2[c] = sum d^2        (double)
// over batch and inner. Accumulated in double lanes, plainly over blocks of 64 rows (error
// <= 64 * 2^-53 of the block's sum of |terms|), the blocks compensated: both sums come out
// within a few 2^-53 of the sums of |terms|, far below float's rounding, so the shifted
// variance s2/n - (s1/n)^2 keeps float accuracy unless (mean - shift)^2 exceeds var by
// about 2^20 (the caller checks and shifts again by the mean; with shift = a value of the
// channel the ratio is at most n - 1). Walks the tensor as channelwise's periodic tiles do, for
// a period C * inner that is a multiple of the float batch width (any channels_last [N, C]
// with C a multiple of 8 on AVX2); returns false without writing anything otherwise.
template <class A = xsimd::default_arch>
inline bool channel_moments(const channel_shape& shape, const float* shift, const float* x,
                            double* s1, double* s2) {
  using D = xsimd::batch<double, A>;
  constexpr std::size_t W = xsimd::batch<float, A>::size, WD = D::size;
  static_assert(W == 2 * WD, "a float batch is two double batches");
  constexpr std::size_t cap = 256, RB = 64;  // positions per tile, rows per plain block
  const std::size_t C = shape.channels;
  const bool first = shape.order == layout::channels_first;
  const std::size_t outer = first ? shape.batch : shape.batch * shape.inner;
  const std::size_t inner = first ? shape.inner : 1;
  const std::size_t L = C * inner;
  if (C == 0 || shape.size() == 0 || L % W != 0) return false;
  detail::check_ptr(shift, "a channel shift");
  detail::check_ptr(x, "an input");
  detail::check_ptr(s1, "a channel sum");
  detail::check_ptr(s2, "a channel sum");

  alignas(A::alignment()) float tile[cap];
  alignas(A::alignment()) double acc[4][cap];  // s1 (sum, correction), s2 (sum, correction)
  compensated_sum<double> r1, r2;              // the channel being folded, across tiles
  std::size_t cur = C;
  auto flush = [&] {
    if (cur < C) {
      s1[cur] = r1.value();
      s2[cur] = r2.value();
    }
    r1 = r2 = compensated_sum<double>{};
  };
  auto merge = [&](const D& v, double* s, double* c) {
    compensated_sum<D> a{D::load_aligned(s), D::load_aligned(c)};
    a.add(v);
    a.s.store_aligned(s);
    a.c.store_aligned(c);
  };
  for (std::size_t j0 = 0; j0 < L; j0 += cap) {
    const std::size_t len = std::min(cap, L - j0);  // a multiple of W
    // Position j0 + j belongs to channel (j0 + j) / inner, followed by counters, not divided
    // per position: a Dice [16, 64] forward took 1165 ns before this and Dice's single
    // n/(n-1), 1050 after (min of 200, one binary, AVX-512, loaded machine).
    const std::size_t c0 = j0 / inner, i0 = j0 % inner;
    for (std::size_t j = 0, c = c0, i = i0; j < len; ++j) {
      tile[j] = shift[c];
      if (++i == inner) {
        i = 0;
        ++c;
      }
    }
    for (auto& row : acc)
      for (std::size_t j = 0; j < len; ++j) row[j] = 0;
    for (std::size_t r0 = 0; r0 < outer; r0 += RB) {
      const std::size_t r1e = std::min(outer, r0 + RB);
      // Q float batches of positions at once down the rows: 4 Q independent sums (two Q
      // measured 1.6x faster than one: four one-add chains per row left the adds waiting).
      const auto strip = [&](std::size_t q, auto count) {
        constexpr std::size_t Q = decltype(count)::value, H = 2 * Q;  // H double halves
        D k[H], a[H], b[H];
        for (std::size_t h = 0; h < H; ++h) {
          k[h] = detail::widen_load<A>(tile + q + h * WD);
          a[h] = b[h] = D(0.0);
        }
        const float* p = x + r0 * L + j0 + q;
        for (std::size_t r = r0; r < r1e; ++r, p += L)
          for (std::size_t h = 0; h < H; ++h) {
            const D d = detail::widen_load<A>(p + h * WD) - k[h];
            a[h] += d;
            b[h] = simd::fma(d, d, b[h]);
          }
        for (std::size_t h = 0; h < H; ++h) {
          merge(a[h], acc[0] + q + h * WD, acc[1] + q + h * WD);
          merge(b[h], acc[2] + q + h * WD, acc[3] + q + h * WD);
        }
      };
      std::size_t q = 0;
      for (; q + 2 * W <= len; q += 2 * W) strip(q, std::integral_constant<std::size_t, 2>{});
      if (q < len) strip(q, std::integral_constant<std::size_t, 1>{});
    }
    // Fold: channels are contiguous.
    for (std::size_t j = 0, c = c0, i = i0; j < len; ++j) {
      if (c != cur) {
        flush();
        cur = c;
      }
      r1.add(acc[0][j]);
      r1.c += acc[1][j];
      r2.add(acc[2][j]);
      r2.c += acc[3][j];
      if (++i == inner) {
        i = 0;
        ++c;
      }
    }
  }
  flush();
  return true;
}

// After channel_moments, per channel c < C (sums of d = x - shift and d^2 over n elements):
// s1 <- the mean, s2 <- the biased variance (negative rounding clamped to 0, NaN kept), rs <-
// 1/sqrt(var + eps), in double batches over the channels (as a scalar loop, its divisions and
// square roots cost ~1 us for 64 channels, a third of a Dice [16, 64] forward). IEEE division
// and square root: each lane's bits are the scalar formula's. Returns, when check, whether a
// channel's shift lies beyond 2^8 standard deviations of its mean (the caller then shifts by
// the mean and sums again); false for NaN.
template <class A = xsimd::default_arch>
inline bool channel_moments_finish(std::size_t C, std::size_t n, double eps, const float* shift,
                                   double* s1, double* s2, double* rs, bool check) noexcept {
  using D = xsimd::batch<double, A>;
  bool far = false;
  const auto one = [&](auto s1v, auto s2v, auto sh) {
    using V = decltype(s1v);
    const V dn = V(double(n));
    const V a = s1v / dn;
    const V v = s2v / dn - a * a;
    if (check) far = far || simd::any(a * a > V(0x1p16) * v);
    const V var = simd::select(v < V(0), V(0), v);  // rounding only; NaN stays NaN
    return std::array<V, 3>{sh + a, var, V(1) / simd::sqrt(var + V(eps))};
  };
  std::size_t c = 0;
  for (; c + D::size <= C; c += D::size) {
    alignas(A::alignment()) double shd[D::size];
    for (std::size_t j = 0; j < D::size; ++j) shd[j] = double(shift[c + j]);
    const auto r = one(D::load_unaligned(s1 + c), D::load_unaligned(s2 + c), D::load_aligned(shd));
    r[0].store_unaligned(s1 + c);
    r[1].store_unaligned(s2 + c);
    r[2].store_unaligned(rs + c);
  }
  for (; c < C; ++c) {
    const auto r = one(s1[c], s2[c], double(shift[c]));
    s1[c] = r[0];
    s2[c] = r[1];
    rs[c] = r[2];
  }
  return far;
}

}  // namespace xact

XACT_DIAGNOSTICS_END
