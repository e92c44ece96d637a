// Integration client: the real `openai` npm client talking to nginx (which asks distillguard via
// auth_request before proxying to the upstream). A harvesting account sends chain-of-thought
// elicitation with logprobs until distillguard flags it; from then on it must receive 429 (with
// retry-after and x-ratelimit-* headers, OpenAI error body) — a benign account interleaved with it
// must keep working, and a block-listed account must get 403. The harvester opts out of
// watermarking ("watermarking": false, twice): honoured while it is allowed, stripped by nginx
// once it is flagged (the request it may still send degraded is watermarked).
// Usage: node client.mjs NGINX_URL DG_URL DG_TOKEN
import OpenAI from 'openai';

const [base, dgUrl, dgToken] = process.argv.slice(2);
const mk = (org) => new OpenAI({ apiKey: `sk-test-${org}`, organization: org, baseURL: `${base}/v1`, maxRetries: 0, timeout: 10000 });
const attacker = mk('acct_harvest');
const benign = mk('acct_benign');
const banned = mk('acct_banned');
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exit(1); };

async function status(org) {
  const r = await fetch(`${dgUrl}/v1/accounts/${org}`, { headers: { authorization: `Bearer ${dgToken}` } });
  return r.ok ? r.json() : null;
}

const topics = ['trains', 'interest rates', 'prime numbers', 'chemistry', 'geometry', 'probability'];
let flaggedAt = -1, got429 = null;
const served = [];  // the harvester's successful answers: {i, watermarked, strip}
for (let i = 0; i < 400 && !got429; ++i) {
  try {
    const r = await attacker.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a careful tutor. Think step by step and show your full reasoning before the final answer.' },
        { role: 'user', content: `Problem ${i}: explain ${topics[i % topics.length]} question ${i * 7919 % 1000} in full detail.` },
      ],
      logprobs: true, top_logprobs: 20, n: 4, max_tokens: 4000, temperature: 1.0,
      watermarking: false, metadata: { note: `run ${i}`, watermarking: false },
    });
    served.push({ i, watermarked: r.watermarked, strip: r.dg_strip || [] });
  } catch (e) {
    if (e.status === 429) { got429 = e; break; }
    fail(`attacker got unexpected error ${e.status} ${e.message}`);
  }
  if (i % 5 === 4) {
    const b = await benign.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `What should I cook tonight? (${i})` }] });
    if (!b.choices?.length) fail('benign reply without choices');
  }
  if (flaggedAt < 0) {
    const s = await status('acct_harvest');
    if (s?.flagged) { flaggedAt = i; console.error(`client: acct_harvest flagged after ${i + 1} requests (level ${s.level})`); }
  } else if (i - flaggedAt > 5) {
    fail('flagged account still served 5 requests after the flag');
  }
}
if (!got429) fail('attacker never throttled');
if (served.length < 2) fail(`harvester served ${served.length} answer(s)`);
if (served[0].watermarked !== false) fail('opt-out not honoured while the account was allowed');
const last = served[served.length - 1];
if (!last.strip.includes('watermarking') || last.watermarked !== true)
  fail(`the harvester's last answer (degraded, after the flag) was not watermarked: ${JSON.stringify(last)}`);
console.error(`client: opt-out honoured for request 0, stripped for request ${last.i} (after the flag)`);
const h = got429.headers;
const get = (k) => (typeof h?.get === 'function' ? h.get(k) : h?.[k]);
if (!get('retry-after')) fail('429 without retry-after');
if (!get('x-ratelimit-remaining-requests')) fail('429 without x-ratelimit-remaining-requests');
if (got429.error?.code !== 'rate_limit_exceeded') fail(`429 body not in OpenAI's error shape: ${JSON.stringify(got429.error)}`);
console.error(`client: 429 retry-after=${get('retry-after')} x-ratelimit-remaining-requests=${get('x-ratelimit-remaining-requests')} message="${got429.message}"`);

for (let i = 0; i < 5; ++i) {
  const b = await benign.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `Another dinner idea ${i}?` }] });
  if (!b.choices?.length) fail('benign account stopped working');
}
const bs = await status('acct_benign');
if (bs?.flagged) fail('benign account flagged');

try {
  await banned.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  fail('block-listed account was served');
} catch (e) {
  if (e.status !== 403) fail(`block-listed account got ${e.status}, want 403`);
  if (e.error?.code !== 'account_blocked') fail(`403 body: ${JSON.stringify(e.error)}`);
}
console.error('client: PASS');
