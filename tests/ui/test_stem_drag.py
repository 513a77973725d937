"""A stem dragged out of its row is a file in the drag folder: as separated or resampled,
tagged, written a block at a time, reused while unchanged, never written over once
dropped; a drag refused or a folder that cannot be written says what can be done."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.stemview import StemPanel
from stemgui.ui.timeline import Timeline
from tests.ui.drag_rig import dropped
from tests.ui.song_window import NAMES, RATE, done_job, make_stemset, null_window


def test_a_stem_drags_out_as_a_wav_file(qtbot, panel, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.track = "My Song"
    mime = panel.drag_mime("bass")
    (url,) = mime.urls()
    path = url.toLocalFile()
    assert path == str(tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav")
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE and sf.info(path).subtype == "FLOAT"
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("bass"))  # as separated


def test_a_stem_dragged_again_reuses_its_file_while_it_is_as_written(
    qtbot, panel, tmp_path, monkeypatch
):
    """Every drag wrote the stem again on the GUI thread: 0.4 s for a 10-minute stem, 1 s
    resampled, each time the same stem was dragged into another track of the DAW."""
    import stemgui.audio.encode as encode
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writes = []
    for module, name in ((encode, "write_audio"), (stream, "write_blocks")):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, real=real, **k: writes.append(a[0]) or real(*a, **k)
        )
    panel.track = "My Song"
    first = panel.drag_file("bass")
    assert panel.drag_file("bass") == first and len(writes) == 1
    first.unlink()  # deleted since: written again
    assert panel.drag_file("bass") == first and len(writes) == 2 and first.is_file()


def test_a_stem_of_a_song_left_and_come_back_to_reuses_its_file(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """A finished song left reads its stems from the stem cache (``park``): the same stem
    dragged after coming back was written a second time, as "My Song (2) - bass.wav"."""
    from stemgui.ui.separation_options import SeparationOptions

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.cache_key = (str(job.path), 0, 0, SeparationOptions())
    first = win.stems.drag_file("bass")
    win.show_job(None)
    stems = job.stemset  # parked: the stem cache's copy of the same stems
    job.stemset = StemSet(stems.names, stems.samplerate, stems.data.copy(), mix=stems.mix)
    win.show_job(job)
    assert win.stems.drag_file("bass") == first
    assert sorted(p.name for p in first.parent.iterdir()) == ["My Song - bass.wav"]
    job.cache_key = (str(job.path), 0, 0, SeparationOptions(shifts=2))  # separated again
    assert win.stems.drag_file("bass").name == "My Song (2) - bass.wav"
    win.close()


def test_a_stem_dropped_earlier_is_never_written_over(qtbot, panel, tmp_path, monkeypatch):
    """A DAW plays a dropped file where it lies: dragging another song of the same name
    (cd1/01.wav, cd2/01.wav), or the stem at another rate, wrote over the file dropped before,
    and the DAW's first track played the second song."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.track = "My Song"
    first = panel.drag_file("bass")
    panel.drag_rate = lambda: 12000
    second = panel.drag_file("bass")
    assert second.name == "My Song (2) - bass.wav" and sf.info(second).samplerate == 12000
    assert sf.info(first).samplerate == RATE  # as dropped
    panel.drag_rate = lambda: RATE
    panel.show_song(make_stemset(3 * RATE), MixerState(NAMES), "My Song")  # same name
    third = panel.drag_file("bass")
    assert third.name == "My Song (3) - bass.wav" and sf.info(third).duration == 3.0
    assert sf.info(first).duration == 4.0  # the first song's, as dropped
    first.write_bytes(b"changed by someone else since")  # not ours any more: not written over
    panel.drag_rate = lambda: 12000
    assert panel.drag_file("bass").name == "My Song (4) - bass.wav"
    assert first.read_bytes() == b"changed by someone else since"


def test_a_stem_dropped_in_an_earlier_run_is_never_written_over(
    qtbot, panel, tmp_path, monkeypatch
):
    """Only the files of this run's drags were spared: the next session's drag of another
    song of the same name wrote over the file an Ableton project of the day before played."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    earlier = tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"dropped yesterday")
    panel.track = "My Song"
    assert panel.drag_file("bass").name == "My Song (2) - bass.wav"
    assert earlier.read_bytes() == b"dropped yesterday"


def test_a_stem_drags_out_at_the_rate_asked_resampled_as_julius_does(
    qtbot, panel, tmp_path, monkeypatch
):
    """A 48 kHz song's stem dropped into a DAW session at 48 kHz was at the model's rate."""
    import julius
    import torch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    panel.drag_rate = lambda: 12000
    (url,) = panel.drag_mime("bass").urls()
    samples, rate = sf.read(url.toLocalFile(), dtype="float32", always_2d=True)
    expected = julius.resample_frac(torch.from_numpy(panel.stemset.stem("bass")), RATE, 12000)
    assert rate == 12000 and samples.shape == (6 * RATE, 2)
    np.testing.assert_allclose(samples.T, expected.numpy(), atol=1e-6)


def test_a_stem_drags_out_tagged_as_an_export_tags_it(qtbot, settings_store, tmp_path, monkeypatch):
    """The export dialog's files carry the song's tags, the stem in the title, its tempo and
    key; a dragged stem had none: "vocals" by nobody in a DJ's library, without its BPM."""
    from stemgui.audio.tags import read_tags
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.key import Key
    from stemgui.stems.tempo import Tempo
    from stemgui.stems.waveform import StemWaveforms
    from tests.audio.media import tags_of

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = null_window(qtbot, settings_store, [])
    win.settings.set(S.EXPORT_RATE, "stems")
    job = done_job(win, tmp_path)
    with sf.SoundFile(job.path, "w", RATE, 2) as song:
        song.artist, song.title = "The Band", "Night Drive"
        song.write(np.zeros((RATE, 2), dtype=np.float32))
    bass = win.stems.drag_file("bass")  # not yet analysed: no tempo nor key
    assert read_tags(bass) == {"artist": "The Band", "title": "Night Drive (Bass)"}
    assert "TBPM" not in tags_of(bass)
    job.waveforms = StemWaveforms(job.stemset)
    job.waveforms.analysis = Analysis(Tempo(120.0), Key(2, "major"))  # found since
    again = win.stems.drag_file("bass")  # the file without them is not dropped again
    tags = tags_of(again)
    assert (tags["TBPM"], tags["TKEY"], tags["title"]) == ("120", "D", "Night Drive (Bass)")
    assert tags["comment"] == "Bass of Night Drive, separated by stemgui (tiny)"
    assert again.name == "My Song (2) - bass.wav" and "TBPM" not in tags_of(bass)
    assert win.stems.drag_file("bass") == again  # and then dropped again
    win.close()


def test_a_long_stem_drags_out_a_block_at_a_time(qtbot, panel, tmp_path, monkeypatch):
    """A stem on disk (a long song's, or any song's read back from the stem cache) dragged out
    at its own rate was copied whole into memory first, on the window's thread: 1.3 GB for a
    60-minute song. As at another rate, it is read a block at a time."""
    import tracemalloc

    from stemgui.audio.stream import BLOCK_FRAMES

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    frames = 16 * BLOCK_FRAMES
    data = np.memmap(tmp_path / "stems.f32", np.float32, "w+", shape=(4, 2, frames))
    data[1] = 0.01
    panel.show_song(StemSet(NAMES, RATE, data), MixerState(NAMES), "Long Song")
    tracemalloc.start()
    try:
        path = panel.drag_file("bass")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < data[1].nbytes / 2  # a few blocks of 2 MiB, not the stem's 32 MiB
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    np.testing.assert_array_equal(samples.T, data[1])


def test_a_stem_still_separating_does_not_drag_out(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    widget.show_song(make_stemset(ready=100), MixerState(NAMES), "Busy")
    errors = []
    widget.error.connect(errors.append)
    widget.drag_out("drums")
    # nor one cancelled, whose separation never finishes: it named no way on
    assert errors[0] == (
        "Busy: the stems can be dragged out once the whole song is separated "
        "(Retry a cancelled song)"
    )
    assert not (tmp_path / "cache" / "stemgui" / "drag").exists()


def test_a_drag_refused_is_said_until_a_drag_is_made(qtbot, settings_store, tmp_path, monkeypatch):
    """The banner of a drag refused stayed once the song had finished separating and its
    stems were dragged out: "the stems can be dragged out once the whole song is separated"
    over a song whose stems had just been dropped."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path, make_stemset(ready=100))
    win.stems.drag_out("bass")
    assert win.banner.isVisibleTo(win) and "once the whole song is separated" in win.message
    job.stemset.frames_ready = job.stemset.frames  # finished since
    win.stems.drag_out("bass")
    assert not win.banner.isVisibleTo(win)
    assert (tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav").is_file()
    win.close()


def test_a_drag_folder_that_cannot_be_made_is_said(qtbot, panel, tmp_path, monkeypatch):
    """A file where the drag folder goes raised FileExistsError out of the drag."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")
    errors = []
    panel.error.connect(errors.append)
    panel.drag_out("bass")
    assert errors == [
        f"{folder}: the folder dragged stems are written to cannot be made (File exists); "
        f"move away the file in its place or make {folder.parent} writable"
    ]


def test_a_drag_folder_that_cannot_be_made_on_a_full_disk_says_to_free_space(
    qtbot, panel, tmp_path, monkeypatch
):
    """It said to move away a file in its place or make the cache folder writable."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "mkdir", full)
    errors = []
    panel.error.connect(errors.append)
    panel.drag_out("bass")
    assert errors == [
        f"{folder}: the folder dragged stems are written to cannot be made (No space left on "
        "device); free some space or export it to another folder with File ▸ Export stems…"
    ]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "the disk is full; free some space or export it to another folder with "
            "File ▸ Export stems…",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied"),
            "the folder {folder} is not writable; export it to another folder with "
            "File ▸ Export stems… or change its permissions",
        ),
    ],
)
def test_a_drag_that_cannot_be_written_says_what_can_be_done(
    qtbot, panel, tmp_path, monkeypatch, error, said
):
    """A full disk or a drag folder not writable said "choose another folder", which a drag
    cannot do."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "stemgui" / "drag"

    def refused(self, data):
        raise error

    monkeypatch.setattr(sf.SoundFile, "write", refused)
    errors = []
    panel.error.connect(errors.append)
    panel.track = "My Song"
    panel.drag_out("bass")
    path = folder / "My Song - bass.wav"
    assert errors == [f"{path}: could not be written: " + said.format(folder=folder)]
    assert list(folder.iterdir()) == []  # nor a temporary file
