"""``python -m training.synth ...``: the ``synth`` command on its own (see :mod:`.cli`)."""

import sys

from training.synth.cli import main

sys.exit(main())
