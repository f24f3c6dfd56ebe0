// Broadcasting binary arithmetic, exact unary maps (square, neg, relu, abs, clip) and sum / mean
// reductions on float32 (see kernels.h).
// Add, Sub, Mul, Div, Max and Min are single IEEE operations (or exact selections), so results equal the wasm kernels' bit for
// bit; reductions sum in a different order (8 lanes), so they agree to float rounding.
// no-trapping-math: the selects of Maximum / Minimum / clip (scalar.h) if-convert and vectorise;
// it changes no value (no reassociation, no contraction beyond the build's).
#pragma GCC optimize("no-trapping-math")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "scalar.h"

namespace auv {
namespace {

constexpr int kMaxRank = 8;
constexpr long kParallelMin = 1L << 17;  // elements below which one thread is faster (memory-bound: ~50 us)

template <int OP>
inline float apply(float x, float y) {
  if constexpr (OP == kAdd) return x + y;
  if constexpr (OP == kSub) return x - y;
  if constexpr (OP == kMul) return x * y;
  if constexpr (OP == kMax) return jsMax(x, y);  // (scalar.h: the cpu backend's NaN and signed zeros)
  if constexpr (OP == kMin) return jsMin(x, y);
  // ReLU's gradient dy * step(x) (tfjs: mul(dy, cast(step(x)))), x = dy, y = the ReLU's input;
  // step as tfjs' kernels: 1 where y > 0, NaN where y is NaN, else 0.
  if constexpr (OP == kReluGrad) return x * (y > 0.f ? 1.f : y != y ? y : 0.f);
  return x / y;
}

template <int OP>
void row(const float* a, long isa, const float* b, long isb, float* o, long n) {
  if (isa && isb) {
    for (long i = 0; i < n; i++) o[i] = apply<OP>(a[i], b[i]);
  } else if (isa) {
    const float y = b[0];
    for (long i = 0; i < n; i++) o[i] = apply<OP>(a[i], y);
  } else if (isb) {
    const float x = a[0];
    for (long i = 0; i < n; i++) o[i] = apply<OP>(x, b[i]);
  } else {
    const float v = apply<OP>(a[0], b[0]);
    for (long i = 0; i < n; i++) o[i] = v;
  }
}

// Offsets of outer row `r` (all dims but the last) in a and b.
inline void rowOffsets(long r, int rank, const long* shape, const long* sa, const long* sb, long& oa, long& ob) {
  oa = ob = 0;
  for (int d = rank - 2; d >= 0; d--) {
    const long i = r % shape[d];
    r /= shape[d];
    oa += i * sa[d];
    ob += i * sb[d];
  }
}

template <int OP>
void binaryOp(int rank, const long* shape, const long* sa, const long* sb, const float* a, const float* b, float* out,
              int threads) {
  const long inner = shape[rank - 1];
  long rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  const int nt = rows * inner >= kParallelMin ? threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (long r = 0; r < rows; r++) {
    long oa, ob;
    rowOffsets(r, rank, shape, sa, sb, oa, ob);
    row<OP>(a + oa, sa[rank - 1], b + ob, sb[rank - 1], out + r * inner, inner);
  }
}

#if defined(__AVX512F__)
constexpr int LW = 16;
#else
constexpr int LW = 8;
#endif

inline float sumRow(const float* x, long n) {
  float lanes[LW] = {};
  long i = 0;
  for (; i + LW <= n; i += LW)
    for (int l = 0; l < LW; l++) lanes[l] += x[i + l];
  float s = 0;
  for (int l = 0; l < LW; l++) s += lanes[l];
  for (; i < n; i++) s += x[i];
  return s;
}

// Accumulate input rows [r0, r1) into out.
void reduceRows(int rank, const long* shape, const long* so, const float* x, float* out, long r0, long r1) {
  const long inner = shape[rank - 1];
  const bool innerKept = so[rank - 1] != 0;
  const long zero[kMaxRank] = {};
  for (long r = r0; r < r1; r++) {
    long oo, unused;
    rowOffsets(r, rank, shape, so, zero, oo, unused);
    const float* xr = x + r * inner;
    if (innerKept) {
      float* o = out + oo;
      for (long i = 0; i < inner; i++) o[i] += xr[i];
    } else {
      out[oo] += sumRow(xr, inner);
    }
  }
}

}  // namespace

void binary(int op, int rank, const long* shape, const long* sa, const long* sb, const float* a, const float* b,
            float* out, int threads) {
  switch (op) {
    case kAdd: return binaryOp<kAdd>(rank, shape, sa, sb, a, b, out, threads);
    case kSub: return binaryOp<kSub>(rank, shape, sa, sb, a, b, out, threads);
    case kMul: return binaryOp<kMul>(rank, shape, sa, sb, a, b, out, threads);
    case kMax: return binaryOp<kMax>(rank, shape, sa, sb, a, b, out, threads);
    case kMin: return binaryOp<kMin>(rank, shape, sa, sb, a, b, out, threads);
    case kReluGrad: return binaryOp<kReluGrad>(rank, shape, sa, sb, a, b, out, threads);
    default: return binaryOp<kDiv>(rank, shape, sa, sb, a, b, out, threads);
  }
}

void reduceSum(int rank, const long* shape, const long* so, const float* x, float* out, long outSize, double divisor,
               int threads) {
  long rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  const long total = rows * shape[rank - 1];
  std::memset(out, 0, outSize * sizeof(float));
  int nt = total >= kParallelMin ? std::max(1, threads) : 1;
  if (nt > rows) nt = static_cast<int>(rows);
  // Threads take contiguous blocks of rows. When the first dim is kept (and is not the only
  // row dim's worth of output), blocks split on whole first-dim slices write disjoint outputs;
  // otherwise each thread sums into its own buffer, added in thread order (deterministic).
  const bool disjoint = rank > 1 && so[0] != 0 && shape[0] >= nt;
  if (nt <= 1) {
    reduceRows(rank, shape, so, x, out, 0, rows);
  } else if (disjoint) {
    const long per = rows / shape[0];
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
      const long s0 = shape[0] * t / nt, s1 = shape[0] * (t + 1) / nt;
      reduceRows(rank, shape, so, x, out, s0 * per, s1 * per);
    }
  } else if (outSize <= (1L << 20)) {
    std::vector<float> part(static_cast<size_t>(outSize) * (nt - 1), 0.f);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
      float* dst = t == 0 ? out : part.data() + (t - 1) * outSize;
      reduceRows(rank, shape, so, x, dst, rows * t / nt, rows * (t + 1) / nt);
    }
    for (int t = 1; t < nt; t++) {
      const float* p = part.data() + (t - 1) * outSize;
      for (long i = 0; i < outSize; i++) out[i] += p[i];
    }
  } else {
    reduceRows(rank, shape, so, x, out, 0, rows);
  }
  if (divisor != 1.0) {
    const float dv = static_cast<float>(divisor);
    for (long i = 0; i < outSize; i++) out[i] /= dv;
  }
}

namespace {
template <int OP>
inline float applyUnary(float x, float lo, float hi) {
  if constexpr (OP == kSquare) return x * x;
  if constexpr (OP == kNeg) return -x;
  if constexpr (OP == kRelu) return (x > 0.f || x != x) ? x : 0.f;  // max(0, x): -0 -> +0, NaN stays
  if constexpr (OP == kAbs) return std::fabs(x);
  return clipTf(x, lo, hi);
}

template <int OP>
void unaryOp(long n, const float* x, float* out, float lo, float hi, int threads) {
  const int nt = n >= kParallelMin ? std::max(1, threads) : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int t = 0; t < nt; t++) {
    const long i0 = n * t / nt, i1 = n * (t + 1) / nt;
    for (long i = i0; i < i1; i++) out[i] = applyUnary<OP>(x[i], lo, hi);
  }
}
}  // namespace

void unary(int op, long n, const float* x, float* out, float lo, float hi, int threads) {
  switch (op) {
    case kSquare: return unaryOp<kSquare>(n, x, out, lo, hi, threads);
    case kNeg: return unaryOp<kNeg>(n, x, out, lo, hi, threads);
    case kRelu: return unaryOp<kRelu>(n, x, out, lo, hi, threads);
    case kAbs: return unaryOp<kAbs>(n, x, out, lo, hi, threads);
    default: return unaryOp<kClip>(n, x, out, lo, hi, threads);
  }
}

void copy(long n, const float* src, float* dst, int threads) {
  const int nt = n >= (1L << 18) ? std::max(1, threads) : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int t = 0; t < nt; t++) {
    const long i0 = n * t / nt, i1 = n * (t + 1) / nt;
    std::memcpy(dst + i0, src + i0, (i1 - i0) * sizeof(float));
  }
}

// tf.concat (toWhole) and its inverse SplitV as block copies: row b of `whole` is the parts' runs
// of inner[i] elements in order, part i's run b at parts[i] + b * inner[i].
void blockCopy(long outer, int nParts, float* whole, float* const* parts, const long* inner, bool toWhole,
               int threads) {
  long row = 0;
  for (int i = 0; i < nParts; i++) row += inner[i];
  const int nt = outer * row >= (1L << 18) ? std::max(1, threads) : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (long b = 0; b < outer; b++) {
    float* w = whole + b * row;
    for (int i = 0; i < nParts; i++) {
      float* part = parts[i] + b * inner[i];
      if (toWhole)
        std::memcpy(w, part, inner[i] * sizeof(float));
      else
        std::memcpy(part, w, inner[i] * sizeof(float));
      w += inner[i];
    }
  }
}

}  // namespace auv
