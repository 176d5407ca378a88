"""`stance predict`: label statements from arguments, files or stdin (stance.prediction)."""
from __future__ import annotations

import argparse
import gc
import itertools
import sys

from .options import INFERENCE_PATHS, probability, whole_number


def add(sub) -> None:
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
    keep = r.add_mutually_exclusive_group()
    keep.add_argument("--columns", type=_names, default=None, metavar="NAME,NAME",
                      help="input columns to write beside each prediction (default: all of them, so the output "
                           "joins back on your own id; a name the output uses too becomes input_NAME)")
    keep.add_argument("--no-input-columns", dest="columns", action="store_const", const=[],
                      help="write only the line number, the statement and the prediction")
    r.add_argument("--json", action="store_true",
                   help="JSON lines on a terminal too (they are the default whenever stdout is not a terminal)")
    r.add_argument("--inference", choices=INFERENCE_PATHS, default=None,
                   help="transformer prediction path (default: the one chosen and saved at training time)")
    r.add_argument("--quiet", action="store_true", help="no progress bar (it is shown only when stderr is a terminal)")
    r.add_argument("--on-invalid", choices=["report", "mark"], default="report",
                   help="report: invalid inputs are named on stderr and skipped in the output; mark: they also get "
                        "an output line with an 'error' field, so output lines match input lines. Either way every "
                        "valid input is scored and the exit status is 2 when any input was invalid")
    r.add_argument("--min-confidence", type=probability, default=None,
                   help="mark results whose top score is below this as abstained (label and scores are kept)")
    r.add_argument("--chunk-size", type=whole_number(1), default=1000, help="statements read and scored at a time")
    r.add_argument("texts", nargs="*", help="statements to label")
    r.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..prediction.output import PredictionWriter, TerminalWriter, check_output
    from ..prediction.records import InputRecord, StreamCounts, input_size, iter_input_records, score_stream
    from ..prediction.refs import load_model

    records = [InputRecord(0, t) for t in args.texts]
    if not records and not args.input:
        raise SystemExit("stance predict: give statements as arguments or --input FILE (- for stdin)")
    check_output(args.output, args.input)
    stream = itertools.chain(records, iter_input_records(args.input, columns=args.columns) if args.input else ())
    model = load_model(args.model or _default_model(), args.inference)
    if getattr(args, "whole_process", False):
        # What is loaded now (modules, the model) lives until exit: later collections, the one at exit included,
        # need not scan it again (~0.3 s). Not when main() runs inside a longer process (tests, notebooks).
        gc.freeze()
    expected = input_size(args.input)
    if args.output is None and not args.json and sys.stdout.isatty():
        # A person at a terminal: aligned lines; a pipe, --json or --output: JSON lines / files for programs.
        writer_cm = TerminalWriter(sys.stdout, model.labels, target=args.target)
    else:
        writer_cm = PredictionWriter(args.output, model.labels, args.chunk_size)
    counts = StreamCounts()
    with writer_cm as writer:
        for rec, pred in score_stream(
                stream, model, counts, target=args.target, chunk_size=args.chunk_size,
                min_confidence=args.min_confidence, on_invalid=args.on_invalid,
                report=lambda msg: print(f"stance predict: {msg}", file=sys.stderr),
                progress=not args.quiet and sys.stderr.isatty(),
                expected=None if expected is None else expected + len(records), source=args.input):
            writer.write(rec, pred)
    if counts.invalid:
        print(f"stance predict: {counts.invalid} of {counts.total} inputs were invalid; the other "
              f"{counts.total - counts.invalid} were scored", file=sys.stderr)
        return 2
    return 0


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{value!r}: give column names separated by commas, e.g. id,speaker")
    return names


def _default_model() -> str:
    """The champion (or $STANCE_MODEL), said on stderr with the version it is now, so a user knows who answered."""
    from ..prediction.refs import default_model
    from ..tracking import model_version

    ref = default_model()
    version = model_version(ref)
    print(f"stance predict: model {ref}" + (f" = {version}" if version != ref else ""), file=sys.stderr)
    return ref
