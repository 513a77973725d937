"""A session saved by a newer version reads as far as this version knows it: fields it does not
know are left aside, the song kept with its options and its stems in the stem cache."""

from __future__ import annotations

import dataclasses

from stemgui.ui import session
from stemgui.ui.restore import Kept
from stemgui.ui.separation_options import SeparationOptions


def test_options_with_a_field_of_a_newer_version_keep_the_song_as_it_was(songs):
    options = SeparationOptions(segment=7.8, overlap=0.5, shifts=1)
    kept = Kept("a" * 64, (10, 20), ((str(songs[0]), (1, 2)),))
    newer = {**dataclasses.asdict(options), "denoise": True, "stems": ["vocals"]}
    saved = session.read([{"path": str(songs[0]), "options": newer, "kept": kept.to_json()}])
    (job,) = saved.jobs
    assert saved.damaged == 0
    assert job.options == options and job.kept == kept  # answered from the cache as it was


def test_options_missing_a_field_still_give_way_to_the_settings_of_now(songs):
    older = dataclasses.asdict(SeparationOptions(segment=7.8))
    del older["two_stems"]
    (job,) = session.read([{"path": str(songs[0]), "options": older}]).jobs
    assert job.options is None
