#include "app/cli/version_report.h"

#include <H5public.h>
#include <mpi.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <sstream>

#include "app/electra_version.h"

#ifdef ELECTRA_WITH_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace electra::cli {
namespace {

#ifdef ELECTRA_WITH_CUDA
// "13.0" from CUDA's 13000.
std::string cuda_version_text(int code) {
  return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 10);
}

std::string cuda_line() {
  int runtime = 0, driver = 0;
  std::string text = cuda_version_text(CUDART_VERSION) + " (compiled)";
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) {
    text += ", runtime " + cuda_version_text(runtime);
  }
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) {
    text += ", driver " + cuda_version_text(driver);
  } else {
    text += ", no driver";
  }
  text += ", " + std::to_string(torch::cuda::device_count()) + " GPU(s) visible";
  return text;
}

std::string nccl_line() {
  int code = 0;
  const std::string compiled = std::to_string(NCCL_MAJOR) + "." + std::to_string(NCCL_MINOR) + "." +
                               std::to_string(NCCL_PATCH);
  if (ncclGetVersion(&code) != ncclSuccess) return compiled + " (compiled)";
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return std::to_string(code / 10000) + "." + std::to_string(code % 10000 / 100) + "." +
         std::to_string(code % 100) + " (compiled " + compiled + ")";
}
#endif

std::string mpi_line() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  // Allowed before MPI_Init (MPI 3.0).
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown";
  std::string version(text, static_cast<size_t>(length));
  const auto end = version.find_first_of(",\n");  // "Open MPI v4.1.4, package: ..." -> first part
  return version.substr(0, end);
}

std::string hdf5_line() {
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

}  // namespace

std::string version_report() {
  std::ostringstream out;
  out << "electra " << ELECTRA_VERSION << "\n";
  out << "LibTorch: " << TORCH_VERSION << "\n";
#ifdef ELECTRA_WITH_CUDA
  out << "CUDA: " << cuda_line() << "\n";
  out << "NCCL: " << nccl_line() << "\n";
#else
  out << "CUDA: none (CPU-only build)\n";
  out << "NCCL: none (CPU-only build)\n";
#endif
  out << "MPI: " << mpi_line() << "\n";
  out << "HDF5: " << hdf5_line() << "\n";
  return out.str();
}

}  // namespace electra::cli
