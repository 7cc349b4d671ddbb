// How a sweep's cells reach the ranks: as each rank becomes free it takes the next cell, largest
// first, that no rank has claimed. A claim is the file OUT/.sweep-claims/<cell number>, created
// exclusively (O_EXCL, atomic on local filesystems and NFS alike), so no rank waits on another
// and no MPI call runs while cells train. OUT must be on a filesystem every rank sees; a sweep
// needs that anyway (rank 0 reads every cell's folder for its tables). Rank 0 empties the folder
// before the ranks start, holding OUT's lock (one sweep at a time per OUT), and removes it at
// the end.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace electra::finetune {

std::string cell_claims_dir(const std::string& out_dir);
// Rank 0: an empty claims folder (leftovers of a killed sweep removed). Throws naming it.
void reset_cell_claims(const std::string& out_dir);
// Every rank: throws naming the folder and the filesystem requirement when it is not visible.
void check_cell_claims_visible(const std::string& out_dir);
// True when this call claimed CELL, false when some rank had already. Throws naming the file on
// any other error.
bool claim_cell(const std::string& out_dir, size_t cell);
// Every rank, when it takes no more cells: writes done-RANK in the claims folder, then waits,
// polling the folder once a second with no MPI call, until all SIZE ranks' are there. A rank that
// ends early thus never sits in an MPI collective (whose deadline is for a stuck peer) while
// another trains its last cell, for hours perhaps. A rank that dies ends the job through mpirun.
void wait_for_every_rank(const std::string& out_dir, int rank, int size);
// Rank 0, when every rank is done. Quietly leaves what it cannot remove.
void remove_cell_claims(const std::string& out_dir);

// The order cells are handed out in: by COSTS (expected time, or anything proportional to it),
// largest first, ties in the table's order. With cells of very different sizes the ranks then
// end close together: the big ones start first, the small ones fill in around them.
std::vector<size_t> largest_first(const std::vector<double>& costs);

}  // namespace electra::finetune
