"""``python -m training.synth ...``: the same as ``python -m training synth ...``."""

import sys

from training.__main__ import main

sys.exit(main(["synth", *sys.argv[1:]]))
