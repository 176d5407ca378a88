"""What every part of the package leans on and that knows nothing of stance detection: signals and interruption
(interrupt), locks, distributed ranks, secret masking, progress lines (console), and files: what a path is,
its format by suffix, and the one atomic write (files). Nothing here imports another stance package."""
