"""Training and prediction speed, side by side in one run, against what a researcher would otherwise write.

    .venv/bin/python benchmarks/speed.py --out outputs/bench/speed.json

Measures, on the bundled corpus (data/immigration_stance.jsonl) and the same fine-tuned MiniLM:
  training   examples/s of our trainer (configs/transformer.yaml: dynamic padding, length-grouped batches,
             bf16) against a plain transformers.Trainer padding to max_length in fp32, same rows and epochs;
  prediction statements/s at batch 1 and 64, latency p50/p95 at batch 1 and peak RSS (each path in its own
             child process) of stance.predict with fp32, bf16 and int8 paths against
             transformers.pipeline("text-classification"); macro-F1 of each on the test split and label
             agreement with fp32;
  TF-IDF     fit time on the train split, single-statement latency p50/p95, batch throughput;
  streaming  peak RSS of `stance predict --input X.jsonl --output Y.jsonl` (TF-IDF model) at 10k and 100k
             statements, each in a child process.
It prints markdown tables and writes them with machine facts as JSON. Claims are ratios within one run.
Options: --model DIR reuses a saved fine-tuned model instead of the in-benchmark fine-tune (it is still
timed in the training comparison); --train-rows, --stream-sizes and --threads change the sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "immigration_stance.jsonl"
for key, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
                   "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "CI": "true"}.items():
    os.environ.setdefault(key, value)
sys.path.insert(0, str(ROOT / "src"))

MODES = ("fp32", "bf16", "int8", "onnx", "onnx-int8")
REALDEV = ROOT.parent / "shared" / "realdev"
REALPOOL = Path(os.environ.get("STANCE_REALPOOL", ROOT.parent / "shared" / "realpool")) / "realpool.jsonl"
REAL_TARGET = ("stricter federal immigration enforcement, including federal conditions that require local governments "
               "to cooperate with immigration authorities")


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage: its ru_maxrss survives fork+exec, so a child of this
    (large) parent would report the parent's peak; /proc's VmHWM belongs to the process image."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024  # kB


# Runs `stance ...` in a child and writes that child's own peak RSS (MB) to the file named first.
_MEASURED_CLI = ("import atexit, runpy, sys; out = sys.argv.pop(1); sys.argv[0] = 'stance'; "
                 "sys.path.insert(0, {bench!r}); from speed import peak_rss_mb; "
                 "atexit.register(lambda: open(out, 'w').write(str(peak_rss_mb()))); "
                 "runpy.run_module('stance.cli', run_name='__main__')")


def percentile_ms(seconds: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.array(seconds) * 1000, q))


def load_splits():
    import pandas as pd

    df = pd.read_json(CORPUS, lines=True)
    return {s: df[df["split"] == s].reset_index(drop=True) for s in ("train", "dev", "test")}


def macro_f1(gold, pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", labels=["FAVOR", "AGAINST", "NONE"], zero_division=0))


# ---------------------------------------------------------------- child: one prediction path


def eval_sets(test_rows: int | None, real_rows: int) -> dict:
    """The corpus test split and real-length statements: every realdev statement (labelled) plus a seeded sample
    of the real pool's texts, up to `real_rows`, all scored toward the corpus target. Read here, never copied."""
    import pandas as pd

    real = [pd.read_json(f, lines=True).assign(source=f.stem) for f in sorted(REALDEV.glob("*.jsonl"))]
    if REALPOOL.is_file():
        pool = pd.read_json(REALPOOL, lines=True)
        need = max(0, real_rows - sum(len(r) for r in real))
        real.append(pool.sample(n=min(need, len(pool)), random_state=13).assign(label=None, source="realpool"))
    sets = {"corpus test": load_splits()["test"].head(test_rows)}
    if real:
        sets["real statements"] = pd.concat(real, ignore_index=True)[["text", "label", "source"]].assign(
            target=REAL_TARGET)
    return sets


def path_fns(args: argparse.Namespace):
    """(one statement -> label, statements -> labels) for the HF pipeline or one stance path ("auto": the
    default, i.e. the saved batch path for lists and the saved batch-1 path for one statement)."""
    if args.worker == "pipeline":
        from transformers import pipeline
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        pipe = pipeline("text-classification", model=args.model, tokenizer=args.model, device="cpu", top_k=1)
        kw = dict(truncation="only_second", max_length=128)

        def one(text: str, target: str) -> str:
            return pipe({"text": target, "text_pair": text}, **kw)[0]["label"]

        def batch(ts: list[str], tgs: list[str]) -> list[str]:
            out = pipe([{"text": g, "text_pair": t} for t, g in zip(ts, tgs)], batch_size=64, **kw)
            return [r[0]["label"] for r in out]
        return one, batch
    from stance.models import load
    from stance import predict

    model = load(args.model, inference=args.worker)
    model.cfg = model.cfg.model_copy(update={"eval_batch_size": 64})

    def one(text: str, target: str) -> str:
        return predict(text, model, target).label

    def batch(ts: list[str], tgs: list[str]) -> list[str]:
        return [p.label for p in predict(ts, model, tgs)]
    return one, batch


def time_path(one, batch, texts: list[str], targets: list[str], single_n: int) -> dict:
    batch(texts[:64], targets[:64])  # warm-up: first-call allocations, int8 packing, oneDNN kernels
    for t, g in zip(texts[:5], targets[:5]):
        one(t, g)
    lat = []
    for t, g in zip(texts[:single_n], targets):
        start = time.perf_counter()
        one(t, g)
        lat.append(time.perf_counter() - start)
    start = time.perf_counter()
    labels = batch(texts, targets)
    bulk_s = time.perf_counter() - start
    return {"labels": labels, "bs1_per_s": len(lat) / sum(lat), "p50_ms": percentile_ms(lat, 50),
            "p95_ms": percentile_ms(lat, 95), "bs64_per_s": len(texts) / bulk_s}


def worker(args: argparse.Namespace) -> None:
    """Score each evaluation set with one path; print JSON (labels, timings, this process's peak RSS)."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    one, batch = path_fns(args)
    out = {name: time_path(one, batch, df["text"].tolist(), df["target"].tolist(), args.single_n)
           for name, df in eval_sets(args.test_rows, args.real_rows).items()}
    print(json.dumps({"sets": out, "peak_rss_mb": peak_rss_mb()}))


def child_env() -> dict:
    # Children import this checkout's stance, installed or not.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}


def run_child(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=child_env())
    if proc.returncode != 0:
        sys.exit(f"child failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return proc.stdout


def run_cli_measured(args: list[str], tmp: Path) -> tuple[float, float]:
    """(wall s, peak RSS MB) of `stance ARGS` in a child process."""
    rss_file = tmp / "rss.txt"
    cmd = [sys.executable, "-c", _MEASURED_CLI.format(bench=str(Path(__file__).parent)), str(rss_file), *args]
    start = time.perf_counter()
    run_child(cmd)
    return time.perf_counter() - start, float(rss_file.read_text())


# ---------------------------------------------------------------- training


def train_ours(train, dev, epochs: float, threads: int | None, work: Path):
    from stance.config import load_config
    from stance.models import build

    cfg = load_config(ROOT / "configs" / "transformer.yaml",
                      [f"model.epochs={epochs}", "model.inference=fp32", "eval_sets=[]"]
                      + ([f"model.num_threads={threads}"] if threads else []))
    model = build(cfg.model, cfg.data.labels, cfg.seed)
    start = time.perf_counter()
    model.fit(train, dev, work_dir=work)
    wall = time.perf_counter() - start
    return model, cfg, wall


def train_plain(train, dev, cfg, epochs: float, work: Path) -> float:
    """What the Hugging Face tutorial does: pad every pair to max_length, fp32, default Trainer arguments."""
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments, set_seed
    from transformers.utils import logging as hf_logging

    from stance.models.transformer import resolve_pretrained

    hf_logging.set_verbosity_error()
    labels = list(cfg.data.labels)
    start = time.perf_counter()
    set_seed(cfg.seed)
    source = resolve_pretrained(cfg.model.pretrained)
    tok = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=len(labels))

    def encode(df):
        enc = tok(df["target"].tolist(), df["text"].tolist(), truncation="only_second",
                  max_length=cfg.model.max_length, padding="max_length")
        enc["labels"] = [labels.index(lab) for lab in df["label"]]
        return Dataset.from_dict(dict(enc))

    def compute_metrics(p):
        return {"macro_f1": macro_f1([labels[i] for i in p.label_ids], [labels[i] for i in p.predictions.argmax(-1)])}

    args = TrainingArguments(output_dir=str(work / "plain"), num_train_epochs=epochs,
                             per_device_train_batch_size=cfg.model.batch_size,
                             per_device_eval_batch_size=cfg.model.eval_batch_size,
                             learning_rate=cfg.model.learning_rate, eval_strategy="epoch", save_strategy="no",
                             report_to="none", use_cpu=True, seed=cfg.seed, disable_tqdm=True)
    Trainer(model=model, args=args, train_dataset=encode(train), eval_dataset=encode(dev),
            compute_metrics=compute_metrics).train()
    return time.perf_counter() - start


# ---------------------------------------------------------------- TF-IDF


def tfidf_section(splits, out_dir: Path) -> tuple[dict, Path]:
    from stance.config import load_config
    from stance.models import build
    from stance import predict

    cfg = load_config(ROOT / "configs" / "baseline.yaml", ["eval_sets=[]"])
    model = build(cfg.model, cfg.data.labels, cfg.seed)
    start = time.perf_counter()
    model.fit(splits["train"], splits["dev"])
    fit_s = time.perf_counter() - start
    test = splits["test"]
    texts, targets = test["text"].tolist(), test["target"].tolist()
    for t in texts[:5]:
        predict(t, model)
    lat = []
    for t in texts[:300]:
        start = time.perf_counter()
        predict(t, model)
        lat.append(time.perf_counter() - start)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 2.0:
        preds = predict(texts, model, targets)
        n += len(texts)
    batch_per_s = n / (time.perf_counter() - start)
    path = out_dir / "tfidf-model"
    model.save(path)
    return {"fit_s": fit_s, "n_train": len(splits["train"]), "p50_ms": percentile_ms(lat, 50),
            "p95_ms": percentile_ms(lat, 95), "batch_per_s": batch_per_s,
            "test_macro_f1": macro_f1(test["label"], [p.label for p in preds])}, path


# ---------------------------------------------------------------- streaming


def streaming_section(tfidf_dir: Path, sizes: list[int], tmp: Path) -> list[dict]:
    import pandas as pd

    pool = pd.read_json(CORPUS, lines=True)["text"].tolist()
    rows = []
    for n in sizes:
        src, dst = tmp / f"stream-{n}.jsonl", tmp / f"stream-{n}.out.jsonl"
        with open(src, "w", encoding="utf-8") as f:
            for i in range(n):  # distinct statements: the corpus cycled with a running number
                f.write(json.dumps({"id": i, "text": f"{pool[i % len(pool)]} ({i})"}) + "\n")
        wall, rss = run_cli_measured(["predict", "--model", str(tfidf_dir), "--input", str(src),
                                      "--output", str(dst), "--quiet"], tmp)
        with open(dst, encoding="utf-8") as f:
            written = sum(1 for _ in f)
        assert written == n, f"streaming wrote {written} of {n} predictions"
        rows.append({"statements": n, "input_mb": src.stat().st_size / 1e6, "peak_rss_mb": rss, "wall_s": wall,
                     "statements_per_s": n / wall})
        src.unlink()
        dst.unlink()
    return rows


# ---------------------------------------------------------------- report


def machine() -> dict:
    import onnxruntime
    import torch
    import transformers

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "torch_threads": torch.get_num_threads(), "avx512_bf16": "avx512_bf16" in flags,
            "vnni": "avx512_vnni" in flags or "avx_vnni" in flags, "torch": torch.__version__,
            "transformers": transformers.__version__, "onnxruntime": onnxruntime.__version__,
            "python": platform.python_version(),
            "load_avg_start": os.getloadavg()}


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def training_table(tr: dict) -> list[str]:
    lines = [f"Training ({tr['rows']} statements x {tr['epochs']:g} epoch, with per-epoch dev evaluation on "
             f"{tr['dev_rows']}):", "", "| trainer | examples/s | wall s | ratio |", "|---|---|---|---|"]
    for name, key in (("stance (dynamic padding, length groups, bf16)", "ours"),
                      ("plain Trainer (padding=max_length, fp32)", "plain")):
        lines.append(f"| {name} | {fmt(tr[key]['examples_per_s'])} | {fmt(tr[key]['wall_s'])} | "
                     f"{tr[key]['examples_per_s'] / tr['plain']['examples_per_s']:.2f}x |")
    return lines + [""]


def prediction_tables(pr: dict) -> list[str]:
    lines = []
    for name, s in pr["sets"].items():
        lines += [f"Prediction, {name} ({s['n']:,} statements, macro-F1 on the {s['n_labelled']:,} labelled; batch 1 "
                  f"over the first {pr['n_single']}; fine-tuned MiniLM-L6):", "",
                  "| path | batch 1 /s | p50 ms | p95 ms | batch 64 /s | vs pipeline (batch 64) | peak RSS MB | "
                  "macro-F1 | Δ F1 vs fp32 (points) | labels = fp32 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for path, row in s["paths"].items():
            lines.append(f"| {path} | {fmt(row['bs1_per_s'])} | {fmt(row['p50_ms'], 2)} | {fmt(row['p95_ms'], 2)} | "
                         f"{fmt(row['bs64_per_s'])} | {row['bs64_vs_pipeline']:.2f}x | {fmt(row['peak_rss_mb'], 0)} | "
                         f"{row['macro_f1']:.4f} | {row['delta_f1_points']:+.2f} | {row['agreement_fp32']:.1%} |")
        lines.append("")
    facts = pr["selection_on_dev"]
    lines += ["Chosen at training on the dev split (fastest within 0.5 macro-F1 points of fp32):", "",
              "| path | dev macro-F1 | labels = fp32 | batch statements/s | batch-1 p50 ms |", "|---|---|---|---|---|"]
    for mode in MODES:
        if f"inference_{mode}_dev_macro_f1" in facts:
            lines.append(f"| {mode} | {facts[f'inference_{mode}_dev_macro_f1']:.4f} | "
                         f"{facts[f'inference_{mode}_label_agreement']:.1%} | "
                         f"{fmt(facts[f'inference_{mode}_statements_per_s'])} | "
                         f"{fmt(facts[f'inference_{mode}_batch1_p50_ms'], 2)} |")
    return lines + [""]


def tfidf_tables(tf: dict, st: list[dict] | None) -> list[str]:
    lines = ["TF-IDF + logistic regression (configs/baseline.yaml):", "",
             "| fit s (train split) | p50 ms | p95 ms | batch statements/s | test macro-F1 |", "|---|---|---|---|---|",
             f"| {fmt(tf['fit_s'], 2)} ({tf['n_train']} rows) | {fmt(tf['p50_ms'], 2)} | {fmt(tf['p95_ms'], 2)} | "
             f"{fmt(tf['batch_per_s'], 0)} | {tf['test_macro_f1']:.4f} |", ""]
    if st:
        lines += ["Streaming `stance predict --input X.jsonl --output Y.jsonl` (TF-IDF model, child process):", "",
                  "| statements | input MB | peak RSS MB | wall s | statements/s |", "|---|---|---|---|---|"]
        lines += [f"| {row['statements']:,} | {fmt(row['input_mb'])} | {fmt(row['peak_rss_mb'], 0)} | "
                  f"{fmt(row['wall_s'])} | {fmt(row['statements_per_s'], 0)} |" for row in st] + [""]
    return lines


def tables(r: dict) -> str:
    m = r["machine"]
    lines = [f"Machine: {m['cpu']}, {m['affinity']} cores used (torch threads {m['torch_threads']}), "
             f"torch {m['torch']}, transformers {m['transformers']}, onnxruntime {m['onnxruntime']}; load average at "
             f"start {m['load_avg_start'][0]:.2f}, at end {m['load_avg_end'][0]:.2f}.", ""]
    lines += training_table(r["training"]) if "training" in r else []
    lines += prediction_tables(r["prediction"])
    lines += tfidf_tables(r["tfidf"], r.get("streaming")) if "tfidf" in r else []
    lines += ["Targets:", "", "| target | measured | met |", "|---|---|---|"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'no'} |")
    return "\n".join(lines)


def targets(r: dict) -> list[dict]:
    pr, out = r["prediction"], []
    if "training" in r:
        out.append({"target": "training >= 1.5x plain Trainer examples/s",
                    "measured": f"{r['training']['speedup']:.2f}x", "met": r["training"]["speedup"] >= 1.5})
    for name, s in pr["sets"].items():
        best = s["paths"][pr["default"]]
        out += [{"target": f"batch 64 >= 2x pipeline, {name} (default path)",
                 "measured": f"{best['bs64_vs_pipeline']:.2f}x", "met": best["bs64_vs_pipeline"] >= 2},
                {"target": f"transformer p50 < 10 ms, {name} (default path)", "measured": f"{best['p50_ms']:.2f} ms",
                 "met": best["p50_ms"] < 10},
                {"target": f"default path within 0.5 macro-F1 points of fp32, {name}",
                 "measured": f"{best['delta_f1_points']:+.2f} points", "met": best["delta_f1_points"] >= -0.5}]
    if "tfidf" in r:
        out.append({"target": "TF-IDF p50 < 1 ms", "measured": f"{r['tfidf']['p50_ms']:.2f} ms",
                    "met": r["tfidf"]["p50_ms"] < 1})
    st = r.get("streaming") or []
    if len(st) >= 2:
        ratio = st[-1]["peak_rss_mb"] / st[0]["peak_rss_mb"]
        out.append({"target": f"streaming peak RSS at {st[-1]['statements']:,} within 10% of {st[0]['statements']:,}",
                    "measured": f"{ratio:.3f}x", "met": ratio <= 1.10})
    return out


def training_section(splits, args, tmp: Path, say) -> tuple[dict, object]:
    train = splits["train"].sample(n=min(args.train_rows, len(splits["train"])), random_state=13)
    dev = splits["dev"].head(args.dev_rows)
    say(f"training ours on {len(train)} rows")
    model, cfg, ours_s = train_ours(train, dev, args.epochs, args.threads, tmp / "ours")
    say(f"training plain Trainer on {len(train)} rows")
    plain_s = train_plain(train, dev, cfg, args.epochs, tmp)
    n_ex = len(train) * args.epochs
    return {"rows": len(train), "dev_rows": len(dev), "epochs": args.epochs,
            "ours": {"wall_s": ours_s, "examples_per_s": n_ex / ours_s},
            "plain": {"wall_s": plain_s, "examples_per_s": n_ex / plain_s}, "speedup": plain_s / ours_s}, model


def score_rows(paths: dict, sets: dict) -> dict:
    """Per evaluation set: each path's timings, ratio to the pipeline, macro-F1 on its labelled rows and label
    agreement with fp32."""
    import pandas as pd

    out = {}
    for name, df in sets.items():
        labelled = df["label"].notna().to_numpy()
        ref = paths["fp32"]["sets"][name]["labels"]
        f1_ref = macro_f1(df["label"][labelled], pd.Series(ref)[labelled])
        rows = {}
        for path, res in paths.items():
            row = dict(res["sets"][name])
            labels = row.pop("labels")
            row["macro_f1"] = macro_f1(df["label"][labelled], pd.Series(labels)[labelled])
            row["delta_f1_points"] = 100 * (row["macro_f1"] - f1_ref)
            row["agreement_fp32"] = float((pd.Series(labels) == pd.Series(ref)).mean())
            row["bs64_vs_pipeline"] = row["bs64_per_s"] / paths["pipeline"]["sets"][name]["bs64_per_s"]
            row["peak_rss_mb"] = res["peak_rss_mb"]
            rows[path] = row
        out[name] = {"n": len(df), "n_labelled": int(labelled.sum()), "paths": rows}
    return out


def path_name(path: str, facts: dict) -> str:
    if path == "pipeline":
        return "HF pipeline (fp32)"
    if path == "auto":
        return f"stance default (batch: {facts['inference']}, one statement: {facts['inference_batch1']})"
    return f"stance {path}"


def prediction_section(model, splits, args, tmp: Path, say) -> dict:
    from stance.models import inference_paths

    model_dir = tmp / "model"
    # The training-time choice, as `stance train` makes it: fastest paths within tolerance on dev.
    say("choosing the inference paths on dev")
    facts = inference_paths.select(model, splits["dev"].head(args.select_rows), model.cfg.inference_tolerance)
    model.save(model_dir)
    del model
    paths = {}
    for path in ("pipeline", "auto", *[m for m in MODES if m in args.paths]):
        say(f"prediction path {path}")
        cmd = [sys.executable, __file__, "--worker", path, "--model", str(model_dir), "--single-n", str(args.single_n),
               "--real-rows", str(args.real_rows)] + (["--test-rows", str(args.test_rows)] if args.test_rows else []) \
            + (["--threads", str(args.threads)] if args.threads else [])
        paths[path] = json.loads(run_child(cmd).strip().splitlines()[-1])
    sets = score_rows(paths, eval_sets(args.test_rows, args.real_rows))
    for s in sets.values():
        s["paths"] = {path_name(k, facts): v for k, v in s["paths"].items()}
    return {"n_single": args.single_n, "default": path_name("auto", facts), "selection_on_dev": facts, "sets": sets}


def main(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    result: dict = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "machine": machine()}
    splits = load_splits()
    say = lambda msg: print(f"[speed {time.perf_counter() - t0:5.0f}s] {msg}", file=sys.stderr, flush=True)  # noqa
    with tempfile.TemporaryDirectory(prefix="stance-speed-") as tmp_name:
        tmp = Path(tmp_name)
        model = None
        if "training" not in args.skip:
            result["training"], model = training_section(splits, args, tmp, say)
        if args.model:
            from stance.models import load

            model = load(args.model, inference="fp32")
            say(f"prediction model: {args.model}")
        result["prediction"] = prediction_section(model, splits, args, tmp, say)
        if "tfidf" not in args.skip:
            say("TF-IDF")
            result["tfidf"], tfidf_dir = tfidf_section(splits, tmp)
            if "streaming" not in args.skip:
                say(f"streaming {args.stream_sizes}")
                result["streaming"] = streaming_section(tfidf_dir, args.stream_sizes, tmp)
    result["machine"]["load_avg_end"] = os.getloadavg()
    result["targets"] = targets(result)
    result["wall_s"] = time.perf_counter() - t0
    result["table"] = tables(result)
    print(result["table"])
    print(f"\n(total {result['wall_s']:.0f} s)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="outputs/bench/speed.json", help="JSON report (the table is also printed)")
    p.add_argument("--model", default=None, help="a saved fine-tuned stance model dir to predict with")
    p.add_argument("--train-rows", type=int, default=1536, help="training rows for both trainers")
    p.add_argument("--dev-rows", type=int, default=256, help="dev rows evaluated after each training epoch")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--select-rows", type=int, default=None, help="dev rows for the inference-path choice (all)")
    p.add_argument("--test-rows", type=int, default=None, help="test rows scored per path (all)")
    p.add_argument("--single-n", type=int, default=200, help="statements scored one at a time (latency)")
    p.add_argument("--stream-sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    p.add_argument("--real-rows", type=int, default=1212,
                   help="real statements scored per path: all of realdev plus a seeded sample of the real pool")
    p.add_argument("--paths", nargs="*", default=list(MODES), choices=MODES,
                   help="stance paths timed beside the default and the pipeline (default: all)")
    p.add_argument("--skip", nargs="*", default=[], choices=["training", "tfidf", "streaming"],
                   help="sections to leave out (the prediction section always runs; needs --model without training)")
    p.add_argument("--worker", choices=["pipeline", "auto", *MODES], help=argparse.SUPPRESS)
    return p.parse_args(argv)


if __name__ == "__main__":
    a = parse()
    worker(a) if a.worker else main(a)
