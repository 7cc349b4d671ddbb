// --peer-timeout, shared by the commands whose ranks wait for one another (pretrain, finetune,
// sweep): the floor of the deadline after which a rank gives up on silent peers
// (dist/peer_watch.h). The default, 300 s, outlasts what ranks legitimately wait for one another
// before the first steps are measured (a checkpoint of a Large model written to a slow shared
// file system, a resume loading one, the first step's warm-up) and costs little beside a
// week-long job; after that the deadline grows with the longest step measured (4x).
#pragma once

#include <boost/program_options.hpp>

#include "app/cli/command.h"
#include "app/cli/number_option.h"
#include "dist/communicator.h"

namespace electra::cli {

static_assert(kExitPeerLost == dist::kExitPeerLost);

inline void declare_peer_timeout(po::options_description& options) {
  options.add_options()(
      "peer-timeout", number(300.0, Range<double>{1, 7 * 24 * 3600.0}),
      "seconds a rank waits for the others (at least; 4x the longest step measured so far when "
      "that is longer) before it gives up on silent peers, names them and exits with status 76 "
      "(resume from the last checkpoint); must cover start-up, the first step and the first "
      "checkpoint write");
}

inline void apply_peer_timeout(const po::variables_map& options, dist::Communicator& world) {
  world.set_peer_timeout(options["peer-timeout"].as<double>());
}

}  // namespace electra::cli
