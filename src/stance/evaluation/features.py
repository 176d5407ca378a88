"""What a linear model leans on: per label, its strongest features, as the table every TF-IDF run logs."""
from __future__ import annotations

import pandas as pd

from ..models.base import StanceModel


def top_features_table(model: StanceModel, k: int = 25) -> pd.DataFrame | None:
    """Per class, the TF-IDF features with the largest coefficients (None for models without them)."""
    top = getattr(model, "top_features", None)
    if top is None:
        return None
    rows = [{"label": label, "rank": i + 1, "feature": name, "coefficient": coef}
            for label, feats in top(k).items() for i, (name, coef) in enumerate(feats)]
    return pd.DataFrame(rows) if rows else None
