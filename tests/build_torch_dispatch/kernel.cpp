// One ATen-style CPU kernel, compiled once per CPU capability with -DCPU_CAPABILITY=DEFAULT|AVX2|AVX512 and that
// capability's flags (cmake/Codegen.cmake does the same with aten/src/ATen/native/cpu/*.cpp). As in ATen, the work
// is done by a file-local function of the same name in every copy: `(anonymous namespace)::block_sum`.
#include "vec.h"

namespace {

__attribute__((noinline)) float block_sum(const float* a, const float* b, int n) {
  float blocks = 0.0f;
  for (int i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) blocks += a[i + j] * b[i + j];
  return blocks;
}

}  // namespace

namespace dispatch {
namespace CPU_CAPABILITY {

float kernel(const float* a, const float* b, int n) {
  int whole = n - n % 8;
  return block_sum(a, b, n) + dot_tail(a + whole, b + whole, n - whole);
}

const char* name() { return CPU_CAPABILITY_NAME; }

}  // namespace CPU_CAPABILITY
}  // namespace dispatch
