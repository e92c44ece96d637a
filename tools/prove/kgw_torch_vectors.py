#!/usr/bin/env python3
"""Writes tests/prove/data/kgw_torch_vectors.tsv: Hugging Face KGW green lists as PyTorch's CPU
generator computes them, for dg_prove_tests to check src/prove/kgw.cc against, bit for bit.

The green list is what transformers' WatermarkLogitsProcessor (lefthash) computes:
  rng.manual_seed((hashing_key * prev) % (2**64 - 1))
  torch.randperm(vocab_size, generator=rng)[: int(vocab_size * gamma)]
Run with the interpreter that has torch (Debian: apt-get install python3-torch; /usr/bin/python3):
  /usr/bin/python3 tools/prove/kgw_torch_vectors.py > tests/prove/data/kgw_torch_vectors.tsv
Columns: torch version, vocab_size, gamma, hashing_key, prev, greenlist size, FNV-1a 64 of the whole
green list in order (each id as 4 little-endian bytes), first 16 ids (comma-separated).
"""
import torch

CASES = [
    (1000, 0.25, 15485863, 5),
    (1000, 0.25, 15485863, 0),
    (1000, 0.5, 15485863, 999),
    (32000, 0.25, 15485863, 0),
    (32000, 0.25, 15485863, 31999),
    (50257, 0.25, 15485863, 17),
    (50257, 0.25, 15485863, 50256),
    (128256, 0.25, 15485863, 128000),
    (151936, 0.25, 15485863, 151643),
    (50257, 0.1, 123456789, 42),
]


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for v in ids:
        for b in int(v).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    rng = torch.Generator(device="cpu")
    for vocab, gamma, key, prev in CASES:
        rng.manual_seed((key * prev) % (2**64 - 1))
        size = int(vocab * gamma)
        green = torch.randperm(vocab, generator=rng)[:size].tolist()
        first = ",".join(str(v) for v in green[:16])
        print(f"{torch.__version__}\t{vocab}\t{gamma}\t{key}\t{prev}\t{size}\t{fnv1a64(green)}\t{first}")


if __name__ == "__main__":
    main()
