"""Everything that talks to MLflow: the store (store), runs and what is logged to them (runs), the model registry
(registry), a run's description (descriptions) and what the MLflow UI shows first (views).

Callers use the names below (`tracking.run`, `tracking.log_metrics`, ...); the modules say where each lives.
Nothing below this package (evaluation, models, data) imports it.
"""
from .descriptions import describe_run, masked_overrides, run_name, set_description, version_description
from .registry import (DEMO_ALIAS, describe_version, download_model, latest_version_metric, latest_versions, log_model, model_version, promote,
                       refusal, resolve_model_uri, run_metrics, set_alias, version_source)
from .runs import (PARAM_MAX, artifact_names, check_resumable, download_run_file, experiment_name, finished_training_runs,
                   git_commit, log_artifact, log_artifacts_to, log_config, log_dataset, log_evaluation,
                   log_metrics, log_params, log_tables, log_text, run, set_tag)
from .store import DEFAULT_URI, TrackingError, configure, current_uri, resolve_uri
from .views import RUNS_VIEW_KEY, TrainingRuns, latest_training_runs, show_first

__all__ = ["DEFAULT_URI", "DEMO_ALIAS", "PARAM_MAX", "RUNS_VIEW_KEY", "TrackingError", "TrainingRuns", "artifact_names",
           "check_resumable", "configure", "current_uri", "describe_run", "describe_version", "download_model", "download_run_file", "experiment_name",
           "finished_training_runs", "git_commit", "latest_training_runs", "latest_version_metric", "latest_versions", "log_artifact",
           "log_artifacts_to", "log_config", "log_dataset", "log_evaluation", "log_metrics", "log_model",
           "log_params", "log_tables", "log_text", "masked_overrides", "model_version", "promote", "refusal", "resolve_model_uri",
           "resolve_uri", "run", "run_metrics", "run_name", "version_description", "version_source", "set_alias", "set_description", "set_tag", "show_first"]
