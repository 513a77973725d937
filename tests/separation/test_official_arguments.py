"""Official Demucs ``.th`` files that do not store their network's arguments (``args`` and
``kwargs``): said in our words, naming what the file lacks and what to do, not Python's."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence

import pytest

from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.official import import_official
from tests.separation.model_files_helpers import TinyNet, half_state, make_tiny, write_official


class NeedsSources(TinyNet):
    """A TinyNet whose ``sources`` must be given, as our Demucs networks' must."""

    def __init__(self, sources: Sequence[str], audio_channels: int = 2, **kwargs) -> None:
        super().__init__(sources, audio_channels, **kwargs)


@pytest.fixture
def needs_sources_class(monkeypatch) -> type:
    """``NeedsSources`` registered, and pickled as ``demucs.stemgui_test_nets.NeedsSources``."""
    registry.register("NeedsSources", NeedsSources)
    module = types.ModuleType("demucs.stemgui_test_nets")
    cls = type("NeedsSources", (NeedsSources,), {"__module__": module.__name__})
    module.NeedsSources = cls
    monkeypatch.setitem(sys.modules, module.__name__, module)
    yield cls
    registry.unregister("NeedsSources")


def _package_without(tmp_path, needs_sources_class, *entries: str):
    import torch

    path = write_official(tmp_path / "bare.th", needs_sources_class, {}, half_state(make_tiny()))
    package = torch.load(path, weights_only=False)
    for entry in entries:
        del package[entry]
    bare = tmp_path / "bare.th"
    torch.save(package, bare)
    return bare


def test_a_file_without_its_arguments_says_what_it_lacks(tmp_path, needs_sources_class):
    """It said "NeedsSources cannot be built from the stored arguments: NeedsSources.__init__()
    missing 1 required positional argument: 'sources'", Python's words for the file's fault."""
    path = _package_without(tmp_path, needs_sources_class, "args", "kwargs")
    with pytest.raises(ModelLoadError) as refused:
        import_official(path)
    assert str(refused.value) == (
        f"{path}: NeedsSources: the file does not store the network's arguments (no 'args' "
        "nor 'kwargs' entry), so it cannot be rebuilt: it lacks sources; download it again"
    )


def test_arguments_stored_without_one_the_network_needs_are_said(tmp_path, needs_sources_class):
    path = write_official(
        tmp_path / "few.th", needs_sources_class, {"gain": 2.0}, half_state(make_tiny())
    )
    with pytest.raises(ModelLoadError) as refused:
        import_official(path)
    assert str(refused.value) == (
        f"{path}: NeedsSources: the network's arguments stored in the file lack sources, "
        "so it cannot be rebuilt; download it again"
    )


def test_a_file_with_every_argument_the_network_needs_imports(tmp_path, needs_sources_class):
    model = make_tiny(seed=3, sources=["drums", "bass"])
    path = write_official(
        tmp_path / "ok.th", needs_sources_class, {}, half_state(model), [["drums", "bass"]]
    )
    assert import_official(path).sources == ["drums", "bass"]
