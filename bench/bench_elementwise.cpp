// Elementwise activations, forward and backward: xact against the naive loop over the textbook
// formula, Eigen's own expression, oneDNN eltwise and XNNPACK (forward only), with the memcpy
// roof. Every implementation's output is checked once against a double-precision reference
// before it is timed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "baselines.hpp"
#include "common.hpp"
#include "eigen_core.hpp"
#include "xact/core/elementwise.hpp"
#include "xact/functions/relu.hpp"
#include "xact/functions/sigmoid.hpp"
#if __has_include("xact/functions/tanh.hpp") && !defined(XB_SKIP_XACT_TANH)
#include "xact/functions/tanh.hpp"
#define XB_HAVE_XACT_TANH 1
#endif
#if __has_include("xact/functions/softplus.hpp") && !defined(XB_SKIP_XACT_SOFTPLUS)
#include "xact/functions/softplus.hpp"
#define XB_HAVE_XACT_SOFTPLUS 1
#endif
#if __has_include("xact/functions/leaky_relu.hpp") && !defined(XB_SKIP_XACT_LEAKY_RELU)
#include "xact/functions/leaky_relu.hpp"
#define XB_HAVE_XACT_LEAKY_RELU 1
#endif
#if __has_include("xact/functions/swish.hpp") && !defined(XB_SKIP_XACT_SWISH)
#include "xact/functions/swish.hpp"
#define XB_HAVE_XACT_SWISH 1
#endif
#if __has_include("xact/functions/x_min_exp.hpp") && !defined(XB_SKIP_XACT_X_MIN_EXP)
#include "xact/functions/x_min_exp.hpp"
#define XB_HAVE_XACT_X_MIN_EXP 1
#endif

namespace xb {
namespace {

using EA = Eigen::Map<const Eigen::ArrayXf>;
using EM = Eigen::Map<Eigen::ArrayXf>;
using Eigen::Index;

// What a kernel gets: x, y = f(x) (precomputed), dy, the output, n, and a scratch buffer.
struct io {
  const float* x;
  const float* y;
  const float* dy;
  float* out;
  float* scratch;
  std::size_t n;
};
using maker = std::function<runner(const io&)>;

struct impl {
  const char* name;
  int reads;  // input tensors read (each n floats); 1 output written
  maker make;
};

struct function {
  std::string name;
  std::function<double(double)> f;           // reference forward
  std::function<double(double, double)> df;  // reference dx from (x, dy)
  std::vector<impl> fwd, bwd;
};

// Runs a plain loop over n elements; the compiler vectorizes what it can (-O3 -march=native).
template <class F>
runner loop_fwd(const io& a, F f) {
  return [a, f] {
    for (std::size_t i = 0; i < a.n; ++i) a.out[i] = f(a.x[i]);
  };
}
template <class F>
runner loop_bwd(const io& a, F f) {  // f(x, y, dy)
  return [a, f] {
    for (std::size_t i = 0; i < a.n; ++i) a.out[i] = f(a.x[i], a.y[i], a.dy[i]);
  };
}

template <class Op>
impl xact_fwd(Op op) {
  return {"xact", 1,
          [op](const io& a) -> runner { return [op, a] { xact::forward(op, a.x, a.out, a.n); }; }};
}
// xact::backward with both x and y available: it picks its most accurate source (x).
template <class Op>
impl xact_bwd_x(Op op) {
  return {"xact", 2, [op](const io& a) -> runner {
            return [op, a] { xact::backward_from_x(op, a.x, a.dy, a.out, a.n); };
          }};
}
template <class Op>
impl xact_bwd_y(Op op) {
  return {"xact_y", 2, [op](const io& a) -> runner {
            return [op, a] { xact::backward_from_y(op, a.y, a.dy, a.out, a.n); };
          }};
}

#ifdef XB_HAVE_DNNL
impl dnnl_fwd(dnnl::algorithm alg, float alpha = 0, float beta = 0) {
  return {"onednn", 1,
          [=](const io& a) { return dnnl_eltwise_fwd(alg, alpha, beta, a.x, a.out, a.n); }};
}
impl dnnl_bwd(dnnl::algorithm alg, float alpha = 0, float beta = 0) {
  return {"onednn", 2, [=](const io& a) {
            return dnnl_eltwise_bwd(alg, false, alpha, beta, a.x, a.dy, a.out, a.n);
          }};
}
impl dnnl_bwd_dst(dnnl::algorithm alg, float alpha = 0, float beta = 0) {
  return {"onednn_dst", 2, [=](const io& a) {
            return dnnl_eltwise_bwd(alg, true, alpha, beta, a.y, a.dy, a.out, a.n);
          }};
}
#endif

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

constexpr float kLeak = 0.01f;  // PyTorch's default negative slope

std::vector<function> functions() {
  std::vector<function> fs;

  // ---- sigmoid ----
  {
    function s{"sigmoid",
               ref_sigmoid,
               [](double x, double dy) {
                 const double v = ref_sigmoid(x);
                 return dy * v * (1 - v);
               },
               {},
               {}};
    s.fwd.push_back(xact_fwd(xact::sigmoid{}));
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] { EM(a.out, Index(a.n)) = EA(a.x, Index(a.n)).logistic(); };
                     }});
    s.bwd.push_back(xact_bwd_x(xact::sigmoid{}));
    s.bwd.push_back(xact_bwd_y(xact::sigmoid{}));
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(a,
                                       [](float, float y, float dy) { return dy * y * (1 - y); });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         const EA y(a.y, Index(a.n));
                         EM(a.out, Index(a.n)) = EA(a.dy, Index(a.n)) * y * (1 - y);
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_logistic));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_logistic));
    s.bwd.push_back(dnnl_bwd_dst(dnnl::algorithm::eltwise_logistic_use_dst_for_bwd));
#endif
#ifdef XB_HAVE_XNNPACK
    s.fwd.push_back({"xnnpack", 1, [](const io& a) {
                       return xnn_unary(
                           [](std::size_t c, xnn_operator_t* op) {
                             return xnn_create_sigmoid_nc_f32(c, c, c, 0, op);
                           },
                           xnn_setup_sigmoid_nc_f32, a.x, a.out, a.n);
                     }});
#endif
    fs.push_back(std::move(s));
  }

  // ---- relu ----
  {
    function s{"relu",
               [](double x) { return x > 0 ? x : 0.0; },
               [](double x, double dy) { return x > 0 ? dy : 0.0; },
               {},
               {}};
    s.fwd.push_back(xact_fwd(xact::relu{}));
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return x > 0 ? x : 0.0f; });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] { EM(a.out, Index(a.n)) = EA(a.x, Index(a.n)).max(0.0f); };
                     }});
    s.bwd.push_back(xact_bwd_x(xact::relu{}));
    s.bwd.push_back(xact_bwd_y(xact::relu{}));
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(a,
                                       [](float x, float, float dy) { return x > 0 ? dy : 0.0f; });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         EM(a.out, Index(a.n)) =
                             (EA(a.x, Index(a.n)) > 0.0f).select(EA(a.dy, Index(a.n)), 0.0f);
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_relu));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_relu));
    s.bwd.push_back(dnnl_bwd_dst(dnnl::algorithm::eltwise_relu_use_dst_for_bwd));
#endif
#ifdef XB_HAVE_XNNPACK
    s.fwd.push_back({"xnnpack", 1, [](const io& a) {
                       return xnn_unary(
                           [](std::size_t c, xnn_operator_t* op) {
                             return xnn_create_clamp_nc_f32(c, c, c, 0.0f, INFINITY, 0, op);
                           },
                           xnn_setup_clamp_nc_f32, a.x, a.out, a.n);
                     }});
#endif
    fs.push_back(std::move(s));
  }

  // ---- tanh ----
  {
    function s{"tanh",
               [](double x) { return std::tanh(x); },
               [](double x, double dy) {
                 const double t = std::tanh(x);
                 return dy * (1 - t * t);
               },
               {},
               {}};
#ifdef XB_HAVE_XACT_TANH
    s.fwd.push_back(xact_fwd(xact::tanh{}));
    s.bwd.push_back(xact_bwd_x(xact::tanh{}));
    s.bwd.push_back(xact_bwd_y(xact::tanh{}));
#endif
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return std::tanh(x); });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] { EM(a.out, Index(a.n)) = EA(a.x, Index(a.n)).tanh(); };
                     }});
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(a,
                                       [](float, float y, float dy) { return dy * (1 - y * y); });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         EM(a.out, Index(a.n)) =
                             EA(a.dy, Index(a.n)) * (1 - EA(a.y, Index(a.n)).square());
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_tanh));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_tanh));
    s.bwd.push_back(dnnl_bwd_dst(dnnl::algorithm::eltwise_tanh_use_dst_for_bwd));
#endif
    fs.push_back(std::move(s));
  }

  // ---- softplus (beta = 1, threshold 20 as in PyTorch; oneDNN 2.6's soft_relu has no beta) ----
  {
    function s{"softplus",
               [](double x) { return x > 20 ? x : std::log1p(std::exp(x)); },
               [](double x, double dy) { return dy * ref_sigmoid(x); },
               {},
               {}};
#ifdef XB_HAVE_XACT_SOFTPLUS
    s.fwd.push_back(xact_fwd(xact::softplus{}));
    s.bwd.push_back(xact_bwd_x(xact::softplus{}));
#endif
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(
                           a, [](float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] { EM(a.out, Index(a.n)) = EA(a.x, Index(a.n)).exp().log1p(); };
                     }});
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(
                           a, [](float x, float, float dy) { return dy / (1.0f + std::exp(-x)); });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         EM(a.out, Index(a.n)) =
                             EA(a.dy, Index(a.n)) * EA(a.x, Index(a.n)).logistic();
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_soft_relu));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_soft_relu));
#endif
    fs.push_back(std::move(s));
  }

  // ---- leaky_relu (slope 0.01) ----
  {
    function s{"leaky_relu",
               [](double x) { return x > 0 ? x : double(kLeak) * x; },
               [](double x, double dy) { return x > 0 ? dy : double(kLeak) * dy; },
               {},
               {}};
#ifdef XB_HAVE_XACT_LEAKY_RELU
    s.fwd.push_back(xact_fwd(xact::leaky_relu{kLeak}));
    s.bwd.push_back(xact_bwd_x(xact::leaky_relu{kLeak}));
    s.bwd.push_back(xact_bwd_y(xact::leaky_relu{kLeak}));
#endif
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return x > 0 ? x : kLeak * x; });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] {
                         const EA x(a.x, Index(a.n));
                         EM(a.out, Index(a.n)) = (x > 0.0f).select(x, kLeak * x);
                       };
                     }});
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(
                           a, [](float x, float, float dy) { return x > 0 ? dy : kLeak * dy; });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         const EA dy(a.dy, Index(a.n));
                         EM(a.out, Index(a.n)) =
                             (EA(a.x, Index(a.n)) > 0.0f).select(dy, kLeak * dy);
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_relu, kLeak));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_relu, kLeak));
    s.bwd.push_back(dnnl_bwd_dst(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, kLeak));
#endif
#ifdef XB_HAVE_XNNPACK
    s.fwd.push_back({"xnnpack", 1, [](const io& a) {
                       return xnn_unary(
                           [](std::size_t c, xnn_operator_t* op) {
                             return xnn_create_leaky_relu_nc_f32(c, c, c, kLeak, 0, op);
                           },
                           xnn_setup_leaky_relu_nc_f32, a.x, a.out, a.n);
                     }});
#endif
    fs.push_back(std::move(s));
  }

  // ---- swish (beta = 1, i.e. SiLU) ----
  {
    function s{"swish",
               [](double x) { return x * ref_sigmoid(x); },
               [](double x, double dy) {
                 const double v = ref_sigmoid(x);
                 return dy * (v + x * v * (1 - v));
               },
               {},
               {}};
#ifdef XB_HAVE_XACT_SWISH
    s.fwd.push_back(xact_fwd(xact::swish{}));
    s.bwd.push_back(xact_bwd_x(xact::swish{}));
#endif
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return x / (1.0f + std::exp(-x)); });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] {
                         const EA x(a.x, Index(a.n));
                         EM(a.out, Index(a.n)) = x * x.logistic();
                       };
                     }});
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(a, [](float x, float, float dy) {
                         const float v = 1.0f / (1.0f + std::exp(-x));
                         return dy * (v + x * v * (1 - v));
                       });
                     }});
    // A careful Eigen user keeps sigmoid(x) in a buffer allocated once, outside the loop.
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         const EA x(a.x, Index(a.n));
                         EM v(a.scratch, Index(a.n));
                         v = x.logistic();
                         EM(a.out, Index(a.n)) = EA(a.dy, Index(a.n)) * (v * (1 + x * (1 - v)));
                       };
                     }});
#ifdef XB_HAVE_DNNL
    s.fwd.push_back(dnnl_fwd(dnnl::algorithm::eltwise_swish, 1.0f));
    s.bwd.push_back(dnnl_bwd(dnnl::algorithm::eltwise_swish, 1.0f));
#endif
    fs.push_back(std::move(s));
  }

  // ---- x_min_exp: x * e^min(x, 0) (no oneDNN or XNNPACK equivalent) ----
  {
    function s{"x_min_exp",
               [](double x) { return x * std::exp(std::min(x, 0.0)); },
               [](double x, double dy) { return x < 0 ? dy * std::exp(x) * (1 + x) : dy; },
               {},
               {}};
#ifdef XB_HAVE_XACT_X_MIN_EXP
    s.fwd.push_back(xact_fwd(xact::x_min_exp{}));
    s.bwd.push_back(xact_bwd_x(xact::x_min_exp{}));
#endif
    s.fwd.push_back({"naive", 1, [](const io& a) {
                       return loop_fwd(a, [](float x) { return x * std::exp(std::min(x, 0.0f)); });
                     }});
    s.fwd.push_back({"eigen", 1, [](const io& a) -> runner {
                       return [a] {
                         const EA x(a.x, Index(a.n));
                         EM(a.out, Index(a.n)) = x * x.min(0.0f).exp();
                       };
                     }});
    s.bwd.push_back({"naive", 2, [](const io& a) {
                       return loop_bwd(a, [](float x, float, float dy) {
                         return x < 0 ? dy * std::exp(x) * (1 + x) : dy;
                       });
                     }});
    s.bwd.push_back({"eigen", 2, [](const io& a) -> runner {
                       return [a] {
                         const EA x(a.x, Index(a.n));
                         const EA dy(a.dy, Index(a.n));
                         EM(a.out, Index(a.n)) = (x < 0.0f).select(dy * x.exp() * (1 + x), dy);
                       };
                     }});
    fs.push_back(std::move(s));
  }
  return fs;
}

// y = f(x) for the whole input, computed once per function (backward-from-y kernels read it).
const float* input_y(const std::string& name, const std::function<double(double)>& f) {
  static std::map<std::string, buffer> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const std::size_t n = sizes().back();
    buffer b = alloc(n);
    const float* x = input_x();
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<float>(f(x[i]));
    it = cache.emplace(name, std::move(b)).first;
  }
  return it->second.get();
}

void run_one(benchmark::State& st, const function& fn, const impl& im, bool fwd, std::size_t n) {
  buffer out = alloc(n);
  buffer scratch = alloc(n);
  const io a{
      input_x(), fwd ? nullptr : input_y(fn.name, fn.f), input_dy(), out.get(), scratch.get(), n};
  runner run;
  try {
    run = im.make(a);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  run();
  const bool ok = fwd ? check(st, a.out, n, [&](std::size_t i) { return fn.f(a.x[i]); })
                      : check(st, a.out, n, [&](std::size_t i) { return fn.df(a.x[i], a.dy[i]); });
  if (!ok) return;
  timed(st, n, (static_cast<std::size_t>(im.reads) + 1) * n * sizeof(float), run);
}

}  // namespace

void register_elementwise() {
  static const std::vector<function> fs = functions();
  for (const std::size_t n : sizes()) register_roofs(n);
  for (const function& fn : fs) {
    for (int d = 0; d < 2; ++d) {
      const bool fwd = d == 0;
      for (const impl& im : fwd ? fn.fwd : fn.bwd) {
        for (const std::size_t n : sizes()) {
          benchmark::RegisterBenchmark(
              bench_name(fwd ? "fwd" : "bwd", fn.name, im.name, n).c_str(),
              [&fn, &im, fwd, n](benchmark::State& st) { run_one(st, fn, im, fwd, n); });
        }
      }
    }
  }
}

}  // namespace xb
