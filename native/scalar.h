// Scalar float32 operations shared by the element-wise kernels (elementwise.cc) and the fused
// pixel step (pixel.cc), with the cpu backend's semantics, so a fused kernel gives the bits of the
// separate tfjs kernels it replaces.
#pragma once

#include <cstdint>

namespace auv {

// Math.max / Math.min as tfjs' cpu backend: NaN if either is NaN; max(-0, +0) = +0, min(-0, +0) = -0.
// Written as selects (no branch on the sign bit) so that loops over them vectorise: for equal
// operands the bitwise and (max) / or (min) picks +0 / -0 between signed zeros and is the value
// itself otherwise.
static inline float bitAnd(float x, float y) {
  return __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, x) & __builtin_bit_cast(uint32_t, y));
}
static inline float bitOr(float x, float y) {
  return __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, x) | __builtin_bit_cast(uint32_t, y));
}
static inline float jsMax(float x, float y) {
  const float r = x == y ? bitAnd(x, y) : x > y ? x : y;
  return (x != x || y != y) ? x + y : r;
}
static inline float jsMin(float x, float y) {
  const float r = x == y ? bitOr(x, y) : x < y ? x : y;
  return (x != x || y != y) ? x + y : r;
}
// tf.clipByValue: NaN stays.
static inline float clipTf(float x, float lo, float hi) { return x > hi ? hi : (x < lo ? lo : x); }

}  // namespace auv
