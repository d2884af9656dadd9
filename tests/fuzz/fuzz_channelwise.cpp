// libFuzzer target for the channelwise driver: PReLU (one alpha per channel) and the Dice layer
// (inference and training, affine or not) at fuzzed shapes ([N, C, inner], both layouts, empty
// batches), data offsets, parameters and values (NaN, +-inf, +-0, subnormals, extremes). Checks:
//   - PReLU: y and dx exactly (one rounded product, the sign of zero included) against
//     tests/reference/prelu.hpp; dalpha per channel against the long double sum of the terms
//     within the driver's bound 2 eps |sum| + 1.5 eps sum|terms| (plus each term's rounding);
//   - Dice: y against tests/reference/dice.hpp within 4 eps |x| (|alpha| + |1 - alpha| (1 + c))
//     (the layer test measures 1.2 on random data and states 2 for c = 0; c = p q (|gamma xhat| +
//     |beta|) for the affine form's cancellation in z); in training a feature with a NaN or
//     infinite x is NaN throughout; inference y is bit-identical to the scalar dice_fixed call;
//   - tail = body: the same tensor at another alignment gives the same bits everywhere (sums and
//     statistics included); the tensor transposed to the other layout gives the same bits for
//     every elementwise output (PReLU y and dx, Dice inference y and dx), each element then
//     sitting in another lane, run or tail;
//   - no access outside the exactly-sized heap buffers (ASan).
// Input: [kind][N][C][inner][flags][off1][off2][eps] then parameters, then per element x and dy.
#include <algorithm>
#include <memory>
#include <vector>
#include <xact/functions/dice.hpp>
#include <xact/functions/prelu.hpp>

#include "fuzz_input.hpp"
#include "reference/dice.hpp"
#include "reference/prelu.hpp"

namespace {

using LD = long double;
constexpr const char* kName = "fuzz_channelwise";

// An exactly sized heap buffer whose data start `off` elements in (the alignment varies).
template <class T>
struct Buf {
  std::unique_ptr<T[]> mem;
  T* p;
  Buf(std::size_t n, std::size_t off) : mem(new T[n + off]), p(mem.get() + off) {
    for (std::size_t i = 0; i < n + off; ++i) mem[i] = T(-7);
  }
};

struct Shape {
  std::size_t N, C, I;
  // Flat index of (n, c, i) in each layout.
  std::size_t at(std::size_t n, std::size_t c, std::size_t i, bool last) const {
    return last ? (n * I + i) * C + c : (n * C + c) * I + i;
  }
  std::size_t size() const { return N * C * I; }
  xact::channel_shape shape(bool last) const {
    return {N, C, I, last ? xact::layout::channels_last : xact::layout::channels_first};
  }
};

// Copies the logical tensor from layout `from` to layout `to`.
template <class T>
void transpose(const Shape& s, const T* src, bool from, T* dst, bool to) {
  for (std::size_t n = 0; n < s.N; ++n)
    for (std::size_t c = 0; c < s.C; ++c)
      for (std::size_t i = 0; i < s.I; ++i) dst[s.at(n, c, i, to)] = src[s.at(n, c, i, from)];
}

template <class T>
void same_or_fail(const char* what, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!xt::same_bits(a[i], b[i]))
      xf::fail(kName, "%s: element %zu: %a vs %a", what, i, double(a[i]), double(b[i]));
}

// Element e of `got` against the mapping of the same element in the other layout.
template <class T>
void same_transposed(const char* what, const Shape& s, const T* a, bool la, const T* b, bool lb) {
  for (std::size_t n = 0; n < s.N; ++n)
    for (std::size_t c = 0; c < s.C; ++c)
      for (std::size_t i = 0; i < s.I; ++i) {
        const T u = a[s.at(n, c, i, la)], v = b[s.at(n, c, i, lb)];
        if (!xt::same_bits(u, v))
          xf::fail(kName,
                   "%s: layout changes bits at (n %zu, c %zu, i %zu) of [%zu %zu %zu]: %a vs %a",
                   what, n, c, i, s.N, s.C, s.I, double(u), double(v));
      }
}

// ---- PReLU ----------------------------------------------------------------------------------

template <class T>
void check_prelu(const Shape& s, bool last, const T* alpha, const T* x, const T* dy, const T* y,
                 const T* dx, const T* da) {
  using L = std::numeric_limits<T>;
  const std::size_t n = s.size();
  for (std::size_t e = 0; e < n; ++e) {
    const std::size_t c = ref::channel_of(e, s.C, s.I, last);
    const T want = x[e] > 0 ? x[e] : ref::mul_rounded(x[e], alpha[c]);
    const T g = ref::prelu_grad(x[e], alpha[c]);
    const T wdx = ref::mul_rounded(dy[e], g);
    const bool ok_y = std::isnan(want) ? std::isnan(y[e]) : xt::same_bits(y[e], want);
    const bool ok_dx = std::isnan(wdx) ? std::isnan(dx[e]) : xt::same_bits(dx[e], wdx);
    if (!ok_y || !ok_dx)
      xf::fail(kName, "prelu: e %zu x %a alpha %a dy %a: y %a want %a, dx %a want %a", e,
               double(x[e]), double(alpha[c]), double(dy[e]), double(y[e]), double(want),
               double(dx[e]), double(wdx));
  }
  // dalpha: the terms dy x (rounded to T, as the library forms them) summed exactly-ish.
  std::vector<LD> sum(s.C, 0), abs_sum(s.C, 0);
  std::vector<std::size_t> count(s.C, 0);
  for (std::size_t e = 0; e < n; ++e)
    if (!(x[e] > 0)) {
      const std::size_t c = ref::channel_of(e, s.C, s.I, last);
      const LD t = LD(T(dy[e] * x[e]));  // one rounding to T, an overflow to +-inf included
      sum[c] += t;
      abs_sum[c] += std::fabs(t);
      ++count[c];
    }
  for (std::size_t c = 0; c < s.C; ++c) {
    if (std::isnan(sum[c])) {
      if (!std::isnan(da[c])) xf::fail(kName, "prelu: dalpha[%zu] %a, want NaN", c, double(da[c]));
      continue;
    }
    if (std::isinf(sum[c])) {
      if (!(LD(da[c]) == sum[c]))
        xf::fail(kName, "prelu: dalpha[%zu] %a, want %La", c, double(da[c]), sum[c]);
      continue;
    }
    if (abs_sum[c] > LD(L::max()) / 8) continue;  // terms or partial sums may overflow T
    const LD eps = L::epsilon();
    const LD tol = 2 * eps * std::fabs(sum[c]) + LD(2.5) * eps * abs_sum[c] +
                   LD(count[c] + 1) * LD(L::denorm_min());
    if (!(std::fabs(LD(da[c]) - sum[c]) <= tol))
      xf::fail(kName, "prelu: dalpha[%zu] %a, want %La (tolerance %La, %zu terms)", c,
               double(da[c]), sum[c], tol, count[c]);
  }
}

template <class T>
void run_prelu(xf::Bytes& in, const Shape& s, bool last, std::size_t off1, std::size_t off2) {
  const std::size_t n = s.size();
  std::vector<T> alpha(s.C);
  for (auto& a : alpha) a = xf::any_value<T>(in);
  Buf<T> x(n, off1), dy(n, off1), y(n, off1), dx(n, off1), da(s.C, 0);
  for (std::size_t e = 0; e < n; ++e) {
    x.p[e] = xf::any_value<T>(in);
    dy.p[e] = xf::any_value<T>(in);
  }
  xact::prelu_forward(s.shape(last), alpha.data(), x.p, y.p);
  xact::prelu_backward(s.shape(last), alpha.data(), x.p, dy.p, dx.p, da.p);
  check_prelu(s, last, alpha.data(), x.p, dy.p, y.p, dx.p, da.p);

  // Another alignment, in place: the same bits (dalpha too: the walk does not depend on it).
  Buf<T> x2(n, off2), dy2(n, off2), da2(s.C, 1);
  std::copy(x.p, x.p + n, x2.p);
  std::copy(dy.p, dy.p + n, dy2.p);
  xact::prelu_backward(s.shape(last), alpha.data(), x2.p, dy2.p, dy2.p, da2.p);
  xact::prelu_forward(s.shape(last), alpha.data(), x2.p, x2.p);
  same_or_fail("prelu y at another offset, in place", y.p, x2.p, n);
  same_or_fail("prelu dx at another offset, in place", dx.p, dy2.p, n);
  same_or_fail("prelu dalpha at another offset", da.p, da2.p, s.C);

  // The other layout: every element in another position.
  Buf<T> x3(n, off2), dy3(n, off2), y3(n, off2), dx3(n, off2), da3(s.C, 0);
  transpose(s, x.p, last, x3.p, !last);
  transpose(s, dy.p, last, dy3.p, !last);
  xact::prelu_forward(s.shape(!last), alpha.data(), x3.p, y3.p);
  xact::prelu_backward(s.shape(!last), alpha.data(), x3.p, dy3.p, dx3.p, da3.p);
  same_transposed("prelu y", s, y.p, last, y3.p, !last);
  same_transposed("prelu dx", s, dx.p, last, dx3.p, !last);
  check_prelu(s, !last, alpha.data(), x3.p, dy3.p, y3.p, dx3.p, da3.p);
}

// ---- Dice -----------------------------------------------------------------------------------

template <class T>
void check_dice_y(const Shape& s, bool last, const xact::dice<T>& d, bool training, const T* x,
                  const T* y) {
  using L = std::numeric_limits<T>;
  const std::size_t n = s.size();
  ref::dice_setup r;
  r.N = s.N;
  r.C = s.C;
  r.inner = s.I;
  r.last = last;
  r.eps = d.eps();
  r.affine = d.affine();
  r.training = training;
  r.alpha.assign(d.alpha.begin(), d.alpha.end());
  r.gamma.assign(d.gamma.begin(), d.gamma.end());
  r.beta.assign(d.beta.begin(), d.beta.end());
  r.mean.assign(d.running_mean.begin(), d.running_mean.end());
  r.var.assign(d.running_var.begin(), d.running_var.end());
  // (the running statistics as they were before a training forward: unused in training)
  std::vector<LD> xw(x, x + n), mean, var;
  const std::vector<LD> want = ref::dice_forward(r, xw, &mean, &var);
  std::vector<bool> bad(s.C, false);  // training: a feature with NaN or infinite x
  if (training)
    for (std::size_t e = 0; e < n; ++e)
      if (!std::isfinite(x[e])) bad[r.channel(e)] = true;
  for (std::size_t e = 0; e < n; ++e) {
    const std::size_t c = r.channel(e);
    if (training && bad[c]) {
      if (!std::isnan(y[e]))
        xf::fail(kName, "dice training: feature %zu has a NaN/inf x, y[%zu] = %a, want NaN", c, e,
                 double(y[e]));
      continue;
    }
    if (std::isinf(x[e])) continue;  // the reference takes inf * 0 at p = 1; the layer the limit
    // Inference with |x - mean| rstd beyond T's range: xhat overflows in T (found by this
    // target: with gamma 0 or subnormal the true z is moderate, the layer's NaN or +-inf; noted
    // in notes/issue6.md, not a range a normalized layer sees). Not checked there.
    if (!training &&
        std::fabs((LD(x[e]) - r.mean[c]) / std::sqrt(r.var[c] + r.eps)) >= LD(L::max()) / 4)
      continue;
    if (std::isnan(want[e])) {
      if (!std::isnan(y[e]))
        xf::fail(kName, "dice: y[%zu] = %a for x %a, want NaN", e, double(y[e]), double(x[e]));
      continue;
    }
    const T wt = static_cast<T>(want[e]);
    if (std::isinf(wt)) {
      if (!(y[e] == wt))
        xf::fail(kName,
                 "dice %s: y[%zu] = %a for x %a, want %a (alpha %La gamma %La beta %La mean %La "
                 "var %La eps %La)",
                 training ? "training" : "inference", e, double(y[e]), double(x[e]), double(wt),
                 r.alpha[c], r.gamma[c], r.beta[c], r.mean[c], r.var[c], r.eps);
      continue;
    }
    const LD a = r.alpha[c];
    // Affine: z = gamma xhat + beta carries the few-ulp error of xhat (x - mean, rstd) scaled
    // by |gamma xhat|, which cancellation against beta does not shrink: p moves by p q times
    // that (found by this target: 4.4 of the plain bound at z = 0.09 from gamma xhat ~ -beta).
    LD cond = 0;
    if (r.affine) {
      const LD xh = (LD(x[e]) - mean[c]) / std::sqrt(var[c] + r.eps);
      const LD z = r.gamma[c] * xh + r.beta[c];
      const LD p = 1 / (1 + std::exp(-z));
      cond = p * (1 - p) * (std::fabs(r.gamma[c] * xh) + std::fabs(r.beta[c]));
    }
    const LD tol = 4 * LD(L::epsilon()) * std::fabs(LD(x[e])) *
                       (std::fabs(a) + std::fabs(1 - a) * (1 + cond)) +
                   2 * LD(L::denorm_min());
    // Within the bound of a value that rounds to +-inf (x near T's largest): +-inf is as good.
    const LD big = LD(L::max()) * (1 + LD(L::epsilon()) / 2);
    if (std::isinf(y[e]) && (y[e] > 0) == (want[e] > 0) && std::fabs(want[e]) + tol >= big)
      continue;
    if (!(std::fabs(LD(y[e]) - want[e]) <= tol))
      xf::fail(kName,
               "dice %s%s: y[%zu] = %a for x %a (feature %zu, alpha %a), want %La (error %.3Lg "
               "of the bound)",
               training ? "training" : "inference", d.affine() ? " affine" : "", e, double(y[e]),
               double(x[e]), c, double(d.alpha[c]), want[e], std::fabs(LD(y[e]) - want[e]) / tol);
  }
}

template <class T>
void run_dice(xf::Bytes& in, const Shape& s, bool last, std::size_t off1, std::size_t off2,
              bool training, bool affine, T eps) {
  const std::size_t n = s.size();
  const T momentum = T(in.u8() % 5) / T(4);
  xact::dice<T> d(s.C, xact::dice_options<T>{eps, momentum, affine, T(0)});
  // Parameters finite or NaN (documented: NaN poisons its feature). Infinite ones are not
  // fuzzed: alpha = +-inf makes alpha + (1 - alpha) p an inf - inf (NaN) where the limit of
  // p x + (1 - p) alpha x is +-inf; undocumented, noted in notes/issue6.md.
  auto param = [&](int lo, int hi) {
    const T v = xf::bounded_value<T>(in, lo, hi, false);
    return in.u8() == 0 ? std::numeric_limits<T>::quiet_NaN() : v;
  };
  for (std::size_t c = 0; c < s.C; ++c) {
    d.alpha[c] = param(-3, 2);
    d.gamma[c] = param(-3, 3);
    d.beta[c] = param(-3, 3);
    d.running_mean[c] = param(-20, 20);
    d.running_var[c] = std::fabs(param(-30, 30));
  }
  Buf<T> x(n, off1), dy(n, off1), y(n, off1), dx(n, off1);
  for (std::size_t e = 0; e < n; ++e) {
    // Training squares x - mean in T: |x| < 2^40 keeps every statistic finite.
    x.p[e] = training ? xf::bounded_value<T>(in, -40, 40, true) : xf::any_value<T>(in);
    dy.p[e] = xf::bounded_value<T>(in, -20, 20, true);
  }
  const xact::dice_mode mode = training ? xact::dice_mode::training : xact::dice_mode::inference;
  const xact::dice<T> d0 = d;  // parameters and running statistics before the calls
  xact::dice<T> d1 = d, d2 = d, d3 = d;
  d1.forward(s.shape(last), x.p, y.p, mode);
  d1.backward(s.shape(last), x.p, dy.p, dx.p, mode);
  check_dice_y(s, last, d0, training, x.p, y.p);
  if (!training) {
    // Scalar = lane: the inference layer is the dice_fixed functor with the running statistics.
    for (std::size_t e = 0; e < n; ++e) {
      const std::size_t c = ref::channel_of(e, s.C, s.I, last);
      const T rstd = T(1) / std::sqrt(d0.running_var[c] + eps);
      const xact::dice_fixed f{d0.running_mean[c], rstd,       d0.alpha[c],
                               d0.gamma[c],        d0.beta[c], affine};
      const T want = f(x.p[e]);
      if (!xt::same_bits(y.p[e], want))
        xf::fail(kName, "dice inference: y[%zu] = %a, the scalar dice_fixed %a (x %a)", e,
                 double(y.p[e]), double(want), double(x.p[e]));
    }
  }

  // Another alignment: every output, gradient and statistic bit for bit.
  Buf<T> x2(n, off2), dy2(n, off2), y2(n, off2), dx2(n, off2);
  std::copy(x.p, x.p + n, x2.p);
  std::copy(dy.p, dy.p + n, dy2.p);
  d2.forward(s.shape(last), x2.p, y2.p, mode);
  d2.backward(s.shape(last), x2.p, dy2.p, dx2.p, mode);
  same_or_fail("dice y at another offset", y.p, y2.p, n);
  same_or_fail("dice dx at another offset", dx.p, dx2.p, n);
  same_or_fail("dice grad_alpha at another offset", d1.grad_alpha.data(), d2.grad_alpha.data(),
               s.C);
  same_or_fail("dice grad_gamma at another offset", d1.grad_gamma.data(), d2.grad_gamma.data(),
               s.C);
  same_or_fail("dice grad_beta at another offset", d1.grad_beta.data(), d2.grad_beta.data(), s.C);
  same_or_fail("dice running_mean at another offset", d1.running_mean.data(),
               d2.running_mean.data(), s.C);
  same_or_fail("dice running_var at another offset", d1.running_var.data(), d2.running_var.data(),
               s.C);

  // The other layout: the elementwise outputs of inference bit for bit; training within the
  // bound (its statistics are sums, taken in another order).
  Buf<T> x3(n, off2), dy3(n, off2), y3(n, off2), dx3(n, off2);
  transpose(s, x.p, last, x3.p, !last);
  transpose(s, dy.p, last, dy3.p, !last);
  d3.forward(s.shape(!last), x3.p, y3.p, mode);
  d3.backward(s.shape(!last), x3.p, dy3.p, dx3.p, mode);
  if (!training) {
    same_transposed("dice inference y", s, y.p, last, y3.p, !last);
    same_transposed("dice inference dx", s, dx.p, last, dx3.p, !last);
  }
  check_dice_y(s, !last, d0, training, x3.p, y3.p);
}

template <class T>
void run(xf::Bytes& in, std::uint8_t kind) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  Shape s;
  s.N = in.u8() % 9;
  s.C = 1 + in.u8() % (3 * W + 2);
  const std::uint8_t ib = in.u8();
  s.I = (ib & 128) ? ib % 4 : ib % (6 * W + 4);  // short runs (tiles) or long runs with tails
  const std::uint8_t flags = in.u8();
  const bool last = flags & 1;
  const std::size_t off1 = in.u8() % (2 * W + 1), off2 = in.u8() % (2 * W + 1);
  static const T epss[4] = {T(1e-8), T(1e-5), T(1), T(1e-30)};
  const T eps = epss[in.u8() % 4];
  switch (kind % 3) {
    case 0:
      run_prelu<T>(in, s, last, off1, off2);
      break;
    case 1:
      run_dice<T>(in, s, last, off1, off2, false, flags & 2, eps);
      break;
    default:
      run_dice<T>(in, s, last, off1, off2, true, flags & 2, eps);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  xf::Bytes in{data, size};
  const std::uint8_t sel = in.u8();
  if (sel & 1)
    run<double>(in, sel >> 1);
  else
    run<float>(in, sel >> 1);
  return 0;
}
