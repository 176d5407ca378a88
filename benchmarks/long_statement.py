"""Peak memory of `stance predict --input` on one very long statement (TF-IDF), against a short one.

    .venv/bin/python benchmarks/long_statement.py [--mb 1 10 50] [--src src]

Fits a tiny TF-IDF model on the test fixtures' statements, writes a JSONL file holding one statement of each
size, and runs `stance predict` on it in a fresh process each time, printing that process's peak resident memory
and its ratio to a one-line statement's. The model reads at most stance.prediction.scoring.MAX_MODEL_CHARS
characters of a statement, so the ratio should stay near the file size's share; `--src` runs another checkout's
code (e.g. an export of main) for the before figure.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb(src: Path, model: Path, statement: str, tmp: Path) -> float:
    path = tmp / "in.jsonl"
    path.write_text(json.dumps({"text": statement}) + "\n")
    code = ("import resource, sys; from stance.cli import main; main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", code, "predict", "--model", str(model), "--input", str(path),
                           "--output", str(tmp / "out.jsonl"), "--quiet"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, nargs="+", default=[1, 10, 50])
    p.add_argument("--src", type=Path, default=ROOT / "src")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(args.src))
    import pandas as pd

    from conftest import tiny_rows
    from stance.config import TfidfConfig
    from stance.models import build

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = pd.DataFrame(tiny_rows())
        model = build(TfidfConfig(), ["FAVOR", "AGAINST", "NONE"], 13)
        model.fit(rows, rows)
        model.save(tmp / "model")
        sentence = "Deport every criminal alien and build the wall now. "
        base = _peak_mb(args.src, tmp / "model", sentence, tmp)
        print(f"code: {args.src}")
        print(f"| statement | peak RSS MB | ratio to one sentence |\n|---|---|---|\n| one sentence | {base:.0f} | 1.00 |")
        for mb in args.mb:
            peak = _peak_mb(args.src, tmp / "model", sentence * int(mb * 2**20 / len(sentence)), tmp)
            print(f"| {mb:g} MB | {peak:.0f} | {peak / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
