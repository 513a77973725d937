"""A tempo doubled, then halved back onto the estimate's own grid, is the estimate again: not
a correction (Playback ▸ Reset tempo to the estimate stayed enabled, doing nothing, and the
log called it "corrected by the user: undone"), as it is read at the next start."""

from __future__ import annotations

from stemgui.stems.analysis import Analysis, edit_info, kept_edit
from stemgui.stems.tempo import Tempo
from tests.stems.test_tempo_fix import _rock, _stems


def test_a_tempo_doubled_then_halved_onto_its_grid_is_the_estimate_again():
    rock = _stems(_rock(0.0))  # kicks on the whole seconds: halving keeps them
    found = Analysis(Tempo(120.0, 0.0, 0.5))
    back = found.scaled(2.0, rock).scaled(0.5, rock)
    assert back is found and back.found is None and "corrected" not in back.describe()
    assert found.edited(kept_edit(edit_info(back.edit)), rock) is found  # the next start's
