"""What a linear model leans on: per label, its strongest features, as the table every TF-IDF run logs."""
from __future__ import annotations

import pandas as pd


def top_features_table(top: dict[str, list[tuple[str, float]]]) -> pd.DataFrame | None:
    """Per class, the features with the largest coefficients, as a model's `top_features(k)` gives them (None when
    there are none)."""
    rows = [{"label": label, "rank": i + 1, "feature": name, "coefficient": coef}
            for label, feats in top.items() for i, (name, coef) in enumerate(feats)]
    return pd.DataFrame(rows) if rows else None
