// The pixel attacks' Adam step and L-inf projection (src/attacks/pixel-optimize.ts) fused into
// one pass: exactly the float32 operations, in the order, of the tfjs ops it replaces
// (src/core/kernels/pixel_adam.ts, pixelAdamOps), each rounded to float32 as the separate kernels
// round them; fp-contract off so that no multiply-add is fused. Same bits as the ops.
// The options hold for the whole file (scalar.h's selects included, so they inline and vectorise;
// no-trapping-math lets the selects if-convert and changes no value).
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "scalar.h"

namespace auv {

namespace {

// Moments false: the first step, m = v = 0 (the ops multiply zeros: the same bits). A template
// parameter, not a test per element, so that both loops vectorise.
template <bool Moments>
void pixelAdamRange(
    long i0, long i1, const float* __restrict x, const float* __restrict g, const float* __restrict m,
    const float* __restrict v, const float* __restrict x0, float* __restrict ox, float* __restrict om,
    float* __restrict ov, const PixelAdamScalars& s) {
  const float b1 = s.b1, nb1 = s.nb1, b2 = s.b2, nb2 = s.nb2, c1 = s.c1, c2 = s.c2, ea = s.epsAdam, lr = s.lr,
              eps = s.eps;
  for (long i = i0; i < i1; i++) {
    const float gi = g[i];
    const float mi = Moments ? m[i] : 0.f, vi = Moments ? v[i] : 0.f;
    const float m2 = mi * b1 + gi * nb1;             // m.mul(b1).add(g.mul(1 - b1))
    const float v2 = vi * b2 + (gi * gi) * nb2;      // v.mul(b2).add(g.square().mul(1 - b2))
    const float upd = ((m2 / c1) / (std::sqrt(v2 / c2) + ea)) * lr;  // mh.div(vh.sqrt().add(eps)).mul(lr)
    const float xn = x[i] - upd;
    const float lo = x0[i] - eps, hi = x0[i] + eps;  // projectLinf: min(max(x, x0 - eps), x0 + eps), clip 0..1
    om[i] = m2;
    ov[i] = v2;
    ox[i] = clipTf(jsMin(jsMax(xn, lo), hi), 0.f, 1.f);
  }
}

}  // namespace

void pixelAdam(long n, const float* x, const float* g, const float* m, const float* v, const float* x0, float* ox,
               float* om, float* ov, const PixelAdamScalars& s, int threads) {
  const int nt = threads > 1 && n >= (1L << 16) ? threads : 1;
  const long chunk = (n + nt - 1) / nt;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int t = 0; t < nt; t++) {
    const long i0 = t * chunk, i1 = std::min(n, (t + 1) * chunk);
    if (m && v) pixelAdamRange<true>(i0, i1, x, g, m, v, x0, ox, om, ov, s);
    else pixelAdamRange<false>(i0, i1, x, g, m, v, x0, ox, om, ov, s);
  }
}

}  // namespace auv
