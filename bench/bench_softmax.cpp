// Softmax along one axis of [outer, axis, inner], forward and backward: xact against three-pass
// loops (naive), Eigen's three-pass array expression, oneDNN softmax and XNNPACK softmax (last
// axis, forward only).
//   softmax_<L>       the last axis: 256 rows of L floats ([256, L])
//   softmax_<L>_mid   a middle axis: [8, L, 32] along L (each of the 256 "rows" strided by 32)
// for L = 1024 and 32768 (256K and 8M floats).
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "baselines.hpp"
#include "common.hpp"
#include "eigen_core.hpp"
#if __has_include("xact/functions/softmax.hpp") && !defined(XB_SKIP_XACT_SOFTMAX)
#include "xact/functions/softmax.hpp"
#define XB_HAVE_XACT_SOFTMAX 1
#endif

namespace xb {
namespace {

struct shape {
  std::size_t outer, axis, inner;
  std::size_t size() const { return outer * axis * inner; }
  std::string name() const {
    return "softmax_" + std::to_string(axis) + (inner == 1 ? "" : "_mid");
  }
};

struct io {
  const float* x;
  const float* y;  // softmax(x), for backward
  const float* dy;
  float* out;
  float* scratch;
  shape s;
};
using maker = std::function<runner(const io&)>;
struct impl {
  const char* name;
  int reads;
  maker make;
};

using RowMajor = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using EA = Eigen::Map<const RowMajor>;
using EM = Eigen::Map<RowMajor>;
using Eigen::Index;

// The reference (double) for row (o, i): y and the backward dx, for the check.
void ref_row(const io& a, std::size_t o, std::size_t i, std::vector<double>& y,
             std::vector<double>& dx) {
  const shape& s = a.s;
  const std::size_t base = o * s.axis * s.inner + i;
  double m = -INFINITY;
  for (std::size_t k = 0; k < s.axis; ++k) m = std::max(m, double(a.x[base + k * s.inner]));
  double sum = 0;
  y.assign(s.axis, 0.0);
  for (std::size_t k = 0; k < s.axis; ++k) sum += y[k] = std::exp(a.x[base + k * s.inner] - m);
  double dot = 0;
  for (std::size_t k = 0; k < s.axis; ++k) {
    y[k] /= sum;
    dot += double(a.dy[base + k * s.inner]) * double(a.y[base + k * s.inner]);
  }
  dx.assign(s.axis, 0.0);
  for (std::size_t k = 0; k < s.axis; ++k)
    dx[k] = double(a.y[base + k * s.inner]) * (double(a.dy[base + k * s.inner]) - dot);
}

bool check_softmax(benchmark::State& st, const io& a, bool fwd) {
  const shape& s = a.s;
  std::vector<double> y, dx;
  const std::size_t rows = s.outer * s.inner;
  for (std::size_t r = 0; r < rows; r += rows / 8 + 1) {
    const std::size_t o = r / s.inner, i = r % s.inner;
    ref_row(a, o, i, y, dx);
    const std::vector<double>& want = fwd ? y : dx;
    const std::size_t base = o * s.axis * s.inner + i;
    for (std::size_t k = 0; k < s.axis; ++k) {
      const double g = a.out[base + k * s.inner], w = want[k];
      if (!(std::fabs(g - w) <= 1e-4 * std::fabs(w) + 1e-7)) {
        st.SkipWithError(("wrong softmax output at row " + std::to_string(r) +
                          ", k=" + std::to_string(k) + ": got " + std::to_string(g) + ", want " +
                          std::to_string(w))
                             .c_str());
        return false;
      }
    }
  }
  return true;
}

std::vector<impl> forward_impls(const shape& s) {
  std::vector<impl> v;
#ifdef XB_HAVE_XACT_SOFTMAX
  v.push_back({"xact", 1, [](const io& a) -> runner {
                 return [a] { xact::softmax_forward(a.x, a.out, a.s.outer, a.s.axis, a.s.inner); };
               }});
#endif
  v.push_back({"naive", 1, [](const io& a) -> runner {
                 return [a] {
                   const shape& s = a.s;
                   for (std::size_t o = 0; o < s.outer; ++o)
                     for (std::size_t i = 0; i < s.inner; ++i) {
                       const float* x = a.x + o * s.axis * s.inner + i;
                       float* y = a.out + o * s.axis * s.inner + i;
                       float m = -INFINITY;
                       for (std::size_t k = 0; k < s.axis; ++k) m = std::max(m, x[k * s.inner]);
                       float sum = 0;
                       for (std::size_t k = 0; k < s.axis; ++k)
                         sum += y[k * s.inner] = std::exp(x[k * s.inner] - m);
                       for (std::size_t k = 0; k < s.axis; ++k) y[k * s.inner] /= sum;
                     }
                 };
               }});
  v.push_back({"eigen", 1, [](const io& a) -> runner {
                 return [a] {
                   const shape& s = a.s;
                   for (std::size_t o = 0; o < s.outer; ++o) {
                     const std::size_t off = o * s.axis * s.inner;
                     if (s.inner == 1) {  // rows of the [outer, axis] matrix
                       const EA x(a.x, Index(s.outer), Index(s.axis));
                       EM y(a.out, Index(s.outer), Index(s.axis));
                       y = (x.colwise() - x.rowwise().maxCoeff()).exp();
                       y.colwise() /= y.rowwise().sum();
                       return;
                     }
                     const EA x(a.x + off, Index(s.axis), Index(s.inner));
                     EM y(a.out + off, Index(s.axis), Index(s.inner));
                     y = (x.rowwise() - x.colwise().maxCoeff()).exp();
                     y.rowwise() /= y.colwise().sum();
                   }
                 };
               }});
#ifdef XB_HAVE_DNNL
  v.push_back(
      {"onednn", 1, [](const io& a) -> runner {
         const shape& s = a.s;
         const dnnl::memory::desc md(
             {dnnl::memory::dim(s.outer), dnnl::memory::dim(s.axis), dnnl::memory::dim(s.inner)},
             dnnl::memory::data_type::f32, dnnl::memory::format_tag::abc);
         dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_training, md, 1);
         dnnl::softmax_forward::primitive_desc pd(d, dnnl_ctx::get().eng);
         return dnnl_runner(dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, dnnl_mem(md, a.x)},
                                                        {DNNL_ARG_DST, dnnl_mem(md, a.out)}});
       }});
#endif
#ifdef XB_HAVE_XNNPACK
  if (s.inner == 1)
    v.push_back({"xnnpack", 1, [](const io& a) -> runner {
                   xnn_init_once();
                   xnn_operator_t op = nullptr;
                   const std::size_t L = a.s.axis;
                   xnn_check(xnn_create_softmax_nc_f32(L, L, L, 0, &op), "create softmax");
                   xnn_check(xnn_setup_softmax_nc_f32(op, a.s.outer, a.x, a.out, nullptr),
                             "setup softmax");
                   return xnn_runner(op);
                 }});
#endif
  return v;
}

std::vector<impl> backward_impls(const shape&) {
  std::vector<impl> v;
#ifdef XB_HAVE_XACT_SOFTMAX
  v.push_back({"xact", 2, [](const io& a) -> runner {
                 return [a] {
                   xact::softmax_backward(a.y, a.dy, a.out, a.s.outer, a.s.axis, a.s.inner);
                 };
               }});
#endif
  v.push_back({"naive", 2, [](const io& a) -> runner {
                 return [a] {
                   const shape& s = a.s;
                   for (std::size_t o = 0; o < s.outer; ++o)
                     for (std::size_t i = 0; i < s.inner; ++i) {
                       const std::size_t off = o * s.axis * s.inner + i;
                       float dot = 0;
                       for (std::size_t k = 0; k < s.axis; ++k)
                         dot += a.dy[off + k * s.inner] * a.y[off + k * s.inner];
                       for (std::size_t k = 0; k < s.axis; ++k)
                         a.out[off + k * s.inner] =
                             a.y[off + k * s.inner] * (a.dy[off + k * s.inner] - dot);
                     }
                 };
               }});
  v.push_back({"eigen", 2, [](const io& a) -> runner {
                 return [a] {
                   const shape& s = a.s;
                   if (s.inner == 1) {
                     const EA y(a.y, Index(s.outer), Index(s.axis));
                     const EA dy(a.dy, Index(s.outer), Index(s.axis));
                     EM(a.out, Index(s.outer), Index(s.axis)) =
                         y * (dy.colwise() - (dy * y).rowwise().sum());
                     return;
                   }
                   for (std::size_t o = 0; o < s.outer; ++o) {
                     const std::size_t off = o * s.axis * s.inner;
                     const EA y(a.y + off, Index(s.axis), Index(s.inner));
                     const EA dy(a.dy + off, Index(s.axis), Index(s.inner));
                     EM(a.out + off, Index(s.axis), Index(s.inner)) =
                         y * (dy.rowwise() - (dy * y).colwise().sum());
                   }
                 };
               }});
#ifdef XB_HAVE_DNNL
  v.push_back({"onednn", 2, [](const io& a) -> runner {
                 const shape& s = a.s;
                 const dnnl::memory::desc md({dnnl::memory::dim(s.outer), dnnl::memory::dim(s.axis),
                                              dnnl::memory::dim(s.inner)},
                                             dnnl::memory::data_type::f32,
                                             dnnl::memory::format_tag::abc);
                 auto& c = dnnl_ctx::get();
                 dnnl::softmax_forward::desc fd(dnnl::prop_kind::forward_training, md, 1);
                 dnnl::softmax_forward::primitive_desc fpd(fd, c.eng);
                 dnnl::softmax_backward::desc bd(md, md, 1);
                 dnnl::softmax_backward::primitive_desc bpd(bd, c.eng, fpd);
                 return dnnl_runner(dnnl::softmax_backward(bpd),
                                    {{DNNL_ARG_DST, dnnl_mem(md, a.y)},
                                     {DNNL_ARG_DIFF_DST, dnnl_mem(md, a.dy)},
                                     {DNNL_ARG_DIFF_SRC, dnnl_mem(md, a.out)}});
               }});
#endif
  return v;
}

// softmax(x) in double, rounded, once per shape.
const float* softmax_y(const shape& s) {
  static std::map<std::string, buffer> cache;
  auto it = cache.find(s.name());
  if (it != cache.end()) return it->second.get();
  buffer b = alloc(s.size());
  const float* x = input_x();
  for (std::size_t o = 0; o < s.outer; ++o)
    for (std::size_t i = 0; i < s.inner; ++i) {
      const std::size_t off = o * s.axis * s.inner + i;
      double m = -INFINITY, sum = 0;
      for (std::size_t k = 0; k < s.axis; ++k) m = std::max(m, double(x[off + k * s.inner]));
      for (std::size_t k = 0; k < s.axis; ++k) sum += std::exp(x[off + k * s.inner] - m);
      for (std::size_t k = 0; k < s.axis; ++k)
        b[off + k * s.inner] = float(std::exp(x[off + k * s.inner] - m) / sum);
    }
  return cache.emplace(s.name(), std::move(b)).first->second.get();
}

void run_one(benchmark::State& st, const shape& s, const impl& im, bool fwd) {
  const std::size_t n = s.size();
  buffer out = alloc(n);
  buffer scratch = alloc(n);
  const io a{input_x(), softmax_y(s), input_dy(), out.get(), scratch.get(), s};
  runner run;
  try {
    run = im.make(a);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  run();
  if (!check_softmax(st, a, fwd)) return;
  timed(st, n, (static_cast<std::size_t>(im.reads) + 1) * n * sizeof(float), run);
}

}  // namespace

void register_softmax() {
  static std::vector<shape> shapes;
  static std::vector<std::vector<impl>> fwd, bwd;
  for (std::size_t L : {std::size_t(1024), std::size_t(32768)}) {
    shapes.push_back({256, L, 1});
    shapes.push_back({8, L, 32});
  }
  for (const shape& s : shapes) {
    fwd.push_back(forward_impls(s));
    bwd.push_back(backward_impls(s));
  }
  for (std::size_t j = 0; j < shapes.size(); ++j) {
    const shape* s = &shapes[j];
    register_roofs(s->size());
    for (const impl& im : fwd[j])
      benchmark::RegisterBenchmark(bench_name("fwd", s->name(), im.name, s->size()).c_str(),
                                   [s, &im](benchmark::State& st) { run_one(st, *s, im, true); });
    for (const impl& im : bwd[j])
      benchmark::RegisterBenchmark(bench_name("bwd", s->name(), im.name, s->size()).c_str(),
                                   [s, &im](benchmark::State& st) { run_one(st, *s, im, false); });
  }
}

}  // namespace xb
