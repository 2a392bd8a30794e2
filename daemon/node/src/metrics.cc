#include "congvan/node/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace congvan::node {
namespace {

using Type = Metrics::Type;

struct FamilyDefinition {
  std::string_view name;
  Type type;
  std::string_view help;
  std::vector<std::string_view> labels;
  std::vector<double> buckets;  // histograms: upper bounds, increasing; +Inf is implied
};

// Every metric of the node. Names, types and labels are a contract with
// dashboards, alerts and tests: add families, do not change them.
const std::vector<FamilyDefinition>& Families() {
  static const auto* const families = new std::vector<FamilyDefinition>{
      {"congvan_deliveries_total", Type::kCounter,
       "Document deliveries to a next hop attempted by the delivery loop, by peer and result "
       "(delivered; retry; failed: given up at the deadline).",
       {"peer", "result"}, {}},
      {"congvan_delivery_bytes_total", Type::kCounter,
       "Part bytes of the documents delivered successfully to a next hop.", {"peer"}, {}},
      {"congvan_delivery_seconds", Type::kHistogram,
       "Duration of one successful document delivery to a next hop, in seconds.", {},
       {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}},
      {"congvan_answers_forwarded_total", Type::kCounter,
       "Receipts and statuses sent to a next hop with NodeService.Answer, by peer and result "
       "(delivered; retry; failed: given up at the deadline).",
       {"peer", "result"}, {}},
      {"congvan_received_total", Type::kCounter,
       "NodeService.Deliver calls served, by calling peer (unknown when it is not an identified peer of this "
       "node) and result (stored; duplicate: a message already here; rejected).",
       {"peer", "result"}, {}},
      {"congvan_received_bytes_total", Type::kCounter,
       "Part bytes of the documents received from peers and stored.", {"peer"}, {}},
      {"congvan_documents_issued_total", Type::kCounter,
       "Documents this node registered and sealed for its clerks (ClerkService.Send).", {}, {}},
      {"congvan_sends_replayed_total", Type::kCounter,
       "Sends that repeated the request id of a document already issued: answered with that issue, nothing "
       "issued again (a client that lost the answer and sent again).",
       {}, {}},
      {"congvan_audit_log_events", Type::kGauge, "Events in the audit log's Merkle tree.", {}, {}},
      {"congvan_audit_tree_heads_total", Type::kCounter, "Tree heads of the audit log sealed by this node.", {}, {}},
      {"congvan_audit_timestamps_total", Type::kCounter,
       "RFC 3161 timestamp requests for tree heads, by result (granted; failed: the authority could not be "
       "reached or refused).",
       {"result"}, {}},
      {"congvan_audit_timestamp_pending_seconds", Type::kGauge,
       "Age of the oldest tree head still waiting for its timestamp, in seconds (0 when none waits).", {}, {}},
      {"congvan_audit_witness_total", Type::kCounter,
       "Tree heads sent to the parent for witnessing (sent) and children's heads checked here (accepted; "
       "inconsistent: a child whose log was rewritten; failed: not reached or refused), by role and result.",
       {"role", "result"}, {}},
      {"congvan_audit_log_damaged", Type::kGauge,
       "1 when the node found at start-up that its audit log was changed behind its back, else 0.", {}, {}},
      {"congvan_outbox_entries", Type::kGauge,
       "Entries in the outbox by state (pending: waiting for an attempt or between attempts; failed: given up at "
       "their deadline until re-armed).",
       {"state"}, {}},
      {"congvan_signatures_total", Type::kCounter,
       "CMS signatures by operation: made (seals of documents, receipts, statuses, reports, trace hops, tree "
       "heads, evidence manifests) and verified (seals, leaders' signatures, tree heads and timestamp tokens that "
       "verified).",
       {"operation"}, {}},
      {"congvan_store_bytes", Type::kGauge,
       "Bytes of the database's files on disk (SST and blob files, WAL, MANIFEST, RocksDB's logs).", {}, {}},
      {"congvan_certificate_expiry_days", Type::kGauge,
       "Days until a certificate expires (negative once expired): the node's seal, tls and tsa certificates, and "
       "the soonest of its trust anchors (anchor).",
       {"certificate"}, {}},
  };
  return *families;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

[[noreturn]] void Misuse(std::string_view name, const std::string& what) {
  std::fprintf(stderr, "congvan metrics: %.*s: %s\n", static_cast<int>(name.size()), name.data(), what.c_str());
  std::abort();
}

// Prometheus takes Go's float syntax: the shortest text that reads back
// as the same double, and +Inf, -Inf, NaN.
std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Label values escape backslash, double quote and line feed; HELP text
// escapes backslash and line feed.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {name="value",...}, with `extra` (a histogram's le) last; "" when empty.
std::string LabelText(const FamilyDefinition& family, const std::vector<std::string>& values,
                      const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += std::string(family.labels[i]) + "=\"" + Escape(values[i], true) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
  return out.empty() ? out : out + "}";
}

// The index in Families() of `name`, checked against how it is used.
size_t FamilyIndex(std::string_view name, Type type, const Labels& labels) {
  const std::vector<FamilyDefinition>& families = Families();
  const auto it = std::find_if(families.begin(), families.end(),
                               [&](const FamilyDefinition& family) { return family.name == name; });
  if (it == families.end()) Misuse(name, "not a defined metric (see the table in daemon/node/src/metrics.cc)");
  if (it->type != type) {
    Misuse(name, "is a " + std::string(TypeName(it->type)) + ", used as a " + std::string(TypeName(type)));
  }
  bool names_match = labels.size() == it->labels.size();
  for (size_t i = 0; names_match && i < labels.size(); ++i) names_match = labels[i].first == it->labels[i];
  if (!names_match) {
    std::string want;
    for (std::string_view label : it->labels) want += (want.empty() ? "" : ", ") + std::string(label);
    Misuse(name, "takes the labels (" + want + "), in that order");
  }
  return static_cast<size_t>(it - families.begin());
}

}  // namespace

Metrics::Series& Metrics::Find(size_t family, const Labels& labels) {
  std::vector<std::string> values;
  values.reserve(labels.size());
  for (const auto& [label, value] : labels) values.push_back(value);
  auto [entry, inserted] = families_[family].try_emplace(std::move(values));
  if (inserted) entry->second.buckets.assign(Families()[family].buckets.size() + 1, 0);
  return entry->second;
}

void Metrics::Add(std::string_view name, const Labels& labels, double by) {
  if (!(by >= 0)) Misuse(name, "a counter cannot go down (added " + FormatNumber(by) + ")");
  const size_t family = FamilyIndex(name, Type::kCounter, labels);
  absl::MutexLock lock(&mu_);
  Find(family, labels).value += by;
}

void Metrics::Set(std::string_view name, const Labels& labels, double value) {
  const size_t family = FamilyIndex(name, Type::kGauge, labels);
  absl::MutexLock lock(&mu_);
  Find(family, labels).value = value;
}

void Metrics::Observe(std::string_view name, const Labels& labels, double value) {
  const size_t family = FamilyIndex(name, Type::kHistogram, labels);
  const std::vector<double>& bounds = Families()[family].buckets;
  // The first bucket whose bound is at least the value ("le"); else +Inf.
  const size_t bucket = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  absl::MutexLock lock(&mu_);
  Series& series = Find(family, labels);
  ++series.buckets[bucket];
  series.sum += value;
  ++series.count;
}

std::string Metrics::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  const std::vector<FamilyDefinition>& families = Families();
  for (size_t f = 0; f < families.size(); ++f) {
    const FamilyDefinition& family = families[f];
    const std::string name(family.name);
    out += "# HELP " + name + " " + Escape(family.help, false) + "\n";
    out += "# TYPE " + name + " " + std::string(TypeName(family.type)) + "\n";
    FamilySeries none;
    if (family.labels.empty()) none[{}].buckets.assign(family.buckets.size() + 1, 0);  // 0 until counted
    const auto found = families_.find(f);
    const FamilySeries& series = found != families_.end() ? found->second : none;
    for (const auto& [values, s] : series) {
      if (family.type != Type::kHistogram) {
        out += name + LabelText(family, values) + " " + FormatNumber(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= family.buckets.size(); ++b) {
        cumulative += s.buckets[b];
        const std::string le = b < family.buckets.size() ? FormatNumber(family.buckets[b]) : "+Inf";
        out += name + "_bucket" + LabelText(family, values, "le=\"" + le + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + LabelText(family, values) + " " + FormatNumber(s.sum) + "\n";
      out += name + "_count" + LabelText(family, values) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace congvan::node
