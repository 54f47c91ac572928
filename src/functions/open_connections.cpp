// What multidb's remote connections look like from SQL: open_connections() and disconnect() for this backend's kept
// connections (fanout/connection_pool.hpp), in the spirit of postgres_fdw_get_connections() and
// postgres_fdw_disconnect(); connection_slots() for the count per remote cluster (fanout/cluster_slots.hpp).
#include "fanout/cluster_slots.hpp"
#include "fanout/connection_pool.hpp"
#include "foundation/entry_point.hpp"
#include "foundation/settings.hpp"

extern "C" {
#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

using namespace multidb;

extern "C" {

MULTIDB_FUNCTION(multidb_open_connections) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  int count;
  PooledConnection* list = pool_list(&count);
  for (int i = 0; i < count; i++) {
    const char* user = GetUserNameFromId(list[i].user, true);
    Datum values[6] = {CStringGetTextDatum(list[i].name), CStringGetTextDatum(user ? user : "(a dropped role)"),
                       CStringGetTextDatum(list[i].remote_user), Int32GetDatum(list[i].remote_pid),
                       TimestampTzGetDatum(list[i].idle_since), Int64GetDatum(list[i].calls)};
    bool nulls[6] = {false, false, false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return static_cast<Datum>(0);
}

MULTIDB_FUNCTION(multidb_disconnect) {
  if (PG_ARGISNULL(0)) PG_RETURN_INT32(pool_close(InvalidOid));
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  ForeignServer* server = GetForeignServerByName(name, true);
  if (server == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("connection \"%s\" does not exist", name),
                    errhint("SELECT connection FROM multidb.open_connections() lists the kept ones.")));
  PG_RETURN_INT32(pool_close(server->serverid));
}

MULTIDB_FUNCTION(multidb_connection_slots) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  int count;
  ClusterLoad* list = cluster_slot_list(&count);
  for (int i = 0; i < count; i++) {
    Datum values[5] = {CStringGetTextDatum(list[i].cluster), Int32GetDatum(list[i].open), Int32GetDatum(list[i].waiting),
                       Int32GetDatum(max_connections_per_host), BoolGetDatum(cluster_slots_shared())};
    bool nulls[5] = {false, false, false, max_connections_per_host <= 0, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return static_cast<Datum>(0);
}

}  // extern "C"
