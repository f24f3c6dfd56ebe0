// Average pooling over NHWC tensors without padding (the encoders' input downsampling), forward
// and gradient. Pads other than zero fall back to the wasm kernels (tfjs' forward averages over the
// in-bounds pixels while its gradient divides by the whole window: the two disagree at borders).
#include <cstring>

#include "kernels.h"

namespace auv {

void avgPool(const PoolShape& s, const float* x, float* y, int threads) {
  const long rowOut = s.ow * s.c;
  const float count = static_cast<float>(s.kh * s.kw);
#pragma omp parallel for num_threads(threads) if (threads > 1 && s.n * s.oh * rowOut > 65536) schedule(static)
  for (long r = 0; r < s.n * s.oh; r++) {
    const long b = r / s.oh, oy = r % s.oh;
    float* out = y + r * rowOut;
    for (long ox = 0; ox < s.ow; ox++) {
      float* o = out + ox * s.c;
      for (long ch = 0; ch < s.c; ch++) o[ch] = 0.f;
      for (long fy = 0; fy < s.kh; fy++) {
        const float* row = x + ((b * s.h + oy * s.sh + fy) * s.w + ox * s.sw) * s.c;
        for (long fx = 0; fx < s.kw; fx++) {
          const float* px = row + fx * s.c;
          for (long ch = 0; ch < s.c; ch++) o[ch] += px[ch];
        }
      }
      for (long ch = 0; ch < s.c; ch++) o[ch] /= count;
    }
  }
}

void avgPoolGrad(const PoolShape& s, const float* dy, float* dx, int threads) {
  const float inv = 1.0f / static_cast<float>(s.kh * s.kw);
  const long image = s.h * s.w * s.c;
  // One image per task: windows of one image may overlap (stride < filter), images never do.
#pragma omp parallel for num_threads(threads) if (threads > 1 && s.n > 1 && s.n * image > 65536) schedule(static)
  for (long b = 0; b < s.n; b++) {
    float* d = dx + b * image;
    std::memset(d, 0, image * sizeof(float));
    for (long oy = 0; oy < s.oh; oy++)
      for (long ox = 0; ox < s.ow; ox++) {
        const float* g = dy + ((b * s.oh + oy) * s.ow + ox) * s.c;
        for (long fy = 0; fy < s.kh; fy++) {
          float* row = d + ((oy * s.sh + fy) * s.w + ox * s.sw) * s.c;
          for (long fx = 0; fx < s.kw; fx++) {
            float* px = row + fx * s.c;
            for (long ch = 0; ch < s.c; ch++) px[ch] += g[ch];
          }
        }
      }
    for (long i = 0; i < image; i++) d[i] *= inv;
  }
}

}  // namespace auv
