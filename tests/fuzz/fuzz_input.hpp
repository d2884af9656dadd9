// Reading a libFuzzer input: bytes (every input is a valid case), and
// values of the two kinds the channelwise and rowwise targets draw: any bit pattern with the
// special values mixed in, and values of a bounded range (for statistics whose intermediates
// would overflow T where the long double reference does not).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "support.hpp"

namespace xf {

// The input's bytes, then (libFuzzer starts with inputs of a few bytes and lengthens them
// slowly) a splitmix64 stream seeded by a hash of the whole input: a short input still fills a
// large tensor with varied values, and the same input always gives the same case.
struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  Bytes(const std::uint8_t* data, std::size_t size) : p(data), n(size) {
    for (std::size_t i = 0; i < size; ++i) state = (state ^ data[i]) * 0x100000001b3u;
  }
  std::uint8_t u8() {
    if (n == 0) {
      std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
      return static_cast<std::uint8_t>((z ^ (z >> 31)) >> 56);
    }
    --n;
    return *p++;
  }
  std::size_t u16() { return u8() | (std::size_t(u8()) << 8); }
  template <class U>
  U raw() {
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | u8());
    return v;
  }
};

// Any value: NaN, +-inf, +-0, subnormals, the extremes, small exact values, any bit pattern.
template <class T>
T any_value(Bytes& in) {
  using L = std::numeric_limits<T>;
  const std::uint8_t kind = in.u8();
  const xt::bits_t<T> r = in.raw<xt::bits_t<T>>();
  const bool neg = kind & 16;
  const T sub = xt::from_bits<T>(r & (xt::bits(L::min()) - 1));
  switch (kind % 16) {
    case 0:
      return L::quiet_NaN();
    case 1:
      return neg ? -L::infinity() : L::infinity();
    case 2:
      return neg ? T(-0.0) : T(0);
    case 3:
      return neg ? -sub : sub;
    case 4:
      return neg ? L::lowest() : L::max();
    case 5:
      return neg ? -L::min() : L::min();
    case 6:
    case 7:
      return T(static_cast<std::int8_t>(r & 0xff)) / T(4);
    default:
      return xt::from_bits<T>(r);
  }
}

// A value with |v| in [2^lo, 2^hi) (or 0, a subnormal, a small exact value), NaN and +-inf
// only when `special` (rarely: 1 in 32 each).
template <class T>
T bounded_value(Bytes& in, int lo, int hi, bool special) {
  using L = std::numeric_limits<T>;
  const std::uint8_t kind = in.u8();
  const xt::bits_t<T> r = in.raw<xt::bits_t<T>>();
  const bool neg = kind & 128;
  T v;
  switch (kind % 32) {
    case 0:
      return special ? L::quiet_NaN() : T(0.5);
    case 1:
      return special ? (neg ? -L::infinity() : L::infinity()) : T(-0.5);
    case 2:
      return neg ? T(-0.0) : T(0);
    case 3:
      v = xt::from_bits<T>(r & (xt::bits(L::min()) - 1));
      break;
    case 4:
    case 5:
    case 6:
      v = T(static_cast<std::int8_t>(r & 0xff)) / T(4);
      break;
    default: {
      const int e = lo + static_cast<int>((r >> 24) % static_cast<unsigned>(hi - lo));
      const T m = T(1) + T(r & 0xffffff) * T(0x1p-24);
      v = std::ldexp(m, e);
    }
  }
  return neg ? -v : v;
}

// Reports and aborts (libFuzzer keeps the input as a crash artifact).
template <class... A>
[[noreturn]] void fail(const char* target, const char* fmt, A... a) {
  std::fprintf(stderr, "%s: ", target);
  if constexpr (sizeof...(A) == 0)
    std::fputs(fmt, stderr);
  else
    std::fprintf(stderr, fmt, a...);
  std::fputs("\n", stderr);
  std::abort();
}

}  // namespace xf
