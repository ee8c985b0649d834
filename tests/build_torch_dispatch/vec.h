// A helper every kernel copy includes, like ATen's header-inline vector code. It is an inline function, so each
// object file that uses it carries a copy and the linker keeps ONE of them for the whole program: if that copy comes
// from the AVX2 object file, the DEFAULT kernel runs AVX2 code too (the leak of pytorch#43300).
#pragma once

__attribute__((noinline, noclone)) inline float dot_tail(const float* a, const float* b, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
