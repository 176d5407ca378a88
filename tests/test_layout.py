"""Where concerns live (issues 18 and 28; docs/architecture.md): packages stacked in one order, each importing only
those below it; F1 only in stance/evaluation/, MLflow only in stance/tracking/ (and the pyfunc MLflow loads), kinds
only in the registry, workflows import another only to run it whole, and no function shadowing a module."""
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
# The house, from the ground up: a module may import its own package and the packages (or top-level modules) below
# it, never one above. stance/__init__.py (the public API, importing lazily) and the kept entry point for models
# logged before issue 28 (serving.py) stand outside the stack.
LAYERS = ("errors", "runtime", "config", "data", "evaluation", "measurement", "models", "annotation", "tracking",
          "prediction", "workflows", "cli")
OUTSIDE = {"__init__", "__main__", "serving"}
AT_MOST_TOP_LEVEL = 6  # modules directly in src/stance/ besides __init__.py and __main__.py
# MLflow is imported only where it must be: stance/tracking/ (everything that talks to MLflow), and the pyfunc entry
# file and the PythonModel class (prediction/pyfunc.py) that MLflow itself loads.
MLFLOW_MODULES = ("tracking/", "prediction/pyfunc.py", "prediction/pyfunc_entry.py")
F1_FUNCTIONS = ("f1_score", "fbeta_score", "precision_recall_fscore_support", "classification_report")
# What a user runs (stance/workflows/): a workflow imports another only to run it whole.
WORKFLOW_USES = {"experiment": {"training", "compare"}, "demo": {"training", "promote", "compare"}}


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path) -> set[str]:
    """Absolute names a module imports, relative imports resolved: `from .. import tracking` in
    stance/workflows/training.py gives stance.tracking; `from ..models.base import X` gives stance.models.base and stance.models.base.X."""
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


def _names_of(path, node) -> set[str]:
    """What one import statement names, relative imports resolved (see _imports)."""
    package = ["stance", *path.relative_to(SRC).parts[:-1]]
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])]) \
        if node.level else node.module
    return {base} | {f"{base}.{a.name}" for a in node.names}


def _modules():
    return sorted(SRC.rglob("*.py"))


def _module_name(p) -> str:
    parts = ["stance", *p.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(body: list) -> list:
    """The statements of a module outside functions and classes, those inside `if` and `try` blocks included."""
    out = []
    for node in body:
        out.append(node)
        if isinstance(node, (ast.If, ast.Try)):
            out += _module_level([*node.body, *node.orelse, *getattr(node, "finalbody", []),
                                  *[s for h in getattr(node, "handlers", []) for s in h.body]])
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once (depth-first search; a circle is reported from where it was entered)."""
    state, stack, found = {}, [], []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def _rel(p) -> str:
    return p.relative_to(SRC).as_posix()


def _layer(rel: str) -> str:
    """The package (or top-level module) a module belongs to: evaluation/metrics.py -> evaluation, config.py -> config."""
    return rel.split("/", 1)[0].removesuffix(".py")


def _stance_imports(p) -> set[str]:
    """The packages and top-level modules of stance that a module imports (stance.models.base -> models)."""
    return {n.split(".")[1] for n in _imports(p) if n.startswith("stance.") and n.count(".") >= 1}


def test_every_module_has_a_layer_and_the_top_level_is_small():
    top = sorted(p.name for p in SRC.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= AT_MOST_TOP_LEVEL, f"{len(top)} modules directly in src/stance/: {top}; put them in a package"
    unknown = sorted({_layer(_rel(p)) for p in _modules()} - set(LAYERS) - OUTSIDE)
    assert unknown == [], f"packages or modules with no place in LAYERS: {unknown} (add them in docs/architecture.md)"


def test_no_package_imports_one_above_it():
    upward = []
    for p in _modules():
        here = _layer(_rel(p))
        if here in OUTSIDE:
            continue
        above = set(LAYERS[LAYERS.index(here) + 1:]) | (OUTSIDE - {"__init__"})
        upward += [f"{_rel(p)} -> {n}" for n in sorted(_stance_imports(p) & above)]
    assert upward == [], f"imports from a lower package to a higher one: {upward}"


def test_no_import_circles_between_modules():
    """Module-level imports (those run at import time, and those under `if TYPE_CHECKING:`; not those inside
    functions) form no cycle. `from . import x` depends on the module x where x is one, else on the package."""
    names = {_module_name(q) for q in _modules()}

    def deps(p) -> set[str]:
        found = set()
        for node in _module_level(_tree(p).body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                named = _names_of(p, node)
                modules = {n for n in named if n in names}
                found |= {m for m in modules if not any(o.startswith(m + ".") for o in modules)}
        return found - {_module_name(p)}

    cycles = _cycles({_module_name(p): deps(p) for p in _modules()})
    assert cycles == [], f"import circles: {cycles}"


def test_evaluation_never_imports_models_and_lower_packages_never_track():
    offenders = [f"{_rel(p)} -> {n}" for p in _modules() if _rel(p).startswith("evaluation/")
                 for n in sorted(_stance_imports(p) & {"models", "prediction", "tracking", "workflows"})]
    assert offenders == [], f"evaluation/ takes arrays and labels, never a model: {offenders}"
    tracked = [_rel(p) for p in _modules() if _rel(p).startswith(("evaluation/", "models/", "data/", "runtime/"))
               and "tracking" in _stance_imports(p)]
    assert tracked == [], f"evaluation/, models/, data/ and runtime/ must not talk to tracking: {tracked}"


def test_f1_is_computed_only_in_evaluation():
    offenders = [_rel(p) for p in _modules() if not _rel(p).startswith("evaluation/")
                 and any(n.endswith(F1_FUNCTIONS) for n in _imports(p))]
    assert offenders == [], f"F1 computed outside stance/evaluation/: {offenders} (use evaluation.metrics)"


def test_mlflow_is_imported_only_by_its_modules():
    offenders = [_rel(p) for p in _modules() if not _rel(p).startswith(MLFLOW_MODULES)
                 and any(n == "mlflow" or n.startswith("mlflow.") for n in _imports(p))]
    assert offenders == [], f"mlflow imported outside {MLFLOW_MODULES}: {offenders} (go through tracking)"


def test_a_workflow_imports_another_only_to_run_it_whole():
    workflows = {p.stem for p in (SRC / "workflows").glob("*.py")} - {"__init__"}
    offenders = []
    for p in (SRC / "workflows").glob("*.py"):
        allowed = WORKFLOW_USES.get(p.stem, set()) | {p.stem}
        used = {n.split(".")[2] for n in _imports(p) if n.startswith("stance.workflows.") and n.count(".") >= 2}
        offenders += [f"workflows/{p.name} -> {w}" for w in sorted((used & workflows) - allowed)]
    assert offenders == [], f"a workflow imports one it does not run whole: {offenders}"


def test_no_module_shares_a_stem_with_a_package_beside_it():
    """stance/evaluate.py beside stance/evaluation/ read as one concern; each module's name says its own."""
    clashes = [f"{_rel(p)} ~ {q.name}/" for p in _modules() for q in p.parent.iterdir() if q.is_dir()
               and q.name != "__pycache__" and p.stem != q.name and (p.stem.startswith(q.name) or
                                                                        q.name.startswith(p.stem))]
    assert clashes == [], f"a module and a package beside it share a stem: {clashes}"


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
    importlib.import_module("stance.workflows.training")
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
