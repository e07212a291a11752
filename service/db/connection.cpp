#include "db/connection.hpp"

#include "util/log.hpp"
#include "util/scope_exit.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace bankd::db {
namespace net = boost::asio;
using net::posix::descriptor_base;

namespace {

constexpr errc no_error{};
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// May block: libpq resolves host names inside PQconnectStartParams.
PGconn* start_connect(const connect_params& params) {
  std::vector<const char*> keys{"application_name", "dbname"};
  std::vector<const char*> values{params.application_name.c_str(), params.conninfo.c_str()};
  if (!params.options.empty()) {
    keys.push_back("options");
    values.push_back(params.options.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: "dbname" may hold a whole connection string or URL; the
  // keywords after it override what the string says.
  return PQconnectStartParams(keys.data(), values.data(), 1);
}

void log_notice(void*, const PGresult* res) {
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
  const char* message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  log::warn("db.notice")
      .kv("severity", severity ? severity : "")
      .kv("message", message ? message : "");
}

// libpq's messages span lines ("...\n\tIs the server running..."); one log
// line each reads better at 3 a.m.
std::string trimmed(const char* text) {
  std::string out;
  for (const char* c = text ? text : ""; *c != '\0'; ++c) {
    const bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (!space) out.push_back(*c);
    else if (!out.empty() && out.back() != ' ') out.push_back(' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

connection::connection(net::any_io_executor ex, PGconn* conn, bool require_writable,
                       net::any_io_executor offload)
    : conn_(conn), socket_(ex), deadline_timer_(ex), require_writable_(require_writable),
      offload_(std::move(offload)) {}

connection::~connection() {
  deadline_timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);  // our duplicate; PQfinish closes libpq's own
  PQfinish(conn_);
}

net::awaitable<result<std::unique_ptr<connection>>> connection::connect(
    const connect_params& params, net::any_io_executor offload, clock::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  PGconn* raw = nullptr;
  if (offload) {
    raw = co_await net::co_spawn(
        offload, [&params]() -> net::awaitable<PGconn*> { co_return start_connect(params); },
        net::use_awaitable);
  } else {
    raw = start_connect(params);
  }
  if (raw == nullptr) co_return error::client(errc::unavailable, "cannot allocate a connection");
  std::unique_ptr<connection> conn(new connection(ex, raw, params.require_writable, offload));

  if (PQstatus(raw) == CONNECTION_BAD)
    co_return error::client(errc::unavailable, trimmed(PQerrorMessage(raw)));
  if (PQsetnonblocking(raw, 1) != 0)
    co_return error::client(errc::unavailable, trimmed(PQerrorMessage(raw)));

  conn->arm_deadline(deadline);
  util::scope_exit guard{[c = conn.get()] { c->disarm_deadline(); }};
  auto polled = co_await conn->poll_connect(offload);
  if (!polled) co_return polled.error();
  // Without target_session_attrs=read-write libpq takes a standby too. Found
  // out here, this is a failed connect the pool backs off from, instead of a
  // request that would have run into 25006.
  if (params.require_writable && conn->server_read_only())
    co_return error::client(errc::unavailable,
                            "server takes no writes (hot standby or default_transaction_read_only)");

  if (PQenterPipelineMode(raw) != 1)
    co_return error::client(errc::unavailable, trimmed(PQerrorMessage(raw)));
  PQsetNoticeReceiver(raw, &log_notice, nullptr);
  conn->backend_pid_ = PQbackendPID(raw);
  co_return conn;
}

net::awaitable<result<void>> connection::poll_connect(net::any_io_executor offload) {
  // libpq's contract: start as if PQconnectPoll had asked to wait for writing,
  // and re-read PQsocket after every poll because the socket can change (for
  // example when libpq falls back to the next host or retries without SSL).
  // Moving on to the next host of a multi-host URL resolves its name inside
  // PQconnectPoll, which blocks: with `offload`, every poll runs there, and
  // the coroutine is back on its own thread for the waits.
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  PGconn* raw = conn_;
  const auto poll = [raw]() -> net::awaitable<PostgresPollingStatusType> {
    co_return PQconnectPoll(raw);
  };
  for (;;) {
    if (status == PGRES_POLLING_FAILED)
      co_return error::client(errc::unavailable, trimmed(PQerrorMessage(conn_)));
    if (!attach_socket()) co_return error::client(errc::unavailable, "no usable socket");
    if (status == PGRES_POLLING_OK) co_return result<void>{};
    const errc waited = co_await wait(status == PGRES_POLLING_READING);
    if (waited != no_error) co_return error::client(waited, "while connecting");
    status = offload ? co_await net::co_spawn(offload, poll, net::use_awaitable) : PQconnectPoll(conn_);
  }
}

// Asio watches a duplicate of libpq's descriptor, never libpq's own: libpq
// closes its socket by itself when the server goes away, and that number can
// be handed at once to a socket opened on another thread. Deregistering or
// closing a number we do not own could then hit that socket.
bool connection::attach_socket() {
  boost::system::error_code ec;
  socket_.close(ec);
  const int fd = PQsocket(conn_);
  if (fd < 0) return false;
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return false;
  socket_.assign(own, ec);
  if (ec) ::close(own);
  return !ec;
}

void connection::arm_deadline(clock::time_point deadline) {
  deadline_expired_ = false;
  const auto generation = ++deadline_generation_;
  deadline_timer_.expires_at(deadline);
  // The handler may already be queued when this connection is destroyed or when
  // a later operation has started: the weak token and the generation tell.
  deadline_timer_.async_wait(
      [this, generation, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired() || generation != deadline_generation_) return;
        deadline_expired_ = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
      });
}

void connection::disarm_deadline() {
  ++deadline_generation_;
  deadline_timer_.cancel();
}

net::awaitable<errc> connection::wait(bool for_read) {
  if (deadline_expired_) co_return errc::timeout;
  auto [ec] = co_await socket_.async_wait(
      for_read ? descriptor_base::wait_read : descriptor_base::wait_write, use_tuple);
  if (!ec) co_return no_error;
  if (deadline_expired_) co_return errc::timeout;
  if (ec == net::error::operation_aborted) co_return errc::cancelled;
  co_return errc::connection_lost;
}

net::awaitable<errc> connection::flush() {
  for (;;) {
    const int pending = PQflush(conn_);
    if (pending == 0) co_return no_error;
    if (pending < 0) co_return errc::connection_lost;
    // Batches are small, so waiting for writability alone is enough; reading
    // what has arrived meanwhile keeps the server from stalling on its output.
    const errc waited = co_await wait(false);
    if (waited != no_error) co_return waited;
    if (PQconsumeInput(conn_) == 0) co_return errc::connection_lost;
  }
}

net::awaitable<result<query_result>> connection::next_result() {
  while (PQisBusy(conn_) == 1) {
    const errc waited = co_await wait(true);
    if (waited != no_error) co_return fail(waited, "waiting for results");
    if (PQconsumeInput(conn_) == 0) co_return fail(errc::connection_lost, "reading results");
  }
  co_return query_result(PQgetResult(conn_));
}

int connection::send_lock(const char* sql) {
  const char* values[] = {lock_key_.c_str()};
  return PQsendQueryParams(conn_, sql, 1, nullptr, values, nullptr, nullptr, 0);
}

bool connection::send_plan(const std::vector<slot>& plan, const batch& b, const tx_frame& frame) {
  if (frame.advisory_lock) lock_key_ = std::to_string(*frame.advisory_lock);
  for (const slot& s : plan) {
    int sent = 0;
    switch (s.kind) {
      case slot_kind::lock: sent = send_lock("SELECT pg_advisory_lock($1::bigint)"); break;
      case slot_kind::unlock: sent = send_lock("SELECT pg_advisory_unlock($1::bigint)"); break;
      // One statement, its own implicit transaction: the unlock lets the next
      // holder go, the xid makes its commit a synchronous one (a flush).
      case slot_kind::unlock_and_barrier:
        sent = send_lock("SELECT pg_advisory_unlock($1::bigint), pg_current_xact_id()");
        break;
      case slot_kind::relax_commit:
        sent = PQsendQueryParams(conn_, "SET LOCAL synchronous_commit TO off", 0, nullptr, nullptr, nullptr,
                                 nullptr, 0);
        break;
      case slot_kind::begin:
        sent = PQsendQueryParams(conn_, begin_sql(*frame.begin), 0, nullptr, nullptr, nullptr,
                                 nullptr, 0);
        break;
      case slot_kind::prepare:
        sent = PQsendPrepare(conn_, s.stmt->name, s.stmt->sql, 0, nullptr);
        break;
      case slot_kind::statement: {
        const auto& values = b.entries()[s.index].values;
        values.pointers(param_pointers_);
        sent = PQsendQueryPrepared(conn_, s.stmt->name, values.size(), param_pointers_.data(),
                                   nullptr, nullptr, 0);
        break;
      }
      case slot_kind::commit:
        sent = PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0);
        break;
      case slot_kind::rollback:
        sent = PQsendQueryParams(conn_, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0);
        break;
      case slot_kind::sync: sent = PQpipelineSync(conn_); break;
    }
    if (sent != 1) return false;
  }
  return true;
}

net::awaitable<result<void>> connection::read_plan(const std::vector<slot>& plan,
                                                   pipeline_outcome& outcome) {
  for (const slot& s : plan) {
    auto first = co_await next_result();
    if (!first) co_return first.error();
    if (!*first) co_return fail(errc::protocol_error, "missing result in pipeline");
    const bool bad = PQstatus(conn_) == CONNECTION_BAD;
    const bool is_sync = first->status() == PGRES_PIPELINE_SYNC;
    if (is_sync != (s.kind == slot_kind::sync)) {
      // A backend that is terminated (pg_terminate_backend, shutdown) sends its
      // FATAL error wherever the pipeline stood, even where a sync was due.
      if (bad || classify_sqlstate(first->field(PG_DIAG_SQLSTATE)) == errc::connection_lost)
        co_return fail(errc::connection_lost, "connection ended mid-pipeline");
      co_return fail(errc::protocol_error, "pipeline results out of step with what was sent");
    }
    outcome.accept(s, std::move(*first), bad);
    if (bad) co_return fail(errc::connection_lost, "connection broke mid-pipeline");
    if (is_sync) continue;
    // Each query's results end with a null result.
    for (;;) {
      auto rest = co_await next_result();
      if (!rest) co_return rest.error();
      if (!*rest) break;
    }
  }
  co_return result<void>{};
}

net::awaitable<result<batch_result>> connection::execute(const batch& b, tx_frame frame,
                                                         clock::time_point deadline) {
  if (poisoned_ || busy_ || PQstatus(conn_) != CONNECTION_OK)
    co_return error::client(errc::connection_lost, "connection is not usable");
  busy_ = true;
  arm_deadline(deadline);
  util::scope_exit guard{[this] { disarm_deadline(); }};

  const auto plan = plan_pipeline(b, frame, prepared_);
  if (!send_plan(plan, b, frame)) co_return fail(errc::connection_lost, "sending pipeline");
  if (const errc flushed = co_await flush(); flushed != no_error)
    co_return fail(flushed, "sending pipeline");

  const bool barrier = std::any_of(plan.begin(), plan.end(),
                                   [](const slot& s) { return s.kind == slot_kind::unlock_and_barrier; });
  pipeline_outcome outcome(b.size(), barrier);
  if (auto read = co_await read_plan(plan, outcome); !read) {
    // Lost after COMMIT answered (the unlock's answer, say): the work is
    // done, unless a durability barrier had yet to answer; the connection
    // is poisoned and goes, which also frees its lock.
    if (outcome.done() && !outcome.failed()) co_return outcome.take();
    co_return read.error();
  }
  // Committed, but the barrier did not answer: this session may still hold
  // the advisory lock; closing it is the sure way to let it go.
  if (barrier && outcome.committed() && !outcome.done()) poisoned_ = true;
  prepared_.insert(prepared_.end(), outcome.newly_prepared().begin(),
                   outcome.newly_prepared().end());

  if (outcome.failed() && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    // A failed statement inside BEGIN leaves the transaction aborted: end it
    // now so the connection goes back to its pool idle and clean.
    const auto lock = frame.begin && frame.commit ? frame.advisory_lock : std::nullopt;
    if (auto rolled_back = co_await run_rollback(lock); !rolled_back) co_return rolled_back.error();
  }
  busy_ = false;
  last_used_ = clock::now();
  if (outcome.failed()) co_return classify_failure(outcome.first_error());
  co_return outcome.take();
}

net::awaitable<result<void>> connection::rollback(clock::time_point deadline) {
  if (poisoned_ || busy_ || PQstatus(conn_) != CONNECTION_OK)
    co_return error::client(errc::connection_lost, "connection is not usable");
  busy_ = true;
  arm_deadline(deadline);
  util::scope_exit guard{[this] { disarm_deadline(); }};
  auto rolled_back = co_await run_rollback(std::nullopt);
  if (rolled_back) busy_ = false;
  co_return rolled_back;
}

// With the advisory lock of a failed transaction: ROLLBACK, then the unlock
// that the aborted transaction made fail, in one round trip.
net::awaitable<result<void>> connection::run_rollback(std::optional<std::int64_t> advisory_lock) {
  static const batch empty;
  std::vector<slot> plan{{slot_kind::rollback}, {slot_kind::sync}};
  if (advisory_lock) {
    plan.push_back({slot_kind::unlock});
    plan.push_back({slot_kind::sync});
  }
  tx_frame frame;
  frame.advisory_lock = advisory_lock;
  if (!send_plan(plan, empty, frame)) co_return fail(errc::connection_lost, "sending ROLLBACK");
  if (const errc flushed = co_await flush(); flushed != no_error)
    co_return fail(flushed, "sending ROLLBACK");
  pipeline_outcome outcome(0);
  if (auto read = co_await read_plan(plan, outcome); !read) co_return read.error();
  if (outcome.failed() || PQtransactionStatus(conn_) != PQTRANS_IDLE)
    co_return fail(errc::protocol_error, "ROLLBACK did not leave the connection idle");
  co_return result<void>{};
}

bool connection::is_usable() const noexcept {
  return !poisoned_ && !busy_ && PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE && !(require_writable_ && server_read_only());
}

bool connection::server_read_only() const noexcept {
  const auto on = [this](const char* name) {
    const char* value = PQparameterStatus(conn_, name);
    return value != nullptr && std::string_view(value) == "on";
  };
  return on("in_hot_standby") || on("default_transaction_read_only");
}

// A server that turned read-only (demoted, or set so by an operator) refuses
// writes with 25006, and a hot standby refuses BEGIN ... SERIALIZABLE with
// 0A000: both are read_only, and this connection is done with.
error connection::classify_failure(error e) {
  const bool refused = e.code == errc::read_only || (e.sqlstate == "0A000" && server_read_only());
  if (!refused) return e;
  poisoned_ = true;
  e.code = make_error_code(errc::read_only);
  return e;
}

int connection::backend_pid() const noexcept { return backend_pid_; }

void connection::cancel_on_server() {
  PGcancel* cancel = PQgetCancel(conn_);  // a copy of what it needs: valid after PQfinish
  if (cancel == nullptr) return;
  auto send = [cancel, pid = backend_pid_] {
    char why[256] = {};
    if (PQcancel(cancel, why, sizeof why) != 1)
      log::warn("db.cancel_failed").kv("backend_pid", pid).kv("error", why);
    PQfreeCancel(cancel);
  };
  if (offload_) net::post(offload_, std::move(send));
  else send();
}

error connection::fail(errc e, std::string_view what) {
  // Work may still be running on the server: a statement waiting for a lock
  // would commit when it gets it. Cancel it there before this connection is
  // discarded (the session also notices the closed socket within
  // client_connection_check_interval).
  if ((e == errc::timeout || e == errc::cancelled) && !poisoned_ && backend_pid_ != 0) cancel_on_server();
  poisoned_ = true;
  std::string message(what);
  if (const std::string libpq = trimmed(PQerrorMessage(conn_)); !libpq.empty())
    message += ": " + libpq;
  return error::client(e, std::move(message));
}

}  // namespace bankd::db
