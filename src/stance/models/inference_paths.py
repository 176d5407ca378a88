"""Which prediction path a trained transformer uses: measured on dev after training, saved with the model.

`select` scores dev with every path (precision.py runs them) and keeps, among those within the tolerance of fp32's
macro-F1, the fastest at the model's eval batch size (`inference`) and, separately, the fastest for one statement
(`inference_batch1`). It asks the model only what every model with prediction paths has: labels, device,
`predict_proba` and `set_inference`, so this module and the transformer do not import each other.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .precision import Mode, available_modes

if TYPE_CHECKING:
    import pandas as pd

    from .base import StanceModel

BATCH1_TIMED = 40  # dev statements scored one at a time for the batch-1 choice


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
    """Score dev with each path; keep the fastest (batch, and batch 1) whose macro-F1 is within `tolerance` of fp32.

    Returns flat facts to log: the two choices and, per path, dev macro-F1, label agreement with fp32,
    statements/s at the model's eval batch size and the batch-1 p50 in ms.
    """
    from ..evaluation.metrics import macro_f1  # scikit-learn: paid after training, never by a prediction

    texts, targets = dev["text"].tolist(), dev["target"].tolist()
    gold = [model.labels.index(lab) for lab in dev["label"]]
    facts: dict[str, Any] = {}
    speed: dict[str, float] = {}
    p50: dict[str, float] = {}
    f1: dict[str, float] = {}
    reference = None
    for mode in available_modes(model.device):
        pred, speed[mode], p50[mode] = _measure(model, mode, texts, targets)
        f1[mode] = macro_f1(gold, pred, range(len(model.labels)))
        reference = pred if reference is None else reference
        facts[f"inference_{mode}_dev_macro_f1"] = round(f1[mode], 4)
        facts[f"inference_{mode}_label_agreement"] = round(float(np.mean(pred == reference)), 4)
        facts[f"inference_{mode}_statements_per_s"] = round(speed[mode], 1)
        facts[f"inference_{mode}_batch1_p50_ms"] = round(1000 * p50[mode], 2)
    eligible = [m for m in speed if f1[m] >= f1["fp32"] - tolerance - 1e-12]
    choice = {"inference": max(eligible, key=speed.__getitem__),
              "inference_batch1": min(eligible, key=p50.__getitem__)}
    model.inference_facts = {**choice, **facts}
    model.set_inference("auto")
    return model.inference_facts
