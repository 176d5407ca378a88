"""Evaluation, as numbers and files: metrics (the one macro-F1 and F_avg), calibration metrics, the coverage
curve, error analysis, the paired bootstrap, figures, metric tables (summary.py), and an evaluation's files from a
model's probabilities on a labelled frame (scoring.py).

Everything here takes arrays, frames and labels, never a model: stance.models sits above this package (the
calibrator and the choice of prediction paths use its metrics), and the workflows that have a model score it and
pass the probabilities. Nothing here talks to MLflow: the workflows (train, `stance evaluate`, `stance compare`) log
what it returns through stance.tracking. Modules are imported by name, so using one never imports the others.
"""
