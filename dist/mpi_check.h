// Every MPI call goes through ELECTRA_MPI_CHECK: a failure throws, naming the call, the source
// location and the rank (communicators use MPI_ERRORS_RETURN so that errors come back).
// Collectives are started non-blocking and finished by PeerWatch::wait (dist/peer_watch.h), so
// that a peer that is silent (dead, frozen, cut off, or alive but never reaching the collective)
// ends the job after the peer deadline instead of a job that waits forever.
#pragma once

#include <mpi.h>

#include <string>

namespace electra::dist {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);

#define ELECTRA_MPI_CHECK(call)                                                     \
  do {                                                                              \
    int electra_mpi_rc_ = (call);                                                   \
    if (electra_mpi_rc_ != MPI_SUCCESS)                                             \
      ::electra::dist::throw_mpi_error(electra_mpi_rc_, #call, __FILE__, __LINE__); \
  } while (0)

}  // namespace electra::dist
