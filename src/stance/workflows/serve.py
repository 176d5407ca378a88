"""`stance serve`: MLflow's scoring app for one model, behind prediction.serving_guard's limits, on uvicorn."""
from __future__ import annotations

DEFAULT_MAX_BODY_MB = 10.0


def serve(model: str, host: str = "127.0.0.1", port: int = 5001, max_body_mb: float = DEFAULT_MAX_BODY_MB) -> None:
    """Serve `model` (models:/..., runs:/..., or a logged MLflow model folder) until stopped."""
    import uvicorn

    from .. import tracking
    from ..prediction.pyfunc import scoring_app
    from ..prediction.serving_guard import guard

    tracking.configure(None)
    app = guard(scoring_app(model), max_body_bytes=int(max_body_mb * 1024 * 1024))
    print(f"serving {model} on http://{host}:{port}/invocations (bodies up to {max_body_mb:g} MB; Ctrl-C stops it)",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
