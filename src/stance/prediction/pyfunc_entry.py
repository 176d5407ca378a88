"""Entry file for MLflow's models-from-code logging: MLflow copies it into the model folder and runs it there.

Which `stance` the pyfunc runs (issue 29): the one this process imports (installed, or already imported), so a
model never shadows it; only where none can be imported, the copy logged with the model (the artifact folder
pyfunc.CODE_DIR), put last on sys.path. A `stance` imported earlier from a copy whose folder is gone (MLflow
deletes the temporary folders it downloads models to) is dropped first: its modules not imported yet (another
model kind's) could no longer be found.
"""
import sys
from pathlib import Path

from mlflow.models import set_model

COPY = Path(__file__).resolve().parent / "artifacts" / "stance_code"  # pyfunc.CODE_DIR among the artifacts


def _drop_vanished_stance() -> None:
    module = sys.modules.get("stance")
    if module is not None and not Path(getattr(module, "__file__", None) or "").is_file():
        for name in [n for n in sys.modules if n == "stance" or n.startswith("stance.")]:
            del sys.modules[name]


def _pyfunc_class() -> type:
    _drop_vanished_stance()
    try:
        from stance.prediction.pyfunc import StancePyfunc
    except ModuleNotFoundError as e:
        if e.name != "stance" or not COPY.is_dir():
            raise
        sys.path.append(str(COPY))
        from stance.prediction.pyfunc import StancePyfunc
    return StancePyfunc


set_model(_pyfunc_class()())
