"""Every module of ``stemgui.separation.nets`` keeps under the project's 400-line limit.

The hybrid networks' helpers and the cross-domain transformer were one module each, of 925 and
540 lines; they are split by concept (spectrogram, layers, U-Net; embeddings, attention,
transformer), and a module that grows past the limit again is split the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import stemgui.separation.nets

NETS = Path(stemgui.separation.nets.__file__).parent
LIMIT = 400


@pytest.mark.parametrize("name", [path.name for path in sorted(NETS.glob("*.py"))])
def test_the_module_is_under_the_line_limit(name):
    lines = len((NETS / name).read_text().splitlines())
    assert lines < LIMIT, f"stemgui/separation/nets/{name} has {lines} lines: split it by concept"
