#include "app/cli/cpu_tuning.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace electra::cli {

namespace {

constexpr const char* kRestarted = "ELECTRA_CPU_RUNTIME_SET";  // marks the restarted process

bool has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512cd");
}

bool has_avx2_fma() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Rank 0 of an MPI job, or no MPI job: the process that speaks for all.
bool speaks_for_the_job() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value) == 0;
  }
  return true;
}

}  // namespace

std::string openblas_core() {
  // Test hook: pretend OpenBLAS chose this core (the machine at hand may not be one it mistakes);
  // the restarted process sees the real one.
  const char* pretend = std::getenv("ELECTRA_TEST_OPENBLAS_CORE");
  if (pretend && !std::getenv(kRestarted)) return pretend;
  using CoreName = char* (*)();
  const auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!core_name) return "";
  const char* name = core_name();
  return name ? name : "";
}

CpuTuning cpu_tuning_needed(const std::string& core) {
  CpuTuning tuning;
  if (!core.empty() && !std::getenv("OPENBLAS_CORETYPE")) {
    // Cores whose kernels use what the CPU has (OpenBLAS's names, any case).
    static const std::set<std::string> avx512_cores = {"skylakex", "cooperlake", "sapphirerapids"};
    static const std::set<std::string> avx2_cores = {"haswell", "zen", "skylakex", "cooperlake",
                                                     "sapphirerapids"};
    std::string lower;
    for (char c : core) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (has_avx512() && !avx512_cores.count(lower)) {
      tuning.openblas_coretype = "SkylakeX";
      tuning.reason = "OpenBLAS took this CPU for a " + core + " though it has AVX-512";
    } else if (!has_avx512() && has_avx2_fma() && !avx2_cores.count(lower)) {
      tuning.openblas_coretype = "Haswell";
      tuning.reason = "OpenBLAS took this CPU for a " + core + " though it has AVX2 and FMA";
    }
  }
  if (!std::getenv("OMP_WAIT_POLICY")) {
    tuning.passive_wait = true;
    tuning.reason += std::string(tuning.reason.empty() ? "" : "; ") +
                     "OpenMP threads would spin against OpenBLAS's";
  }
  return tuning;
}

void tune_cpu_runtime(char** argv) {
  if (const char* restarted = std::getenv(kRestarted)) {
    // Restarted: did OpenBLAS take the core it was given?
    const std::string set = restarted, key = "OPENBLAS_CORETYPE=";
    const size_t at = set.find(key);
    if (at != std::string::npos && speaks_for_the_job()) {
      const std::string wanted = set.substr(at + key.size(), set.find(' ', at) - at - key.size());
      const std::string chosen = openblas_core();
      const auto lower = [](std::string text) {
        for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
        return text;
      };
      if (!chosen.empty() && lower(chosen) != lower(wanted)) {
        std::fprintf(stderr, "electra: OpenBLAS runs %s kernels although OPENBLAS_CORETYPE=%s\n",
                     chosen.c_str(), wanted.c_str());
      }
    }
    return;
  }
  const CpuTuning tuning = cpu_tuning_needed(openblas_core());
  if (tuning.openblas_coretype.empty() && !tuning.passive_wait) return;
  std::string set;
  if (!tuning.openblas_coretype.empty()) {
    setenv("OPENBLAS_CORETYPE", tuning.openblas_coretype.c_str(), 1);
    set += "OPENBLAS_CORETYPE=" + tuning.openblas_coretype;
  }
  if (tuning.passive_wait) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    set += std::string(set.empty() ? "" : " ") + "OMP_WAIT_POLICY=PASSIVE";
  }
  setenv(kRestarted, set.c_str(), 1);
  if (speaks_for_the_job()) {
    std::fprintf(stderr, "electra: %s: restarting with %s (set them yourself to choose)\n",
                 tuning.reason.c_str(), set.c_str());
    std::fflush(stderr);
  }
  execv("/proc/self/exe", argv);
  // Not restarted (no /proc?): go on as we are, and say so.
  if (speaks_for_the_job()) {
    std::fprintf(stderr, "electra: could not restart (%s); going on without %s\n",
                 std::strerror(errno), set.c_str());
  }
}

}  // namespace electra::cli
