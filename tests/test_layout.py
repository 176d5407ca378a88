"""Where concerns live (issue 18; docs/architecture.md): F1 only in stance/evaluation/, MLflow only behind tracking,
kinds only in the registry, verbs on top of nouns, and no function shadowing a module."""
from __future__ import annotations

import ast
import importlib

import numpy as np
import pytest

import stance
from conftest import ROOT
from stance.config import KINDS
from stance.evaluation.metrics import f1_per_resample, macro_f1

SRC = ROOT / "src" / "stance"
# MLflow is imported only where it must be: tracking.py (everything that talks to MLflow), and the pyfunc entry file
# and the PythonModel class (serving.py) that MLflow itself loads.
MLFLOW_MODULES = {"tracking.py", "pyfunc_entry.py", "serving.py"}
F1_FUNCTIONS = ("f1_score", "fbeta_score", "precision_recall_fscore_support", "classification_report")
# What a user runs: nothing below them imports them, and a verb imports another only to run it whole.
VERBS = {"training", "evaluate", "explain", "experiment", "compare", "annotate", "demo", "ui", "cli"}
VERB_USES = {"cli": VERBS, "experiment": {"training", "compare"}, "demo": {"training"}}


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path) -> set[str]:
    """Absolute names a module imports, relative imports resolved: `from . import tracking` in stance/training.py
    gives stance.tracking; `from .models.base import X` gives stance.models.base and stance.models.base.X."""
    package = ["stance", *path.relative_to(SRC).parts[:-1]]
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])]) \
                if node.level else node.module
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return found


def _modules():
    return sorted(SRC.rglob("*.py"))


def _rel(p) -> str:
    return p.relative_to(SRC).as_posix()


def test_f1_is_computed_only_in_evaluation():
    offenders = [_rel(p) for p in _modules() if not _rel(p).startswith("evaluation/")
                 and any(n.endswith(F1_FUNCTIONS) for n in _imports(p))]
    assert offenders == [], f"F1 computed outside stance/evaluation/: {offenders} (use evaluation.metrics)"


def test_mlflow_is_imported_only_by_its_modules():
    offenders = [_rel(p) for p in _modules() if _rel(p) not in MLFLOW_MODULES
                 and any(n == "mlflow" or n.startswith("mlflow.") for n in _imports(p))]
    assert offenders == [], f"mlflow imported outside {sorted(MLFLOW_MODULES)}: {offenders} (go through tracking)"


def test_nouns_never_import_verbs_and_evaluation_models_data_never_track():
    upward, tracked = [], []
    for p in _modules():
        names = _imports(p)
        if p.parent != SRC or p.stem not in {*VERBS, "__init__"}:  # the package's API: lazily, stance.train()
            upward += [f"{_rel(p)} -> {v}" for v in sorted(VERBS) if f"stance.{v}" in names]
        elif p.stem in VERBS:
            upward += [f"{_rel(p)} -> {v}" for v in sorted(VERBS - VERB_USES.get(p.stem, set()) - {p.stem})
                       if f"stance.{v}" in names]
        if _rel(p).startswith(("evaluation/", "models/", "data/")) and "stance.tracking" in names:
            tracked.append(_rel(p))
    assert upward == [], f"modules import a verb they should not: {upward}"
    assert tracked == [], f"evaluation/, models/ and data/ must not talk to tracking: {tracked}"


def test_no_code_branches_on_a_kind_name():
    """Kinds differ through the registry (stance.config.KINDS), never through `kind == "transformer"`."""
    offenders = []
    for p in _modules():
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Compare):
                consts = [c for c in (node.left, *node.comparators) if isinstance(c, ast.Constant)]
                offenders += [f"{_rel(p)}:{node.lineno}" for c in consts if c.value in KINDS]
    assert offenders == [], f"code compares against a kind name (use the registry): {offenders}"


def test_no_public_name_of_the_package_shadows_a_module():
    shadowed = [n for n in stance.__all__ if (SRC / f"{n}.py").exists() or (SRC / n).is_dir()]
    assert shadowed == [], f"stance.{shadowed} would hide a module of the same name"
    # Importing a submodule sets it as an attribute of the package: the functions must survive it.
    importlib.import_module("stance.prediction")
    importlib.import_module("stance.training")
    assert all(callable(getattr(stance, n)) for n in ("predict", "train", "load_model"))


def test_no_function_is_longer_than_sixty_lines():
    """Longer ones read better as named steps (build_parser, TransformerModel.fit, training._train, ... were split)."""
    long = [f"{_rel(p)}:{n.name} ({n.end_lineno - n.lineno + 1} lines)" for p in _modules() for n in ast.walk(_tree(p))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60]
    assert long == [], f"functions over 60 lines: {long}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_bootstrap_f1_equals_macro_f1_per_resample(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    idx = rng.integers(0, 60, size=(5, 60))
    for classes in ([0, 1, 2], [0, 1]):
        batched = f1_per_resample(y, p, idx, 3, classes)
        assert batched == pytest.approx([macro_f1(y[i], p[i], classes) for i in idx])
