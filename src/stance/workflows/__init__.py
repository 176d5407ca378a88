"""What a user runs, as library calls: train one config (training, `stance.train`), score tracked models on a
labelled file (evaluate), configs x seeds (experiment), runs side by side (compare), why a label (explain), the
annotation loop (annotate), the demo (demo) and the MLflow UI (ui). The command line (stance.cli) only parses
arguments and calls these; a workflow calls another only to run it whole (experiment -> training and compare,
demo -> training).
"""
