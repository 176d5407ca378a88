"""`stance ui`: the MLflow UI over this project's store (tracking.views builds the command and the links)."""
from __future__ import annotations

import os

from ..tracking.views import (base_url, describe_links, latest_training_runs, resolve_uri, show_first, ui_command,
                              view_metrics)


def open_ui(uri: str | None, host: str, port: int, experiment: str | None) -> None:
    """Print the direct links, then replace this process with the MLflow server (signals reach it directly)."""
    cmd = ui_command(uri, host, port)
    base = base_url(host, port)
    found = latest_training_runs(uri, experiment)
    if found is not None and found.latest:
        show_first(found.experiment_id, view_metrics(found))  # also for stores trained before the view existed
    print(describe_links(found, base, resolve_uri(uri)))
    print(f"MLflow UI on {base} (Ctrl-C stops it)", flush=True)  # flushed: exec drops unwritten output
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.execv(cmd[0], cmd)
