# LibTorch from PyPI's torch wheel (launch/setup.sh installs it into the project's .venv), with
# CUDA and NCCL wherever a CUDA toolkit matching the wheel's CUDA major is present.
#
# Inputs (cache variables):
#   ELECTRA_PYTHON  the Python whose torch is used (default: .venv/bin/python, else python3);
#                   Torch_DIR, when given, wins over it.
#   ELECTRA_CUDA    AUTO (default: CUDA when the wheel has it and nvcc matches), ON (required),
#                   OFF (CPU-only).
#   TORCH_CUDA_ARCH_LIST  GPU architectures compiled for (default "8.0;9.0": A100, H100/H200).
# Outputs: the target electra::torch (headers, libraries, compile flags), ELECTRA_WITH_CUDA,
#   ELECTRA_TORCH_VERSION, ELECTRA_TORCH_CUDA (the wheel's CUDA version or ""), and, with CUDA,
#   the target nccl::nccl (the NCCL of the nvidia-nccl wheel torch depends on).

set(ELECTRA_CUDA AUTO CACHE STRING "CUDA and NCCL: AUTO (when a matching toolkit is found), ON, OFF")
set_property(CACHE ELECTRA_CUDA PROPERTY STRINGS AUTO ON OFF)

if(NOT ELECTRA_PYTHON)
  if(EXISTS ${PROJECT_SOURCE_DIR}/.venv/bin/python)
    set(_python ${PROJECT_SOURCE_DIR}/.venv/bin/python)
  else()
    find_program(_python NAMES python3 python)
  endif()
  set(ELECTRA_PYTHON ${_python} CACHE FILEPATH "The Python whose torch wheel electra builds against")
endif()

# What the wheel is: version, CUDA version ("" for a CPU wheel), install prefix.
execute_process(
  COMMAND ${ELECTRA_PYTHON} -c
          "import os, torch; print(torch.__version__.split('+')[0]); print(torch.version.cuda or ''); print(os.path.dirname(torch.__file__))"
  OUTPUT_VARIABLE _torch_info RESULT_VARIABLE _torch_status ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_status EQUAL 0)
  message(FATAL_ERROR "electra: ${ELECTRA_PYTHON} cannot import torch: run `bash launch/setup.sh` "
                      "(it installs the pinned torch wheel into .venv) or pass -DELECTRA_PYTHON=PYTHON")
endif()
string(REPLACE "\n" ";" _torch_info "${_torch_info}")
list(GET _torch_info 0 ELECTRA_TORCH_VERSION)
list(GET _torch_info 1 ELECTRA_TORCH_CUDA)
list(GET _torch_info 2 _torch_prefix)
get_filename_component(_site_packages ${_torch_prefix} DIRECTORY)

# CUDA: the wheel must have it, and nvcc's major must be the wheel's (one CUDA runtime a process).
set(ELECTRA_WITH_CUDA OFF)
set(_cpu_only_reason "")
if(ELECTRA_CUDA STREQUAL OFF)
  set(_cpu_only_reason "ELECTRA_CUDA=OFF")
elseif(NOT ELECTRA_TORCH_CUDA OR NOT EXISTS ${_torch_prefix}/lib/libtorch_cuda.so)
  set(_cpu_only_reason "torch ${ELECTRA_TORCH_VERSION} in ${ELECTRA_PYTHON} is a CPU-only wheel")
else()
  find_program(ELECTRA_NVCC nvcc HINTS ENV CUDA_HOME ENV CUDA_PATH PATH_SUFFIXES bin
               PATHS /usr/local/cuda/bin)
  if(NOT ELECTRA_NVCC OR NOT EXISTS ${ELECTRA_NVCC})
    set(_cpu_only_reason "no CUDA toolkit (nvcc not on PATH, in CUDA_HOME or /usr/local/cuda)")
  else()
    execute_process(COMMAND ${ELECTRA_NVCC} --version OUTPUT_VARIABLE _nvcc_text ERROR_QUIET)
    string(REGEX MATCH "release ([0-9]+)\\.([0-9]+)" _ "${_nvcc_text}")
    set(_nvcc_major "${CMAKE_MATCH_1}")
    set(_nvcc_version "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
    string(REGEX MATCH "^[0-9]+" _wheel_major "${ELECTRA_TORCH_CUDA}")
    if(NOT _nvcc_major STREQUAL _wheel_major)
      string(CONCAT _cpu_only_reason "nvcc ${ELECTRA_NVCC} is CUDA ${_nvcc_version}, the torch "
             "wheel CUDA ${ELECTRA_TORCH_CUDA}: install a CUDA ${_wheel_major}.x toolkit")
    else()
      set(ELECTRA_WITH_CUDA ON)
    endif()
  endif()
endif()
if(ELECTRA_CUDA STREQUAL ON AND NOT ELECTRA_WITH_CUDA)
  message(FATAL_ERROR "electra: ELECTRA_CUDA=ON but ${_cpu_only_reason}")
endif()

add_library(electra_torch INTERFACE)
add_library(electra::torch ALIAS electra_torch)
# The wheel's libtorch.so and libtorch_cpu.so export a copy of std::filesystem (remove_all there
# jumps to a null pointer): libstdc++ is made the first library a program needs, so that the
# dynamic linker binds std::filesystem to libstdc++'s.
target_link_options(electra_torch INTERFACE "LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
if(ELECTRA_WITH_CUDA)
  if(NOT DEFINED TORCH_CUDA_ARCH_LIST)
    if(DEFINED ENV{TORCH_CUDA_ARCH_LIST})
      set(TORCH_CUDA_ARCH_LIST "$ENV{TORCH_CUDA_ARCH_LIST}")
    else()
      set(TORCH_CUDA_ARCH_LIST "8.0;9.0" CACHE STRING "GPU architectures (A100, H100/H200)")
    endif()
  endif()
  get_filename_component(_cuda_root ${ELECTRA_NVCC} DIRECTORY)
  get_filename_component(_cuda_root ${_cuda_root} DIRECTORY)
  set(CUDA_TOOLKIT_ROOT_DIR ${_cuda_root} CACHE PATH "The CUDA toolkit")
  set(CMAKE_CUDA_COMPILER ${ELECTRA_NVCC} CACHE FILEPATH "nvcc")
  if(NOT Torch_DIR)
    set(Torch_DIR ${_torch_prefix}/share/cmake/Torch)
  endif()
  # The wheel's Caffe2Config aliases protobuf::libprotobuf to an empty target unless one exists:
  # the real one (TensorBoard's events) must be found first.
  find_package(Protobuf REQUIRED)
  find_package(Torch REQUIRED)
  find_package(CUDAToolkit REQUIRED)
  target_link_libraries(electra_torch INTERFACE ${TORCH_LIBRARIES})
  # NCCL: the nvidia-nccl wheel torch links (libnccl.so.2, no unversioned link), else the system's.
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_site_packages}/nvidia/nccl/include NO_DEFAULT_PATH)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} REQUIRED)
  find_library(NCCL_LIBRARY NAMES libnccl.so.2 HINTS ${_site_packages}/nvidia/nccl/lib NO_DEFAULT_PATH)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${CUDAToolkit_LIBRARY_DIR} REQUIRED)
  file(STRINGS ${NCCL_INCLUDE_DIR}/nccl.h _nccl_lines REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*NCCL_MINOR ([0-9]+).*NCCL_PATCH ([0-9]+).*"
                       "\\1.\\2.\\3" ELECTRA_NCCL_VERSION "${_nccl_lines}")
  add_library(nccl::nccl UNKNOWN IMPORTED)
  set_target_properties(nccl::nccl PROPERTIES IMPORTED_LOCATION ${NCCL_LIBRARY}
                                              INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
  message(STATUS "electra: LibTorch ${ELECTRA_TORCH_VERSION} (${_torch_prefix}), CUDA "
                 "${CUDAToolkit_VERSION} (nvcc ${ELECTRA_NVCC}, wheel CUDA ${ELECTRA_TORCH_CUDA}), "
                 "architectures ${TORCH_CUDA_ARCH_LIST}, NCCL "
                 "${ELECTRA_NCCL_VERSION} (${NCCL_LIBRARY})")
else()
  # CPU-only from the same wheel: its headers, libtorch_cpu and libc10 (not the CUDA libraries,
  # which Torch's CMake config would require a toolkit for).
  find_package(Protobuf REQUIRED)
  find_library(TORCH_CPU_LIBRARY torch_cpu HINTS ${_torch_prefix}/lib NO_DEFAULT_PATH REQUIRED)
  find_library(C10_LIBRARY c10 HINTS ${_torch_prefix}/lib NO_DEFAULT_PATH REQUIRED)
  target_include_directories(electra_torch SYSTEM INTERFACE ${_torch_prefix}/include
                             ${_torch_prefix}/include/torch/csrc/api/include)
  target_link_libraries(electra_torch INTERFACE ${TORCH_CPU_LIBRARY} ${C10_LIBRARY})
  execute_process(COMMAND ${ELECTRA_PYTHON} -c "import torch; print(int(torch.compiled_with_cxx11_abi()))"
                  OUTPUT_VARIABLE _cxx11_abi OUTPUT_STRIP_TRAILING_WHITESPACE)
  target_compile_definitions(electra_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${_cxx11_abi})
  message(STATUS "electra: LibTorch ${ELECTRA_TORCH_VERSION} (${_torch_prefix}), CPU-only: "
                 "${_cpu_only_reason}. Left out: CUDA devices, NCCL gradient averaging, CUDA "
                 "graphs; the gpu tests build and skip.")
endif()
