// Every MPI call goes through ELECTRA_MPI_CHECK: a failure throws, naming the call, the source
// location and the rank (communicators use MPI_ERRORS_RETURN so that errors come back).
#pragma once

namespace electra::dist {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);

#define ELECTRA_MPI_CHECK(call)                                                     \
  do {                                                                              \
    int electra_mpi_rc_ = (call);                                                   \
    if (electra_mpi_rc_ != MPI_SUCCESS)                                             \
      ::electra::dist::throw_mpi_error(electra_mpi_rc_, #call, __FILE__, __LINE__); \
  } while (0)

}  // namespace electra::dist
