"""Multitrack discovery and decoding. The decoded-track cache: test_data_cache.py; excerpt
sampling: test_sampler.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from stemgui.errors import DecodeError
from tests.paths import ROOT
from tests.pipes import without_waiting
from tests.training.track_folders import _stems_folder, _tones
from training import data

MUSDB = ROOT.parent / "shared" / "data" / "musdb18-7" / "train"


def test_an_extra_stem_in_a_folder_is_said_to_be_left_out(tmp_path, caplog):
    """A piano.wav was dropped without a word while mixture.wav held it: training fed the sum
    of four stems, validation a mixture with the piano."""
    folder = _stems_folder(tmp_path, True)
    sf.write(folder / "piano.wav", np.zeros((100, 2), np.float32), 44100)
    (track,) = data.discover([tmp_path])
    assert track.name == "Song A"
    assert f"{folder}: piano.wav left out (the stems are drums, bass, other, vocals)" in caplog.text
    assert "add them to other" in caplog.text


@pytest.mark.parametrize("with_mixture", [True, False])
def test_stems_folder_reads_mixture_first(tmp_path, with_mixture):
    _stems_folder(tmp_path, with_mixture)
    (track,) = data.discover([tmp_path])
    assert track.name == "Song A" and not track.is_stem_file
    signals = data.read_track(track)
    assert signals.shape == (5, 2, 44100)
    np.testing.assert_allclose(signals[0], signals[1:].sum(axis=0), atol=1e-5)
    np.testing.assert_allclose(signals[1, 0], _tones()[0], atol=1e-6)


def test_a_root_that_is_one_stem_file_is_refused_naming_its_folder(tmp_path):
    """It said "no validation tracks under .../bass.wav", or none found, as of an empty folder."""
    folder = _stems_folder(tmp_path, False)
    with pytest.raises(ValueError) as caught:
        data.discover([folder / "bass.wav"])
    assert str(caught.value) == (
        f"{folder / 'bass.wav'}: is a file, not a track (a .stem.mp4 file or a folder of drums, "
        f"bass, other and vocals files) nor a folder of tracks; name its folder, {folder}"
    )


@pytest.mark.parametrize(("where", "name"), [(".", "bass.wav"), ("sub", "../bass.wav")])
def test_a_root_that_is_one_stem_file_named_bare_names_the_folder_to_give(
    tmp_path, monkeypatch, where, name
):
    """``bass.wav`` given from its own folder said "name its folder, .", and ``../bass.wav``
    "name its folder, ..": no folder a user reads as the one to name."""
    folder = _stems_folder(tmp_path, False)
    (folder / "sub").mkdir()
    monkeypatch.chdir(folder / where)
    with pytest.raises(ValueError) as caught:
        data.discover([name])
    assert str(caught.value) == (
        f"{name}: is a file, not a track (a .stem.mp4 file or a folder of drums, bass, other "
        f"and vocals files) nor a folder of tracks; name its folder, {folder}"
    )


def test_a_root_that_is_itself_a_stems_folder_is_one_track(tmp_path):
    folder = _stems_folder(tmp_path, True)
    assert [t.path for t in data.discover([folder])] == [folder]


def test_a_stem_that_does_not_cover_the_song_is_refused_naming_the_track(tmp_path):
    folder = _stems_folder(tmp_path, False)
    sf.write(folder / "bass.wav", np.zeros((22050, 2)), 44100)  # half the song
    with pytest.raises(DecodeError, match=r"Song A.*differ in length.*bass 0\.50"):
        data.read_track(data.discover([tmp_path])[0])


@pytest.mark.parametrize("role", ["bass", "mixture"])
def test_a_stem_that_is_not_audio_says_what_to_do_with_the_track(tmp_path, role):
    """It said the app's "choose a song or a video", which a training user cannot do."""
    folder = _stems_folder(tmp_path, True)
    (folder / f"{role}.wav").write_text("notes about the mix\n")
    with pytest.raises(DecodeError) as caught:
        data.read_track(data.discover([tmp_path])[0])
    assert str(caught.value) == (
        f"{folder / role}.wav: is not an audio file (it looks like text); put the track's "
        f"{role} stem in its place, or move {folder} out of the data folder"
    )


def test_a_track_too_short_to_evaluate_is_refused(tmp_path):
    folder = tmp_path / "Blip"
    folder.mkdir()
    for name, tone in zip(data.SOURCES, _tones(frames=4410)):
        sf.write(folder / f"{name}.wav", np.stack([tone, tone]).T, 44100)
    with pytest.raises(DecodeError, match=r"Blip.*lasts 0\.10 s; a track needs 0\.2 s"):
        data.read_track(data.discover([tmp_path])[0])


def test_two_tracks_of_one_name_are_refused_naming_both(tmp_path):
    """cd2/01 was dropped without a word beside cd1/01 (or a second remix pool beside the first,
    both named remix-0000-*): half the data left out of training."""
    first = _stems_folder(tmp_path / "cd1", True).rename(tmp_path / "cd1" / "01")
    second = _stems_folder(tmp_path / "cd2", True).rename(tmp_path / "cd2" / "01")
    with pytest.raises(ValueError, match=rf"two tracks named 01: {first} and {second}"):
        data.discover([tmp_path])
    # the same track reached twice (a root and a folder in it) is one track
    assert [t.path for t in data.discover([tmp_path / "cd1", first])] == [first]


def test_two_files_of_one_stem_are_refused_naming_both(tmp_path):
    """drums.wav beside drums.flac: one was read, which one hung on the order the disk listed
    them, and the other was said to be "left out (the stems are drums, ...)"."""
    folder = _stems_folder(tmp_path, True)
    sf.write(folder / "Drums.flac", np.zeros((44100, 2), np.float32), 44100)
    with pytest.raises(ValueError, match=rf"^{folder}: two drums files, Drums.flac and drums.wav"):
        data.discover([tmp_path])


def test_stems_in_any_format_the_app_reads_make_a_track(tmp_path):
    """A folder of .opus (or .m4a) stems was passed over without a word: "no training tracks"."""
    folder = tmp_path / "Song B"
    folder.mkdir()
    for name, tone in zip(data.SOURCES, _tones(48000, 48000)):
        sf.write(folder / f"{name}.opus", np.stack([tone, tone]).T, 48000, "OPUS", format="OGG")
    (track,) = data.discover([tmp_path])
    assert track.path == folder
    assert data.read_track(track).shape[:2] == (5, 2)


def test_incomplete_folder_is_not_a_track_and_is_named(tmp_path, caplog):
    folder = _stems_folder(tmp_path, True)
    (folder / "vocals.wav").rename(folder / "vocal.wav")
    assert data.discover([tmp_path]) == []
    assert f"{folder}: left out, it has no vocals" in caplog.text  # was dropped without a word


@pytest.mark.skipif(sys.platform == "win32", reason="no named pipes in folders there")
def test_named_pipes_in_a_data_folder_are_not_opened(tmp_path, caplog):
    """A named pipe in a data folder, named as a stem or as a .stem.mp4, is no track's file:
    opening one waits for a writer for ever. The folder whose stem (or mixture) it takes is left
    out, saying that file is not a regular file: it said "it has no vocals", beside the vocals
    file, and a piped mixture was passed over for the stems' sum. The other tracks are found."""
    good = _stems_folder(tmp_path / "good", True)
    piped = _stems_folder(tmp_path / "piped", False)
    (piped / "vocals.wav").unlink()
    mixed = _stems_folder(tmp_path / "mixed", False).rename(tmp_path / "mixed" / "Song C")
    pipes = [piped / "vocals.wav", mixed / "mixture.wav", tmp_path / "Song B.stem.mp4"]
    for pipe in pipes:
        os.mkfifo(pipe)
    found = without_waiting(lambda: data.discover([tmp_path]), *pipes)
    assert found == [data.TrackSource("Song A", good)]
    for folder, name in ((piped, "vocals.wav"), (mixed, "mixture.wav")):
        said = f"{folder}: left out, its {name} is not a regular file (a named pipe, a socket or "
        assert said + "a device); put an audio file in its place" in caplog.text
    assert "has no" not in caplog.text


def _write_stem_mp4(path: Path, streams: int) -> None:
    tones = _tones(22050)
    with av.open(str(path), "w", format="mp4") as container:
        outs = [container.add_stream("aac", rate=44100, layout="stereo") for _ in range(streams)]
        signals = [np.sum(tones, axis=0), *tones][:streams]
        for out, signal in zip(outs, signals):
            stereo = np.stack([signal, signal]).astype(np.float32)
            for start in range(0, stereo.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(stereo[:, start : start + 1024]),
                    format="fltp",
                    layout="stereo",
                )
                frame.sample_rate = 44100
                for packet in out.encode(frame):
                    container.mux(packet)
            for packet in out.encode(None):
                container.mux(packet)


def test_stem_mp4_decodes_five_streams(tmp_path):
    path = tmp_path / "Song B.stem.mp4"
    _write_stem_mp4(path, 5)
    (track,) = data.discover([tmp_path])
    signals = data.read_track(track)
    assert signals.shape[:2] == (5, 2)
    assert abs(signals.shape[-1] - 22050) < 3000
    # Each source stream holds its own tone: the strongest FFT bin is at its frequency.
    for index, freq in enumerate((110, 220, 440, 880), start=1):
        spectrum = np.abs(np.fft.rfft(signals[index, 0, 4096:20000]))
        peak = np.argmax(spectrum) * 44100 / (20000 - 4096)
        assert abs(peak - freq) < 5


def test_stem_mp4_with_too_few_streams_names_the_file(tmp_path):
    path = tmp_path / "Bad.stem.mp4"
    _write_stem_mp4(path, 2)
    (track,) = data.discover([tmp_path])
    with pytest.raises(DecodeError, match=r"Bad\.stem\.mp4"):
        data.read_track(track)


@pytest.mark.parametrize("cut", [6, 3000])  # text, or a stem file cut short
def test_a_damaged_stem_mp4_says_what_to_do_naming_it_once(tmp_path, cut):
    """It said "cannot read this stem file ([Errno 1094995529] Invalid data found when
    processing input: '<the path again>')", and what to do with it nowhere."""
    path = tmp_path / "Song B.stem.mp4"
    if cut == 6:
        path.write_text("notes\n")
    else:
        _write_stem_mp4(path, 5)
        path.write_bytes(path.read_bytes()[:cut])
    (track,) = data.discover([tmp_path])
    with pytest.raises(DecodeError) as caught:
        data.read_track(track)
    said = str(caught.value)
    assert (
        said.startswith(f"{path}: cannot be read as a stem file (") and said.count(str(path)) == 1
    )
    assert said.endswith(
        "): it is cut short, damaged or not a .stem.mp4; download it again, or move it out of "
        "the data folder"
    )
    assert "Errno" not in said


def test_a_data_root_name_too_long_is_no_such_data_folder(tmp_path):
    """A recipe's root: it said "[Errno 36] File name too long"."""
    root = tmp_path / ("r" * 256)
    with pytest.raises(FileNotFoundError, match=rf"^{root}: no such data folder$"):
        data.discover([root])


def test_validation_split_of_musdb_previews():
    if not MUSDB.exists():
        pytest.skip(f"MUSDB18 previews not found at {MUSDB}")
    tracks = data.discover([MUSDB])
    train, valid = data.split_validation(tracks)
    assert len(valid) == 14 and len(train) == 80
    signals = data.read_track(valid[0])
    assert signals.shape[:2] == (5, 2) and signals.shape[-1] > 6 * 44100
    residual = signals[0] - signals[1:].sum(axis=0)
    snr = 10 * np.log10((signals[0] ** 2).sum() / (residual**2).sum())
    assert snr > 20
