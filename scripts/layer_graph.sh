#!/usr/bin/env bash
# The folder (layer) graph, from the declarations in src/layers.cmake, checked against the
# includes actually written in src/.
#
#   scripts/layer_graph.sh           print the graph (the block docs/ARCHITECTURE.md shows)
#   scripts/layer_graph.sh --write   rewrite that block in docs/ARCHITECTURE.md
#   scripts/layer_graph.sh --check   exit 1 if the block is stale, a folder includes a folder it
#                                    does not declare, or declares one it never includes
#                                    (ctest docs.layer_graph)
#
# The build enforces the declarations (cmake/DgLayers.cmake); this keeps them tight (a direct
# include needs a direct declaration, not one reached through another layer) and the doc true.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-print}"
exec python3 - "$root" "$mode" <<'PY'
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
mode = sys.argv[2]
decl = {}  # layer -> (public deps, private deps), in declaration order
for line in (root / "src/layers.cmake").read_text().splitlines():
    m = re.match(r"\s*dg_layer\((\w+)(.*)\)\s*$", line)
    if not m:
        continue
    scope, pub, priv = None, [], []
    for word in m.group(2).split():
        if word in ("PUBLIC", "PRIVATE", "SOURCES", "EXECUTABLE"):
            scope = word
        elif "::" in word or scope in ("SOURCES", "EXECUTABLE", None):
            continue
        elif scope == "PUBLIC":
            pub.append(word)
        else:
            priv.append(word)
    decl[m.group(1)] = (pub, priv)

# Rank: 0 for a layer with no layer dependency, else 1 + the highest rank among its dependencies.
rank = {}
def rank_of(layer, seen=()):
    if layer in seen:
        sys.exit("layer_graph: cycle through " + " -> ".join(seen + (layer,)))
    if layer not in rank:
        deps = decl[layer][0] + decl[layer][1]
        rank[layer] = 1 + max((rank_of(d, seen + (layer,)) for d in deps), default=-1)
    return rank[layer]
for layer in decl:
    rank_of(layer)

lines = ["rank  layer      uses in its headers (PUBLIC)                               uses in its sources only (PRIVATE)"]
for layer in sorted(decl, key=lambda l: (-rank[l], l)):
    pub, priv = decl[layer]
    lines.append(f"{rank[layer]:>4}  {layer:<10} {' '.join(sorted(pub)) or '-':<58} "
                 f"{' '.join(sorted(priv)) or '-'}".rstrip())
graph = "\n".join(lines)

problems = []
inc = re.compile(r'^\s*#\s*include\s+"(\w+)/', re.M)
for layer, (pub, priv) in decl.items():
    used = {}
    for f in sorted((root / "src" / layer).glob("*")):
        if f.suffix not in (".h", ".cc"):
            continue
        for dep in inc.findall(f.read_text(errors="replace")):
            if dep != layer:
                used.setdefault(dep, f.relative_to(root))
    for dep, where in sorted(used.items()):
        if dep not in pub and dep not in priv:
            problems.append(f"{where} includes {dep}/ but layer '{layer}' does not declare it")
    for dep in pub + priv:
        if dep not in used:
            problems.append(f"layer '{layer}' declares '{dep}' but includes nothing from it")
for d in sorted(p.name for p in (root / "src").iterdir() if p.is_dir()):
    if d not in decl:
        problems.append(f"src/{d}/ is not declared in src/layers.cmake")

doc = root / "docs/ARCHITECTURE.md"
begin, end = "<!-- layer-graph:begin (scripts/layer_graph.sh --write) -->", "<!-- layer-graph:end -->"
block = f"{begin}\n```\n{graph}\n```\n{end}"
text = doc.read_text()
pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
if mode == "print":
    print(graph)
elif mode == "--write":
    if not pattern.search(text):
        sys.exit(f"layer_graph: {doc} has no {begin} ... {end} block")
    doc.write_text(pattern.sub(lambda _: block, text))
elif mode == "--check":
    m = pattern.search(text)
    if not m:
        problems.append(f"docs/ARCHITECTURE.md has no layer-graph block")
    elif m.group(0) != block:
        problems.append("docs/ARCHITECTURE.md's layer graph is stale: run scripts/layer_graph.sh --write")
else:
    sys.exit(f"usage: layer_graph.sh [--write|--check]")
for p in problems:
    print("layer_graph:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
