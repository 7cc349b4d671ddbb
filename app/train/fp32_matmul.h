// --fp32-matmul: how CUDA computes the matmuls left in fp32 under bf16 autocast — the
// generator's vocabulary projection and the losses (about 2.8 TFLOP a step at Base x 512). `tf32`
// (the default) runs them on tensor cores with TF32 inputs and fp32 accumulation, as PyTorch's
// set_float32_matmul_precision("high"); `ieee` keeps full fp32 on CUDA cores. The CPU is not
// affected either way.
#pragma once

#include <ATen/Context.h>

#include <stdexcept>
#include <string>

namespace electra::train {

// Throws std::invalid_argument naming --fp32-matmul for a value other than tf32 or ieee.
inline void check_fp32_matmul_choice(const std::string& choice) {
  if (choice != "tf32" && choice != "ieee") {
    throw std::invalid_argument("--fp32-matmul must be tf32 or ieee (not '" + choice + "')");
  }
}

// Sets it for every CUDA matmul of the process.
inline void use_cuda_fp32_matmul(const std::string& choice) {
  check_fp32_matmul_choice(choice);
  at::globalContext().setFloat32Precision(
      at::Float32Backend::CUDA, at::Float32Op::MATMUL,
      choice == "tf32" ? at::Float32Precision::TF32 : at::Float32Precision::IEEE);
}

}  // namespace electra::train
