"""Labelled data for a run: read, validate, split, digest.

Output is a StanceData with train/dev/test DataFrames holding the columns
text, label, target and `where` (file:line), plus any extra columns of the file
(genre, speaker_role, ...). Nothing is dropped silently: every removal is counted in `notes`.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import DataConfig, EvalSetConfig, SourceConfig
from .pool import join_labels, read_pool
from ..runtime.files import require_file
from .readers import LINE, DataError, read_hf_dataset, read_records

SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "training": "train", "dev": "dev", "val": "dev", "valid": "dev",
                  "validation": "dev", "test": "test", "testing": "test"}
CORE = ["text", "label", "target", "where"]


class Notes(list):
    """What loading did, in order (printed and logged with the run). `seeded` is set when any split was drawn
    with data.dev_size/test_size, so the run can say whether those numbers were used at all."""

    seeded = False


@dataclass
class StanceData:
    name: str
    source: str
    labels: list[str]
    splits: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    # Where the splits came from when data.dev_size/test_size played no part (e.g. "split column 'split'").
    split_from: str | None = None

    @property
    def train(self) -> pd.DataFrame:
        return self.splits["train"]

    @property
    def dev(self) -> pd.DataFrame:
        return self.splits["dev"]

    @property
    def test(self) -> pd.DataFrame:
        return self.splits["test"]

    @property
    def digest(self) -> str:
        return digest(pd.concat([df.assign(split=s) for s, df in self.splits.items()]))

    def source_tests(self) -> dict[str, pd.DataFrame]:
        """With several sources, each source's own test split (test_<source>), scored beside the whole test."""
        test = self.test
        if "source" not in test or test["source"].nunique() < 2:
            return {}
        return {f"test_{s}": part.reset_index(drop=True) for s, part in test.groupby("source", sort=False)}

    def summary(self) -> dict[str, dict[str, int]]:
        return {s: df["label"].value_counts().reindex(self.labels, fill_value=0).to_dict() for s, df in self.splits.items()}


def digest(df: pd.DataFrame) -> str:
    """Content hash of the labelled rows (independent of file format and row order)."""
    cols = [c for c in ("split", "target", "label", "text") if c in df.columns]
    lines = sorted("\x1f".join(str(v) for v in row) for row in df[cols].itertuples(index=False))
    return hashlib.sha256("\x1e".join(lines).encode("utf-8")).hexdigest()[:16]


def normalize_text(text: str) -> str:
    """Key for duplicate detection: case and whitespace do not make a new statement."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def _canonical_labels(labels: list[str], label_map: dict[str, str]) -> dict[str, str]:
    lookup = {lab.casefold(): lab for lab in labels}
    lookup.update({str(k).strip().casefold(): v for k, v in label_map.items()})
    return lookup


def to_frame(records: list[dict[str, Any]], src: str, *, text_column: str, label_column: str | None,
             target_column: str | None, default_target: str | None, labels: list[str],
             label_map: dict[str, str] | None = None, split_column: str | None = None,
             split_required: bool = False, split_by_file: bool = True) -> pd.DataFrame:
    """Validate raw records into the canonical frame; collect every problem before raising.

    `split_required`: the split column was named in the config, so a file without it is an error.
    `split_by_file`: the file's own split column decides the splits (not so for split files and eval sets)."""
    if not records:
        raise DataError(f"{src}: no rows")
    columns = set().union(*(r.keys() for r in records)) - {LINE}
    if split_by_file:
        _check_split_column(src, columns, split_column, split_required)
    required = [c for c in (text_column, label_column) if c]
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataError(f"{src}: missing column(s) {missing}; found {sorted(columns)} "
                        f"(set data.text_column / data.label_column)")
    use_target = bool(target_column) and target_column in columns
    lookup = _canonical_labels(labels, label_map or {})
    problems: list[str] = []
    rows = []
    for r in records:
        where = f"{src}:{r[LINE]}"
        text = r.get(text_column)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{src} line {r[LINE]}, column '{text_column}': empty or missing text ({text!r})")
            continue
        row = {k: v for k, v in r.items() if k not in (LINE, text_column, label_column, target_column)}
        row.update(text=text.strip(), where=where)
        if label_column:
            raw = r.get(label_column)
            lab = lookup.get(str(raw).strip().casefold()) if raw is not None else None
            if lab is None:
                problems.append(f"{src} line {r[LINE]}, column '{label_column}': label {raw!r} is not one of "
                                f"{', '.join(labels)} (map it with data.label_map)")
                continue
            row["label"] = lab
        target = r.get(target_column) if use_target else None
        if not isinstance(target, str) or not target.strip():
            target = default_target
        if target is None and use_target:
            problems.append(f"{src} line {r[LINE]}, column '{target_column}': empty target and no data.default_target")
            continue
        row["target"] = (target or "").strip()
        if split_column and split_column in r and str(r[split_column]).strip():
            s = _SPLIT_ALIASES.get(str(r[split_column]).strip().lower())
            if s is None:
                problems.append(f"{src} line {r[LINE]}, column '{split_column}': split {r[split_column]!r} is not "
                                f"train, dev or test")
                continue
            row["split"] = s
        rows.append(row)
    if problems:
        raise DataError(problems)
    df = pd.DataFrame(rows)
    front = [c for c in CORE if c in df.columns]
    return df[front + [c for c in df.columns if c not in front]]


def _check_split_column(src: str, columns: set, split_column: str | None, required: bool) -> None:
    """The split column is the file's only say on splits: one that is named must exist, and a column called
    `split` that is not the split column would otherwise decide the splits (and lose rows) unnoticed."""
    if required and split_column and split_column not in columns:
        raise DataError(f"{src}: data.split_column {split_column!r} is not a column of the file (columns: "
                        f"{sorted(columns)}); name an existing column, or set it to null for a seeded split")
    if "split" in columns and split_column != "split":
        raise DataError(f"{src}: the file has a column 'split' but data.split_column is {split_column!r}; set "
                        f"data.split_column: split to use it, or rename the column (it would decide the splits)")


def _dedupe(df: pd.DataFrame, policy: str, notes: list[str]) -> pd.DataFrame:
    """Duplicate texts are an error, or (policy=drop) the later copies go, counted in notes.

    Copies across splits are always resolved in favour of the test split, so no test
    statement is ever seen in training.
    """
    key = df["text"].map(normalize_text)
    order = df["split"].map({"test": 0, "dev": 1, "train": 2}) if "split" in df else pd.Series(0, index=df.index)
    ranked = df.assign(_key=key, _order=order).sort_values(["_order"], kind="stable")
    dup = ranked.duplicated("_key", keep="first")
    if not dup.any():
        return df
    firsts = ranked[~dup].set_index("_key")["where"]
    if policy == "error":
        pairs = [f"{w}: duplicate of {firsts[k]}" for w, k in zip(ranked.loc[dup, "where"], ranked.loc[dup, "_key"])]
        raise DataError([f"{p} (same text; set data.duplicates: drop to keep only the first)" for p in pairs])
    notes.append(f"dropped {int(dup.sum())} duplicate texts (data.duplicates=drop), first kept")
    return df.loc[sorted(ranked.index[~dup])]


def _split(df: pd.DataFrame, cfg: DataConfig, seed: int, notes: list[str], *, where: str | None = None,
           split_column: str | None = None, group_column: str | None = None,
           require_all: bool = True) -> dict[str, pd.DataFrame]:
    where = where or str(cfg.path or cfg.train)
    split_column = split_column or cfg.split_column
    if "split" in df.columns and df["split"].notna().all():
        unknown = sorted(set(df["split"]) - set(SPLITS))
        if unknown:  # never dropped: a row outside train/dev/test would silently vanish
            raise DataError(f"{where}: split values {unknown} are not train, dev or test")
        parts = {s: df[df["split"] == s].drop(columns="split") for s in SPLITS}
        missing = [s for s in SPLITS if parts[s].empty]
        if missing and require_all:
            raise DataError(f"{where}: split column has no rows for {missing}")
        return parts
    if "split" in df.columns:
        n = int(df["split"].isna().sum())
        raise DataError(f"{where}: {n} rows have an empty '{split_column}' while others have one; "
                        f"fill it for every row or remove the column")
    counts = df["label"].value_counts()
    if len(counts) < 2:
        raise DataError(f"{where}: only one label ({counts.index[0]!r}) in the data; "
                        f"a classifier needs at least two")
    if group_column:
        return _group_split(df, cfg, seed, notes, where, group_column)
    _seeded(notes)
    rare = counts[counts < 3]
    if len(rare):
        raise DataError(f"{where}: label(s) {dict(rare)} have fewer than 3 examples: too few for a "
                        f"stratified train/dev/test split; add examples or a split column")
    _check_sizes(len(df), cfg, where)
    held = cfg.dev_size + cfg.test_size
    train, rest = train_test_split(df, test_size=held, stratify=df["label"], random_state=seed)
    try:
        dev, test = train_test_split(rest, test_size=cfg.test_size / held, stratify=rest["label"], random_state=seed)
    except ValueError:
        dev, test = train_test_split(rest, test_size=cfg.test_size / held, random_state=seed)
        notes.append("dev/test split not stratified (a class has too few held-out rows)")
    notes.append(f"{where}: seeded stratified split (seed {seed}): dev {cfg.dev_size:.0%}, test {cfg.test_size:.0%}")
    return {"train": train, "dev": dev, "test": test}


def _check_sizes(n: int, cfg: DataConfig, where: str) -> None:
    """Each drawn split gets at least one row (scikit-learn's rounding), else an error naming the setting."""
    held = math.ceil((cfg.dev_size + cfg.test_size) * n)
    n_test = math.ceil(cfg.test_size / (cfg.dev_size + cfg.test_size) * held)
    sizes = {"data.dev_size": (cfg.dev_size, held - n_test), "data.test_size": (cfg.test_size, n_test),
             "data.dev_size + data.test_size": (cfg.dev_size + cfg.test_size, n - held)}
    for key, (value, rows) in sizes.items():
        if rows < 1:
            what = "the training split" if key.endswith("+ data.test_size") else key.split("_")[0].split(".")[1]
            raise DataError(f"{where}: {key}={value:g} of {n} rows leaves {what} with no rows; "
                            f"choose a share that gives it at least one row")


def _group_split(df: pd.DataFrame, cfg: DataConfig, seed: int, notes: list[str], where: str,
                 column: str) -> dict[str, pd.DataFrame]:
    """Seeded split that keeps every row of one group (speaker, document, account) in one split."""
    from sklearn.model_selection import GroupShuffleSplit

    if column not in df.columns or df[column].isna().any():
        raise DataError(f"{where}: group_column {column!r} is missing or empty for some rows")
    groups = df[column].astype(str)
    if groups.nunique() < 3:
        raise DataError(f"{where}: group_column {column!r} has {groups.nunique()} groups; a grouped "
                        f"train/dev/test split needs at least 3")
    _seeded(notes)
    held = cfg.dev_size + cfg.test_size
    tr, rest = next(GroupShuffleSplit(1, test_size=held, random_state=seed).split(df, groups=groups))
    rest_df = df.iloc[rest]
    dv, te = next(GroupShuffleSplit(1, test_size=cfg.test_size / held, random_state=seed)
                  .split(rest_df, groups=groups.iloc[rest]))
    notes.append(f"{where}: seeded split grouped by {column!r} (seed {seed}): dev {cfg.dev_size:.0%}, "
                 f"test {cfg.test_size:.0%} of groups")
    return {"train": df.iloc[tr], "dev": rest_df.iloc[dv], "test": rest_df.iloc[te]}


def _seeded(notes: list[str]) -> None:
    if isinstance(notes, Notes):
        notes.seeded = True


def _split_origin(cfg: DataConfig) -> str:
    """Where the splits come from when no seeded split was drawn."""
    if cfg.path:
        return f"split column '{cfg.split_column}' of {cfg.path}"
    if cfg.train:
        return "split files data.train/dev/test"
    if cfg.hf_dataset:
        return f"splits of {cfg.hf_dataset}"
    return "split columns of data.sources"


def _paths(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _carve(df: pd.DataFrame, missing: list[str], cfg: DataConfig, seed: int, notes: list[str]) -> pd.DataFrame:
    """Separate files without a dev (or test) file: take the missing split(s) out of train, seeded and stratified."""
    train = df[df["split"] == "train"].drop(columns="split")
    if missing == ["dev", "test"]:
        parts = _split(train, cfg, seed, notes)
    else:
        _seeded(notes)
        share = cfg.dev_size if missing == ["dev"] else cfg.test_size
        rest, held = train_test_split(train, test_size=share, stratify=train["label"], random_state=seed)
        parts = {"train": rest, missing[0]: held}
        notes.append(f"{missing[0]} split ({share:.0%}) taken from the training file, stratified, seed {seed}")
    kept = df[df["split"] != "train"]
    return pd.concat([kept, *(part.assign(split=s) for s, part in parts.items())], ignore_index=True)


def _frame_kwargs(cfg: DataConfig | EvalSetConfig | SourceConfig, labels: list[str]) -> dict[str, Any]:
    return dict(text_column=cfg.text_column, label_column=cfg.label_column, target_column=cfg.target_column,
                default_target=cfg.default_target, labels=labels,
                label_map=getattr(cfg, "label_map", {}), split_column=getattr(cfg, "split_column", None),
                split_required="split_column" in cfg.model_fields_set)


def _load_source(src: SourceConfig, cfg: DataConfig, seed: int, notes: list[str]) -> pd.DataFrame | None:
    """One source of a multi-source config: rows with split, source and weight; None when optional and absent."""
    absent = [f for f in src.files() if not Path(f).exists()]
    if absent:
        if src.optional:
            notes.append(f"source {src.name!r} skipped: file not found: {', '.join(absent)} (optional)")
            return None
        raise DataError(f"source {src.name!r}: file not found: {', '.join(absent)}")
    kw = dict(_frame_kwargs(src, cfg.labels), label_map=src.label_map, split_column=src.split_column)
    if src.labels:  # the label log's fields join the pool's: only a named split column must be there
        kw["split_required"] = False
    if src.path:
        records = read_records(src.path, src.format, src.encoding)
        where = src.path
    else:
        assert src.labels and src.pool
        pool = read_pool(src.pool, id_column=src.id_column, text_column=src.text_column, fmt=src.format,
                         encoding=src.encoding)
        joined = join_labels(pool, src.labels, cfg.labels)
        # Back to records so the one validation path (to_frame) checks them; `where` names the label line.
        records = [{**r, LINE: r.pop("where").rsplit(" line ", 1)[-1]} for r in joined.to_dict("records")]
        kw.update(text_column="text", label_column="label")
        where = src.labels
    df = to_frame(records, where, **kw)
    if src.train_only:
        parts = {"train": df.drop(columns="split", errors="ignore")}
    else:
        parts = _split(df, cfg, seed, notes, where=where, split_column=src.split_column,
                       group_column=src.group_column, require_all=False)
    out = pd.concat([p.assign(split=s) for s, p in parts.items()], ignore_index=True)
    # A file's own `source` (e.g. the pool's presidency_project / congress_tweets) is kept as `origin`;
    # an annotator's `confidence` as `label_confidence` (predictions add the model's confidence).
    out = out.rename(columns={"source": "origin", "confidence": "label_confidence"})
    return out.assign(source=src.name, weight=src.weight)


def _load_sources(cfg: DataConfig, seed: int, notes: list[str]) -> tuple[pd.DataFrame, str]:
    assert cfg.sources
    frames = {s.name: _load_source(s, cfg, seed, notes) for s in cfg.sources}
    used = {n: f for n, f in frames.items() if f is not None}
    if not used:
        raise DataError("data.sources: every source is absent: " + "; ".join(notes))
    notes.insert(0, "sources used: " + ", ".join(f"{n} ({len(f)} rows, weight {f['weight'].iloc[0]:g})"
                                                 for n, f in used.items()))
    for s in cfg.sources:
        if s.name in used and s.max_train_rows:
            used[s.name] = _cap_train(used[s.name], s.max_train_rows, seed, f"source {s.name!r}", notes)
    df = pd.concat(list(used.values()), ignore_index=True)
    missing = [s for s in SPLITS if s not in set(df["split"])]
    if missing:
        raise DataError(f"data.sources ({', '.join(used)}): no rows for the {missing} split(s)")
    return df, " + ".join(next(s.files() for s in cfg.sources if s.name == n)[0] for n in used)


def _cap_train(df: pd.DataFrame, cap: int, seed: int, what: str, notes: list[str]) -> pd.DataFrame:
    """Keep a seeded sample of `cap` training rows; the other splits stay whole."""
    train = df["split"] == "train"
    if train.sum() <= cap:
        return df
    notes.append(f"{what}: train capped at {cap} of {train.sum()} rows (max_train_rows)")
    return pd.concat([df[train].sample(n=cap, random_state=seed), df[~train]]).sort_index()


def load_data(cfg: DataConfig, seed: int) -> StanceData:
    """Read, validate, deduplicate and split the configured data."""
    notes = Notes()
    kw = _frame_kwargs(cfg, cfg.labels)
    if cfg.sources:
        df, source = _load_sources(cfg, seed, notes)
    elif cfg.path:
        df = to_frame(read_records(cfg.path, cfg.format, cfg.encoding), cfg.path, **kw)
        source = cfg.path
    elif cfg.train:
        frames = []
        for s in SPLITS:
            for path in _paths(getattr(cfg, s)):
                frames.append(to_frame(read_records(path, cfg.format, cfg.encoding), path, **kw,
                                       split_by_file=False).assign(split=s))
        df = pd.concat(frames, ignore_index=True)
        source = ", ".join(p for s in SPLITS for p in _paths(getattr(cfg, s)))
    else:
        assert cfg.hf_dataset
        raw = read_hf_dataset(cfg.hf_dataset)
        frames = [to_frame(recs, f"{cfg.hf_dataset}[{s}]", **kw, split_by_file=False).assign(split=_SPLIT_ALIASES.get(s, s))
                  for s, recs in raw.items()]
        df = pd.concat(frames, ignore_index=True)
        source = f"hf://{cfg.hf_dataset}"
    if not cfg.path and not cfg.sources:
        missing = [s for s in SPLITS if s not in set(df["split"])]
        if "train" in missing:
            raise DataError(f"{source}: no training split")
        if missing:
            df = _carve(df, missing, cfg, seed, notes)
    df = df.reset_index(drop=True)
    df = _dedupe(df, cfg.duplicates, notes)
    if cfg.exclude:
        _check_excluded(df, cfg.exclude)
    splits = _split(df, cfg, seed, notes)
    if splits["train"]["label"].nunique() < 2:
        raise DataError(f"{source}: the training split has a single label "
                        f"({splits['train']['label'].iloc[0]!r}); a classifier needs at least two")
    if cfg.max_train_rows and len(splits["train"]) > cfg.max_train_rows:
        notes.append(f"train capped at {cfg.max_train_rows} of {len(splits['train'])} rows (data.max_train_rows)")
        splits["train"] = splits["train"].sample(n=cfg.max_train_rows, random_state=seed)
    splits = {s: part.reset_index(drop=True) for s, part in splits.items()}
    return StanceData(cfg.name, source, list(cfg.labels), splits, notes,
                      split_from=None if notes.seeded else _split_origin(cfg))


def _check_excluded(df: pd.DataFrame, path: str) -> None:
    held = {normalize_text(r["text"]): r[LINE] for r in read_records(path) if isinstance(r.get("text"), str)}
    hits = [f"{w}: also in {path} line {held[k]} (case-study statements must stay out of every split)"
            for w, k in zip(df["where"], df["text"].map(normalize_text)) if k in held]
    if hits:
        raise DataError(hits)


def load_eval_set(cfg: EvalSetConfig, labels: list[str]) -> pd.DataFrame | None:
    """An extra evaluation set, or None (with the reason returned by the caller) when optional and absent."""
    if cfg.optional and not Path(cfg.path).exists():
        return None  # a folder or device where the file should be is an error even for an optional set
    require_file(cfg.path, f"evaluation set {cfg.name!r}: file", DataError)
    df = to_frame(read_records(cfg.path, cfg.format, cfg.encoding), cfg.path, **_frame_kwargs(cfg, labels),
                  split_by_file=False)
    return df.reset_index(drop=True)
