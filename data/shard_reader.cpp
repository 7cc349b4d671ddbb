#include "data/shard_reader.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "data/vocabulary.h"

namespace electra::data {
namespace {

constexpr const char* kRegenerate = "regenerate it with `electra prepare`";
constexpr long long kMaxSequenceLength = 1 << 20;

// Shape of a 2-D dataset; throws naming the file and dataset when it is missing or not 2-D.
void dataset_shape(hid_t file, const char* name, const std::string& path, long long& rows,
                   long long& columns) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    throw std::runtime_error(path + ": no dataset '" + name + "' (not a pre-training shard; " +
                             kRegenerate + ")");
  }
  H5Handle dataset(
      h5_check(H5Dopen2(file, name, H5P_DEFAULT), path, "opening a dataset", kRegenerate),
      H5Dclose);
  H5Handle space(h5_check(H5Dget_space(dataset.get()), path, "H5Dget_space"), H5Sclose);
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space.get()) != 2) {
    throw std::runtime_error(path + ": dataset '" + name + "' is not 2-D [N, L]; " + kRegenerate);
  }
  h5_check(H5Sget_simple_extent_dims(space.get(), dims, nullptr), path,
           "H5Sget_simple_extent_dims");
  rows = (long long)dims[0], columns = (long long)dims[1];
  // HDF5 1.10 trusts a file's own metadata when it reads: a damaged size or layout makes it read
  // past its buffers. What a shard's datasets must be is checked here first: integers of at most
  // 8 bytes, of plausible shape, and stored data (compact or contiguous) of exactly the shape's
  // size inside the file.
  H5Handle type(h5_check(H5Dget_type(dataset.get()), path, "H5Dget_type"), H5Tclose);
  const size_t type_bytes = H5Tget_size(type.get());
  if (H5Tget_class(type.get()) != H5T_INTEGER || type_bytes == 0 || type_bytes > 8) {
    throw std::runtime_error(path + ": dataset '" + name + "' does not hold integers; " +
                             kRegenerate);
  }
  if (columns <= 0 || columns > kMaxSequenceLength || rows < 0 || rows > (1LL << 40)) {
    throw std::runtime_error(path + ": dataset '" + name + "' has an implausible shape [" +
                             std::to_string(rows) + ", " + std::to_string(columns) +
                             "] (the shard is corrupt); " + kRegenerate);
  }
  H5Handle properties(h5_check(H5Dget_create_plist(dataset.get()), path, "H5Dget_create_plist"),
                      H5Pclose);
  const H5D_layout_t layout = H5Pget_layout(properties.get());
  if (layout == H5D_COMPACT || layout == H5D_CONTIGUOUS) {
    const hsize_t stored = H5Dget_storage_size(dataset.get());
    const hsize_t expected = hsize_t(rows) * hsize_t(columns) * type_bytes;
    const haddr_t offset = layout == H5D_CONTIGUOUS ? H5Dget_offset(dataset.get()) : 0;
    std::error_code error;
    const auto file_bytes = std::filesystem::file_size(path, error);
    const bool outside = layout == H5D_CONTIGUOUS && stored > 0 &&
                         (offset == HADDR_UNDEF || error || offset + stored > file_bytes);
    if ((stored != expected && !(layout == H5D_CONTIGUOUS && stored == 0)) || outside) {
      throw std::runtime_error(path + ": dataset '" + name +
                               "' stores another size than its shape (the file is truncated or "
                               "corrupt); " +
                               kRegenerate);
    }
  } else if (layout == H5D_CHUNKED) {
    // Each chunk inside the file, and of the chunk's full size when stored unfiltered (HDF5
    // copies a full chunk out of whatever size the index claims).
    hsize_t chunk[2] = {0, 0};
    if (H5Pget_chunk(properties.get(), 2, chunk) != 2 || chunk[0] == 0 || chunk[1] == 0 ||
        chunk[0] > (1ULL << 24) || chunk[1] > (1ULL << 24)) {
      throw std::runtime_error(path + ": dataset '" + name +
                               "' has an implausible chunk shape (the shard is corrupt); " +
                               kRegenerate);
    }
    const bool filtered = H5Pget_nfilters(properties.get()) > 0;
    const hsize_t chunk_bytes = chunk[0] * chunk[1] * type_bytes;
    std::error_code error;
    const auto file_bytes = std::filesystem::file_size(path, error);
    for (hsize_t row = 0; row < hsize_t(rows); row += chunk[0]) {
      for (hsize_t column = 0; column < hsize_t(columns); column += chunk[1]) {
        const hsize_t offset[2] = {row, column};
        unsigned filter_mask = 0;
        haddr_t address = HADDR_UNDEF;
        hsize_t bytes = 0;
        const bool found =
            H5Dget_chunk_info_by_coord(dataset.get(), offset, &filter_mask, &address, &bytes) >= 0;
        if (found && address == HADDR_UNDEF) continue;  // never written: reads as fill values
        if (!found || error || address + bytes > file_bytes ||
            (!filtered && bytes != chunk_bytes)) {
          throw std::runtime_error(path + ": dataset '" + name + "' has a damaged chunk at row " +
                                   std::to_string(row) + " (the file is truncated or corrupt); " +
                                   kRegenerate);
        }
      }
    }
  } else {
    throw std::runtime_error(path + ": dataset '" + name + "' has an unknown storage layout; " +
                             kRegenerate);
  }
}

void read_block(hid_t file, const char* name, hid_t memory_type, void* out, long long first_row,
                long long rows, long long columns, const std::string& path) {
  H5Handle dataset(h5_check(H5Dopen2(file, name, H5P_DEFAULT), path, "opening a dataset"),
                   H5Dclose);
  const RowSelection rows_selected = select_rows(dataset.get(), first_row, rows, columns, path);
  const std::string what = std::string("reading rows of '") + name + "'";
  h5_check(H5Dread(dataset.get(), memory_type, rows_selected.memory_space.get(),
                   rows_selected.file_space.get(), H5P_DEFAULT, out),
           path, what.c_str(),
           "the shard is truncated or corrupt; regenerate it with `electra prepare`");
}

}  // namespace

Example RowBlock::example(long long i) const {
  const auto begin = size_t(i * length), end = size_t((i + 1) * length);
  return Example{{input_ids.begin() + long(begin), input_ids.begin() + long(end)},
                 {input_mask.begin() + long(begin), input_mask.begin() + long(end)},
                 {segment_ids.begin() + long(begin), segment_ids.begin() + long(end)}};
}

ShardReader::ShardReader(std::string path, Layout layout) : path_(std::move(path)) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (!std::filesystem::exists(path_)) {
    throw std::runtime_error(path_ + ": no such shard (check the data directory)");
  }
  if (H5Fis_hdf5(path_.c_str()) <= 0) {
    throw std::runtime_error(path_ + ": not an HDF5 file (corrupt or not a shard); " + kRegenerate);
  }
  file_ = H5Handle(
      h5_check(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path_, "opening the shard",
               "the file is truncated or corrupt; regenerate it with `electra prepare`"),
      H5Fclose);
  long long mask_rows, mask_columns, segment_rows, segment_columns;
  dataset_shape(file_.get(), kInputIds, path_, rows_, length_);
  dataset_shape(file_.get(), kInputMask, path_, mask_rows, mask_columns);
  dataset_shape(file_.get(), kSegmentIds, path_, segment_rows, segment_columns);
  if (mask_rows != rows_ || segment_rows != rows_ || mask_columns != length_ ||
      segment_columns != length_) {
    throw std::runtime_error(path_ + ": input_ids, input_mask and segment_ids differ in shape; " +
                             kRegenerate);
  }
  if (layout == Layout::kNvidiaBert) {
    attributes_.max_seq_length = length_;
    return;
  }
  H5Handle root(h5_check(H5Gopen2(file_.get(), "/", H5P_DEFAULT), path_, "H5Gopen2"), H5Gclose);
  for (const char* name : {"format_version", "vocab_sha256", "vocab_size", "lowercase",
                           "max_seq_length", "num_examples", "split"}) {
    if (!has_attribute(root.get(), name)) {
      throw std::runtime_error(path_ + ": attribute '" + name +
                               "' is missing (not a shard of electra prepare; NVIDIA BERT shards "
                               "are converted with `electra prepare --from-nvidia-shards`)");
    }
  }
  attributes_.format_version = read_int_attribute(root.get(), "format_version", path_);
  if (attributes_.format_version > kShardFormatVersion) {
    throw std::runtime_error(path_ + ": shard format version " +
                             std::to_string(attributes_.format_version) +
                             " is newer than this electra understands (" +
                             std::to_string(kShardFormatVersion) + "); update electra");
  }
  attributes_.vocab_sha256 = read_string_attribute(root.get(), "vocab_sha256", path_);
  attributes_.vocab_size = read_int_attribute(root.get(), "vocab_size", path_);
  attributes_.lowercase = read_int_attribute(root.get(), "lowercase", path_) != 0;
  attributes_.max_seq_length = read_int_attribute(root.get(), "max_seq_length", path_);
  attributes_.split = read_string_attribute(root.get(), "split", path_);
  const long long num_examples = read_int_attribute(root.get(), "num_examples", path_);
  if (attributes_.max_seq_length != length_ || num_examples != rows_) {
    throw std::runtime_error(
        path_ + ": attributes disagree with the datasets (" + std::to_string(num_examples) +
        " examples of length " + std::to_string(attributes_.max_seq_length) + " declared, [" +
        std::to_string(rows_) + ", " + std::to_string(length_) + "] stored); " + kRegenerate);
  }
}

void ShardReader::check_vocabulary(const Vocabulary& vocab, bool lowercase) const {
  if (attributes_.vocab_sha256 != vocab.sha256()) {
    throw std::runtime_error(
        path_ + ": made with another vocabulary (sha256 " + attributes_.vocab_sha256.substr(0, 12) +
        "..., " + std::to_string(attributes_.vocab_size) + " tokens) than " + vocab.source() +
        " (sha256 " + vocab.sha256().substr(0, 12) + "..., " + std::to_string(vocab.size()) +
        " tokens); use the vocabulary the corpus was prepared with, or prepare it again");
  }
  if (attributes_.lowercase != lowercase) {
    throw std::runtime_error(path_ + ": prepared " + (attributes_.lowercase ? "uncased" : "cased") +
                             " but used " + (lowercase ? "uncased" : "cased") +
                             "; match --cased to the corpus");
  }
}

void ShardReader::check_manifest_entry(const ManifestShard& entry, long long max_seq_length) const {
  if (rows_ != entry.num_examples || attributes_.split != entry.split) {
    throw std::runtime_error(path_ + ": holds " + std::to_string(rows_) + " " + attributes_.split +
                             " examples, " + kManifestFile + " says " +
                             std::to_string(entry.num_examples) + " " + entry.split +
                             "; the manifest does not describe this shard: prepare the corpus "
                             "again");
  }
  if (length_ != max_seq_length) {
    throw std::runtime_error(path_ + ": sequence length " + std::to_string(length_) + ", " +
                             kManifestFile + " says " + std::to_string(max_seq_length) +
                             "; prepare the corpus again");
  }
}

RowBlock ShardReader::read_rows(long long first_row, long long rows) const {
  if (first_row < 0 || rows < 0 || first_row + rows > rows_) {
    throw std::out_of_range(path_ + ": rows [" + std::to_string(first_row) + ", " +
                            std::to_string(first_row + rows) + ") outside [0, " +
                            std::to_string(rows_) + ")");
  }
  RowBlock block;
  block.first_row = first_row, block.rows = rows, block.length = length_;
  const auto size = size_t(rows * length_);
  block.input_ids.resize(size), block.input_mask.resize(size), block.segment_ids.resize(size);
  if (rows == 0) return block;
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  read_block(file_.get(), kInputIds, H5T_NATIVE_INT32, block.input_ids.data(), first_row, rows,
             length_, path_);
  read_block(file_.get(), kInputMask, H5T_NATIVE_UINT8, block.input_mask.data(), first_row, rows,
             length_, path_);
  read_block(file_.get(), kSegmentIds, H5T_NATIVE_UINT8, block.segment_ids.data(), first_row, rows,
             length_, path_);
  check_values(block);
  return block;
}

// Raw chunks carry no checksum: damaged bytes read back as values no writer produces.
void ShardReader::check_values(const RowBlock& block) const {
  const long long vocab_size = attributes_.vocab_size > 0 ? attributes_.vocab_size : (1LL << 31);
  for (size_t i = 0; i < block.input_ids.size(); ++i) {
    const char* bad = nullptr;
    long long value = 0;
    if (block.input_ids[i] < 0 || block.input_ids[i] >= vocab_size) {
      bad = "token id", value = block.input_ids[i];
    } else if (block.input_mask[i] > 1) {
      bad = "input_mask value", value = block.input_mask[i];
    } else if (block.segment_ids[i] > 1) {
      bad = "segment id", value = block.segment_ids[i];
    }
    if (bad) {
      throw std::runtime_error(
          path_ + ": row " + std::to_string(block.first_row + long(i) / block.length) + ": " + bad +
          " " + std::to_string(value) +
          " is impossible; the shard is corrupt: restore it or regenerate the corpus with "
          "`electra prepare` (`electra verify --data DIR` checks every shard)");
    }
  }
}

std::vector<int32_t> ShardReader::read_int_matrix(const char* dataset, long long first_row,
                                                  long long rows, long long* columns) const {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  long long total_rows = 0;
  dataset_shape(file_.get(), dataset, path_, total_rows, *columns);
  if (first_row < 0 || first_row + rows > total_rows) {
    throw std::out_of_range(path_ + ": rows outside dataset '" + dataset + "'");
  }
  std::vector<int32_t> values(size_t(rows * *columns));
  if (rows > 0) {
    read_block(file_.get(), dataset, H5T_NATIVE_INT32, values.data(), first_row, rows, *columns,
               path_);
  }
  return values;
}

}  // namespace electra::data
