// The peer of `make bench` (issue 7): DuckDB (@duckdb/node-api) computing, per account, the
// request count, the sum of output tokens and the number of distinct prompts (last user
// message) over exchange-log JSONL. An in-memory database, `threads` (default 2) threads.
//
// Usage: node aggregate.mjs [--threads N] FILE.jsonl...
// Prints one JSON line: {"rows":…,"accounts":…,"events":…,"seconds":…} where seconds is the
// query alone (connection setup excluded); the runner also times the whole process.
//
// read_json is given the columns explicitly (only the ones the query needs) so DuckDB neither
// samples the file to infer a schema nor materialises the fields it does not use; message
// `content` is read as JSON because it is a string or an array of parts.
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let threads = 2;
const files = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--threads') threads = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: node aggregate.mjs [--threads N] FILE.jsonl...');
  process.exit(2);
}

const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const fileList = `[${files.map(quote).join(', ')}]`;
const sql = `
  SELECT account_id,
         count(*) AS requests,
         sum(response.usage.completion_tokens) AS output_tokens,
         count(DISTINCT list_filter(request.messages, m -> m.role = 'user')[-1].content) AS distinct_prompts
  FROM read_json(${fileList},
                 format = 'newline_delimited',
                 maximum_object_size = 16777216,
                 columns = {
                   account_id: 'VARCHAR',
                   request: 'STRUCT(messages STRUCT(role VARCHAR, content JSON)[])',
                   response: 'STRUCT(usage STRUCT(completion_tokens BIGINT))'
                 })
  GROUP BY account_id`;

const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const conn = await instance.connect();
await conn.run(`SET threads = ${threads}`);
const start = process.hrtime.bigint();
const reader = await conn.runAndReadAll(sql);
const rows = reader.getRows();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
let events = 0n;
for (const r of rows) events += BigInt(r[1]);
console.log(JSON.stringify({ accounts: rows.length, events: Number(events), seconds, threads }));
