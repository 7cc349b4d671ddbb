// Reading required fields of JSON documents (manifests, configs) with errors that name the file
// and the field.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "data/debug_detail.h"

namespace electra::data {

// object[name] as T; throws "<where>: field '<name>' is missing" or "... has the wrong type".
template <typename T>
T json_field(const nlohmann::json& object, const char* name, const std::string& where) {
  if (!object.is_object()) {
    throw std::runtime_error(where + ": not a JSON object (" + std::string(object.type_name()) +
                             "); it needs field '" + name + "'");
  }
  if (!object.contains(name)) throw std::runtime_error(where + ": field '" + name + "' is missing");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const nlohmann::json& value = object.at(name);
    if (value.is_number_float() && value.get<double>() != double(value.get<long long>())) {
      throw std::runtime_error(where + ": field '" + name + "' must be a whole number, not " +
                               value.dump());
    }
  }
  try {
    return object.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": field '" + name +
                             "' has the wrong type: " + object.at(name).dump());
  }
}

// The JSON document in `path`; throws "<path>: <if_missing>" when it cannot be opened and
// "<path>: not valid JSON (at byte N)" when it does not parse (the parser's text only under
// ELECTRA_DEBUG=1).
inline nlohmann::json read_json_file(const std::string& path, const std::string& if_missing) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": " + if_missing);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON (at byte " + std::to_string(e.byte) +
                             "); fix it or write it again" + debug_detail(e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON; fix it or write it again" +
                             debug_detail(e.what()));
  }
}

}  // namespace electra::data
