// Reading a configuration table key by key, collecting every problem instead
// of stopping at the first (CheckNodeConfig reports them all at once).
#ifndef CONGVAN_DAEMON_CONFIG_SRC_TOML_READER_H_
#define CONGVAN_DAEMON_CONFIG_SRC_TOML_READER_H_

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "congvan/config/net_address.h"
#include "congvan/config/problem.h"
#include "congvan/signer/agency_id.h"

namespace congvan::config::internal {

class Problems {
 public:
  void Add(absl::StatusCode code, std::string key, std::string message) {
    list_.push_back({code, std::move(key), std::move(message)});
  }
  void Invalid(std::string key, std::string message) {
    Add(absl::StatusCode::kInvalidArgument, std::move(key), std::move(message));
  }
  bool empty() const { return list_.empty(); }
  const std::vector<ConfigProblem>& list() const { return list_; }
  std::vector<ConfigProblem> Take() { return std::move(list_); }

 private:
  std::vector<ConfigProblem> list_;
};

// A parsed TOML file and the directory its relative paths start from.
struct TomlFile {
  std::string path;  // absolute
  std::string dir;   // absolute
  toml::table table;
};

// The largest node.toml or profile.toml read: a configuration is a few KiB
// (a node with a thousand people is about 100 KiB).
inline constexpr int64_t kMaxConfigFileBytes = int64_t{1} << 20;

// Reads and parses `path`. nullopt, with a problem, when it does not exist
// (NOT_FOUND), cannot be read (FAILED_PRECONDITION), is larger than
// kMaxConfigFileBytes (RESOURCE_EXHAUSTED), is not a regular file or is not
// TOML (INVALID_ARGUMENT, with line and column).
std::optional<TomlFile> ParseTomlFile(const std::string& path, Problems* problems);

// The fields of one table. Getters return nullopt when the key is absent
// (a problem when `required`) or its value is wrong (always a problem).
class TableReader {
 public:
  // `prefix`: the table's key path ("" for the top level, "peers.parent").
  TableReader(const toml::table& table, std::string prefix, std::string base_dir, Problems* problems)
      : table_(table), prefix_(std::move(prefix)), base_dir_(std::move(base_dir)), problems_(problems) {}

  // The key path of `key` in this table.
  std::string Key(std::string_view key) const;
  Problems* problems() const { return problems_; }
  const std::string& base_dir() const { return base_dir_; }
  bool Has(std::string_view key) const { return table_.contains(key); }

  // Reports every key that is not `allowed` (a typo must not pass silently).
  void CheckKeys(std::initializer_list<std::string_view> allowed) const;

  std::optional<std::string> String(std::string_view key, bool required, std::string_view hint = "") const;
  // A file path, resolved against base_dir when relative.
  std::optional<std::string> Path(std::string_view key, bool required, std::string_view hint = "") const;
  // A list of file paths (non-empty when `required`).
  std::optional<std::vector<std::string>> PathList(std::string_view key, bool required,
                                                   std::string_view hint = "") const;
  std::optional<signer::AgencyId> Agency(std::string_view key, bool required) const;
  std::optional<NetAddress> Address(std::string_view key, bool required, bool allow_port_zero,
                                    std::string_view hint = "") const;
  // A byte count: an integer, or a string such as "1 MiB" (B, KiB, MiB,
  // GiB), within [min, max].
  std::optional<int64_t> Bytes(std::string_view key, int64_t min, int64_t max) const;
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max) const;
  // A string such as "30s", "5m", "24h", "1h30m"; positive and finite.
  std::optional<absl::Duration> Duration(std::string_view key) const;
  // A sub-table; nullptr when absent (a problem when `required`) or not a
  // table.
  const toml::table* Table(std::string_view key, bool required, std::string_view hint = "") const;
  // The tables of an array of tables ([[people]]); empty when absent.
  std::vector<const toml::table*> TableArray(std::string_view key) const;

  void Invalid(std::string_view key, std::string message) const { problems_->Invalid(Key(key), std::move(message)); }

 private:
  const toml::node* Get(std::string_view key, bool required, std::string_view hint) const;

  const toml::table& table_;
  std::string prefix_;
  std::string base_dir_;
  Problems* problems_;
};

// `path` resolved against `base_dir` when relative, lexically normalised.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// "1 MiB", "2 GiB", "1536 KiB", "1000 B": the largest unit that divides.
std::string FormatBytes(int64_t bytes);

}  // namespace congvan::config::internal

#endif  // CONGVAN_DAEMON_CONFIG_SRC_TOML_READER_H_
