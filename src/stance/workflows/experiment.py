"""Experiments: configs x seeds as nested MLflow runs under one parent run, rerun by one command.

    stance experiment experiments/semeval2016.yaml
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import tracking
from ..config import Config, ConfigError, load_config, read_utf8, yaml_problem
from ..runtime import distributed
from ..runtime.console import say
from .training import TrainResult, train


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    experiment: str  # the MLflow experiment holding the parent and child runs
    description: str = ""
    configs: list[str] = Field(min_length=1)  # paths relative to the repository root (the working directory)
    seeds: list[int] = Field(default_factory=lambda: [13], min_length=1)
    overrides: list[str] = Field(default_factory=list)  # applied to every config, e.g. "model.epochs=2"
    metric: str = "headline"  # ranks models for the bootstrap: the runs' headline metric unless named


@dataclass
class ExperimentResult:
    parent_run_id: str
    children: list[TrainResult]
    wall_s: float


def load_experiment(path: str | Path) -> ExperimentSpec:
    p = Path(path)
    text = read_utf8(p, "experiment")
    try:
        return ExperimentSpec.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as e:
        raise ConfigError(f"experiment {p} is not valid YAML: {yaml_problem(e)}") from None
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ConfigError(f"invalid experiment {p}: {problems}") from None


def plan(spec: ExperimentSpec, extra: list[str] | None = None) -> list[Config]:
    """Every (config, seed) validated before any run starts."""
    return [load_config(c, [*spec.overrides, *(extra or []), f"seed={seed}", f"tracking.experiment={spec.experiment}"])
            for c in spec.configs for seed in spec.seeds]


def run_experiment(path: str | Path, extra: list[str] | None = None, compare: bool = True) -> ExperimentResult:
    spec = load_experiment(path)
    configs = plan(spec, extra)
    start = time.perf_counter()
    children = []
    uris = {c.tracking.uri for c in configs}
    if len(uris) > 1:  # the parent and its children must live in one store
        raise ValueError(f"{path}: the configs name different tracking stores {sorted(map(str, uris))}; "
                         f"give one with --set tracking.uri=...")
    with tracking.run(spec.experiment, uri=uris.pop(), tags={"run_type": "experiment"}, run_name=spec.name) as parent:
        tracking.log_text(Path(path).read_text(encoding="utf-8"), "experiment.yaml")
        tracking.log_params({"experiment.configs": spec.configs, "experiment.seeds": spec.seeds,
                             "experiment.overrides": spec.overrides + (extra or [])})
        for i, cfg in enumerate(configs, 1):
            say(f"experiment {spec.name}: run {i}/{len(configs)}: {cfg.model.kind} seed {cfg.seed}")
            children.append(train(cfg, parent_run_id=parent.info.run_id))
        wall = time.perf_counter() - start
        tracking.log_metrics({"experiment_wall_s": wall})
        if compare and distributed.is_main_process():  # under torchrun only rank 0 reads back and logs
            from .compare import compare_runs

            report = compare_runs(parent_run_id=parent.info.run_id, metric=spec.metric)
            report.log_to(parent.info.run_id)
            print(report.markdown)
    return ExperimentResult(parent.info.run_id, children, wall)
