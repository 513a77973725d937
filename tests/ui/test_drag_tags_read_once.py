"""The song's tags a dragged stem carries (``Screen._drag_tags``) are read from its file once
per song shown, not at every press and drag of every stem."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from tests.ui.song_window import RATE, null_window, show_song


def _tagged(path, title: str) -> None:
    """Write the song at ``path`` again as a second of silence titled ``title``."""
    with sf.SoundFile(path, "w", RATE, 2, format="WAV") as song:
        song.title = title
        song.write(np.zeros((RATE, 2), dtype=np.float32))


def test_the_songs_tags_are_read_once_per_song_shown(qtbot, settings_store, tmp_path, monkeypatch):
    """PyAV opened the song at the press on a row, again at its drag, and once for every stem
    at a pace: on the window's thread, a song on a network drive held it each time."""
    import stemgui.audio.tags as tags

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    read = []
    real = tags.read_tags
    monkeypatch.setattr(tags, "read_tags", lambda path: read.append(path) or real(path))
    win = null_window(qtbot, settings_store, [])
    first = show_song(win, tmp_path / "First.wav")
    _tagged(first.path, "Morning")
    win.stems.drags.write_ahead("bass")  # the press on its row
    for name in ("bass", "bass", "drums"):  # its drag, then two more
        with sf.SoundFile(win.stems.drag_file(name)) as dropped:
            assert dropped.title == f"Morning ({name.capitalize()})"
    assert read == [first.path]
    second = show_song(win, tmp_path / "Second.wav")
    _tagged(second.path, "Evening")
    with sf.SoundFile(win.stems.drag_file("bass")) as dropped:
        assert dropped.title == "Evening (Bass)"  # the song shown's, not the last one's
    assert read == [first.path, second.path]
