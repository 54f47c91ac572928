// Whether a remote result's rows can be read in binary: per column, from what is known of its type on both sides,
// and for the whole result, since a FETCH asks one format for all its columns (libpq's resultFormat).
#pragma once

namespace multidb {

// What the coordinator knows of one column of a remote result, and of the column that receives its values.
struct ColumnTypeFacts {
  unsigned remote_type;     // the column's type OID as the remote sent it (a domain arrives as its base type)
  bool remote_type_builtin;  // below the first OID a database assigns: the same type on every server
  unsigned local_type;       // the type of the column that receives the value here
  bool binary_io_here;       // the type has a receive and a send function here
  bool reads_catalog;        // its values name objects of a catalog (the reg* types, aclitem): only text keeps
                             // today's meaning (the name looked up here), binary would carry the remote's OIDs
};

enum class ColumnFormat {
  kBinary,
  kTextRemoteOwnType,   // an enum, a domain, an extension's type: its OID there means nothing here
  kTextOtherLocalType,  // received as another type (int4 into int8, numeric into text): its input function converts
  kTextNoBinaryIo,      // the type has no receive or send function
  kTextReadsCatalog,
};

ColumnFormat column_format(const ColumnTypeFacts& facts) noexcept;

// Why a column is read in text, as the DEBUG1 message says it ("" for kBinary).
const char* column_format_reason(ColumnFormat format) noexcept;

// The whole result: binary when every column can be (and the session's client encoding is the database's, since
// the receive functions of text types convert from it); else text. The index of the first column that keeps the
// result in text, or -1 when it is read in binary (or when the encoding alone keeps it in text: encoding_blocks).
struct ResultFormat {
  bool binary;
  int first_text_column;
  bool encoding_blocks;
};
ResultFormat result_format(const ColumnFormat* columns, int count, bool client_encoding_is_database_encoding) noexcept;

}  // namespace multidb
