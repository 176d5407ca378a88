"""The transformer's prediction paths: how each one runs.

Torch paths: fp32 is the float model as trained; bf16 runs it under bf16 autocast (fast only where the CPU has
AVX-512 BF16 or AMX); int8 swaps every nn.Linear for a dynamically quantized one, built in memory at load time.
ONNX Runtime paths (CPU): "onnx" is the float model exported with torch.onnx; "onnx-int8" is that graph with
ONNX Runtime's own dynamic int8 quantization (int8 weights, activations quantized per call). Their graphs are
saved with the model (`model.onnx`, `model-int8.onnx`: protobuf, no pickle, checksummed like every file), so a
model whose chosen paths are ONNX predicts without importing torch or transformers.

One statement, one answer: dynamic int8 quantizes activations with one scale per call, so in a batch a statement's
scores moved with its neighbours and their padding (21 of realdev's 303 labels changed between one-at-a-time and
one batch). The int8 paths therefore score one statement per call (PER_ROW_MODES): per-row scales by construction.
The float paths are batch-independent as they are (padding is masked).

Only functions in this file import torch for a path; ONNX Runtime is imported on first use. Which path a trained
model uses is measured in inference_paths.py.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal

from ..runtime.console import verbose

Mode = Literal["fp32", "bf16", "int8", "onnx", "onnx-int8"]
MODES: tuple[Mode, ...] = ("fp32", "bf16", "int8", "onnx", "onnx-int8")
TORCH_MODES: tuple[Mode, ...] = ("fp32", "bf16", "int8")
GPU_MODES: tuple[Mode, ...] = ("fp32", "bf16")
ONNX_FILES: dict[str, str] = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
# Activations quantized per call: scored one statement per call, so no statement's scores depend on its batch.
PER_ROW_MODES: tuple[Mode, ...] = ("int8", "onnx-int8")


def available_modes(device: str) -> tuple[Mode, ...]:
    # Dynamic quantization and the ONNX Runtime session used here are CPU-only.
    return MODES if device == "cpu" else GPU_MODES


def check_mode(mode: str, device: str) -> Mode:
    if mode not in available_modes(device):
        raise ValueError(f"inference={mode!r} is not available on {device}; choose one of "
                         f"{', '.join(available_modes(device))} (or auto)")
    return mode  # type: ignore[return-value]


def is_onnx(mode: str) -> bool:
    return mode in ONNX_FILES


# ---------------------------------------------------------------- torch paths


def build(model: Any, mode: Mode) -> Any:
    """The module that runs predictions for a torch `mode` (the float model itself unless int8)."""
    if mode != "int8":
        return model
    import torch

    with warnings.catch_warnings():
        # torch 2.13 marks torch.ao dynamic quantization deprecated in favour of torchao; it still works.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8).eval()


def autocast(mode: Mode, device: str) -> contextlib.AbstractContextManager:
    if mode == "bf16":
        import torch

        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ---------------------------------------------------------------- ONNX Runtime paths


def export_onnx(model: Any, input_names: list[str], mode: Mode) -> bytes:
    """The float module as an ONNX graph (dynamic batch and sequence axes); quantized for onnx-int8."""
    import torch

    with tempfile.TemporaryDirectory(prefix="stance-onnx-") as tmp:
        float_file, int8_file = Path(tmp, "model.onnx"), Path(tmp, "model-int8.onnx")
        # Positional example inputs in forward()'s order (the tokenizer lists token_type_ids before attention_mask:
        # named in its order, the graph's "attention_mask" fed the token types), one row padded.
        input_names = [name for name in inspect.signature(model.forward).parameters if name in input_names]
        example = {"input_ids": torch.full((2, 8), 100), "attention_mask": torch.tensor([[1] * 8, [1] * 5 + [0] * 3]),
                   "token_type_ids": torch.tensor([[0] * 4 + [1] * 4, [0] * 3 + [1] * 2 + [0] * 3])}
        dummy = tuple(example.get(name, torch.ones((2, 8), dtype=torch.long)) for name in input_names)
        axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(model.float().eval(), dummy, str(float_file), input_names=input_names,
                              output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}},
                              opset_version=17, dynamo=False)
        if mode == "onnx":
            return float_file.read_bytes()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # The matrix products only (the embedding tables stay float), with per-channel weight scales: per-tensor
        # scales on every op moved 7% of dev labels off fp32, this 3-4% (and it was the fastest variant measured).
        # onnxruntime advises pre-processing on the root logger at every call (for vision models): not ours to act on.
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR if not verbose() else level)
        try:
            quantize_dynamic(str(float_file), str(int8_file), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
        finally:
            root.setLevel(level)
        return int8_file.read_bytes()


def session(graph: bytes, threads: int | None) -> Any:
    """An ONNX Runtime CPU session on a serialized graph (all graph optimizations, `threads` intra-op)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or 0  # 0: one per physical core
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
