// Micro-benchmark of the addon's convolution kernels and GEMM (not part of the addon build):
//   g++ -O3 -march=native -fopenmp -std=gnu++17 -Inative bench/native/conv_micro.cc native/gemm.cc
//       native/kernels.cc -o /tmp/conv_micro && /tmp/conv_micro [threads] [reps]
// Times (median of reps) each conv kernel of bench's conv-block and insa-step shapes, plus the
// bare GEMMs of conv-block (forward M=32768 K=576 N=64, filter gradient M=576 K=32768 N=64).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <ctime>
#include <vector>

#include "gemm.h"
#include "kernels.h"

using namespace auv;

// Process CPU time (all threads) when AUV_MICRO_CPU=1: on a shared machine a 1-thread run's CPU
// time leaves out the time other processes held the core; wall time otherwise.
static double nowMs() {
  static const bool cpu = std::getenv("AUV_MICRO_CPU") && std::string(std::getenv("AUV_MICRO_CPU")) == "1";
  if (!cpu) return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double medianMs(int reps, const std::function<void()>& f) {
  f();  // warm-up (buffers, pages)
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    const double a = nowMs();
    f();
    t.push_back(nowMs() - a);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

static std::vector<float> rnd(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

static void report(const char* name, double ms, double flop) {
  std::printf("%-44s %8.2f ms %7.1f GFLOP/s\n", name, ms, flop / ms / 1e6);
}

// SAME-padded k x k conv with stride st.
static ConvShape same(long n, long h, long w, long ci, long co, long k, long st) {
  const long oh = (h + st - 1) / st, ow = (w + st - 1) / st;
  const long ph = std::max(0L, (oh - 1) * st + k - h), pw = std::max(0L, (ow - 1) * st + k - w);
  return ConvShape{n, h, w, ci, oh, ow, co, k, k, st, st, ph / 2, pw / 2, 1, 1};
}

static void convSet(const char* tag, const ConvShape& s, int threads, int reps, double* total) {
  auto x = rnd(s.n * s.h * s.w * s.ci, 1), f = rnd(s.kh * s.kw * s.ci * s.co, 2);
  auto dy = rnd(s.n * s.oh * s.ow * s.co, 3);
  std::vector<float> y(dy.size()), dx(x.size()), df(f.size());
  const double flop = 2.0 * s.n * s.oh * s.ow * s.co * s.kh * s.kw * s.ci;
  char name[128];
  const double a = medianMs(reps, [&] { conv2d(s, x.data(), f.data(), y.data(), threads); });
  std::snprintf(name, sizeof name, "%s fwd", tag);
  report(name, a, flop);
  const double b = medianMs(reps, [&] { conv2dBackpropInput(s, dy.data(), f.data(), dx.data(), threads); });
  std::snprintf(name, sizeof name, "%s dx", tag);
  report(name, b, flop);
  const double c = medianMs(reps, [&] { conv2dBackpropFilter(s, x.data(), dy.data(), df.data(), threads); });
  std::snprintf(name, sizeof name, "%s dW", tag);
  report(name, c, flop);
  if (total) *total += a + b + c;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  const std::string only = argc > 3 ? argv[3] : "all";  // all | gemm | block | insa
  std::printf("threads %d, median of %d, %s time\n", threads, reps, nowMs() < 1e9 ? "CPU" : "wall");
  if (only == "all" || only == "gemm") {
    const long M = 32768, K = 576, N = 64;
    auto A = rnd(M * K, 4), B = rnd(K * N, 5);
    std::vector<float> C(M * N), D(K * N);
    report("gemm fwd M=32768 K=576 N=64", medianMs(reps, [&] {
             gemm(M, N, K, MatView{A.data(), K, 1}, MatView{B.data(), N, 1}, C.data(), N, false, threads);
           }), 2.0 * M * N * K);
    report("gemm dW  M=576 K=32768 N=64 (A^T)", medianMs(reps, [&] {
             gemm(K, N, M, MatView{A.data(), 1, K}, MatView{C.data(), N, 1}, D.data(), N, false, threads);
           }), 2.0 * M * N * K);
  }
  if (only == "all" || only == "block") {
  double block = 0;
  const ConvShape cb = same(32, 32, 32, 64, 64, 3, 1);
  convSet("conv-block 3x3 64->64 32x32 n32", cb, threads, reps, &block);
  std::printf("%-44s %8.2f ms (x2 convs = %.1f ms)\n", "conv-block one conv fwd+dx+dW", block, 2 * block);
  }
  if (only == "all" || only == "insa") {
  double insa = 0;
  // insa-step's victim ResNet on 16 images 64x64 after the 2x2 pool (32x32): stem 3->16 stride 2,
  // stages [16,32,64] (stage i>0 stride 2), 1x1 shortcuts.
  convSet("insa stem 3x3 3->16 s2 32x32", same(16, 32, 32, 3, 16, 3, 2), threads, reps, &insa);
  convSet("insa s1 3x3 16->16 16x16", same(16, 16, 16, 16, 16, 3, 1), threads, reps, &insa);
  convSet("insa s2a 3x3 16->32 s2 16x16", same(16, 16, 16, 16, 32, 3, 2), threads, reps, &insa);
  convSet("insa s2b 3x3 32->32 8x8", same(16, 8, 8, 32, 32, 3, 1), threads, reps, &insa);
  convSet("insa s3a 3x3 32->64 s2 8x8", same(16, 8, 8, 32, 64, 3, 2), threads, reps, &insa);
  convSet("insa s3b 3x3 64->64 4x4", same(16, 4, 4, 64, 64, 3, 1), threads, reps, &insa);
  std::printf("%-44s %8.2f ms (fwd+dx+dW of the listed shapes)\n", "insa convs", insa);
  }
  return 0;
}
