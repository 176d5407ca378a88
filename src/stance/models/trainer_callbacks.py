"""Trainer pieces: per-epoch metrics handed to our tracking function, and a class-weighted loss."""
from __future__ import annotations

import torch
from transformers import Trainer, TrainerCallback

from .base import LogFn


class MetricsLogger(TrainerCallback):
    """Per-epoch train loss and dev metrics -> log(metrics, step). transformers 5 logs nothing by itself."""

    def __init__(self, log: LogFn | None):
        self.log = log

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not self.log or not logs:
            return
        names = {"loss": "epoch_train_loss", "eval_loss": "epoch_dev_loss", "eval_macro_f1": "epoch_dev_macro_f1",
                 "learning_rate": "learning_rate"}
        picked = {names[k]: float(v) for k, v in logs.items() if k in names}
        if picked:
            self.log(picked, int(state.global_step))


class WeightedLossTrainer(Trainer):
    """Cross-entropy with optional class weights (AGAINST is rare in real statements)."""

    def __init__(self, *args, class_weights: torch.Tensor | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.class_weights is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        # Loss in fp32 even under bf16 autocast: a bf16 softmax over 3 classes is too coarse to learn from.
        logits = outputs.logits.float()
        loss = torch.nn.functional.cross_entropy(logits, labels, weight=self.class_weights.to(logits.device))
        return (loss, outputs) if return_outputs else loss
