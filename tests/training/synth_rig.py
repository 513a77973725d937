"""What the synthetic-song tests share: the rate and the vocal engine they render with.

Imported by those tests after their ``pytest.importorskip("fluidsynth")``.
"""

from __future__ import annotations

from training.synth import sing

SR = 44100
ENGINE = "sinsy" if sing.available() else "fluidsynth"
