// The contract checker must fail on responses that break the document: each
// case here is a response bankd must never send. BANKD_OPENAPI_JSON names
// the document (ctest sets it).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contract } from './contract.mjs';

const checker = new contract(JSON.parse(readFileSync(process.env.BANKD_OPENAPI_JSON, 'utf8')));

const json = { 'content-type': 'application/json', 'x-request-id': 'Zk3_q9-1a' };
const transfer = {
  id: 7, kind: 'transfer', status: 'posted', from_account_id: 1, to_account_id: 2, currency: 'EUR', amount: 2500,
  reference: null, metadata: null, created_at: '2026-12-01T09:37:00.123456Z', reversed_amount: 0, reversals: [],
};
const error = (code) => JSON.stringify({ error: { code, message: 'm' } });
const created = {
  method: 'POST', target: '/transfers', status: 201,
  headers: { ...json, location: '/transfers/7' }, body: JSON.stringify(transfer), body_bytes: 100,
};
const passes = (x) => assert.deepEqual(checker.check(x), []);
const fails = (x, pattern) => {
  const problems = checker.check(x);
  assert.ok(problems.length > 0, 'the checker accepted it');
  assert.match(problems.join('\n'), pattern);
};

test('a documented 201 passes, with and without Idempotent-Replayed', () => {
  passes(created);
  passes({ ...created, headers: { ...created.headers, 'idempotent-replayed': 'true' } });
});

test('a 201 with a required field missing fails', () => {
  const { reference, ...rest } = transfer;
  fails({ ...created, body: JSON.stringify(rest) }, /required property 'reference'/);
});

test('a 201 with a field the schema does not have fails', () => {
  fails({ ...created, body: JSON.stringify({ ...transfer, fee: 1 }) }, /unevaluated properties/);
});

test('an amount beyond 2^53 or a lower-case currency fails', () => {
  fails({ ...created, body: JSON.stringify({ ...transfer, amount: 2 ** 53 + 2 }) }, /amount must be <= 9007199254740992/);
  fails({ ...created, body: JSON.stringify({ ...transfer, currency: 'eur' }) }, /currency must match pattern/);
});

test('a response without X-Request-Id, or with a malformed one, fails', () => {
  const { 'x-request-id': _, ...bare } = created.headers;
  fails({ ...created, headers: bare }, /required header X-Request-Id is missing/);
  fails({ ...created, headers: { ...created.headers, 'x-request-id': 'has space' } }, /X-Request-Id/);
  fails({ method: 'GET', target: '/nowhere', status: 404, headers: { 'content-type': 'application/json' }, body: error('not_found') },
        /X-Request-Id is missing/);
});

test('a 201 without Location fails', () => {
  fails({ ...created, headers: json }, /required header Location is missing/);
});

test('Idempotent-Replayed other than "true" fails', () => {
  fails({ ...created, headers: { ...created.headers, 'idempotent-replayed': 'yes' } }, /Idempotent-Replayed/);
});

test('a status the operation does not document fails', () => {
  fails({ ...created, status: 402, body: error('insufficient_funds') }, /402 is not a documented status/);
  fails({ method: 'GET', target: '/healthz', status: 404, headers: json, body: error('not_found') }, /404 is not a documented status/);
});

test('a 503 without Retry-After, or with a malformed one, fails', () => {
  const unavailable = { ...created, status: 503, headers: json, body: error('service_unavailable') };
  fails(unavailable, /required header Retry-After is missing/);
  fails({ ...unavailable, headers: { ...json, 'retry-after': 'soon' } }, /Retry-After/);
  passes({ ...unavailable, headers: { ...json, 'retry-after': '1' } });
});

test('an error code the response does not list fails', () => {
  fails({ ...created, status: 409, headers: json, body: error('email_taken') }, /insufficient_funds, account_closed, account_frozen, transfer_refused/);
  fails({ ...created, status: 409, headers: json, body: JSON.stringify({ error: { code: 'insufficient_funds' } }) }, /message/);
});

test('a 401 without WWW-Authenticate fails', () => {
  const denied = { method: 'GET', target: '/accounts/3', status: 401, headers: json, body: error('unauthenticated') };
  fails(denied, /WWW-Authenticate is missing/);
  passes({ ...denied, headers: { ...json, 'www-authenticate': 'Bearer' } });
});

test('a closed account without closed_at, or an open one with it, fails', () => {
  const account = {
    id: 3, user_id: 2, currency: 'EUR', currency_exponent: 2, balance: 0, held: 0, available: 0, status: 'closed',
    metadata: null, created_at: transfer.created_at,
  };
  const read = { method: 'GET', target: '/accounts/3', status: 200, headers: json, body_bytes: 100 };
  fails({ ...read, body: JSON.stringify(account) }, /closed_at/);
  passes({ ...read, body: JSON.stringify({ ...account, closed_at: transfer.created_at }) });
  fails({ ...read, body: JSON.stringify({ ...account, status: 'open', closed_at: transfer.created_at }) }, /must NOT be valid/);
});

test('a 204 with a body, or JSON with another Content-Type, fails', () => {
  fails({ method: 'DELETE', target: '/accounts/3', status: 204, headers: {}, body_bytes: 2 }, /without a body/);
  fails({ ...created, headers: { 'content-type': 'text/plain', location: '/transfers/7' } }, /Content-Type/);
});

test('a hold with a status it cannot have, or metadata that is not string values, fails', () => {
  const hold = { ...transfer, kind: 'pending', status: 'pending', held_amount: 2500 };
  passes({ ...created, body: JSON.stringify(hold) });
  fails({ ...created, body: JSON.stringify({ ...hold, status: 'held' }) }, /status must be equal to one of the allowed values/);
  fails({ ...created, body: JSON.stringify({ ...hold, metadata: { n: 1 } }) }, /metadata/);
  const settled = { method: 'POST', target: '/transfers/7/post', status: 200, headers: json, body_bytes: 100 };
  passes({ ...settled, body: JSON.stringify({ ...hold, status: 'posted', held_amount: 0, posted_amount: 100 }) });
  fails({ ...settled, status: 409, body: error('insufficient_funds') }, /transfer_not_pending/);
});

test('an unknown path must get the router 404, a known path with another method its 405 and Allow', () => {
  passes({ method: 'GET', target: '/nowhere/1', status: 404, headers: json, body: error('not_found') });
  fails({ method: 'GET', target: '/nowhere/1', status: 200, headers: json, body: '{}' }, /expected 404/);
  const wrongMethod = { method: 'PUT', target: '/users/5', status: 405, body: error('method_not_allowed') };
  passes({ ...wrongMethod, headers: { ...json, allow: 'GET, PATCH, DELETE' } });
  fails({ ...wrongMethod, headers: { ...json, allow: 'GET, DELETE' } }, /Allow is "GET, DELETE"/);
  fails({ ...wrongMethod, headers: json }, /Allow is missing/);
});
