// Shared by tests/tokenize/reference.mjs and bench/tokenize_bench.mjs: the corpus prompts in a
// fixed order, and the JavaScript reference tokenizers with the file the C++ side loads for each.
import fs from 'node:fs';
import path from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { TokenizerLoader } from '@lenml/tokenizers';

// Every turn of every record of corpora/*/*.jsonl, files in sorted order; every N-th is kept.
export function collectPrompts(corpora, every = 1) {
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
  return { prompts, total: index };
}

// js-tiktoken's ranks written as a standard tiktoken rank file ("<base64> <rank>" lines) for the
// C++ loader; its name carries the encoding name.
function writeTiktoken(dir, name, ranks) {
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

function tiktoken(dir, name, ranks) {
  return {
    file: writeTiktoken(dir, name, ranks),
    load: () => {
      const e = new Tiktoken(ranks);
      // allowedSpecial "all": special tokens in the text become their ids, as the C++ default.
      return { encode: (t) => e.encode(t, 'all'), decode: (ids) => e.decode(ids) };
    },
  };
}

// @lenml/tokenizers with the tokenizer.json (and tokenizer_config.json) a @lenml/tokenizer-NAME
// package ships; encoding without template tokens (add_special_tokens: false).
function lenml(root, name) {
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

// [name, () => {file, load}] for the five reference tokenizers; tiktoken files go to `dir`.
export function referenceTokenizers(root, dir) {
  return [
    ['cl100k_base', () => tiktoken(dir, 'cl100k_base', cl100k)],
    ['o200k_base', () => tiktoken(dir, 'o200k_base', o200k)],
    ['deepseek_v3', () => lenml(root, 'deepseek_v3')],
    ['qwen3', () => lenml(root, 'qwen3')],
    ['llama3', () => lenml(root, 'llama3')],
  ];
}
