"""Every kind of bad or odd input, in one command-line batch with a good song.

Each file either separates correctly or gets exactly one error line naming it (no traceback on
the console; the log file keeps it); the good song still finishes; the exit status is 1. NaN and
infinite samples never reach the stems.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from stemgui import cli
from stemgui.audio.decode import decode
from stemgui.logs import LOG_FILE_NAME
from tests.reliability.corpus import make_corpus
from tests.reliability.helpers import (
    NAMES,
    error_lines,
    expected_stems,
    read,
    stem_folder,
    write_song,
)


def test_corpus_has_every_kind_the_issue_lists(tmp_path):
    cases = make_corpus(tmp_path / "corpus", long_seconds=1.0)
    assert len(cases) >= 25
    assert len({case.path.stem for case in cases}) == len(cases)  # one output folder each


def test_bad_input_batch(isolated, model_file, monkeypatch, capsys):
    root = isolated
    decode_module = importlib.import_module("stemgui.audio.decode")

    decoded = {}  # what the command line decoded, by path: the known answer's input

    def recording_decode(path, *args, **kwargs):
        song = decode(path, *args, **kwargs)
        decoded[Path(path)] = song.samples
        return song

    monkeypatch.setattr(decode_module, "decode", recording_decode)
    cases = make_corpus(root / "corpus")
    good = write_song(root / "good" / "good song.wav", seed=3)
    argv = [str(case.path) for case in cases]
    argv[len(argv) // 2 : len(argv) // 2] = [str(root / "good" / "good song.wav")]  # mid-batch
    status = cli.main([*argv, "-n", str(model_file), "--float32"])
    err = capsys.readouterr().err

    assert status == 1
    assert "Traceback" not in err
    failures = [case for case in cases if case.error is not None]
    lines = error_lines(err)
    assert lines[-1].startswith(f"error: {len(failures)} of {len(cases) + 1} track(s) failed")
    for case in failures:
        mine = [line for line in lines if str(case.path) in line]
        assert len(mine) == 1, (case.kind, err)
        assert case.error in mine[0], (case.kind, mine[0])
        assert not stem_folder(root, case.path.stem).exists(), case.kind
    assert len(lines) == len(failures) + 1, err

    out = stem_folder(root, "good song")
    for name, stem in zip(NAMES, expected_stems(good)):
        np.testing.assert_allclose(read(out / f"{name}.wav"), stem, atol=1e-6)

    for case in cases:
        if case.error is not None:
            continue
        folder = stem_folder(root, case.path.stem)
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.wav" for n in NAMES), (
            case.kind
        )
        mix = decoded[case.path]
        if case.original is not None and case.samplerate == 44100:
            expected_mix = case.original if case.original.shape[0] == 2 else None
            if case.original.shape[0] == 1:
                expected_mix = np.repeat(case.original, 2, axis=0)  # mono -> both sides
            if expected_mix is not None:
                clean = np.where(np.isfinite(expected_mix), expected_mix, 0)
                np.testing.assert_allclose(mix, clean, atol=1e-7, err_msg=case.kind)
        for name, stem in zip(NAMES, expected_stems(mix)):
            written = read(folder / f"{name}.wav")
            assert np.isfinite(written).all(), case.kind
            np.testing.assert_allclose(written, stem, atol=2e-5, err_msg=case.kind)
    log = (root / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "Traceback" in log


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_samples_become_silence_not_nan_stems(isolated, model_file, value, capsys):
    """The samples around the bad ones keep their values; the bad ones are silent in every stem."""
    import soundfile as sf

    data = np.full((2, 4410), 0.25, np.float32)
    data[:, 1000:1100] = value
    sf.write(isolated / "odd.wav", data.T, 44100, subtype="FLOAT")
    assert cli.main(["odd.wav", "-n", str(model_file), "--float32"]) == 0
    assert "NaN or infinite samples replaced by silence" in capsys.readouterr().err
    clean = np.where(np.isfinite(data), data, 0).astype(np.float32)
    for name, stem in zip(NAMES, expected_stems(clean)):
        written = read(stem_folder(isolated, "odd") / f"{name}.wav")
        assert np.isfinite(written).all()
        np.testing.assert_allclose(written, stem, atol=1e-6)
