"""`python -m viz ...` is the `scratchgrad` command."""

import sys

from viz.cli import main

sys.exit(main())
