"""Which process am I under `torchrun` / `accelerate launch`, and how rank 0 shares a value with the others.

Every rank trains (the Trainer wraps the model in DDP); only rank 0 talks to MLflow and writes outputs.
The launchers describe the job in the environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return rank() == 0


def main_process_only(fn: F) -> F:
    """Under torchrun/accelerate only rank 0 writes (to MLflow, to the run's folder); the other ranks' calls do
    nothing."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs) if is_main_process() else None
    return wrapper  # type: ignore[return-value]


def share_from_main(value: T) -> T:
    """Rank 0's `value` on every rank (e.g. its MLflow run id); a no-op in a single process."""
    if world_size() == 1:
        return value
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        # The Trainer (via accelerate) reuses an existing process group instead of creating its own.
        backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    box = [value if is_main_process() else None]
    dist.broadcast_object_list(box, src=0, device=torch.device("cpu"))
    return box[0]  # type: ignore[return-value]
