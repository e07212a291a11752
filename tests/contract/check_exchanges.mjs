// The contract check of the integration tests: every exchange they recorded
// (tests/support/exchange_log.hpp) against the OpenAPI document.
//
//   node check_exchanges.mjs OPENAPI.json RECORD_DIR
//
// Exit 0 when every response matches, 1 when one does not, 77 (skipped) when
// nothing was recorded because the integration tests were skipped.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contract } from './contract.mjs';

const [spec, dir] = process.argv.slice(2);
const checker = new contract(JSON.parse(readFileSync(spec, 'utf8')));
const files = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.jsonl')).sort();
let exchanges = 0;
const failures = [];
for (const file of files) {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l !== '');
  const process_ = JSON.parse(lines[0]).process;
  for (const line of lines.slice(1)) {
    const x = JSON.parse(line);
    ++exchanges;
    const problems = checker.check(x);
    if (problems.length > 0) failures.push({ process_, x, problems });
  }
}

if (exchanges === 0) {
  // Skipped, not passed: a subset of tests (-L chaos) may use no http_client.
  const why = process.env.BANKD_TEST_DATABASE_URL ? 'the tests that ran recorded nothing' : 'the integration tests were skipped';
  console.log(`no exchanges in ${dir}: ${why}`);
  process.exit(77);
}
for (const { process_, x, problems } of failures.slice(0, 50)) {
  console.log(`\n${x.method} ${x.target} -> ${x.status}   (from ${process_})`);
  for (const p of problems) console.log(`  ${p}`);
  if (x.body !== undefined) console.log(`  body: ${x.body.slice(0, 500)}`);
}
if (failures.length > 50) console.log(`\n... and ${failures.length - 50} more`);

const documented = checker.documented();
const unseen = documented.filter((d) => !checker.seen.has(d));
console.log(`\n${exchanges} responses from ${files.length} test processes; ` +
            `${documented.length - unseen.length} of ${documented.length} documented (operation, status) pairs seen`);
console.log(`never seen: ${unseen.join('; ')}`);
console.log(`${exchanges - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
