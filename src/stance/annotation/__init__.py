"""The annotation loop: choose what to label next, label it in a terminal, import filled batches, agreement."""
