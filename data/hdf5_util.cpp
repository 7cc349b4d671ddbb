#include "data/hdf5_util.h"

#include <stdexcept>

namespace electra::data {
namespace {

// Before the first HDF5 call of the process: no automatic error printing (errors are thrown
// with context instead), and no library shutdown at exit. HDF5 1.10 crashes at exit when it
// closes a file whose earlier close failed (a write error such as a full disk); every file the
// project writes is closed explicitly, so nothing is lost by skipping the shutdown.
struct ConfigureHdf5 {
  ConfigureHdf5() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
};

// The innermost (first) message of the error stack, on one line: the system's error text when
// HDF5 reports one (e.g. "No space left on device"), else the message's first line.
herr_t keep_innermost(unsigned n, const H5E_error2_t* error, void* out) {
  if (n != 0 || !error->desc) return 0;
  std::string text = error->desc;
  const std::string marker = "error message = '";
  const size_t system = text.find(marker);
  if (system != std::string::npos) {
    const size_t start = system + marker.size();
    text = text.substr(start, text.find('\'', start) - start);
  } else {
    text = text.substr(0, text.find('\n'));
  }
  *static_cast<std::string*>(out) = text;
  return 0;
}

}  // namespace

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  static ConfigureHdf5 configure;
  return mutex;
}

void throw_hdf5_error(const std::string& file, const std::string& what, const std::string& advice) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  std::string message = file + ": " + what + " failed";
  if (!detail.empty()) message += " (HDF5: " + detail + ")";
  if (!advice.empty()) message += "; " + advice;
  throw std::runtime_error(message);
}

RowSelection select_rows(hid_t dataset, long long first_row, long long rows, long long columns,
                         const std::string& file) {
  RowSelection selection;
  selection.file_space = H5Handle(h5_check(H5Dget_space(dataset), file, "H5Dget_space"), H5Sclose);
  hsize_t start[2] = {hsize_t(first_row), 0};
  hsize_t count[2] = {hsize_t(rows), hsize_t(columns)};
  h5_check(H5Sselect_hyperslab(selection.file_space.get(), H5S_SELECT_SET, start, nullptr, count,
                               nullptr),
           file, "H5Sselect_hyperslab");
  selection.memory_space =
      H5Handle(h5_check(H5Screate_simple(2, count, nullptr), file, "H5Screate_simple"), H5Sclose);
  return selection;
}

void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& file) {
  H5Handle type(h5_check(H5Tcopy(H5T_C_S1), file, "H5Tcopy"), H5Tclose);
  h5_check(H5Tset_size(type.get(), value.empty() ? 1 : value.size()), file, "H5Tset_size");
  H5Handle space(h5_check(H5Screate(H5S_SCALAR), file, "H5Screate"), H5Sclose);
  if (H5Aexists(object, name) > 0) h5_check(H5Adelete(object, name), file, "H5Adelete");
  H5Handle attribute(
      h5_check(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
               "creating an attribute"),
      H5Aclose);
  h5_check(H5Awrite(attribute.get(), type.get(), value.empty() ? "" : value.data()), file,
           "writing an attribute");
}

void write_int_attribute(hid_t object, const char* name, long long value, const std::string& file) {
  H5Handle space(h5_check(H5Screate(H5S_SCALAR), file, "H5Screate"), H5Sclose);
  if (H5Aexists(object, name) > 0) h5_check(H5Adelete(object, name), file, "H5Adelete");
  H5Handle attribute(
      h5_check(H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
               "creating an attribute"),
      H5Aclose);
  h5_check(H5Awrite(attribute.get(), H5T_NATIVE_LLONG, &value), file, "writing an attribute");
}

bool has_attribute(hid_t object, const char* name) {
  return H5Aexists(object, name) > 0;
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& file) {
  const std::string what = std::string("reading attribute '") + name + "'";
  H5Handle attribute(h5_check(H5Aopen(object, name, H5P_DEFAULT), file, what.c_str()), H5Aclose);
  H5Handle type(h5_check(H5Aget_type(attribute.get()), file, what.c_str()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
    throw std::runtime_error(file + ": attribute '" + name + "' is not a fixed-length string");
  }
  size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  h5_check(H5Aread(attribute.get(), type.get(), value.data()), file, what.c_str());
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

long long read_int_attribute(hid_t object, const char* name, const std::string& file) {
  const std::string what = std::string("reading attribute '") + name + "'";
  H5Handle attribute(h5_check(H5Aopen(object, name, H5P_DEFAULT), file, what.c_str()), H5Aclose);
  long long value = 0;
  h5_check(H5Aread(attribute.get(), H5T_NATIVE_LLONG, &value), file, what.c_str());
  return value;
}

}  // namespace electra::data
