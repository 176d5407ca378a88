"""config -> data -> fit -> evaluate -> track. Returns where the run and model are, and the metrics."""
from __future__ import annotations

import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import models, tracking
from ..config import Config, load_config
from ..data import load_data, load_eval_set
from ..evaluation.features import top_features_table
from ..evaluation.scoring import Evaluation, evaluate_probabilities
from ..evaluation.summary import headline_metrics
from ..models.calibrated import calibrate, raw_and_calibrated, with_calibration_of
from ..models.integrity import read_meta
from ..models.per_target import UnseenTargetError
from ..prediction.pyfunc import ARTIFACT, CODE_DIR, ENTRY_FILE, score_frame
from ..prediction.refs import local_dir
from ..runtime import distributed, interrupt, locks
from ..runtime.console import say

if TYPE_CHECKING:
    import pandas as pd

    from ..data import StanceData
    from ..models.base import StanceModel


@dataclass
class TrainResult:
    run_id: str
    experiment_id: str
    tracking_uri: str
    model_uri: str | None
    registered: str | None
    metrics: dict[str, float]
    model_dir: Path
    data_notes: tuple[str, ...] = ()  # what loading the data did: sources used or skipped, splits, drops
    not_registered: str | None = None  # why tracking.register_if kept the model out of the registry

    @property
    def model_ref(self) -> str:
        """The best reference to the trained model: its registered version, else its logged model, else the folder."""
        return self.registered or self.model_uri or str(self.model_dir)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def train(cfg: Config, parent_run_id: str | None = None, resume_run_id: str | None = None) -> TrainResult:
    """Train and track one config. `resume_run_id`: continue that unfinished run (same MLflow run,
    latest checkpoint) after Ctrl-C/SIGTERM or a crash."""
    with contextlib.ExitStack() as locks:  # the run's folder lock, held until the run has ended
        return _train(cfg, parent_run_id, resume_run_id, locks)


def _lock_run(cfg: Config, run_id: str) -> contextlib.AbstractContextManager:
    """Only rank 0 locks: under torchrun/accelerate the other ranks share its run and folder."""
    if not distributed.is_main_process():
        return contextlib.nullcontext()
    return locks.hold(Path(cfg.output_dir) / run_id, run_id)


def _train(cfg: Config, parent_run_id: str | None, resume_run_id: str | None,
           locks: contextlib.ExitStack) -> TrainResult:
    seed_everything(cfg.seed)
    if resume_run_id:
        tracking.check_resumable(resume_run_id, cfg)
        # Before the run is reopened: a refused resume must leave the run another process trains untouched.
        locks.enter_context(_lock_run(cfg, resume_run_id))
    data, eval_sets, used = _read_inputs(cfg)
    model = models.build(cfg.model, data.labels, cfg.seed)
    suite = _read_suite(cfg)
    if refs := cfg.model.member_refs():  # an ensemble: its members trained or found before its run exists
        model.use_members(*_resolve_members(refs, cfg, parent_run_id))  # type: ignore[attr-defined]

    # model_name tells apart configs of one kind (pooled vs per-target, MiniLM vs mpnet) in comparisons.
    tags = {"model_kind": cfg.model.kind, "model_name": cfg.registered_model_name.removeprefix("stance-"),
            **_origin_tags(cfg), **cfg.tracking.tags}
    with interrupt.handle_signals(), tracking.run(cfg.tracking.experiment, uri=cfg.tracking.uri, tags=tags,
                                                  run_name=_run_name(cfg, data), parent_run_id=parent_run_id,
                                                  run_id=resume_run_id) as active:
        run_id = active.info.run_id
        if not resume_run_id:
            locks.enter_context(_lock_run(cfg, run_id))
        tracking.log_config(cfg, used)
        tracking.log_dataset(data)
        out = Path(cfg.output_dir) / run_id
        model, info, metrics = _fit(cfg, model, data, out, run_id, resume_run_id is not None)
        if not distributed.is_main_process():
            # Under torchrun/accelerate the other ranks only join training; rank 0 evaluates, saves, logs.
            return TrainResult(run_id, active.info.experiment_id, tracking.current_uri(), None,
                               None, metrics, out / "model")
        tracking.log_params({f"fit.{k}": v for k, v in {**info, **model.params()}.items()})
        if (top := _top_features(model)) is not None:
            tracking.log_tables({"top_features": top}, "explain")  # the baseline's strongest n-grams per label
        metrics.update(_evaluate_all(model, data, eval_sets, out / "eval", cfg.model.refit_on_dev))
        metrics.update(_behaviour(cfg, model, suite))
        model_dir = out / "model"
        metrics = _save_and_log_metrics(cfg, data, model, model_dir, metrics, active.info.experiment_id)
        model_uri, registered, refused = _log_model(cfg, data, model, model_dir, metrics, run_id)
    return TrainResult(run_id, active.info.experiment_id, tracking.current_uri(), model_uri,
                       registered, metrics, model_dir, tuple(data.notes), refused)


def _run_name(cfg: Config, data: StanceData) -> str:
    """A name that tells this run from the demo's (MLflow's random names repeat here: `random` is seeded)."""
    return cfg.tracking.run_name or tracking.run_name(cfg.model.kind, cfg.path, data.name, cfg.seed,
                                                      tracking.masked_overrides(cfg.overrides))


def _origin_tags(cfg: Config) -> dict[str, str]:
    """The config file and every --set in full (the run name shortens them), on the run and its registered version."""
    return {"stance.config": cfg.path or "(dict)",
            "stance.overrides": "; ".join(tracking.masked_overrides(cfg.overrides)) or "(none)"}


def _resolve_members(refs: list[str], cfg: Config, parent_run_id: str | None) -> tuple[list[Path], list[str]]:
    """Each member's saved folder and a name for it: config files are trained first (each its own run; inside an
    experiment, a child of its parent run like the ensemble's), other references are resolved (MLflow URIs
    downloaded) to their folders."""
    dirs: list[Path] = []
    for ref in refs:
        if ref.endswith((".yaml", ".yml")):
            say(f"training ensemble member {ref}")
            # The ensemble's seed, output folder, store and experiment hold for its members: an experiment's seeds
            # 13, 14 and 15 retrain each member with that seed, not three times the member file's own.
            inherited = {"seed": cfg.seed, "output_dir": cfg.output_dir, "tracking.experiment": cfg.tracking.experiment}
            if cfg.tracking.uri:
                inherited["tracking.uri"] = cfg.tracking.uri
            # JSON values: a folder or experiment named "123" or "yes" stays text
            member_cfg = load_config(ref, [f"{key}={json.dumps(value)}" for key, value in inherited.items()])
            dirs.append(train(member_cfg, parent_run_id=parent_run_id).model_dir)
        else:
            dirs.append(local_dir(ref))
    kinds = [str(read_meta(d)["kind"]) for d in dirs]
    names = [k if kinds.count(k) == 1 else f"{k}{kinds[:i + 1].count(k)}" for i, k in enumerate(kinds)]
    say("ensemble members: " + ", ".join(f"{n} ({r})" for n, r in zip(names, refs)))
    return dirs, names


def _read_inputs(cfg: Config) -> tuple[StanceData, dict[str, pd.DataFrame | None], dict[str, str]]:
    """All input read and validated before any MLflow run exists: the data, the extra evaluation sets, and the
    split params to log."""
    data = load_data(cfg.data, cfg.seed)
    cfg.model.check_training_rows(data.train["target"].value_counts().to_dict())
    eval_sets = {e.name: load_eval_set(e, cfg.data.labels) for e in cfg.eval_sets}
    say(f"data {data.name}: " + ", ".join(f"{s} {len(df)}" for s, df in data.splits.items())
        + f" (digest {data.digest})")
    for note in data.notes:
        say(f"note: {note}")
    return data, eval_sets, _split_params(cfg, data.split_from)


def _fit(cfg: Config, model: StanceModel, data: StanceData, out: Path, run_id: str,
         resume: bool) -> tuple[StanceModel, dict, dict[str, float]]:
    """Fit (timed) and calibrate on dev: (the calibrated model, the fit's facts, the training speed metrics)."""
    say(f"{'resuming' if resume else 'training'} {cfg.model.kind} on {len(data.train)} statements (run {run_id})")
    start = time.perf_counter()
    try:
        info = model.fit(data.train, data.dev, log=tracking.log_metrics, work_dir=out, resume=resume)
    except interrupt.Interrupted as e:
        e.run_id = run_id  # type: ignore[attr-defined]  # for the CLI's resume hint
        raise
    train_time, seen = time.perf_counter() - start, len(data.train)
    model = calibrate(model, data.dev, cfg.model.calibration)  # fitted on dev, saved with the model
    if cfg.model.refit_on_dev:
        start = time.perf_counter()
        model = _refit_on_dev(cfg, model, data, out)
        train_time, seen = train_time + time.perf_counter() - start, seen + len(data.train) + len(data.dev)
    return model, info, {"train_time_s": train_time, "train_examples_per_s": seen / max(train_time, 1e-9)}


def _refit_on_dev(cfg: Config, calibrated: StanceModel, data: StanceData, out: Path) -> StanceModel:
    """model.refit_on_dev: the same settings and seed fitted on train + dev, behind the calibrator fitted above."""
    import pandas as pd

    both = pd.concat([data.train, data.dev], ignore_index=True)
    say(f"refitting {cfg.model.kind} on train + dev ({len(both)} statements; model.refit_on_dev)")
    seed_everything(cfg.seed)
    refit = models.build(cfg.model, data.labels, cfg.seed)
    refit.fit(both, data.dev, work_dir=out / "refit")
    return with_calibration_of(refit, calibrated)


def _evaluate_all(model: StanceModel, data: StanceData, eval_sets: dict[str, pd.DataFrame | None],
                  out: Path, refit_on_dev: bool = False) -> dict[str, float]:
    """dev, test, each source's test split and every extra evaluation set: scored, files logged, metrics returned."""
    metrics: dict[str, float] = {}
    for name, df in [("dev", data.dev), ("test", data.test), *data.source_tests().items(), *eval_sets.items()]:
        if name == "dev" and refit_on_dev:
            say("not scoring the dev split: the model trained on it (model.refit_on_dev)")
            continue
        if df is None:
            say(f"skipping evaluation set {name!r}: file not found (optional)")
            continue
        try:
            ev = evaluate_model(model, df, name, out)
        except UnseenTargetError as e:  # a per-target model has no classifier for this set's target
            say(f"skipping evaluation set {name!r}: {e}")
            continue
        metrics.update(ev.report.prefixed(name))
        tracking.log_evaluation(ev)
        if name == "dev":
            check_not_collapsed(ev.predictions["label"].tolist(), ev.predictions["predicted"].tolist(), model.labels)
    return metrics


class CollapsedModelError(RuntimeError):
    """Training produced a model that answers (almost) one label: it is not saved, logged or registered."""


MAX_ONE_LABEL_SHARE = 0.9


def check_not_collapsed(gold: list[str], predicted: list[str], labels: list[str]) -> None:
    """Refuse a model whose dev answers collapsed: one label for more than 90% of dev, or a dev macro-F1 below
    what always answering the majority label scores."""
    from ..evaluation.metrics import macro_f1

    if not predicted:
        return
    top = max(set(predicted), key=predicted.count)
    share = predicted.count(top) / len(predicted)
    majority = max(set(gold), key=gold.count)
    score, baseline = macro_f1(gold, predicted, labels), macro_f1(gold, [majority] * len(gold), labels)
    if share > MAX_ONE_LABEL_SHARE or score < baseline:
        raise CollapsedModelError(
            f"training collapsed: the model answers {top} for {share:.0%} of dev and its dev macro-F1 is {score:.3f} "
            f"(always answering the majority label {majority} scores {baseline:.3f}); it is not registered. Try a "
            f"lower model.learning_rate, fewer epochs or another seed")


def evaluate_model(model: StanceModel, df: pd.DataFrame, name: str, out: Path) -> Evaluation:
    """The model scored on a labelled frame (one pass: raw and calibrated probabilities), files written to `out`."""
    raw, proba = raw_and_calibrated(model, df["text"].tolist(), df["target"].tolist())
    return evaluate_probabilities(df, raw, proba, model.labels, name, out, model.kind)


def _top_features(model: StanceModel, k: int = 25) -> pd.DataFrame | None:
    """A linear model's strongest features per label (None for kinds without them)."""
    top = getattr(model, "top_features", None)
    return None if top is None else top_features_table(top(k))


def _read_suite(cfg: Config) -> list[dict] | None:
    """The behavioural suite (config `behaviour`), read and checked before any run exists; None when there is none
    (or when the file is absent and `behaviour.optional`, with a note)."""
    if cfg.behaviour is None:
        return None
    from ..evaluation.behaviour import load_suite

    if cfg.behaviour.optional and not Path(cfg.behaviour.path).is_file():
        say(f"note: behavioural suite {cfg.behaviour.path} not found: not scored (behaviour.optional)")
        return None
    return load_suite(cfg.behaviour.path)


def _behaviour(cfg: Config, model: StanceModel, suite: list[dict] | None) -> dict[str, float]:
    """The behavioural suite's pass rates overall and per capability (metrics), and each item's answer (a table)."""
    if cfg.behaviour is None or suite is None:
        return {}
    import pandas as pd

    from ..evaluation.behaviour import format_table, pass_rates

    predicted = model.predict([s["text"] for s in suite], [cfg.behaviour.target] * len(suite))
    rates = pass_rates(suite, predicted)
    tracking.log_text(format_table({cfg.model.kind: rates}), "behaviour/pass_rates.md")
    tracking.log_tables({"items": pd.DataFrame([{**s, "predicted": p, "passed": p == s["label"]}
                                                for s, p in zip(suite, predicted)])}, "behaviour")
    say(f"behavioural suite: {rates['overall']['passed']}/{rates['overall']['n']} passed "
        f"({rates['overall']['rate']:.3f})")
    return {"behaviour_pass_rate": rates["overall"]["rate"],
            **{f"behaviour_{c}_pass_rate": r["rate"] for c, r in rates["capabilities"].items()}}


def _save_and_log_metrics(cfg: Config, data: StanceData, model: StanceModel, model_dir: Path,
                          metrics: dict[str, float], experiment_id: str) -> dict[str, float]:
    """Save the model, then log every metric (headline first), the run's Description and the runs table's view."""
    model.save(model_dir)
    metrics["model_size_mb"] = _dir_size_mb(model_dir)
    # Headline metrics first: MLflow's compare page plots the first metric the runs share.
    headline = headline_metrics(metrics)
    metrics = {**{k: metrics[k] for k in headline}, **metrics}
    tracking.log_metrics(metrics)
    tracking.set_description(tracking.describe_run(
        cfg.model.kind, data.name, cfg.seed, metrics, source=data.source,
        split_sizes={s: len(df) for s, df in data.splits.items()}, notes=data.notes,
        eval_sets={e.name: e.path for e in cfg.eval_sets}, config=cfg.path or "(dict)",
        overrides=tracking.masked_overrides(cfg.overrides)))
    tracking.show_first(experiment_id, headline)
    return metrics


def _log_model(cfg: Config, data: StanceData, model: StanceModel, model_dir: Path, metrics: dict[str, float],
               run_id: str) -> tuple[str | None, str | None, str | None]:
    """(logged model URI, registered version, why it was not registered), as far as tracking.log_model goes."""
    if not cfg.tracking.log_model:
        return None, None, None
    refused = _registration_refused(cfg, metrics, run_id)
    example = data.test[["text", "target"]].head(3).reset_index(drop=True)
    info = tracking.log_model(model_dir, cfg.model.kind, None if refused else cfg.registered_model_name,
                              example, score_frame(model, example), entry=ENTRY_FILE, artifact=ARTIFACT,
                              code_dir=CODE_DIR)
    registered = None
    if info.registered_model_version is not None:
        registered = f"models:/{cfg.registered_model_name}/{info.registered_model_version}"
        tracking.describe_version(registered, tracking.version_description(
            run_id, _run_name(cfg, data), cfg.path or "(dict)", tracking.masked_overrides(cfg.overrides),
            data.digest, metrics), {**_origin_tags(cfg), "stance.run_id": run_id, "dataset_digest": data.digest,
                                    "model_kind": cfg.model.kind})
    return info.model_uri, registered, refused


def _split_params(cfg: Config, split_from: str | None) -> dict[str, str]:
    """data.dev_size/test_size are logged as what decided the splits; setting them where they play no part
    (a file with a split column) is warned about, not silently ignored."""
    if split_from is None:
        return {}
    ignored = [f"data.{k}={getattr(cfg.data, k)}" for k in ("dev_size", "test_size") if k in cfg.data.model_fields_set]
    if ignored:
        say(f"warning: {' and '.join(ignored)} ignored: the splits come from the {split_from}")
    return {"data.dev_size": f"from the {split_from}", "data.test_size": f"from the {split_from}"}


def _registration_refused(cfg: Config, metrics: dict[str, float], run_id: str) -> str | None:
    """tracking.register_if: the reason the model stays unregistered (tagged on the run and printed), or None."""
    rule = cfg.tracking.register_if
    if rule is None:
        return None
    latest = tracking.latest_version_metric(cfg.registered_model_name, rule.metric) if rule.max_drop is not None \
        else None
    why = tracking.refusal(rule, metrics, latest)
    if why:
        tracking.set_tag("registration", f"skipped: {why}")
        say(f"not registering {cfg.registered_model_name}: {why} (tracking.register_if); the model stays in "
            f"run {run_id}")
    return why
