// Image kernels of the auv_native addon (written for this project).
#include <cmath>
#include <vector>

#include "kernels.h"

namespace auv {

// Bilinear crop-and-resize in float32, every operation in the order of tfjs-wasm's kernel (and
// TensorFlow's), without fused multiply-adds: the same bits (tested against the wasm kernel).
__attribute__((optimize("fp-contract=off"))) void cropAndResize(long batch, long H, long W, long C, long numBoxes,
                                                                long ch, long cw, const float* image,
                                                                const float* boxes, const int* boxInd, float* out,
                                                                float extrapolation, int threads) {
  const long perBox = ch * cw * C;
  const int nt = numBoxes * perBox >= (1L << 16) ? threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (long b = 0; b < numBoxes; b++) {
    const float y1 = boxes[b * 4], x1 = boxes[b * 4 + 1], y2 = boxes[b * 4 + 2], x2 = boxes[b * 4 + 3];
    const float hm1 = static_cast<float>(H - 1), wm1 = static_cast<float>(W - 1);
    const float hs = (y2 - y1) * hm1 / static_cast<float>(ch - 1);
    const float ws = (x2 - x1) * wm1 / static_cast<float>(cw - 1);
    const float* img = image + boxInd[b] * H * W * C;
    float* o = out + b * perBox;
    // Per output column: the input columns and weight (the same for every row of the box).
    std::vector<long> lxs(cw), rxs(cw);
    std::vector<float> xls(cw);
    std::vector<char> xin(cw);
    for (long x = 0; x < cw; x++) {
      const float c = x1 * wm1, d = static_cast<float>(x) * ws;
      const float inx = c + d;
      xin[x] = !(inx < 0.f || inx > wm1);
      if (!xin[x]) continue;
      lxs[x] = static_cast<long>(std::floor(inx));
      rxs[x] = static_cast<long>(std::ceil(inx));
      xls[x] = inx - static_cast<float>(lxs[x]);
    }
    for (long y = 0; y < ch; y++) {
      const float a = y1 * hm1, bb = static_cast<float>(y) * hs;
      const float iny = a + bb;
      float* row = o + y * cw * C;
      if (iny < 0.f || iny > hm1) {
        for (long k = 0; k < cw * C; k++) row[k] = extrapolation;
        continue;
      }
      const long ty = static_cast<long>(std::floor(iny)), by = static_cast<long>(std::ceil(iny));
      const float yl = iny - static_cast<float>(ty);
      const float* top = img + ty * W * C;
      const float* bot = img + by * W * C;
      for (long x = 0; x < cw; x++) {
        float* px = row + x * C;
        if (!xin[x]) {
          for (long k = 0; k < C; k++) px[k] = extrapolation;
          continue;
        }
        const long lx = lxs[x], rx = rxs[x];
        const float xl = xls[x];
        for (long k = 0; k < C; k++) {
          const float tl = top[lx * C + k], tr = top[rx * C + k], bl = bot[lx * C + k], br = bot[rx * C + k];
          const float t = tl + (tr - tl) * xl;
          const float u = bl + (br - bl) * xl;
          px[k] = t + (u - t) * yl;
        }
      }
    }
  }
}

}  // namespace auv
