"""Shares with honest intervals (issue 26): cc, adjusted, ppi and classical on real labelled statements.

    .venv/bin/python benchmarks/measure.py [--reps 500] [--sizes 50 100 200]          # the simulation table
    .venv/bin/python benchmarks/measure.py --speed                                      # stance measure, 10,000
    .venv/bin/python benchmarks/measure.py --stream                                     # --predictions, 1M rows

The two real labelled sets are the labelled pool's test split (368 statements, grouped by source) and realdev
(303, grouped by party; evaluation only: nothing is fitted on it here, the estimators only average over it). The
demo models' per-statement probabilities on them, and on their dev split (for `adjusted`), are the ones `make
demo` logged to each training run (eval/predictions_*.csv of models:/stance-tfidf/latest and
models:/stance-transformer/latest in $MLFLOW_TRACKING_URI); they are read once and cached in benchmarks/.cache/
(ids, labels, groups and probabilities only, no text). Then, per set, model and sample size n, the simulation
draws `reps` simple random samples of n labelled statements and estimates every label's share in every group and
in the whole set: pure numpy, about a minute on 2 cores.

Printed: mean absolute error (MAE), 95%-interval coverage and mean interval width per method, with ppi's width
over classical's, and plain PPI's (lam = 1) width beside the tuned one's.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from stance.evaluation.summary import markdown  # noqa: E402
from stance.measurement import estimators as est  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "measure"
LABELS = ["FAVOR", "AGAINST", "NONE"]
MODELS = {"tfidf": "models:/stance-tfidf/latest", "transformer": "models:/stance-transformer/latest"}
SETS = {"test_realpool": ("predictions_test_realpool.csv", "origin"), "realdev": ("predictions_realdev.csv", "party")}
KEEP = ["id", "label", "source", "origin", "party", "p_favor", "p_against", "p_none"]


def _group(frame: pd.DataFrame, column: str) -> pd.Series:
    if column == "party":  # realdev: the two parties, and everyone else (columnists, groups, no party) together
        return frame["party"].where(frame["party"].isin(["republican", "democrat"]), "other").fillna("other")
    return frame[column].astype(str)


def load(name: str, model: str) -> pd.DataFrame:
    """One cached table of ids, labels, the group column and probabilities (from the model's training run)."""
    path = CACHE / f"{model}_{name}.parquet"
    if not path.exists():
        from stance import tracking

        run_id = tracking.version_source(MODELS[model])[1]
        file = SETS[name][0] if name in SETS else "predictions_dev.csv"
        frame = pd.read_csv(tracking.download_run_file(run_id, f"eval/{file}"))
        CACHE.mkdir(parents=True, exist_ok=True)
        frame[[c for c in KEEP if c in frame]].to_parquet(path)
    return pd.read_parquet(path)


def one_set(frame: pd.DataFrame, group_col: str, dev: pd.DataFrame, sizes, reps: int, rng) -> list[dict]:
    """Every method's errors, coverage and widths over `reps` samples, per n, for every group and 'all'."""
    y = frame["label"].map({lab: i for i, lab in enumerate(LABELS)}).to_numpy()
    f = frame[["p_favor", "p_against", "p_none"]].to_numpy()
    dev_y = dev["label"].map({lab: i for i, lab in enumerate(LABELS)}).to_numpy()
    dev_f = dev[["p_favor", "p_against", "p_none"]].to_numpy()
    groups = _group(frame, group_col).to_numpy()
    cells = {"all": np.arange(len(frame)), **{g: np.flatnonzero(groups == g) for g in sorted(set(groups))}}
    out = []
    for g, idx in cells.items():
        truth = np.bincount(y[idx], minlength=3) / len(idx)
        sums = est.Sums(3).add(f[idx])
        real = (dev["source"] == "realpool").to_numpy()  # the dev split's real statements only (--dev)
        fixed = {"cc": (est.cc(sums), None, None), "adjusted": est.adjusted(sums, dev_f, dev_y, reps=200, seed=0),
                 "adjusted_real_dev": est.adjusted(sums, dev_f[real], dev_y[real], reps=200, seed=0),
                 "mean_probability": (sums.mean(), None, None)}
        for m, (e, low, high) in fixed.items():
            out.append(_row(g, None, m, truth, [e], [low] if low is not None else None, [high] if high is not None
                            else None, len(idx)))
        for n in sizes:
            out += _sampled(g, idx, y, f, sums, truth, n, reps, rng, len(frame))
    return out


def _sampled(g, idx, y, f, sums, truth, n, reps, rng, total) -> list[dict]:
    found = {"ppi": ([], [], []), "plain_ppi": ([], [], []), "classical": ([], [], [])}
    fallback = 0
    for _ in range(reps):
        pick = rng.choice(total, n, replace=False)
        mine = np.intersect1d(pick, idx)
        if len(mine) < 2:
            fallback += 1
            continue
        sample = est.Labelled(np.eye(3)[y[mine]], f[mine], np.zeros(len(mine)), {0: 1.0})
        for m, (e, se) in {"ppi": est.ppi(sample, sums), "plain_ppi": est.ppi(sample, sums, lam=1.0),
                           "classical": est.classical(sample)}.items():
            low, high = est.interval(e, se)
            for store, v in zip(found[m], (e, low, high)):
                store.append(v)
    return [_row(g, n, m, truth, *vals, len(idx), fallback / reps) for m, vals in found.items() if vals[0]]


def _row(group, n, method, truth, e, low, high, size, fallback=0.0) -> dict:
    e = np.asarray(e)
    row = {"group": group, "n": n, "method": method, "size": size, "mae": float(np.abs(e - truth).mean()),
           "fallback": fallback}
    if low is not None:
        low, high = np.asarray(low), np.asarray(high)
        cover = ((low <= truth) & (truth <= high)).mean(0)
        row.update({f"cover_{lab.lower()}": float(c) for lab, c in zip(LABELS, cover)})
        row.update({"cover_min": float(cover.min()), "width": float((high - low).mean())})
    return row


def simulate(sizes, reps: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for model in MODELS:
        dev = load("dev", model)
        for name, (_, col) in SETS.items():
            for r in one_set(load(name, model), col, dev, sizes, reps, rng):
                rows.append({"set": name, "model": model, **r})
    return pd.DataFrame(rows)


def report(t: pd.DataFrame) -> str:
    whole = t[t["group"] == "all"]
    lines = ["### The whole set (every label's share; coverage: the worst label's)", ""]
    rows = []
    for (s, m, n), part in whole[whole["n"].notna()].groupby(["set", "model", "n"], sort=False):
        by = part.set_index("method")
        rows.append([s, m, int(n), *[f"{by.at[k, 'mae']:.3f}" for k in ("ppi", "classical")],
                     *[f"{by.at[k, 'cover_min']:.3f}" for k in ("ppi", "classical")],
                     *[f"{by.at[k, 'width']:.3f}" for k in ("ppi", "plain_ppi", "classical")],
                     f"{by.at['ppi', 'width'] / by.at['classical', 'width']:.2f}"])
    lines.append(markdown(rows, ["set", "model", "n", "MAE ppi", "MAE classical", "cover ppi", "cover classical",
                                 "width ppi", "width plain PPI", "width classical", "ppi / classical"]))
    lines += ["", "### No labels: classify-and-count against adjusted (MAE over labels; groups and the whole set)", ""]
    fixed = t[t["n"].isna()].pivot_table(index=["set", "model", "group"], columns="method", values="mae")
    cover = t[(t["n"].isna()) & (t["method"] == "adjusted")].set_index(["set", "model", "group"])["cover_min"]
    methods = ["cc", "adjusted", "adjusted_real_dev", "mean_probability"]
    rows = [[*k, *[f"{r[m]:.3f}" for m in methods], f"{cover[k]:.0f}"] for k, r in fixed.iterrows()]
    lines.append(markdown(rows, ["set", "model", "group", "MAE cc", "MAE adjusted", "MAE adjusted, real dev only",
                                 "MAE mean probability", "adjusted covers all labels"]))
    w = fixed.xs("all", level="group")
    lines += ["", "mean MAE over both sets and both models: " + "; ".join(
        f"{m} {w[m].mean():.3f} (whole sets), {fixed[m].mean():.3f} (every group and whole set)" for m in methods)]
    groups = t[(t["group"] != "all") & (t["method"] == "ppi")]
    worst = groups.loc[groups["cover_min"].idxmin()]
    lines += [f"groups: ppi's worst coverage {worst['cover_min']:.3f} ({worst['set']}, {worst['model']}, "
              f"{worst['group']}, n = {int(worst['n'])}: {worst['size']} statements, under 2 labelled in "
              f"{worst['fallback']:.0%} of draws, which fall back to adjusted)"]
    return "\n".join(lines)


# ---------------------------------------------------------------- speed and memory

def _model_folder(ref: str) -> Path:
    """The local folder of a registered model's training run (outputs/RUN/model, beside its eval/ folder)."""
    from stance import tracking

    return Path("outputs") / tracking.version_source(ref)[1] / "model"


def speed(n: int, model: str) -> str:
    """`stance measure` on n real pool statements (repeated with new ids), the TF-IDF model, by source, as a
    command in a fresh process with a fresh MLflow store: the whole call, start-up and the logged run included."""
    from stance.data.pool import read_pool

    pool = read_pool(Path(os.environ.get("STANCE_REALPOOL", ROOT.parent / "shared" / "realpool" / "realpool.jsonl")))
    rows = pd.concat([pool.assign(id=pool["id"] + f"-{i}") for i in range(-(-n // len(pool)))]).head(n)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "statements.jsonl"
        rows[["id", "text", "source", "date"]].to_json(data, orient="records", lines=True)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db", "PYTHONPATH": str(ROOT / "src")}
        times = []
        for _ in range(2):  # the first call also creates the store
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "stance", "measure", "--data", str(data), "--model",
                            str(_model_folder(model).resolve()), "--by", "source", "--json"], env=env, cwd=tmp,
                           check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return f"stance measure, {n:,} statements, TF-IDF, --by source: {times[0]:.1f} s (new store), {times[1]:.1f} s"


# Parquet is decoded a row group at a time: files written by Spark come in row groups of ~128 MB; pandas writes one
# group of up to 1M rows unless told, and then the whole group is in memory at once.
ROW_GROUP = 100_000
# Peak memory from /proc's VmHWM: getrusage's maxrss survives exec, so a child would report the parent's peak.
STREAM_CHILD = """
import re, sys, time
import stance
start = time.perf_counter()
t = stance.measure(predictions=sys.argv[1], by="party", dev=sys.argv[2], track=False)
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(f"{time.perf_counter() - start:.1f} {peak:.0f}")
"""


def stream(sizes) -> str:
    """`--predictions` on synthetic scored files of each size (Parquet): seconds and peak memory, side by side."""
    rng = np.random.default_rng(0)
    dev = load("dev", "tfidf")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        dev_file = Path(tmp) / "dev.csv"
        dev.to_csv(dev_file, index=False)
        for n in sizes:
            path = Path(tmp) / f"scored_{n}.parquet"
            p = rng.dirichlet([2, 1, 1.5], n)
            pd.DataFrame({"id": np.arange(n).astype(str), "party": rng.choice(["R", "D", "I"], n),
                          **{lab: p[:, j] for j, lab in enumerate(LABELS)}}).to_parquet(path, row_group_size=ROW_GROUP)
            out = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(path), str(dev_file)], check=True,
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
            secs, rss = out.stdout.split()[-2:]
            lines.append(f"--predictions, {n:,} rows: {secs} s, peak memory {rss} MB")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speed", action="store_true", help="time stance measure on 10,000 statements instead")
    ap.add_argument("--stream", action="store_true", help="time --predictions on 100,000 and 1,000,000 rows instead")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    if args.speed:
        print(speed(10_000, MODELS["tfidf"]))
    elif args.stream:
        print(stream([100_000, 1_000_000]))
    else:
        table = simulate(args.sizes, args.reps, args.seed)
        print(report(table))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
