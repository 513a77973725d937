"""Where the tests find the checkout: ``ROOT``, the repository's root folder (``stemgui/``,
``resources/``, ``training/``, ``build_spec/`` and the ``Makefile`` are in it)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
