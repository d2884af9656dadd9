// Why a network needs a non-linearity, and how the activations compare.
//
// A small MLP (2 inputs, 16 hidden units, 1 output with a sigmoid and the cross-entropy loss) is
// trained with xact's forward and backward on two problems no straight line can separate: XOR
// (4 points) and two interleaved half-moons (200 noisy points), once with each activation and
// once with none (identity). Without an activation the network is a linear function of its
// input whatever its depth: on XOR it ends at a coin flip (probability 0.5 everywhere, loss
// ln 2), on the moons at a straight cut through them.
//
// Everything is seeded: std::mt19937 is specified bit for bit by the C++ standard, the
// standard distributions are not (they differ between standard libraries), so the few
// distributions used are written here. Same seed, same weights, same output.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>
#include <xact/functions/leaky_relu.hpp>
#include <xact/functions/prelu.hpp>
#include <xact/functions/softplus.hpp>
#include <xact/functions/swish.hpp>
#include <xact/functions/tanh.hpp>
#include <xact/functions/x_min_exp.hpp>
#include <xact/xact.hpp>

namespace {

struct rng {
  std::mt19937 g;
  explicit rng(unsigned seed) : g(seed) {}
  float uniform() { return float(g() >> 8) * 0x1p-24f; }  // [0, 1), 24 random bits
  float symmetric() { return 2.f * uniform() - 1.f; }     // [-1, 1)
  float gaussian() {  // Irwin-Hall: 12 uniforms minus 6 has mean 0 and variance 1
    float s = 0.f;
    for (int i = 0; i < 12; ++i) s += uniform();
    return s - 6.f;
  }
};

struct dataset {
  const char* name;
  std::vector<float> x;  // n rows of 2
  std::vector<float> t;  // n labels, 0 or 1
  std::size_t size() const { return t.size(); }
};

dataset make_xor() { return {"XOR (4 points)", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 1, 0}}; }

// Two half circles: the upper one (label 0) centred at (0, 0), the lower one (label 1) at
// (1, 0.5), each point moved by gaussian noise; then centred on the origin.
dataset make_moons(std::size_t n, float noise, unsigned seed) {
  rng r(seed);
  dataset d{"two moons (200 points)", {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    const bool upper = i % 2 == 0;
    const double a = M_PI * r.uniform();
    const float px = upper ? float(std::cos(a)) : float(1 - std::cos(a));
    const float py = upper ? float(std::sin(a)) : float(0.5 - std::sin(a));
    d.x.push_back(px + noise * r.gaussian() - 0.5f);
    d.x.push_back(py + noise * r.gaussian() - 0.25f);
    d.t.push_back(upper ? 0.f : 1.f);
  }
  return d;
}

// No activation at all: the network stays linear.
struct identity {
  template <class V>
  V forward(const V& x) const noexcept {
    return x;
  }
  template <class V>
  V backward_from_x(const V& /*x*/, const V& dy) const noexcept {
    return dy;
  }
};

constexpr std::size_t hidden = 16;
constexpr int steps = 1000;
constexpr int report[] = {0, 100, 300, steps - 1};

struct result {
  double loss[4];
  double accuracy;
};

// Full-batch training with Adam. Parameters in one vector: w1 (2 x hidden), b1, w2, b2.
template <class Act>
result train(const dataset& d, const Act& act) {
  const std::size_t n = d.size(), h = hidden;
  const std::size_t nw1 = 2 * h, nb1 = h, nw2 = h, np = nw1 + nb1 + nw2 + 1;
  std::vector<float> p(np, 0.f), g(np), m(np, 0.f), v(np, 0.f);
  float *w1 = p.data(), *b1 = w1 + nw1, *w2 = b1 + nb1, *b2 = w2 + nw2;
  float *gw1 = g.data(), *gb1 = gw1 + nw1, *gw2 = gb1 + nb1, *gb2 = gw2 + nw2;
  rng r(42);  // the same initial weights for every activation (Glorot uniform)
  for (std::size_t j = 0; j < nw1; ++j) w1[j] = r.symmetric() * std::sqrt(6.f / (2 + h));
  for (std::size_t j = 0; j < nw2; ++j) w2[j] = r.symmetric() * std::sqrt(6.f / (h + 1));

  std::vector<float> z1(n * h), a1(n * h), da1(n * h), dz1(n * h), z2(n), y(n), dz2(n);
  result res{};
  const float lr = 0.02f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float b1t = 1.f, b2t = 1.f;
  for (int step = 0; step < steps; ++step) {
    // Forward: z1 = x w1 + b1, a1 = act(z1), z2 = a1 w2 + b2, y = sigmoid(z2).
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < h; ++j)
        z1[i * h + j] = b1[j] + d.x[2 * i] * w1[j] + d.x[2 * i + 1] * w1[h + j];
    xact::forward(act, z1, a1);
    for (std::size_t i = 0; i < n; ++i) {
      float s = b2[0];
      for (std::size_t j = 0; j < h; ++j) s += a1[i * h + j] * w2[j];
      z2[i] = s;
    }
    xact::forward(xact::sigmoid{}, z2, y);

    // Loss (mean binary cross-entropy, from z2: stable) and accuracy.
    double loss = 0;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double z = z2[i];
      loss += std::fmax(z, 0.0) + std::log1p(std::exp(-std::fabs(z))) - d.t[i] * z;
      // Right when the predicted probability is on the right side of 0.5 by 0.1 or more: a
      // network that answers 0.5 (a coin flip) scores nothing, whatever its rounding.
      correct += d.t[i] > 0.5f ? y[i] >= 0.6f : y[i] <= 0.4f;
    }
    for (int k = 0; k < 4; ++k)
      if (step == report[k]) res.loss[k] = loss / double(n);
    res.accuracy = double(correct) / double(n);

    // Backward: dz2 = (y - t) / n, then through w2, the activation (xact::backward) and w1.
    for (std::size_t i = 0; i < n; ++i) dz2[i] = (y[i] - d.t[i]) / float(n);
    std::fill(g.begin(), g.end(), 0.f);
    for (std::size_t i = 0; i < n; ++i) {
      gb2[0] += dz2[i];
      for (std::size_t j = 0; j < h; ++j) {
        gw2[j] += a1[i * h + j] * dz2[i];
        da1[i * h + j] = dz2[i] * w2[j];
      }
    }
    xact::backward(act, z1, a1, da1, dz1);  // reads z1 or a1, whichever the function needs
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < h; ++j) {
        gb1[j] += dz1[i * h + j];
        gw1[j] += d.x[2 * i] * dz1[i * h + j];
        gw1[h + j] += d.x[2 * i + 1] * dz1[i * h + j];
      }

    // Adam.
    b1t *= beta1;
    b2t *= beta2;
    for (std::size_t k = 0; k < np; ++k) {
      m[k] = beta1 * m[k] + (1 - beta1) * g[k];
      v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k];
      p[k] -= lr * (m[k] / (1 - b1t)) / (std::sqrt(v[k] / (1 - b2t)) + eps);
    }
  }
  return res;
}

template <class Act>
void row(const dataset& d, const char* name, const Act& act) {
  const result r = train(d, act);
  std::printf("  %-22s %8.4f %8.4f %8.4f %8.4f %9.1f%%\n", name, r.loss[0], r.loss[1], r.loss[2],
              r.loss[3], 100 * r.accuracy);
}

void table(const dataset& d) {
  std::printf("%s: 2-%zu-1 network, Adam, %d full-batch steps\n", d.name, hidden, steps);
  std::printf("  %-22s %8s %8s %8s %8s %10s\n", "activation", "loss@0", "@100", "@300", "@final",
              "accuracy");
  row(d, "none (identity)", identity{});
  row(d, "sigmoid", xact::sigmoid{});
  row(d, "tanh", xact::tanh{});
  row(d, "relu", xact::relu{});
  row(d, "leaky_relu (0.01)", xact::leaky_relu{});
  row(d, "prelu (alpha 0.25)", xact::prelu{0.25});
  row(d, "softplus", xact::softplus{});
  row(d, "swish (beta 1)", xact::swish{});
  row(d, "x_min_exp", xact::x_min_exp{});
  std::printf(
      "  (loss: mean cross-entropy, ln 2 = 0.6931 is a coin flip; accuracy: predicted\n"
      "   probability on the right side of 0.5 by 0.1 or more)\n\n");
}

}  // namespace

int main() {
  table(make_xor());
  table(make_moons(200, 0.1f, 7));
  return 0;
}
