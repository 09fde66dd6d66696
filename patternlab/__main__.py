"""Entry point for `python -m patternlab`."""

import sys

from patternlab.cli import main

sys.exit(main())
