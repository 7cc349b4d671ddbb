// For gpu-labelled tests: without CUDA they skip — or fail where ELECTRA_REQUIRE_GPU=1 says a GPU
// must be there (the GPU host: a build or a machine that lost CUDA must not pass as skipped).
#pragma once

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <cstring>

namespace electra::testing {

inline bool gpu_required() {
  const char* value = std::getenv("ELECTRA_REQUIRE_GPU");
  return value && *value && std::strcmp(value, "0") != 0;
}

}  // namespace electra::testing

// At the top of a gpu test: skips (or fails, under ELECTRA_REQUIRE_GPU=1) without CUDA.
#define ELECTRA_NEED_CUDA()                                                                     \
  do {                                                                                          \
    if (!torch::cuda::is_available()) {                                                         \
      if (electra::testing::gpu_required()) {                                                   \
        FAIL() << "ELECTRA_REQUIRE_GPU=1, but no CUDA device (a CPU build, or no GPU visible)"; \
      }                                                                                         \
      GTEST_SKIP() << "no CUDA device";                                                         \
    }                                                                                           \
  } while (0)
