// Checked HDF5 calls and owning handles. HDF5's own error printing is turned off: a failure
// throws std::runtime_error naming the file, the operation and HDF5's innermost message. The
// Debian HDF5 is not thread-safe: every HDF5 call in the project holds hdf5_mutex().
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <utility>

namespace electra::data {

std::recursive_mutex& hdf5_mutex();

// Throws "<file>: <what> failed: <HDF5 message>. <advice>".
[[noreturn]] void throw_hdf5_error(const std::string& file, const std::string& what,
                                   const std::string& advice = "");

// Checks an HDF5 return value (herr_t or hid_t): negative means failure.
template <typename T>
T h5_check(T result, const std::string& file, const char* what, const char* advice = "") {
  if (result < 0) throw_hdf5_error(file, what, advice);
  return result;
}

// An owning hid_t closed with the matching H5*close function.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Handle(H5Handle&& other) noexcept { *this = std::move(other); }
  H5Handle& operator=(H5Handle&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
    return *this;
  }
  ~H5Handle() { reset(); }
  hid_t get() const { return id_; }
  // Closes now and reports whether closing succeeded (a file's close flushes its data).
  bool reset() {
    bool ok = true;
    if (id_ >= 0 && closer_) ok = closer_(id_) >= 0;
    id_ = -1;
    return ok;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// The file and memory dataspaces that select rows [first_row, first_row + rows) of a 2-D
// dataset with `columns` columns.
struct RowSelection {
  H5Handle file_space, memory_space;
};
RowSelection select_rows(hid_t dataset, long long first_row, long long rows, long long columns,
                         const std::string& file);

// Attribute helpers on an object (file root or dataset).
void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& file);
void write_int_attribute(hid_t object, const char* name, long long value, const std::string& file);
bool has_attribute(hid_t object, const char* name);
std::string read_string_attribute(hid_t object, const char* name, const std::string& file);
long long read_int_attribute(hid_t object, const char* name, const std::string& file);

}  // namespace electra::data
