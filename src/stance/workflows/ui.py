"""`stance ui`: the MLflow UI over this project's store (tracking.views builds the command and the links)."""
from __future__ import annotations

import os
import socket

from ..runtime.masking import mask
from ..tracking.store import require_existing_store
from ..tracking.views import (base_url, describe_links, latest_training_runs, resolve_uri, show_first, ui_command,
                              ui_environment, view_metrics)


def check_port(host: str, port: int) -> None:
    """Refuse, before any link is printed, a port the server could not listen on (out of range, or taken)."""
    if not 1 <= port <= 65535:
        raise ValueError(f"--port {port} is not a port number (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closed port is free
        try:
            s.bind((host, port))
        except OSError as e:
            raise RuntimeError(f"cannot listen on {host}:{port} ({e.strerror}); another server may use it: "
                               f"choose another --port") from None


def open_ui(uri: str | None, host: str, port: int, experiment: str | None) -> None:
    """Print the direct links, then replace this process with the MLflow server (signals reach it directly)."""
    check_port(host, port)
    if uri is not None:  # named on the command line: never start on an empty store made by a typo
        require_existing_store(uri)
    cmd = ui_command(uri, host, port)
    base = base_url(host, port)
    found = latest_training_runs(uri, experiment)
    if found is not None and found.latest:
        show_first(found.experiment_id, view_metrics(found))  # also for stores trained before the view existed
    print(describe_links(found, base, mask(resolve_uri(uri))))
    print(f"MLflow UI on {base} (Ctrl-C stops it)", flush=True)  # flushed: exec drops unwritten output
    env = {**os.environ, **{k: v for k, v in ui_environment(uri).items() if k not in os.environ or
                            k == "MLFLOW_BACKEND_STORE_URI"}}
    os.execve(cmd[0], cmd, env)
