// Top-k selection per row and CSR sparse x dense products (see kernels.h).
#include <algorithm>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels.h"

namespace auv {
namespace {

struct Entry {
  float v;
  int i;
};
// a ranks before b: larger value, then lower index.
inline bool before(const Entry& a, const Entry& b) { return a.v > b.v || (a.v == b.v && a.i < b.i); }

}  // namespace

void topK(long rows, long cols, long k, const float* x, float* values, int* indices, int threads) {
  const int nt = rows * cols >= (1L << 15) ? threads : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<Entry> heap;  // the k best so far; heap.front() is the worst of them
    heap.reserve(k);
#pragma omp for schedule(static)
    for (long r = 0; r < rows; r++) {
      const float* xr = x + r * cols;
      heap.clear();
      for (long j = 0; j < cols; j++) {
        const Entry e{xr[j], static_cast<int>(j)};
        if (static_cast<long>(heap.size()) < k) {
          heap.push_back(e);
          std::push_heap(heap.begin(), heap.end(), before);
        } else if (before(e, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), before);
          heap.back() = e;
          std::push_heap(heap.begin(), heap.end(), before);
        }
      }
      std::sort_heap(heap.begin(), heap.end(), before);
      for (long j = 0; j < k; j++) {
        values[r * k + j] = heap[j].v;
        indices[r * k + j] = heap[j].i;
      }
    }
  }
}

void spmm(long rows, long d, const int* indptr, const int* indices, const float* values, const float* x, float* y,
          int threads) {
  const long nnz = indptr[rows];
  const int nt = nnz * d >= (1L << 15) ? threads : 1;
  // Sums in double in non-zero order, as the JS kernel (src/core/kernels/spmm.ts): the same bits.
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<double> acc(static_cast<size_t>(d));
#pragma omp for schedule(dynamic, 64)
    for (long i = 0; i < rows; i++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (long p = indptr[i]; p < indptr[i + 1]; p++) {
        const double w = values[p];
        const float* xr = x + static_cast<long>(indices[p]) * d;
        for (long j = 0; j < d; j++) acc[j] += w * xr[j];
      }
      float* yr = y + i * d;
      for (long j = 0; j < d; j++) yr[j] = static_cast<float>(acc[j]);
    }
  }
}

void gatherRows(long batch, long outer, long dim, long nIdx, long slice, const float* x, const int* idx, float* out,
                int threads) {
  const long rows = batch * outer * nIdx;
  const int nt = rows * slice >= (1L << 16) ? threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (long r = 0; r < rows; r++) {
    const long j = r % nIdx, bq = r / nIdx, b = bq / outer;
    std::memcpy(out + r * slice, x + (bq * dim + idx[b * nIdx + j]) * slice, slice * sizeof(float));
  }
}

void segmentSum(long n, long row, long segments, const float* x, const int* ids, float* out, int threads) {
  // Thread t owns segments [segments*t/nt, segments*(t+1)/nt) and scans every id: each segment is
  // summed in index order by one thread (the same bits for any thread count).
  const int nt = n * row >= (1L << 16) ? threads : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int t = 0, T = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    T = omp_get_num_threads();
#endif
    const long s0 = segments * t / T, s1 = segments * (t + 1) / T;
    std::memset(out + s0 * row, 0, (s1 - s0) * row * sizeof(float));
    for (long i = 0; i < n; i++) {
      const long s = ids[i];
      if (s < s0 || s >= s1) continue;
      float* o = out + s * row;
      const float* xi = x + i * row;
      for (long k = 0; k < row; k++) o[k] += xi[k];
    }
  }
}

}  // namespace auv
