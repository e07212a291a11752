// What bankd publishes about its API: the OpenAPI document as installed, its
// JSON form and the reference page (GET /openapi.yaml, /openapi.json, /docs),
// and the Location of what a POST created.

#include "support/bankd_server.hpp"
#include "support/scratch_database.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace bankd;
using nlohmann::json;

namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the OpenAPI document, its JSON form and the reference page are served") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto client = server.client();

  auto yaml = client.get("/openapi.yaml");
  REQUIRE(yaml.status == 200);
  CHECK(yaml.header("content-type") == "application/yaml");
  CHECK(yaml.body == file_text(BANKD_SOURCE_API_SPEC));

  auto doc = client.get("/openapi.json");
  auto page = client.get("/docs");
  if (!BANKD_API_TOOLS) {  // built without the npm tools: documented as 404
    CHECK(doc.error_code() == "not_found");
    CHECK(page.error_code() == "not_found");
    return;
  }
  REQUIRE(doc.status == 200);
  CHECK(doc.header("content-type") == "application/json");
  const auto spec = doc.json();
  CHECK(spec["openapi"] == "3.1.0");
  CHECK(spec["paths"].contains("/transfers"));
  CHECK(spec["components"]["schemas"]["Amount"]["maximum"] == 9007199254740992);

  REQUIRE(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(page.header("content-security-policy").starts_with("default-src 'none';"));
  CHECK(page.body.find("createTransfer") != std::string::npos);
  CHECK(page.body.find("cdn.redoc") == std::string::npos);
}

TEST_CASE("without its API files bankd still serves, and answers 404 for them") {
  test::scratch_database db;
  const auto empty = std::filesystem::temp_directory_path() / ("bankd-no-api-" + db.name());
  std::filesystem::create_directories(empty);
  auto cfg = test::bankd_server::test_config(db.conninfo());
  cfg.api_docs_dir = empty.string();
  {
    test::bankd_server server(cfg);
    auto client = server.client();
    for (const char* path : {"/openapi.yaml", "/openapi.json", "/docs"}) {
      INFO(path);
      auto res = client.get(path);
      CHECK(res.status == 404);
      CHECK(res.error_code() == "not_found");
    }
    CHECK(client.get("/healthz").status == 200);
  }
  std::filesystem::remove_all(empty);
}

TEST_CASE("a 201 names what it created in Location, and that path reads it") {
  test::scratch_database db;
  test::bankd_server server(db.conninfo());
  auto op = server.operator_client();

  auto user = op.post("/users", {{"name", "Ada"}, {"email", "ada@example.com"}});
  REQUIRE(user.status == 201);
  const auto user_id = user.json()["id"].get<std::int64_t>();
  CHECK(user.header("location") == "/users/" + std::to_string(user_id));
  CHECK(op.get(user.header("location")).json()["id"] == user_id);

  auto account = op.post("/accounts", {{"currency", "EUR"}, {"user_id", user_id}});
  REQUIRE(account.status == 201);
  const auto account_id = account.json()["id"].get<std::int64_t>();
  CHECK(account.header("location") == "/accounts/" + std::to_string(account_id));

  const std::map<std::string, std::string> key{{"Idempotency-Key", "loc-1"}};
  auto deposit = op.post("/accounts/" + std::to_string(account_id) + "/deposits", {{"amount", 500}}, key);
  REQUIRE(deposit.status == 201);
  const auto transfer_id = deposit.json()["id"].get<std::int64_t>();
  CHECK(deposit.header("location") == "/transfers/" + std::to_string(transfer_id));
  auto again = op.post("/accounts/" + std::to_string(account_id) + "/deposits", {{"amount", 500}}, key);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(again.header("location") == deposit.header("location"));
  CHECK(op.get(deposit.header("location")).json()["amount"] == 500);
}
