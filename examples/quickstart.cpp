// xact in ten lines: an activation forward and backward on a std::vector.
#include <cstdio>
#include <vector>
#include <xact/xact.hpp>

int main() {
  std::vector<float> x{-2.f, -0.5f, 0.f, 0.5f, 2.f}, y(5), dy(5, 1.f), dx(5);
  xact::forward(xact::sigmoid{}, x, y);               // y  = sigmoid(x)
  xact::backward_from_x(xact::sigmoid{}, x, dy, dx);  // dx = dy * sigmoid'(x)
  for (std::size_t i = 0; i < x.size(); ++i)
    std::printf("x = %5.2f   y = %.6f   dx = %.6f\n", x[i], y[i], dx[i]);
}
