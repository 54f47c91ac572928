// libFuzzer: the text of an LLM's answer, read as a plan (JSON anywhere in prose, or DATABASE: blocks; sets of
// databases expanded), and the same bytes as a stored plan (run_plan, reports).
#include "core/plan_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> attached = {"production", "backup", "Tenant \"1\"", "t01", "t02", "t03"};
  static const std::vector<multidb::DatabaseGroup> groups = {{"tenants", {"t01", "t02", "t03"}}, {"@prod", {"production"}}};
  try {
    multidb::Plan plan = multidb::parse_plan(text, attached, groups);
    multidb::plan_from_json(multidb::plan_to_json(plan));
  } catch (const multidb::PlanError&) {
  }
  try {
    multidb::plan_from_json(text);
  } catch (const multidb::PlanError&) {
  }
  return 0;
}
