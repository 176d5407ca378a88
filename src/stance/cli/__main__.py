"""`python -m stance.cli ...`: the `stance` command."""
import sys

from . import main

sys.exit(main())
