"""A fine-tuned Hugging Face encoder: (target, statement) as a sentence pair, trained with `Trainer`.

Dynamic padding and length-grouped batches keep CPU training fast; early stopping on dev macro-F1
restores the best epoch; weights are saved as safetensors (plus the ONNX graph of a chosen ONNX Runtime path).
torch, transformers, pandas and scikit-learn are imported where they are used: a model whose saved prediction
paths are ONNX (see precision.py; the choice between paths: inference_paths.py) loads and predicts with ONNX
Runtime and the `tokenizers` library alone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from ..config import TransformerConfig
from ..errors import ConfigError
from ..runtime.console import verbose
from . import precision as paths
from .base import LogFn, StanceModel
from .integrity import CorruptModelError, read_meta, write_meta

if TYPE_CHECKING:
    import pandas as pd


def _quiet_loading() -> None:
    """transformers 5 draws a "Loading weights" bar on every load, also for a one-off `stance predict`; shown
    only with --verbose (stance.runtime.console)."""
    from transformers.utils import logging as hf_logging

    if not verbose():
        hf_logging.disable_progress_bar()


class PretrainedNotFound(RuntimeError):
    """The configured pretrained model cannot be reached."""


def resolve_pretrained(name: str) -> str:
    """A named encoder (default, mpnet: stance.models.encoders) -> its local folder; paths pass through."""
    from .encoders import resolve

    if (named := resolve(name)) is not None:
        return named
    if Path(name).exists():
        return name
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("TRANSFORMERS_OFFLINE") == "1":
        raise PretrainedNotFound(
            f"model.pretrained={name!r} is not a local folder and the Hugging Face hub is offline "
            f"(HF_HUB_OFFLINE is set). Use model.pretrained=default (the packaged MiniLM), mpnet, a local folder "
            f"saved with save_pretrained(), or run where the hub is reachable.")
    return name


def pick_device(cfg: TransformerConfig, cpu_paths: bool = False) -> str:
    """cuda when configured or (auto) available. `cpu_paths`: the saved choices include a CPU-only path (ONNX Runtime,
    int8), so they were measured on CPU: auto means cpu, without importing torch to ask."""
    if cfg.device == "cpu" or (cfg.device == "auto" and cpu_paths):
        return "cpu"
    import torch

    return "cuda" if cfg.device == "cuda" or torch.cuda.is_available() else "cpu"


class TransformerModel(StanceModel):
    kind = "transformer"
    accepts_unseen_targets = True  # the target is the first sentence of the pair, read as text

    def __init__(self, cfg: TransformerConfig, labels: list[str], seed: int = 13, device: str | None = None):
        self.cfg, self.labels, self.seed = cfg, list(labels), seed
        self.targets: list[str] = []
        self._model: Any = None
        self._tokenizer: Any = None
        self._path: Path | None = None  # the saved folder the torch module and tokenizer come from, on first use
        self._fast: Any = None  # tokenizers.Tokenizer: one encode_batch per predict call
        self._pad: tuple[str, int] | None = None
        self.input_names = ["input_ids", "attention_mask", "token_type_ids"]
        self._graphs: dict[str, bytes] = {}  # ONNX graphs by path (exported after training or read from the folder)
        self._runners: dict[str, Any] = {}
        self.device = device or pick_device(cfg)
        # "auto" means fp32 until fit() has measured the paths (or load() has read the saved choice).
        self.inference: paths.Mode = paths.check_mode(
            "fp32" if cfg.inference == "auto" else cfg.inference, self.device)
        self.inference_batch1: paths.Mode = self.inference  # the path for a call with one statement
        self.inference_facts: dict[str, Any] = {}

    @property
    def model(self) -> Any:
        """The float torch module (read from the saved folder on first use)."""
        if self._model is None and self._path is not None:
            from transformers import AutoModelForSequenceClassification

            _quiet_loading()
            self._model = AutoModelForSequenceClassification.from_pretrained(
                self._path, use_safetensors=True).to(self.device).eval()
        return self._model

    @model.setter
    def model(self, module: Any) -> None:
        self._model, self._runners, self._graphs = module, {}, {}  # new weights: every path is rebuilt

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None and self._path is not None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self._path)
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tokenizer: Any) -> None:
        self._tokenizer, self._fast, self._pad = tokenizer, None, None
        if tokenizer is not None:
            self.input_names = list(tokenizer.model_input_names)

    # ------------------------------------------------------------ encoding

    def _encode(self, texts: Sequence[str], targets: Sequence[str], **kw) -> dict:
        # Target first, statement second: truncation only ever cuts the statement.
        return self.tokenizer(list(targets), list(texts), truncation="only_second", max_length=self.cfg.max_length, **kw)

    def count_truncated(self, texts: Sequence[str], targets: Sequence[str]) -> int:
        full = self.tokenizer(list(targets), list(texts), truncation=False)["input_ids"]
        return int(sum(len(ids) > self.cfg.max_length for ids in full))

    def _dataset(self, df: pd.DataFrame):
        from datasets import Dataset

        enc = self._encode(df["text"].tolist(), df["target"].tolist())
        enc["labels"] = [self.labels.index(lab) for lab in df["label"]]
        if "weight" in df:  # per-row training weight of a multi-source config (see WeightedLossTrainer)
            enc["sample_weight"] = df["weight"].astype(float).tolist()
        return Dataset.from_dict(dict(enc))

    # ------------------------------------------------------------ training

    def _adapted_source(self, train: pd.DataFrame, scratch: Path, log: LogFn | None) -> tuple[str, dict[str, Any]]:
        """The encoder to fine-tune: the configured one, or (model.adapt) that encoder after masked-LM training on
        the training statements and the configured unlabelled files. A resumed run reuses its adapted encoder."""
        source = resolve_pretrained(self.cfg.pretrained)
        if self.cfg.adapt is None:
            return source, {}
        from .adapt import adapt_encoder, extra_texts

        adapted = scratch / "adapted-encoder"
        if (adapted / "config.json").is_file() and (adapted / "model.safetensors").is_file():
            return str(adapted), {"adapt_reused": str(adapted)}
        texts = train["text"].tolist() + extra_texts(self.cfg.adapt)
        facts = adapt_encoder(source, texts, adapted, self.cfg.adapt, self.seed, self.training_precision(), log)
        return str(adapted), facts

    def _load_pretrained(self, source: str) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # the missing classifier head is expected, not news
        _quiet_loading()
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=len(self.labels), id2label=dict(enumerate(self.labels)),
            label2id={lab: i for i, lab in enumerate(self.labels)})

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        from transformers import set_seed

        from ..runtime import interrupt

        if self.cfg.num_threads:
            import torch

            torch.set_num_threads(self.cfg.num_threads)
        set_seed(self.seed)
        scratch = Path(work_dir or tempfile.mkdtemp(prefix="stance-"))
        source, adapt_facts = self._adapted_source(train, scratch, log)
        self._load_pretrained(source)
        frozen = freeze_lower_layers(self.model, self.cfg.freeze_layers)
        self.targets = sorted(train["target"].unique())
        train_ds, dev_ds = self._dataset(train), self._dataset(dev.drop(columns="weight", errors="ignore"))
        weights = self._class_weights(train, train_ds)
        out = scratch / "checkpoints"
        args = self._training_args(out, train_ds)
        trainer = self._trainer(args, train_ds, dev_ds, weights, log)
        last = _last_checkpoint(out) if resume else None
        with interrupt.cooperative():
            trainer.train(resume_from_checkpoint=str(last) if last else None)
        if signame := interrupt.requested():
            raise interrupt.Interrupted(signame, f"checkpoint at step {trainer.state.global_step} kept in {out}")
        state = self._take_trained(trainer, out)
        if self.cfg.inference == "auto" and len(dev):
            from .inference_paths import select

            select(self, dev, self.cfg.inference_tolerance)
        else:
            self.inference_facts = {"inference": self.inference, "inference_batch1": self.inference_batch1}
        return {
            **self.inference_facts,
            **adapt_facts,
            "best_epoch": _best_epoch(state),
            "epochs_run": float(state.epoch or 0),
            "n_truncated_train": self.count_truncated(train["text"].tolist(), train["target"].tolist()),
            "device": self.device,
            "precision": self.training_precision(),
            "world_size": args.world_size,  # processes that trained together (torchrun / accelerate launch)
            "resumed_from": str(last) if last else "",
            "frozen_parameters": frozen,
        }

    def _class_weights(self, train: pd.DataFrame, train_ds) -> Any:
        """Loss weight per label ("balanced": inverse frequency in train; labels absent from train weigh 1)."""
        if self.cfg.class_weight != "balanced":
            return None
        import torch
        from sklearn.utils.class_weight import compute_class_weight

        present = np.array([self.labels.index(lab) for lab in sorted(set(train["label"]))])
        w = compute_class_weight("balanced", classes=present, y=train_ds["labels"])
        weights = torch.ones(len(self.labels))
        weights[present] = torch.tensor(w, dtype=torch.float)
        return weights

    def _training_args(self, out: Path, train_ds) -> Any:
        from transformers import TrainingArguments

        use_cpu = self.device == "cpu"
        return TrainingArguments(
            output_dir=str(out),
            num_train_epochs=self.cfg.epochs,
            per_device_train_batch_size=self.cfg.batch_size,
            per_device_eval_batch_size=self.cfg.eval_batch_size,
            gradient_accumulation_steps=self.cfg.gradient_accumulation_steps,
            learning_rate=self.cfg.learning_rate,
            weight_decay=self.cfg.weight_decay,
            warmup_steps=self.cfg.warmup_ratio,  # a float < 1 is a ratio of total steps in transformers 5
            eval_strategy="epoch",
            save_strategy="epoch",
            logging_strategy="epoch",
            save_total_limit=self.cfg.save_total_limit,
            load_best_model_at_end=self.cfg.early_stopping_patience is not None,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
            train_sampling_strategy="group_by_length" if self.cfg.group_by_length else "random",
            seed=self.seed,
            data_seed=self.seed,
            use_cpu=use_cpu,
            bf16=self.training_precision() == "bf16",
            fp16=self.training_precision() == "fp16" and not use_cpu,
            report_to="none",  # our MetricsLogger logs; transformers' MLflow callback is not used
            disable_tqdm=os.environ.get("CI") == "true",
            save_only_model=False,
            # Our models' loss is a per-statement mean; transformers would multiply it by the number of DDP
            # processes (a token-count correction meant for LM losses), doubling gradients under 2 ranks.
            average_tokens_across_devices=False,
            # Keep `sample_weight` (not an argument of the model's forward): the loss pops it.
            remove_unused_columns="sample_weight" not in train_ds.column_names,
        )

    def training_precision(self) -> str:
        """The config's precision, with auto resolved for this device (bf16 only where it is native)."""
        if self.cfg.precision != "auto":
            return self.cfg.precision
        import torch

        if self.device == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        return "bf16" if native else "fp32"

    def _trainer(self, args, train_ds, dev_ds, weights, log: LogFn | None) -> Any:
        """Trainer with early stopping on dev macro-F1, our per-epoch logging and the signal handling of a run."""
        from transformers import EarlyStoppingCallback

        from ..evaluation.metrics import macro_f1
        from .trainer_callbacks import MetricsLogger, StopOnSignal, WeightedLossTrainer, readable_log_lines

        def compute_metrics(p) -> dict[str, float]:
            pred = p.predictions.argmax(-1)
            return {"macro_f1": macro_f1(p.label_ids, pred, range(len(self.labels)))}

        callbacks: list = [MetricsLogger(log), StopOnSignal()]
        if self.cfg.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=self.cfg.early_stopping_patience))
        trainer = WeightedLossTrainer(
            model=self.model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
            processing_class=self.tokenizer, compute_metrics=compute_metrics, callbacks=callbacks,
            class_weights=weights)
        return readable_log_lines(trainer)

    def _take_trained(self, trainer, out: Path) -> Any:
        """Keep the trained (best) float module, drop the checkpoints unless asked to keep them; the trainer state."""
        # accelerate patches forward() with bf16 autocast for mixed precision; unwrap so every inference path
        # (and the saved model) starts from the plain float module.
        self.model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False).eval()
        state = trainer.state
        trainer.accelerator.wait_for_everyone()  # under DDP other ranks may still read the best checkpoint
        if not self.cfg.keep_checkpoints and trainer.is_world_process_zero():
            shutil.rmtree(out, ignore_errors=True)  # ~0.3 GB per checkpoint; only an interrupted run needs them
        return state

    # ------------------------------------------------------------ inference

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        assert self._model is not None or self._path is not None, "model is not fitted"
        texts, targets = list(texts), list(targets)
        if not texts:
            return np.zeros((0, len(self.labels)))
        if self.cfg.long_text == "sliding_window":
            return self._predict_windows(texts, targets)
        mode = self.inference_batch1 if len(texts) == 1 else self.inference
        run = self._runner(mode)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for idx, enc in self._token_batches(texts, targets, 1 if mode in paths.PER_ROW_MODES else None):
            out[idx] = _softmax(run(enc))
        return out

    def set_inference(self, mode: str) -> None:
        """Switch the prediction path (fp32 | bf16 | int8 | onnx | onnx-int8) for every call; auto = the saved
        choices (the batch path and the one-statement path)."""
        if mode == "auto":
            batch = self.inference_facts.get("inference", "fp32")
            single = self.inference_facts.get("inference_batch1", batch)
        else:
            batch = single = mode
        self.inference = paths.check_mode(batch, self.device)
        self.inference_batch1 = paths.check_mode(single, self.device)

    def _fast_tokenizer(self) -> Any:
        """The `tokenizers` tokenizer (Rust) behind the fast tokenizer, truncating only the statement."""
        if self._fast is None:
            from tokenizers import Tokenizer

            saved = self._path / "tokenizer.json" if self._path is not None else None
            if self._tokenizer is None and self._pad is not None and saved is not None and saved.is_file():
                fast = Tokenizer.from_file(str(saved))  # the pad token was saved in the metadata
            else:
                fast = Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())
                self._pad = (self.tokenizer.pad_token, int(self.tokenizer.pad_token_id))
            fast.no_padding()
            fast.enable_truncation(self.cfg.max_length, strategy="only_second")
            self._fast = fast
        return self._fast

    def _token_batches(self, texts: list[str], targets: list[str],
                       batch_size: int | None = None) -> Iterator[tuple[np.ndarray, dict]]:
        """Tokenize the whole call once (target first: truncation only ever cuts the statement), then yield
        batches of similar token length (little padding) as padded int64 arrays, with their positions."""
        batch_size = batch_size or self.cfg.eval_batch_size
        encodings = self._fast_tokenizer().encode_batch(list(zip(targets, texts)))
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")
        pad_id = self._pad[1] if self._pad else 0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            shape = (len(idx), int(lengths[idx].max()))
            enc = {"input_ids": np.full(shape, pad_id, dtype=np.int64), "attention_mask": np.zeros(shape, np.int64),
                   "token_type_ids": np.zeros(shape, np.int64)}
            for row, i in enumerate(idx):
                e, n = encodings[i], lengths[i]
                enc["input_ids"][row, :n], enc["attention_mask"][row, :n] = e.ids, e.attention_mask
                enc["token_type_ids"][row, :n] = e.type_ids
            yield idx, {k: v for k, v in enc.items() if k in self.input_names}

    def _runner(self, mode: str) -> Any:
        """The one place a path's predictor is built: int64 arrays in, logits out; rebuilt when the weights change."""
        if mode not in self._runners:
            self._runners[mode] = self._onnx_runner(mode) if paths.is_onnx(mode) else self._torch_runner(mode)
        return self._runners[mode]

    def _torch_runner(self, mode: str) -> Any:
        import torch

        if self.cfg.num_threads:
            torch.set_num_threads(self.cfg.num_threads)
        module, device = paths.build(self.model, mode), self.device

        def run(enc: dict) -> np.ndarray:
            with torch.inference_mode(), paths.autocast(mode, device):
                logits = module(**{k: torch.from_numpy(v).to(device) for k, v in enc.items()}).logits
                return logits.float().cpu().numpy()
        run.module = module  # type: ignore[attr-defined]
        return run

    def _onnx_runner(self, mode: str) -> Any:
        sess = paths.session(self._graph(mode), self.cfg.num_threads)
        names = [i.name for i in sess.get_inputs()]  # the exporter drops inputs the graph does not use

        def run(enc: dict) -> np.ndarray:
            return sess.run(None, {k: enc[k] for k in names})[0]
        return run

    def _graph(self, mode: str) -> bytes:
        """The ONNX graph of `mode`: exported after training, read from the saved folder, or exported now."""
        if mode not in self._graphs:
            file = self._path / paths.ONNX_FILES[mode] if self._path is not None else None
            if file is not None and file.is_file():
                self._graphs[mode] = file.read_bytes()
            else:
                self._graphs[mode] = paths.export_onnx(self.model, self.input_names, mode)
        return self._graphs[mode]

    def _predict_windows(self, texts: list[str], targets: list[str]) -> np.ndarray:
        """Long statements: overlapping windows of max_length tokens, scores averaged per statement."""
        out = np.zeros((len(texts), len(self.labels)))
        bs = 1 if self.inference in paths.PER_ROW_MODES else self.cfg.eval_batch_size  # one statement's windows a call
        run = self._runner(self.inference)
        for start in range(0, len(texts), bs):
            enc = self.tokenizer(list(targets[start:start + bs]), list(texts[start:start + bs]),
                                 truncation="only_second", max_length=self.cfg.max_length, padding=True,
                                 return_tensors="np", return_overflowing_tokens=True, stride=self.cfg.window_stride)
            owner = enc.pop("overflow_to_sample_mapping")
            probs = _softmax(run({k: np.asarray(v, dtype=np.int64) for k, v in enc.items() if k in self.input_names}))
            for i in range(len(texts[start:start + bs])):
                out[start + i] = probs[owner == i].mean(axis=0)
        return out

    # ------------------------------------------------------------ persistence

    def params(self) -> dict[str, Any]:
        return {"n_parameters": int(sum(p.numel() for p in self.model.parameters()))}

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)  # safetensors
        self.tokenizer.save_pretrained(path)
        for mode in {self.inference, self.inference_batch1} & set(paths.ONNX_FILES):  # the chosen ONNX paths
            (path / paths.ONNX_FILES[mode]).write_bytes(self._graph(mode))
        self._fast_tokenizer()
        write_meta(path, {"kind": self.kind, "labels": self.labels, "targets": self.targets, "seed": self.seed,
                          "config": self.cfg.model_dump(mode="json"),
                          # The paths predictions use after loading, and the dev measurements that chose them.
                          "inference": self.inference, "inference_batch1": self.inference_batch1,
                          "inference_selection": self.inference_facts,
                          "tokenizer": {"pad": list(self._pad or ("[PAD]", 0)), "input_names": self.input_names}})

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "TransformerModel":
        """`inference` overrides the saved paths (fp32 | bf16 | int8 | onnx | onnx-int8); None or auto keeps them.

        Nothing of torch or transformers is imported until a torch path (or saving, or training) needs it."""
        path = Path(path)
        meta = read_meta(path)
        cfg = TransformerConfig.model_validate(meta["config"])
        chosen = [inference] if inference not in (None, "auto") else [meta.get("inference", "fp32"),
                                                                    meta.get("inference_batch1", "fp32")]
        cpu_only = any(c not in paths.GPU_MODES for c in chosen)
        m = cls(cfg, meta["labels"], meta.get("seed", 13), device=pick_device(cfg, cpu_only))
        m.targets, m._path = meta.get("targets", []), path
        for weights in sorted(path.glob("*.safetensors")):
            _check_safetensors(weights)
        if "tokenizer" in meta:  # else the pad token comes from the transformers tokenizer
            m._pad, m.input_names = tuple(meta["tokenizer"]["pad"]), list(meta["tokenizer"]["input_names"])
        batch = meta.get("inference", "fp32")  # the saved choices; older models have one path for both
        m.inference_facts = {**(meta.get("inference_selection") or {}), "inference": batch,
                             "inference_batch1": meta.get("inference_batch1", batch)}
        m.set_inference(inference if inference not in (None, "auto") else "auto")
        return m


def freeze_lower_layers(model: Any, n: int) -> int:
    """Stop gradients in the embeddings and the lowest `n` encoder layers; returns how many weights it froze."""
    if n == 0:
        return 0
    base = model.base_model
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not hasattr(base, "embeddings"):
        raise ConfigError(f"model.freeze_layers={n}: {type(base).__name__} has no embeddings + encoder.layer stack "
                          "to freeze; set model.freeze_layers: 0")
    if n > len(layers):
        raise ConfigError(f"model.freeze_layers={n}: the encoder has only {len(layers)} layers")
    frozen = 0
    for module in [base.embeddings, *layers[:n]]:
        for weight in module.parameters():
            weight.requires_grad_(False)
            frozen += weight.numel()
    return frozen


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_safetensors(file: Path) -> None:
    """Reading the header checks that it parses and that the file covers every tensor it lists."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(file), framework="numpy"):
            pass
    except SafetensorError as e:
        raise CorruptModelError(f"{file} is corrupt: not a readable safetensors file ({e})") from None


def _last_checkpoint(out: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    return Path(get_last_checkpoint(str(out))) if out.is_dir() and get_last_checkpoint(str(out)) else None


def _best_epoch(state) -> float:
    best = state.best_model_checkpoint
    for entry in state.log_history:
        if best and "eval_macro_f1" in entry and entry.get("step") == int(best.rsplit("-", 1)[-1]):
            return float(entry["epoch"])
    return float(state.epoch or 0)
