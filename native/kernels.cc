// Convolution (forward and both gradients) as im2col + GEMM, batched matmul and Adam.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace auv {
namespace {

// Images per im2col group: keep the column buffer near 4M floats (16 MB), at least one image.
long groupSize(const ConvShape& s) {
  const long per = s.oh * s.ow * s.kh * s.kw * s.ci;
  return std::max(1L, std::min(s.n, (4L << 20) / std::max(1L, per)));
}

bool isPointwise(const ConvShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.oh == s.h && s.ow == s.w;
}

// cols[(img*OH+oh)*OW+ow, (kh*KW+kw)*CI+ci] for images [n0, n0+g).
void im2col(const ConvShape& s, const float* x, long n0, long g, float* cols, int threads) {
  const long K = s.kh * s.kw * s.ci;
  const long rows = g * s.oh;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (long r = 0; r < rows; r++) {
    const long img = n0 + r / s.oh, oh = r % s.oh;
    const float* xi = x + img * s.h * s.w * s.ci;
    float* dst = cols + r * s.ow * K;
    for (long ow = 0; ow < s.ow; ow++, dst += K) {
      for (long kh = 0; kh < s.kh; kh++) {
        const long ih = oh * s.sh - s.pt + kh * s.dh;
        for (long kw = 0; kw < s.kw; kw++) {
          const long iw = ow * s.sw - s.pl + kw * s.dw;
          float* d = dst + (kh * s.kw + kw) * s.ci;
          if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w)
            std::memset(d, 0, s.ci * sizeof(float));
          else
            std::memcpy(d, xi + (ih * s.w + iw) * s.ci, s.ci * sizeof(float));
        }
      }
    }
  }
}

// dx for images [n0, n0+g) from their column gradients (the adjoint of im2col, as a gather so
// that threads write disjoint rows of dx).
void col2im(const ConvShape& s, const float* cols, long n0, long g, float* dx, int threads) {
  const long K = s.kh * s.kw * s.ci;
  const long rows = g * s.h;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
  for (long r = 0; r < rows; r++) {
    const long gi = r / s.h, ih = r % s.h;
    float* dst = dx + ((n0 + gi) * s.h + ih) * s.w * s.ci;
    std::memset(dst, 0, s.w * s.ci * sizeof(float));
    for (long kh = 0; kh < s.kh; kh++) {
      const long th = ih + s.pt - kh * s.dh;
      if (th < 0 || th % s.sh) continue;
      const long oh = th / s.sh;
      if (oh >= s.oh) continue;
      for (long iw = 0; iw < s.w; iw++) {
        float* d = dst + iw * s.ci;
        for (long kw = 0; kw < s.kw; kw++) {
          const long tw = iw + s.pl - kw * s.dw;
          if (tw < 0 || tw % s.sw) continue;
          const long ow = tw / s.sw;
          if (ow >= s.ow) continue;
          const float* src = cols + ((gi * s.oh + oh) * s.ow + ow) * K + (kh * s.kw + kw) * s.ci;
          for (long c = 0; c < s.ci; c++) d[c] += src[c];
        }
      }
    }
  }
}

// Growable per-thread column buffer (kept between calls: convolutions repeat their shapes).
struct ColBuffer {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      p = static_cast<float*>(std::malloc(want * sizeof(float)));
      n = p ? want : 0;
    }
    return p;
  }
  ~ColBuffer() { std::free(p); }
};
thread_local ColBuffer tlsCols;

// Runs body(n0, images, innerThreads) over chunks of images that cover [0, n). With enough
// chunks, threads take whole chunks (dynamic: a thread the OS delays takes fewer) and compute each
// serially, one barrier per call; otherwise chunks run in turn, each using every thread.
template <class Body>
void forChunks(const ConvShape& s, int threads, Body body) {
  const long g = groupSize(s);
  const long chunk = threads > 1 ? std::max(1L, std::min(g, s.n / (2L * threads))) : g;
  const long chunks = (s.n + chunk - 1) / chunk;
  if (threads > 1 && chunks >= 2L * threads) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (long c = 0; c < chunks; c++) body(c * chunk, std::min(chunk, s.n - c * chunk), 1);
    return;
  }
  for (long c = 0; c < chunks; c++) body(c * chunk, std::min(chunk, s.n - c * chunk), threads);
}

}  // namespace

void conv2d(const ConvShape& s, const float* x, const float* f, float* y, int threads) {
  const long K = s.kh * s.kw * s.ci, P = s.oh * s.ow;
  const MatView F{f, s.co, 1};
  if (isPointwise(s)) {
    gemm(s.n * P, s.co, K, MatView{x, s.ci, 1}, F, y, s.co, false, threads);
    return;
  }
  forChunks(s, threads, [&](long n0, long gn, int inner) {
    float* cols = tlsCols.get(static_cast<size_t>(gn * P * K));
    im2col(s, x, n0, gn, cols, inner);
    gemm(gn * P, s.co, K, MatView{cols, K, 1}, F, y + n0 * P * s.co, s.co, false, inner);
  });
}

void conv2dBackpropInput(const ConvShape& s, const float* dy, const float* f, float* dx, int threads) {
  const long K = s.kh * s.kw * s.ci, P = s.oh * s.ow;
  const MatView Ft{f, 1, s.co};  // f as [K, CO] transposed
  if (isPointwise(s)) {
    gemm(s.n * P, s.ci, s.co, MatView{dy, s.co, 1}, Ft, dx, s.ci, false, threads);
    return;
  }
  if (s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.pt < s.kh && s.pl < s.kw) {
    // Stride 1: dx is the forward convolution of dy with the filter flipped in space and with
    // in/out channels swapped, padded by k-1-p: one im2col + GEMM with a deep inner dimension
    // (9*CO) instead of a GEMM with inner dimension CO and a scatter of 9x the data.
    std::vector<float> flipped(static_cast<size_t>(s.kh * s.kw * s.co * s.ci));
    for (long kh = 0; kh < s.kh; kh++)
      for (long kw = 0; kw < s.kw; kw++)
        for (long ci = 0; ci < s.ci; ci++)
          for (long co = 0; co < s.co; co++)
            flipped[((kh * s.kw + kw) * s.co + co) * s.ci + ci] =
                f[(((s.kh - 1 - kh) * s.kw + (s.kw - 1 - kw)) * s.ci + ci) * s.co + co];
    const ConvShape t{s.n, s.oh, s.ow, s.co, s.h, s.w, s.ci, s.kh, s.kw, 1, 1, s.kh - 1 - s.pt, s.kw - 1 - s.pl, 1, 1};
    conv2d(t, dy, flipped.data(), dx, threads);
    return;
  }
  forChunks(s, threads, [&](long n0, long gn, int inner) {
    float* cols = tlsCols.get(static_cast<size_t>(gn * P * K));
    gemm(gn * P, K, s.co, MatView{dy + n0 * P * s.co, s.co, 1}, Ft, cols, K, false, inner);
    col2im(s, cols, n0, gn, dx, inner);
  });
}

void conv2dBackpropFilter(const ConvShape& s, const float* x, const float* dy, float* df, int threads) {
  const long K = s.kh * s.kw * s.ci, P = s.oh * s.ow;
  if (isPointwise(s)) {
    gemm(K, s.co, s.n * P, MatView{x, 1, s.ci}, MatView{dy, s.co, 1}, df, s.co, false, threads);
    return;
  }
  // A partial dW per chunk of images, summed in chunk order: the chunks depend on n only, so
  // the result has the same bits for any thread count.
  const long chunk = std::max(1L, std::min(groupSize(s), (s.n + 7) / 8));
  const long chunks = (s.n + chunk - 1) / chunk;
  const long fsize = K * s.co;
  std::vector<float> partial(static_cast<size_t>((chunks - 1) * fsize));
  const bool outer = threads > 1 && chunks >= 2L * threads;
  const int inner = outer ? 1 : threads;
#pragma omp parallel for num_threads(threads) if (outer) schedule(dynamic, 1)
  for (long c = 0; c < chunks; c++) {
    const long n0 = c * chunk, gn = std::min(chunk, s.n - n0);
    float* cols = tlsCols.get(static_cast<size_t>(gn * P * K));
    float* dst = c == 0 ? df : partial.data() + (c - 1) * fsize;
    im2col(s, x, n0, gn, cols, inner);
    gemm(K, s.co, gn * P, MatView{cols, 1, K}, MatView{dy + n0 * P * s.co, s.co, 1}, dst, s.co, false, inner);
  }
  for (long c = 1; c < chunks; c++) {
    const float* p = partial.data() + (c - 1) * fsize;
    for (long i = 0; i < fsize; i++) df[i] += p[i];
  }
}

void batchMatMul(long batch, long strideA, long strideB, long M, long N, long K, bool transA, bool transB,
                 const float* a, const float* b, float* c, int threads) {
  // op(a) is [M,K]: a stored [M,K] (rs K, cs 1) or [K,M] (rs 1, cs M); likewise op(b) [K,N].
  const long ars = transA ? 1 : K, acs = transA ? M : 1;
  const long brs = transB ? 1 : N, bcs = transB ? K : 1;
  // Many small products: one per thread; otherwise each product uses every thread.
  const bool perBatch = batch >= threads && static_cast<double>(M) * N * K < 128.0 * 128 * 128;
  const int inner = perBatch ? 1 : threads;
#pragma omp parallel for num_threads(threads) if (perBatch && threads > 1) schedule(static)
  for (long i = 0; i < batch; i++)
    gemm(M, N, K, MatView{a + i * strideA, ars, acs}, MatView{b + i * strideB, brs, bcs}, c + i * M * N, N, false,
         inner);
}

// One thread's share of adam() below: the JS reference's operation order (src/core/kernels/adam.ts)
// in double, without fused multiply-adds (fp-contract off), so both paths give the same bits.
// Vectorised: IEEE division and sqrt round the same in every lane (sqrt vectorises only with
// -fno-math-errno, which the build sets; the scalar loop took ~1 ms per 96k-float table).
__attribute__((optimize("fp-contract=off"))) static void adamRange(
    long i0, long i1, const float* __restrict x, const float* __restrict g, const float* __restrict m,
    const float* __restrict v, float* __restrict ox, float* __restrict om, float* __restrict ov, double lr, double B1,
    double B2, double eps, double c1, double c2) {
  const double NB1 = 1.0 - B1, NB2 = 1.0 - B2;
  for (long i = i0; i < i1; i++) {
    const double gi = g[i];
    const double mi = B1 * m[i] + NB1 * gi;
    const double vi = B2 * v[i] + NB2 * gi * gi;
    om[i] = static_cast<float>(mi);
    ov[i] = static_cast<float>(vi);
    ox[i] = static_cast<float>(x[i] - (lr * (mi / c1)) / (std::sqrt(vi / c2) + eps));
  }
}

void adam(long n, const float* x, const float* g, const float* m, const float* v, float* ox, float* om, float* ov,
          double lr, double b1, double b2, double eps, double c1, double c2, int threads) {
  // One contiguous range per thread (a loop over elements inside the parallel region reads its
  // scalars through OpenMP's shared-data struct and does not vectorise).
  const int nt = threads > 1 && n >= (1L << 16) ? threads : 1;
  const long chunk = (n + nt - 1) / nt;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int t = 0; t < nt; t++)
    adamRange(t * chunk, std::min(n, (t + 1) * chunk), x, g, m, v, ox, om, ov, lr, b1, b2, eps, c1, c2);
}

}  // namespace auv
