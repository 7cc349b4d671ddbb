#include "data/shard_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/output_record.h"
#include "data/sha256.h"

namespace electra::data {

size_t Example::real_tokens() const {
  return size_t(std::count(input_mask.begin(), input_mask.end(), uint8_t(1)));
}

hid_t id_storage_type(long long vocab_size) {
  if (vocab_size <= 256) return H5T_STD_U8LE;
  if (vocab_size <= 65536) return H5T_STD_U16LE;
  return H5T_STD_U32LE;
}

namespace {

constexpr const char* kWriteAdvice = "check free disk space and permissions of the output folder";

H5Handle create_rows_dataset(hid_t file, const char* name, hid_t type, long long length,
                             size_t chunk_rows, const std::string& path) {
  hsize_t dims[2] = {0, hsize_t(length)};
  hsize_t max_dims[2] = {H5S_UNLIMITED, hsize_t(length)};
  H5Handle space(h5_check(H5Screate_simple(2, dims, max_dims), path, "H5Screate_simple"), H5Sclose);
  H5Handle properties(h5_check(H5Pcreate(H5P_DATASET_CREATE), path, "H5Pcreate"), H5Pclose);
  hsize_t chunk[2] = {hsize_t(chunk_rows), hsize_t(length)};
  h5_check(H5Pset_chunk(properties.get(), 2, chunk), path, "H5Pset_chunk");
  // No creation/modification times in the file: the same input gives byte-identical shards.
  h5_check(H5Pset_obj_track_times(properties.get(), false), path, "H5Pset_obj_track_times");
  return H5Handle(h5_check(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, properties.get(),
                                      H5P_DEFAULT),
                           path, "creating a dataset", kWriteAdvice),
                  H5Dclose);
}

void append_rows(hid_t dataset, hid_t memory_type, const void* data, long long first_row,
                 long long rows, long long length, const std::string& path) {
  hsize_t new_dims[2] = {hsize_t(first_row + rows), hsize_t(length)};
  h5_check(H5Dset_extent(dataset, new_dims), path, "extending a dataset", kWriteAdvice);
  const RowSelection selection = select_rows(dataset, first_row, rows, length, path);
  h5_check(H5Dwrite(dataset, memory_type, selection.memory_space.get(), selection.file_space.get(),
                    H5P_DEFAULT, data),
           path, "writing rows", kWriteAdvice);
}

}  // namespace

ShardWriter::ShardWriter(std::string path, ShardAttributes attributes, size_t chunk_rows)
    : path_(std::move(path)),
      temp_path_(path_ + ".tmp"),
      attributes_(std::move(attributes)),
      chunk_rows_(chunk_rows),
      length_(attributes_.max_seq_length) {
  if (length_ <= 0) throw std::invalid_argument(path_ + ": max_seq_length must be positive");
  summary_.path = path_;
  summary_.split = attributes_.split;
  note_written(path_);  // listed in its output folder's record before its first byte
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  file_ = H5Handle(h5_check(H5Fcreate(temp_path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                            temp_path_, "creating the shard", kWriteAdvice),
                   H5Fclose);
  ids_ = create_rows_dataset(file_.get(), kInputIds, id_storage_type(attributes_.vocab_size),
                             length_, chunk_rows_, temp_path_);
  mask_ =
      create_rows_dataset(file_.get(), kInputMask, H5T_STD_U8LE, length_, chunk_rows_, temp_path_);
  segments_ =
      create_rows_dataset(file_.get(), kSegmentIds, H5T_STD_U8LE, length_, chunk_rows_, temp_path_);
}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  ids_.reset(), mask_.reset(), segments_.reset(), file_.reset();
  std::remove(temp_path_.c_str());
}

void ShardWriter::append(const Example& example) {
  if (example.input_ids.size() != size_t(length_)) {
    throw std::invalid_argument(path_ + ": example length " +
                                std::to_string(example.input_ids.size()) +
                                " != " + std::to_string(length_));
  }
  ids_buffer_.insert(ids_buffer_.end(), example.input_ids.begin(), example.input_ids.end());
  mask_buffer_.insert(mask_buffer_.end(), example.input_mask.begin(), example.input_mask.end());
  segments_buffer_.insert(segments_buffer_.end(), example.segment_ids.begin(),
                          example.segment_ids.end());
  ++summary_.num_examples;
  summary_.num_tokens += (long long)example.real_tokens();
  if (ids_buffer_.size() >= chunk_rows_ * size_t(length_)) flush_rows();
}

void ShardWriter::flush_rows() {
  const long long rows = (long long)(ids_buffer_.size() / size_t(length_));
  if (rows == 0) return;
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  append_rows(ids_.get(), H5T_NATIVE_INT32, ids_buffer_.data(), written_rows_, rows, length_,
              temp_path_);
  append_rows(mask_.get(), H5T_NATIVE_UINT8, mask_buffer_.data(), written_rows_, rows, length_,
              temp_path_);
  append_rows(segments_.get(), H5T_NATIVE_UINT8, segments_buffer_.data(), written_rows_, rows,
              length_, temp_path_);
  written_rows_ += rows;
  ids_buffer_.clear(), mask_buffer_.clear(), segments_buffer_.clear();
}

ShardSummary ShardWriter::finish() {
  if (finished_) throw std::logic_error(path_ + ": ShardWriter::finish called twice");
  flush_rows();
  {
    std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    H5Handle root(h5_check(H5Gopen2(file_.get(), "/", H5P_DEFAULT), temp_path_, "H5Gopen2"),
                  H5Gclose);
    write_int_attribute(root.get(), "format_version", attributes_.format_version, temp_path_);
    write_string_attribute(root.get(), "vocab_sha256", attributes_.vocab_sha256, temp_path_);
    write_int_attribute(root.get(), "vocab_size", attributes_.vocab_size, temp_path_);
    write_int_attribute(root.get(), "lowercase", attributes_.lowercase ? 1 : 0, temp_path_);
    write_int_attribute(root.get(), "max_seq_length", attributes_.max_seq_length, temp_path_);
    write_int_attribute(root.get(), "num_examples", summary_.num_examples, temp_path_);
    write_string_attribute(root.get(), "split", attributes_.split, temp_path_);
    root.reset();
    const bool closed = ids_.reset() & mask_.reset() & segments_.reset();
    if (!file_.reset() || !closed) throw_hdf5_error(temp_path_, "closing the shard", kWriteAdvice);
  }
  summary_.sha256 = sha256_file(temp_path_);
  std::error_code error;
  std::filesystem::rename(temp_path_, path_, error);
  if (error) {
    throw std::runtime_error(temp_path_ + ": renaming to " + path_ + " failed: " + error.message());
  }
  finished_ = true;
  return summary_;
}

}  // namespace electra::data
