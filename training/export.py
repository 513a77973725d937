"""Ship a trained model: copy it into ``resources/models`` under a hashed name, with its manifest.

``python -m training export runs/x/best.stemgui --name stemgui-htdemucs`` copies the checkpoint to
``resources/models/stemgui-htdemucs-<sha256[:8]>.stemgui`` (so its name carries the hash that the
engine checks) and writes the manifest entry that ``stemgui.separation.store`` reads, extended with
how the model was made: architecture, sources, size, data, steps, validation SDR per stem, config
and git commit, all taken from the checkpoint's own provenance. A name already in the manifest is
refused unless ``--replace`` is given: then its entry and the file it named are replaced. An
official Demucs ``.th`` file is shipped as a stemgui checkpoint of its network
(``training.models``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from stemgui.audio.atomic import atomic_path
from stemgui.errors import ModelLoadError
from stemgui.export.naming import MAX_NAME_BYTES, safe_name
from stemgui.separation.checkpoint import SUFFIX, load_model, read_checkpoint
from stemgui.separation.hashing import HASH_PREFIX_LENGTH, file_sha256, hashed_name
from stemgui.separation.official_models import OFFICIAL_MODELS
from stemgui.separation.store import MANIFEST, MANIFEST_SCHEMA, ModelStore
from training.data import describe
from training.models import as_stemgui_file, is_official
from training.options import given_path, input_path, writable_folder

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODELS_DIR = REPO / "resources" / "models"


def export_model(
    source: str | Path,
    name: str,
    models_dir: str | Path = DEFAULT_MODELS_DIR,
    *,
    description: str = "",
    default: bool = True,
    replace: bool = False,
) -> dict[str, Any]:
    """Copy ``source`` into ``models_dir`` and write its manifest entry; returns the entry.

    An earlier entry of the same name is refused unless ``replace``: then it is replaced and its
    file removed (unless another entry names it). With ``default`` every other entry loses its
    default flag. An official ``.th`` file is written there as a stemgui checkpoint.

    Raises:
        ValueError: ``name`` cannot be a file name on every system or is an official model's,
            ``models_dir`` cannot be written, or ``name`` is in the manifest already and
            ``replace`` is not given.
        ModelLoadError: ``source`` does not load, or the manifest is damaged.
    """
    # its file, name-<8 hex of its sha256>.stemgui, within a name's bytes on every disk
    room = MAX_NAME_BYTES - len(f"-{'0' * HASH_PREFIX_LENGTH}{SUFFIX}".encode())
    instead = safe_name(name.lstrip("."), extension=False, max_bytes=room)
    if name.startswith(".") or instead != name:  # safe on Windows, macOS and Linux
        raise ValueError(
            f"model name {name!r}: it becomes the file's name; use a name such as {instead!r} "
            f'(no leading dot, none of / \\ : * ? " < > |, at most {room} bytes: the file is '
            f"named NAME-<{HASH_PREFIX_LENGTH} hex digits>{SUFFIX})"
        )
    if name in OFFICIAL_MODELS:  # the bundled model wins a name: the official one is lost
        raise ValueError(
            f"model name {name!r}: it is an official Demucs model's, which the app would no "
            "longer offer (this one would take its place); choose another --name"
        )
    source, models_dir = Path(source), Path(models_dir)
    writable_folder(models_dir, "--models-dir")  # before anything is read or written
    manifest_path = models_dir / MANIFEST
    try:
        entries = ModelStore(bundled_dir=models_dir).manifest()  # a damaged one: refused
    except ModelLoadError as error:  # the store's readers say to reinstall stemgui: not here
        raise ModelLoadError(
            error.path,
            f"{error.reason}; correct this manifest of --models-dir by hand, or remove it "
            "(export then writes one that lists this model alone)",
        ) from error
    earlier = [e for e in entries if e["name"] == name]
    if earlier and not replace:
        raise ValueError(
            f"{manifest_path}: already ships a model named {name!r} ({earlier[0]['file']}); "
            f"choose another --name, or add --replace to replace it (its file is deleted)"
        )
    for entry in earlier:  # its file is deleted once the manifest is written: refused first
        file = models_dir / entry["file"]
        if entry["file"] == MANIFEST or (file.exists() and not file.is_file()):
            what = "the manifest itself" if entry["file"] == MANIFEST else "not a model file"
            raise ValueError(
                f"{manifest_path}: the model named {name!r} has the file {entry['file']!r}, "
                f"{what}, which --replace would delete; correct that entry's file by hand, or "
                "choose another --name"
            )
    if is_official(source):
        with tempfile.TemporaryDirectory(prefix="stemgui-export-") as folder:
            imported = as_stemgui_file(source, folder)
            return export_model(
                imported,
                name,
                models_dir,
                description=description or f"imported from the official Demucs {source.name}",
                default=default,
                replace=replace,
            )
    payload = read_checkpoint(source)
    model = load_model(source)  # proves the engine loads it before anything is written
    sha256 = file_sha256(source)
    # .stemgui whatever the source is named (it took the ending of best, best.pt, x.bak)
    target = hashed_name(models_dir / f"{name}{SUFFIX}", sha256)
    models_dir.mkdir(parents=True, exist_ok=True)
    copied = not target.exists()  # the same file exported again is already there
    with atomic_path(target, overwrite=True) as part:
        shutil.copyfile(source, part)

    provenance = payload.get("provenance", {})
    first = payload["models"][0]
    entry = {
        "name": name,
        "file": target.name,
        "sha256": sha256,
        "sources": list(model.sources),
        "description": description or f"{first['architecture']} trained by stemgui's training",
        "kind": payload["kind"],
        "default": default,
        "architecture": first["architecture"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "size_bytes": target.stat().st_size,
        "samplerate": int(first["samplerate"]),
        "segment": first.get("segment"),
        # older runs recorded only their roots, as paths of the machine they ran on
        "data": provenance.get("data") or [describe(r) for r in provenance.get("data_roots", [])],
        "train_tracks": provenance.get("train_tracks"),
        "steps": provenance.get("steps"),
        "valid_sdr": provenance.get("valid_sdr", {}),
        "git_commit": provenance.get("git_commit", "unknown"),
        "config": provenance.get("config", ""),
        "exported": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if provenance.get("imported_from"):  # an official .th file: which one
        entry["imported_from"] = provenance["imported_from"]
    if provenance.get("init"):
        entry["init"] = provenance["init"]  # the checkpoint its training started from
    if provenance.get("earlier"):  # the sessions a resumed run ran before the last one
        entry["earlier"] = provenance["earlier"]
    if payload["kind"] == "bag":  # each member's own history (``training bag`` records it)
        entry["members"] = provenance.get("members", [])
        entry["weights"] = payload.get("weights")

    entries = [e for e in entries if e["name"] != name]
    kept = {e["file"] for e in entries} | {target.name}  # a file another entry names stays
    replaced = [e["file"] for e in earlier if e["file"] not in kept]
    if default:
        for other in entries:
            other["default"] = False
    entries.append(entry)
    document = {"schema": MANIFEST_SCHEMA, "models": entries}
    try:
        with atomic_path(manifest_path, overwrite=True) as part:
            part.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except BaseException:  # no manifest names the copy: it would lie there unshipped
        if copied:
            target.unlink(missing_ok=True)
        raise
    for file in replaced:  # once the manifest no longer names them
        (models_dir / file).unlink(missing_ok=True)
    return entry


def run_export(args: argparse.Namespace) -> int:
    entry = export_model(
        args.model,
        args.name,
        args.models_dir,
        description=args.description,
        default=True,
        replace=args.replace,
    )
    sdr = ", ".join(f"{k} {v:.2f}" for k, v in entry["valid_sdr"].items())
    steps = "" if entry["steps"] is None else f", {entry['steps']} steps"  # a bag: its members'
    print(
        f"exported {entry['file']} ({entry['size_bytes']:,} bytes, {entry['parameters']:,} "
        f"parameters{steps}; validation SDR {sdr or 'not measured'})"
    )
    return 0


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``export`` on ``python -m training``'s subparsers."""
    parser = commands.add_parser("export", help="ship a trained model in resources/models")
    parser.add_argument(
        "model",
        type=input_path,
        help="a stemgui checkpoint (e.g. runs/x/best.stemgui) or an official Demucs .th",
    )
    parser.add_argument(
        "--name", required=True, help="model name shown in the app and given to -n (required)"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the manifest's model of this name, deleting its file (default: a name "
        "the manifest has is refused)",
    )
    parser.add_argument(
        "--models-dir",
        type=given_path,
        default=str(DEFAULT_MODELS_DIR),
        help="folder of the shipped models and their manifest.json (default: resources/models)",
    )
    parser.add_argument(
        "--description",
        default="",
        help="one line the app shows for the model (default: its network and where it came from)",
    )
    parser.set_defaults(func=run_export)
    return parser
