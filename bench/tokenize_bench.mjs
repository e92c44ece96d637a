// make bench-tokenize: encoding throughput of the C++ tokenizers (src/tokenize) against the
// JavaScript references on the same texts, in one run: every prompt of the shared corpora
// (../shared/data/corpora), for cl100k_base and o200k_base against js-tiktoken, and for the three
// tokenizer.json models against @lenml/tokenizers.
//
// Usage: node bench/tokenize_bench.mjs BIN [--every N] [--reps R]
// Only encoding is timed, after loading, on one thread each: the JS side around its encode calls
// (performance.now), the C++ side inside `distillguard tokenize --count` (its encode time). Both
// run the same texts one after the other, never at the same time. The best of R repetitions
// (default 3) of each is kept. Prints a Markdown table with tokens/s and the ratio C++ / JS.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { collectPrompts, referenceTokenizers } from '../tests/tokenize/lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const bin = args[0];
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const every = Number.parseInt(opt('--every', '1'), 10);
const reps = Number.parseInt(opt('--reps', '3'), 10);
if (!bin) {
  console.error('usage: tokenize_bench.mjs BIN [--every N] [--reps R]');
  process.exit(2);
}
const corpora = path.join(process.env.DG_SHARED_DIR || path.join(root, '../shared'), 'data/corpora');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-tokbench-'));
const { prompts } = collectPrompts(corpora, every);
const textsFile = path.join(dir, 'texts.jsonl');
fs.writeFileSync(textsFile, prompts.map((p) => JSON.stringify(p)).join('\n') + '\n');
const bytes = prompts.reduce((n, p) => n + Buffer.byteLength(p.text), 0);

const rows = [];
for (const [name, make] of referenceTokenizers(root, dir)) {
  const spec = make();
  const ref = spec.load();
  let jsBest = Infinity, jsTokens = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    let n = 0;
    for (const p of prompts) n += ref.encode(p.text).length;
    jsBest = Math.min(jsBest, (performance.now() - t0) / 1000);
    jsTokens = n;
  }
  let cppBest = Infinity, cppTokens = 0;
  for (let r = 0; r < reps; r++) {
    const res = spawnSync(bin, ['tokenize', '--tokenizer', spec.file, '--texts', textsFile,
      '--format', 'jsonl', '--count'], { encoding: 'utf8' });
    const m = /(\d+) token\(s\), \d+ byte\(s\); encode ([\d.]+) s/.exec(res.stdout);
    if (res.status !== 0 || !m) throw new Error(`${name}: ${res.stderr || res.stdout}`);
    cppTokens = Number(m[1]);
    cppBest = Math.min(cppBest, Number(m[2]));
  }
  if (cppTokens !== jsTokens) throw new Error(`${name}: ${cppTokens} C++ tokens vs ${jsTokens} JS`);
  const ref_name = name.endsWith('_base') ? 'js-tiktoken' : '@lenml/tokenizers';
  rows.push([name, ref_name, jsTokens, jsTokens / jsBest, cppTokens / cppBest, jsBest / cppBest]);
  console.error(`${name}: JS ${jsBest.toFixed(2)} s, C++ ${cppBest.toFixed(2)} s`);
}
fs.rmSync(dir, { recursive: true, force: true });
const f = (x) => Math.round(x).toLocaleString('en-US');
console.log(`${prompts.length} prompts, ${(bytes / 1e6).toFixed(1)} MB of text, best of ${reps}, one thread each, ${os.cpus()[0].model}\n`);
console.log('| tokenizer | reference | tokens | reference tokens/s | C++ tokens/s | C++ / reference |');
console.log('|---|---|---:|---:|---:|---:|');
for (const [n, r, t, js, cpp, ratio] of rows) {
  console.log(`| ${n} | ${r} | ${f(t)} | ${f(js)} | ${f(cpp)} | ${ratio.toFixed(1)}x |`);
}
