// Channelwise activations: PReLU (one learnable slope per channel) and Dice (training mode:
// batch statistics per feature), forward and backward.
//   prelu_nc     [n/32, 32] channels last: xact, naive, oneDNN, XNNPACK (forward only)
//   prelu_nchw   [4, 32, n/128] channels first: xact, naive, oneDNN
//   dice         [n/64, 64] (batch x features), training mode: xact vs the Eigen composition
//                (batch mean, biased variance, sigmoid gate; backward through the statistics)
// Backward of PReLU writes dx and the per-channel d(alpha); bytes count x, dy and dx.
#include <algorithm>
#include <cmath>
#include <vector>

#include "baselines.hpp"
#include "common.hpp"
#include "eigen_core.hpp"
#if __has_include("xact/functions/prelu.hpp") && !defined(XB_SKIP_XACT_PRELU)
#include "xact/functions/prelu.hpp"
#define XB_HAVE_XACT_PRELU 1
#endif
#if __has_include("xact/functions/dice.hpp") && !defined(XB_SKIP_XACT_DICE)
#include "xact/functions/dice.hpp"
#define XB_HAVE_XACT_DICE 1
#endif

namespace xb {
namespace {

constexpr std::size_t kC = 32;     // PReLU channels
constexpr std::size_t kFeat = 64;  // Dice features
constexpr float kEps = 1e-8f;      // Dice's epsilon (DIN's)

struct pshape {
  bool last;  // channels last [N, C] or first [4, C, inner]
  std::size_t n;
  std::size_t batch() const { return last ? n / kC : 4; }
  std::size_t inner() const { return last ? 1 : n / (4 * kC); }
  std::size_t channel(std::size_t i) const { return last ? i % kC : (i / inner()) % kC; }
};

const std::vector<float>& alphas() {
  static const std::vector<float> a = [] {
    std::vector<float> v(kC);
    for (std::size_t c = 0; c < kC; ++c) v[c] = 0.05f + 0.01f * float(c);
    return v;
  }();
  return a;
}

struct pio {
  const float* x;
  const float* dy;
  float* out;
  float* dalpha;
  pshape s;
};
using pmaker = std::function<runner(const pio&)>;
struct pimpl {
  const char* name;
  int reads;
  pmaker make;
};

std::vector<pimpl> prelu_impls(bool fwd, bool last) {
  std::vector<pimpl> v;
  const float* al = alphas().data();
#ifdef XB_HAVE_XACT_PRELU
  auto xshape = [](const pshape& s) {
    return xact::channel_shape{s.batch(), kC, s.inner(),
                               s.last ? xact::layout::channels_last : xact::layout::channels_first};
  };
  if (fwd)
    v.push_back({"xact", 1, [=](const pio& a) -> runner {
                   const auto sh = xshape(a.s);
                   return [=] { xact::prelu_forward(sh, al, a.x, a.out); };
                 }});
  else
    v.push_back({"xact", 2, [=](const pio& a) -> runner {
                   const auto sh = xshape(a.s);
                   return [=] { xact::prelu_backward(sh, al, a.x, a.dy, a.out, a.dalpha); };
                 }});
#endif
  if (fwd)
    v.push_back({"naive", 1, [=](const pio& a) -> runner {
                   return [=] {
                     const std::size_t N = a.s.batch(), I = a.s.inner();
                     std::size_t i = 0;
                     for (std::size_t b = 0; b < N; ++b)
                       for (std::size_t c = 0; c < kC; ++c)
                         if (a.s.last) {
                           const float x = a.x[b * kC + c];
                           a.out[b * kC + c] = x > 0 ? x : al[c] * x;
                         } else {
                           for (std::size_t k = 0; k < I; ++k, ++i)
                             a.out[i] = a.x[i] > 0 ? a.x[i] : al[c] * a.x[i];
                         }
                   };
                 }});
  else
    v.push_back({"naive", 2, [=](const pio& a) -> runner {
                   return [=] {
                     const std::size_t N = a.s.batch(), I = a.s.inner();
                     std::fill(a.dalpha, a.dalpha + kC, 0.0f);
                     std::size_t i = 0;
                     for (std::size_t b = 0; b < N; ++b)
                       for (std::size_t c = 0; c < kC; ++c)
                         for (std::size_t k = 0; k < I; ++k, ++i) {
                           const float x = a.x[i], dy = a.dy[i];
                           a.out[i] = x > 0 ? dy : al[c] * dy;
                           a.dalpha[c] += x > 0 ? 0.0f : x * dy;
                         }
                   };
                 }});
#ifdef XB_HAVE_DNNL
  v.push_back({"onednn", fwd ? 1 : 2, [=](const pio& a) -> runner {
                 using dt = dnnl::memory::data_type;
                 using tag = dnnl::memory::format_tag;
                 auto& c = dnnl_ctx::get();
                 dnnl::memory::desc md, wd;
                 if (a.s.last) {
                   md = dnnl::memory::desc({dnnl::memory::dim(a.s.batch()), dnnl::memory::dim(kC)},
                                           dt::f32, tag::ab);
                   wd = dnnl::memory::desc({1, dnnl::memory::dim(kC)}, dt::f32, tag::ab);
                 } else {
                   md = dnnl::memory::desc({dnnl::memory::dim(a.s.batch()), dnnl::memory::dim(kC),
                                            dnnl::memory::dim(a.s.inner())},
                                           dt::f32, tag::abc);
                   wd = dnnl::memory::desc({1, dnnl::memory::dim(kC), 1}, dt::f32, tag::abc);
                 }
                 dnnl::prelu_forward::desc fd(dnnl::prop_kind::forward_training, md, wd);
                 dnnl::prelu_forward::primitive_desc fpd(fd, c.eng);
                 if (fwd)
                   return dnnl_runner(dnnl::prelu_forward(fpd),
                                      {{DNNL_ARG_SRC, dnnl_mem(md, a.x)},
                                       {DNNL_ARG_WEIGHTS, dnnl_mem(wd, al)},
                                       {DNNL_ARG_DST, dnnl_mem(md, a.out)}});
                 dnnl::prelu_backward::desc bd(md, wd, md, wd);
                 dnnl::prelu_backward::primitive_desc bpd(bd, c.eng, fpd);
                 return dnnl_runner(dnnl::prelu_backward(bpd),
                                    {{DNNL_ARG_SRC, dnnl_mem(md, a.x)},
                                     {DNNL_ARG_WEIGHTS, dnnl_mem(wd, al)},
                                     {DNNL_ARG_DIFF_DST, dnnl_mem(md, a.dy)},
                                     {DNNL_ARG_DIFF_SRC, dnnl_mem(md, a.out)},
                                     {DNNL_ARG_DIFF_WEIGHTS, dnnl_mem(wd, a.dalpha)}});
               }});
#endif
#ifdef XB_HAVE_XNNPACK
  if (fwd && last)
    v.push_back({"xnnpack", 1, [=](const pio& a) -> runner {
                   xnn_init_once();
                   xnn_operator_t op = nullptr;
                   xnn_check(xnn_create_prelu_nc_f32(kC, kC, kC, al, 0, &op), "create prelu");
                   xnn_check(xnn_setup_prelu_nc_f32(op, a.s.batch(), a.x, a.out, nullptr),
                             "setup prelu");
                   return xnn_runner(op);
                 }});
#endif
  return v;
}

void run_prelu(benchmark::State& st, const pshape& s, const pimpl& im, bool fwd) {
  buffer out = alloc(s.n);
  buffer da = alloc(kC);
  const pio a{input_x(), input_dy(), out.get(), da.get(), s};
  runner run;
  try {
    run = im.make(a);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  run();
  const float* al = alphas().data();
  const bool ok = check(st, a.out, s.n, [&](std::size_t i) {
    const double x = a.x[i], c = al[s.channel(i)];
    if (fwd) return x > 0 ? x : c * x;
    return x > 0 ? double(a.dy[i]) : c * a.dy[i];
  });
  if (!ok) return;
  timed(st, s.n, (static_cast<std::size_t>(im.reads) + 1) * s.n * sizeof(float), run);
}

// ---- Dice, training mode, [N, F] ------------------------------------------------------------

using RowMajor = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = Eigen::Array<float, 1, Eigen::Dynamic>;

// What a careful Eigen user writes: statistics, gate, output; temporaries allocated once.
struct dice_eigen {
  Eigen::Index N, F;
  Row alpha, mean, rstd, gm, gxm, dalpha;
  RowMajor xh, p, gz;
  dice_eigen(std::size_t n, std::size_t f)
      : N(Eigen::Index(n)),
        F(Eigen::Index(f)),
        alpha(Row::Constant(F, 0.25f)),
        mean(F),
        rstd(F),
        gm(F),
        gxm(F),
        dalpha(F),
        xh(N, F),
        p(N, F),
        gz(N, F) {}
  void forward(const float* xp, float* yp) {
    const Eigen::Map<const RowMajor> x(xp, N, F);
    mean = x.colwise().mean();
    xh = x.rowwise() - mean;
    rstd = ((xh.square().colwise().mean()) + kEps).rsqrt();
    xh.rowwise() *= rstd;
    p = xh.logistic();
    Eigen::Map<RowMajor>(yp, N, F) = x * ((p.rowwise() * (1 - alpha)).rowwise() + alpha);
  }
  // Reads x and dy, and mean/rstd saved by forward (as xact's does).
  void backward(const float* xp, const float* dyp, float* dxp) {
    const Eigen::Map<const RowMajor> x(xp, N, F), dy(dyp, N, F);
    xh = (x.rowwise() - mean).rowwise() * rstd;
    p = xh.logistic();
    gz = (dy * x * p * (1 - p)).rowwise() * (1 - alpha);
    dalpha = (dy * x * (1 - p)).colwise().sum();
    gm = gz.colwise().mean();
    gxm = (gz * xh).colwise().mean();
    Eigen::Map<RowMajor>(dxp, N, F) = dy * ((p.rowwise() * (1 - alpha)).rowwise() + alpha) +
                                      ((gz.rowwise() - gm) - xh.rowwise() * gxm).rowwise() * rstd;
  }
};

// Double-precision reference of forward (fwd) or dx, for the check.
std::vector<double> dice_reference(const float* x, const float* dy, std::size_t N, bool fwd) {
  const std::size_t F = kFeat;
  std::vector<double> out(N * F);
  for (std::size_t f = 0; f < F; ++f) {
    double m = 0, v = 0;
    for (std::size_t b = 0; b < N; ++b) m += x[b * F + f];
    m /= double(N);
    for (std::size_t b = 0; b < N; ++b) v += (x[b * F + f] - m) * (x[b * F + f] - m);
    v /= double(N);
    const double r = 1 / std::sqrt(v + double(kEps)), al = 0.25;
    double gm = 0, gxm = 0;
    for (std::size_t b = 0; b < N; ++b) {
      const double xi = x[b * F + f], xh = (xi - m) * r, p = 1 / (1 + std::exp(-xh));
      const double gz = dy[b * F + f] * xi * (1 - al) * p * (1 - p);
      gm += gz;
      gxm += gz * xh;
      out[b * F + f] = fwd ? xi * (al + (1 - al) * p) : dy[b * F + f] * (al + (1 - al) * p);
    }
    gm /= double(N);
    gxm /= double(N);
    if (!fwd)
      for (std::size_t b = 0; b < N; ++b) {
        const double xi = x[b * F + f], xh = (xi - m) * r, p = 1 / (1 + std::exp(-xh));
        const double gz = dy[b * F + f] * xi * (1 - al) * p * (1 - p);
        out[b * F + f] += r * (gz - gm - xh * gxm);
      }
  }
  return out;
}

void run_dice(benchmark::State& st, std::size_t n, bool xact_impl, bool fwd) {
  const std::size_t N = n / kFeat;
  buffer y = alloc(n), dx = alloc(n);
  const float* x = input_x();
  const float* dy = input_dy();
  runner run;
  if (xact_impl) {
#ifdef XB_HAVE_XACT_DICE
    auto d = std::make_shared<xact::dice<float>>(kFeat);
    std::fill(d->alpha.begin(), d->alpha.end(), 0.25f);
    const xact::channel_shape sh{N, kFeat, 1, xact::layout::channels_last};
    d->forward(sh, x, y.get(), xact::dice_mode::training);
    float* out = fwd ? y.get() : dx.get();
    run = fwd ? runner([d, sh, x, out] { d->forward(sh, x, out, xact::dice_mode::training); })
              : runner([d, sh, x, dy, out] {
                  d->backward(sh, x, dy, out, xact::dice_mode::training);
                });
#endif
  } else {
    auto e = std::make_shared<dice_eigen>(N, kFeat);
    e->forward(x, y.get());
    float* out = fwd ? y.get() : dx.get();
    run = fwd ? runner([e, x, out] { e->forward(x, out); })
              : runner([e, x, dy, out] { e->backward(x, dy, out); });
  }
  run();
  const std::vector<double> want = dice_reference(x, dy, N, fwd);
  const float* got = fwd ? y.get() : dx.get();
  if (!check(
          st, got, n, [&](std::size_t i) { return want[i]; }, 1e-4, 1e-4))
    return;
  // Forward reads x twice (statistics, then the gate) and writes y; backward reads x and dy
  // (at least twice for the gradient statistics) and writes dx. Counted: the minimum, one pass.
  timed(st, n, (fwd ? 2 : 3) * n * sizeof(float), run);
}

}  // namespace

void register_channelwise() {
  static std::vector<pshape> shapes;
  static std::vector<std::vector<pimpl>> impls;
  static std::vector<bool> dirs;
  for (const std::size_t n : sizes())
    for (bool last : {true, false})
      for (bool fwd : {true, false}) {
        shapes.push_back({last, n});
        impls.push_back(prelu_impls(fwd, last));
        dirs.push_back(fwd);
      }
  for (std::size_t j = 0; j < shapes.size(); ++j) {
    const pshape* s = &shapes[j];
    const bool fwd = dirs[j];
    register_roofs(s->n);
    for (const pimpl& im : impls[j])
      benchmark::RegisterBenchmark(
          bench_name(fwd ? "fwd" : "bwd", s->last ? "prelu_nc" : "prelu_nchw", im.name, s->n)
              .c_str(),
          [s, &im, fwd](benchmark::State& st) { run_prelu(st, *s, im, fwd); });
  }
  for (bool fwd : {true, false})
    for (bool xi : {
#ifdef XB_HAVE_XACT_DICE
             true,
#endif
             false})
      for (const std::size_t n : sizes())
        benchmark::RegisterBenchmark(
            bench_name(fwd ? "fwd" : "bwd", "dice", xi ? "xact" : "eigen", n).c_str(),
            [n, xi, fwd](benchmark::State& st) { run_dice(st, n, xi, fwd); });
}

}  // namespace xb
