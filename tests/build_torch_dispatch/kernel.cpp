// One ATen-style CPU kernel, compiled once per CPU capability with -DCPU_CAPABILITY=DEFAULT|AVX2|AVX512 and that
// capability's flags (cmake/Codegen.cmake does the same with aten/src/ATen/native/cpu/*.cpp).
#include "vec.h"

namespace dispatch {
namespace CPU_CAPABILITY {

float kernel(const float* a, const float* b, int n) {
  float blocks = 0.0f;
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) blocks += a[i + j] * b[i + j];
  return blocks + dot_tail(a + i, b + i, n - i);
}

const char* name() { return CPU_CAPABILITY_NAME; }

}  // namespace CPU_CAPABILITY
}  // namespace dispatch
