"""The files ``stemgui-separate`` writes, with known answers: formats, bit rates, sample rates
and frame counts, a pace or key of practice, file names and tags."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import soundfile as sf

from stemgui import cli
from tests.reliability.helpers import FACTORS, NAMES, RATE, error_lines, read, write_song


def test_folder_of_good_tracks_exit_0_and_output_folder_skipped(tmp_path, model_file, capsys):
    songs = {name: write_song(tmp_path / "album" / f"{name}.wav", seed=i)
             for i, name in enumerate(["one", "two"])}  # fmt: skip
    write_song(tmp_path / "album" / "separated" / "old" / "x" / "vocals.wav")  # an earlier run
    (tmp_path / "album" / "notes.txt").write_text("not a song")
    out = tmp_path / "album" / "separated"
    argv = [str(tmp_path / "album"), "-n", str(model_file), "-o", str(out), "--two-stems",
            "vocals", "--float32", "--filename", "{track}-{stem}.{ext}"]  # fmt: skip
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert error_lines(capsys.readouterr().err) == []
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert written == [
        "old/x/vocals.wav",
        "one-no_vocals.wav",
        "one-vocals.wav",
        "two-no_vocals.wav",
        "two-vocals.wav",
    ]
    for name, mix in songs.items():
        np.testing.assert_allclose(read(out / f"{name}-vocals.wav"), 0.0625 * mix, atol=1e-6)
        np.testing.assert_allclose(read(out / f"{name}-no_vocals.wav"), 0.875 * mix, atol=1e-6)


def test_a_practice_track_slower_and_in_another_key(tmp_path, model_file, capsys):
    """--speed and --semitones: the stems as the app's player would play them, named so."""
    mix = write_song(tmp_path / "song.wav", seconds=2.0)
    argv = ["song.wav", "-n", str(model_file), "--float32", "--speed", "0.5", "--semitones", "-2"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / "separated" / "tiny" / "song 50% -2st"
    stems = [read(folder / f"{name}.wav") / factor for name, factor in zip(NAMES, FACTORS)]
    assert all(s.shape == (2, 2 * mix.shape[1]) for s in stems)
    # the known-answer model's stems are fractions of the song: so are they at a pace, the
    # windows cut alike in every stem
    for stem in stems[1:]:
        np.testing.assert_allclose(stem, stems[0], atol=1e-4)


def test_the_stems_of_a_48_khz_song_at_its_own_rate_or_another(tmp_path, model_file, capsys):
    """The model runs at 44.1 kHz, so its stems came out at that rate whatever the song's: a 48
    kHz song's stems ran short and slow in a 48 kHz DAW session. --samplerate song writes each
    song's at its own rate, --samplerate N at N Hz; the default stays the model's (Demucs's)."""
    rate = 48000
    t = np.arange(rate) / rate
    song = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]) * 0.3
    sf.write(tmp_path / "song.wav", song.T.astype(np.float32), rate, subtype="FLOAT")
    for flags, expected in (
        ([], RATE),
        (["--samplerate", "song"], rate),
        (["--samplerate", "32000"], 32000),
    ):
        out = f"out-{expected}"
        argv = ["song.wav", "-n", str(model_file), "--float32", "-o", out, *flags]
        assert cli.main(argv) == 0, capsys.readouterr().err
        vocals, written = sf.read(tmp_path / out / "tiny" / "song" / "vocals.wav", dtype="float32")
        assert written == expected
        assert vocals.shape == (expected, 2)  # one second
        if expected == rate:  # back at the song's rate: the known answer, sample for sample
            inner = slice(1000, -1000)  # away from the ends, where the resamplers' filters pad
            np.testing.assert_allclose(vocals.T[:, inner], 0.0625 * song[:, inner], atol=2e-4)


def test_an_mp3_is_never_written_below_the_bit_rate_asked(tmp_path, model_file, capsys):
    """LAME, asked for 320 kbps at 22.05 kHz, wrote 160 without a word. --samplerate 22050 with
    it is a usage error saying what the rate holds; a 22.05 kHz song at its own rate keeps the
    bit rate asked at the stems' rate (as a 96 kHz song's mp3s do); 160 at 22.05 kHz is kept."""
    import av

    with pytest.raises(SystemExit) as caught:
        cli.main(["song.wav", "--mp3", "--samplerate", "22050"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: --samplerate 22050: an mp3 at that rate holds at most 160 kbps, not 320; pass "
        "--mp3-bitrate 160 or less, or choose wav or flac\n"
    )
    t = np.arange(22050) / 22050
    sf.write(tmp_path / "song.wav", np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.3, 22050)
    for flags, out, rate, kbps in (
        (["--samplerate", "song"], "own", RATE, 320),
        (["--samplerate", "22050", "--mp3-bitrate", "160"], "low", 22050, 160),
    ):
        argv = ["song.wav", "-n", str(model_file), "--mp3", "-o", out, *flags]
        assert cli.main(argv) == 0, capsys.readouterr().err
        with av.open(str(tmp_path / out / "tiny" / "song" / "vocals.mp3")) as container:
            context = container.streams.audio[0].codec_context
            assert (context.sample_rate, context.bit_rate) == (rate, kbps * 1000)


@pytest.mark.parametrize(
    ("rate", "frames"), [(48000, 48_007), (96000, 96_001), (88200, 44_103), (32000, 32_005)]
)
def test_the_stems_at_the_song_s_rate_have_its_frame_count(tmp_path, model_file, capsys, rate,
                                                           frames):  # fmt: skip
    """Resampled to the model's 44.1 kHz and back, a 48,007-frame 48 kHz song's stems had 48,006
    frames (julius's floor, twice): a frame short of the song they go beside in a session."""
    t = np.arange(frames) / rate
    song = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]) * 0.3
    sf.write(tmp_path / "song.flac", song.T, rate, subtype="PCM_24")
    argv = ["song.flac", "-n", str(model_file), "--samplerate", "song", "--flac"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    for name, factor in zip(NAMES, FACTORS):
        stem, written = sf.read(tmp_path / "separated" / "tiny" / "song" / f"{name}.flac")
        assert written == rate and stem.shape == (frames, 2)
        inner = slice(1000, -1000)  # away from the ends, where the resamplers' filters pad
        np.testing.assert_allclose(stem.T[:, inner], factor * song[:, inner], atol=3e-4)


@pytest.mark.parametrize(
    ("flags", "format_", "subtype"),
    [(["--flac", "--int24"], "FLAC", "PCM_24"), (["--mp3", "--mp3-bitrate", "128"], "MP3", None)],
)
def test_flac_and_mp3_outputs(tmp_path, model_file, flags, format_, subtype):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", "vocals", *flags]) == 0
    ext = format_.lower()
    files = sorted(p.name for p in (tmp_path / "separated/tiny/song").iterdir())
    assert files == [f"no_vocals.{ext}", f"vocals.{ext}"]
    info = sf.info(tmp_path / f"separated/tiny/song/vocals.{ext}")
    assert info.format == format_ and info.samplerate == RATE and info.channels == 2
    if subtype:
        assert info.subtype == subtype


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux's disks")
@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_a_song_whose_file_name_is_not_utf8_is_separated(tmp_path, model_file, kind):
    """A song named in Latin-1 (b"Caf\xe9.wav", from an old disk or archive) stopped the whole
    batch with a traceback: its name, with Python's escape for the byte, could not be encoded
    into the stems' file names, nor into their titles."""
    from tests.audio.media import tags_of

    write_song(tmp_path / "album" / "plain.wav")
    write_song(tmp_path / "x.wav")
    os.rename(b"x.wav", b"album/Caf\xe9 au lait.wav")  # in the current folder, tmp_path
    argv = ["album", "-n", str(model_file)] + (["--mp3"] if kind == "mp3" else [])
    assert cli.main(argv) == 0
    folder = tmp_path / "separated" / "tiny" / "Caf_ au lait"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.{kind}" for s in NAMES)
    assert tags_of(folder / f"vocals.{kind}")["title"] == "Café au lait (Vocals)"


def test_the_files_carry_the_song_s_tempo_and_key(tmp_path, model_file):
    """For DJ software, as the app's exports: the tiny model's stems are the mix scaled, so
    the drums stem has the song's 120 BPM and the others its A minor."""
    from tests.audio.media import tags_of
    from tests.stems.drumkit import drum_track
    from tests.stems.harmony import key_song

    song = 0.5 * drum_track(120, 8.0)[:, : 8 * RATE] + 0.5 * key_song(9, "minor", 8.0)
    sf.write(tmp_path / "song.wav", song.T, RATE, subtype="FLOAT")
    assert cli.main(["song.wav", "-n", str(model_file), "--mp3"]) == 0
    tags = tags_of(tmp_path / "separated" / "tiny" / "song" / "bass.mp3")
    assert (tags["TBPM"], tags["TKEY"], tags["title"]) == ("120", "Am", "song (Bass)")
