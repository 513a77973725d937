"""Installers: the release workflow's structure, the PyInstaller spec and the installer scripts.
The smoke test the frozen app runs is tested in tests/ui/test_smoke.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

import stemgui
from tests.make_recipes import dry_run
from tests.paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
SPEC = ROOT / "build_spec" / "stemgui.spec"
ISS = ROOT / "build_spec" / "windows" / "stemgui.iss"
DMG_SCRIPT = ROOT / "build_spec" / "macos" / "make_dmg.sh"


# ----------------------------------------------------------------------------- the workflow


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict, job: str = "build") -> list[dict]:
    return workflow["jobs"][job]["steps"]


def _runs(workflow: dict) -> list[tuple[str, str]]:
    """(if condition, run text) of every build step that runs a command."""
    return [(s.get("if", ""), s["run"]) for s in _steps(workflow) if "run" in s]


def _matrix(workflow: dict) -> dict[str, dict]:
    return {e["os"]: e for e in workflow["jobs"]["build"]["strategy"]["matrix"]["include"]}


def test_workflow_builds_on_windows_and_both_mac_architectures_on_tags(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    matrix = _matrix(workflow)
    # macos-13 (x86_64) was retired by GitHub on 2025-12-04; macos-15-intel replaces it.
    assert sorted(matrix) == ["macos-14", "macos-15-intel", "windows-latest"]
    assert {e["platform"] for e in matrix.values()} == {
        "windows-x86_64",
        "macos-arm64",
        "macos-x86_64",
    }
    build = workflow["jobs"]["build"]
    assert build["runs-on"] == "${{ matrix.os }}"
    assert build["strategy"]["fail-fast"] is False
    # Only the Intel mac leg (no torch 2.13 wheel exists for it) may fail without blocking.
    assert build["continue-on-error"] == "${{ matrix.experimental }}"
    assert [os for os, e in matrix.items() if e["experimental"]] == ["macos-15-intel"]


def test_workflow_installs_the_cpu_torch_then_the_bundle_extra(workflow):
    matrix = _matrix(workflow)
    assert matrix["windows-latest"]["torch"] == matrix["macos-14"]["torch"] == "2.13.0"
    assert matrix["windows-latest"]["torch_index"] == "https://download.pytorch.org/whl/cpu"
    assert matrix["macos-14"]["torch_index"] == ""  # PyPI's wheel, with MPS
    assert (matrix["macos-15-intel"]["torch"], matrix["macos-15-intel"]["extra_pins"]) == (
        "2.2.2",
        "numpy<2",
    )
    runs = [run for _, run in _runs(workflow)]
    torch_step = next(i for i, run in enumerate(runs) if "torch==${{ matrix.torch }}" in run)
    extra_step = next(i for i, run in enumerate(runs) if '".[bundle]"' in run)
    build_step = next(i for i, run in enumerate(runs) if "build_spec/stemgui.spec" in run)
    assert torch_step < extra_step < build_step
    assert '--index-url "${{ matrix.torch_index }}"' in runs[torch_step]
    assert "extra='${{ matrix.extra_pins }}'" in runs[torch_step]  # `<` never reaches the shell


def test_workflow_smoke_tests_the_frozen_app_on_every_system(workflow):
    runs = _runs(workflow)
    build = next(i for i, (_, run) in enumerate(runs) if "pyinstaller" in run)
    smoke_steps = [(i, cond) for i, (cond, run) in enumerate(runs) if "--smoke-test" in run]
    conditions = {cond for _, cond in smoke_steps}
    assert "runner.os == 'macOS'" in conditions and "runner.os == 'Windows'" in conditions
    assert all(i > build for i, _ in smoke_steps)
    windows = [run for cond, run in runs if cond == "runner.os == 'Windows'"]
    frozen = next(run for run in windows if "dist\\stemgui\\stemgui.exe" in run)
    assert "ExitCode" in frozen and "exit 1" in frozen  # a failed smoke test fails the job
    assert workflow["env"]["QT_QPA_PLATFORM"] == "offscreen"


def test_workflow_builds_the_installers_and_releases_them_on_tags(workflow):
    runs = _runs(workflow)
    iscc = next(run for cond, run in runs if "iscc" in run and cond == "runner.os == 'Windows'")
    assert "/DAppVersion=${{ steps.version.outputs.version }}" in iscc
    assert "build_spec\\windows\\stemgui.iss" in iscc
    dmg = next(run for cond, run in runs if "make_dmg.sh" in run)
    assert "dist/stemgui.app" in dmg
    dmg_step = next(s for s in _steps(workflow) if "make_dmg.sh" in s.get("run", ""))
    assert set(dmg_step["env"]) == {
        "APPLE_SIGNING_IDENTITY",
        "APPLE_ID",
        "APPLE_TEAM_ID",
        "APPLE_APP_PASSWORD",
    }
    upload = next(s for s in _steps(workflow) if s.get("name") == "Upload the installer")
    assert "dist/*-setup.exe" in upload["with"]["path"] and "dist/*.dmg" in upload["with"]["path"]
    release = workflow["jobs"]["release"]
    assert release["needs"] == "build"
    assert release["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert release["permissions"] == {"contents": "write"}
    assert any("action-gh-release" in s.get("uses", "") for s in release["steps"])


def test_workflow_actions_are_pinned_to_a_version(workflow):
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses and all("@v" in u for u in uses)


# ----------------------------------------------------------------------------- the spec


class _Recorder:
    """Stands in for one of PyInstaller's spec classes; keeps its arguments."""

    calls: ClassVar[dict[str, tuple]] = {}

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        type(self).calls[type(self).__name__] = (args, kwargs)


def _run_spec(platform: str, monkeypatch, tmp_path: Path) -> dict:
    """Execute the spec with recording stand-ins for PyInstaller's classes.

    libtorch_cpu.so is played by a copy of torch's small libshm.so (a real library to strip).
    """
    import torch

    tmp_path.mkdir(parents=True, exist_ok=True)
    library = tmp_path / "libtorch_cpu.so"
    shutil.copy(Path(torch.__file__).parent / "lib" / "libshm.so", library)
    names = {}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        names[name] = type(name, (_Recorder,), {"calls": {}})
    analysis = names["Analysis"]
    analysis.binaries = [
        ("torch/lib/libtorch_cpu.so", str(library), "BINARY"),
        ("torch/lib/libtorchbind_test.so", "/x", "BINARY"),
        ("torch/bin/torch_shm_manager", "/x", "BINARY"),
        ("torch/bin/test_api", "/x", "BINARY"),
        ("libportaudio.so.2", "/x", "BINARY"),
        ("av.libs/libavcodec-1234.so.61", "/x", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/x", "BINARY"),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/x", "BINARY"),
    ]
    analysis.datas = [
        ("torch/include/ATen/core/ivalue.h", "/x", "DATA"),
        ("torch/share/cmake/Torch/TorchConfig.cmake", "/x", "DATA"),
        ("PySide6/Qt/translations/qtbase_de.qm", "/x", "DATA"),
        ("resources/models/manifest.json", "/x", "DATA"),
    ]
    analysis.pure = analysis.scripts = []
    monkeypatch.setattr(sys, "platform", platform)
    namespace = {"SPECPATH": str(SPEC.parent), "workpath": str(tmp_path / "work"), **names}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return namespace


def test_spec_reads_the_version_and_bundles_the_model_and_the_demo(monkeypatch, tmp_path):
    spec = _run_spec("linux", monkeypatch, tmp_path)
    assert spec["VERSION"] == stemgui.__version__
    args, kwargs = spec["Analysis"].calls["Analysis"]
    assert args[0] == [str(ROOT / "stemgui" / "__main__.py")]
    manifest = json.loads((ROOT / "resources/models/manifest.json").read_text())
    datas = {Path(src).relative_to(ROOT).as_posix(): dest for src, dest in kwargs["datas"]}
    expected = {"resources/models/manifest.json": "resources/models"}
    expected |= {f"resources/models/{m['file']}": "resources/models" for m in manifest["models"]}
    expected |= {f"resources/demo/{n}": "resources/demo" for n in ("demo.mp3", "demo.json")}
    assert datas == expected
    assert kwargs["hookspath"] == [str(ROOT / "build_spec" / "hooks")]
    assert "BUNDLE" not in spec["BUNDLE"].calls  # no .app off macOS
    assert spec["COLLECT"].calls["COLLECT"][1]["name"] == "stemgui"


def test_spec_excludes_what_the_app_does_not_use(monkeypatch, tmp_path):
    spec = _run_spec("linux", monkeypatch, tmp_path)
    excludes = set(spec["Analysis"].calls["Analysis"][1]["excludes"])
    for name in ("training", "demucs", "tests", "matplotlib", "tkinter", "torch._inductor"):
        assert name in excludes
    for module in ("QtWebEngineCore", "Qt3DCore", "QtQuick", "QtQml", "QtMultimedia"):
        assert f"PySide6.{module}" in excludes
    used = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "torch", "numpy", "av"}
    assert not used & excludes
    kept = [dest for dest, *_ in spec["a"].binaries + spec["a"].datas]
    assert kept == [
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",  # torch refuses to start without it
        "libportaudio.so.2",
        "av.libs/libavcodec-1234.so.61",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "resources/models/manifest.json",
    ]


def test_spec_strips_torchs_libraries_on_linux_only(monkeypatch, tmp_path):
    if shutil.which("strip") is None:
        pytest.skip("needs binutils' strip")
    linux = _run_spec("linux", monkeypatch, tmp_path / "linux")
    source = Path(dict((d, s) for d, s, _ in linux["a"].binaries)["torch/lib/libtorch_cpu.so"])
    assert source == tmp_path / "linux" / "work" / "stripped" / "torch/lib/libtorch_cpu.so"
    assert 0 < source.stat().st_size < (tmp_path / "linux" / "libtorch_cpu.so").stat().st_size
    assert dict((d, s) for d, s, _ in linux["a"].binaries)["torch/bin/torch_shm_manager"] == "/x"
    assert linux["COLLECT"].calls["COLLECT"][1]["strip"] is False  # all: breaks numpy's OpenBLAS
    mac = _run_spec("darwin", monkeypatch, tmp_path / "mac")
    source = dict((d, s) for d, s, _ in mac["a"].binaries)["torch/lib/libtorch_cpu.so"]
    assert source == str(tmp_path / "mac" / "libtorch_cpu.so")  # signatures stay valid


def test_spec_makes_an_app_bundle_on_macos(monkeypatch, tmp_path):
    spec = _run_spec("darwin", monkeypatch, tmp_path)
    _, kwargs = spec["BUNDLE"].calls["BUNDLE"]
    assert kwargs["name"] == "stemgui.app"
    assert spec["COLLECT"].calls["COLLECT"][1]["strip"] is False  # would break signatures
    assert kwargs["info_plist"]["CFBundleShortVersionString"] == stemgui.__version__


def test_hook_collects_the_networks_loaded_by_name():
    pytest.importorskip("PyInstaller")
    code = (
        "import runpy, sys; ns = runpy.run_path(sys.argv[1]); print(' '.join(ns['hiddenimports']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "build_spec/hooks/hook-stemgui.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert "stemgui.separation.nets.htdemucs" in out and "stemgui.ui.smoke" in out


# ----------------------------------------------------------------------------- installer scripts


def test_inno_setup_script_takes_the_version_and_installs_an_uninstallable_app():
    text = ISS.read_text(encoding="utf-8")
    assert "#ifndef AppVersion" in text and "#error" in text
    assert "AppVersion={#AppVersion}" in text
    assert "OutputBaseFilename={#AppName}-{#AppVersion}-setup" in text
    assert 'Name: "{autoprograms}\\{#AppName}"; Filename: "{app}\\{#AppExe}"' in text
    assert 'Name: "associate"' in text and "Flags: unchecked" in text
    assert text.count("Tasks: associate") >= 3
    assert "UninstallDisplayName=" in text
    assert '#define AppExe "stemgui.exe"' in text


def _fake_tools(folder: Path) -> Path:
    """Stand-ins for macOS's tools that log their arguments (hdiutil writes the dmg)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    log = folder / "calls.log"
    tools = {
        "hdiutil": 'for last; do :; done; touch "$last"',
        "codesign": "",
        "xcrun": "",
        "PlistBuddy": "echo 9.8.7",
        "file": "echo Mach-O 64-bit dynamically linked shared library",
    }
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n{body}\n')
        path.chmod(0o755)
    return bin_dir


def _make_dmg(tmp_path: Path, **env_vars: str) -> tuple[subprocess.CompletedProcess, str]:
    app = tmp_path / "dist" / "stemgui.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "MacOS" / "stemgui").write_text("binary")
    (app / "Contents" / "Info.plist").write_text("plist")
    bin_dir = _fake_tools(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLE_")}
    env |= {"PATH": f"{bin_dir}:{env['PATH']}", "PLISTBUDDY": str(bin_dir / "PlistBuddy")}
    env |= env_vars
    result = subprocess.run(
        ["bash", str(DMG_SCRIPT), str(app)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    log = (tmp_path / "calls.log").read_text() if (tmp_path / "calls.log").exists() else ""
    return result, log


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_dmg_script_without_identity_skips_signing_with_a_message(tmp_path):
    result, calls = _make_dmg(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "NOT signed" in result.stdout and "notarisation skipped" in result.stdout
    assert "codesign" not in calls and "notarytool" not in calls
    dmg = tmp_path / "dist" / f"stemgui-9.8.7-macos-{os.uname().machine}.dmg"
    assert "hdiutil create -volname stemgui 9.8.7" in calls and dmg.is_file()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_dmg_script_signs_and_notarises_when_the_secrets_are_set(tmp_path):
    secrets = dict(
        APPLE_SIGNING_IDENTITY="Developer ID Application: Test (TEAM)",
        APPLE_ID="a@b.c",
        APPLE_TEAM_ID="TEAM",
        APPLE_APP_PASSWORD="pw",
    )
    result, calls = _make_dmg(tmp_path, **secrets)
    assert result.returncode == 0, result.stderr
    lines = calls.splitlines()
    signs = [i for i, line in enumerate(lines) if line.startswith("codesign --force")]
    create = next(i for i, line in enumerate(lines) if line.startswith("hdiutil create"))
    notarise = next(i for i, line in enumerate(lines) if "notarytool submit" in line)
    assert signs[0] < create < signs[-1] < notarise  # app signed, then the dmg made and signed
    assert "--options runtime" in lines[signs[0]]
    assert any("stapler staple" in line for line in lines[notarise:])


def test_dmg_script_without_app_says_what_to_do(tmp_path):
    result = subprocess.run(
        ["bash", str(DMG_SCRIPT), str(tmp_path / "missing.app")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "build it first" in result.stderr


def test_make_bundle_test_runs_the_frozen_smoke_test():
    assert "QT_QPA_PLATFORM=offscreen dist/stemgui/stemgui --smoke-test" in dry_run("bundle-test")
