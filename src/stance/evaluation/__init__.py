"""Evaluation, as numbers and files: metrics (the one macro-F1 and F_avg), calibration metrics, the coverage
curve, error analysis, the paired bootstrap, figures, and scoring a model on a labelled frame (scoring.py).

Nothing here talks to MLflow: the verbs (train, `stance evaluate`, `stance compare`) log what it returns through
stance.tracking. Modules are imported by name, so using one never imports the others.
"""
