// DispatchStub in miniature: pick the best kernel copy this CPU runs (cpuid), run it, print which one ran.
#include <cstdio>

namespace dispatch {
#define DECLARE(CAP)                                    \
  namespace CAP {                                       \
  float kernel(const float* a, const float* b, int n); \
  const char* name();                                   \
  }
DECLARE(DEFAULT)
#ifdef HAVE_AVX2_CPU_DEFINITION
DECLARE(AVX2)
#endif
#ifdef HAVE_AVX512_CPU_DEFINITION
DECLARE(AVX512)
#endif
}  // namespace dispatch

struct Kernel {
  float (*run)(const float*, const float*, int);
  const char* (*name)();
};

static Kernel choose() {
  __builtin_cpu_init();
#ifdef HAVE_AVX512_CPU_DEFINITION
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return {dispatch::AVX512::kernel, dispatch::AVX512::name};
#endif
#ifdef HAVE_AVX2_CPU_DEFINITION
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {dispatch::AVX2::kernel, dispatch::AVX2::name};
#endif
  return {dispatch::DEFAULT::kernel, dispatch::DEFAULT::name};
}

int main() {
  static float a[1003], b[1003];
  for (int i = 0; i < 1003; ++i) {
    a[i] = static_cast<float>(i % 7);
    b[i] = 0.5f;
  }
  Kernel k = choose();
  float result = k.run(a, b, 1003);
  std::printf("capability=%s result=%.1f\n", k.name(), result);
  return result > 0.0f ? 0 : 1;
}
