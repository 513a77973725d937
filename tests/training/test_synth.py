"""Synthetic songs: rendering, the sum property, reproducibility, rhythm and harmony, the pool.

Everything renders with TimGM6mb (inside the pretty_midi wheel) and a few seconds of audio.
"""

from __future__ import annotations

import dataclasses
import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("fluidsynth")
pytest.importorskip("pretty_midi")

from training.synth import fluid, mix, sing
from training.synth.bass import bass_part, root_pitch
from training.synth.drums import TOMS, drum_part
from training.synth.harmony import other_parts
from training.synth.melody import vocal_part
from training.synth.pool import load_recipe, remix_pool, write_song
from training.synth.recipe import STEMS, Section, make_recipe
from training.synth.song import render_song

SR = 44100
ENGINE = "sinsy" if sing.available() else "fluidsynth"


@pytest.fixture(scope="module")
def soundfont():
    return fluid.bundled_soundfont()


@pytest.fixture(scope="module")
def song(soundfont):
    return render_song(make_recipe(5, 4.0, vocal_engine=ENGINE), soundfont)


@pytest.fixture(scope="module")
def other_song(soundfont):
    return render_song(make_recipe(6, 4.0, vocal_engine=ENGINE), soundfont)


def test_song_has_four_non_silent_stems(song):
    assert song.stems.shape == (4, 2, 4 * SR)
    assert song.stems.dtype == np.float32
    for name, stem in zip(STEMS, song.stems):
        rms = float(np.sqrt(np.mean(stem.astype(np.float64) ** 2)))
        assert rms > 0.01, f"{name} is silent (rms {rms})"


def test_mixture_is_exactly_the_sum_of_the_stems_and_limited(song):
    assert np.abs(song.mixture - song.stems.sum(0)).max() <= 1e-6
    assert np.abs(song.mixture).max() <= 0.95 + 1e-5
    assert np.abs(song.stems).max() <= 0.99 + 1e-6


def test_same_seed_same_audio_other_seed_other_audio(song, other_song, soundfont):
    again = render_song(make_recipe(5, 4.0, vocal_engine=ENGINE), soundfont)
    assert np.array_equal(again.stems, song.stems)
    assert np.array_equal(again.mixture, song.mixture)
    for index, name in enumerate(STEMS):
        assert np.abs(other_song.stems[index] - song.stems[index]).max() > 0.05, name


def test_recipe_round_trips_through_json():
    recipe = make_recipe(11, 20.0)
    back = type(recipe).from_json(recipe.to_json())
    assert back == recipe
    assert make_recipe(11, 20.0) == recipe
    assert make_recipe(12, 20.0) != recipe


def _onset_strength(audio: np.ndarray, hop: int = 220) -> np.ndarray:
    """Rise of the log energy (20 ms, causal), one value per ``hop`` frames (5 ms)."""
    mono = audio.mean(0).astype(np.float64)
    frames = len(mono) // hop
    energy = (mono[: frames * hop].reshape(frames, hop) ** 2).sum(1)
    energy = np.log10(np.convolve(energy, np.ones(4) / 4, "full")[:frames] + 1e-6)
    return np.maximum(np.diff(energy, prepend=energy[0]), 0.0)


@pytest.mark.parametrize(
    ("style", "tempo", "grid"),
    [
        ("rock", 120, 1 / 2),
        ("four", 100, 1 / 2),
        ("halftime", 140, 1 / 2),
        ("funk", 100, 1 / 4),
        ("shuffle", 100, 1 / 3),
    ],
)
def test_drum_onsets_fall_on_the_style_grid(style, tempo, grid, soundfont):
    recipe = dataclasses.replace(
        make_recipe(3, 4.0, humanize=False), drum_style=style, tempo=tempo, fills=False
    )
    audio = fluid.renderer(soundfont).render([drum_part(recipe)], tempo, 4 * SR)
    onset = _onset_strength(audio)
    times = np.arange(len(onset)) * 220 / SR
    step = 60.0 / tempo * grid  # eighths, sixteenths (funk) or eighth triplets (shuffle)

    def share_near(grid_offset: float) -> float:
        after = (times - grid_offset + 0.01) % step  # from 10 ms before to 30 ms after
        return float(onset[after < 0.04].sum() / onset.sum())

    # Every hit is on the style's grid: the onset energy sits there, not half a step away.
    assert share_near(0.0) > 0.85
    assert share_near(step / 2) < 0.15


def test_fills_end_sections_with_toms_and_only_when_asked():
    recipe = dataclasses.replace(make_recipe(2, 40.0, humanize=False), drum_style="rock")
    ends = np.cumsum([s.bars for s in recipe.structure]) - 1
    expected = {
        int(end) for end, section in zip(ends[:-1], recipe.structure[:-1]) if section.bars >= 4
    }
    assert expected  # this song has at least one section that gets a fill
    toms = set(TOMS)
    with_fills = drum_part(dataclasses.replace(recipe, fills=True)).notes
    assert {int(n.start // 4) for n in with_fills if n.pitch in toms} == expected
    assert all(n.start % 4 >= 2 for n in with_fills if n.pitch in toms)  # second half of a bar
    no_fills = drum_part(dataclasses.replace(recipe, fills=False)).notes
    assert not any(n.pitch in toms for n in no_fills)


@pytest.mark.parametrize("kind", ["chords", "pad", "arpeggio", "counter"])
def test_other_layers_play_the_chord_of_the_moment(kind):
    recipe = dataclasses.replace(make_recipe(9, 12.0), other_layers=[[kind, 0]])
    (part,) = other_parts(recipe)
    assert len(part.notes) > 0
    for note in part.notes:
        assert note.pitch % 12 in recipe.chord_at(note.start).pitch_classes


def test_vocal_line_sings_chord_tones_on_strong_beats_in_its_range():
    recipe = make_recipe(12, 30.0)
    notes = vocal_part(recipe).notes
    assert len(notes) > 10
    for note in notes:
        assert recipe.vocal_low <= note.pitch <= recipe.vocal_high + 2
        if note.start % 2 == 0:
            assert note.pitch % 12 in recipe.chord_at(note.start).pitch_classes


def _f0(segment: np.ndarray, low: float = 35.0, high: float = 250.0) -> float:
    """YIN-style fundamental frequency (Hz) of a mono segment, low-passed at ``high`` first."""
    spectrum = np.fft.rfft(segment - segment.mean())
    spectrum[np.fft.rfftfreq(len(segment), 1 / SR) > high] = 0
    x = np.fft.irfft(spectrum, len(segment))
    size = len(x) // 2
    lags = np.arange(1, int(SR / low))
    diff = np.array([np.sum((x[:size] - x[lag : lag + size]) ** 2) for lag in lags])
    cumulative = diff * lags / np.maximum(np.cumsum(diff), 1e-12)
    first = int(SR / high)
    candidates = np.nonzero(cumulative[first:] < 0.15)[0]
    index = first + (candidates[0] if len(candidates) else int(np.argmin(cumulative[first:])))
    while index + 1 < len(cumulative) and cumulative[index + 1] < cumulative[index]:
        index += 1
    return SR / lags[index]


def test_bass_plays_the_chord_roots(soundfont):
    recipe = dataclasses.replace(
        make_recipe(4, 4.0, humanize=False),
        tempo=60,
        chord_beats=4,
        bass_pattern="root_fifth",
        bass_program=33,
        progression=[[0, "maj"], [3, "maj"], [4, "maj"], [5, "min"]],
        mode="major",
        tonic=0,
        structure=[Section("verse", 4)],
    )
    part = bass_part(recipe)
    audio = fluid.renderer(soundfont).render([part], recipe.tempo, 16 * SR)
    mono = audio.mean(0).astype(np.float64)
    for bar, expected_root in enumerate((0, 5, 7, 9)):  # C F G Am
        expected = root_pitch(recipe.chord_at(bar * 4.0))
        assert expected % 12 == expected_root
        start = int((bar * 4 + 0.25) * SR)  # beat 1 of the bar, after the attack
        f0 = _f0(mono[start : start + 8192])
        semitones = 12 * np.log2(f0 / (440.0 * 2 ** ((expected - 69) / 12)))
        assert abs(semitones) <= 1.0, f"bar {bar}: {f0:.1f} Hz for MIDI {expected}"


def test_vocal_score_has_one_syllable_per_note():
    recipe = make_recipe(8, 6.0)
    part = vocal_part(recipe)
    root = ET.fromstring(sing.musicxml(part, recipe.tempo, recipe.bars))
    measures = root.findall(".//measure")
    assert len(measures) == recipe.bars + 1  # a bar of rest opens the score
    for measure in measures:
        assert sum(int(d.text) for d in measure.findall("note/duration")) == 4 * sing.DIVISIONS
    sung = [n for n in root.findall(".//note") if n.find("pitch") is not None]
    assert len(sung) == len(part.notes) > 0
    assert [n.find("lyric/text").text for n in sung] == [n.lyric for n in part.notes]


def test_limiter_keeps_the_ceiling_and_leaves_quiet_parts_alone():
    t = np.arange(SR * 2) / SR
    signal = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2)
    signal[:, SR : SR + 2000] *= 6.0  # a loud burst in the second half
    gain = mix.limiter_gain(signal, SR, ceiling=0.9)
    assert np.abs(signal * gain).max() <= 0.9 + 1e-9
    assert np.all(gain[: SR // 2] == 1.0)
    assert gain[SR + 1000] < 0.9 / 1.8 + 1e-6


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


def test_synth_command_writes_a_pool_and_resumes(tmp_path, soundfont, capsys, caplog):
    from training.__main__ import main

    argv = ["synth", "--out", str(tmp_path), "--songs", "2", "--seconds", "2", "--seed", "40"]
    argv += ["--soundfont", str(soundfont), "--vocals", "fluidsynth"]
    assert main(argv) == 0
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == ["synth-000040", "synth-000041"]
    for folder in folders:
        names = {p.name for p in (tmp_path / folder).iterdir()}
        assert names == {f"{s}.flac" for s in (*STEMS, "mixture")} | {"recipe.json", "song.mid"}
    recipe = load_recipe(tmp_path / "synth-000041")
    assert recipe == make_recipe(41, 2.0, vocal_engine="fluidsynth")
    assert "2 songs" in capsys.readouterr().out
    before = (tmp_path / "synth-000040" / "mixture.flac").stat().st_mtime_ns
    assert main(argv) == 0  # songs already there are skipped
    assert (tmp_path / "synth-000040" / "mixture.flac").stat().st_mtime_ns == before
    assert "not the" not in caplog.text
    argv[argv.index("--seconds") + 1] = "3"  # the skipped songs keep their 2 s: said
    assert main(argv) == 0
    assert f"songs already in {tmp_path} last 2 s, not the 3 s asked for" in caplog.text


def test_songs_kept_from_another_singer_or_soundfont_are_said(tmp_path, soundfont, caplog):
    """Songs already in --out were skipped without a word when they were sung by another
    engine or played on another soundfont than asked: only another length was said."""
    from training.__main__ import main

    other = tmp_path / "other.sf2"
    other.symlink_to(soundfont)
    out = tmp_path / "pool"
    argv = ["synth", "--out", str(out), "--songs", "1", "--seconds", "2", "--seed", "40"]
    assert main([*argv, "--soundfont", str(soundfont), "--vocals", "fluidsynth"]) == 0
    caplog.clear()
    assert main([*argv, "--soundfont", str(soundfont), "--vocals", "fluidsynth"]) == 0
    assert "not the" not in caplog.text
    assert main([*argv, "--soundfont", str(other), "--vocals", "sinsy"]) == 0
    assert f"songs already in {out} are sung by fluidsynth, not the sinsy asked for" in caplog.text
    said = f"songs already in {out} were played on {soundfont.name}, not the other.sf2 asked for"
    assert said in caplog.text


def test_a_song_whose_recipe_is_damaged_is_rendered_again(tmp_path, soundfont, caplog):
    from training.__main__ import main

    argv = ["synth", "--out", str(tmp_path), "--songs", "1", "--seconds", "2", "--seed", "40"]
    argv += ["--soundfont", str(soundfont), "--vocals", "fluidsynth"]
    assert main(argv) == 0
    recipe = tmp_path / "synth-000040" / "recipe.json"
    whole = recipe.read_text()
    recipe.write_text(whole[:50])  # an older version's write, interrupted
    with pytest.raises(ValueError, match=f"{recipe}: cannot be read as a song's recipe"):
        load_recipe(recipe.parent)
    assert main(argv) == 0
    assert f"{recipe}: cannot be read as a song's recipe" in caplog.text
    assert "rendering it again" in caplog.text
    assert recipe.read_text() == whole + "\n" or recipe.read_text() == whole
    assert load_recipe(recipe.parent) == make_recipe(40, 2.0, vocal_engine="fluidsynth")


def test_synth_demo_writes_the_mixture_and_its_recipe_into_a_new_folder(tmp_path, soundfont):
    from stemgui.audio.decode import decode
    from training.__main__ import main

    out = tmp_path / "resources" / "demo"
    argv = ["synth", "--out", str(out), "--demo", "demo", "--seconds", "2", "--seed", "30"]
    assert main([*argv, "--soundfont", str(soundfont), "--vocals", "fluidsynth"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo.json", "demo.mp3"]
    record = json.loads((out / "demo.json").read_text())
    assert record["soundfont"] == soundfont.name and record["samplerate"] == 44100
    audio = decode(out / "demo.mp3")
    assert abs(audio.samples.shape[-1] / audio.samplerate - 2.0) < 0.1


@pytest.mark.parametrize("file", ["demo.mp3", "demo.json"])
def test_synth_demo_over_a_folder_is_refused_before_rendering(tmp_path, caplog, file, monkeypatch):
    """A folder named demo.mp3 was found once the song was rendered; one named demo.json once
    demo.mp3 was written, left without its recipe, said as "[Errno 21] is a folder"."""
    import training.synth.song as song_module
    from training.__main__ import main

    def never(*args, **kwargs):
        raise AssertionError("rendered")

    monkeypatch.setattr(song_module, "render_song", never)
    out = tmp_path / "demo"
    (out / file).mkdir(parents=True)
    assert main(["synth", "--out", str(out), "--demo", "demo", "--seconds", "1"]) == 1
    assert f"--demo demo: {out / file} is a folder; name another demo" in caplog.text
    assert [p.name for p in out.iterdir()] == [file]


@pytest.mark.parametrize("name", ["../x", "sub/demo", "..", "", "a\\b"])
def test_synth_demo_takes_a_name_not_a_path(tmp_path, capsys, name):
    """``--demo ../x`` wrote outside --out."""
    from training.__main__ import main

    with pytest.raises(SystemExit) as caught:
        main(["synth", "--out", str(tmp_path / "out"), "--demo", name])
    assert caught.value.code == 2 and "a name, not a path" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--songs", "3"], "--demo demo writes one song, not --songs 3"),  # wrote one of 3
        (["--remix-from", "pool"], "--demo demo renders one song and --remix-from remixes"),
        pytest.param(
            ["--jobs", "2"],
            "--demo demo renders one song in this process: --jobs 2 would change nothing",
            marks=pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 needs 2 cores"),
        ),
    ],
)
def test_synth_demo_refuses_options_it_would_leave_undone(tmp_path, caplog, extra, said):
    """``--demo`` with ``--songs 3`` wrote one song, with ``--remix-from`` wrote the remixes
    and no demo, and with ``--jobs 2`` rendered in one process, each without a word."""
    from training.__main__ import main

    out = tmp_path / "out"
    assert main(["synth", "--out", str(out), "--demo", "demo", "--seconds", "1", *extra]) == 1
    assert said in caplog.text
    assert not out.exists()


@pytest.mark.parametrize("songs", ["10001", "1000000000000"])
def test_synth_refuses_more_songs_than_its_bound_before_any_work(capsys, songs):
    """``--songs 1000000000000`` built a list of as many folders, until the memory ran out."""
    from training.__main__ import build_parser
    from training.synth.cli import MAX_SONGS

    parser = build_parser()
    assert parser.parse_args(["synth", "--out", "o", "--songs", "10000"]).songs == MAX_SONGS
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(["synth", "--out", "o", "--songs", songs])
    assert caught.value.code == 2
    assert f"argument --songs: a whole number from 1 to 10000, got '{songs}'" in (
        capsys.readouterr().err
    )


def test_add_parser_registers_the_synth_command():
    import argparse

    from training.synth.cli import add_parser, run

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["synth", "--out", "x", "--songs", "3", "--seconds", "5"])
    assert (args.command, args.out, args.songs, args.seconds, args.seed) == (
        "synth",
        "x",
        3,
        5.0,
        0,
    )
    assert args.func is run


def test_pool_rendered_by_worker_processes_matches_in_process_render(tmp_path, soundfont):
    from training.data import discover, read_track
    from training.synth.pool import render_pool

    seen = []
    folders = render_pool(
        tmp_path,
        2,
        2.0,
        seed=50,
        soundfont=soundfont,
        vocal_engine="fluidsynth",
        jobs=2,
        on_song=lambda index, recipe: seen.append((index, recipe.seed)),
    )
    assert sorted(seen) == [(0, 50), (1, 51)]
    tracks = {t.name: t for t in discover([tmp_path])}
    for folder in folders:
        recipe = load_recipe(folder)
        expected = render_song(recipe, soundfont)
        data = read_track(tracks[folder.name])
        assert np.abs(data[1:] - expected.stems).max() <= 2.0**-23


def test_ctrl_c_leaves_the_songs_not_started_unrendered(tmp_path, soundfont):
    """With --jobs, Ctrl-C waited for the worker processes to render every song still queued
    (minutes for a pool of 200) before it stopped."""
    from training.synth.pool import render_pool

    def stop(index, recipe):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_pool(
            tmp_path,
            12,
            1.0,
            soundfont=soundfont,
            vocal_engine="fluidsynth",
            jobs=2,
            on_song=stop,
        )
    rendered = list(tmp_path.glob("*/recipe.json"))
    assert 1 <= len(rendered) <= 6  # the first, those under way and queued to a worker


def _sine_soundfont(path, bank: int = 0) -> None:
    """A soundfont of one preset, ``bank``:0 (a looped sine): a piano and no drum kit, or a drum
    kit and nothing else."""
    import struct

    def chunk(tag: bytes, data: bytes) -> bytes:
        return tag + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)

    def records(form: str, *rows) -> bytes:  # a pdta table: its rows, then a last one
        return b"".join(struct.pack(form, *row) for row in rows)

    sine = (16000 * np.sin(2 * np.pi * np.arange(2205) / 50)).astype("<i2")
    frames, sample = len(sine), sine.tobytes() + bytes(92)  # 46 zero samples after each one
    tables = {
        b"phdr": records("<20sHHHIII", (b"sine", 0, bank, 0, 0, 0, 0), (b"EOP", 0, 0, 1, 0, 0, 0)),
        b"pbag": records("<HH", (0, 0), (1, 0)),
        b"pmod": bytes(10),
        b"pgen": records("<HH", (41, 0), (0, 0)),  # instrument 0
        b"inst": records("<20sH", (b"sine", 0), (b"EOI", 1)),
        b"ibag": records("<HH", (0, 0), (2, 0)),
        b"imod": bytes(10),
        b"igen": records("<HH", (54, 1), (53, 0), (0, 0)),  # looped, sample 0
        b"shdr": records(
            "<20sIIIIIBbHH",
            (b"sine", 0, frames, 10, frames - 10, 22050, 69, 0, 0, 1),
            (b"EOS", 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ),
    }
    info = chunk(b"ifil", struct.pack("<HH", 2, 1)) + chunk(b"isng", b"EMU8000\0")
    body = b"sfbk" + chunk(b"LIST", b"INFO" + info + chunk(b"INAM", b"sine\0\0"))
    body += chunk(b"LIST", b"sdta" + chunk(b"smpl", sample))
    body += chunk(b"LIST", b"pdta" + b"".join(chunk(t, d) for t, d in tables.items()))
    path.write_bytes(chunk(b"RIFF", body))


@pytest.mark.parametrize(
    "jobs",
    [
        "1",
        pytest.param(
            "2", marks=pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores")
        ),
    ],
)
def test_a_soundfont_without_a_drum_kit_is_refused_before_rendering(tmp_path, caplog, jobs):
    """A soundfont with no drum kit rendered every song's drums stem silent, without a word
    but FluidSynth's own lines on stderr."""
    import fluidsynth

    from training.__main__ import main

    font = tmp_path / "sine.sf2"
    _sine_soundfont(font)
    synth = fluidsynth.Synth()  # a soundfont FluidSynth loads, with a piano and no drum kit
    sfid = synth.sfload(str(font))
    assert sfid >= 0 and synth.sfpreset_name(sfid, 0, 0) == "sine"
    assert synth.sfpreset_name(sfid, 128, 0) is None
    synth.delete()
    out = tmp_path / "out"
    argv = ["synth", "--out", str(out), "--seconds", "1", "--vocals", "fluidsynth", "--jobs", jobs]
    assert main([*argv, "--soundfont", str(font)]) == 1
    said = (
        f"{font}: has no General MIDI drum kit (bank 128, preset 0), so the drums would be silent"
    )
    assert said in caplog.text
    assert not out.exists()


def test_a_soundfont_of_drums_alone_is_refused_before_rendering(tmp_path, caplog):
    """A drum kit's soundfont rendered the bass, other and FluidSynth's vocals silent."""
    from training.__main__ import main

    font = tmp_path / "kit.sf2"
    _sine_soundfont(font, bank=128)
    out = tmp_path / "out"
    argv = ["synth", "--out", str(out), "--seconds", "1", "--vocals", "fluidsynth"]
    assert main([*argv, "--soundfont", str(font)]) == 1
    said = f"{font}: has no General MIDI melodic preset (bank 0, preset 0), so the bass and other"
    assert said in caplog.text
    assert not out.exists()


def test_sinsy_asked_for_where_it_cannot_load_is_refused_before_rendering(
    tmp_path, caplog, monkeypatch
):
    """``--vocals sinsy`` without pysinsy was an ImportError traceback at the first song, after
    --out was made and the soundfont loaded."""
    from training.__main__ import main

    def missing():
        raise ImportError("pysinsy is not installed")

    monkeypatch.setattr(sing, "_sinsy_module", missing)
    out = tmp_path / "out"
    assert main(["synth", "--out", str(out), "--seconds", "1", "--vocals", "sinsy"]) == 1
    assert "--vocals sinsy: Sinsy cannot be loaded (pysinsy is not installed)" in caplog.text
    assert not out.exists()
