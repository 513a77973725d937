"""`make system-deps` installs what `make run` and `make test` need on a bare Debian or Ubuntu.

Those targets make `.venv` with `python3 -m venv` and install the `train` extra, whose diffq
(a Cython extension) and pysinsy (C++, built with cmake) come as source and are compiled on
the spot: without a C/C++ compiler and Python's headers the install stops, and Debian's python3
makes no virtual environment without its venv package.
"""

from __future__ import annotations

from tests.make_recipes import dry_run


def system_packages() -> set[str]:
    """The words of the `system-deps` recipe as make would run it (the package names among
    them), whether or not this process may install them."""
    return set(dry_run("system-deps").replace(";", " ").split())


def test_system_deps_installs_what_builds_the_train_extra_and_the_venv():
    packages = system_packages()
    assert {"build-essential", "cmake", "python3-dev", "python3-venv"} <= packages


def test_system_deps_still_installs_what_the_app_plays_and_draws_with():
    packages = system_packages()
    assert {"libportaudio2", "libegl1", "libxkbcommon-x11-0", "libxcb-cursor0"} <= packages
