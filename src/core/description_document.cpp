// An answer's description as a JSON document, and the drift between two (description_document.hpp).
#include "core/description_document.hpp"

#include "core/plan_parser.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace multidb {

namespace {

std::vector<DescribedColumn> columns_of(const nlohmann::json& list, const std::string& where) {
  if (!list.is_array()) throw std::invalid_argument(where + ": \"columns\" must be an array of {\"name\", \"type\"}");
  if (list.size() > kMaxDescribedColumns)
    throw std::invalid_argument(where + ": more than " + std::to_string(kMaxDescribedColumns) + " columns");
  std::vector<DescribedColumn> columns;
  for (const nlohmann::json& column : list) {
    if (!column.is_object() || !column.contains("name") || !column.contains("type") || !column["name"].is_string() ||
        !column["type"].is_string())
      throw std::invalid_argument(where + ": each column must be {\"name\": text, \"type\": text}");
    columns.push_back(DescribedColumn{column["name"].get<std::string>(), column["type"].get<std::string>()});
  }
  return columns;
}

}  // namespace

DescriptionDocument read_description_document(const std::string& json_text) {
  nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
  if (document.is_discarded() || !document.is_object())
    throw std::invalid_argument("a description is a JSON object {\"columns\": [...], \"databases\": [...]}");
  if (!document.contains("columns")) throw std::invalid_argument("a description has \"columns\"");
  DescriptionDocument read;
  read.columns = columns_of(document["columns"], "the answer");
  if (document.contains("databases")) {
    if (!document["databases"].is_array())
      throw std::invalid_argument("\"databases\" must be an array of {\"database\", \"columns\"}");
    for (const nlohmann::json& database : document["databases"]) {
      if (!database.is_object() || !database.contains("database") || !database["database"].is_string() ||
          !database.contains("columns"))
        throw std::invalid_argument("each database must be {\"database\": text, \"columns\": [...]}");
      std::string name = database["database"].get<std::string>();
      read.databases.push_back(DescribedStatement{name, columns_of(database["columns"], "database " + name)});
    }
  }
  read.has_combine = document.contains("combine") && !document["combine"].is_null();
  return read;
}

std::vector<DriftItem> description_document_drift(const DescriptionDocument& stored, const DescriptionDocument& now) {
  if (!stored.has_combine && !now.has_combine) return description_drift(stored.columns, now.databases);
  std::vector<DriftItem> drift;
  for (const DescribedStatement& database : now.databases) {
    std::vector<DescribedColumn> stored_columns;
    for (const DescribedStatement& old : stored.databases)
      if (old.database == database.database) stored_columns = old.columns;
    for (const DriftItem& item : description_drift(stored_columns, {database})) drift.push_back(item);
  }
  for (const DriftItem& item : description_drift(stored.columns, {DescribedStatement{kCombinedSource, now.columns}}))
    drift.push_back(item);
  return drift;
}

}  // namespace multidb
