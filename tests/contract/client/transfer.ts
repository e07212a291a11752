// A bankd client in TypeScript, typed only by what openapi-typescript
// generates from docs/openapi.yaml (bankd-api.ts, made by client_test.sh):
// two users, two accounts, a deposit, a transfer and its replay, a
// refused transfer, and a hold posted in part, against a running bankd.
//
//   node out/transfer.js BASE_URL OPERATOR_KEY
//
// Exits 0 when every answer is the one the document promises.

import createClient from 'openapi-fetch';
import type { components, paths } from './bankd-api.js';

type error_code = components['schemas']['ErrorCode'];

const [baseUrl, operatorKey] = process.argv.slice(2);
if (!baseUrl || !operatorKey) throw new Error('usage: transfer.js BASE_URL OPERATOR_KEY');

const client = (key: string) => createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
const operator = client(operatorKey);
const run = `${process.pid}-${Date.now()}`;

function expect(what: string, ok: boolean): void {
  if (!ok) throw new Error(`unexpected: ${what}`);
  console.log(`ok: ${what}`);
}

async function createUser(name: string) {
  const { data, error, response } = await operator.POST('/users', {
    body: { name, email: `${name.toLowerCase()}-${run}@example.com` },
  });
  if (!data) throw new Error(`POST /users: ${response.status} ${error?.error.code}`);
  expect(`${name} is user ${data.id}, with Location ${response.headers.get('Location')}`,
         response.headers.get('Location') === `/users/${data.id}`);
  // Without an Idempotency-Key this is never a replay, which has no key.
  if (!('api_key' in data)) throw new Error(`POST /users: no api_key in ${JSON.stringify(data)}`);
  return data;
}

async function openAccount(userId: number) {
  const { data, error, response } = await operator.POST('/accounts', { body: { currency: 'EUR', user_id: userId } });
  if (!data) throw new Error(`POST /accounts: ${response.status} ${error?.error.code}`);
  expect(`account ${data.id} is open and empty`, data.status === 'open' && data.balance === 0);
  return data.id;
}

async function balance(accountId: number): Promise<number> {
  const { data } = await operator.GET('/accounts/{id}', { params: { path: { id: accountId } } });
  if (!data) throw new Error(`GET /accounts/${accountId} failed`);
  return data.balance;
}

const ada = await createUser('Ada');
const bob = await createUser('Bob');
const adaAccount = await openAccount(ada.id);
const bobAccount = await openAccount(bob.id);

const deposit = await operator.POST('/accounts/{id}/deposits', {
  params: { path: { id: adaAccount }, header: { 'Idempotency-Key': `deposit-${run}` } },
  body: { amount: 10_000, reference: 'opening balance' },
});
expect('the deposit of 10000 is a 201', deposit.response.status === 201 && deposit.data?.amount === 10_000);

const asAda = client(ada.api_key);
const send = () => asAda.POST('/transfers', {
  params: { header: { 'Idempotency-Key': `transfer-${run}` } },
  body: { from_account_id: adaAccount, to_account_id: bobAccount, amount: 2_500, currency: 'EUR' },
});
const first = await send();
const replay = await send();
expect('the transfer of 2500 is a 201', first.response.status === 201 && first.data?.amount === 2_500);
expect('its replay returns the same transfer, marked replayed',
       replay.data?.id === first.data?.id && replay.response.headers.get('Idempotent-Replayed') === 'true');

const refused = await asAda.POST('/transfers', {
  params: { header: { 'Idempotency-Key': `too-much-${run}` } },
  body: { from_account_id: adaAccount, to_account_id: bobAccount, amount: 1_000_000 },
});
const code: error_code | undefined = refused.error?.error.code;
expect(`a transfer beyond the balance is refused with ${refused.response.status} ${code}`,
       refused.response.status === 409 && code === 'insufficient_funds');

expect('the balances are 7500 and 2500',
       (await balance(adaAccount)) === 7_500 && (await balance(bobAccount)) === 2_500);

const hold = await asAda.POST('/transfers', {
  params: { header: { 'Idempotency-Key': `hold-${run}` } },
  body: { from_account_id: adaAccount, to_account_id: bobAccount, amount: 1_000, pending: true, timeout_seconds: 600,
          metadata: { order: run } },
});
expect('a hold of 1000 is a 201, pending', hold.response.status === 201 && hold.data?.status === 'pending');
const holdId = hold.data?.id ?? 0;
const post = await asAda.POST('/transfers/{id}/post', {
  params: { path: { id: holdId }, header: { 'Idempotency-Key': `post-${run}` } },
  body: { amount: 400 },
});
expect('posting 400 of it answers the hold, posted',
       post.response.status === 200 && post.data?.status === 'posted' && post.data?.posted_amount === 400);
const statement = await operator.GET('/accounts/{id}/statement', { params: { path: { id: adaAccount } } });
// JSON unless CSV is asked for: the document lists both.
const closing = typeof statement.data === 'object' ? statement.data.closing.balance : undefined;
expect('the statement closes at 7100, the balance', closing === 7_100 && (await balance(adaAccount)) === 7_100);

// The generated types must constrain calls, not just exist: each of these
// is an error the compiler has to find (tsc fails on an unused expectation).
async function mistakes(): Promise<void> {
  // @ts-expect-error amounts are numbers, not strings
  await asAda.POST('/transfers', { params: { header: { 'Idempotency-Key': 'k' } }, body: { from_account_id: 1, to_account_id: 2, amount: '10' } });
  // @ts-expect-error the Idempotency-Key header is required
  await asAda.POST('/transfers', { body: { from_account_id: 1, to_account_id: 2, amount: 10 } });
  // @ts-expect-error no such path
  await asAda.GET('/transfer/{id}', { params: { path: { id: 1 } } });
  // @ts-expect-error metadata values are strings
  await asAda.POST('/transfers', { params: { header: { 'Idempotency-Key': 'k' } }, body: { from_account_id: 1, to_account_id: 2, amount: 10, metadata: { n: 1 } } });
  // @ts-expect-error no such error code
  const wrong: error_code = 'not_enough_money';
  void wrong;
}
void mistakes;
