// Numeric options with their allowed values, declared with the option: `number<T>(default,
// range)` in place of `po::value<T>()->default_value(default)`. A value from the command line or
// --config is read strictly (the whole token; no sign on an unsigned count, which Boost would
// wrap; doubles finite) and checked against the range, and a bad one is a usage error that names
// the option, the value and the range: "--learning-rate inf: not a finite number in (0, 1]".
// The options test requires every numeric option of every command to be declared so.
#pragma once

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace electra::cli {

namespace po = boost::program_options;

template <typename T>
struct Range {
  T low;
  T high;
  bool low_open = false;   // (low, ...: low itself is refused
  bool high_open = false;  // ..., high): high itself is refused
  const char* note = "";   // what a special value means, e.g. "0: all cores"
};

// Counts of steps, examples, epochs: whole numbers up to 10^12 (far from overflow in products).
inline constexpr long long kMaxCount = 1000000000000LL;

// Every ranged option, whatever its type: what the options test and the checks see.
class RangedOption {
 public:
  virtual ~RangedOption() = default;
  // "a whole number in [1, 65536]", "a finite number in (0, 1]".
  virtual std::string expected() const = 0;
  // Whether the declared default (if any) lies in the range.
  virtual bool default_in_range() const = 0;
};

// A number as --help shows it: the shortest text that reads back as the same double ("0.15", not
// Boost's "0.14999999999999999").
std::string number_text(double value);
template <typename T>
std::string range_bound_text(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    return number_text(double(value));
  } else {
    if (value == std::numeric_limits<T>::max() && sizeof(T) == 8) {
      return std::is_signed_v<T> ? "2^63-1" : "2^64-1";
    }
    return std::to_string(value);
  }
}

// Reads TEXT as a T the strict way and checks it against RANGE; returns an empty string when it is
// fine, else what is wrong ("not a whole number in [1, 65536]"). One function for options and for
// the items of list options (sweep --lrs, --seeds).
template <typename T>
std::string check_number(const std::string& text, const Range<T>& range, T* value_out);

template <typename T>
std::string range_text(const Range<T>& range) {
  std::string text =
      std::string(std::is_floating_point_v<T> ? "a finite number" : "a whole number") + " in " +
      (range.low_open ? "(" : "[") + range_bound_text(range.low) + ", " +
      range_bound_text(range.high) + (range.high_open ? ")" : "]");
  if (*range.note) text += std::string(" (") + range.note + ")";
  return text;
}

template <typename T>
bool in_range(T value, const Range<T>& range) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!(value == value) || value - value != 0) return false;  // NaN, inf
  }
  if (range.low_open ? !(value > range.low) : !(value >= range.low)) return false;
  if (range.high_open ? !(value < range.high) : !(value <= range.high)) return false;
  return true;
}

template <typename T>
std::string check_number(const std::string& text, const Range<T>& range, T* value_out) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  T value{};
  bool read = !text.empty() && text.find_first_of(" \t\n") == std::string::npos;
  if (read) {
    errno = 0;
    char* end = nullptr;
    if constexpr (std::is_floating_point_v<T>) {
      value = T(std::strtod(text.c_str(), &end));
    } else if constexpr (std::is_signed_v<T>) {
      const long long parsed = std::strtoll(text.c_str(), &end, 10);
      read = parsed >= std::numeric_limits<T>::min() && parsed <= std::numeric_limits<T>::max();
      value = T(parsed);
    } else {
      read = text[0] != '-' && text[0] != '+';
      const unsigned long long parsed = std::strtoull(text.c_str(), &end, 10);
      read = read && parsed <= std::numeric_limits<T>::max();
      value = T(parsed);
    }
    read = read && errno != ERANGE && end && *end == '\0';
  }
  if (!read || !in_range(value, range)) return "not " + range_text(range);
  if (value_out) *value_out = value;
  return "";
}

// A po::typed_value that reads its token with check_number.
template <typename T>
class RangedValue : public po::typed_value<T>, public RangedOption {
 public:
  explicit RangedValue(const Range<T>& range) : po::typed_value<T>(nullptr), range_(range) {}

  RangedValue* default_number(T value) {
    default_ = value;
    has_default_ = true;
    if constexpr (std::is_floating_point_v<T>) {
      po::typed_value<T>::default_value(value, number_text(double(value)));
    } else {
      po::typed_value<T>::default_value(value);
    }
    return this;
  }

  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    const std::string token = tokens.empty() ? std::string() : tokens.front();
    T value{};
    const std::string problem =
        tokens.size() == 1 ? check_number(token, range_, &value) : "not " + range_text(range_);
    if (!problem.empty()) throw OutOfRange(token, problem);
    store = value;
  }

  std::string expected() const override { return range_text(range_); }
  bool default_in_range() const override { return !has_default_ || in_range(default_, range_); }

 private:
  // Boost fills in the option's name as the user spelled it ("--lr", or "lr" in a --config file).
  struct OutOfRange : po::validation_error {
    OutOfRange(const std::string& token, const std::string& problem)
        : po::validation_error(po::validation_error::invalid_option_value) {
      m_error_template = "%canonical_option% " + token + ": " + problem;
    }
  };

  Range<T> range_;
  T default_{};
  bool has_default_ = false;
};

template <typename T>
RangedValue<T>* number(T default_value, const Range<T>& range) {
  return (new RangedValue<T>(range))->default_number(default_value);
}

// Without a default: the option is absent unless given.
template <typename T>
RangedValue<T>* number(const Range<T>& range) {
  return new RangedValue<T>(range);
}

// The shared ranges, so that one quantity has one range in every command.
inline const Range<double> kLearningRate{0.0, 1.0, /*low_open=*/true};
inline const Range<double> kFraction{0.0, 1.0};
inline const Range<double> kWeightDecay{0.0, 1.0};
inline const Range<uint64_t> kSeed{0, std::numeric_limits<uint64_t>::max()};
inline const Range<long long> kBatchSize{1, 65536};
inline const Range<long long> kSequenceLength{1, 65536};
inline const Range<long long> kSteps{1, kMaxCount};
inline const Range<long long> kEvery{0, kMaxCount};  // steps between events; 0 as --help says
inline const Range<long long> kEpochs{1, 100000};
inline const Range<long long> kTaskSequenceLength{0, 65536, false, false, "0: the task's default"};
inline const Range<long long> kDocStride{0, 65536, false, false, "0: the task's default"};
inline const Range<double> kLayerDecay{0.0, 1.0, /*low_open=*/true};
inline const Range<size_t> kLineBytes{1, size_t(1) << 30};
inline const Range<int> kReinitLayers{0, 1000};  // within the model's layers: checked on loading

// CPU threads per rank: 0 (automatic) up to the cores of this machine.
inline Range<int> thread_range() {
  return {0, int(std::max(1u, std::thread::hardware_concurrency())), false, false,
          "0: OMP_NUM_THREADS or the node's cores divided among its ranks; at most the cores"};
}

}  // namespace electra::cli
