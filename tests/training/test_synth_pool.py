"""Synthetic songs written to a pool, read back, and remixed across songs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("fluidsynth")
pytest.importorskip("pretty_midi")

from tests.training.synth_rig import SR
from training.synth.pool import load_recipe, remix_pool, write_song
from training.synth.recipe import STEMS


def test_written_song_reads_back_through_training_data(song, tmp_path):
    from training.data import discover, read_track

    write_song(song, tmp_path / "pool" / "s5")
    tracks = discover([tmp_path / "pool"])
    assert [t.name for t in tracks] == ["s5"]
    data = read_track(tracks[0])  # (mixture + 4 stems, channels, frames)
    assert data.shape == (5, 2, 4 * SR)
    quantum = 2.0**-23
    assert np.abs(data[1:] - song.stems).max() <= quantum
    assert np.abs(data[0] - data[1:].sum(0)).max() <= 5 * quantum
    assert load_recipe(tmp_path / "pool" / "s5") == song.recipe
    record = json.loads((tmp_path / "pool" / "s5" / "recipe.json").read_text())
    assert record["seed"] == 5 and record["soundfont"] == "TimGM6mb.sf2"


def test_remix_pool_mixes_stems_of_different_songs(song, other_song, tmp_path):
    from training.data import discover, read_track

    write_song(song, tmp_path / "pool" / "a")
    write_song(other_song, tmp_path / "pool" / "b")
    written = remix_pool(tmp_path / "pool", tmp_path / "remix", songs=3, seed=1)
    assert len(written) == 3
    sources = {"a": song, "b": other_song}
    for folder in written:
        record = json.loads((folder / "recipe.json").read_text())
        (track,) = [t for t in discover([tmp_path / "remix"]) if t.name == folder.name]
        data = read_track(track)
        assert np.abs(data[0] - data[1:].sum(0)).max() <= 5 * 2.0**-23
        for index, stem in enumerate(STEMS):
            original = sources[record["sources"][stem]].stems[index]
            # the same stem, up to the remix's limiter gain (<= 1)
            ratio = np.sum(data[1 + index] * original) / np.sum(original * original)
            assert 0.2 < ratio <= 1.0 + 1e-4
            residual = data[1 + index] - ratio * original
            assert np.sqrt(np.mean(residual**2)) < 0.2 * np.sqrt(np.mean(original**2))


def test_remix_of_a_pool_of_one_song_is_refused_before_writing(song, tmp_path, caplog):
    from training.__main__ import main

    write_song(song, tmp_path / "pool" / "a")
    argv = ["synth", "--out", str(tmp_path / "remix"), "--remix-from", str(tmp_path / "pool")]
    assert main(argv) == 1
    assert "remixing needs at least 2 songs, found 1" in caplog.text
    assert not (tmp_path / "remix").exists()


def test_a_damaged_song_of_the_pool_leaves_no_empty_remix_folder(song, tmp_path, caplog):
    """The damaged song was named, and the --out folder (with the folders above it that the
    command made) was left behind, empty."""
    from training.__main__ import main

    write_song(song, tmp_path / "pool" / "a")
    write_song(song, tmp_path / "pool" / "b")
    (tmp_path / "pool" / "b" / "bass.flac").write_text("not audio")
    out = tmp_path / "made" / "remix"
    assert main(["synth", "--out", str(out), "--remix-from", str(tmp_path / "pool")]) == 1
    assert f"{tmp_path / 'pool' / 'b' / 'bass.flac'}: is not an audio file" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool"]


def test_a_remix_that_cannot_be_written_whole_leaves_none_of_its_files(
    song, other_song, tmp_path, monkeypatch
):
    """The disk full at the third remix's "other" stem: its drums and bass were left in a
    folder of their own, which fit then left out with a warning of its missing stems."""
    import training.synth.pool as pool_module

    write_song(song, tmp_path / "pool" / "a")
    write_song(other_song, tmp_path / "pool" / "b")
    real, calls = pool_module.write_audio, []

    def full(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 13:  # the third remix's other.flac
            raise OSError(28, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pool_module, "write_audio", full)
    with pytest.raises(OSError, match="No space left"):
        remix_pool(tmp_path / "pool", tmp_path / "remix", songs=4, seed=1)
    assert calls[-1].name == "other.flac"
    written = ["remix-0001-00000", "remix-0001-00001"]  # whole: kept
    assert sorted(p.name for p in (tmp_path / "remix").iterdir()) == written
    for name in written:
        files = sorted(p.name for p in (tmp_path / "remix" / name).iterdir())
        assert files == sorted([f"{s}.flac" for s in (*STEMS, "mixture")] + ["recipe.json"])


@pytest.mark.parametrize("remix", [False, True])
def test_a_file_where_a_song_folder_goes_is_refused_before_any_song(
    song, tmp_path, caplog, monkeypatch, remix
):
    """Said as "[Errno 17] File exists" once the songs before it were rendered or remixed."""
    import training.synth.pool as pool_module
    from training.__main__ import main

    for name in ("a", "b"):
        write_song(song, tmp_path / "pool" / name)
    out = tmp_path / "out"
    file = out / ("remix-0000-00001" if remix else "synth-000001")
    out.mkdir()
    file.write_text("notes")
    monkeypatch.setattr(pool_module, "write_audio", None)  # nothing is written
    argv = ["--remix-from", str(tmp_path / "pool")] if remix else ["--vocals", "fluidsynth"]
    assert main(["synth", "--out", str(out), "--songs", "2", "--seconds", "1", *argv]) == 1
    said = f"{file}: is a file where a song's folder goes; move it away, or write the songs into"
    assert said in caplog.text
    assert [p.name for p in out.iterdir()] == [file.name]


@pytest.mark.parametrize("inside", [".", "remixes"])
def test_remixes_into_their_own_pool_are_refused_before_writing(song, tmp_path, caplog, inside):
    """Remixes written into the pool were read as its songs by the next remix: the same
    --seed then gave other songs (remixes of remixes) in place of the first ones."""
    from training.__main__ import main

    pool = tmp_path / "pool"
    for name in ("a", "b"):
        write_song(song, pool / name)
    out = pool / inside
    assert main(["synth", "--out", str(out), "--remix-from", str(pool)]) == 1
    assert f"{out}: is inside the pool {pool} it remixes" in caplog.text
    assert sorted(p.name for p in pool.iterdir()) == ["a", "b"]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--soundfont", "font.sf2"], "--soundfont font.sf2 would change nothing"),
        pytest.param(
            ["--vocals", "sinsy", "--jobs", "2"],
            "--vocals sinsy, --jobs 2 would change nothing",
            marks=pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 needs 2 cores"),
        ),
    ],
)
def test_remixes_refuse_the_options_of_rendering(song, tmp_path, caplog, extra, said):
    """A remix renders nothing: --soundfont, --vocals and --jobs were taken and the remixes
    written as without them, without a word."""
    from training.__main__ import main

    for name in ("a", "b"):
        write_song(song, tmp_path / "pool" / name)
    out = tmp_path / "remix"
    assert main(["synth", "--out", str(out), "--remix-from", str(tmp_path / "pool"), *extra]) == 1
    assert f"remixes the pool's stems and renders nothing: {said}; leave them out" in caplog.text
    assert not out.exists()


@pytest.mark.parametrize("remix", [False, True])
def test_an_out_that_is_a_file_is_refused_naming_it(song, tmp_path, caplog, remix):
    """A file given as --out was said as "[Errno 17] File exists: '...'"."""
    from training.__main__ import main

    (tmp_path / "out").write_text("notes")
    for name in ("a", "b"):
        write_song(song, tmp_path / "pool" / name)
    remixing = ["--remix-from", str(tmp_path / "pool")] if remix else []
    assert main(["synth", "--out", str(tmp_path / "out"), "--seconds", "2", *remixing]) == 1
    assert f"--out {tmp_path / 'out'}: is a file, not a folder; name a folder" in caplog.text
    assert main(["synth", "--out", str(tmp_path / "out" / "x"), "--seconds", "2", *remixing]) == 1
    assert f"is under the file {tmp_path / 'out'}, not a folder" in caplog.text
