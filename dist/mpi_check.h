// Every MPI call goes through ELECTRA_MPI_CHECK: a failure throws, naming the call, the source
// location and the rank (communicators use MPI_ERRORS_RETURN so that errors come back).
// Collectives are started non-blocking and finished by wait_for_requests, so that a peer that is
// stuck (alive, but never reaching the collective) becomes an error naming the operation after
// the collective timeout instead of a job that waits forever; a peer that dies ends the job
// through mpirun or srun before that.
#pragma once

#include <mpi.h>

#include <string>

namespace electra::dist {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);

// Polls until every request completes; throws "rank R: WHAT did not complete within ..." after
// `timeout_seconds`.
void wait_for_requests(MPI_Request* requests, int count, const std::string& what,
                       double timeout_seconds);

#define ELECTRA_MPI_CHECK(call)                                                     \
  do {                                                                              \
    int electra_mpi_rc_ = (call);                                                   \
    if (electra_mpi_rc_ != MPI_SUCCESS)                                             \
      ::electra::dist::throw_mpi_error(electra_mpi_rc_, #call, __FILE__, __LINE__); \
  } while (0)

}  // namespace electra::dist
