// The library's entry: module magic, settings, the statement-start hooks of the kept connections' watch, and the
// shared table of cluster slots and the signal of worker slot shortages when preloaded.
#include "fanout/cluster_slots.hpp"
#include "fanout/connection_pool.hpp"
#include "foundation/settings.hpp"
#include "foundation/worker_shortage.hpp"

#include "foundation/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) {
  multidb::define_settings();
  multidb::pool_install_hooks();
  if (process_shared_preload_libraries_in_progress) {
    multidb::request_cluster_slots();
    multidb::request_worker_shortage();
  }
}
}
