// GroupNorm (+ SiLU) forward and backward on NHWC, one image per task (see kernels.h). The
// backward pass recomputes the statistics from x instead of keeping them from the forward pass.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace auv {
namespace {

// exp(x) for float, branch-free so that loops over it vectorize: Cephes' expf polynomial after
// the reduction x = n ln2 + r (relative error ~2e-7 on [-87, 88]).
inline float vexp(float x) {
  x = x < -87.f ? -87.f : (x > 88.f ? 88.f : x);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

inline float sigmoid(float y) { return 1.f / (1.f + vexp(-y)); }

struct Stats {
  std::vector<float> mean, rstd;  // per channel (the group's values repeated)
};

// Mean and 1/sqrt(var + eps) of each group of one image, spread to its channels.
void imageStats(long hw, long c, long groups, double eps, const float* xi, Stats& st, std::vector<double>& acc) {
  const long cg = c / groups;
  const double cnt = static_cast<double>(hw) * cg;
  acc.assign(c, 0.0);
  for (long p = 0; p < hw; p++) {
    const float* r = xi + p * c;
    for (long ch = 0; ch < c; ch++) acc[ch] += r[ch];
  }
  st.mean.resize(c);
  st.rstd.resize(c);
  for (long g = 0; g < groups; g++) {
    double s = 0;
    for (long ch = g * cg; ch < (g + 1) * cg; ch++) s += acc[ch];
    for (long ch = g * cg; ch < (g + 1) * cg; ch++) st.mean[ch] = static_cast<float>(s / cnt);
  }
  acc.assign(c, 0.0);
  for (long p = 0; p < hw; p++) {
    const float* r = xi + p * c;
    for (long ch = 0; ch < c; ch++) {
      const double d = static_cast<double>(r[ch]) - st.mean[ch];
      acc[ch] += d * d;
    }
  }
  for (long g = 0; g < groups; g++) {
    double s = 0;
    for (long ch = g * cg; ch < (g + 1) * cg; ch++) s += acc[ch];
    const float rs = static_cast<float>(1.0 / std::sqrt(s / cnt + eps));
    for (long ch = g * cg; ch < (g + 1) * cg; ch++) st.rstd[ch] = rs;
  }
}

int teamSize(long n, long hw, long c, int threads) {
  if (n < 2 || n * hw * c < (1L << 15)) return 1;
  return static_cast<int>(std::min<long>(threads, n));
}

// Per-channel coefficients repeated over `rep` pixels (rep * c >= 256), so that the elementwise
// passes below run over rep pixels at a time: longer vectorised loops than one pixel's c
// channels (c = 32 or 64 in the diffusion model and the encoders), the same operations per element.
struct Tiles {
  long c, rep;
  std::vector<float> buf;
  Tiles(long channels, int rows) : c(channels), rep(std::max(1L, 256 / channels)), buf(rows * channels * rep) {}
  float* row(int k) { return buf.data() + k * c * rep; }
  void set(int k, const float* v) {
    for (long r = 0; r < rep; r++) std::memcpy(row(k) + r * c, v, c * sizeof(float));
  }
  // body(first pixel, element count) over [0, hw) in runs of rep pixels.
  template <class Body>
  void forRuns(long hw, Body body) const {
    for (long p = 0; p < hw; p += rep) body(p, std::min(rep, hw - p) * c);
  }
};

void affine(long n, bool silu, const float* __restrict x, const float* __restrict a, const float* __restrict b,
            float* __restrict y) {
  if (silu) {
    for (long i = 0; i < n; i++) {
      const float v = x[i] * a[i] + b[i];
      y[i] = v * sigmoid(v);
    }
  } else {
    for (long i = 0; i < n; i++) y[i] = x[i] * a[i] + b[i];
  }
}

// g = dz * silu'(v), v = xhat * gamma + beta, xhat = (x - mean) * rstd.
void siluGrad(long n, const float* __restrict x, const float* __restrict dz, const float* __restrict mean,
              const float* __restrict rstd, const float* __restrict gamma, const float* __restrict beta,
              float* __restrict g) {
  for (long i = 0; i < n; i++) {
    const float xh = (x[i] - mean[i]) * rstd[i];
    const float v = xh * gamma[i] + beta[i];
    const float s = sigmoid(v);
    g[i] = dz[i] * (s * (1.f + v * (1.f - s)));
  }
}

// r = rstd * (r * gamma - ca - xhat * cb) in place.
void inputGrad(long n, const float* __restrict x, const float* __restrict mean, const float* __restrict rstd,
               const float* __restrict gamma, const float* __restrict ca, const float* __restrict cb,
               float* __restrict r) {
  for (long i = 0; i < n; i++) {
    const float xh = (x[i] - mean[i]) * rstd[i];
    r[i] = rstd[i] * (r[i] * gamma[i] - ca[i] - xh * cb[i]);
  }
}

}  // namespace

void groupNorm(long n, long hw, long c, long groups, double eps, bool silu, const float* x, const float* gamma,
               const float* beta, float* y, int threads) {
  const int nt = teamSize(n, hw, c, threads);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    Stats st;
    std::vector<double> acc;
    std::vector<float> a(c), b(c);
    Tiles t(c, 2);
#pragma omp for schedule(static)
    for (long i = 0; i < n; i++) {
      const float* xi = x + i * hw * c;
      float* yi = y + i * hw * c;
      imageStats(hw, c, groups, eps, xi, st, acc);
      for (long ch = 0; ch < c; ch++) {
        a[ch] = st.rstd[ch] * gamma[ch];
        b[ch] = beta[ch] - st.mean[ch] * a[ch];
      }
      t.set(0, a.data());
      t.set(1, b.data());
      t.forRuns(hw, [&](long p, long len) { affine(len, silu, xi + p * c, t.row(0), t.row(1), yi + p * c); });
    }
  }
}

void groupNormGrad(long n, long hw, long c, long groups, double eps, bool silu, const float* dz, const float* x,
                   const float* gamma, const float* beta, float* dx, float* dgamma, float* dbeta, int threads) {
  const long cg = c / groups;
  const double cnt = static_cast<double>(hw) * cg;
  // Per-image channel sums, added in image order afterwards (the same bits for any thread count).
  std::vector<double> dgImg(static_cast<size_t>(n * c)), dbImg(static_cast<size_t>(n * c));
  const int nt = teamSize(n, hw, c, threads);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    Stats st;
    std::vector<double> acc;
    std::vector<float> coefA(c), coefB(c);
    Tiles t(c, 6);  // mean, rstd, gamma, beta, coefA, coefB
    t.set(2, gamma);
    t.set(3, beta);
#pragma omp for schedule(static)
    for (long i = 0; i < n; i++) {
      const float* xi = x + i * hw * c;
      const float* dzi = dz + i * hw * c;
      float* dxi = dx + i * hw * c;
      double* dg = dgImg.data() + i * c;
      double* db = dbImg.data() + i * c;
      imageStats(hw, c, groups, eps, xi, st, acc);
      // Raw pointers: loads through the vectors' members do not vectorise.
      const float* __restrict mean = st.mean.data();
      const float* __restrict rstd = st.rstd.data();
      t.set(0, mean);
      t.set(1, rstd);
      // Pass 1: g = dz * silu'(y) into dx (scratch), then per-channel sums of g and g * xhat (in
      // double, pixel by pixel in order).
      if (silu)
        t.forRuns(hw, [&](long p, long len) {
          siluGrad(len, xi + p * c, dzi + p * c, t.row(0), t.row(1), t.row(2), t.row(3), dxi + p * c);
        });
      else
        std::memcpy(dxi, dzi, hw * c * sizeof(float));
      for (long p = 0; p < hw; p++) {
        const float* __restrict xr = xi + p * c;
        const float* __restrict gr = dxi + p * c;
        for (long ch = 0; ch < c; ch++) {
          const float xh = (xr[ch] - mean[ch]) * rstd[ch];
          db[ch] += gr[ch];
          dg[ch] += static_cast<double>(gr[ch]) * xh;
        }
      }
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) per group, dxhat = g * gamma.
      for (long gi = 0; gi < groups; gi++) {
        double s1 = 0, s2 = 0;
        for (long ch = gi * cg; ch < (gi + 1) * cg; ch++) {
          s1 += gamma[ch] * db[ch];
          s2 += gamma[ch] * dg[ch];
        }
        for (long ch = gi * cg; ch < (gi + 1) * cg; ch++) {
          coefA[ch] = static_cast<float>(s1 / cnt);
          coefB[ch] = static_cast<float>(s2 / cnt);
        }
      }
      t.set(4, coefA.data());
      t.set(5, coefB.data());
      t.forRuns(hw, [&](long p, long len) {
        inputGrad(len, xi + p * c, t.row(0), t.row(1), t.row(2), t.row(4), t.row(5), dxi + p * c);
      });
    }
  }
  for (long ch = 0; ch < c; ch++) {
    double sg = 0, sb = 0;
    for (long i = 0; i < n; i++) {
      sg += dgImg[i * c + ch];
      sb += dbImg[i * c + ch];
    }
    dgamma[ch] = static_cast<float>(sg);
    dbeta[ch] = static_cast<float>(sb);
  }
}

}  // namespace auv
