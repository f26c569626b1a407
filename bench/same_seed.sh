#!/usr/bin/env bash
# Same-seed outputs of generate, train, evaluate and optimize, hashed: a change that should not change
# behaviour (a refactor) must print the same lines before and after.
#
#   bash bench/same_seed.sh [TREE] [WORKDIR]      # TREE: a checkout (default: this one)
#
# Run it on two checkouts (e.g. `git worktree add /tmp/before <commit>`) and diff the outputs.
set -eu
TREE=$(cd "${1:-$(dirname "$0")/..}" && pwd)
OUT=${2:-$(mktemp -d)}
mkdir -p "$OUT" && cd "$OUT"
export PYTHONPATH=$TREE:$TREE/plugins OPENBLAS_NUM_THREADS=1 CHEMGEN_OFFLINE=1 CHEMGEN_NO_PROGRESS=1
PY=${PYTHON:-python}
cg() { "$PY" -c "import sys, chemgen.cli; sys.exit(chemgen.cli.main())" "$@"; }
cg generate -n 30 --seed 0 --filters suffix,opsin,rdkit --format csv > gen_druglike.csv 2>/dev/null
cg generate -n 40 --seed 3 --model systematic --format jsonl > gen_systematic.jsonl 2>/dev/null
cg train "$TREE/datasets/common/valid.txt" --out tiny.npz --hidden 32 --layers 1 --embed 16 --steps 60 \
  --eval-every 20 --seed 0 --batch-size 16 > train.log 2>&1
cg evaluate --model common --samples 300 --seed 0 --reference "$TREE/datasets/common/test.txt" \
  --json eval.json > /dev/null 2>&1
cg optimize --prior systematic --score "opsin,rdkit[value=qed]" --steps 4 --batch-size 16 --seed 0 \
  --out agent.npz --log opt.jsonl --summary opt.csv --offline > opt.out 2>&1
"$PY" - <<'PY'
import hashlib, json
import numpy as np

def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]

def params(path: str) -> str:
    z = np.load(path, allow_pickle=False)
    return digest(b"".join(z[k].tobytes() for k in sorted(z.files) if k.startswith("param/")))

def without_times(row: dict) -> dict:
    return {k: v for k, v in row.items() if "time" not in k and "second" not in k and k != "elapsed"}

print("generate druglike csv ", digest(open("gen_druglike.csv", "rb").read()))
print("generate systematic jl", digest(open("gen_systematic.jsonl", "rb").read()))
print("train tiny params     ", params("tiny.npz"))
print("evaluate common json  ", digest(json.dumps(without_times(json.load(open("eval.json"))), sort_keys=True).encode()))
print("optimize agent params ", params("agent.npz"))
print("optimize log          ", digest(json.dumps([without_times(json.loads(l)) for l in open("opt.jsonl")],
                                                  sort_keys=True).encode()))
print("optimize summary      ", digest(open("opt.csv", "rb").read()))
PY
