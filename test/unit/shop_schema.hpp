// A small shop schema as a remote's introspection document, for the tests of the schema model and the prompt.
#pragma once

namespace multidb {

inline const char* kShop = R"json({"tables": [
  {"schema": "public", "name": "customers", "kind": "table", "comment": null, "rows": 120,
   "columns": [{"name": "id", "type": "integer", "nullable": false, "comment": null},
               {"name": "country", "type": "text", "nullable": false, "comment": "ISO code"}],
   "primary_key": ["id"], "foreign_keys": null},
  {"schema": "public", "name": "orders", "kind": "table", "comment": "one purchase", "rows": 600,
   "columns": [{"name": "id", "type": "integer", "nullable": false},
               {"name": "customer_id", "type": "integer", "nullable": false},
               {"name": "total", "type": "numeric(12,2)", "nullable": true}],
   "primary_key": ["id"],
   "foreign_keys": [{"columns": ["customer_id"], "references": "public.customers", "ref_columns": ["id"]}]}]})json";

}  // namespace multidb
