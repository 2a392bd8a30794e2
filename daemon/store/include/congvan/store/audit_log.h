// The types of the node's audit log (shared/DESIGN.md "Audit log and
// evidence"), which the Store keeps in its `log` column family.
//
// Every state change of the store writes its events (AuditEvent) in the same
// synced WriteBatch as the change itself, into a pending queue: an event is
// durable exactly when its change is. Store::IntegrateLog, called by one
// thread (the node's audit loop), then appends the pending events to the
// Merkle tree in one write, so that writers never wait for each other on the
// log. The tree's leaves are the events' bytes as stored; the store keeps the
// hash of every complete subtree, so roots and proofs are O(log n) reads.
//
// Store::Open re-derives the tree from the stored events and compares it
// with the stored hashes and size. What it finds changed behind the node's
// back (a missing event, a changed one) is repaired into a tree of the events
// that are there, and reported by Store::LogDamage(): the tree heads signed
// before no longer match, which the node's parent (witnessing) and any
// auditor (consistency proofs) then see.
#ifndef CONGVAN_STORE_AUDIT_LOG_H_
#define CONGVAN_STORE_AUDIT_LOG_H_

#include <cstdint>
#include <string>

#include "congvan/v1/audit.pb.h"

namespace congvan::store {

// What Open found changed in the log; empty when nothing.
struct LogDamage {
  uint64_t events_moved = 0;     // events after a gap, renumbered
  uint64_t hashes_rewritten = 0; // stored subtree hashes that did not match their events
  uint64_t size_before = 0;      // the tree size the store had recorded
  uint64_t size_after = 0;       // the number of events found
  bool empty() const { return events_moved == 0 && hashes_rewritten == 0 && size_before == size_after; }
  std::string ToString() const;
};

}  // namespace congvan::store

#endif  // CONGVAN_STORE_AUDIT_LOG_H_
