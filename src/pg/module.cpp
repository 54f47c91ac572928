// The library's entry: module magic and settings.
#include "pg/settings.hpp"

#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) { multidb::define_settings(); }
}
