// Thin wrappers around the optional baselines: oneDNN (XB_HAVE_DNNL) and XNNPACK
// (XB_HAVE_XNNPACK). Everything that allocates or plans (primitive descriptors, operators) is
// created here, outside the timed loop; the returned callable only executes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#ifdef XB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef XB_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace xb {

using runner = std::function<void()>;

#ifdef XB_HAVE_DNNL
struct dnnl_ctx {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  static dnnl_ctx& get() {
    static dnnl_ctx c;
    return c;
  }
};

inline dnnl::memory dnnl_mem(const dnnl::memory::desc& md, const float* p) {
  return dnnl::memory(md, dnnl_ctx::get().eng, const_cast<float*>(p));
}

// A primitive with its arguments bound once.
inline runner dnnl_runner(dnnl::primitive prim, std::unordered_map<int, dnnl::memory> args) {
  auto state = std::make_shared<std::pair<dnnl::primitive, std::unordered_map<int, dnnl::memory>>>(
      std::move(prim), std::move(args));
  return [state] {
    state->first.execute(dnnl_ctx::get().strm, state->second);
    dnnl_ctx::get().strm.wait();
  };
}

inline dnnl::memory::desc dnnl_1d(std::size_t n) {
  return dnnl::memory::desc({static_cast<dnnl::memory::dim>(n)}, dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::a);
}

inline runner dnnl_eltwise_fwd(dnnl::algorithm alg, float alpha, float beta, const float* x,
                               float* y, std::size_t n) {
  const auto md = dnnl_1d(n);
  auto& c = dnnl_ctx::get();
  dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_training, alg, md, alpha, beta);
  dnnl::eltwise_forward::primitive_desc pd(d, c.eng);
  return dnnl_runner(dnnl::eltwise_forward(pd),
                     {{DNNL_ARG_SRC, dnnl_mem(md, x)}, {DNNL_ARG_DST, dnnl_mem(md, y)}});
}

// data is x for the plain algorithms, y for the *_use_dst_for_bwd ones.
inline runner dnnl_eltwise_bwd(dnnl::algorithm alg, bool use_dst, float alpha, float beta,
                               const float* data, const float* dy, float* dx, std::size_t n) {
  const auto md = dnnl_1d(n);
  auto& c = dnnl_ctx::get();
  dnnl::eltwise_forward::desc fd(dnnl::prop_kind::forward_training, alg, md, alpha, beta);
  dnnl::eltwise_forward::primitive_desc fpd(fd, c.eng);
  dnnl::eltwise_backward::desc bd(alg, md, md, alpha, beta);
  dnnl::eltwise_backward::primitive_desc bpd(bd, c.eng, fpd);
  return dnnl_runner(dnnl::eltwise_backward(bpd),
                     {{use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, dnnl_mem(md, data)},
                      {DNNL_ARG_DIFF_DST, dnnl_mem(md, dy)},
                      {DNNL_ARG_DIFF_SRC, dnnl_mem(md, dx)}});
}
#endif

#ifdef XB_HAVE_XNNPACK
inline void xnn_check(xnn_status s, const char* what) {
  if (s != xnn_status_success)
    throw std::runtime_error(std::string("XNNPACK: ") + what + " failed (" +
                             std::to_string(static_cast<int>(s)) + ")");
}

inline void xnn_init_once() {
  static const bool ok = [] {
    xnn_check(xnn_initialize(nullptr), "xnn_initialize");
    return true;
  }();
  (void)ok;
}

// An operator already set up for fixed buffers; runs on the calling thread (no threadpool).
inline runner xnn_runner(xnn_operator_t op) {
  std::shared_ptr<xnn_operator> h(op, [](xnn_operator_t o) { xnn_delete_operator(o); });
  return [h] { xnn_run_operator(h.get(), nullptr); };
}

// The elementwise "nc" operators, over one contiguous row of n channels.
template <class Create, class Setup>
runner xnn_unary(Create&& create, Setup&& setup, const float* x, float* y, std::size_t n) {
  xnn_init_once();
  xnn_operator_t op = nullptr;
  xnn_check(create(n, &op), "create");
  xnn_check(setup(op, std::size_t(1), x, y, nullptr), "setup");
  return xnn_runner(op);
}
#endif

}  // namespace xb
