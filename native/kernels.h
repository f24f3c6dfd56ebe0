// Tensor kernels of the auv_native addon, on raw float buffers (NHWC activations, HWIO filters).
#pragma once

namespace auv {

struct ConvShape {
  long n, h, w, ci;  // input
  long oh, ow, co;   // output
  long kh, kw;       // filter
  long sh, sw;       // strides
  long pt, pl;       // top / left padding (bottom / right follow from the output size)
  long dh, dw;       // dilations
};

// y[n,oh,ow,co] = sum x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, ci] * f[kh,kw,ci,co]
void conv2d(const ConvShape& s, const float* x, const float* f, float* y, int threads);
// dx of conv2d given dy.
void conv2dBackpropInput(const ConvShape& s, const float* dy, const float* f, float* dx, int threads);
// df of conv2d given x and dy.
void conv2dBackpropFilter(const ConvShape& s, const float* x, const float* dy, float* df, int threads);

// c[b] = op(a[b]) * op(b[b]) for b < batch; batch strides 0 broadcast one matrix.
void batchMatMul(long batch, long strideA, long strideB, long M, long N, long K, bool transA, bool transB,
                 const float* a, const float* b, float* c, int threads);

// Fused Adam step (tf.train.adam's arithmetic); outputs may not alias inputs.
void adam(long n, const float* x, const float* g, const float* m, const float* v, float* ox, float* om, float* ov,
          double lr, double b1, double b2, double eps, double c1, double c2, int threads);

// tf.image.cropAndResize, bilinear: image [batch, H, W, C], boxes [numBoxes, 4] (y1, x1, y2, x2
// normalised), boxInd [numBoxes] (checked to lie in [0, batch)) -> out [numBoxes, ch, cw, C];
// ch, cw > 1. Points outside the image get `extrapolation`.
void cropAndResize(long batch, long H, long W, long C, long numBoxes, long ch, long cw, const float* image,
                   const float* boxes, const int* boxInd, float* out, float extrapolation, int threads);

}  // namespace auv

namespace auv {

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kReluGrad = 6 };

// out = a op b over `rank` dims of `shape` (row-major, contiguous out); sa / sb are the inputs'
// element strides per dim, 0 where broadcast. The last dim's strides must be 0 or 1.
void binary(int op, int rank, const long* shape, const long* sa, const long* sb, const float* a, const float* b,
            float* out, int threads);

// out[...] = sum of x over the dims whose out stride `so` is 0, divided by `divisor` (1 for a
// sum, the count for a mean). `outSize` elements of out, contiguous.
void reduceSum(int rank, const long* shape, const long* so, const float* x, float* out, long outSize, double divisor,
               int threads);

enum UnaryOp { kSquare = 0, kNeg = 1, kRelu = 2, kAbs = 3, kClip = 4 };

// out[i] = op(x[i]), i < n: x*x, -x, max(0, x) (+0 for -0, NaN kept), |x|,
// x > hi ? hi : x < lo ? lo : x (clip; lo / hi unused otherwise). Single exact IEEE operations, so results
// equal the wasm kernels' bit for bit.
void unary(int op, long n, const float* x, float* out, float lo, float hi, int threads);

// dst[i] = src[i], i < n (no overlap).
void copy(long n, const float* src, float* dst, int threads);

// Row b < outer of `whole` = [parts[0] run b, ..., parts[nParts-1] run b], part i's run b being the
// inner[i] elements at parts[i] + b * inner[i]: toWhole copies the parts into whole (tf.concat),
// otherwise whole into the parts (SplitV).
void blockCopy(long outer, int nParts, float* whole, float* const* parts, const long* inner, bool toWhole,
               int threads);

// GroupNorm over NHWC x viewed as [n, hw, c] with `groups` groups of c/groups channels (biased
// variance, two passes in double), then y = xhat * gamma + beta, then y * sigmoid(y) if silu.
void groupNorm(long n, long hw, long c, long groups, double eps, bool silu, const float* x, const float* gamma,
               const float* beta, float* y, int threads);
// Gradients of groupNorm given dz (the output gradient): dx, dgamma, dbeta.
void groupNormGrad(long n, long hw, long c, long groups, double eps, bool silu, const float* dz, const float* x,
                   const float* gamma, const float* beta, float* dx, float* dgamma, float* dbeta, int threads);

// Per row of x [rows, cols]: the k largest values, largest first (ties: lower index first, as
// tfjs), and their column indices.
void topK(long rows, long cols, long k, const float* x, float* values, int* indices, int threads);

// y[rows, d] = A x for A in CSR form (indptr rows+1, indices / values nnz) and x [cols, d].
void spmm(long rows, long d, const int* indptr, const int* indices, const float* values, const float* x, float* y,
          int threads);

// out[(b*outer + q)*nIdx + j] = x[(b*outer + q)*dim + idx[b*nIdx + j]] rows of `slice` floats
// (tf.gather with batch dims); indices already checked to lie in [0, dim).
void gatherRows(long batch, long outer, long dim, long nIdx, long slice, const float* x, const int* idx, float* out,
                int threads);

// out[s] = sum of x[i] over i with ids[i] == s (rows of `row` floats, in index order); ids
// outside [0, segments) are dropped.
void segmentSum(long n, long row, long segments, const float* x, const int* ids, float* out, int threads);

// tf.image.cropAndResize, bilinear: image [batch, H, W, C], boxes [numBoxes, 4] (y1, x1, y2, x2
// normalised), boxInd [numBoxes] (checked to lie in [0, batch)) -> out [numBoxes, ch, cw, C];
// ch, cw > 1. Points outside the image get `extrapolation`.
void cropAndResize(long batch, long H, long W, long C, long numBoxes, long ch, long cw, const float* image,
                   const float* boxes, const int* boxInd, float* out, float extrapolation, int threads);
// Average pooling, NHWC, no padding, no dilation: x [n,h,w,c] -> y [n,oh,ow,c] with windows
// kh x kw at strides sh, sw (the window lies inside x: (oh-1)*sh + kh <= h, likewise w).
struct PoolShape {
  long n, h, w, c, oh, ow, kh, kw, sh, sw;
};
// y = window sum (in window order, float) divided by kh*kw.
void avgPool(const PoolShape& s, const float* x, float* y, int threads);
// dx = sum of dy over the windows that hold each pixel, times 1/(kh*kw).
void avgPoolGrad(const PoolShape& s, const float* dy, float* dx, int threads);

// The pixel attacks' Adam step + L-inf projection in one pass (pixel.cc): the float32 scalars as
// tfjs makes them from the JS numbers (b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, Adam's epsilon, lr, ball eps).
struct PixelAdamScalars {
  float b1, nb1, b2, nb2, c1, c2, epsAdam, lr, eps;
};
// m, v may be null (first step: zero moments). Outputs may not alias inputs.
void pixelAdam(long n, const float* x, const float* g, const float* m, const float* v, const float* x0, float* ox,
               float* om, float* ov, const PixelAdamScalars& s, int threads);

}  // namespace auv
