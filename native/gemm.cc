// See gemm.h.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace auv {
namespace {

#if defined(__AVX512F__)
constexpr int VW = 16;
#elif defined(__AVX__)
constexpr int VW = 8;
#else
constexpr int VW = 4;
#endif
typedef float vf __attribute__((vector_size(VW * sizeof(float))));

constexpr int MR = kGemmMR;
constexpr int NR = 2 * VW;
constexpr long NC = 2048;  // multiple of NR

struct Blocking {
  long kc, mc;
};
// K in near-equal slices of at most kGemmMaxKC (256 where K is larger: then C is re-read per slice
// anyway and a smaller slice keeps a B strip in L1); MC rows of A per block, ~96 KB packed.
Blocking blocking(long K) {
  const long slices = K <= kGemmMaxKC ? 1 : (K + 255) / 256;
  const long kc = (K + slices - 1) / slices;
  const long mc = std::max<long>(MR, std::min<long>(144, (24576 / kc) / MR * MR));
  return Blocking{kc, mc};
}

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// Growable 64-byte aligned scratch buffer, one per thread.
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      size_t bytes = ((want * sizeof(float) + 63) / 64) * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      n = p ? want : 0;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch tlsA;
thread_local Scratch tlsB;  // per calling thread; shared with its team by pointer

// c[mr x nr] (+)= a-strip (kc x MR, packed) * b-strip (kc x NR, packed).
inline void microKernel(long kc, const float* __restrict a, const float* __restrict b, float* c, long ldc, int mr,
                        int nr, bool acc) {
  vf c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) c0[i] = c1[i] = vf{};
  for (long p = 0; p < kc; p++) {
    const vf b0 = load(b), b1 = load(b + VW);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const float ai = a[i];
      c0[i] += ai * b0;
      c1[i] += ai * b1;
    }
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      float* ci = c + i * ldc;
      if (acc) {
        store(ci, load(ci) + c0[i]);
        store(ci + VW, load(ci + VW) + c1[i]);
      } else {
        store(ci, c0[i]);
        store(ci + VW, c1[i]);
      }
    }
    return;
  }
  alignas(64) float tile[MR * NR];
  for (int i = 0; i < MR; i++) {
    store(tile + i * NR, c0[i]);
    store(tile + i * NR + VW, c1[i]);
  }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
}

// Rows [i0, i0+mc) x k [p0, p0+kc) of A (a MatView) into MR-row strips, zero-padded.
void packA(const void* ctx, long i0, long mc, long p0, long kc, float* buf) {
  const MatView& A = *static_cast<const MatView*>(ctx);
  for (long s = 0; s < mc; s += MR) {
    const int mr = static_cast<int>(std::min<long>(MR, mc - s));
    float* dst = buf + s * kc;
    if (A.rs == 1 && mr == MR) {  // transposed A: a strip's MR values are contiguous
      for (long p = 0; p < kc; p++) std::memcpy(dst + p * MR, A.p + (i0 + s) + (p0 + p) * A.cs, MR * sizeof(float));
      continue;
    }
    // Row by row: reads run along a row of A (contiguous when A is not transposed).
    for (int r = 0; r < MR; r++) {
      if (r >= mr) {
        for (long p = 0; p < kc; p++) dst[p * MR + r] = 0.f;
        continue;
      }
      const float* src = A.p + (i0 + s + r) * A.rs + p0 * A.cs;
      for (long p = 0; p < kc; p++) dst[p * MR + r] = src[p * A.cs];
    }
  }
}

// Strip s (NR columns starting at j0 + s*NR) of the kc x nc slice of B, zero-padded.
void packBStrip(const MatView& B, long p0, long kc, long j0, long nc, long s, float* buf) {
  const long js = s * NR;
  const int nr = static_cast<int>(std::min<long>(NR, nc - js));
  float* dst = buf + js * kc;
  if (B.cs == 1 && nr == NR) {
    for (long p = 0; p < kc; p++) std::memcpy(dst + p * NR, B.p + (p0 + p) * B.rs + j0 + js, NR * sizeof(float));
    return;
  }
  // Column by column: reads run along a column of B (contiguous when B is transposed).
  for (int j = 0; j < NR; j++) {
    if (j >= nr) {
      for (long p = 0; p < kc; p++) dst[p * NR + j] = 0.f;
      continue;
    }
    const float* src = B.p + p0 * B.rs + (j0 + js + j) * B.cs;
    for (long p = 0; p < kc; p++) dst[p * NR + j] = src[p * B.rs];
  }
}

}  // namespace

void gemm(long M, long N, long K, MatView A, MatView B, float* C, long ldc, bool accumulate, int threads) {
  gemmPackedA(M, N, K, packA, &A, B, C, ldc, accumulate, threads);
}

void gemmPackedA(long M, long N, long K, PackA pack, const void* ctx, MatView B, float* C, long ldc, bool accumulate,
                 int threads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (long i = 0; i < M; i++) std::memset(C + i * ldc, 0, N * sizeof(float));
    return;
  }
  // Small products do not pay for waking a second thread: below 4M multiply-adds (~0.2 ms on one
  // AVX2 core) the fork/join and barriers cost about what the second core saves when idle, and
  // 5-20x more than they save when the cores are shared (a descheduled team member stalls every
  // barrier: [1024,64]^T x [1024,32] took 3.5 ms on two threads, 0.17 ms on one, load 6).
  const int nt = (static_cast<double>(M) * N * K < 4.0 * 1024 * 1024) ? 1 : std::max(1, threads);
  const Blocking bl = blocking(K);
  const long KC = bl.kc, MC = bl.mc;
  for (long j0 = 0; j0 < N; j0 += NC) {
    const long nc = std::min(NC, N - j0);
    const long nstrips = (nc + NR - 1) / NR;
    for (long p0 = 0; p0 < K; p0 += KC) {
      const long kc = std::min(KC, K - p0);
      const bool acc = accumulate || p0 > 0;
      float* bbuf = tlsB.get(static_cast<size_t>(nstrips * NR * kc));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
      for (long s = 0; s < nstrips; s++) packBStrip(B, p0, kc, j0, nc, s, bbuf);
      const long mblocks = (M + MC - 1) / MC;
      // Too few row blocks for the threads: also split the columns.
      const long nsplit = std::min(nstrips, std::max(1L, (2L * nt + mblocks - 1) / mblocks));
      const long tasks = mblocks * nsplit;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
      for (long t = 0; t < tasks; t++) {
        const long ib = t / nsplit, js = t % nsplit;
        const long i0 = ib * MC, mc = std::min(MC, M - i0);
        const long s0 = nstrips * js / nsplit, s1 = nstrips * (js + 1) / nsplit;
        if (s0 >= s1) continue;
        // 16 floats of slack: a packer may write a few floats past the block (see PackA).
        float* abuf = tlsA.get(static_cast<size_t>(((mc + MR - 1) / MR) * MR * kc + 16));
        pack(ctx, i0, mc, p0, kc, abuf);
        for (long s = s0; s < s1; s++) {
          const long jj = s * NR;
          const int nr = static_cast<int>(std::min<long>(NR, nc - jj));
          for (long ii = 0; ii < mc; ii += MR) {
            const int mr = static_cast<int>(std::min<long>(MR, mc - ii));
            microKernel(kc, abuf + ii * kc, bbuf + jj * kc, C + (i0 + ii) * ldc + j0 + jj, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}

}  // namespace auv
