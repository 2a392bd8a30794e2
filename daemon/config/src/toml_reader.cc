#include "toml_reader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "congvan/signer/certificate.h"

namespace congvan::config::internal {
namespace {

namespace fs = std::filesystem;

std::string WithHint(std::string message, std::string_view hint) {
  if (!hint.empty()) absl::StrAppend(&message, " (", std::string(hint), ")");
  return message;
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "true/false";
    default: return "a date or time";
  }
}

}  // namespace

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  const fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::string FormatBytes(int64_t bytes) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {int64_t{1} << 30, "GiB"}, {int64_t{1} << 20, "MiB"}, {int64_t{1} << 10, "KiB"}};
  for (const auto& [size, name] : kUnits) {
    if (bytes != 0 && bytes % size == 0) return absl::StrCat(bytes / size, " ", name);
  }
  return absl::StrCat(bytes, " B");
}

std::optional<TomlFile> ParseTomlFile(const std::string& path, Problems* problems) {
  TomlFile file;
  std::error_code ec;
  file.path = fs::absolute(path, ec).lexically_normal().string();
  if (ec) file.path = path;
  file.dir = fs::path(file.path).parent_path().string();
  // Read whole: a file that is not one, or far larger than any
  // configuration, is refused before it is read into memory.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    problems->Invalid("", "it is not a regular file");
    return std::nullopt;
  }
  if (const uintmax_t size = fs::file_size(path, ec); !ec && size > static_cast<uintmax_t>(kMaxConfigFileBytes)) {
    problems->Add(absl::StatusCode::kResourceExhausted, "",
                  absl::StrCat("the file has ", size, " bytes, more than the ", FormatBytes(kMaxConfigFileBytes),
                               " a configuration file may have: is it the right file?"));
    return std::nullopt;
  }
  auto text = signer::ReadFile(path);
  if (!text.ok()) {
    if (!fs::exists(path, ec)) {
      problems->Add(absl::StatusCode::kNotFound, "", "the file does not exist");
    } else {
      problems->Add(absl::StatusCode::kFailedPrecondition, "", "the file cannot be read (check its permissions)");
    }
    return std::nullopt;
  }
  try {
    file.table = toml::parse(*text, file.path);
  } catch (const toml::parse_error& e) {
    problems->Invalid("", absl::StrCat("line ", e.source().begin.line, ", column ", e.source().begin.column,
                                       ": not valid TOML: ", std::string(e.description())));
    return std::nullopt;
  }
  return file;
}

std::string TableReader::Key(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : absl::StrCat(prefix_, ".", std::string(key));
}

void TableReader::CheckKeys(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : table_) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    std::string list;
    for (std::string_view a : allowed) absl::StrAppend(&list, list.empty() ? "" : ", ", std::string(a));
    problems_->Invalid(Key(key.str()), "unknown key (expected one of: " + list + ")");
  }
}

const toml::node* TableReader::Get(std::string_view key, bool required, std::string_view hint) const {
  const toml::node* node = table_.get(key);
  if (node == nullptr && required) problems_->Invalid(Key(key), WithHint("is missing", hint));
  return node;
}

std::optional<std::string> TableReader::String(std::string_view key, bool required, std::string_view hint) const {
  const toml::node* node = Get(key, required, hint);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    Invalid(key, WithHint("must be a string, not " + TypeName(*node), hint));
    return std::nullopt;
  }
  std::string value = node->as_string()->get();
  if (value.empty()) {
    Invalid(key, WithHint("is empty", hint));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> TableReader::Path(std::string_view key, bool required, std::string_view hint) const {
  std::optional<std::string> value = String(key, required, hint);
  if (!value.has_value()) return std::nullopt;
  return ResolvePath(base_dir_, *value);
}

std::optional<std::vector<std::string>> TableReader::PathList(std::string_view key, bool required,
                                                              std::string_view hint) const {
  const toml::node* node = Get(key, required, hint);
  if (node == nullptr) return std::nullopt;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    Invalid(key, WithHint("must be a list of file names such as [\"root.pem\"], not " + TypeName(*node), hint));
    return std::nullopt;
  }
  if (array->empty() && required) {
    Invalid(key, WithHint("is empty", hint));
    return std::nullopt;
  }
  std::vector<std::string> paths;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const std::string item_key = absl::StrCat(Key(key), "[", i + 1, "]");
    if (!item.is_string() || item.as_string()->get().empty()) {
      problems_->Invalid(item_key, "must be a file name (a non-empty string)");
      ok = false;
      continue;
    }
    paths.push_back(ResolvePath(base_dir_, item.as_string()->get()));
  }
  if (!ok) return std::nullopt;
  return paths;
}

std::optional<signer::AgencyId> TableReader::Agency(std::string_view key, bool required) const {
  std::optional<std::string> text = String(key, required, "an agency ID such as \"000.00.00.H49\"");
  if (!text.has_value()) return std::nullopt;
  auto id = signer::AgencyId::Parse(*text);
  if (!id.ok()) {
    Invalid(key, "is not an agency ID: " + std::string(id.status().message()));
    return std::nullopt;
  }
  return *std::move(id);
}

std::optional<NetAddress> TableReader::Address(std::string_view key, bool required, bool allow_port_zero,
                                               std::string_view hint) const {
  std::optional<std::string> text = String(key, required, hint);
  if (!text.has_value()) return std::nullopt;
  auto address = ParseNetAddress(*text, allow_port_zero);
  if (!address.ok()) {
    Invalid(key, std::string(address.status().message()));
    return std::nullopt;
  }
  return *std::move(address);
}

namespace {

// "1 MiB" -> 1048576; nullopt for anything else.
std::optional<int64_t> ParseBytes(std::string_view text) {
  size_t i = 0;
  int64_t number = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (number > (std::numeric_limits<int64_t>::max() - 9) / 10) return std::nullopt;
    number = number * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string_view unit = text.substr(i);
  int shift = 0;
  if (unit == "B" || unit.empty()) {
    shift = 0;
  } else if (unit == "KiB") {
    shift = 10;
  } else if (unit == "MiB") {
    shift = 20;
  } else if (unit == "GiB") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (number > (std::numeric_limits<int64_t>::max() >> shift)) return std::nullopt;
  return number << shift;
}

}  // namespace

std::optional<int64_t> TableReader::Bytes(std::string_view key, int64_t min, int64_t max) const {
  const toml::node* node = Get(key, false, "");
  if (node == nullptr) return std::nullopt;
  std::optional<int64_t> bytes;
  if (node->is_integer()) {
    bytes = node->as_integer()->get();
  } else if (node->is_string()) {
    bytes = ParseBytes(node->as_string()->get());
  }
  if (!bytes.has_value()) {
    Invalid(key, "must be a size: a number of bytes, or a string such as \"512 KiB\", \"1 MiB\" or \"2 GiB\"");
    return std::nullopt;
  }
  if (*bytes < min || *bytes > max) {
    Invalid(key, absl::StrCat("must be between ", FormatBytes(min), " and ", FormatBytes(max), ", not ",
                              FormatBytes(*bytes)));
    return std::nullopt;
  }
  return bytes;
}

std::optional<int64_t> TableReader::Integer(std::string_view key, int64_t min, int64_t max) const {
  const toml::node* node = Get(key, false, "");
  if (node == nullptr) return std::nullopt;
  if (!node->is_integer()) {
    Invalid(key, "must be an integer, not " + TypeName(*node));
    return std::nullopt;
  }
  const int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    Invalid(key, absl::StrCat("must be between ", min, " and ", max, ", not ", value));
    return std::nullopt;
  }
  return value;
}

std::optional<absl::Duration> TableReader::Duration(std::string_view key) const {
  const toml::node* node = Get(key, false, "");
  if (node == nullptr) return std::nullopt;
  absl::Duration duration;
  if (!node->is_string() || !absl::ParseDuration(node->as_string()->get(), &duration) ||
      duration <= absl::ZeroDuration() || duration == absl::InfiniteDuration()) {
    Invalid(key, "must be a positive duration such as \"500ms\", \"30s\", \"5m\", \"24h\" or \"1h30m\"");
    return std::nullopt;
  }
  return duration;
}

const toml::table* TableReader::Table(std::string_view key, bool required, std::string_view hint) const {
  const toml::node* node = Get(key, required, hint);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    Invalid(key, WithHint("must be a table ([" + Key(key) + "]), not " + TypeName(*node), hint));
    return nullptr;
  }
  return node->as_table();
}

std::vector<const toml::table*> TableReader::TableArray(std::string_view key) const {
  std::vector<const toml::table*> out;
  const toml::node* node = Get(key, false, "");
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array != nullptr && array->empty()) return out;
  if (array == nullptr || !array->is_array_of_tables()) {
    Invalid(key, "must be written as [[" + Key(key) + "]] tables");
    return out;
  }
  for (const toml::node& item : *array) out.push_back(item.as_table());
  return out;
}

}  // namespace congvan::config::internal
