// The ranks of a job and the collectives that coordinate them. MpiCommunicator when the process
// was started by mpirun or srun, SingleProcessCommunicator otherwise, so every command runs
// unchanged on a laptop and on a cluster.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace electra::dist {

// The exit status of a rank that gave up waiting for its peers (dist/peer_watch.h): run the same
// command again to resume from the last complete checkpoint (slurm/pretrain.sbatch requeues it,
// as it does 75 after a stop signal).
constexpr int kExitPeerLost = 76;

class PeerWatch;

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;  // rank within the node: selects the GPU
  virtual int local_size() const = 0;  // ranks on this node
  bool is_root() const { return rank() == 0; }

  virtual void barrier() = 0;
  // True on every rank when every rank passed true: a rank that failed makes all stop together.
  virtual bool all_ok(bool ok) = 0;
  // Rank 0 receives every rank's value in rank order; the others receive an empty vector.
  virtual std::vector<std::string> gather_to_root(const std::string& value) = 0;
  // Every rank receives rank 0's value.
  virtual std::string broadcast_from_root(const std::string& value) = 0;
  // In place: every rank ends with the element-wise sum over ranks (CPU memory).
  virtual void all_reduce_sum(float* data, size_t count) = 0;
  // The same for double (metric sums and counts, where float would lose counts).
  virtual void all_reduce_sum(double* data, size_t count) = 0;
  // Ends every rank of the job now with `code` (MPI_Abort): for a rank that fails where the
  // others may already wait in a collective and cannot be told otherwise.
  [[noreturn]] virtual void abort(int code) = 0;

  // Waiting for the other ranks (dist/peer_watch.h): the deadline's floor in seconds
  // (--peer-timeout), and the step named when a rank gives up. Nothing to wait for alone.
  virtual void set_peer_timeout(double seconds) { (void)seconds; }
  virtual void set_step(long long step) { (void)step; }
  // The watch of an MPI job; null for a single process.
  virtual PeerWatch* peer_watch() { return nullptr; }
};

// Names what the collectives inside its scope are for ("checkpoint agreement"), for the line of a
// rank that gives up in one of them.
class NamedWaits {
 public:
  NamedWaits(Communicator& communicator, std::string name);
  ~NamedWaits();
  NamedWaits(const NamedWaits&) = delete;
  NamedWaits& operator=(const NamedWaits&) = delete;

 private:
  PeerWatch* watch_;
  std::string previous_;
};

// True when an MPI launcher (mpirun, srun with PMI/PMIx) started this process.
bool launched_by_mpi();

// The world of this process: MPI (initialised here, finalised when the object goes away) when
// launched by MPI, else a single process.
std::unique_ptr<Communicator> make_world_communicator();

// One process alone, whatever launched it (a rank may also train on its own, e.g. in tests).
std::unique_ptr<Communicator> make_single_process_communicator();

// "rank R: " under MPI, "" for a single process: the prefix of every error a rank reports.
std::string rank_prefix(const Communicator& communicator);

}  // namespace electra::dist
