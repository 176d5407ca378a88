"""Trainer pieces: per-epoch metrics to our tracking function, a class-weighted loss, stop-on-signal."""
from __future__ import annotations

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from ..runtime import interrupt
from .base import LogFn


class StopOnSignal(TrainerCallback):
    """After SIGINT/SIGTERM (see stance.runtime.interrupt): save a checkpoint at the end of this step, then stop."""

    def on_step_end(self, args, state, control, **kwargs):
        if interrupt.requested():
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        # The stopped epoch is not over: no evaluation, log or second save (it would overwrite the
        # checkpoint's RNG state with the state after evaluation, and the resumed run would drift).
        if interrupt.requested():
            control.should_evaluate = control.should_save = control.should_log = False
        return control


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


def epoch_line(logs: dict) -> str:
    """One readable line for a Trainer log (transformers prints a dict of strings): 'epoch 2: dev macro-F1 0.695,
    dev loss 0.754' or, at the end, 'trained 2 epochs in 702 s, mean train loss 0.771'."""
    if "train_runtime" in logs:
        return (f"[stance] trained {logs.get('epoch', 0):g} epochs in {logs['train_runtime']:.0f} s, "
                f"mean train loss {logs.get('train_loss', float('nan')):.3f}")
    names = {"eval_macro_f1": "dev macro-F1", "eval_loss": "dev loss", "loss": "train loss"}
    shown = ", ".join(f"{label} {float(logs[k]):.3f}" for k, label in names.items() if k in logs)
    return f"[stance] epoch {logs.get('epoch', 0):g}: {shown}"


class EpochProgress(ProgressCallback):
    """transformers' progress bar, with each log as one readable line instead of a dict of strings."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs:
            self.training_bar.write(epoch_line(logs))


class EpochPrinter(TrainerCallback):
    """Where the bar is off (CI), the same lines printed."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_local_process_zero and logs:
            print(epoch_line(logs), flush=True)


def readable_log_lines(trainer: Trainer) -> Trainer:
    """Swap the Trainer's dict-printing callback for ours (same bar, same place)."""
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(EpochProgress)
    elif trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(EpochPrinter)
    return trainer


class EpochSeededSampler(torch.utils.data.Sampler):
    """The order of epoch e depends only on (seed, e), never on the RNG state training reached.

    transformers' samplers draw from the global RNG when an epoch starts, so a run resumed mid-epoch
    would replay a different order; with this one `--resume` retraces the uninterrupted run exactly.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, group_by_length: bool):
        self.lengths, self.batch_size, self.seed, self.group = lengths, batch_size, seed, group_by_length
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        from transformers.trainer_pt_utils import get_length_grouped_indices

        g = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        if self.group:  # batches of similar length: little padding, and still shuffled
            return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=g))
        return iter(torch.randperm(len(self.lengths), generator=g).tolist())


class _SamplerEpoch(TrainerCallback):
    """Tell the sampler which epoch starts. accelerate's set_epoch does not reach a sampler behind the
    batch-skipping loader a resumed epoch uses, so the epoch comes from the trainer state instead."""

    def __init__(self, trainer: "WeightedLossTrainer"):
        self.trainer = trainer

    def on_epoch_begin(self, args, state, control, **kwargs):
        if self.trainer.epoch_sampler is not None:
            self.trainer.epoch_sampler.set_epoch(int(state.epoch or 0))


class WeightedLossTrainer(Trainer):
    """Cross-entropy with optional class weights (AGAINST is rare in real statements), epoch-seeded order."""

    def __init__(self, *args, class_weights: torch.Tensor | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.epoch_sampler: EpochSeededSampler | None = None
        self.add_callback(_SamplerEpoch(self))

    def _get_train_sampler(self, train_dataset=None):
        ds = train_dataset if train_dataset is not None else self.train_dataset
        self.epoch_sampler = EpochSeededSampler([len(ids) for ids in ds["input_ids"]],
                                  self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                  self.args.data_seed if self.args.data_seed is not None else self.args.seed,
                                  self.args.train_sampling_strategy == "group_by_length")
        return self.epoch_sampler

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        sample_weight = inputs.pop("sample_weight", None)
        if self.class_weights is None and sample_weight is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        # Loss in fp32 even under bf16 autocast: a bf16 softmax over 3 classes is too coarse to learn from.
        logits = outputs.logits.float()
        # Weighted mean over the batch: weight = class weight x row weight (a multi-source data config's
        # per-source weight); with row weights of 1 this is exactly cross_entropy(weight=class_weights).
        w = torch.ones_like(logits[:, 0]) if sample_weight is None else sample_weight.float().to(logits.device)
        if self.class_weights is not None:
            w = w * self.class_weights.to(logits.device)[labels]
        per_row = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
        loss = (per_row * w).sum() / w.sum()
        return (loss, outputs) if return_outputs else loss
