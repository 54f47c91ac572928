// Included by every source file of src/core/: the core is plain C++ and must never see a Postgres header,
// so that it can be unit-tested alone and can throw exceptions freely.
#pragma once
#ifdef POSTGRES_H
static_assert(false,
              "src/core/ must not include Postgres headers; put Postgres glue in src/foundation/ or a layer above it");
#endif
