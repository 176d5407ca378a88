"""Which prediction path a trained transformer uses: a fixed rule per device, checked on dev, saved with the model.

On CPU, onnx (the float graph in ONNX Runtime) where its dev macro-F1 is within the tolerance of fp32's, else fp32;
on a GPU, fp32. One path serves batches and single statements. Timings are measured and logged, and decide nothing,
so the same model prints the same numbers on a busy or an idle machine (they used to pick the fastest path, and a
busier machine printed other numbers). bf16 and the int8 paths stay available by `--inference`. `select` asks the
model only what every model with prediction paths has: labels, device, `predict_proba` and `set_inference`, so this
module and the transformer do not import each other.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .precision import Mode, available_modes, is_onnx

if TYPE_CHECKING:
    import pandas as pd

    from .base import StanceModel

BATCH1_TIMED = 40  # dev statements scored one at a time for the logged batch-1 latency
# The fixed rule: per device, the paths in order of preference (the first within tolerance of fp32 is kept).
PREFERENCE: dict[str, tuple[Mode, ...]] = {"cpu": ("onnx", "fp32"), "cuda": ("fp32",)}


def _time_batch1(model: "StanceModel", texts: list[str], targets: list[str]) -> float:
    """p50 seconds of one statement at a time (after two warm-up calls)."""
    for i in range(min(2, len(texts))):
        model.predict_proba(texts[i:i + 1], targets[i:i + 1])
    lat = []
    for i in range(min(BATCH1_TIMED, len(texts))):
        start = time.perf_counter()
        model.predict_proba(texts[i:i + 1], targets[i:i + 1])
        lat.append(time.perf_counter() - start)
    return float(np.median(lat))


def _measure(model: "StanceModel", mode: Mode, texts: list[str], targets: list[str]) -> tuple[np.ndarray, float,
                                                                                                    float]:
    """(dev predictions, batch statements/s, batch-1 p50 s) of one path."""
    model.set_inference(mode)
    warm = slice(0, min(len(texts), model.cfg.eval_batch_size))
    model.predict_proba(texts[warm], targets[warm])  # first-call costs (packing, kernels) do not decide it
    start = time.perf_counter()
    pred = model.predict_proba(texts, targets).argmax(axis=1)
    speed = len(texts) / max(time.perf_counter() - start, 1e-9)
    return pred, speed, _time_batch1(model, texts, targets)


def select(model: "StanceModel", dev: "pd.DataFrame", tolerance: float) -> dict[str, Any]:
    """The fixed rule (PREFERENCE) applied on dev: the first preferred path whose macro-F1 is within `tolerance` of
    fp32's. Returns flat facts to log: the choice and, per measured path, dev macro-F1, label agreement with fp32,
    statements/s at the model's eval batch size and the batch-1 p50 in ms (logged, never deciding).
    """
    from ..evaluation.metrics import macro_f1  # scikit-learn: paid after training, never by a prediction

    texts, targets = dev["text"].tolist(), dev["target"].tolist()
    gold = [model.labels.index(lab) for lab in dev["label"]]
    device = model.device  # type: ignore[attr-defined]
    candidates = [m for m in ("fp32", *PREFERENCE.get(device, ())) if m in available_modes(device)
                  and (not is_onnx(m) or _onnxruntime_installed())]
    facts: dict[str, Any] = {}
    f1: dict[str, float] = {}
    reference = None
    for mode in dict.fromkeys(candidates):
        pred, speed, p50 = _measure(model, mode, texts, targets)
        f1[mode] = macro_f1(gold, pred, range(len(model.labels)))
        reference = pred if reference is None else reference
        facts[f"inference_{mode}_dev_macro_f1"] = round(f1[mode], 4)
        facts[f"inference_{mode}_label_agreement"] = round(float(np.mean(pred == reference)), 4)
        facts[f"inference_{mode}_statements_per_s"] = round(speed, 1)
        facts[f"inference_{mode}_batch1_p50_ms"] = round(1000 * p50, 2)
    chosen = next(m for m in (*PREFERENCE.get(device, ()), "fp32") if m in f1 and f1[m] >= f1["fp32"] - tolerance - 1e-12)
    model.inference_facts = {"inference": chosen, "inference_batch1": chosen, **facts}  # type: ignore[attr-defined]
    model.set_inference("auto")  # type: ignore[attr-defined]
    return model.inference_facts  # type: ignore[attr-defined]


def _onnxruntime_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
