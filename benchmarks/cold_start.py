"""Cold start: wall time and peak RSS of a one-off `stance predict` (TF-IDF, and a transformer) and of `stance --help`.

    .venv/bin/python benchmarks/cold_start.py [--model URI_OR_DIR] [--transformer URI_OR_DIR]
        [--transformer-store TRACKING_URI] [--src DIR] [--runs 5]

Each measurement is a fresh child process (`python -m stance.cli ...`), timed from start to exit; peak RSS is
that child's own (os.wait4). One unmeasured warm-up run first, so the figures are a cold process on a warm
disk cache (what a user sees on the second call of the day), and the median of --runs runs is reported.
Without --model it trains --config (default configs/baseline.yaml, what `stance train` users get) into a
throwaway sqlite store and predicts with models:/NAME/latest from it, resolved through the registry as users do.
With --model, the current MLFLOW_TRACKING_URI is used. --transformer adds the same one-off predict with a
transformer model (a trained one: `stance train configs/transformer.yaml` takes minutes, so it is never trained
here); --transformer-store names the tracking store its models:/ URI lives in, when not the TF-IDF model's.
Every time is also printed as a ratio to the same one-off predict from the TF-IDF model's local folder and to
`python -c "import sklearn"`, so runs on machines of other speeds compare. --src runs the children on another
checkout's src/ (say, a `git archive` of main) for a before/after table. Prints a table and one JSON line.
Targets (issue 29): one-off TF-IDF predict via models:/ <= 1.5 s and from its folder <= 1.0 s, <= 300 MB; the
transformer via models:/ <= 2.5 s; --help <= 0.5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Sanctuary cities must lose their grants."
TARGETS = {"predict_wall_s": 1.5, "folder_wall_s": 1.0, "predict_peak_rss_mb": 300, "help_wall_s": 0.5,
           "transformer_wall_s": 2.5}
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process; fails loudly if the command does.

    A child's peak RSS includes this process's pages while it is being started (with MLflow imported here,
    `stance --help` read 240 MB instead of ~30 MB), hence posix_spawn and no heavy imports in this process.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp, "out"), Path(tmp, "err")
        opened = [(os.POSIX_SPAWN_OPEN, fd, str(path), os.O_WRONLY | os.O_CREAT, 0o600)
                  for fd, path in ((1, out), (2, err))]
        start = time.perf_counter()
        pid = os.posix_spawn(cmd[0], cmd, env, file_actions=opened)
        _, status, usage = os.wait4(pid, 0)  # this child's own rusage
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed ({os.waitstatus_to_exitcode(status)}): {err.read_text()[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def median_of(cmd: list[str], env: dict[str, str], runs: int) -> dict:
    measure(cmd, env)  # warm-up: page cache and .pyc files, not counted
    walls, rss = zip(*(measure(cmd, env) for _ in range(runs)))
    return {"wall_s": round(statistics.median(walls), 2), "peak_rss_mb": round(statistics.median(rss)),
            "wall_s_runs": [round(w, 2) for w in walls], "peak_rss_mb_runs": [round(r) for r in rss]}


def in_child(code: str, env: dict[str, str], *args: str) -> str:
    """Run Python code in a child and return its stdout. MLflow stays out of this process: a child's peak RSS
    counts the parent's pages too (its pre-exec copy shares them), so the parent must stay small."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout


def train_throwaway(config: str, tmp: Path, env: dict[str, str]) -> str:
    """Train `config` into a sqlite store under tmp (artifacts too, not ./mlruns); return models:/NAME/latest."""
    name = in_child("import sys, mlflow\nfrom stance.config import load_config\n"
                    "cfg = load_config(sys.argv[1])\n"
                    "mlflow.create_experiment(cfg.tracking.experiment, artifact_location=sys.argv[2])\n"
                    "print(cfg.tracking.registered_model)", env, str(ROOT / config), (tmp / "artifacts").as_uri())
    subprocess.run([sys.executable, "-m", "stance.cli", "train", str(ROOT / config),
                    "--set", f"output_dir={tmp}/outputs"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return f"models:/{name.strip()}/latest"


def model_folder(model: str, env: dict[str, str]) -> tuple[str, float]:
    """(the local model folder predict loads, its size in MB)."""
    folder, size = in_child(
        "import sys\nfrom pathlib import Path\nfrom stance import tracking\n"
        "from stance.prediction.refs import _local_model_dir\n"
        "folder = Path(sys.argv[1])\nif not folder.exists():\n    tracking.configure(None)\n"
        "    folder = Path(tracking.download_model(tracking.resolve_model_uri(sys.argv[1])))\n"
        "folder = _local_model_dir(folder)\n"
        "print(folder, sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) / 1e6)",
        env, model).strip().rsplit(" ", 1)
    return folder, round(float(size), 1)


_ONCE = """import json, statistics, sys, time
t0 = time.perf_counter()
import stance
model = stance.load_model(sys.argv[1])
t1 = time.perf_counter()
stance.predict(sys.argv[2], model)
t2 = time.perf_counter()
lat = []
for i in range(100):
    s = time.perf_counter()
    stance.predict(sys.argv[2], model)
    lat.append(time.perf_counter() - s)
print(json.dumps({"import_and_load_s": round(t1 - t0, 2), "first_statement_ms": round(1000 * (t2 - t1), 1),
                  "then_p50_ms": round(1000 * statistics.median(lat), 2)}))
"""


def in_process(model: str, env: dict[str, str]) -> dict:
    """What a long-running process (notebook, `mlflow models serve`, a Spark task) pays: the imports and the load
    once, then each statement."""
    return json.loads(in_child(_ONCE, env, model, TEXT).strip().splitlines()[-1])


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="a TF-IDF model: MLflow URI or local folder (default: train one)")
    ap.add_argument("--config", default="configs/baseline.yaml", help="what to train when --model is not given")
    ap.add_argument("--transformer", default=None, help="also time a transformer model: MLflow URI or local folder")
    ap.add_argument("--transformer-store", default=None, help="tracking URI of --transformer's models:/ URI")
    ap.add_argument("--src", default=str(ROOT / "src"), help="the stance source the children run (default: this one)")
    ap.add_argument("--runs", type=int, default=5, help="measured runs per command (median reported)")
    args = ap.parse_args(argv)
    for name in ("model", "transformer"):
        if getattr(args, name) and Path(getattr(args, name)).exists():
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    return args


def measure_all(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> dict:
    model = args.model
    if model is None:
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        model = train_throwaway(args.config, tmp, env)
    folder, size = model_folder(model, env)
    cli = [sys.executable, "-m", "stance.cli"]
    rows = {"sklearn": (f"{Path(sys.executable).name} -c \"import sklearn\"",
                        median_of([sys.executable, "-c", "import sklearn"], env, args.runs)),
            "folder": (f"stance predict --model {folder} \"...\" (TF-IDF, local folder)",
                       median_of([*cli, "predict", "--model", folder, TEXT], env, args.runs)),
            "predict": (f"stance predict --model {model} \"...\" (TF-IDF)",
                        median_of([*cli, "predict", "--model", model, TEXT], env, args.runs))}
    once = {"tfidf": in_process(model, env)}
    if args.transformer:
        t_env = {**env, **({"MLFLOW_TRACKING_URI": args.transformer_store} if args.transformer_store else {})}
        rows["transformer"] = (f"stance predict --model {args.transformer} \"...\" (transformer)",
                               median_of([*cli, "predict", "--model", args.transformer, TEXT], t_env, args.runs))
        once["transformer"] = in_process(args.transformer, t_env)
    rows["help"] = ("stance --help", median_of([*cli, "--help"], env, args.runs))
    return {"model": model, "folder": folder, "size": size, "rows": rows, "once": once}


TARGET_OF = {"predict": "predict_wall_s", "folder": "folder_wall_s", "transformer": "transformer_wall_s",
             "help": "help_wall_s"}


def report(args: argparse.Namespace, m: dict, load_before: float) -> dict:
    rows = m["rows"]
    folder_s, sklearn_s = rows["folder"][1]["wall_s"], rows["sklearn"][1]["wall_s"]
    print(f"stance source: {args.src}\n")
    print(f"| command | wall s (median of {args.runs}) | / local folder | / import sklearn | peak RSS MB | target |")
    print("|---|---|---|---|---|---|")
    for key, (label, row) in rows.items():
        target = f"<= {TARGETS[TARGET_OF[key]]} s" if key in TARGET_OF else ""
        print(f"| `{label}` | {row['wall_s']:.2f} | {row['wall_s'] / folder_s:.2f} | {row['wall_s'] / sklearn_s:.2f} "
              f"| {row['peak_rss_mb']} | {target} |")
    for name, row in m["once"].items():
        print(f"in one process ({name}): import + load {row['import_and_load_s']} s once, first statement "
              f"{row['first_statement_ms']} ms, then p50 {row['then_p50_ms']} ms per statement")
    result = {"model": args.model or f"{args.config} trained into a throwaway store ({m['model']})",
              "model_folder": m["folder"], "model_size_mb": m["size"], "src": args.src, "runs": args.runs,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
              "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
              **{key: row for key, (_, row) in rows.items()}, "in_one_process": m["once"],
              "met": {TARGET_OF[k]: rows[k][1]["wall_s"] <= TARGETS[TARGET_OF[k]] for k in rows if k in TARGET_OF}}
    result["met"]["predict_peak_rss_mb"] = rows["predict"][1]["peak_rss_mb"] <= TARGETS["predict_peak_rss_mb"]
    print(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    os.chdir(ROOT)  # the children run here (posix_spawn has no cwd)
    env = {**os.environ, **QUIET}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(args.src).resolve()), env.get("PYTHONPATH")]))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="stance-cold-") as tmp:
        measured = measure_all(args, env, Path(tmp))
    return report(args, measured, load_before)


if __name__ == "__main__":
    main()
