"""Exporting at the speed and key heard (``ExportRequest.pace``): files as long as the pace
makes them, every note moved, the stems still adding up to the mix, named after the pace."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.audio.encode import AudioFormat
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.pace import Pace
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, NAMES, RATE, read
from tests.playback.stretch_rig import assert_ends_once, peaks

T = np.arange(3 * RATE) / RATE
TONES = (110.0, 220.0, 330.0, 440.0)


@pytest.fixture
def tone_stems() -> StemSet:
    """Each stem a tone of its own (drums the lowest), 3 s."""
    data = np.stack([np.tile(0.2 * np.sin(2 * np.pi * f * T), (2, 1)) for f in TONES])
    data = data.astype(np.float32)
    return StemSet(NAMES, RATE, data, mix=data.sum(axis=0))


@pytest.mark.parametrize("pace", [Pace(0.75, 0), Pace(1.0, 2), Pace(1.25, -3)])
def test_the_stems_at_a_pace_add_up_to_the_mix_at_it_with_every_note_moved(
    tmp_path, tone_stems, pace
):
    request = ExportRequest(folder=tmp_path, mix_gains=(1.0, 1.0, 1.0, 1.0), fmt=FLOAT32, pace=pace)
    written = export(tone_stems, request, "Song", "m")
    label = pace.label
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"m/Song {label}/{name}.wav" for name in (*NAMES, "mix")
    ]
    files = [read(p) for p in written]
    assert all(f.shape == (2, round(tone_stems.frames / pace.speed)) for f in files)
    # the windows are cut alike in every file: the stems still add up to the mix
    np.testing.assert_allclose(sum(files[:4]), files[4], atol=1e-5)
    ratio = 2 ** (pace.semitones / 12)
    for samples, tone in zip(files[:4], TONES):
        assert peaks(samples[0, RATE // 4 : -RATE // 4], 1) == pytest.approx(
            [tone * ratio], rel=0.004
        )


@pytest.mark.parametrize("pace", [Pace(0.25, 0), Pace(0.5, 3), Pace(0.3, 0)])
def test_a_song_that_ends_on_a_held_note_ends_once_at_a_slow_pace(tmp_path, pace):
    """The file's last 50 ms held the note's end again after it first fell (0.20, 0.11, 0.16,
    0.05 at 25 %, 10 ms at a time): the stretcher laid the song's last notes over the silence
    it read past the song's end. The song's last frame plays as the file's last does (at 25 %
    the note fell 69 ms before, the whole song early by as much), so it may fall as it ends."""
    frames = round(0.3 * RATE)
    note = np.tile(0.3 * np.sin(2 * np.pi * 440 * T[:frames]), (2, 1)).astype(np.float32)
    stems = StemSet(NAMES, RATE, np.stack([note * (name == "bass") for name in NAMES]))
    request = ExportRequest(folder=tmp_path, stems=["bass"], fmt=FLOAT32, pace=pace)
    (bass,) = export(stems, request, "Song", "m")
    samples = read(bass)
    assert samples.shape == (2, round(frames / pace.speed))
    heard = np.concatenate([samples[0], np.zeros(RATE // 10, np.float32)])  # then nothing
    assert_ends_once(heard, frames / pace.speed, 2 * round(0.046 * RATE) / pace.speed)


def test_as_the_song_is_the_pace_changes_nothing(tmp_path, tone_stems):
    plain = export(tone_stems, ExportRequest(folder=tmp_path / "a", fmt=FLOAT32), "Song", "m")
    normal = ExportRequest(folder=tmp_path / "b", fmt=FLOAT32, pace=Pace())
    same = export(tone_stems, normal, "Song", "m")
    assert [p.relative_to(tmp_path / "b") for p in same] == [
        p.relative_to(tmp_path / "a") for p in plain
    ]
    for a, b in zip(plain, same):
        np.testing.assert_array_equal(read(a), read(b))


def test_rescaled_together_the_second_pass_reads_what_the_first_measured(tmp_path, tone_stems):
    """16-bit with one divisor: a pass over every file for the peak, then one writing each;
    the chain runs again from the start for each, and gives the same samples."""
    loud = StemSet(NAMES, RATE, tone_stems.data * 2.0, mix=tone_stems.mix * 2.0)  # the mix clips
    request = ExportRequest(
        folder=tmp_path,
        mix_gains=(1.0, 1.0, 1.0, 1.0),
        rescale_together=True,
        pace=Pace(0.8, 1),
        template="{stem}.{ext}",
    )
    written = export(loud, request, "Song", "m")
    assert [p.name for p in written] == [f"{n} 80% +1st.wav" for n in (*NAMES, "mix")]
    files = [read(p) for p in written]
    assert max(float(np.abs(f).max()) for f in files) < 1.0
    assert float(np.abs(files[4]).max()) > 0.9  # divided by the mix's own peak
    np.testing.assert_allclose(sum(files[:4]), files[4], atol=4 / 2**15)


def test_the_spool_of_the_files_at_a_pace_is_deleted_after_the_export_or_a_cancel(
    tmp_path, tone_stems, monkeypatch
):
    import tempfile
    import threading

    from stemgui.export.progress import ExportCancelled

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    request = ExportRequest(folder=tmp_path / "out", fmt=FLOAT32, pace=Pace(0.5, -2))
    spools = []
    export(
        tone_stems,
        request,
        "Song",
        "m",
        on_progress=lambda f: spools.append(list(scratch.iterdir())),
    )
    assert any(spools) and not list(scratch.iterdir())  # there while writing, gone after
    stop = threading.Event()

    def halfway(fraction: float) -> None:
        if fraction > 0.5:
            stop.set()

    with pytest.raises(ExportCancelled):
        export(tone_stems, request, "Again", "m", on_progress=halfway, cancel=stop)
    assert not list(scratch.iterdir())
    assert not (tmp_path / "out" / "m" / "Again 50% -2st").exists()


def test_a_temporary_folder_that_is_gone_is_said_with_what_to_do(tmp_path, tone_stems, monkeypatch):
    """A stale TMPDIR: the export at a pace failed with FileNotFoundError, which the app said
    as an unexpected error naming a spool folder of its own making."""
    import tempfile

    from stemgui.errors import FileError

    gone = tmp_path / "gone"
    monkeypatch.setattr(tempfile, "tempdir", str(gone))
    request = ExportRequest(folder=tmp_path / "out", fmt=FLOAT32, pace=Pace(0.75))
    with pytest.raises(FileError) as caught:
        export(tone_stems, request, "Song", "m")
    assert str(caught.value) == (
        f"{gone}: this song's temporary files cannot be made there (no such folder); make that "
        "folder or let it be written, or set TMPDIR to another folder"
    )
    assert not (tmp_path / "out").exists()


def test_a_loud_song_transposed_still_adds_up(tmp_path, tone_stems):
    """The player's transposer bends peaks past -1 dBFS; the export's must not (it rescales
    its files itself), or the mix would no longer be the sum of the stems where it is loud."""
    loud = StemSet(
        NAMES, RATE, tone_stems.data * 2.0, mix=tone_stems.mix * 2.0
    )  # the mix peaks at 1.6
    request = ExportRequest(folder=tmp_path, mix_gains=(1.0,) * 4, fmt=FLOAT32, pace=Pace(1.0, 3))
    files = [read(p) for p in export(loud, request, "Song", "m")]
    assert float(np.abs(files[4]).max()) > 1.2
    np.testing.assert_allclose(sum(files[:4]), files[4], atol=1e-5)


def test_the_files_carry_the_tempo_and_key_they_are_heard_at(tmp_path, tone_stems):
    """Tagged for DJ software: 119 BPM in A major at 90 % and two semitones down is 107 BPM
    (107.1 to the whole beat, as ID3 counts) in G major."""
    from stemgui.export.exporter import tempo_and_key
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.key import Key
    from stemgui.stems.tempo import Tempo
    from tests.audio.media import tags_of

    found = Analysis(Tempo(119.0, 0.1, 60 / 119), Key(9, "major"))
    assert tempo_and_key(found, None) == {"bpm": "119", "key": "A"}
    assert tempo_and_key(found, Pace(0.9, -2)) == {"bpm": "107", "key": "G"}
    assert tempo_and_key(Analysis(None, Key(9, "minor")), Pace(1.0, 3)) == {"key": "Cm"}
    # 120.5: a half beat up, as people count (round took it to the even 120, and 60.5 to 60)
    assert tempo_and_key(Analysis(Tempo(96.4), None), Pace(1.25, 0)) == {"bpm": "121"}
    assert tempo_and_key(Analysis(Tempo(121.0), None), Pace(0.5, 0)) == {"bpm": "61"}
    assert tempo_and_key(None, Pace(0.9, -2)) == {}

    mp3 = AudioFormat("mp3")
    request = ExportRequest(tmp_path, stems=["bass"], fmt=mp3, analysis=found, pace=Pace(0.9, -2))
    (bass,) = export(tone_stems, request, "Song", "m")
    tags = tags_of(bass)
    assert (tags["TBPM"], tags["TKEY"], tags["title"]) == ("107", "G", "Song (Bass, 90% -2st)")
    (plain,) = export(tone_stems, ExportRequest(tmp_path / "plain", stems=["bass"]), "Song", "m")
    assert not {"TBPM", "TKEY"} & tags_of(plain).keys()  # a song not analysed: none


@pytest.mark.parametrize(
    ("pace", "label"),
    [
        (Pace(0.9, 0), "90%"),
        (Pace(1.0, 2), "100% +2st"),
        (Pace(0.75, -3), "75% -3st"),
        (Pace(2, 0), "200%"),
        (Pace(0.333, 0), "33.3%"),
        (Pace(0.334, 0), "33.4%"),
        (Pace(0.3333, 1), "33.33% +1st"),
        (Pace(0.755, 0), "75.5%"),
    ],
)
def test_the_label_tells_every_speed_apart_and_whole_percents_stay_whole(pace, label):
    """``--speed 0.333`` and ``0.334`` are two exports: one name would let --skip-existing keep
    the other's files."""
    assert pace.label == label


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf"), 0.2, 2.5])
def test_a_pace_outside_the_players_speeds_is_refused(speed):
    """Pace(0) divided by zero in ``frames``; a negative speed wrote 1-frame files; 2.5 was
    played at 2 while the file's length was counted at 2.5."""
    with pytest.raises(ValueError, match=r"must be from 0\.25 to 2\.0"):
        Pace(speed)


@pytest.mark.parametrize("semitones", [-7, 12])
def test_a_pace_outside_the_players_keys_is_refused(semitones):
    with pytest.raises(ValueError, match="must be from -6 to 6"):
        Pace(1.0, semitones)


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.25, 1.5, 2.0])
def test_each_beat_of_a_click_track_lands_on_the_grid_of_the_pace(tmp_path, speed):
    """The song frame at t * speed plays at t: after the first half window (at speed 1) the
    windows were aimed half a window's song late, so every beat but the first came early by
    hop * (1 - speed) / speed (23 ms at 50 %) and, in silence, brought in at a window's middle,
    up to half a window further off (-34 ms at 50 %, -92 ms at 25 %, +14 ms at 125 %, +12 ms at
    150 %)."""
    beat, frames = RATE // 2, 4 * RATE  # 120 BPM
    clicks = np.zeros((2, frames), np.float32)
    for at in range(0, frames, beat):
        clicks[:, at : at + 64] = 0.6 * np.exp(-np.arange(64) / 16)
    stems = StemSet(NAMES, RATE, np.stack([clicks * (name == "drums") for name in NAMES]))
    request = ExportRequest(folder=tmp_path, stems=["drums"], fmt=FLOAT32, pace=Pace(speed))
    (drums,) = export(stems, request, "Song", "m")
    loud = np.abs(read(drums)[0]) > 0.05
    onsets = np.flatnonzero(np.diff(loud.astype(np.int8), prepend=0) == 1)
    due = np.arange(0, frames, beat) / speed
    due = due[due < loud.size - beat / 4]
    # one onset a beat, each within 1 ms of where the pace puts it (at 200 % the windows cut in
    # reach of it bring some in up to 6 ms late)
    assert onsets.size == due.size
    assert np.abs(onsets - due).max() <= (6 if speed == 2.0 else 1) * RATE / 1000
