"""``cut_at``'s contract as its docstring states it: in the search while the song sounds on,
outside it where the song starts."""

from __future__ import annotations

import numpy as np

from stemgui.playback.cuts import cut_at

HOP, SEARCH, LOW, AIM, HIGH = 4, 2, 20, 22, 24


def _cut(heard: np.ndarray) -> int:
    loudest = float(np.abs(heard).max())  # what the mix heard loudest lately
    return cut_at(heard, 0, 0, 2 * HOP, AIM, LOW, HIGH, HOP, SEARCH, 1.0, loudest)


def test_a_song_sounding_on_is_cut_within_the_search():
    heard = (np.sin(np.arange(86) * 0.7) + 1.5).astype(np.float32)
    assert LOW <= _cut(heard) <= HIGH


def test_a_start_in_the_previous_second_half_is_cut_at_the_template_before_the_search():
    heard = np.concatenate([np.zeros(6), np.sin(np.arange(80)) + 1.5]).astype(np.float32)
    assert _cut(heard) == HOP  # previous + hop: the attack played as it comes
