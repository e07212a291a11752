-- wrk: POST /transfers between random accounts read from a CSV written by
-- `bank-loadtest --setup-only --accounts-file` (account_id,user_id,currency,
-- api_key), with the debited account's owner key and a unique
-- Idempotency-Key per request.
--
--   wrk -t2 -c16 -d15s -s transfers.lua http://127.0.0.1:18090 -- accounts.csv RUN_ID
--
-- Prints one line for scripts: WRK_RESULT requests=.. seconds=.. p99_ms=.. non2xx=.. errors=..

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local accounts = {}
local counter = 0
local prefix

function init(args)
  for line in io.lines(args[1] or "accounts.csv") do
    local id, _, _, key = line:match("^(%d+),(%d+),(%u+),(%S+)$")
    if id then table.insert(accounts, { id = id, key = key }) end
  end
  assert(#accounts >= 2, "need at least two accounts in " .. (args[1] or "accounts.csv"))
  prefix = (args[2] or tostring(os.time())) .. "-w" .. tid .. "-"
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  local n = #accounts
  local from = math.random(n)
  local to = math.random(n - 1)
  if to >= from then to = to + 1 end
  counter = counter + 1
  local body = string.format('{"from_account_id":%s,"to_account_id":%s,"amount":%d}',
                             accounts[from].id, accounts[to].id, math.random(100))
  return wrk.format("POST", "/transfers", {
    ["Authorization"] = "Bearer " .. accounts[from].key,
    ["Idempotency-Key"] = prefix .. counter,
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d seconds=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
                         summary.requests, summary.duration / 1e6, latency:percentile(99) / 1000,
                         e.status, e.connect + e.read + e.write + e.timeout))
end
