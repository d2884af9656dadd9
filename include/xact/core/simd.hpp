// xact/core/simd.hpp: the only file that knows which xsimd it is built against.
//
// Every operation the math needs exists here twice, once for a scalar (float, double) and once
// for an xsimd batch, with the same rounding and the same NaN behaviour, so that math written
// once over V gives a scalar result bit-identical to every lane of a batch result.
//
// xsimd 8.1 (Debian 12) has no scalar select, no reduce_max/reduce_min and no batch_bool
// constructors from bool; the helpers below fill those gaps and nothing else.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

// GCC before 13 warns (-Wmaybe-uninitialized, -Wuninitialized) inside its own AVX-512 intrinsic
// headers wherever an intrinsic built on _mm512_undefined_* (`__m512 __Y = __Y;`) is inlined into
// a function outside a system header (GCC bug 105593): every xsimd min, max and shift on AVX-512
// does it. The intrinsic headers arrive through xsimd here; their locations are covered, and each
// xact header covers its own (XACT_DIAGNOSTICS_BEGIN / END), so that a user's -Wall -Werror build
// for AVX-512 stays clean without the flags of the whole translation unit being touched.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define XACT_DIAGNOSTICS_BEGIN                                                               \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define XACT_DIAGNOSTICS_END _Pragma("GCC diagnostic pop")
#else
#define XACT_DIAGNOSTICS_BEGIN
#define XACT_DIAGNOSTICS_END
#endif

XACT_DIAGNOSTICS_BEGIN
#include <xsimd/xsimd.hpp>
XACT_DIAGNOSTICS_END

XACT_DIAGNOSTICS_BEGIN

// -ffast-math (-Ofast) = -ffinite-math-only (the compiler may assume no NaN and no inf: NaN
// checks fold to false, so NaN propagation, the documented +-inf results and the constructors'
// NaN/inf parameter checks are gone) plus -fno-signed-zeros, -freciprocal-math and
// -fassociative-math (it may rewrite (a + b) - b as a, which would erase the rounding steps that
// exp's range reduction, Fast2Sum and Dekker's product rely on). Under __FAST_MATH__ (or
// XACT_FAST_MATH_BARRIERS, for -fassociative-math given alone, which defines no macro) those
// steps go through simd::opaque, which the optimizer cannot see through (the error-free
// transformations two_sum, fast_two_sum, two_prod, the compensated sums, exp/expm1's range
// reduction, log1p's core), and divisions through simd::div (x86 SIMD float division would
// otherwise become a reciprocal estimate plus one Newton step). What is still lost, measured
// with GCC 12 -O3 -ffast-math (flags.fast_math, README "Compiler flags"): NaN/inf/-0 behaviour
// and the NaN/inf parameter checks; scalar call = array lane and tail = body only to 2 ulp (each
// inlined copy is reassociated on its own); a few bounds 1 ulp wider (README). Hence the warning:
// build the translation units that call xact without it.
#if defined(__FAST_MATH__) && !defined(XACT_ALLOW_FAST_MATH)
#warning \
    "xact: -ffast-math (or -Ofast, -ffinite-math-only): NaN, inf and -0 give unspecified results, NaN/inf parameters are not refused, a scalar call and an array lane may differ by 2 ulp, and a few error bounds are 1 ulp wider (see README, Compiler flags). Define XACT_ALLOW_FAST_MATH to silence this warning."
#endif
#if (defined(__FAST_MATH__) || defined(XACT_FAST_MATH_BARRIERS)) && \
    (defined(__GNUC__) || defined(__clang__))
#define XACT_OPAQUE 1
#else
#define XACT_OPAQUE 0
#endif
// XACT_OPQ(e): simd::opaque(e) where XACT_OPAQUE, else e itself, textually (no call at all, so
// a normal build's inlining and code are untouched by the barrier).
#if XACT_OPAQUE
#define XACT_OPQ(e) ::xact::simd::opaque(e)
#else
#define XACT_OPQ(e) (e)
#endif

// Does the batch fma of the default arch round once? The scalar fma must then round once too,
// and must round twice where the batch one does (SSE2 without FMA3 computes x*y+z).
#if defined(__FMA__) || defined(__AVX512F__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define XACT_HAS_FMA 1
#else
#define XACT_HAS_FMA 0
#endif

// The rare paths of a kernel (a batch with a lane beyond the fast path's range: tiny results,
// NaN, huge arguments) are kept out of line (XACT_COLD), so that their constants and
// temporaries do not crowd the registers of the loop that calls the fast path; the helpers
// those paths call are inlined into them (XACT_INLINE: GCC otherwise kept scale_rounded out of
// line, each call storing and reloading its batches, about half the time of a tiny-result
// batch). Not "cold": GCC then optimizes the path for size and inlines nothing into it.
// XACT_FLATTEN (the drivers' loops: everything they call inlined into them) can be turned off
// with -DXACT_NO_FLATTEN: the same results (no rounded product feeds an addition in a way that
// inlining could fuse, see -ffp-contract in the README), slower code, and a much faster build
// where the compiler's own passes grow with the function's size (scripts/sanitize.sh: GCC 12
// with ASan + UBSan at -O1 did not finish test_dice.cpp's AVX-512 build in 45 minutes).
// XACT_UNROLL: the loops over the batches of a simd::wide (2 or 4) unrolled completely. GCC
// does that at -O3 on its own but not at -O2, where the batches then stay in memory and every
// step loads and stores them: at -O2 sigmoid, tanh, x_min_exp and softplus ran 8-9x their -O3
// time (16K floats, AVX-512: sigmoid 1.59 vs 0.18 ns per element); with the pragma -O2 and -O3
// are equal. The same operations either way, so the same bits.
#if defined(__clang__)
#define XACT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define XACT_UNROLL _Pragma("GCC unroll 16")
#else
#define XACT_UNROLL
#endif
#if defined(__GNUC__) || defined(__clang__)
#define XACT_COLD __attribute__((noinline))
#define XACT_INLINE inline __attribute__((always_inline))
#if defined(XACT_NO_FLATTEN)
#define XACT_FLATTEN
#else
#define XACT_FLATTEN __attribute__((flatten))
#endif
#else
#define XACT_FLATTEN
#define XACT_COLD
#define XACT_INLINE inline
#endif

namespace xact {
namespace simd {

template <class T, class A = xsimd::default_arch>
using batch = xsimd::batch<T, A>;

// --- traits ---------------------------------------------------------------------------------
template <class V>
struct traits {
  static_assert(std::is_floating_point<V>::value, "xact works on float and double");
  using scalar = V;
  using mask = bool;
  using int_type = std::conditional_t<sizeof(V) == 4, std::int32_t, std::int64_t>;
  static constexpr std::size_t size = 1;
};
template <class T, class A>
struct traits<xsimd::batch<T, A>> {
  using scalar = T;
  using mask = xsimd::batch_bool<T, A>;
  using int_type = xsimd::batch<std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>, A>;
  static constexpr std::size_t size = xsimd::batch<T, A>::size;
};
template <class V>
using scalar_t = typename traits<V>::scalar;
template <class V>
using mask_t = typename traits<V>::mask;
template <class V>
using int_t = typename traits<V>::int_type;

template <class V>
struct is_batch : std::false_type {};
template <class T, class A>
struct is_batch<xsimd::batch<T, A>> : std::true_type {};

// --- wide<B, U>: U batches as one value -----------------------------------------------------
// The elementwise drivers evaluate an op on U consecutive batches at once: every operation of
// the op's code is applied to the U batches one after the other before the next operation
// starts, so U independent dependency chains are interleaved instruction by instruction. A
// kernel like sigmoid's (exp, a division and its correction: a chain of ~70 cycles of latency,
// ~30 instructions) otherwise keeps the out-of-order window busy with one chain at a time.
// Per lane the operations are exactly those of one batch (or one scalar): the same bits.
// Only the drivers create a wide; an op's code sees it as V and needs nothing special.
template <class B, std::size_t U>
struct wide {
  static_assert(U >= 1, "xact: wide of at least one batch");
  using batch_type = B;
  static constexpr std::size_t count = U;
  B v[U];
  wide() = default;
  // A scalar broadcast to every lane (V(1), I(C::bias), ...).
  template <class S, std::enable_if_t<std::is_arithmetic<S>::value, int> = 0>
  XACT_INLINE wide(S s) noexcept {
    XACT_UNROLL for (std::size_t u = 0; u < U; ++u) v[u] = B(s);
  }
};

template <class V>
struct is_wide : std::false_type {};
template <class B, std::size_t U>
struct is_wide<wide<B, U>> : std::true_type {};

// A batch or a wide of batches (anything but a scalar).
template <class V>
constexpr bool is_vector_v = is_batch<V>::value || is_wide<V>::value;

template <class B, std::size_t U>
struct traits<wide<B, U>> {
  using scalar = typename traits<B>::scalar;
  using mask = wide<typename traits<B>::mask, U>;
  using int_type = wide<typename traits<B>::int_type, U>;
  static constexpr std::size_t size = traits<B>::size * U;
};

namespace detail {
// wide whose batch u is f(u), for u = 0..U-1 in order.
template <std::size_t U, class F>
XACT_INLINE auto wide_map(F&& f) noexcept {
  using R = std::decay_t<decltype(f(std::size_t(0)))>;
  wide<R, U> r;
  XACT_UNROLL for (std::size_t u = 0; u < U; ++u) r.v[u] = f(u);
  return r;
}
}  // namespace detail

#define XACT_WIDE_BINARY(op)                                                        \
  template <class B, std::size_t U>                                                 \
  XACT_INLINE auto operator op(const wide<B, U>& a, const wide<B, U>& b) noexcept { \
    return detail::wide_map<U>([&](std::size_t u) { return a.v[u] op b.v[u]; });    \
  }                                                                                 \
  template <class B, std::size_t U, class S,                                        \
            std::enable_if_t<std::is_arithmetic<S>::value, int> = 0>                \
  XACT_INLINE auto operator op(const wide<B, U>& a, S b) noexcept {                 \
    return detail::wide_map<U>([&](std::size_t u) { return a.v[u] op b; });         \
  }                                                                                 \
  template <class B, std::size_t U, class S,                                        \
            std::enable_if_t<std::is_arithmetic<S>::value, int> = 0>                \
  XACT_INLINE auto operator op(S a, const wide<B, U>& b) noexcept {                 \
    return detail::wide_map<U>([&](std::size_t u) { return B(a) op b.v[u]; });      \
  }
XACT_WIDE_BINARY(+)
XACT_WIDE_BINARY(-)
XACT_WIDE_BINARY(*)
XACT_WIDE_BINARY(/)
XACT_WIDE_BINARY(&)
XACT_WIDE_BINARY(|)
XACT_WIDE_BINARY(^)
XACT_WIDE_BINARY(&&)
XACT_WIDE_BINARY(||)
XACT_WIDE_BINARY(==)
XACT_WIDE_BINARY(!=)
XACT_WIDE_BINARY(<)
XACT_WIDE_BINARY(<=)
XACT_WIDE_BINARY(>)
XACT_WIDE_BINARY(>=)
#undef XACT_WIDE_BINARY

// Shifts of integer batches by a constant count.
template <class B, std::size_t U>
XACT_INLINE wide<B, U> operator<<(const wide<B, U>& a, int n) noexcept {
  return detail::wide_map<U>([&](std::size_t u) { return a.v[u] << n; });
}
template <class B, std::size_t U>
XACT_INLINE wide<B, U> operator>>(const wide<B, U>& a, int n) noexcept {
  return detail::wide_map<U>([&](std::size_t u) { return a.v[u] >> n; });
}

#define XACT_WIDE_UNARY(op)                                               \
  template <class B, std::size_t U>                                       \
  XACT_INLINE auto operator op(const wide<B, U>& a) noexcept {            \
    return detail::wide_map<U>([&](std::size_t u) { return op a.v[u]; }); \
  }
XACT_WIDE_UNARY(-)
XACT_WIDE_UNARY(!)
XACT_WIDE_UNARY(~)
#undef XACT_WIDE_UNARY

#define XACT_WIDE_COMPOUND(op)                                                 \
  template <class B, std::size_t U, class R>                                   \
  XACT_INLINE wide<B, U>& operator op##=(wide<B, U>& a, const R& b) noexcept { \
    return a = a op b;                                                         \
  }
XACT_WIDE_COMPOUND(+)
XACT_WIDE_COMPOUND(-)
XACT_WIDE_COMPOUND(*)
XACT_WIDE_COMPOUND(/)
XACT_WIDE_COMPOUND(&)
XACT_WIDE_COMPOUND(|)
XACT_WIDE_COMPOUND(^)
#undef XACT_WIDE_COMPOUND

// The simd:: functions of a wide: each batch through the batch function. Each is declared
// right after the batch function it maps (a qualified call in a template binds to the
// declarations visible where the template is defined).
#define XACT_WIDE_FN1(name)                                                        \
  template <class B, std::size_t U>                                                \
  XACT_INLINE auto name(const wide<B, U>& a) noexcept {                            \
    return detail::wide_map<U>([&](std::size_t u) { return simd::name(a.v[u]); }); \
  }
#define XACT_WIDE_FN2(name)                                                                \
  template <class B, std::size_t U>                                                        \
  XACT_INLINE auto name(const wide<B, U>& a, const wide<B, U>& b) noexcept {               \
    return detail::wide_map<U>([&](std::size_t u) { return simd::name(a.v[u], b.v[u]); }); \
  }
#define XACT_WIDE_FN3(name)                                                                        \
  template <class B, class B0, std::size_t U>                                                      \
  XACT_INLINE auto name(const wide<B0, U>& a, const wide<B, U>& b, const wide<B, U>& c) noexcept { \
    return detail::wide_map<U>([&](std::size_t u) { return simd::name(a.v[u], b.v[u], c.v[u]); }); \
  }

// --- arithmetic -----------------------------------------------------------------------------
// xsimd 8.1 has no fma kernel for AVX-512: its generic fallback computes a * b + c, rounded twice
// unless the compiler happens to contract it, which broke every error-free transformation here
// (two_prod's residual was 0). The AVX-512 batches call the intrinsics.
#if defined(__AVX512F__)
#define XACT_FMA_512(A, T, op, a, b, c)                                             \
  if constexpr (std::is_base_of<xsimd::avx512f, A>::value) {                        \
    if constexpr (std::is_same<T, float>::value) return _mm512_##op##_ps(a, b, c);  \
    if constexpr (std::is_same<T, double>::value) return _mm512_##op##_pd(a, b, c); \
  }
#else
#define XACT_FMA_512(A, T, op, a, b, c)
#endif
template <class T, class A>
inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                              const xsimd::batch<T, A>& c) noexcept {
  XACT_FMA_512(A, T, fmadd, a, b, c)
  return xsimd::fma(a, b, c);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T fma(T a, T b, T c) noexcept {
#if XACT_HAS_FMA
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}
XACT_WIDE_FN3(fma)

// c - a b, rounded as fma(-a, b, c) (once with a hardware fma, twice without); one
// instruction (vfnmadd) where the negation would otherwise cost one.
template <class T, class A>
inline xsimd::batch<T, A> fnma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                               const xsimd::batch<T, A>& c) noexcept {
  XACT_FMA_512(A, T, fnmadd, a, b, c)
  return xsimd::fnma(a, b, c);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T fnma(T a, T b, T c) noexcept {
#if XACT_HAS_FMA
  return std::fma(-a, b, c);
#else
  return c - a * b;
#endif
}
XACT_WIDE_FN3(fnma)

// barrier(v) == v, but the optimizer cannot know it (empty asm with v in a register), so no
// algebraic rewrite crosses it: (barrier(a + b) - b) stays a rounding of a, and a barrier(a * b)
// stays a rounded product that no later addition fuses into an fma (GCC contracts a * b + c
// under -ffp-contract=fast, its default for C++, where it sees both: in one inlined copy and not
// in another, so a lane would no longer match the scalar call). No instruction is emitted.
template <class V>
inline V barrier(V v) noexcept {
#if defined(__AVX512F__)
#define XACT_ASM_VREG "+v"
#elif defined(__x86_64__) || defined(__i386__)
#define XACT_ASM_VREG "+x"
#elif defined(__aarch64__) || defined(__arm__)
#define XACT_ASM_VREG "+w"
#endif
  if constexpr (is_batch<V>::value) {
    auto r = v.data;
#if defined(XACT_ASM_VREG)
    __asm__("" : XACT_ASM_VREG(r));
#else
    __asm__("" : "+m"(r));
#endif
    return V(r);
  } else {
#if (defined(__x86_64__) && defined(__SSE2__)) || defined(__aarch64__)
    __asm__("" : XACT_ASM_VREG(v));
#else
    __asm__("" : "+m"(v));
#endif
    return v;
  }
#undef XACT_ASM_VREG
}
template <class B, std::size_t U>
XACT_INLINE wide<B, U> barrier(wide<B, U> v) noexcept {
  XACT_UNROLL for (std::size_t u = 0; u < U; ++u) v.v[u] = simd::barrier(v.v[u]);
  return v;
}

// opaque(v): barrier(v) under XACT_OPAQUE (fast-math, see the top of this file), else v itself
// (not even a register constraint).
template <class V>
inline V opaque(V v) noexcept {
#if XACT_OPAQUE
  return simd::barrier(v);
#else
  return v;
#endif
}
template <class B, std::size_t U>
XACT_INLINE wide<B, U> opaque(wide<B, U> v) noexcept {
  XACT_UNROLL for (std::size_t u = 0; u < U; ++u) v.v[u] = simd::opaque(v.v[u]);
  return v;
}

// a b rounded once, as fma(a, b, -0): the same bits as a * b for every a and b (x + -0 = x,
// also for x = +-0, inf and NaN), computed by the fma unit. For the products that underflow
// (a subnormal or 0 result) on subnormal or tiny inputs: Dice's products of x, exp's r^2. On
// AMD Zen 4 such a multiply inside a kernel takes the hardware's slow path and the fma does not
// (tests/test_denormals.cpp's probe, float: Dice's forward on subnormal x 2.9-3.2x its normal
// time with x * factor, 1.0x with this; sigmoid's forward 1.6-1.8x with exp's r * r, 1.0x; a
// loop of nothing but multiplies by a constant showed no slow path at all). Same speed on
// normal inputs. The -0 goes through a barrier so that no optimizer folds the fma back into a
// multiply. Without a hardware fma: a * b.
template <class V>
XACT_INLINE V mul_fma(const V& a, const V& b) noexcept {
#if XACT_HAS_FMA
  using S = scalar_t<V>;
  return simd::fma(a, b, simd::barrier(V(S(-0.0))));
#else
  return a * b;
#endif
}

// a / b rounded once, in every build. Under -ffast-math GCC (x86) turns a SIMD float division
// into a reciprocal estimate plus one Newton step (up to 2 ulp off, and a lane then differs from
// the scalar call) and, by -freciprocal-math, x / c into x * (1/c) rounded twice; there
// (XACT_OPAQUE) the division is one div instruction in inline asm, which the optimizer cannot
// rewrite. Otherwise exactly a / b.
template <class V>
inline V div(const V& a, const V& b) noexcept {
#if XACT_OPAQUE && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  if constexpr (is_batch<V>::value) {
    auto r = a.data;
    const auto d = b.data;
    if constexpr (sizeof(scalar_t<V>) == 4) {
#if defined(__AVX__)
      __asm__("vdivps %2, %1, %0" : "=x"(r) : "x"(r), "x"(d));
#else
      __asm__("divps %1, %0" : "+x"(r) : "x"(d));
#endif
    } else {
#if defined(__AVX__)
      __asm__("vdivpd %2, %1, %0" : "=x"(r) : "x"(r), "x"(d));
#else
      __asm__("divpd %1, %0" : "+x"(r) : "x"(d));
#endif
    }
    return V(r);
  } else {
#if defined(__x86_64__)
    V r = a;
    if constexpr (sizeof(V) == 4) {
#if defined(__AVX__)
      __asm__("vdivss %2, %1, %0" : "=x"(r) : "x"(r), "x"(b));
#else
      __asm__("divss %1, %0" : "+x"(r) : "x"(b));
#endif
    } else {
#if defined(__AVX__)
      __asm__("vdivsd %2, %1, %0" : "=x"(r) : "x"(r), "x"(b));
#else
      __asm__("divsd %1, %0" : "+x"(r) : "x"(b));
#endif
    }
    return r;
#else
    return a / simd::opaque(b);
#endif
  }
#else
  return a / b;
#endif
}
XACT_WIDE_FN2(div)

// a * b = p + e exactly (p = a * b rounded). With a hardware fma, e = fma(a, b, -p); without,
// Dekker's product on Veltkamp halves. Exact unless a * b over- or underflows.
template <class V>
inline V two_prod(const V& a, const V& b, V& e) noexcept {
  // Under -ffast-math (XACT_OPAQUE) every step is an opaque value, so no sum of them is
  // reassociated or factored (ah bh + ah bl -> ah b would lose the whole e); a no-op otherwise.
  // p is a barrier in every build: a caller adding p (a dot product's s + p) would otherwise
  // get that sum fused with the product, and e would no longer be the error of the p it adds.
  const V p = simd::barrier(a * b);
#if XACT_HAS_FMA
  e = simd::opaque(simd::fma(a, b, -p));
#else
  using S = scalar_t<V>;
  using simd::opaque;
  const V split = V(sizeof(S) == 4 ? S(4097) : S(134217729));  // 2^12 + 1, 2^27 + 1
  const V ca = split * a, cb = split * b;
  const V ah = opaque(ca - opaque(ca - a)), al = opaque(a - ah);
  const V bh = opaque(cb - opaque(cb - b)), bl = opaque(b - bh);
  const V t = opaque(opaque(ah * bh - p) + opaque(ah * bl));
  e = opaque(opaque(t + opaque(al * bh)) + opaque(al * bl));
#endif
  return p;
}

// c - a b and a b - c with the product unrounded: one fma where fma rounds once (XACT_HAS_FMA
// holds for the scalar and the batch fma alike, so both take the same branch); otherwise through
// two_prod, as a separate fma would round the product and lose the whole residual. For the
// correction step of a quotient q0 ~ c / b: the residual is small and rounds once relative to
// itself.
template <class V>
inline V residual(const V& a, const V& b, const V& c) noexcept {
#if XACT_HAS_FMA
  return simd::fnma(a, b, c);
#else
  V e;
  const V p = two_prod(a, b, e);
  return simd::opaque(simd::opaque(c) - p) - e;
#endif
}
template <class V>
inline V excess(const V& a, const V& b, const V& c) noexcept {
#if XACT_HAS_FMA
  return simd::fma(a, b, -c);
#else
  V e;
  const V p = two_prod(a, b, e);
  return simd::opaque(p - simd::opaque(c)) + e;
#endif
}

// a + b = s + e exactly (s = a + b rounded). fast_two_sum needs |a| >= |b| (or a = 0);
// two_sum takes any a, b. Under -ffast-math every step and both results are opaque values
// (simd::opaque), so no reassociation folds e to 0 or merges (a - x) + (b - y) into
// (a + b) - (x + y), here or where the caller adds s and e to other terms.
template <class V>
inline V fast_two_sum(const V& a, const V& b, V& e) noexcept {
  const V s = simd::opaque(a + b);
  e = simd::opaque(b - simd::opaque(s - a));
  return s;
}
template <class V>
inline V two_sum(const V& a, const V& b, V& e) noexcept {
  using simd::opaque;
  const V s = opaque(a + b);
  const V bb = opaque(s - a);
  e = opaque(opaque(a - opaque(s - bb)) + opaque(b - bb));
  return s;
}

template <class T, class A>
inline xsimd::batch<T, A> abs(const xsimd::batch<T, A>& a) noexcept {
  return xsimd::abs(a);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T abs(T a) noexcept {
  return std::fabs(a);
}
XACT_WIDE_FN1(abs)

// -|a|, one or of the sign bit (abs then negate costs two logic operations).
template <class T, class A>
inline xsimd::batch<T, A> neg_abs(const xsimd::batch<T, A>& a) noexcept {
  return xsimd::bitwise_or(a, xsimd::batch<T, A>(T(-0.0)));
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T neg_abs(T a) noexcept {
  return -std::fabs(a);
}
XACT_WIDE_FN1(neg_abs)

template <class T, class A>
inline xsimd::batch<T, A> sqrt(const xsimd::batch<T, A>& a) noexcept {
  return xsimd::sqrt(a);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T sqrt(T a) noexcept {
  return std::sqrt(a);
}
XACT_WIDE_FN1(sqrt)

// min(a, b) = a < b ? a : b and max(a, b) = a > b ? a : b, exactly: when either is NaN the
// result is b. Callers rely on that to let NaN through a clamp (put x second).
template <class T, class A>
inline xsimd::batch<T, A> min(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
#if defined(__SSE2__) || defined(_M_X64)
  return xsimd::min(a, b);  // minps/minpd: a < b ? a : b
#else
  return xsimd::select(a < b, a, b);
#endif
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T min(T a, T b) noexcept {
  return a < b ? a : b;
}
XACT_WIDE_FN2(min)
template <class T, class A>
inline xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
#if defined(__SSE2__) || defined(_M_X64)
  return xsimd::max(a, b);  // maxps/maxpd: a > b ? a : b
#else
  return xsimd::select(a > b, a, b);
#endif
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T max(T a, T b) noexcept {
  return a > b ? a : b;
}
XACT_WIDE_FN2(max)

// --- masks ----------------------------------------------------------------------------------
// AVX-512 integer batches blend through the intrinsic: xsimd 8.1's avx512bw select switches on
// sizeof(T) at run time, so its 8- and 16-bit branches are compiled for every T, and at -O0
// (where GCC's intrinsics are macros with casts) they do not compile for 32- and 64-bit lanes.
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, const xsimd::batch<T, A>& a,
                                 const xsimd::batch<T, A>& b) noexcept {
#if defined(__AVX512F__)
  constexpr bool int512 = std::is_integral<T>::value && std::is_base_of<xsimd::avx512f, A>::value;
  using R = typename xsimd::batch_bool<T, A>::register_type;
  if constexpr (int512 && sizeof(T) == 4) {
    return _mm512_mask_blend_epi32(static_cast<R>(m), b, a);
  } else if constexpr (int512 && sizeof(T) == 8) {
    return _mm512_mask_blend_epi64(static_cast<R>(m), b, a);
  } else {
    return xsimd::select(m, a, b);
  }
#else
  return xsimd::select(m, a, b);
#endif
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T select(bool m, T a, T b) noexcept {
  return m ? a : b;
}
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, const xsimd::batch<T, A>& a,
                                 T b) noexcept {
  return xsimd::select(m, a, xsimd::batch<T, A>(b));
}
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, T a,
                                 const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(m, xsimd::batch<T, A>(a), b);
}
template <class M, class B, std::size_t U>
XACT_INLINE wide<B, U> select(const wide<M, U>& m, const wide<B, U>& a,
                              const wide<B, U>& b) noexcept {
  return detail::wide_map<U>([&](std::size_t u) { return simd::select(m.v[u], a.v[u], b.v[u]); });
}
template <class M, class B, std::size_t U, class S,
          std::enable_if_t<std::is_arithmetic<S>::value, int> = 0>
XACT_INLINE wide<B, U> select(const wide<M, U>& m, const wide<B, U>& a, S b) noexcept {
  return select(m, a, wide<B, U>(b));
}
template <class M, class B, std::size_t U, class S,
          std::enable_if_t<std::is_arithmetic<S>::value, int> = 0>
XACT_INLINE wide<B, U> select(const wide<M, U>& m, S a, const wide<B, U>& b) noexcept {
  return select(m, wide<B, U>(a), b);
}

// select_sign(s, neg, nonneg): neg where s < 0, nonneg where s > 0. Where s is +-0 or NaN the
// choice is unspecified (a scalar tests s < 0, a lane may read the sign bit): the caller makes
// neg and nonneg agree there. With SSE4.1/AVX it is one blend on the sign bit of s, without
// the compare (which would go to the same two FP ports as the fma on x86).
namespace detail {
// The width of a blend on the sign bit for arch A (blendvps/blendvpd), or 0 when there is none.
template <class A>
constexpr int sign_blend_bits() noexcept {
#if defined(__AVX__)
  if (std::is_base_of<xsimd::avx, A>::value) return 256;
#endif
#if defined(__SSE4_1__)
  if (std::is_base_of<xsimd::sse4_1, A>::value) return 128;
#endif
  return 0;
}
}  // namespace detail

template <class T, class A>
inline xsimd::batch<T, A> select_sign(const xsimd::batch<T, A>& s, const xsimd::batch<T, A>& neg,
                                      const xsimd::batch<T, A>& nonneg) noexcept {
  constexpr int bits = detail::sign_blend_bits<A>();
#if defined(__AVX__)
  if constexpr (bits == 256) {
    if constexpr (sizeof(T) == 4) return _mm256_blendv_ps(nonneg, neg, s);
    if constexpr (sizeof(T) == 8) return _mm256_blendv_pd(nonneg, neg, s);
  }
#endif
#if defined(__SSE4_1__)
  if constexpr (bits == 128) {
    if constexpr (sizeof(T) == 4) return _mm_blendv_ps(nonneg, neg, s);
    if constexpr (sizeof(T) == 8) return _mm_blendv_pd(nonneg, neg, s);
  }
#endif
  if constexpr (bits == 0) return xsimd::select(s < xsimd::batch<T, A>(T(0)), neg, nonneg);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline T select_sign(T s, T neg, T nonneg) noexcept {
  return s < T(0) ? neg : nonneg;
}
XACT_WIDE_FN3(select_sign)

template <class T, class A>
inline xsimd::batch_bool<T, A> isnan(const xsimd::batch<T, A>& a) noexcept {
  // Not a != a: xsimd 8.1's AVX operator!= is the ordered compare, false for NaN.
  return !(a == a);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline bool isnan(T a) noexcept {
  return a != a;
}
XACT_WIDE_FN1(isnan)

template <class T, class A>
inline bool any(const xsimd::batch_bool<T, A>& m) noexcept {
  return xsimd::any(m);
}
inline bool any(bool m) noexcept { return m; }
// all(m), for a batch one instruction (vtestps) where !any(!m) costs several in xsimd 8.1.
template <class T, class A>
inline bool all(const xsimd::batch_bool<T, A>& m) noexcept {
  return xsimd::all(m);
}
inline bool all(bool m) noexcept { return m; }
template <class M, std::size_t U>
XACT_INLINE bool any(const wide<M, U>& m) noexcept {
  auto r = m.v[0];
  for (std::size_t u = 1; u < U; ++u) r = r || m.v[u];
  return simd::any(r);
}
template <class M, std::size_t U>
XACT_INLINE bool all(const wide<M, U>& m) noexcept {
  auto r = m.v[0];
  for (std::size_t u = 1; u < U; ++u) r = r && m.v[u];
  return simd::all(r);
}

// --- bits -----------------------------------------------------------------------------------
template <class T, class A>
inline int_t<xsimd::batch<T, A>> to_bits(const xsimd::batch<T, A>& a) noexcept {
  return xsimd::bitwise_cast<int_t<xsimd::batch<T, A>>>(a);
}
template <class T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
inline int_t<T> to_bits(T a) noexcept {
  int_t<T> i;
  std::memcpy(&i, &a, sizeof a);
  return i;
}
XACT_WIDE_FN1(to_bits)

template <class V, class I, std::enable_if_t<is_batch<V>::value, int> = 0>
inline V from_bits(const I& i) noexcept {
  return xsimd::bitwise_cast<V>(i);
}
template <class V, class I, std::enable_if_t<std::is_floating_point<V>::value, int> = 0>
inline V from_bits(I i) noexcept {
  V a;
  std::memcpy(&a, &i, sizeof a);
  return a;
}
template <class V, class I, std::enable_if_t<is_wide<V>::value, int> = 0>
XACT_INLINE V from_bits(const I& i) noexcept {
  V r;
  XACT_UNROLL for (std::size_t u = 0; u < V::count; ++u) r.v[u] =
      simd::from_bits<typename V::batch_type>(i.v[u]);
  return r;
}

// copysign(mag, sgn): the magnitude of mag with the sign bit of sgn.
template <class V>
inline V copysign(const V& mag, const V& sgn) noexcept {
  using S = scalar_t<V>;
  const V sign_bit = V(S(-0.0));
  if constexpr (is_batch<V>::value) {
    // |mag| | sign(sgn). (Not bitwise_andnot: in xsimd 8.1 it is ~a & b on SSE/AVX.)
    return xsimd::bitwise_or(xsimd::abs(mag), xsimd::bitwise_and(sgn, sign_bit));
  } else {
    return std::copysign(mag, sgn);
  }
}
XACT_WIDE_FN2(copysign)

// xor of the sign bit of s into a: a * sign(s) for every a, NaN and inf included.
template <class V>
inline V xorsign(const V& a, const V& s) noexcept {
  using S = scalar_t<V>;
  if constexpr (is_batch<V>::value) {
    return xsimd::bitwise_xor(a, xsimd::bitwise_and(s, V(S(-0.0))));
  } else {
    return from_bits<V>(to_bits(a) ^ (to_bits(s) & to_bits(S(-0.0))));
  }
}
XACT_WIDE_FN2(xorsign)

// --- memory ---------------------------------------------------------------------------------
template <class B, class T>
inline B load(const T* p) noexcept {
  if constexpr (is_wide<B>::value) {
    using E = typename B::batch_type;
    B r;
    XACT_UNROLL for (std::size_t u = 0; u < B::count; ++u) r.v[u] =
        E::load_unaligned(p + u * E::size);
    return r;
  } else {
    return B::load_unaligned(p);
  }
}
template <class B, class T>
inline void store(T* p, const B& v) noexcept {
  if constexpr (is_wide<B>::value) {
    using E = typename B::batch_type;
    XACT_UNROLL for (std::size_t u = 0; u < B::count; ++u) v.v[u].store_unaligned(p + u * E::size);
  } else {
    v.store_unaligned(p);
  }
}

// A non-temporal (streaming) store of v at p, which must be aligned to the batch's size: the
// line is written to memory without being read into the caches first (no read for ownership),
// so a pass over an array larger than the caches moves 2 bytes per output byte, not 3. x86
// (SSE2, AVX, AVX-512); elsewhere an aligned store. The stores are weakly ordered: call
// stream_fence() before the data is handed to another thread.
template <class T, class B>
inline void store_stream(T* p, const B& v) noexcept {
  if constexpr (is_wide<B>::value) {
    using E = typename B::batch_type;
    XACT_UNROLL for (std::size_t u = 0; u < B::count; ++u) store_stream(p + u * E::size, v.v[u]);
  } else {
    constexpr std::size_t bytes = B::size * sizeof(T);
    constexpr bool f = std::is_same<T, float>::value, d = std::is_same<T, double>::value;
    (void)bytes;  // unused where no branch below is compiled (AArch64)
    (void)f;
    (void)d;
#if defined(__AVX512F__)
    if constexpr (bytes == 64 && f) return _mm512_stream_ps(p, v);
    if constexpr (bytes == 64 && d) return _mm512_stream_pd(p, v);
#endif
#if defined(__AVX__)
    if constexpr (bytes == 32 && f) return _mm256_stream_ps(p, v);
    if constexpr (bytes == 32 && d) return _mm256_stream_pd(p, v);
#endif
#if defined(__SSE2__)
    if constexpr (bytes == 16 && f) return _mm_stream_ps(p, v);
    if constexpr (bytes == 16 && d) return _mm_stream_pd(p, v);
#endif
    v.store_aligned(p);
  }
}
// Orders the streaming stores before any later store (sfence on x86; nothing elsewhere).
inline void stream_fence() noexcept {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// Horizontal sum in a fixed order (lane 0 + lane 1 + ...): the same on every call.
template <class T, class A>
inline T reduce_add(const xsimd::batch<T, A>& v) noexcept {
  alignas(A::alignment()) T buf[xsimd::batch<T, A>::size];
  v.store_aligned(buf);
  T s = buf[0];
  for (std::size_t i = 1; i < xsimd::batch<T, A>::size; ++i) s += buf[i];
  return s;
}
template <class T, class A>
inline T reduce_max(const xsimd::batch<T, A>& v) noexcept {
  alignas(A::alignment()) T buf[xsimd::batch<T, A>::size];
  v.store_aligned(buf);
  T s = buf[0];
  for (std::size_t i = 1; i < xsimd::batch<T, A>::size; ++i)
    s = (buf[i] > s || buf[i] != buf[i]) ? buf[i] : s;
  return s;
}

// f(a, r...) for a scalar or a batch; for a wide, f on each of its batches in turn. The ops
// call their rarely taken general paths through it, so those are instantiated for batches only
// (a wide instance of every general path made the test suite's build ~60% longer); per lane the
// same operations, the same bits.
template <class F, class V, class... R>
XACT_INLINE V per_batch(F&& f, const V& a, const R&... r) noexcept {
  if constexpr (is_wide<V>::value) {
    V out;
    XACT_UNROLL for (std::size_t u = 0; u < V::count; ++u) out.v[u] = f(a.v[u], r.v[u]...);
    return out;
  } else {
    return f(a, r...);
  }
}

#undef XACT_WIDE_FN1
#undef XACT_WIDE_FN2
#undef XACT_WIDE_FN3

}  // namespace simd
}  // namespace xact

XACT_DIAGNOSTICS_END
