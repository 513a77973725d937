"""The tempo and key tags of ``stemgui-separate``'s files follow the user's corrections that the
app keeps with the song's stems in its stem cache (doubled, the key set), as the app's exports
do: found by the song's bytes, the model and the options the cache keys on, the key made here
as the app's worker makes it (``SeparationOptions.stem_options``, ``model_identity``)."""

from __future__ import annotations

from stemgui import cli
from stemgui.separation.model_identity import file_digest, model_identity
from stemgui.stemcache import StemCache, default_cache_dir
from stemgui.stems.analysis import Analysis, edit_info
from stemgui.stems.key import Key
from stemgui.stems.stemset import StemSet
from stemgui.stems.tempo import Tempo
from stemgui.stems.tempo_fix import TempoEdit
from stemgui.ui.separation_options import SeparationOptions
from tests.audio.media import tags_of
from tests.reliability.helpers import NAMES, RATE, expected_stems, write_song

# what the app found in the song: 100 BPM on a grid from 0.1 s, A major (none is found in the
# noise of write_song, whose files get no tempo or key tag)
FOUND = Analysis(Tempo(100.0, 0.1, 0.6), Key(9, "major"))
# what the user corrected it to: doubled, in F♯ minor
CORRECTED = TempoEdit(factor=2.0, key=Key(6, "minor"))


def _kept_by_the_app(song, options: SeparationOptions) -> str:
    """The song's stems kept in the app's stem cache as its worker keeps them, with what the
    estimates found, and the user's corrections written as its Playback menu writes them."""
    mix = write_song(song)
    key = StemCache.key(file_digest(song), model_identity(options.model), options.stem_options())
    cache = StemCache()
    stems = StemSet(NAMES, RATE, expected_stems(mix), mix)
    assert cache.put(key, stems, {"model": "tiny", **FOUND.to_info()})
    assert cache.update_info(key, edit_info(CORRECTED))
    return key


def _tags(tmp_path, model: str = "tiny") -> dict[str, str]:
    tags = tags_of(tmp_path / "separated" / model / "song" / "vocals.wav")
    return {name: tags[name] for name in ("TBPM", "TKEY") if name in tags}


def test_the_files_are_tagged_with_the_tempo_and_key_the_user_corrected(
    tmp_path, model_file, capsys
):
    """The app's file chooser names the model by its full path; the command line is given it
    from the current folder."""
    _kept_by_the_app(tmp_path / "song.wav", SeparationOptions(model=str(model_file)))
    assert cli.main(["song.wav", "-n", "models/tiny.stemgui"]) == 0, capsys.readouterr().err
    assert _tags(tmp_path) == {"TBPM": "200", "TKEY": "F#m"}
    said = capsys.readouterr().err
    assert (
        "song.wav: tagged with the tempo and key kept in the app's stem cache: tempo 200.0 BPM"
    ) in said, said


def test_the_bundled_model_of_both_and_the_apps_fast_quality(tmp_path, bundled, capsys):
    fast = SeparationOptions(overlap=0.1)
    _kept_by_the_app(tmp_path / "song.wav", fast)
    assert cli.main(["song.wav", "--overlap", "0.1"]) == 0, capsys.readouterr().err
    assert _tags(tmp_path, bundled) == {"TBPM": "200", "TKEY": "F#m"}


def test_stems_kept_with_other_options_are_another_separation(tmp_path, model_file, capsys):
    """The app keeps corrections with the stems of one model and its options, as the cache
    keys them: separated here with others, the song has the tempo found in these stems."""
    _kept_by_the_app(tmp_path / "song.wav", SeparationOptions(model=str(model_file)))
    argv = ["song.wav", "-n", str(model_file), "--overlap", "0.5"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert _tags(tmp_path) == {}


def test_no_stem_cache_is_made_where_the_app_kept_none(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == 0, capsys.readouterr().err
    assert _tags(tmp_path) == {}
    assert not default_cache_dir().exists()
