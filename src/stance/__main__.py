"""`python -m stance ...`: the `stance` command."""
import sys

from .cli import main

sys.exit(main())
