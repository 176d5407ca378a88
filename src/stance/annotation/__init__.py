"""The annotation loop's parts: choose what to label next (selection), label it in a terminal (session), agreement
between annotators (agreement), and the simulated annotation curve (curve). `stance annotate` puts them together in
stance.workflows.annotate."""
