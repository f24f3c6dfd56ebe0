// Average pooling over NHWC tensors without padding (the encoders' input downsampling), forward
// and gradient. Pads other than zero fall back to the wasm kernels (tfjs' forward averages over the
// in-bounds pixels while its gradient divides by the whole window: the two disagree at borders).
// The channel loops are compiled for C = 1, 3 and 4 as well as for any C (the victim encoder pools
// 3-channel images, where a loop of 3 costs more than its additions); every variant adds the
// window's pixels in the same order, so all give the same bits.
#include <cstring>

#include "kernels.h"

namespace auv {

namespace {

// C > 0: the channel count fixed at compile time; 0: s.c.
template <int C>
void avgPoolImpl(const PoolShape& s, const float* x, float* y, int threads) {
  const long c = C > 0 ? C : s.c;
  const long rowOut = s.ow * c;
  const float count = static_cast<float>(s.kh * s.kw);
#pragma omp parallel for num_threads(threads) if (threads > 1 && s.n * s.oh * rowOut > 65536) schedule(static)
  for (long r = 0; r < s.n * s.oh; r++) {
    const long b = r / s.oh, oy = r % s.oh;
    float* out = y + r * rowOut;
    for (long ox = 0; ox < s.ow; ox++) {
      // The window sum in registers (a fixed C) or in the output (any C): the same additions.
      float acc[C > 0 ? C : 1];
      float* o = C > 0 ? acc : out + ox * c;
      for (long ch = 0; ch < c; ch++) o[ch] = 0.f;
      for (long fy = 0; fy < s.kh; fy++) {
        const float* row = x + ((b * s.h + oy * s.sh + fy) * s.w + ox * s.sw) * c;
        for (long fx = 0; fx < s.kw; fx++) {
          const float* px = row + fx * c;
          for (long ch = 0; ch < c; ch++) o[ch] += px[ch];
        }
      }
      for (long ch = 0; ch < c; ch++) out[ox * c + ch] = o[ch] / count;
    }
  }
}

template <int C>
void avgPoolGradImpl(const PoolShape& s, const float* dy, float* dx, int threads) {
  const long c = C > 0 ? C : s.c;
  const float inv = 1.0f / static_cast<float>(s.kh * s.kw);
  const long image = s.h * s.w * c;
  // One image per task: windows of one image may overlap (stride < filter), images never do.
#pragma omp parallel for num_threads(threads) if (threads > 1 && s.n > 1 && s.n * image > 65536) schedule(static)
  for (long b = 0; b < s.n; b++) {
    float* d = dx + b * image;
    std::memset(d, 0, image * sizeof(float));
    for (long oy = 0; oy < s.oh; oy++)
      for (long ox = 0; ox < s.ow; ox++) {
        const float* g = dy + ((b * s.oh + oy) * s.ow + ox) * c;
        for (long fy = 0; fy < s.kh; fy++) {
          float* row = d + ((oy * s.sh + fy) * s.w + ox * s.sw) * c;
          for (long fx = 0; fx < s.kw; fx++) {
            float* px = row + fx * c;
            for (long ch = 0; ch < c; ch++) px[ch] += g[ch];
          }
        }
      }
    for (long i = 0; i < image; i++) d[i] *= inv;
  }
}

}  // namespace

void avgPool(const PoolShape& s, const float* x, float* y, int threads) {
  switch (s.c) {
    case 1: return avgPoolImpl<1>(s, x, y, threads);
    case 3: return avgPoolImpl<3>(s, x, y, threads);
    case 4: return avgPoolImpl<4>(s, x, y, threads);
    default: return avgPoolImpl<0>(s, x, y, threads);
  }
}

void avgPoolGrad(const PoolShape& s, const float* dy, float* dx, int threads) {
  switch (s.c) {
    case 1: return avgPoolGradImpl<1>(s, dy, dx, threads);
    case 3: return avgPoolGradImpl<3>(s, dy, dx, threads);
    case 4: return avgPoolGradImpl<4>(s, dy, dx, threads);
    default: return avgPoolGradImpl<0>(s, dy, dx, threads);
  }
}

}  // namespace auv
