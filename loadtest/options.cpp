#include "loadtest/options.hpp"

#include "loadtest/chaos.hpp"

#include <boost/program_options.hpp>
#include <boost/url/parse.hpp>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace bankd::loadtest {
namespace po = boost::program_options;

namespace {

constexpr std::size_t max_audited_accounts = 10'000;  // bankd's limit per audit request

std::invalid_argument bad(const std::string& message) {
  return std::invalid_argument(message);
}

double parse_number(std::string_view text, const char* what) {
  const std::string s(text);
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size())
    throw bad(std::string("invalid ") + what + ": '" + s + "'");
  return value;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

po::options_description describe(options& o, std::vector<std::string>& urls, std::string& duration,
                                 std::string& timeout, std::string& audit, std::string& pick,
                                 std::string& currencies, std::string& progress) {
  po::options_description d(
      "bank-loadtest: transfers under contention, integrity checks, throughput\nOptions");
  const auto add = [&](const char* flag, const po::value_semantic* value, const char* text) {
    d.add_options()(flag, value, text);
  };
  add("url", po::value(&urls)->composing(),
      "bankd base URL, http://host:port; repeat to spread load over instances "
      "(default http://127.0.0.1:8080)");
  add("operator-key", po::value(&o.operator_key),
      "bankd operator key for setup and audits [env BANKD_OPERATOR_KEY]");
  add("database-url", po::value(&o.database_url),
      "PostgreSQL conninfo/URL for the read-only ledger checks (skipped without it)");
  add("accounts", po::value(&o.accounts)->default_value(o.accounts),
      "users to create, one funded account each (at most 10000)");
  add("currencies", po::value(&currencies)->default_value("EUR"),
      "comma-separated currencies, dealt over the accounts");
  add("deposit", po::value(&o.deposit)->default_value(o.deposit),
      "minor units deposited into every account");
  add("duration", po::value(&duration)->default_value("10s"), "load duration (10s, 500ms, 2m)");
  add("transfers", po::value(&o.transfers)->default_value(0),
      "stop after this many transfer requests (alone: no time limit; 0: duration only)");
  add("concurrency", po::value(&o.concurrency),
      "connections; closed model: requests in flight (default 16, 64 with --rate)");
  add("rate", po::value(&o.rate)->default_value(0),
      "open model: transfers per second, latency measured from the intended send time");
  add("batch", po::value(&o.batch)->default_value(o.batch),
      "transfers per request: > 1 sends POST /transfers/batch, each from one account (1..1000)");
  add("distribution", po::value(&pick)->default_value("uniform"),
      "account choice: uniform, zipf:S or hot:K");
  add("amount-min", po::value(&o.amount_min)->default_value(o.amount_min),
      "smallest transfer amount");
  add("amount-max", po::value(&o.amount_max)->default_value(o.amount_max),
      "largest transfer amount (once balances spread, some exceed them: insufficient funds)");
  add("timeout", po::value(&timeout)->default_value("5s"),
      "per-request deadline; a request past it is ambiguous");
  add("audit-interval", po::value(&audit)->default_value("1s"),
      "time between balance audits during the load (0: none)");
  add("seed", po::value(&o.seed)->default_value(0), "random seed (0: random)");
  add("progress", po::value(&progress)->default_value("auto"), "auto, live, plain or off");
  add("json", po::value(&o.json_file), "write the results as JSON to this file");
  add("plot", po::value(&o.plot_file),
      "draw throughput and p99 over time into this PNG (needs gnuplot)");
  add("accounts-file", po::value(&o.accounts_file),
      "write the accounts as CSV account_id,user_id,currency,api_key");
  add("setup-only", po::bool_switch(&o.setup_only),
      "only create and fund the accounts (with --accounts-file)");
  add("help,h", po::bool_switch(), "show this help");
  return d;
}

// Faults during the load; the texts are parsed in parse_options.
struct chaos_texts {
  std::string kinds, interval, outage, stall;
};

po::options_description describe_chaos(options& o, chaos_texts& t) {
  po::options_description d("Faults (chaos)");
  auto add = d.add_options();
  add("chaos", po::value(&t.kinds),
      "comma-separated faults during the load, taken in turn: kill-backends (needs "
      "--database-url), restart-db and stop-db (need --pg-ctl), kill-bankd (needs "
      "--bankd-cmd), failover (needs --ha-ctl and --database-url), drop-clients (one request "
      "in 25 abandoned mid-request)");
  add("chaos-interval", po::value(&t.interval)->default_value("3s"), "time between faults");
  add("chaos-count", po::value(&o.chaos_count)->default_value(0),
      "inject at most this many faults (0: as many as the duration allows)");
  add("chaos-outage", po::value(&t.outage)->default_value("3s"),
      "stop-db: time the database stays down");
  add("pg-ctl", po::value(&o.pg_ctl),
      "shell command taking start, stop or restart for bankd's PostgreSQL");
  add("ha-ctl", po::value(&o.ha_ctl),
      "failover: shell command taking kill-primary, rejoin, wait-healthy S and "
      "stall-replication for a pg_auto_failover formation (scripts/ha/formation.sh --dir DIR)");
  add("replication-stall", po::value(&t.stall)->default_value("0s"),
      "failover: stop the primary's WAL senders this long before killing it");
  add("bankd-cmd", po::value(&o.bankd_cmd),
      "shell command that runs bankd serving the first --url; bank-loadtest starts it, "
      "kill-bankd kills it with SIGKILL and starts it again, and it is stopped at the end");
  return d;
}

progress_mode parse_progress(const std::string& text) {
  if (text == "auto") return progress_mode::automatic;
  if (text == "live") return progress_mode::live;
  if (text == "plain") return progress_mode::plain;
  if (text == "off") return progress_mode::off;
  throw bad("--progress must be auto, live, plain or off");
}

}  // namespace

std::string distribution::text() const {
  std::ostringstream out;
  switch (type) {
    case kind::uniform:
      out << "uniform";
      break;
    case kind::zipf:
      out << "zipf:" << skew;
      break;
    case kind::hot:
      out << "hot:" << hot_accounts;
      break;
  }
  return out.str();
}

distribution parse_distribution(std::string_view text) {
  if (text == "uniform") return {};
  const auto colon = text.find(':');
  const auto name = text.substr(0, colon);
  const auto arg = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (name == "zipf") {
    const double s = arg.empty() ? 1.0 : parse_number(arg, "zipf exponent");
    if (!(s > 0 && s <= 10)) throw bad("zipf exponent must be in (0, 10]");
    return {distribution::kind::zipf, s, 0};
  }
  if (name == "hot") {
    const double k = parse_number(arg, "hot account count");
    if (k < 2 || k != static_cast<double>(static_cast<std::size_t>(k)))
      throw bad("hot:K needs a whole K >= 2");
    return {distribution::kind::hot, 1.0, static_cast<std::size_t>(k)};
  }
  throw bad("--distribution must be uniform, zipf:S or hot:K, not '" + std::string(text) + "'");
}

endpoint parse_url(std::string_view text) {
  const auto refuse = [&](const std::string& why) { return bad("--url " + why + " ('" + std::string(text) + "')"); };
  // A NUL-terminated copy: Boost.URL 1.81's parsers measure their input with strlen.
  const std::string copy(text);
  const auto parsed = boost::urls::parse_uri(copy);
  if (!parsed) throw refuse("is not a URL");
  const auto& url = *parsed;
  if (url.scheme() != "http") throw refuse("must start with http://");
  if (!url.encoded_path().empty() && url.encoded_path() != "/") throw refuse("takes no path");
  if (url.has_query() || url.has_fragment() || url.has_userinfo()) throw refuse("takes only a host and a port");
  endpoint e{url.host_address(), 80};
  if (e.host.empty()) throw refuse("needs a host");
  if (url.has_port()) {
    if (url.port().empty() || url.port_number() == 0 || url.port().size() > 5 || std::stoul(std::string(url.port())) > 65535)
      throw refuse("has an invalid port");
    e.port = url.port_number();
  }
  return e;
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  double scale = 1000;  // bare numbers are seconds
  if (text.ends_with("ms")) {
    scale = 1;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else if (text.ends_with("m")) {
    scale = 60'000;
    text.remove_suffix(1);
  }
  const double value = parse_number(text, "duration");
  if (value < 0) throw bad("durations cannot be negative");
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * scale));
}

void validate(const options& o) {
  if (o.urls.empty()) throw bad("at least one --url is needed");
  if (o.operator_key.empty()) throw bad("--operator-key (or BANKD_OPERATOR_KEY) is needed");
  if (o.accounts < 2 || o.accounts > max_audited_accounts) throw bad("--accounts must be 2..10000");
  if (o.currencies.empty()) throw bad("--currencies needs at least one currency");
  if (o.accounts < 2 * o.currencies.size()) throw bad("every currency needs at least two accounts");
  if (o.deposit <= 0) throw bad("--deposit must be positive");
  if (o.amount_min < 1 || o.amount_max < o.amount_min)
    throw bad("need 1 <= --amount-min <= --amount-max");
  if (o.concurrency < 1) throw bad("--concurrency must be at least 1");
  if (o.rate < 0) throw bad("--rate cannot be negative");
  if (o.batch < 1 || o.batch > 1000) throw bad("--batch must be 1..1000");
  if (o.duration.count() == 0 && o.transfers == 0)
    throw bad("give a --duration or a --transfers count");
  if (o.request_timeout.count() <= 0) throw bad("--timeout must be positive");
  if (o.pick.type == distribution::kind::hot &&
      o.pick.hot_accounts > o.accounts / o.currencies.size())
    throw bad("hot:K needs K accounts in every currency; raise --accounts");
  if (o.setup_only && o.accounts_file.empty()) throw bad("--setup-only needs --accounts-file");
  for (const auto& kind : o.chaos) {
    if (!is_chaos_kind(kind)) throw bad("unknown --chaos fault '" + kind + "'");
    if ((kind == "restart-db" || kind == "stop-db") && o.pg_ctl.empty())
      throw bad("--chaos " + kind + " needs --pg-ctl");
    if (kind == "kill-backends" && o.database_url.empty())
      throw bad("--chaos kill-backends needs --database-url");
    if (kind == "failover" && (o.ha_ctl.empty() || o.database_url.empty()))
      throw bad("--chaos failover needs --ha-ctl and --database-url");
    if (kind == "kill-bankd" && o.bankd_cmd.empty())
      throw bad("--chaos kill-bankd needs --bankd-cmd");
  }
  if (!o.chaos.empty() && o.chaos_interval.count() <= 0)
    throw bad("--chaos-interval must be positive");
}

options parse_options(int argc, const char* const argv[]) {
  options o;
  std::vector<std::string> urls;
  std::string duration, timeout, audit, pick, currencies, progress;
  auto desc = describe(o, urls, duration, timeout, audit, pick, currencies, progress);
  chaos_texts chaos;
  desc.add(describe_chaos(o, chaos));
  po::variables_map vm;
  try {
    const auto style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argc, argv).options(desc).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw bad(e.what());
  }
  if (vm["help"].as<bool>()) {
    std::ostringstream text;
    text << desc;
    o.help_text = text.str();
    return o;
  }
  if (urls.empty()) urls.emplace_back("http://127.0.0.1:8080");
  for (const auto& u : urls) o.urls.push_back(parse_url(u));
  if (o.operator_key.empty())
    if (const char* key = std::getenv("BANKD_OPERATOR_KEY")) o.operator_key = key;
  o.currencies = split(currencies, ',');
  o.duration = parse_duration(duration);
  // A count alone runs until it is reached; with both, whichever comes first.
  if (o.transfers > 0 && vm["duration"].defaulted()) o.duration = std::chrono::milliseconds(0);
  o.request_timeout = parse_duration(timeout);
  o.audit_interval = parse_duration(audit);
  o.pick = parse_distribution(pick);
  if (!chaos.kinds.empty()) o.chaos = split(chaos.kinds, ',');
  o.chaos_interval = parse_duration(chaos.interval);
  o.chaos_outage = parse_duration(chaos.outage);
  o.replication_stall = parse_duration(chaos.stall);
  o.progress = parse_progress(progress);
  if (!vm.count("concurrency")) o.concurrency = o.rate > 0 ? 64 : 16;
  validate(o);
  return o;
}

}  // namespace bankd::loadtest
