"""``python -m steprl``: the ``steprl`` command."""

import sys

from steprl.cli import main

sys.exit(main())
