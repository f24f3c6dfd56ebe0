// Blocked single-precision GEMM for the auv_native addon (written for this project).
//   C[M,N] (+)= A[M,K] * B[K,N]
// A and B are addressed through (row stride, column stride), so every transpose is a stride
// swap. BLIS-style loop order: N in NC columns, K in KC slices (B panel packed once per slice and
// shared by the threads), M in MC row blocks (A block packed per task), then an MR x NR register
// tile computed with GCC vector extensions (the compiler picks the host's vector width through
// -march=native: 8 floats with AVX/AVX2, 16 with AVX-512, 4 otherwise). KC and MC follow the
// shape: a K up to kGemmMaxKC is one slice (C is then written once), MC keeps the packed A block
// near 96 KB so that it stays in L2 next to the B panel.
#pragma once
#include <cstddef>

namespace auv {

struct MatView {
  const float* p;
  long rs;  // distance between rows
  long cs;  // distance between columns
};

// Rows of A per register tile; packed A strips hold this many rows.
constexpr int kGemmMR = 6;
constexpr long kGemmMaxKC = 768;

// Packs rows [i0, i0+mc) x columns [p0, p0+kc) of an A that is not stored as a matrix (implicit
// GEMM, e.g. a convolution reading its image): strips of kGemmMR rows, strip t at
// buf + t*kGemmMR*kc, element (p, r) of a strip at [p*kGemmMR + r], rows past mc zero. It may
// write up to 16 floats past the block (scratch that gemmPackedA allocates).
using PackA = void (*)(const void* ctx, long i0, long mc, long p0, long kc, float* buf);

// threads: the most OpenMP threads this call may use (1 = serial).
void gemm(long M, long N, long K, MatView A, MatView B, float* C, long ldc, bool accumulate, int threads);
// The same product with A supplied by pack(ctx, ...).
void gemmPackedA(long M, long N, long K, PackA pack, const void* ctx, MatView B, float* C, long ldc, bool accumulate,
                 int threads);

}  // namespace auv
