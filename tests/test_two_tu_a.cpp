// With test_two_tu_b.cpp: the whole API included in two translation units of one program links
// (every non-template function in the headers must be inline).
#include <xact/xact.hpp>

float xact_two_tu_a(float x) { return xact::sigmoid{}(x) + xact::relu{}(x); }
