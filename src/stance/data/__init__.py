"""Labelled and unlabelled statements: readers, validation and splitting, sources, annotation labels.

Names are loaded on first use (PEP 562): `from stance.data.readers import ...` (stance predict --input) must not
import the splitting code and scikit-learn with it.
"""
from __future__ import annotations

_LAZY = {"DataConfig": "..config", "LINE": ".readers", "DataError": ".readers", "read_records": ".readers",
         **dict.fromkeys(["CORE", "SPLITS", "StanceData", "digest", "load_data", "load_eval_set", "normalize_text",
                          "to_frame"], ".loading")}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CORE", "LINE", "SPLITS", "DataConfig", "DataError", "StanceData", "digest", "load_data",
           "load_eval_set", "normalize_text", "read_records", "to_frame"]
