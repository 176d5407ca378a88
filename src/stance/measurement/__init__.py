"""Shares of each label per group and period with 95% intervals, from a model's probabilities and (optionally) hand
labels for a random sample: the estimators (estimators), one table of shares (shares), statements gathered into
group x period cells as they stream (collect) and the figure (plot). Arrays and frames in, frames out: no model,
no MLflow (workflows/measure.py ties them to models and runs)."""
