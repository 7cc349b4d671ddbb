// `electra --version`: what a cluster user pastes into a bug report — electra's version (git
// describe), LibTorch, CUDA (runtime, driver, GPUs) and NCCL or "CPU-only", the MPI library and
// HDF5, each as the loaded library reports itself where it can.
#pragma once

#include <string>

namespace electra::cli {

// Several lines, each "name: version ...", ending with a newline.
std::string version_report();

}  // namespace electra::cli
