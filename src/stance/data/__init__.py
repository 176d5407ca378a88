"""Labelled and unlabelled statements: readers, validation and splitting, sources, annotation labels."""
from ..config import DataConfig
from .loading import CORE, SPLITS, StanceData, digest, load_data, load_eval_set, normalize_text, to_frame
from .readers import LINE, DataError, read_records

__all__ = ["CORE", "LINE", "SPLITS", "DataConfig", "DataError", "StanceData", "digest", "load_data",
           "load_eval_set", "normalize_text", "read_records", "to_frame"]
