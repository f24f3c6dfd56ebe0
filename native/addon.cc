// Node-API entry points of auv_native (plain node_api.h, no node-addon-api). Every function
// takes Float32Array views (typically of the tfjs wasm heap, a SharedArrayBuffer when wasm
// threads are on) and works on them in place: no tensor is copied. Sizes are checked against the
// views' lengths before any kernel runs, so a wrong call throws instead of writing out of bounds.
#include <node_api.h>

#include <cstdio>
#include <string>

#include "kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

int gThreads = 1;

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  bool ok = true;

  Args(napi_env e, napi_callback_info info) : env(e) {
    if (napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr) != napi_ok) fail("bad call");
  }
  void fail(const std::string& msg) {
    if (ok) napi_throw_error(env, nullptr, ("auv_native: " + msg).c_str());
    ok = false;
  }
  // Float32Array argument i with at least `need` elements.
  float* f32(size_t i, long need) {
    if (!ok) return nullptr;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_float32_array) {
      fail("argument " + std::to_string(i) + " must be a Float32Array");
      return nullptr;
    }
    if (need < 0 || length < static_cast<size_t>(need)) {
      fail("argument " + std::to_string(i) + " has " + std::to_string(length) + " elements, needs " +
           std::to_string(need));
      return nullptr;
    }
    return static_cast<float*>(data);
  }
  // Int32Array argument i with exactly n elements.
  const int* i32(size_t i, size_t n) {
    if (!ok) return nullptr;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array || length != n) {
      fail("argument " + std::to_string(i) + " must be an Int32Array of length " + std::to_string(n));
      return nullptr;
    }
    return static_cast<const int*>(data);
  }
  double num(size_t i) {
    double v = 0;
    if (ok && (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok)) fail("argument " + std::to_string(i) + " must be a number");
    return v;
  }
};

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// conv params: Int32Array [n,h,w,ci, oh,ow,co, kh,kw, sh,sw, pt,pl, dh,dw]
bool convShape(Args& a, size_t i, auv::ConvShape& s) {
  const int* p = a.i32(i, 15);
  if (!p) return false;
  s = auv::ConvShape{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.ci < 1 || s.oh < 1 || s.ow < 1 || s.co < 1 || s.kh < 1 || s.kw < 1 ||
      s.sh < 1 || s.sw < 1 || s.dh < 1 || s.dw < 1 || s.pt < 0 || s.pl < 0) {
    a.fail("invalid convolution shape");
    return false;
  }
  return true;
}

// conv2d(x, f, y, params)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args a(env, info);
  auv::ConvShape s;
  if (!convShape(a, 3, s)) return undef(env);
  const float* x = a.f32(0, s.n * s.h * s.w * s.ci);
  const float* f = a.f32(1, s.kh * s.kw * s.ci * s.co);
  float* y = a.f32(2, s.n * s.oh * s.ow * s.co);
  if (a.ok) auv::conv2d(s, x, f, y, gThreads);
  return undef(env);
}

// conv2dBackpropInput(dy, f, dx, params)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  Args a(env, info);
  auv::ConvShape s;
  if (!convShape(a, 3, s)) return undef(env);
  const float* dy = a.f32(0, s.n * s.oh * s.ow * s.co);
  const float* f = a.f32(1, s.kh * s.kw * s.ci * s.co);
  float* dx = a.f32(2, s.n * s.h * s.w * s.ci);
  if (a.ok) auv::conv2dBackpropInput(s, dy, f, dx, gThreads);
  return undef(env);
}

// conv2dBackpropFilter(x, dy, df, params)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Args a(env, info);
  auv::ConvShape s;
  if (!convShape(a, 3, s)) return undef(env);
  const float* x = a.f32(0, s.n * s.h * s.w * s.ci);
  const float* dy = a.f32(1, s.n * s.oh * s.ow * s.co);
  float* df = a.f32(2, s.kh * s.kw * s.ci * s.co);
  if (a.ok) auv::conv2dBackpropFilter(s, x, dy, df, gThreads);
  return undef(env);
}

// batchMatMul(a, b, c, params) params: Int32Array [batch, broadcastA, broadcastB, M, N, K, transA, transB]
napi_value BatchMatMul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int* p = a.i32(3, 8);
  if (!p) return undef(env);
  const long batch = p[0], M = p[3], N = p[4], K = p[5];
  const bool bcA = p[1] != 0, bcB = p[2] != 0;
  if (batch < 1 || M < 1 || N < 1 || K < 1) {
    a.fail("invalid matmul shape");
    return undef(env);
  }
  const float* A = a.f32(0, (bcA ? 1 : batch) * M * K);
  const float* B = a.f32(1, (bcB ? 1 : batch) * K * N);
  float* C = a.f32(2, batch * M * N);
  if (a.ok) auv::batchMatMul(batch, bcA ? 0 : M * K, bcB ? 0 : K * N, M, N, K, p[6] != 0, p[7] != 0, A, B, C, gThreads);
  return undef(env);
}

// Int32Array [rank, shape[rank], strides[rank] x count]; false (and a thrown error) if malformed.
bool stridedShape(Args& a, size_t i, int count, int& rank, long* shape, long* const* strides) {
  if (!a.ok) return false;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (i >= a.argc || napi_get_typedarray_info(a.env, a.argv[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || length < 1) {
    a.fail("argument " + std::to_string(i) + " must be an Int32Array [rank, shape, strides]");
    return false;
  }
  const int* p = static_cast<const int*>(data);
  rank = p[0];
  if (rank < 1 || rank > 8 || length != static_cast<size_t>(1 + rank * (1 + count))) {
    a.fail("argument " + std::to_string(i) + " has a bad rank or length");
    return false;
  }
  for (int d = 0; d < rank; d++) {
    shape[d] = p[1 + d];
    if (shape[d] < 1) {
      a.fail("argument " + std::to_string(i) + " has an empty dimension");
      return false;
    }
    for (int c = 0; c < count; c++) {
      strides[c][d] = p[1 + rank * (1 + c) + d];
      if (strides[c][d] < 0) {
        a.fail("argument " + std::to_string(i) + " has a negative stride");
        return false;
      }
    }
  }
  return true;
}

// Elements a strided view spans: 1 + sum (shape-1) * stride.
long span(int rank, const long* shape, const long* stride) {
  long s = 1;
  for (int d = 0; d < rank; d++) s += (shape[d] - 1) * stride[d];
  return s;
}

long count(int rank, const long* shape) {
  long n = 1;
  for (int d = 0; d < rank; d++) n *= shape[d];
  return n;
}

// binary(op, a, b, out, dims) op: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 relu gradient (dy, x); dims [rank, shape, strideA, strideB]
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const double op = a.num(0);
  int rank = 0;
  long shape[8], sa[8], sb[8];
  long* strides[2] = {sa, sb};
  if (!stridedShape(a, 4, 2, rank, shape, strides)) return undef(env);
  if (op < 0 || op > 6 || (sa[rank - 1] > 1) || (sb[rank - 1] > 1)) {
    a.fail("bad binary op or inner stride");
    return undef(env);
  }
  const float* A = a.f32(1, span(rank, shape, sa));
  const float* B = a.f32(2, span(rank, shape, sb));
  float* O = a.f32(3, count(rank, shape));
  if (a.ok) auv::binary(static_cast<int>(op), rank, shape, sa, sb, A, B, O, gThreads);
  return undef(env);
}

// unary(op, x, out[, lo, hi]) op: 0 square, 1 neg, 2 relu, 3 abs, 4 clip to [lo, hi]; out has x's length.
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const double op = a.num(0);
  napi_typedarray_type type;
  size_t n = 0;
  if (a.ok && (op < 0 || op > 4 || a.argc < (op == 4 ? 5 : 3) ||
               napi_get_typedarray_info(env, a.argv[1], &type, &n, nullptr, nullptr, nullptr) != napi_ok)) {
    a.fail("unary needs an op in 0..4, two Float32Arrays (and lo, hi for clip)");
    return undef(env);
  }
  const long len = static_cast<long>(n);
  const float* X = a.f32(1, len);
  float* O = a.f32(2, len);
  const float lo = op == 4 ? static_cast<float>(a.num(3)) : 0.f, hi = op == 4 ? static_cast<float>(a.num(4)) : 0.f;
  if (a.ok) auv::unary(static_cast<int>(op), len, X, O, lo, hi, gThreads);
  return undef(env);
}

// reduceSum(x, out, dims, outSize, divisor) dims [rank, shape, outStride]
napi_value ReduceSum(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int rank = 0;
  long shape[8], so[8];
  long* strides[1] = {so};
  if (!stridedShape(a, 2, 1, rank, shape, strides)) return undef(env);
  const double outSize = a.num(3), divisor = a.num(4);
  if (a.ok && (outSize < 1 || span(rank, shape, so) > outSize)) a.fail("output strides exceed the output size");
  const float* X = a.f32(0, count(rank, shape));
  float* O = a.f32(1, static_cast<long>(outSize));
  if (a.ok) auv::reduceSum(rank, shape, so, X, O, static_cast<long>(outSize), divisor, gThreads);
  return undef(env);
}

// copy(src, dst): dst[i] = src[i] over src's length (V8 copies SharedArrayBuffer views with
// relaxed atomics, element by element; this is a plain memcpy, split over the threads).
napi_value Copy(napi_env env, napi_callback_info info) {
  Args a(env, info);
  napi_typedarray_type type;
  size_t n = 0;
  if (a.argc < 2 || napi_get_typedarray_info(env, a.argv[0], &type, &n, nullptr, nullptr, nullptr) != napi_ok) {
    a.fail("copy needs two Float32Arrays");
    return undef(env);
  }
  const float* src = a.f32(0, static_cast<long>(n));
  float* dst = a.f32(1, static_cast<long>(n));
  if (a.ok) auv::copy(static_cast<long>(n), src, dst, gThreads);
  return undef(env);
}

// Block copies between one matrix of rows [run 0 | run 1 | ...] (`whole`) and the runs' own
// arrays (`parts`, 1 to 13), args (whole, outer, inner Int32Array, part0, part1, ...).
// concat: the parts into whole (tf.concat, any 4-byte dtype); split: whole into the parts (SplitV).
napi_value BlockCopy(napi_env env, napi_callback_info info, bool toWhole) {
  Args a(env, info);
  constexpr int kMaxParts = 13;
  const int nParts = static_cast<int>(a.argc) - 3;
  const char* name = toWhole ? "concat" : "split";
  if (nParts < 1 || nParts > kMaxParts) {
    a.fail(std::string(name) + " takes the whole, outer, inner and 1 to 13 parts");
    return undef(env);
  }
  const long outer = static_cast<long>(a.num(1));
  const int* in32 = a.i32(2, nParts);
  if (a.ok && outer < 0) a.fail(std::string(name) + ": negative outer size");
  if (!a.ok) return undef(env);
  long inner[kMaxParts], row = 0;
  float* parts[kMaxParts];
  for (int i = 0; i < nParts; i++) {
    inner[i] = in32[i];
    if (inner[i] < 0) a.fail(std::string(name) + ": negative inner size");
    row += inner[i];
    parts[i] = a.f32(3 + i, outer * inner[i]);
  }
  float* whole = a.f32(0, outer * row);
  if (!a.ok) return undef(env);
  auv::blockCopy(outer, nParts, whole, parts, inner, toWhole, gThreads);
  return undef(env);
}
napi_value Concat(napi_env env, napi_callback_info info) { return BlockCopy(env, info, true); }
napi_value Split(napi_env env, napi_callback_info info) { return BlockCopy(env, info, false); }

// params Int32Array [n, hw, c, groups, silu]; false (and a thrown error) if malformed.
bool gnShape(Args& a, size_t i, long* p) {
  const int* q = a.i32(i, 5);
  if (!q) return false;
  for (int k = 0; k < 5; k++) p[k] = q[k];
  if (p[0] < 1 || p[1] < 1 || p[2] < 1 || p[3] < 1 || p[2] % p[3] != 0) {
    a.fail("invalid GroupNorm shape");
    return false;
  }
  return true;
}

// groupNorm(x, gamma, beta, y, params, eps)
napi_value GroupNorm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  long p[5];
  if (!gnShape(a, 4, p)) return undef(env);
  const long total = p[0] * p[1] * p[2];
  const float* x = a.f32(0, total);
  const float* gamma = a.f32(1, p[2]);
  const float* beta = a.f32(2, p[2]);
  float* y = a.f32(3, total);
  const double eps = a.num(5);
  if (a.ok) auv::groupNorm(p[0], p[1], p[2], p[3], eps, p[4] != 0, x, gamma, beta, y, gThreads);
  return undef(env);
}

// groupNormGrad(dz, x, gamma, beta, dx, dgamma, dbeta, params, eps)
napi_value GroupNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  long p[5];
  if (!gnShape(a, 7, p)) return undef(env);
  const long total = p[0] * p[1] * p[2];
  const float* dz = a.f32(0, total);
  const float* x = a.f32(1, total);
  const float* gamma = a.f32(2, p[2]);
  const float* beta = a.f32(3, p[2]);
  float* dx = a.f32(4, total);
  float* dgamma = a.f32(5, p[2]);
  float* dbeta = a.f32(6, p[2]);
  const double eps = a.num(8);
  if (a.ok) auv::groupNormGrad(p[0], p[1], p[2], p[3], eps, p[4] != 0, dz, x, gamma, beta, dx, dgamma, dbeta, gThreads);
  return undef(env);
}

// Int32Array argument i with at least `need` elements (a writable view).
int* i32out(Args& a, size_t i, long need) {
  if (!a.ok) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (i >= a.argc || napi_get_typedarray_info(a.env, a.argv[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || length < static_cast<size_t>(need)) {
    a.fail("argument " + std::to_string(i) + " must be an Int32Array of at least " + std::to_string(need) + " elements");
    return nullptr;
  }
  return static_cast<int*>(data);
}

// topK(x, values, indices, rows, cols, k)
napi_value TopK(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const long rows = static_cast<long>(a.num(3)), cols = static_cast<long>(a.num(4)), k = static_cast<long>(a.num(5));
  if (a.ok && (rows < 1 || cols < 1 || k < 1 || k > cols)) a.fail("topK needs 1 <= k <= cols");
  const float* x = a.f32(0, rows * cols);
  float* values = a.f32(1, rows * k);
  int* indices = i32out(a, 2, rows * k);
  if (a.ok) auv::topK(rows, cols, k, x, values, indices, gThreads);
  return undef(env);
}

// spmm(indptr, indices, values, x, y, rows, cols, d)
napi_value Spmm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const long rows = static_cast<long>(a.num(5)), cols = static_cast<long>(a.num(6)), d = static_cast<long>(a.num(7));
  if (a.ok && (rows < 1 || cols < 1 || d < 1)) a.fail("spmm needs positive sizes");
  const int* indptr = i32out(a, 0, rows + 1);
  if (!a.ok) return undef(env);
  const long nnz = indptr[rows];
  bool valid = indptr[0] == 0 && nnz >= 0;
  for (long i = 0; valid && i < rows; i++) valid = indptr[i] <= indptr[i + 1];
  if (!valid) {
    a.fail("spmm: indptr is not a CSR row pointer");
    return undef(env);
  }
  const int* indices = i32out(a, 1, nnz);
  const float* values = a.f32(2, nnz);
  const float* x = a.f32(3, cols * d);
  float* y = a.f32(4, rows * d);
  if (!a.ok) return undef(env);
  for (long p = 0; p < nnz; p++) {
    if (indices[p] < 0 || indices[p] >= cols) {
      a.fail("spmm: column index out of range");
      return undef(env);
    }
  }
  auv::spmm(rows, d, indptr, indices, values, x, y, gThreads);
  return undef(env);
}

// cropAndResize(image, boxes, boxInd, out, batch, H, W, C, numBoxes, ch, cw, extrapolation)
napi_value CropAndResize(napi_env env, napi_callback_info info) {
  Args a(env, info);
  long d[7];
  for (int k = 0; k < 7; k++) d[k] = static_cast<long>(a.num(4 + k));
  const double extrapolation = a.num(11);
  const long batch = d[0], H = d[1], W = d[2], C = d[3], numBoxes = d[4], ch = d[5], cw = d[6];
  if (a.ok && (batch < 1 || H < 1 || W < 1 || C < 1 || numBoxes < 1 || ch < 2 || cw < 2)) a.fail("cropAndResize needs positive sizes and crops of at least 2 x 2");
  const float* image = a.f32(0, batch * H * W * C);
  const float* boxes = a.f32(1, numBoxes * 4);
  const int* boxInd = i32out(a, 2, numBoxes);
  float* out = a.f32(3, numBoxes * ch * cw * C);
  if (!a.ok) return undef(env);
  for (long b = 0; b < numBoxes; b++) {
    if (boxInd[b] < 0 || boxInd[b] >= batch) {
      a.fail("cropAndResize: box index " + std::to_string(boxInd[b]) + " is not in [0, " + std::to_string(batch) + ")");
      return undef(env);
    }
  }
  auv::cropAndResize(batch, H, W, C, numBoxes, ch, cw, image, boxes, boxInd, out, static_cast<float>(extrapolation), gThreads);
  return undef(env);
}

// gather(x, idx, out, batch, outer, dim, nIdx, slice); throws on an index outside [0, dim)
napi_value Gather(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const long batch = static_cast<long>(a.num(3)), outer = static_cast<long>(a.num(4)), dim = static_cast<long>(a.num(5));
  const long nIdx = static_cast<long>(a.num(6)), slice = static_cast<long>(a.num(7));
  if (a.ok && (batch < 1 || outer < 1 || dim < 1 || nIdx < 1 || slice < 1)) a.fail("gather needs positive sizes");
  const float* x = a.f32(0, batch * outer * dim * slice);
  const int* idx = i32out(a, 1, batch * nIdx);
  float* out = a.f32(2, batch * outer * nIdx * slice);
  if (!a.ok) return undef(env);
  for (long i = 0; i < batch * nIdx; i++) {
    if (idx[i] < 0 || idx[i] >= dim) {
      a.fail("GatherV2: the index value " + std::to_string(idx[i]) + " is not in [0, " + std::to_string(dim - 1) + "]");
      return undef(env);
    }
  }
  auv::gatherRows(batch, outer, dim, nIdx, slice, x, idx, out, gThreads);
  return undef(env);
}

// segmentSum(x, ids, out, n, row, segments)
napi_value SegmentSum(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const long n = static_cast<long>(a.num(3)), row = static_cast<long>(a.num(4)), segments = static_cast<long>(a.num(5));
  if (a.ok && (n < 0 || row < 1 || segments < 1)) a.fail("segmentSum needs positive sizes");
  const float* x = a.f32(0, n * row);
  const int* ids = i32out(a, 1, n);
  float* out = a.f32(2, segments * row);
  if (a.ok) auv::segmentSum(n, row, segments, x, ids, out, gThreads);
  return undef(env);
}

// adam(x, g, m, v, ox, om, ov, lr, b1, b2, eps, c1, c2)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info);
  napi_typedarray_type type;
  size_t n = 0;
  if (a.argc < 13 || napi_get_typedarray_info(env, a.argv[0], &type, &n, nullptr, nullptr, nullptr) != napi_ok) {
    a.fail("adam needs 7 Float32Arrays and 6 numbers");
    return undef(env);
  }
  const long len = static_cast<long>(n);
  const float* x = a.f32(0, len);
  const float* g = a.f32(1, len);
  const float* m = a.f32(2, len);
  const float* v = a.f32(3, len);
  float* ox = a.f32(4, len);
  float* om = a.f32(5, len);
  float* ov = a.f32(6, len);
  const double lr = a.num(7), b1 = a.num(8), b2 = a.num(9), eps = a.num(10), c1 = a.num(11), c2 = a.num(12);
  if (a.ok) auv::adam(len, x, g, m, v, ox, om, ov, lr, b1, b2, eps, c1, c2, gThreads);
  return undef(env);
}

// pixelAdam(x, g, m|null, v|null, x0, ox, om, ov, scalars): the fused pixel Adam step + L-inf
// projection (pixel.cc); scalars Float32Array [b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, epsAdam, lr, eps],
// rounded to float32 in JS as tfjs rounds a number operand.
napi_value PixelAdam(napi_env env, napi_callback_info info) {
  Args a(env, info);
  napi_typedarray_type type;
  size_t n = 0;
  if (a.argc < 9 || napi_get_typedarray_info(env, a.argv[0], &type, &n, nullptr, nullptr, nullptr) != napi_ok) {
    a.fail("pixelAdam needs x, g, m, v, x0, ox, om, ov and a Float32Array of 9 scalars");
    return undef(env);
  }
  const long len = static_cast<long>(n);
  auto optional = [&](size_t i) -> const float* {
    napi_valuetype t;
    if (a.ok && napi_typeof(env, a.argv[i], &t) == napi_ok && t == napi_null) return nullptr;
    return a.f32(i, len);
  };
  const float* x = a.f32(0, len);
  const float* g = a.f32(1, len);
  const float* m = optional(2);
  const float* v = optional(3);
  const float* x0 = a.f32(4, len);
  float* ox = a.f32(5, len);
  float* om = a.f32(6, len);
  float* ov = a.f32(7, len);
  const float* sc = a.f32(8, 9);
  if (a.ok && (m == nullptr) != (v == nullptr)) a.fail("pixelAdam: m and v must both be arrays or both null");
  if (!a.ok) return undef(env);
  const auv::PixelAdamScalars s{sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7], sc[8]};
  auv::pixelAdam(len, x, g, m, v, x0, ox, om, ov, s, gThreads);
  return undef(env);
}

// avgPool(x, y, params) / avgPoolGrad(dy, dx, params), params Int32Array [n,h,w,c, oh,ow, kh,kw, sh,sw].
bool poolShape(Args& a, size_t i, auv::PoolShape& s) {
  const int* p = a.i32(i, 10);
  if (!a.ok) return false;
  s = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]};
  const bool fits = s.n > 0 && s.c > 0 && s.oh > 0 && s.ow > 0 && s.kh > 0 && s.kw > 0 && s.sh > 0 && s.sw > 0 &&
                    (s.oh - 1) * s.sh + s.kh <= s.h && (s.ow - 1) * s.sw + s.kw <= s.w;
  if (!fits) a.fail("avgPool: windows do not fit inside the input");
  return a.ok;
}

// The forward reads x [n,h,w,c] and writes y [n,oh,ow,c]; the gradient reads dy and writes dx.
napi_value Pool(napi_env env, napi_callback_info info, bool grad) {
  Args a(env, info);
  auv::PoolShape s{};
  if (!poolShape(a, 2, s)) return undef(env);
  const long image = s.n * s.h * s.w * s.c, pooled = s.n * s.oh * s.ow * s.c;
  const float* in = a.f32(0, grad ? pooled : image);
  float* out = a.f32(1, grad ? image : pooled);
  if (a.ok) (grad ? auv::avgPoolGrad : auv::avgPool)(s, in, out, gThreads);
  return undef(env);
}
napi_value AvgPool(napi_env env, napi_callback_info info) { return Pool(env, info, false); }
napi_value AvgPoolGrad(napi_env env, napi_callback_info info) { return Pool(env, info, true); }

// setThreads(n): threads for every later call (1 = serial); returns the value in effect.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const double n = a.num(0);
  if (a.ok) {
#ifdef _OPENMP
    gThreads = n < 1 ? 1 : static_cast<int>(n);
#else
    gThreads = 1;
#endif
  }
  napi_value r;
  napi_create_int32(env, gThreads, &r);
  return r;
}

// buildInfo(): compiler, vector width and OpenMP state, for benchmark records.
napi_value BuildInfo(napi_env env, napi_callback_info) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "g++ %d.%d, %s, %s", __GNUC__, __GNUC_MINOR__,
#if defined(__AVX512F__)
                "avx512",
#elif defined(__AVX2__)
                "avx2",
#elif defined(__AVX__)
                "avx",
#else
                "generic",
#endif
#ifdef _OPENMP
                "openmp"
#else
                "serial"
#endif
  );
  napi_value r;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchMatMul", nullptr, BatchMatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceSum", nullptr, ReduceSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copy", nullptr, Copy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNorm", nullptr, GroupNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNormGrad", nullptr, GroupNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"topK", nullptr, TopK, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"spmm", nullptr, Spmm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gather", nullptr, Gather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cropAndResize", nullptr, CropAndResize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"segmentSum", nullptr, SegmentSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPool", nullptr, AvgPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPoolGrad", nullptr, AvgPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pixelAdam", nullptr, PixelAdam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"split", nullptr, Split, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"buildInfo", nullptr, BuildInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
