// LoadTokenConfig: a person's token.toml.
//
//   module = "/usr/lib/softhsm/libsofthsm2.so"   # PKCS#11 module
//   token = "nguyen.van.a"                       # token label
//   key_label = "signing"                        # CKA_LABEL of the private key
//   pin_file = "pin.txt"                         # or: pin_env = "CONGVAN_PIN"
//   [environment]                                # optional
//   SOFTHSM2_CONF = "./softhsm2.conf"
//
// module and pin_file, when relative, and environment values that start with
// "./" or "../" are taken relative to the directory of the toml file.
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "congvan/signer/key_backend.h"
#include "congvan/signer/status_macros.h"

namespace congvan::signer {
namespace {

namespace fs = std::filesystem;

const std::set<std::string, std::less<>> kKnownKeys = {"module",  "token",   "key_label",
                                                        "pin_file", "pin_env", "environment"};

class ConfigReader {
 public:
  ConfigReader(std::string path, const toml::table& table, fs::path directory)
      : path_(std::move(path)), table_(table), directory_(std::move(directory)) {}

  absl::Status Error(const std::string& message) const {
    return absl::InvalidArgumentError(path_ + ": " + message);
  }

  absl::Status CheckKeys() const {
    for (const auto& [key, node] : table_) {
      if (kKnownKeys.count(key.str()) == 0) {
        return Error("unknown key '" + std::string(key.str()) + "'");
      }
    }
    return absl::OkStatus();
  }

  // A string value; "" when absent and not `required`.
  absl::StatusOr<std::string> String(std::string_view key, bool required) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (required) return Error("missing key '" + std::string(key) + "'");
      return std::string();
    }
    const toml::value<std::string>* value = node->as_string();
    if (value == nullptr) return Error("key '" + std::string(key) + "' must be a string");
    if (value->get().empty()) return Error("key '" + std::string(key) + "' is empty");
    return value->get();
  }

  std::string Resolve(const std::string& path) const {
    const fs::path p(path);
    if (p.is_absolute()) return path;
    return (directory_ / p).lexically_normal().string();
  }

  absl::Status ReadEnvironment(TokenConfig& config) const {
    const toml::node* node = table_.get("environment");
    if (node == nullptr) return absl::OkStatus();
    const toml::table* environment = node->as_table();
    if (environment == nullptr) return Error("key 'environment' must be a table");
    for (const auto& [key, value_node] : *environment) {
      const std::string name(key.str());
      const toml::value<std::string>* value = value_node.as_string();
      if (value == nullptr) {
        return Error("key 'environment." + name + "' must be a string");
      }
      if (name.find('=') != std::string::npos) {
        return Error("key 'environment." + name + "' is not a variable name");
      }
      std::string text = value->get();
      if (text.rfind("./", 0) == 0 || text.rfind("../", 0) == 0) text = Resolve(text);
      config.environment.emplace_back(name, std::move(text));
    }
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  const toml::table& table_;
  const fs::path directory_;
};

}  // namespace

absl::StatusOr<TokenConfig> LoadTokenConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read token config " + path);
  std::ostringstream text;
  text << in.rdbuf();

  toml::table table;
  try {
    table = toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    const toml::source_position& where = e.source().begin;
    return absl::InvalidArgumentError(path + ":" + std::to_string(where.line) + ":" +
                                      std::to_string(where.column) + ": " +
                                      std::string(e.description()));
  }
  std::error_code ec;
  fs::path directory = fs::absolute(path, ec).parent_path();
  if (ec) directory = fs::path(path).parent_path();
  ConfigReader reader(path, table, directory);
  RETURN_IF_ERROR(reader.CheckKeys());

  TokenConfig config;
  ASSIGN_OR_RETURN(std::string module, reader.String("module", /*required=*/true));
  config.module = reader.Resolve(module);
  ASSIGN_OR_RETURN(config.token, reader.String("token", /*required=*/true));
  ASSIGN_OR_RETURN(config.key_label, reader.String("key_label", /*required=*/true));
  ASSIGN_OR_RETURN(std::string pin_file, reader.String("pin_file", /*required=*/false));
  ASSIGN_OR_RETURN(config.pin.env, reader.String("pin_env", /*required=*/false));
  if (pin_file.empty() == config.pin.env.empty()) {
    return reader.Error(pin_file.empty() ? "missing key 'pin_file' (or 'pin_env')"
                                         : "set only one of 'pin_file' and 'pin_env'");
  }
  if (!pin_file.empty()) config.pin.file = reader.Resolve(pin_file);
  RETURN_IF_ERROR(reader.ReadEnvironment(config));
  return config;
}

}  // namespace congvan::signer
