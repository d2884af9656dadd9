// xact with Eigen: the drivers on Eigen matrices, arrays, blocks and maps, xact functions
// inside Eigen expressions, softmax along rows and Dice per feature column. Needs <xact/eigen.hpp>
// (opt-in) and Eigen 3.3 or later.
#include <Eigen/Dense>
#include <cstdio>
#include <xact/eigen.hpp>
#include <xact/functions/dice.hpp>
#include <xact/functions/softmax.hpp>
#include <xact/xact.hpp>

int main() {
  int bad = 0;
  const xact::sigmoid sigmoid;

  // 1. Whole objects: one call of the SIMD driver on the contiguous data, either storage order.
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(64, 10) * 6;  // rows = samples, cols = features
  Eigen::MatrixXf y(64, 10), dy = Eigen::MatrixXf::Ones(64, 10), dx(64, 10);
  xact::forward(sigmoid, x, y);
  xact::backward_from_y(sigmoid, y, dy, dx);  // dy * y (1 - y), no need to keep x
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> yr(64, 10);
  xact::forward(sigmoid, x, yr);  // a column-major input, a row-major output
  bad += !(yr == y);

  // 2. Views: blocks, rows of a column-major matrix (strided), Map and Ref; in place too.
  xact::forward(xact::relu{}, x.block(8, 2, 16, 4), y.block(8, 2, 16, 4));
  Eigen::RowVectorXf r(10);
  xact::forward(sigmoid, x.row(3), r);
  bad += !(r == y.row(3));
  float raw[6] = {-3, -1, 0, 1, 3, 5};
  Eigen::Map<Eigen::ArrayXf> m(raw, 6);
  xact::forward(xact::relu{}, m, m);  // in place on someone else's memory
  bad += !(raw[0] == 0 && raw[5] == 5);

  // 3. Inside an Eigen expression: vectorized (Eigen's packets become xsimd batches), fused
  // with the rest of the expression, bit-identical to the array driver.
  const Eigen::ArrayXXf z = x.array().unaryExpr(xact::eigen::expr(sigmoid)) * 2.f - 1.f;
  Eigen::MatrixXf y2(64, 10);
  xact::forward(sigmoid, x, y2);
  bad += !(z == y2.array() * 2.f - 1.f).all();
  const Eigen::MatrixXf g = y2.binaryExpr(dy, xact::eigen::expr_backward_from_y(sigmoid));
  bad += !(g == dx);

  // 4. Softmax over each row (a sample's scores), Dice with statistics per column (feature),
  // whichever the storage order.
  Eigen::MatrixXf probs(64, 10);
  xact::softmax_forward(x, probs);
  bad += !((probs.rowwise().sum().array() - 1.f).abs() < 1e-5f).all();
  xact::dice<float> dice(10);  // alpha = 0, one per feature
  Eigen::MatrixXf yd(64, 10), dxd(64, 10);
  xact::dice_forward(dice, x, yd, xact::dice_mode::training);
  xact::dice_backward(dice, x, dy, dxd, xact::dice_mode::training);  // fills dice.grad_alpha

  std::printf("x(0, 0..3)       = %9.5f %9.5f %9.5f %9.5f\n", x(0, 0), x(0, 1), x(0, 2), x(0, 3));
  std::printf("sigmoid(x)       = %9.5f %9.5f %9.5f %9.5f\n", y2(0, 0), y2(0, 1), y2(0, 2),
              y2(0, 3));
  std::printf("sigmoid'(x)      = %9.5f %9.5f %9.5f %9.5f\n", dx(0, 0), dx(0, 1), dx(0, 2),
              dx(0, 3));
  std::printf("2 sigmoid(x) - 1 = %9.5f %9.5f %9.5f %9.5f  (an Eigen expression)\n", z(0, 0),
              z(0, 1), z(0, 2), z(0, 3));
  std::printf("softmax(x)(0, .) = %9.5f %9.5f %9.5f %9.5f ... (row sum %.6f)\n", probs(0, 0),
              probs(0, 1), probs(0, 2), probs(0, 3), probs.row(0).sum());
  std::printf("dice(x)          = %9.5f %9.5f %9.5f %9.5f  (feature means %.4f %.4f ...)\n",
              yd(0, 0), yd(0, 1), yd(0, 2), yd(0, 3), dice.batch_mean[0], dice.batch_mean[1]);
  std::printf(bad ? "FAILED\n" : "OK\n");
  return bad ? 1 : 0;
}
