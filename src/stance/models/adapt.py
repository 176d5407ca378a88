"""Domain-adaptive pretraining: continue the encoder's masked-language-model training on in-domain text.

A small encoder pre-trained on web sentences meets a new register here (officials' speeches, fact-checked
claims, tweets); a few hundred MLM steps on unlabelled text of that register is the standard cure
(Gururangan et al., 2020, "Don't Stop Pretraining"). The texts are the training split's statements (labels
unused; dev and test are never read) plus any unlabelled files the config names. The adapted encoder is a
plain save_pretrained folder (safetensors) that fine-tuning then starts from.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

from ..config import AdaptConfig
from ..data.readers import read_records
from .base import LogFn


def extra_texts(cfg: AdaptConfig) -> list[str]:
    """The statements of every `adapt.texts` file, in order; a missing column or empty text names file and line."""
    out: list[str] = []
    for source in cfg.texts:
        path = Path(source.path)
        if not path.is_file():
            if source.optional:
                continue
            raise FileNotFoundError(f"adapt.texts: {path} does not exist")
        for i, row in enumerate(read_records(path, source.format, source.encoding), start=1):
            text = row.get(source.text_column)
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{path}: record {i}: no text in column {source.text_column!r}")
            out.append(text)
    return out


def adapt_encoder(source: str, texts: Sequence[str], out: Path, cfg: AdaptConfig, seed: int,
                  precision: str, log: LogFn | None = None) -> dict[str, Any]:
    """MLM-train `source` on `texts`, save the encoder and tokenizer to `out`; facts to log (losses before/after
    on a held-out slice of the texts, so a run shows whether adaptation learned anything)."""
    import numpy as np
    from datasets import Dataset
    from transformers import (AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer,
                              TrainingArguments, set_seed)
    from transformers.utils import logging as hf_logging

    set_seed(seed)
    hf_logging.set_verbosity_error()  # the MLM head of a sentence-embedding checkpoint is new: expected
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForMaskedLM.from_pretrained(source)
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_held = max(1, int(len(unique) * cfg.heldout)) if len(unique) > 20 else 0
    held = [unique[i] for i in order[:n_held]]
    train = [unique[i] for i in order[n_held:]]
    if not train:
        raise ValueError("adapt: no texts to pretrain on")

    def dataset(items: list[str]) -> Any:
        return Dataset.from_dict(dict(tokenizer(items, truncation=True, max_length=cfg.max_length)))

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability, seed=seed)
    args = TrainingArguments(
        output_dir=str(out.parent / (out.name + "-checkpoints")), num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate, weight_decay=0.01,
        warmup_steps=0.06, save_strategy="no", logging_strategy="epoch", eval_strategy="no",
        bf16=precision == "bf16", use_cpu=True, seed=seed, data_seed=seed, report_to="none",
        disable_tqdm=os.environ.get("CI") == "true", train_sampling_strategy="group_by_length")
    trainer = Trainer(model=model, args=args, train_dataset=dataset(train),
                      eval_dataset=dataset(held) if held else None, data_collator=collator,
                      processing_class=tokenizer)
    facts: dict[str, Any] = {"adapt_texts": len(train), "adapt_heldout": len(held)}
    if held:
        facts["adapt_heldout_loss_before"] = float(trainer.evaluate()["eval_loss"])
    if cfg.head_epochs:
        # A sentence-embedding checkpoint ships no MLM head: train the new head alone first, so its random
        # gradients do not reach (and wreck) the encoder in the first steps.
        facts["adapt_head_loss"] = _train_head_only(model, args, trainer, cfg)
    result = trainer.train()
    facts["adapt_steps"] = int(result.global_step)
    facts["adapt_train_loss"] = float(result.training_loss)
    if held:
        facts["adapt_heldout_loss_after"] = float(trainer.evaluate()["eval_loss"])
        facts["adapt_heldout_perplexity_after"] = math.exp(min(facts["adapt_heldout_loss_after"], 50))
    if log:
        log({k: float(v) for k, v in facts.items() if k.startswith("adapt_heldout_loss")}, int(result.global_step))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return facts


def _train_head_only(model: Any, args: Any, trainer: Any, cfg: AdaptConfig) -> float:
    from transformers import Trainer

    encoder = model.base_model
    for p in encoder.parameters():
        p.requires_grad = False
    head_args = args.__class__(**{**args.to_dict(), "num_train_epochs": cfg.head_epochs, "max_steps": -1,
                                  "learning_rate": cfg.head_learning_rate})
    head = Trainer(model=model, args=head_args, train_dataset=trainer.train_dataset,
                   data_collator=trainer.data_collator, processing_class=trainer.processing_class)
    loss = float(head.train().training_loss)
    for p in encoder.parameters():
        p.requires_grad = True
    return loss
