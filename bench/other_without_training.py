"""What the shipped bag's "other" reaches without more training: test-time passes, post-filters
and blends of its two members, scored on the 14 MUSDB validation previews as ``training eval``
scores models (BSS Eval v4, median over 1 s frames and over tracks). The issue's target is
"other" 2 dB above mixture/4 (1.11 + 2 = 3.11 dB here); these rows say which cheap ideas get
there and which do not. Printed, never asserted; about 5 minutes on 2 cores.

Rows (each from the same separations, every pass run once):
- the bag as the app runs it (Balanced: overlap 0.25, no shifts)
- averaged over channel-swapped and sign-flipped passes (2 or 4 passes a member)
- "other" blended from both members (a quarter of the general member's)
- "other" as the mixture less the other three stems; every stem given a quarter of what the
  four leave of the mixture
- a Wiener post-filter: the mixture's STFT masked by the stems' magnitudes (power 1 or 2)
- "other" blended from the specialist's and the general member's "other", the mixture less the
  general member's other three stems and the mixture, with one real weight each per frequency
  bin, fitted (least squares) on the 80 training tracks
- a weight soup: one network whose weights lie between the two members' (a = the specialist's
  share), its "other" in the bag
- the bag with its chunks overlapping more (Balanced overlaps them by a quarter)

    .venv/bin/python bench/other_without_training.py --data ../shared/data/musdb18-7/train
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.separation.official import load_any
from stemgui.separation.separator import Separator
from training import bsseval, evaluate
from training import data as data_mod

MODEL = "resources/models/stemgui-htdemucs-small-119eec4f.stemgui"
N_FFT = 4096
PASSES = ("plain", "swap", "flip", "swap+flip")


def run_pass(separator: Separator, mix: np.ndarray, kind: str) -> np.ndarray:
    """The stems of ``mix`` separated with its channels swapped and/or its sign flipped, put
    back as the mix was."""
    swap, flip = "swap" in kind, "flip" in kind
    changed = mix[::-1] if swap else mix
    changed = -changed if flip else changed
    stems = separator.separate(np.ascontiguousarray(changed, dtype=np.float32))
    stems = stems[:, ::-1] if swap else stems
    return -stems if flip else stems


def stft(x: np.ndarray) -> torch.Tensor:
    """(..., time) -> (..., bins, frames), complex."""
    flat = torch.from_numpy(np.array(x, dtype=np.float32)).reshape(-1, x.shape[-1])  # a copy
    spec = torch.stft(flat, N_FFT, N_FFT // 4, window=torch.hann_window(N_FFT), return_complex=True)
    return spec.reshape(*x.shape[:-1], *spec.shape[-2:])


def istft(spec: torch.Tensor, length: int) -> np.ndarray:
    """(..., bins, frames) -> (..., length)."""
    flat = spec.reshape(-1, *spec.shape[-2:])
    out = torch.istft(flat, N_FFT, N_FFT // 4, window=torch.hann_window(N_FFT), length=length)
    return out.reshape(*spec.shape[:-2], length).numpy()


def wiener(stems: np.ndarray, mix: np.ndarray, power: float) -> np.ndarray:
    """The mixture's STFT shared out by the stems' magnitudes to the power ``power``: the
    ideal-ratio-mask baseline of ``training eval``, with the estimates for references."""
    return evaluate.irm_estimates(np.concatenate([mix[None], stems]), N_FFT, power)


def blend_inputs(mix: np.ndarray, general: np.ndarray, specialist: np.ndarray) -> torch.Tensor:
    """What a fitted blend makes "other" of, (inputs, channels, bins, frames): the specialist's
    and the general member's "other", the mixture less the general member's other three stems,
    and the mixture."""
    rest = mix - general[[0, 1, 3]].sum(axis=0)
    return stft(np.stack([specialist[2], general[2], rest, mix])).to(torch.complex128)


def fit_blend(tracks: Iterable[tuple[torch.Tensor, np.ndarray]]) -> torch.Tensor:
    """Real weights per frequency bin, (bins, inputs), of the least-squares blend of the inputs
    closest to the true "other" over ``tracks`` ((blend_inputs, true other) pairs)."""
    gram = rhs = 0
    for inputs, truth in tracks:
        x = inputs.permute(2, 0, 1, 3).flatten(2)  # bins, inputs, channels * frames
        y = stft(truth).to(torch.complex128).transpose(0, 1).flatten(1)
        gram = gram + torch.einsum("fkt,fjt->fkj", x.conj(), x).real
        rhs = rhs + torch.einsum("fkt,ft->fk", x.conj(), y).real
    ridge = 1e-9 * torch.eye(gram.shape[-1], dtype=gram.dtype)  # bins no track has sound in
    return torch.linalg.solve(gram + ridge, rhs)


def blended(weights: torch.Tensor, inputs: torch.Tensor, length: int) -> np.ndarray:
    """The blend of ``inputs`` by ``weights``: an "other", (channels, length)."""
    spec = torch.einsum("fk,kcft->cft", weights.to(inputs.dtype), inputs)
    return istft(spec.to(torch.complex64), length)


def soup(general: torch.nn.Module, specialist: torch.nn.Module, share: float) -> torch.nn.Module:
    """A network whose weights are ``share`` of the specialist's and the rest the general's."""
    mixed = copy.deepcopy(specialist)
    ours, theirs = specialist.state_dict(), general.state_dict()
    mixed.load_state_dict(
        {
            name: share * value + (1 - share) * theirs[name] if value.is_floating_point() else value
            for name, value in ours.items()
        }
    )
    return mixed


def variants(
    mix: np.ndarray, general: dict, specialist: dict, blend: torch.Tensor
) -> dict[str, np.ndarray]:
    """Every row's (sources, channels, frames) estimate of one track (sources in MUSDB order)."""

    def bag(passes: tuple[str, ...], share: float = 0.0) -> np.ndarray:
        estimate = np.mean([general[p] for p in passes], axis=0)
        other = np.mean([specialist[p] for p in passes], axis=0)[2]
        estimate[2] = share * estimate[2] + (1 - share) * other
        return estimate

    shipped = bag(("plain",))
    residual = shipped.copy()
    residual[2] = mix - shipped[[0, 1, 3]].sum(axis=0)
    fitted = shipped.copy()
    inputs = blend_inputs(mix, general["plain"], specialist["plain"])
    fitted[2] = blended(blend, inputs, mix.shape[-1])
    return {
        "the bag as shipped (Balanced)": shipped,
        "passes: plain + swap+flip": bag(("plain", "swap+flip")),
        "passes: all four": bag(PASSES),
        'all four, "other" 1/4 general': bag(PASSES, share=0.25),
        '"other" 1/4 general': bag(("plain",), share=0.25),
        '"other" = mixture - the others': residual,
        "each stem + 1/4 of the rest": shipped + (mix - shipped.sum(axis=0)) / 4,
        '"other" blended, fitted on train tracks': fitted,
        "Wiener, magnitude": wiener(shipped, mix, 1.0),
        "Wiener, power": wiener(shipped, mix, 2.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", nargs="+", action="extend", required=True, help="MUSDB data roots"
    )
    parser.add_argument("--model", default=MODEL, help="a bag of a general and an 'other' model")
    parser.add_argument("--cache", default="runs/cache")
    parser.add_argument("--soups", type=float, nargs="*", default=[0.5, 0.75])
    parser.add_argument("--overlaps", type=float, nargs="*", default=[0.5, 0.75])
    args = parser.parse_args()

    bag = load_any(args.model)
    general, specialist = bag.models
    train, valid = data_mod.split_validation(data_mod.discover(args.data))
    store = data_mod.TrackCache(args.cache, samplerate=bag.samplerate)
    tracks = [np.asarray(store.load(track)) for track in valid]
    order = [list(bag.sources).index(source) for source in data_mod.SOURCES]
    separators = [Separator(net, device="cpu", overlap=0.25, shifts=0) for net in bag.models]

    def fitting() -> Iterator[tuple[torch.Tensor, np.ndarray]]:
        for number, source in enumerate(train, 1):
            mix, truth = (track := np.asarray(store.load(source)))[0], track[3]
            general_stems, specialist_stems = (run_pass(s, mix, "plain")[order] for s in separators)
            yield blend_inputs(mix, general_stems, specialist_stems), truth
            print(f"fitting a blend: track {number}/{len(train)}", file=sys.stderr, flush=True)

    blend = fit_blend(fitting())
    soups = {
        share: Separator(soup(general, specialist, share), device="cpu", overlap=0.25, shifts=0)
        for share in args.soups
    }
    overlapping = {
        overlap: [Separator(net, device="cpu", overlap=overlap, shifts=0) for net in bag.models]
        for overlap in args.overlaps
    }

    scores: dict[str, list[np.ndarray]] = {}
    for number, track in enumerate(tracks, 1):
        mix, references = track[0], track[1:]
        general_passes, specialist_passes = (
            {kind: run_pass(separator, mix, kind)[order] for kind in PASSES}
            for separator in separators
        )
        rows = variants(mix, general_passes, specialist_passes, blend)
        for share, separator in soups.items():
            mixed = general_passes["plain"].copy()
            mixed[2] = run_pass(separator, mix, "plain")[order][2]
            rows[f'soup a={share:g}: its "other" in the bag'] = mixed
        for overlap, (general_run, specialist_run) in overlapping.items():
            mixed = run_pass(general_run, mix, "plain")[order]
            mixed[2] = run_pass(specialist_run, mix, "plain")[order][2]
            rows[f"chunks overlapping by {overlap:g}"] = mixed
        rows["mixture/4"] = np.broadcast_to(mix / 4, references.shape)
        for name, estimate in rows.items():
            scores.setdefault(name, []).append(bsseval.track_sdr(references, estimate))
        print(f"track {number}/{len(tracks)}", file=sys.stderr, flush=True)

    sources = list(data_mod.SOURCES)
    print(f"{'SDR (dB), BSS Eval v4 medians':40s}", *(f"{s:>7s}" for s in sources), "   mean")
    for name, per_track in scores.items():
        medians = bsseval.median_over_tracks(per_track)
        print(f"{name:40s}", *(f"{m:7.2f}" for m in medians), f"{np.mean(medians):7.2f}")


if __name__ == "__main__":
    main()
