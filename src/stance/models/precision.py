"""The transformer's prediction precision paths (fp32, bf16, int8), and the measured choice between them.

fp32 is the float model as trained; bf16 runs it under bf16 autocast (these CPUs have AVX-512 bf16);
int8 swaps every nn.Linear for a dynamically quantized one (weights int8, activations quantized per
batch). Only float safetensors are ever saved: the int8 copy is built in memory at load time.
"""
from __future__ import annotations

import contextlib
import time
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from ..evaluation.metrics import macro_f1

if TYPE_CHECKING:
    import pandas as pd

    from .transformer import TransformerModel

Mode = Literal["fp32", "bf16", "int8"]
MODES: tuple[Mode, ...] = ("fp32", "bf16", "int8")


def available_modes(device: str) -> tuple[Mode, ...]:
    # Dynamic quantization has CPU kernels only.
    return MODES if device == "cpu" else ("fp32", "bf16")


def check_mode(mode: str, device: str) -> Mode:
    if mode not in available_modes(device):
        raise ValueError(f"inference={mode!r} is not available on {device}; choose one of "
                         f"{', '.join(available_modes(device))} (or auto)")
    return mode  # type: ignore[return-value]


def build(model: torch.nn.Module, mode: Mode) -> torch.nn.Module:
    """The module that runs predictions for `mode` (the float model itself unless int8)."""
    if mode != "int8":
        return model
    with warnings.catch_warnings():
        # torch 2.13 marks torch.ao dynamic quantization deprecated in favour of torchao; it still works.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8).eval()


def autocast(mode: Mode, device: str) -> contextlib.AbstractContextManager:
    if mode == "bf16":
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def select(model: "TransformerModel", dev: "pd.DataFrame", tolerance: float) -> dict[str, Any]:
    """Score dev with each path; keep the fastest whose macro-F1 is within `tolerance` of fp32.

    Returns flat facts to log: the choice and, per path, dev macro-F1, label agreement with fp32 and
    statements/s (timed after one warm-up batch, so first-call costs do not decide it).
    """
    texts, targets = dev["text"].tolist(), dev["target"].tolist()
    gold = [model.labels.index(lab) for lab in dev["label"]]
    warm = slice(0, min(len(texts), model.cfg.eval_batch_size))
    facts: dict[str, Any] = {}
    speed: dict[str, float] = {}
    f1: dict[str, float] = {}
    reference = None
    for mode in available_modes(model.device):
        model.set_inference(mode)
        model.predict_proba(texts[warm], targets[warm])
        start = time.perf_counter()
        pred = model.predict_proba(texts, targets).argmax(axis=1)
        speed[mode] = len(texts) / max(time.perf_counter() - start, 1e-9)
        f1[mode] = macro_f1(gold, pred, range(len(model.labels)))
        reference = pred if reference is None else reference
        facts[f"inference_{mode}_dev_macro_f1"] = round(f1[mode], 4)
        facts[f"inference_{mode}_label_agreement"] = round(float(np.mean(pred == reference)), 4)
        facts[f"inference_{mode}_statements_per_s"] = round(speed[mode], 1)
    eligible = [m for m in speed if f1[m] >= f1["fp32"] - tolerance - 1e-12]
    choice = max(eligible, key=speed.__getitem__)
    model.set_inference(choice)
    return {"inference": choice, **facts}
