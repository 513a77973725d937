"""The GPU recipe's Opus packing keeps stems aligned and close to the originals."""

from __future__ import annotations

import numpy as np

from training import data
from training.gpu.pack import pack, write_opus


def test_packed_stems_read_back_aligned(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(3 * 44100) / 44100
    folder = tmp_path / "Song"
    folder.mkdir()
    stems = []
    for index, source in enumerate(data.SOURCES):
        tone = 0.2 * np.sin(2 * np.pi * 110 * (index + 1) * t + rng.random())
        stem = np.stack([tone, 0.5 * tone]).astype(np.float32)
        write_opus(folder / f"{source}.ogg", stem)
        stems.append(stem)
    (track,) = data.discover([tmp_path])
    signals = data.read_track(track)
    assert signals.shape[:2] == (5, 2)
    inner = slice(2000, 3 * 44100 - 2000)
    for decoded, original in zip(signals[1:], stems):
        error = decoded[:, inner] - original[:, inner]
        snr = 10 * np.log10((original[:, inner] ** 2).sum() / (error**2).sum())
        assert snr > 15, snr  # a misaligned (pre-skip) decode scores below 0 dB
    np.testing.assert_allclose(signals[0], signals[1:].sum(axis=0), atol=1e-5)


def _write_track(folder):
    """A one-second track of stem files: a tone per source."""
    import soundfile as sf

    folder.mkdir(parents=True)
    t = np.arange(44100) / 44100
    for index, source in enumerate(data.SOURCES):
        tone = 0.2 * np.sin(2 * np.pi * 110 * (index + 1) * t)
        sf.write(folder / f"{source}.wav", np.stack([tone, tone]).T, 44100)


def test_a_packed_folder_is_described_by_the_data_it_was_packed_from(tmp_path):
    _write_track(tmp_path / "musdb" / "train" / "Song")
    assert data.describe(tmp_path / "musdb" / "train") == "musdb/train"
    assert pack([str(tmp_path / "musdb" / "train")], tmp_path / "packed") == 1
    assert data.describe(tmp_path / "packed") == "musdb/train (packed as Ogg Opus, 48 kHz)"
    assert [t.name for t in data.discover([tmp_path / "packed"])] == ["Song"]


def test_a_missing_data_folder_is_one_line_and_exit_1(tmp_path, capsys):
    """prepare.sh with a wrong data folder ended in a FileNotFoundError traceback."""
    from training.gpu.pack import main

    assert main(["--data", str(tmp_path / "absent"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == f"pack: {tmp_path / 'absent'}: no such data folder\n"
    assert not (tmp_path / "out").exists()


def test_data_given_twice_packs_the_tracks_of_both(tmp_path, capsys):
    """``--data a --data b`` packed b's tracks alone, and said nothing of a."""
    from training.gpu.pack import main

    _write_track(tmp_path / "a" / "One")
    _write_track(tmp_path / "b" / "Two")
    roots = ["--data", str(tmp_path / "a"), "--data", str(tmp_path / "b")]
    assert main([*roots, "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == f"packed 2 tracks into {tmp_path / 'out'}\n"
    assert sorted(t.name for t in data.discover([tmp_path / "out"])) == ["One", "Two"]
