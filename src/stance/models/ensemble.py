"""A model made of trained models of any kind: weighted probability averaging, or stacking.

The members are trained in their own runs (their own configs, data caps and weights) and copied byte for byte into
the ensemble's folder, so the ensemble is one model folder, one MLflow model, checksummed like every other.

Both combiners are fitted on the dev split, which no member trained on: the members' dev probabilities are
held-out predictions, so fitting on them is blending (holdout stacking). Cross-fitting on train would refit every
member k times (k x ~3 min for the transformer on 2 CPU cores) for the same guarantee; we chose the holdout.
Nothing here ever sees a test split or an evaluation set.
"""
from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .base import LogFn, StanceModel
from .integrity import read_meta, write_meta

if TYPE_CHECKING:
    import pandas as pd

    from ..config import EnsembleConfig

ENSEMBLE_FILE = "ensemble.json"
MEMBERS_DIR = "members"
_EPS = 1e-6  # floor for log-probabilities fed to the stacker


class EnsembleModel(StanceModel):
    kind = "ensemble"

    def __init__(self, cfg: EnsembleConfig, labels: list[str], seed: int = 13):
        self.cfg, self.labels, self.seed = cfg, list(labels), seed
        self.members: list[StanceModel] = []
        self.member_dirs: list[Path] = []  # where each member's saved folder is (copied on save)
        self.member_names: list[str] = []
        self.weights: np.ndarray | None = None
        self.stacker: dict[str, list] | None = None  # {"coef": (labels, features), "intercept": (labels,)}
        self.targets: list[str] = []
        self.fit_facts: dict[str, Any] = {}

    @property
    def accepts_unseen_targets(self) -> bool:  # type: ignore[override]
        return all(m.accepts_unseen_targets for m in self.members)

    # ------------------------------------------------------------ members

    def use_members(self, dirs: Sequence[Path], names: Sequence[str]) -> None:
        """The trained members, as saved folders (resolved by the caller from paths or MLflow references)."""
        from . import load

        self.member_dirs, self.member_names = [Path(d) for d in dirs], list(names)
        self.members = [load(d) for d in self.member_dirs]
        for name, m in zip(self.member_names, self.members):
            if list(m.labels) != self.labels:
                raise ValueError(f"ensemble member {name} predicts {m.labels}; the ensemble's data has "
                                 f"{self.labels}: members must share the label set and its order")
        self.targets = sorted({t for m in self.members for t in m.targets})

    def member_proba(self, texts: Sequence[str], targets: Sequence[str]) -> list[np.ndarray]:
        return [m.predict_proba(texts, targets) for m in self.members]

    # ------------------------------------------------------------ fit

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        if not self.members:
            raise ValueError("an ensemble needs its members before fit(): use_members() (stance.train does it)")
        if len(dev) < 2:
            raise ValueError(f"an ensemble is fitted on the dev split, which has {len(dev)} statement(s)")
        probas = self.member_proba(dev["text"].tolist(), dev["target"].tolist())
        y = np.array([self.labels.index(lab) for lab in dev["label"]])
        if self.cfg.combiner == "stacking":
            self._fit_stacker(probas, y)
        else:
            self._fit_weights(probas, y)
        from ..evaluation.metrics import macro_f1

        self.fit_facts = {f"dev_macro_f1_{n}": round(macro_f1(y, p.argmax(1), range(len(self.labels))), 4)
                          for n, p in zip(self.member_names, probas)}
        self.fit_facts["dev_macro_f1_combined"] = round(
            macro_f1(y, self._combine(probas).argmax(1), range(len(self.labels))), 4)
        return {**self.fit_facts, **self._weight_facts()}

    def _fit_weights(self, probas: list[np.ndarray], y: np.ndarray) -> None:
        """Given weights, or the grid point of the simplex with the best dev macro-F1 (ties: the most even)."""
        if self.cfg.weights is not None:
            w = np.asarray(self.cfg.weights, dtype=float)
            self.weights = w / w.sum()
            return
        from ..evaluation.metrics import macro_f1

        steps = round(1 / self.cfg.weight_step)
        k, best, best_key = len(probas), None, None
        for combo in itertools.product(range(steps + 1), repeat=k - 1):
            if sum(combo) > steps:
                continue
            w = np.array([*combo, steps - sum(combo)], dtype=float) / steps
            f1 = macro_f1(y, sum(wi * p for wi, p in zip(w, probas)).argmax(1), range(len(self.labels)))
            key = (round(f1, 10), -float(np.abs(w - 1 / k).sum()))
            if best_key is None or key > best_key:
                best, best_key = w, key
        self.weights = best

    def _fit_stacker(self, probas: list[np.ndarray], y: np.ndarray) -> None:
        """A multinomial logistic regression on the members' log-probabilities (scikit-learn's, L2, C from config)."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=self.cfg.stacking_C, max_iter=2000)
        lr.fit(_features(probas), y)
        if len(lr.classes_) != len(self.labels):
            raise ValueError(f"stacking needs every label in the dev split; it has {len(lr.classes_)} of "
                             f"{len(self.labels)}")
        self.stacker = {"coef": lr.coef_.tolist(), "intercept": lr.intercept_.tolist()}

    # ------------------------------------------------------------ predict

    def _combine(self, probas: list[np.ndarray]) -> np.ndarray:
        if self.stacker is not None:
            z = _features(probas) @ np.asarray(self.stacker["coef"]).T + np.asarray(self.stacker["intercept"])
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return z / z.sum(axis=1, keepdims=True)
        assert self.weights is not None
        return sum(w * p for w, p in zip(self.weights, probas))  # type: ignore[return-value]

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.labels)))
        return self._combine(self.member_proba(texts, targets))

    def shares(self, texts: Sequence[str], targets: Sequence[str]) -> list[dict[str, Any]]:
        """Per statement, each member's scores and its share of the winning label's combined score (explain)."""
        probas = self.member_proba(texts, targets)
        combined = self._combine(probas)
        out = []
        for i, row in enumerate(combined):
            top = int(row.argmax())
            contrib = self._contributions(probas, i, top)
            total = sum(contrib) or 1.0
            out.append({name: {"scores": dict(zip(self.labels, map(float, p[i]))), "share": c / total}
                        for name, p, c in zip(self.member_names, probas, contrib)})
        return out

    def _contributions(self, probas: list[np.ndarray], i: int, label: int) -> list[float]:
        if self.weights is not None:
            return [float(w * p[i, label]) for w, p in zip(self.weights, probas)]
        # Stacking: a member's share is its (positive part of its) logit contribution to the winning label.
        coef = np.asarray(self.stacker["coef"])[label]  # type: ignore[index]
        n = len(self.labels)
        return [max(float(coef[j * n:(j + 1) * n] @ np.log(np.clip(p[i], _EPS, 1))), 0.0) + 1e-12
                for j, p in enumerate(probas)]

    def set_inference(self, mode: str) -> None:
        """Switch every member that has prediction paths (stance.config.KINDS); the others have one."""
        from . import kind

        for name, m in zip(self.member_names, self.members):
            if kind(m.kind).prediction_paths:
                m.set_inference(mode)  # type: ignore[attr-defined]

    def _weight_facts(self) -> dict[str, Any]:
        if self.weights is not None:
            return {f"weight_{n}": round(float(w), 4) for n, w in zip(self.member_names, self.weights)}
        return {"combiner": "stacking"}

    def params(self) -> dict[str, Any]:
        return {"members": ", ".join(self.member_names), **self._weight_facts()}

    # ------------------------------------------------------------ save / load

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for i, src in enumerate(self.member_dirs):
            dest = path / MEMBERS_DIR / str(i)
            if src.resolve() != dest.resolve():
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(src, dest)
        spec = {"members": [{"dir": f"{MEMBERS_DIR}/{i}", "name": n} for i, n in enumerate(self.member_names)],
                "weights": None if self.weights is None else self.weights.tolist(), "stacker": self.stacker,
                "fit": self.fit_facts}
        (path / ENSEMBLE_FILE).write_text(json.dumps(spec, indent=2), encoding="utf-8")
        write_meta(path, {"kind": self.kind, "labels": self.labels, "targets": self.targets, "seed": self.seed,
                          "config": self.cfg.model_dump(mode="json")})

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "EnsembleModel":
        from ..config import EnsembleConfig

        path = Path(path)
        meta = read_meta(path)
        model = cls(EnsembleConfig.model_validate(meta["config"]), meta["labels"], meta.get("seed", 13))
        spec = json.loads((path / ENSEMBLE_FILE).read_text(encoding="utf-8"))
        model.use_members([path / m["dir"] for m in spec["members"]], [m["name"] for m in spec["members"]])
        model.weights = None if spec["weights"] is None else np.asarray(spec["weights"], dtype=float)
        model.stacker, model.fit_facts = spec["stacker"], spec.get("fit", {})
        if inference not in (None, "auto"):
            model.set_inference(inference)
        return model


def _features(probas: list[np.ndarray]) -> np.ndarray:
    return np.hstack([np.log(np.clip(p, _EPS, 1.0)) for p in probas])
