"""The synth command: a pool that resumes, the demo, worker processes, Ctrl-C, soundfonts."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("fluidsynth")
pytest.importorskip("pretty_midi")

from training.synth import sing
from training.synth.pool import load_recipe
from training.synth.recipe import STEMS, make_recipe
from training.synth.song import render_song


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
