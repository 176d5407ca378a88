"""A sample to label drawn so that intervals computed from it are valid: simple random, or stratified by a column
with proportional allocation (at least two per stratum where it has two, so each stratum's variance is known).

The manifest records the design: seed, ids, each id's stratum and inclusion probability (n_h / N_h), and the
strata sizes; `stance measure` weights each stratum by its share of the statements from it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

MANIFEST_KIND = "stance-sample"


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation by largest remainder, each stratum given min(2, N_h) first."""
    total = sum(sizes.values())
    take = {h: min(2, size) for h, size in sizes.items()}
    left = n - sum(take.values())
    if left < 0:
        raise DataError(f"--n {n} is too small for {len(sizes)} strata (at least 2 each, to know each variance)")
    room = {h: sizes[h] - take[h] for h in sizes}
    share = {h: left * room[h] / max(sum(room.values()), 1) for h in sizes}
    extra = {h: min(int(share[h]), room[h]) for h in sizes}
    rest = left - sum(extra.values())
    for h in sorted(sizes, key=lambda h: share[h] - int(share[h]), reverse=True):
        if rest <= 0:
            break
        if extra[h] < room[h]:
            extra[h], rest = extra[h] + 1, rest - 1
    return {h: take[h] + extra[h] for h in sizes}


def draw(frame: pd.DataFrame, n: int, seed: int, stratify_by: str | None = None) -> tuple[pd.DataFrame, dict]:
    """(the sampled rows in random order, the manifest). `frame` has `id` and `where` (and the stratum column)."""
    if n > len(frame):
        raise DataError(f"--n {n} is more than the {len(frame)} statements in the data")
    rng = np.random.default_rng(seed)
    if stratify_by is None:
        strata = pd.Series(["all"] * len(frame), index=frame.index)
    elif stratify_by not in frame.columns:
        raise DataError(f"--stratify-by {stratify_by!r}: no such column (columns: {list(frame.columns)})")
    else:
        missing = frame[stratify_by].isna() | (frame[stratify_by].astype(str).str.strip() == "")
        if missing.any():
            raise DataError([f"{w}, field {stratify_by!r}: missing (every statement needs a stratum)"
                             for w in frame.loc[missing, "where"]][:20])
        strata = frame[stratify_by].astype(str)
    sizes = strata.value_counts().sort_index().to_dict()
    sizes = {str(h): int(v) for h, v in sizes.items()}
    counts = allocate(sizes, n) if stratify_by else {"all": n}
    picked = np.concatenate([rng.choice(np.flatnonzero((strata == h).to_numpy()), counts[h], replace=False)
                             for h in sizes])
    picked = rng.permutation(picked)  # labelling order carries no stratum
    rows = frame.iloc[picked].copy()
    rows["stratum"] = strata.iloc[picked].to_numpy()
    rows["inclusion_probability"] = [counts[h] / sizes[h] for h in rows["stratum"]]
    manifest = {"kind": MANIFEST_KIND, "design": "stratified" if stratify_by else "simple random",
                "seed": seed, "n": int(n), "population": int(len(frame)), "stratify_by": stratify_by,
                "strata": {h: {"N": sizes[h], "n": counts[h]} for h in sizes},
                "items": [{"id": str(r.id), "stratum": r.stratum, "inclusion_probability": r.inclusion_probability}
                          for r in rows[["id", "stratum", "inclusion_probability"]].itertuples(index=False)]}
    return rows, manifest


def check_manifest(manifest: dict, path: str) -> dict[str, str]:
    """id -> stratum of a manifest written by `draw`; a file that is not one is named."""
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND or "items" not in manifest:
        raise DataError(f"{path}: not a sample manifest (written by `stance annotate sample`)")
    return {str(item["id"]): str(item["stratum"]) for item in manifest["items"]}
