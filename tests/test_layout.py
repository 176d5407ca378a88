"""Where concerns live (issue 18, first step): one F1 definition, and MLflow behind a short list of modules."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from conftest import ROOT
from stance.evaluation.metrics import f1_per_resample, macro_f1

SRC = ROOT / "src" / "stance"
# MLflow is imported only where it must be: tracking (everything that talks to MLflow), the pyfunc entry and
# the scoring server that MLflow itself loads, and compare.py, which still reads runs directly (to move into
# tracking: issue 18).
MLFLOW_MODULES = {"tracking.py", "pyfunc_entry.py", "serving.py", "compare.py"}


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def _modules():
    return sorted(p for p in SRC.rglob("*.py"))


def test_f1_is_computed_only_in_metrics():
    offenders = [str(p.relative_to(SRC)) for p in _modules() if p.name != "metrics.py"
                 and any(n.endswith(("f1_score", "precision_recall_fscore_support")) for n in _imports(p))]
    assert offenders == [], f"F1 computed outside stance/metrics.py: {offenders} (use metrics.macro_f1 / f_avg)"


def test_mlflow_is_imported_only_by_its_modules():
    offenders = [str(p.relative_to(SRC)) for p in _modules() if p.name not in MLFLOW_MODULES
                 and any(n == "mlflow" or n.startswith("mlflow.") for n in _imports(p))]
    assert offenders == [], f"mlflow imported outside {sorted(MLFLOW_MODULES)}: {offenders} (go through tracking)"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_bootstrap_f1_equals_macro_f1_per_resample(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    idx = rng.integers(0, 60, size=(5, 60))
    for classes in ([0, 1, 2], [0, 1]):
        batched = f1_per_resample(y, p, idx, 3, classes)
        assert batched == pytest.approx([macro_f1(y[i], p[i], classes) for i in idx])
