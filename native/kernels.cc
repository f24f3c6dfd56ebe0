// Convolution (forward and both gradients) as implicit GEMM (the packing step of the GEMM reads
// the image directly: no im2col buffer), batched matmul and Adam.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm.h"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace auv {
namespace {

// Images per im2col / col2im group: keep the column buffer near 4M floats (16 MB), at least one image.
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

// The im2col matrix of images starting at x, never stored: gemmPackedA's packers read it from the
// image. zeros: s.ci zeros, read where a filter tap falls in the padding.
struct ImplicitCols {
  const ConvShape* s;
  const float* x;
  const float* zeros;
};

// Output pixel i (over all images from x) as its image and top-left input position.
struct PixelPos {
  long img, oh, ow;
  PixelPos(const ConvShape& s, long i) : img(i / (s.oh * s.ow)), oh(i / s.ow % s.oh), ow(i % s.ow) {}
  void next(const ConvShape& s) {
    if (++ow == s.ow) {
      ow = 0;
      if (++oh == s.oh) oh = 0, img++;
    }
  }
  // Start of input pixel (ih, iw) for filter tap (kh, kw) or null in the padding.
  const float* at(const ConvShape& s, const float* x, long kh, long kw) const {
    const long ih = oh * s.sh - s.pt + kh * s.dh, iw = ow * s.sw - s.pl + kw * s.dw;
    if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) return nullptr;
    return x + ((img * s.h + ih) * s.w + iw) * s.ci;
  }
};

// d[c*6 + r] = src[r][c0 + c] for c < n, r < 6: six pixels' channel runs interleaved as a
// packed A strip. With AVX, 8 channels at a time through an 8x8 transpose (rows 6 and 7 zero);
// each group stores 8 floats per channel, so it writes up to 2 floats past d[n*6] (the caller's
// buffer has that slack; the next group or strip overwrites them).
inline void interleave6(const float* const* src, long c0, long n, float* d) {
  static_assert(kGemmMR == 6, "interleave6 packs 6-row strips");
  long c = 0;
#if defined(__AVX__)
  for (; c + 8 <= n; c += 8) {
    const __m256 z = _mm256_setzero_ps();
    const __m256 t0 = _mm256_unpacklo_ps(_mm256_loadu_ps(src[0] + c0 + c), _mm256_loadu_ps(src[1] + c0 + c));
    const __m256 t1 = _mm256_unpackhi_ps(_mm256_loadu_ps(src[0] + c0 + c), _mm256_loadu_ps(src[1] + c0 + c));
    const __m256 t2 = _mm256_unpacklo_ps(_mm256_loadu_ps(src[2] + c0 + c), _mm256_loadu_ps(src[3] + c0 + c));
    const __m256 t3 = _mm256_unpackhi_ps(_mm256_loadu_ps(src[2] + c0 + c), _mm256_loadu_ps(src[3] + c0 + c));
    const __m256 t4 = _mm256_unpacklo_ps(_mm256_loadu_ps(src[4] + c0 + c), _mm256_loadu_ps(src[5] + c0 + c));
    const __m256 t5 = _mm256_unpackhi_ps(_mm256_loadu_ps(src[4] + c0 + c), _mm256_loadu_ps(src[5] + c0 + c));
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    float* o = d + c * 6;
    _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(o + 6, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(o + 12, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(o + 18, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(o + 30, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(o + 36, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(o + 42, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
#endif
  for (; c < n; c++)
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) d[c * 6 + r] = src[r][c0 + c];
}

// A = cols [pixels, KH*KW*CI] (the forward convolution): MR pixels per strip, k walked by
// filter tap, each tap a run of CI contiguous input channels per pixel. The taps are walked by
// counters and each row's top-left input position is computed once per strip (no divisions per tap).
void packColsRows(const void* ctx, long i0, long mc, long p0, long kc, float* buf) {
  constexpr int MR = kGemmMR;
  const ImplicitCols& q = *static_cast<const ImplicitCols*>(ctx);
  const ConvShape& s = *q.s;
  const long tap0 = p0 / s.ci, cfirst = p0 % s.ci;
  PixelPos pos(s, i0);
  for (long t = 0; t < mc; t += MR) {
    float* dst = buf + t * kc;
    const long mr = std::min<long>(MR, mc - t);
    const float* img[MR];
    long ih0[MR], iw0[MR];
    for (int r = 0; r < MR; r++) {
      img[r] = nullptr;
      ih0[r] = iw0[r] = 0;
      if (r >= mr) continue;
      img[r] = q.x + pos.img * s.h * s.w * s.ci;
      ih0[r] = pos.oh * s.sh - s.pt;
      iw0[r] = pos.ow * s.sw - s.pl;
      pos.next(s);
    }
    long kh = tap0 / s.kw, kw = tap0 % s.kw, c0 = cfirst;
    for (long k = 0; k < kc;) {
      const long len = std::min(s.ci - c0, kc - k);
      const float* src[MR];
      for (int r = 0; r < MR; r++) {
        const long ih = ih0[r] + kh * s.dh, iw = iw0[r] + kw * s.dw;
        const bool in = img[r] && ih >= 0 && ih < s.h && iw >= 0 && iw < s.w;
        src[r] = in ? img[r] + (ih * s.w + iw) * s.ci : q.zeros;
      }
      interleave6(src, c0, len, dst + k * MR);
      k += len;
      c0 = 0;
      if (++kw == s.kw) kw = 0, kh++;
    }
  }
}

// A = cols^T [KH*KW*CI, pixels] (the filter gradient): MR filter rows (kh, kw, ci) per strip,
// pixels along k; rows of one tap with consecutive channels copy MR contiguous floats per pixel.
void packColsT(const void* ctx, long i0, long mc, long p0, long kc, float* buf) {
  constexpr int MR = kGemmMR;
  const ImplicitCols& q = *static_cast<const ImplicitCols*>(ctx);
  const ConvShape& s = *q.s;
  for (long t = 0; t < mc; t += MR) {
    float* dst = buf + t * kc;
    const long mr = std::min<long>(MR, mc - t), k0 = i0 + t, tap = k0 / s.ci, c0 = k0 % s.ci;
    if (mr == MR && c0 + MR <= s.ci) {
      // The following full strips of the same tap (consecutive channels) go with it: each pixel's
      // position is computed once and its channels read in one pass for all of them.
      long g = 1;
      while (t + (g + 1) * MR <= mc && c0 + (g + 1) * MR <= s.ci) g++;
      // Pixels in runs along an output row: one row test per run, the column test per pixel.
      const long kh = tap / s.kw, kw = tap % s.kw;
      PixelPos pos(s, p0);
      for (long p = 0; p < kc;) {
        const long run = std::min(kc - p, s.ow - pos.ow);
        const long ih = pos.oh * s.sh - s.pt + kh * s.dh;
        if (ih < 0 || ih >= s.h) {
          for (long m = 0; m < g; m++) std::memset(dst + m * MR * kc + p * MR, 0, run * MR * sizeof(float));
        } else {
          const float* row = q.x + (pos.img * s.h + ih) * s.w * s.ci + c0;
          long iw = pos.ow * s.sw - s.pl + kw * s.dw;
          for (long j = 0; j < run; j++, iw += s.sw) {
            float* d = dst + (p + j) * MR;
            if (iw < 0 || iw >= s.w) {
              for (long m = 0; m < g; m++) std::memset(d + m * MR * kc, 0, MR * sizeof(float));
            } else {
              const float* src = row + iw * s.ci;
              for (long m = 0; m < g; m++) std::memcpy(d + m * MR * kc, src + m * MR, MR * sizeof(float));
            }
          }
        }
        p += run;
        pos.ow += run - 1;
        pos.next(s);
      }
      t += (g - 1) * MR;
      continue;
    }
    // A strip across filter taps (CI not a multiple of MR): per pixel, one run of channels per tap.
    struct Run {
      long kh, kw, c, r, len;
    };
    Run runs[MR];
    int nruns = 0;
    for (long r = 0; r < mr;) {
      const long k = k0 + r, kt = k / s.ci, c = k % s.ci, len = std::min(mr - r, s.ci - c);
      runs[nruns++] = Run{kt / s.kw, kt % s.kw, c, r, len};
      r += len;
    }
    PixelPos pos(s, p0);
    for (long p = 0; p < kc; p++, pos.next(s)) {
      float* d = dst + p * MR;
      for (int g = 0; g < nruns; g++) {
        const Run& u = runs[g];
        const float* src = pos.at(s, q.x, u.kh, u.kw);
        for (long j = 0; j < u.len; j++) d[u.r + j] = src ? src[u.c + j] : 0.f;
      }
      for (long r = mr; r < MR; r++) d[r] = 0.f;
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
  const std::vector<float> zeros(static_cast<size_t>(std::max(s.ci, static_cast<long>(kGemmMR))), 0.f);
  const ImplicitCols cols{&s, x, zeros.data()};
  gemmPackedA(s.n * P, s.co, K, packColsRows, &cols, F, y, s.co, false, threads);
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
  // Few input channels that are not a multiple of the register tile: most packed strips would
  // straddle filter taps, so copying whole taps once (im2col) is cheaper than the implicit packer.
  const bool explicitCols = s.ci % kGemmMR != 0 && s.ci < 8 * kGemmMR;
  // A partial dW per chunk of images, summed in chunk order: the chunks depend on the shape only,
  // so the result has the same bits for any thread count.
  const long chunk = std::max(1L, std::min(explicitCols ? groupSize(s) : s.n, (s.n + 7) / 8));
  const long chunks = (s.n + chunk - 1) / chunk;
  const long fsize = K * s.co;
  std::vector<float> partial(static_cast<size_t>((chunks - 1) * fsize));
  const std::vector<float> zeros(static_cast<size_t>(std::max(s.ci, static_cast<long>(kGemmMR))), 0.f);
  const bool outer = threads > 1 && chunks >= 2L * threads;
  const int inner = outer ? 1 : threads;
#pragma omp parallel for num_threads(threads) if (outer) schedule(dynamic, 1)
  for (long c = 0; c < chunks; c++) {
    const long n0 = c * chunk, gn = std::min(chunk, s.n - n0);
    float* dst = c == 0 ? df : partial.data() + (c - 1) * fsize;
    const MatView dyc{dy + n0 * P * s.co, s.co, 1};
    if (explicitCols) {
      float* cols = tlsCols.get(static_cast<size_t>(gn * P * K));
      im2col(s, x, n0, gn, cols, inner);
      gemm(K, s.co, gn * P, MatView{cols, 1, K}, dyc, dst, s.co, false, inner);
    } else {
      const ImplicitCols cols{&s, x + n0 * s.h * s.w * s.ci, zeros.data()};
      gemmPackedA(K, s.co, gn * P, packColsT, &cols, dyc, dst, s.co, false, inner);
    }
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
