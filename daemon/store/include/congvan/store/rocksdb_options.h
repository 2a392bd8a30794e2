// The RocksDB options the store opens its database with, for tools that
// measure RocksDB as the store uses it (tests/bench: the synced-writes
// ceiling). The store itself needs no caller to know them.
#ifndef CONGVAN_STORE_ROCKSDB_OPTIONS_H_
#define CONGVAN_STORE_ROCKSDB_OPTIONS_H_

#include "congvan/store/store.h"
#include "rocksdb/options.h"

namespace congvan::store {

rocksdb::DBOptions DatabaseOptions(const StoreOptions& options);

}  // namespace congvan::store

#endif  // CONGVAN_STORE_ROCKSDB_OPTIONS_H_
