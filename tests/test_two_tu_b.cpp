#include <gtest/gtest.h>

#include <xact/xact.hpp>

float xact_two_tu_a(float x);

TEST(Hygiene, TwoTranslationUnits) {
  std::vector<float> x{1.f, -2.f}, y(2);
  xact::forward(xact::sigmoid{}, x, y);
  EXPECT_EQ(xact_two_tu_a(1.f), y[0] + 1.f);
}
