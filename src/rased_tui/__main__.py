"""`python -m rased_tui` runs the same command line as `rased-tui`."""

import sys

from rased_tui.cli import main

sys.exit(main())
