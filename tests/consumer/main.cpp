#include <cstdio>
#include <vector>
#include <xact/xact.hpp>

int main() {
  std::vector<float> x{-2.f, 0.f, 2.f}, y(3);
  xact::forward(xact::sigmoid{}, x, y);
  std::printf("%.6f %.6f %.6f\n", y[0], y[1], y[2]);
  return (y[1] == 0.5f && y[0] + y[2] == 1.f) ? 0 : 1;
}
