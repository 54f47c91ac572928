// The layers of src/: each folder is one layer, and a file includes only headers of its own folder and of the
// layers below it, so that every arrow between folders points down. The order is written here, once; the
// docs/architecture.md draws it and says why, and each folder's README.md says what it owns.
//
// The test reads the source tree from the working directory, the repository root (`make unit` runs there, in
// the checkout or in the copy `make test` makes), and fails naming each file and include that points up or
// sideways. The checker is tested too, on a small tree of its own with bad includes planted in it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// Bottom to top. Folders on one level stand side by side and may not include each other.
const std::vector<std::vector<std::string>> kLayers = {
    {"core"},              // pure C++: no Postgres header (core/cpp_only.hpp fails the build if one comes in)
    {"foundation"},        // Postgres foundations: headers, the C++/Postgres boundary, settings, the catalog of
                           // connections, multidb's own tables, the guard and the combine step's fence
    {"fanout"},            // the fan-out executor: remote sessions, workers, kept connections, cluster slots
    {"functions", "ask"},  // the SQL-callable functions; the ask pipeline (its own SQL-callable functions too)
};

// Programs of their own beside the extension: each folder may include itself and the folders listed, and no
// Postgres server header (a program is no backend; libpq's client header libpq-fe.h is fine).
const std::vector<std::pair<std::string, std::vector<std::string>>> kPrograms = {
    {"gateway", {"core"}},  // multidb-web, the HTTP gateway
};

const std::vector<std::string>* program_allows(const std::string& folder) {
  for (const auto& program : kPrograms)
    if (program.first == folder) return &program.second;
  return nullptr;
}

// Headers only a Postgres backend may include: its top-level ones and its include folders.
bool is_server_header(const std::string& target) {
  static const std::vector<std::string> kTop = {"postgres.h", "postgres_ext.h", "fmgr.h", "funcapi.h", "miscadmin.h",
                                                "pgstat.h", "c.h", "pg_config.h"};
  static const std::vector<std::string> kFolders = {
      "access/", "catalog/", "commands/", "executor/", "foreign/", "lib/", "libpq/", "mb/", "nodes/", "optimizer/",
      "parser/", "postmaster/", "replication/", "rewrite/", "storage/", "tcop/", "utils/", "common/", "port/"};
  if (std::find(kTop.begin(), kTop.end(), target) != kTop.end()) return true;
  for (const std::string& folder : kFolders)
    if (target.rfind(folder, 0) == 0) return true;
  return false;
}

// The layer's level (0 is the bottom), or -1 for a folder that is no layer.
int level_of(const std::string& folder) {
  for (size_t level = 0; level < kLayers.size(); level++)
    for (const std::string& name : kLayers[level])
      if (name == folder) return static_cast<int>(level);
  return -1;
}

std::string join(const std::vector<std::string>& names, const char* separator) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : separator) + name;
  return text;
}

// What a folder of level may include: itself and every folder below it.
std::string allowed_for(const std::string& folder) {
  std::vector<std::string> allowed;
  int level = level_of(folder);
  for (int below = 0; below < level; below++)
    for (const std::string& name : kLayers[below]) allowed.push_back(name);
  allowed.push_back(folder);
  return join(allowed, ", ");
}

bool is_source(const fs::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".cpp" || extension == ".hpp" || extension == ".h" || extension == ".c";
}

// Every source file under src, sorted, as paths relative to src ("fanout/remote.cpp").
std::vector<std::string> source_files(const fs::path& src) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(src))
    if (entry.is_regular_file() && is_source(entry.path()))
      files.push_back(entry.path().lexically_relative(src).generic_string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string first_component(const std::string& path) { return path.substr(0, path.find('/')); }

// Each include of src/<file> that breaks the rule, as "src/<file>:<line>: ...". An include whose first component
// is no folder of src (a Postgres, libpq or system header: "utils/array.h", <string>) is not ours and is skipped.
std::vector<std::string> layering_violations(const fs::path& src) {
  static const std::regex kInclude(R"(^\s*#\s*include\s*["<]([^">]+)[">])");
  std::vector<std::string> violations;
  for (const std::string& file : source_files(src)) {
    const std::string folder = first_component(file);
    const std::string where_file = "src/" + file;
    if (file.find('/') == std::string::npos) {
      violations.push_back(where_file + ": lies in src/ itself, in no layer's folder");
      continue;
    }
    const int level = level_of(folder);
    std::ifstream in(src / file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      number++;
      std::smatch match;
      if (!std::regex_search(line, match, kInclude)) continue;
      const std::string target = match[1];
      const std::string where = where_file + ":" + std::to_string(number) + ": includes \"" + target + "\"";
      if (target.find("..") != std::string::npos) {
        violations.push_back(where + ": write a header of src by its folder, never with \"..\"");
        continue;
      }
      const std::string target_folder = first_component(target);
      if (const std::vector<std::string>* allows = program_allows(folder)) {
        if (is_server_header(target)) {
          violations.push_back(where + ": a Postgres server header; program " + folder +
                               " is no backend (libpq-fe.h is its way to Postgres)");
          continue;
        }
        const bool ours = target.find('/') != std::string::npos && fs::is_directory(src / target_folder);
        if (ours && target_folder != folder &&
            std::find(allows->begin(), allows->end(), target_folder) == allows->end())
          violations.push_back(where + ": program " + folder + " may include only " + join(*allows, ", ") + ", " +
                               folder);
        if (!ours && fs::exists((src / file).parent_path() / target))
          violations.push_back(where + ": write it as \"" + folder + "/" + target + "\", so that its layer shows");
        continue;
      }
      const bool names_a_folder = target.find('/') != std::string::npos && fs::is_directory(src / target_folder);
      if (!names_a_folder) {
        // A bare name found beside the file compiles (quoted includes look there first) but hides its folder.
        if (fs::exists((src / file).parent_path() / target))
          violations.push_back(where + ": write it as \"" + folder + "/" + target + "\", so that its layer shows");
        continue;
      }
      const int target_level = level_of(target_folder);
      if (level < 0 || target_level < 0) continue;  // reported once per folder by the test below
      if (target_folder == folder || target_level < level) continue;
      if (target_level == level)
        violations.push_back(where + ": " + folder + " and " + target_folder +
                             " stand side by side on one level and may not include each other");
      else
        violations.push_back(where + ": it points up; " + folder + " may include only " + allowed_for(folder));
    }
  }
  return violations;
}

// The folders of src that are no layer, and the layers that have no folder.
std::vector<std::string> unplaced_folders(const fs::path& src) {
  std::vector<std::string> problems;
  std::vector<std::string> folders;
  for (const auto& entry : fs::directory_iterator(src))
    if (entry.is_directory()) folders.push_back(entry.path().filename().string());
  std::sort(folders.begin(), folders.end());
  for (const std::string& folder : folders)
    if (level_of(folder) < 0 && !program_allows(folder))
      problems.push_back("src/" + folder + "/ is in no layer: place it in kLayers (test/unit/layering_test.cpp), "
                         "docs/architecture.md's layers and a README.md of its own");
  for (const auto& level : kLayers)
    for (const std::string& name : level)
      if (std::find(folders.begin(), folders.end(), name) == folders.end())
        problems.push_back("layer " + name + " has no folder src/" + name + "/");
  for (const auto& program : kPrograms)
    if (std::find(folders.begin(), folders.end(), program.first) == folders.end())
      problems.push_back("program " + program.first + " has no folder src/" + program.first + "/");
  return problems;
}

// "core, then foundation, then fanout, then functions beside ask"
std::string layer_order() {
  std::vector<std::string> levels;
  for (const auto& level : kLayers) levels.push_back(join(level, " beside "));
  return join(levels, ", then ");
}

std::string listed(const std::vector<std::string>& lines) { return "\n  " + join(lines, "\n  "); }

fs::path source_tree() { return fs::path("src"); }

// ---- the tree itself ----------------------------------------------------------------------------------------

TEST(Layering, RunsAtTheRepositoryRoot) {
  ASSERT_TRUE(fs::is_directory(source_tree() / "core"))
      << "no src/core here (" << fs::current_path() << "): run the unit tests from the repository root, "
      << "as make unit does";
}

TEST(Layering, EveryFolderOfSrcIsALayer) {
  if (!fs::is_directory(source_tree())) GTEST_SKIP() << "no src/ here";
  std::vector<std::string> problems = unplaced_folders(source_tree());
  EXPECT_TRUE(problems.empty()) << listed(problems);
}

TEST(Layering, IncludesPointOnlyDown) {
  if (!fs::is_directory(source_tree())) GTEST_SKIP() << "no src/ here";
  std::vector<std::string> violations = layering_violations(source_tree());
  EXPECT_TRUE(violations.empty()) << violations.size() << " include(s) break the layers (bottom to top: "
                                  << layer_order() << "):" << listed(violations);
}

TEST(Layering, EveryLayerSaysWhatItOwnsAndMayInclude) {
  if (!fs::is_directory(source_tree())) GTEST_SKIP() << "no src/ here";
  for (const auto& level : kLayers)
    for (const std::string& name : level) {
      std::ifstream readme(source_tree() / name / "README.md");
      std::string text((std::istreambuf_iterator<char>(readme)), std::istreambuf_iterator<char>());
      EXPECT_NE(text.find("May include"), std::string::npos)
          << "src/" << name << "/README.md must say what the folder owns and, on a line of its own, what it "
          << "\"May include\"";
    }
  for (const auto& program : kPrograms) {
    std::ifstream readme(source_tree() / program.first / "README.md");
    std::string text((std::istreambuf_iterator<char>(readme)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("May include"), std::string::npos)
        << "src/" << program.first << "/README.md must say what the program is and what it \"May include\"";
  }
}

// ---- the checker, on a tree of its own -----------------------------------------------------------------------

class LayeringChecker : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("multidb_layering_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    for (const auto& level : kLayers)
      for (const std::string& name : level) fs::create_directories(root_ / name);
    for (const auto& program : kPrograms) fs::create_directories(root_ / program.first);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& file, const std::string& text) {
    fs::create_directories((root_ / file).parent_path());
    std::ofstream(root_ / file) << text;
  }

  fs::path root_;
};

TEST_F(LayeringChecker, AcceptsIncludesThatPointDownOrStayInTheirFolder) {
  write("core/text.hpp", "#pragma once\n#include <string>\n");
  write("foundation/settings.hpp", "#include \"core/text.hpp\"\n");
  write("fanout/remote.cpp",
        "#include \"fanout/remote.hpp\"\n#include \"foundation/settings.hpp\"\n#include \"core/text.hpp\"\n"
        "extern \"C\" {\n#include \"executor/spi.h\"\n#include \"utils/array.h\"\n}\n");
  write("fanout/remote.hpp", "#pragma once\n");
  write("functions/fanout.cpp", "#include \"fanout/remote.hpp\"\n// #include \"ask/ask.hpp\" in a comment\n");
  write("ask/ask.cpp", "  #  include \"foundation/settings.hpp\"\n#include \"fanout/remote.hpp\"\n");
  EXPECT_TRUE(layering_violations(root_).empty()) << listed(layering_violations(root_));
  EXPECT_TRUE(unplaced_folders(root_).empty()) << listed(unplaced_folders(root_));
}

TEST_F(LayeringChecker, NamesEachIncludeThatPointsUpOrSideways) {
  write("core/text.cpp", "#include \"core/text.hpp\"\n#include \"foundation/postgres.hpp\"\n");
  write("core/text.hpp", "#pragma once\n");
  write("foundation/connections.cpp", "#include \"foundation/connections.hpp\"\n\n#include \"fanout/pool.hpp\"\n");
  write("foundation/connections.hpp", "#pragma once\n");
  write("fanout/pool.hpp", "#pragma once\n#include <ask/ask.hpp>\n");
  write("functions/fanout.cpp", "#include \"ask/ask.hpp\"\n");
  write("ask/ask.hpp", "#pragma once\n#include \"functions/entry.hpp\"\n");
  write("functions/entry.hpp", "#pragma once\n");
  std::vector<std::string> violations = layering_violations(root_);
  ASSERT_EQ(violations.size(), 5u) << listed(violations);
  EXPECT_EQ(violations[0],
            "src/ask/ask.hpp:2: includes \"functions/entry.hpp\": ask and functions stand side by side on one level "
            "and may not include each other");
  EXPECT_EQ(violations[1],
            "src/core/text.cpp:2: includes \"foundation/postgres.hpp\": it points up; core may include only core");
  EXPECT_EQ(violations[2],
            "src/fanout/pool.hpp:2: includes \"ask/ask.hpp\": it points up; fanout may include only core, foundation, "
            "fanout");
  EXPECT_EQ(violations[3],
            "src/foundation/connections.cpp:3: includes \"fanout/pool.hpp\": it points up; foundation may include "
            "only core, foundation");
  EXPECT_EQ(violations[4],
            "src/functions/fanout.cpp:1: includes \"ask/ask.hpp\": functions and ask stand side by side on one level "
            "and may not include each other");
}

TEST_F(LayeringChecker, RefusesIncludesThatHideTheirFolder) {
  write("fanout/remote.hpp", "#pragma once\n");
  write("fanout/remote.cpp", "#include \"remote.hpp\"\n#include \"../ask/ask.hpp\"\n");
  write("stray.cpp", "int x;\n");
  std::vector<std::string> violations = layering_violations(root_);
  ASSERT_EQ(violations.size(), 3u) << listed(violations);
  EXPECT_EQ(violations[0], "src/fanout/remote.cpp:1: includes \"remote.hpp\": write it as \"fanout/remote.hpp\", so "
                           "that its layer shows");
  EXPECT_EQ(violations[1], "src/fanout/remote.cpp:2: includes \"../ask/ask.hpp\": write a header of src by its "
                           "folder, never with \"..\"");
  EXPECT_EQ(violations[2], "src/stray.cpp: lies in src/ itself, in no layer's folder");
}

TEST_F(LayeringChecker, NamesFoldersThatAreNoLayer) {
  fs::create_directories(root_ / "tools");
  fs::remove_all(root_ / "ask");
  fs::remove_all(root_ / "gateway");
  std::vector<std::string> problems = unplaced_folders(root_);
  ASSERT_EQ(problems.size(), 3u) << listed(problems);
  EXPECT_EQ(problems[0], "src/tools/ is in no layer: place it in kLayers (test/unit/layering_test.cpp), "
                         "docs/architecture.md's layers and a README.md of its own");
  EXPECT_EQ(problems[1], "layer ask has no folder src/ask/");
  EXPECT_EQ(problems[2], "program gateway has no folder src/gateway/");
}

TEST_F(LayeringChecker, KeepsAProgramToTheCoreAndOffServerHeaders) {
  write("gateway/main.cpp",
        "#include \"gateway/options.hpp\"\n#include \"core/text.hpp\"\n#include <libpq-fe.h>\n"
        "#include <nlohmann/json.hpp>\n#include \"fanout/pool.hpp\"\n#include \"utils/builtins.h\"\n"
        "#include \"postgres.h\"\n#include \"options.hpp\"\n");
  write("gateway/options.hpp", "#pragma once\n");
  write("fanout/pool.hpp", "#pragma once\n");
  std::vector<std::string> violations = layering_violations(root_);
  ASSERT_EQ(violations.size(), 4u) << listed(violations);
  EXPECT_EQ(violations[0], "src/gateway/main.cpp:5: includes \"fanout/pool.hpp\": program gateway may include only "
                           "core, gateway");
  EXPECT_EQ(violations[1], "src/gateway/main.cpp:6: includes \"utils/builtins.h\": a Postgres server header; program "
                           "gateway is no backend (libpq-fe.h is its way to Postgres)");
  EXPECT_EQ(violations[2], "src/gateway/main.cpp:7: includes \"postgres.h\": a Postgres server header; program "
                           "gateway is no backend (libpq-fe.h is its way to Postgres)");
  EXPECT_EQ(violations[3], "src/gateway/main.cpp:8: includes \"options.hpp\": write it as \"gateway/options.hpp\", so "
                           "that its layer shows");
}

}  // namespace
