"""`stance measure` and `stance.measure`: each label's share per group (and period), by classify-and-count (biased),
the confusion-adjusted share, and, with hand labels for a random sample of the same statements, prediction-powered
inference beside the labels-only interval. One MLflow run ("measurement") per call.

Statements come scored by a model (`model=`, `data=`: read with the pool reader, scored by prediction.score in
chunks) or already scored (`predictions=`: streamed, only the needed columns). The model's confusion comes from
its dev predictions (the training run's eval/predictions_dev.csv, or `dev=`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..annotation.sampling import check_manifest
from ..config import LABELS
from ..data.labels import read_answers, resolve
from ..data.pool import read_pool
from ..data.readers import DataError, read_records
from ..measurement.collect import Collector, Sample
from ..measurement.plot import shares_png
from ..measurement.shares import Dev
from ..runtime.console import say
from ..runtime.files import atomic_write, format_of, require_file
from ..runtime.spreadsheet import write_frame

EXPERIMENT = "stance-measurement"
RANDOM = {"random", "simple random", "stratified"}  # label-log `selection` values a valid interval can rest on
NO_MANIFEST = "no sample manifest: the interval assumes the labelled statements are a simple random sample"
CHUNK = 1000


@dataclass
class Measurement:
    table: pd.DataFrame          # group, period, label, method, estimate, ci_low, ci_high, n, n_labelled, note
    plot: Path | None = None
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)


def _manifest_for(labels_path: str, answers: pd.DataFrame, sample: str | None) -> tuple[dict | None, str | None]:
    """The sample manifest: the one given, else the one beside the batch every label came from (`origin`)."""
    if sample is None and "origin" in answers and answers["origin"].notna().all() and answers["origin"].nunique() == 1:
        guess = Path(labels_path).parent / f"{Path(str(answers['origin'].iloc[0])).stem}.manifest.json"
        sample = str(guess) if guess.is_file() else None
    if sample is None:
        return None, None
    require_file(sample, "sample manifest", DataError)
    try:
        return json.loads(Path(sample).read_text(encoding="utf-8")), sample
    except json.JSONDecodeError as e:
        raise DataError(f"{sample} line {e.lineno}: not JSON ({e.msg})") from None


def _refuse_active_learning(answers: pd.DataFrame, labels_path: str) -> None:
    if "selection" not in answers:
        return
    chosen = answers[answers["selection"].notna() & ~answers["selection"].astype(str).isin(RANDOM)]
    if len(chosen):
        first = chosen.iloc[0]
        raise DataError(f"{first['where']}, field 'selection': {first['selection']!r}: {len(chosen)} labels in "
                        f"{labels_path} were chosen by active learning, not at random; ppi's interval would be "
                        f"invalid. Label a random sample (`stance annotate sample`) and pass its labels")


def read_sample(labels: str | pd.DataFrame | dict | None, sample: str | None = None,
                label_names: list[str] = list(LABELS)) -> tuple[Sample | None, list[str], dict | None]:
    """(hand labels as a Sample, notes, the manifest) from a label log, a frame (id, label) or {id: label}."""
    if labels is None:
        return None, [], None
    if isinstance(labels, (dict, pd.DataFrame)):
        frame = pd.DataFrame({"id": list(labels), "label": list(labels.values())}) if isinstance(labels, dict) \
            else labels
        lookup = {lab.casefold(): i for i, lab in enumerate(label_names)}
        bad = [f"labels row {i + 1}, field 'label': {v!r} is not one of {', '.join(label_names)}"
               for i, v in enumerate(frame["label"]) if str(v).casefold() not in lookup]
        if bad:
            raise DataError(bad)
        return Sample({str(r): (lookup[str(v).casefold()], f"labels row {i + 1}")
                       for i, (r, v) in enumerate(zip(frame["id"], frame["label"]))}, None, NO_MANIFEST), \
            [NO_MANIFEST], None
    answers = resolve(read_answers(require_file(labels, "labels file", DataError), label_names), str(labels))
    _refuse_active_learning(answers, str(labels))
    manifest, manifest_path = _manifest_for(str(labels), answers, sample)
    notes = [NO_MANIFEST] if manifest is None else []
    if manifest is not None:
        strata = check_manifest(manifest, manifest_path)
        outside = answers[~answers["id"].isin(strata)]
        answers = answers[answers["id"].isin(strata)]
        if len(outside):
            notes.append(f"{len(outside)} labels in {labels} are not in the sample {manifest_path}: not used")
        if len(answers) < len(strata):
            notes.append(f"{len(strata) - len(answers)} of the sample's {len(strata)} statements have no label yet")
    index = {lab: i for i, lab in enumerate(label_names)}
    return Sample({r.id: (index[r.label], r.where) for r in answers.itertuples(index=False)},
                  manifest.get("stratify_by") if manifest else None,
                  "" if manifest else NO_MANIFEST), notes, manifest


# ---------------------------------------------------------------- statements, scored here or already scored

def _statements(data) -> tuple[pd.DataFrame, str]:
    """(id, text, where and every other column, a name for messages) from a file or a frame."""
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        if "text" not in frame:
            raise DataError(f"statements: no 'text' column (columns: {list(frame.columns)})")
        if "id" not in frame:
            frame["id"] = [str(i) for i in range(len(frame))]
        frame["where"] = [f"statements row {i + 1}" for i in range(len(frame))]
        return frame.reset_index(drop=True), "statements"
    if isinstance(data, (list, tuple)):
        return _statements(pd.DataFrame({"text": list(data)}))
    frame = read_pool(data)
    frame["where"] = [w.replace(f"{data}:", f"{data} line ") for w in frame["where"]]
    return frame, str(data)


def _feed_model(collector: Collector, data, model_ref, label_names: list[str]) -> dict:
    from ..prediction.refs import load_model
    from ..prediction.scoring import resolve_targets, score

    model = load_model(model_ref) if isinstance(model_ref, str) else model_ref
    if list(model.labels) != list(label_names):
        raise DataError(f"the model's labels {model.labels} are not {label_names}")
    frame, name = _statements(data)
    target = resolve_targets(model, None, 1)[0]
    refused = []
    for start in range(0, len(frame), CHUNK):
        part = frame.iloc[start:start + CHUNK].reset_index(drop=True)
        preds = score(model, part["text"].tolist(), [target] * len(part))
        refused += [f"{w}, field 'text': {p.error}" for w, p in zip(part["where"], preds) if not p.valid]
        ok = [i for i, p in enumerate(preds) if p.valid]
        proba = np.array([[preds[i].scores[lab] for lab in label_names] for i in ok]).reshape(-1, len(label_names))
        collector.add(part.iloc[ok].reset_index(drop=True), proba, part["where"].iloc[ok].tolist())
    if refused:
        raise DataError(refused[:20] + ([f"... and {len(refused) - 20} more"] if len(refused) > 20 else []))
    return {"data": name, "data_digest": _digest(data, frame), "statements": len(frame)}


def _feed_predictions(collector: Collector, path: str, label_names: list[str]) -> dict:
    from ..measurement.stream import scored_chunks

    columns = [*(["id"] if collector.sample is not None else []), *collector.needed_columns()]
    n = left_out = 0
    for frame, proba, where, failed in scored_chunks(path, label_names, list(dict.fromkeys(columns))):
        collector.add(frame, proba, where)
        n, left_out = n + len(frame), left_out + failed
    notes = [f"{left_out} rows of {path} carry an error and no scores: not measured"] if left_out else []
    return {"data": path, "data_digest": _file_digest(path), "statements": n, "notes": notes}


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _digest(data, frame: pd.DataFrame) -> str:
    if isinstance(data, (str, Path)):
        return _file_digest(str(data))
    return hashlib.sha256("\x1e".join(frame["text"].astype(str)).encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- the model's dev confusion

def _dev_file(model_ref) -> str | None:
    """The training run's dev predictions for a model reference: beside a local model folder (outputs/RUN/eval),
    or the run's eval/predictions_dev.csv in MLflow."""
    if not isinstance(model_ref, str):
        return None
    local = Path(model_ref)
    if local.exists():
        found = [p / "eval" / "predictions_dev.csv" for p in (local, local.parent) if (p / "eval").is_dir()]
        return str(found[0]) if found and found[0].is_file() else None
    from .. import tracking

    try:
        run_id = model_ref.split("/")[1] if model_ref.startswith("runs:/") else tracking.version_source(model_ref)[1]
        return tracking.download_run_file(run_id, "eval/predictions_dev.csv") if run_id else None
    except Exception:  # noqa: BLE001  # no such artifact (a model trained elsewhere): adjusted is left out, said
        return None


def read_dev(path: str | None, label_names: list[str]) -> Dev | None:
    """Dev predictions: a `label` column and each label's probability (p_favor or FAVOR)."""
    if path is None:
        return None
    records = pd.DataFrame(read_records(path))
    cols = [next((c for c in (f"p_{lab.lower()}", lab) if c in records), None) for lab in label_names]
    if "label" not in records or None in cols:
        raise DataError(f"{path}: dev predictions need a 'label' column and one probability column per label "
                        f"(p_favor or FAVOR, ...); columns: {list(records.columns)}")
    index = {lab: i for i, lab in enumerate(label_names)}
    bad = [f"{path} line {r}, field 'label': {v!r} is not one of {', '.join(label_names)}"
           for r, v in zip(records["_line"], records["label"]) if v not in index]
    if bad:
        raise DataError(bad[:20])
    proba = records[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    return Dev(proba, records["label"].map(index).to_numpy())


# ---------------------------------------------------------------- the whole call

def measure(data=None, *, model=None, predictions: str | None = None, by: list[str] | str | None = None,
            time: str | None = None, freq: str = "month", labels=None, sample: str | None = None,
            dev: str | None = None, seed: int = 13, reps: int = 200, out_dir: str | Path | None = None,
            experiment: str = EXPERIMENT, track: bool = True) -> Measurement:
    """Every label's share per group (and period) by cc, adjusted and, with `labels`, ppi and classical."""
    if (predictions is None) == (data is None):
        raise ValueError("give the statements (data, with model=) or a scored file (predictions=), one of them")
    if data is not None and model is None:
        raise ValueError("scoring the statements needs model= (or pass predictions= instead)")
    label_names = list(LABELS)
    by = [c.strip() for c in by.split(",")] if isinstance(by, str) else list(by or [])
    the_sample, notes, manifest = read_sample(labels, sample, label_names)
    collector = Collector(label_names, by, time, freq, the_sample)
    facts = _feed_predictions(collector, predictions, label_names) if predictions is not None else \
        _feed_model(collector, data, model, label_names)
    notes += facts.pop("notes", [])
    dev_data = read_dev(dev or _dev_file(model), label_names)
    if dev_data is None:
        notes.append("no dev predictions for the model (give dev=): no adjusted estimate")
    table = collector.table(dev_data, seed=seed, reps=reps)
    result = Measurement(table, notes=notes)
    for note in notes:
        say(note)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None or track:
        folder = out or _scratch()
        result.plot = shares_png(table, label_names, folder / "shares.png", _title(facts, by, time, freq))
    if track:
        from ..tracking.measurement import log_measurement

        params = {**facts, "model": str(model) if model is not None else "", "by": ",".join(by), "time": time or "",
                  "freq": freq if time else "", "labels": str(labels) if isinstance(labels, (str, Path)) else
                  ("in memory" if labels is not None else ""), "sample": sample or "",
                  "design": manifest["design"] if manifest else ("unknown" if labels is not None else ""),
                  "dev": dev or "", "seed": seed, "bootstrap_reps": reps}
        result.run_id = log_measurement(experiment, params, table, [result.plot], manifest, notes)
    return result


def _scratch() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="stance-measure-"))


def _title(facts: dict, by: list[str], time: str | None, freq: str) -> str:
    over = f" by {', '.join(by)}" if by else ""
    return f"share of each label{over}{f' per {freq}' if time else ''}: {facts['data']} ({facts['statements']:,})"


def write_table(table: pd.DataFrame, path: str) -> None:
    """The table as CSV or Parquet (the suffix says), through atomic_write; an existing file is never replaced."""
    fmt = format_of(path, allowed=("csv", "parquet"))
    if fmt is None:
        raise DataError(f"{path}: --output must be .csv or .parquet")
    with atomic_write(path, overwrite=False) as tmp:
        # CSV through the one spreadsheet rule: group names come from the user's data (CSV injection).
        write_frame(table, tmp) if fmt == "csv" else table.to_parquet(tmp, index=False)


def save_plot(plot: Path, path: str) -> None:
    """A copy of the figure at `path` (a new .png file), through atomic_write."""
    import shutil

    if not str(path).lower().endswith(".png"):
        raise DataError(f"{path}: --plot must be a .png file")
    with atomic_write(path, overwrite=False) as tmp:
        shutil.copyfile(plot, tmp)
