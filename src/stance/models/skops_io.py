"""skops.io, imported without importing torch.

What pulled torch into every TF-IDF load: on import, skops.io lists the scikit-learn estimators it trusts by
default with sklearn.utils.all_estimators(), whose pkgutil.walk_packages imports every sklearn *package* to
look inside it, the array-API shim sklearn.externals.array_api_compat.torch included, and that shim runs
`import torch` (~1.6 s here) whenever torch is installed. SCIPY_ARRAY_API and sklearn's array_api_dispatch
play no part. all_estimators skips `externals` anyway, so the trusted list is the same without the shim:
while skops.io is first imported, the shim alone is reported missing, and walk_packages passes over a
package that fails to import. (Hiding `torch` itself, sys.modules["torch"] = None, breaks scipy: its
array-API helpers take whatever sys.modules holds for torch to be the module.)
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

SHIM = "sklearn.externals.array_api_compat.torch"


class _SkipShim:
    """A meta path finder that reports the shim (only it) missing."""

    def find_spec(self, name, path=None, target=None):
        if name == SHIM:
            raise ModuleNotFoundError(f"{SHIM} is skipped while skops.io is imported", name=name)
        return None


def import_skops_io() -> ModuleType:
    if "skops.io" not in sys.modules and "torch" not in sys.modules:  # torch already there: nothing to save
        finder = _SkipShim()
        sys.meta_path.insert(0, finder)
        try:
            import skops.io  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
    return importlib.import_module("skops.io")
