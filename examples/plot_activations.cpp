// Draws every activation and its derivative on [-5, 5], one panel per function, as an SVG file
// (no dependency: the SVG is written by hand). Values come from xact's own forward and backward
// drivers (backward with dy = 1 gives f'). Every number is printed with a fixed precision, so
// the output is byte for byte reproducible: docs/activations.svg is this program's output and
// a test checks that it still is.
//
//   example_plot_activations [out.svg]        (default: activations.svg)
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
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

constexpr int cols = 3, panel_w = 320, panel_h = 230;
constexpr int left = 38, right = 12, top = 30, bottom = 26;  // plot area inside a panel
constexpr int samples = 401;                                 // x = -5, -4.975, ..., 5

std::string out;

void add(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  out += buf;
}

struct panel_data {
  std::string title;
  std::vector<double> x, f, d;
};

template <class Op>
panel_data sample(const std::string& title, const Op& op) {
  panel_data p{title, std::vector<double>(samples), std::vector<double>(samples),
               std::vector<double>(samples)};
  for (int i = 0; i < samples; ++i) p.x[i] = -5.0 + 10.0 * i / (samples - 1);
  const std::vector<double> ones(samples, 1.0);
  xact::forward(op, p.x, p.f);
  xact::backward(op, p.x, p.f, ones, p.d);  // dy = 1: the derivative itself
  return p;
}

void draw(const panel_data& p, int index) {
  const double x0 = (index % cols) * panel_w, y0 = (index / cols) * panel_h;
  const double pw = panel_w - left - right, ph = panel_h - top - bottom;
  double lo = 0, hi = 1;
  for (int i = 0; i < samples; ++i) {
    lo = std::min({lo, p.f[i], p.d[i]});
    hi = std::max({hi, p.f[i], p.d[i]});
  }
  lo = std::floor(lo);
  hi = std::ceil(hi);
  const double pad = 0.06 * (hi - lo);
  auto sx = [&](double x) { return x0 + left + (x + 5.0) / 10.0 * pw; };
  auto sy = [&](double y) { return y0 + top + (hi + pad - y) / (hi - lo + 2 * pad) * ph; };

  add("<g>\n<text x=\"%.2f\" y=\"%.2f\" class=\"t\">%s</text>\n", x0 + left, y0 + 19,
      p.title.c_str());
  add("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" class=\"frame\"/>\n", x0 + left,
      y0 + top, pw, ph);
  for (int k = -5; k <= 5; ++k)  // vertical grid, x = -5 .. 5
    add("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" class=\"%s\"/>\n", sx(k), y0 + top,
        sx(k), y0 + top + ph, k == 0 ? "axis" : "grid");
  const int step = hi - lo > 6 ? 2 : 1;
  for (int k = int(lo); k <= int(hi); k += step)  // horizontal grid and labels
    add("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" class=\"%s\"/>\n"
        "<text x=\"%.2f\" y=\"%.2f\" class=\"yl\">%d</text>\n",
        x0 + left, sy(k), x0 + left + pw, sy(k), k == 0 ? "axis" : "grid", x0 + left - 5, sy(k) + 4,
        k);
  for (int k = -4; k <= 4; k += 2)
    add("<text x=\"%.2f\" y=\"%.2f\" class=\"xl\">%d</text>\n", sx(k), y0 + top + ph + 15, k);
  for (int curve = 0; curve < 2; ++curve) {
    const std::vector<double>& v = curve == 0 ? p.f : p.d;
    add("<polyline class=\"%s\" points=\"", curve == 0 ? "f" : "d");
    for (int i = 0; i < samples; ++i)
      add("%s%.2f,%.2f", i ? " " : "", sx(p.x[i]), sy(std::clamp(v[i], lo - pad, hi + pad)));
    add("\"/>\n");
  }
  add("</g>\n");
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "activations.svg";
  std::vector<panel_data> panels;
  panels.push_back(sample("sigmoid", xact::sigmoid{}));
  panels.push_back(sample("tanh", xact::tanh{}));
  panels.push_back(sample("relu", xact::relu{}));
  panels.push_back(sample("leaky_relu (slope = 0.01)", xact::leaky_relu{}));
  panels.push_back(sample("prelu (alpha = 0.25)", xact::prelu{0.25}));
  panels.push_back(sample("softplus (beta = 1)", xact::softplus{}));
  panels.push_back(sample("swish (beta = 1)", xact::swish{}));
  panels.push_back(sample("x_min_exp: x min(1, e^x)", xact::x_min_exp{}));

  const int n = int(panels.size()), rows = (n + cols - 1) / cols;
  const int w = cols * panel_w, h = rows * panel_h + 34;
  add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
      " font-family=\"sans-serif\" font-size=\"12\">\n",
      w, h, w, h);
  add("<style>\n"
      ".frame{fill:none;stroke:#888}.grid{stroke:#e4e4e4}.axis{stroke:#aaa}\n"
      ".f{fill:none;stroke:#1f77b4;stroke-width:2}"
      ".d{fill:none;stroke:#ff7f0e;stroke-width:1.6;stroke-dasharray:5 3}\n"
      ".t{font-weight:bold}.yl{text-anchor:end}.xl{text-anchor:middle}\n"
      "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  for (int i = 0; i < n; ++i) draw(panels[i], i);
  const double ly = rows * panel_h + 20;
  add("<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" class=\"f\"/>"
      "<text x=\"%d\" y=\"%.2f\">f(x)</text>\n",
      left, ly, left + 30, ly, left + 36, ly + 4);
  add("<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" class=\"d\"/>"
      "<text x=\"%d\" y=\"%.2f\">f'(x), from xact's backward with dy = 1</text>\n",
      left + 100, ly, left + 130, ly, left + 136, ly + 4);
  add("</svg>\n");

  std::FILE* file = std::fopen(path, "wb");
  if (!file || std::fwrite(out.data(), 1, out.size(), file) != out.size() || std::fclose(file)) {
    std::fprintf(stderr, "cannot write %s\n", path);
    return 1;
  }
  std::printf("wrote %s (%d functions)\n", path, n);
  return 0;
}
