"""One classifier per target behind the StanceModel interface (`model.per_target: true`, any kind).

SemEval-2016's organisers' baseline is a per-target SVM, and it beats one pooled model with the target as
a feature (F_avg 0.686 against 0.656 here, docs/benchmarks.md): targets share little vocabulary, and a pooled model
spends its capacity on contrasts between targets. Training, prediction routing, saving and loading live
here; the wrapped kind never knows. Saved as one folder (one sub-folder per target), so it is logged,
registered and served as one model.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .base import LogFn, StanceModel
from .integrity import read_meta, write_meta

INDEX_FILE = "targets.json"  # target -> sub-folder; sub-folders are numbered, never named by target text


class UnseenTargetError(ValueError):
    """A per-target model was asked about a target it has no classifier for."""


class PerTargetModel(StanceModel):
    """Its `kind` is the wrapped kind's, so everything the registry says about that kind (explanation method,
    prediction paths, pip requirements) holds for it too."""

    per_target = True

    def __init__(self, cfg, labels: list[str], seed: int = 13):
        from . import model_class

        self.cfg, self.labels, self.seed = cfg, list(labels), seed
        self.inner_cfg = cfg.model_copy(update={"per_target": False})
        self.kind = cfg.kind
        self._inner_class = model_class(cfg.kind)
        self.models: dict[str, StanceModel] = {}
        self.targets: list[str] = []

    @property
    def accepts_unseen_targets(self) -> bool:  # type: ignore[override]
        return False

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        info: dict[str, Any] = {}
        self.targets = sorted(train["target"].unique())
        for i, target in enumerate(self.targets):
            rows = train[train["target"] == target]
            labels_seen = sorted(rows["label"].unique())
            if len(labels_seen) < 2:
                raise ValueError(f"per-target training: target {target!r} has only label(s) {labels_seen} in the "
                                 f"training split; a classifier needs at least two")
            model = self._inner_class(self.inner_cfg, self.labels, self.seed)
            # Early stopping and checkpoints see this target's dev rows only (all dev rows if it has none).
            target_dev = dev[dev["target"] == target]
            sub_log = _prefixed(log, f"t{i}.") if log else None
            facts = model.fit(rows, target_dev if len(target_dev) else dev, log=sub_log,
                              work_dir=None if work_dir is None else Path(work_dir) / f"t{i}", resume=resume)
            info.update({f"t{i}.{k}": v for k, v in facts.items()})
            self.models[target] = model
        info["n_targets"] = len(self.targets)
        return info

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        texts, targets = list(texts), list(targets)
        unseen = sorted(set(targets) - set(self.models))
        if unseen:
            raise UnseenTargetError(f"this per-target model has no classifier for target(s) {unseen} "
                                    f"(known targets: {self.targets})")
        out = np.zeros((len(texts), len(self.labels)))
        by_target: dict[str, list[int]] = {}
        for i, t in enumerate(targets):
            by_target.setdefault(t, []).append(i)
        for t, rows in by_target.items():
            out[rows] = self.models[t].predict_proba([texts[i] for i in rows], [t] * len(rows))
        return out

    def for_target(self, target: str) -> StanceModel:
        """The classifier that scores `target` (explanations read its coefficients)."""
        if target not in self.models:
            raise UnseenTargetError(f"no classifier for target {target!r} (known targets: {self.targets})")
        return self.models[target]

    def set_inference(self, mode: str) -> None:
        """A kind with prediction paths (config.KINDS): switch every target's model."""
        for model in self.models.values():
            model.set_inference(mode)  # type: ignore[attr-defined]

    def params(self) -> dict[str, Any]:
        per = [m.params() for m in self.models.values()]
        out: dict[str, Any] = {"n_targets": len(self.models)}
        if any("n_features" in p for p in per):  # TF-IDF: the features of all targets' models together
            out["n_features"] = sum(p.get("n_features", 0) for p in per)
        return out

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        index = {t: f"t{i}" for i, t in enumerate(self.targets)}
        for t, sub in index.items():
            self.models[t].save(path / sub)
        (path / INDEX_FILE).write_text(json.dumps(index, indent=2, ensure_ascii=False), encoding="utf-8")
        write_meta(path, {"kind": self.kind, "per_target": True, "labels": self.labels,
                          "targets": self.targets, "seed": self.seed,
                          "config": self.cfg.model_dump(mode="json")})

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "PerTargetModel":
        from . import load as load_model
        from . import model_config

        path = Path(path)
        meta = read_meta(path)
        model = cls(model_config(meta["config"]), meta["labels"], meta.get("seed", 13))
        index = json.loads((path / INDEX_FILE).read_text(encoding="utf-8"))
        for target in meta["targets"]:
            sub = index.get(target)
            if not isinstance(sub, str) or not sub.startswith("t") or not sub[1:].isdigit():
                raise ValueError(f"{path / INDEX_FILE}: no valid sub-folder for target {target!r}")
            # Each target's folder is a complete saved model: pickle refusal and checksums apply to it too.
            model.models[target] = load_model(path / sub, inference=inference)
        model.targets = list(meta["targets"])
        return model


def _prefixed(log: LogFn, prefix: str) -> LogFn:
    return lambda metrics, step: log({prefix + k: v for k, v in metrics.items()}, step)
