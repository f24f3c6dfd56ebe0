// Blocked single-precision GEMM for the auv_native addon (written for this project).
//   C[M,N] (+)= A[M,K] * B[K,N]
// A and B are addressed through (row stride, column stride), so every transpose is a stride
// swap. BLIS-style loop order: N in NC columns, K in KC slices (B panel packed once per slice and
// shared by the threads), M in MC row blocks (A block packed per task), then an MR x NR register
// tile computed with GCC vector extensions (the compiler picks the host's vector width through
// -march=native: 8 floats with AVX/AVX2, 16 with AVX-512, 4 otherwise).
#pragma once
#include <cstddef>

namespace auv {

struct MatView {
  const float* p;
  long rs;  // distance between rows
  long cs;  // distance between columns
};

// threads: the most OpenMP threads this call may use (1 = serial).
void gemm(long M, long N, long K, MatView A, MatView B, float* C, long ldc, bool accumulate, int threads);

}  // namespace auv
