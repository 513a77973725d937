"""Speed of our Separator against the reference `demucs.apply.apply_model`: same weights, one run.

Both get the official htdemucs configuration (41,984,456 parameters, random initialisation: the
speed does not depend on the values), the same input (noise and tones, ``--seconds`` long), no
shifts, overlap 0.25, the model's 7.8 s segment, and the same number of torch threads. The
reference's input is normalised by the mix's mean and std as its ``separate`` command does, so
both compute the same thing and their outputs are compared too.

    .venv/bin/python bench/separate_speed.py              # 60 s of audio
    .venv/bin/python bench/separate_speed.py --seconds 20 # quick check

Each side runs with the memory allocator its own program sets up: stemgui's command line and app
call ``stemgui.memory.reuse_freed_memory()`` first thing (glibc keeps a chunk's freed temporaries
for the next chunk instead of unmapping them), demucs's command line leaves glibc's defaults. So
the reference runs first, with the defaults, then the allocator is set as stemgui sets it and ours
runs. ``--allocator both`` sets it before both (the networks and chunking alone compared),
``--allocator neither`` for neither.

Prints each time, the ratio ours / reference (target: 0.8 or less), the chunks each ran and
the time per chunk, and the largest absolute difference between the two outputs. Our plan skips
the reference's last chunk when the chunk before it already reaches the end of the song (a 60 s
song: 10 chunks instead of 11; see ``stemgui.separation.chunking``), so the difference is shown
apart for the frames that chunk covered. Times on a shared machine are noisy: read the ratio of
one run, and repeat (``--repeats``) to take the best of several.
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction

import numpy as np
import torch

SOURCES = ["drums", "bass", "other", "vocals"]
# The official htdemucs configuration: what differs from the constructor's defaults.
OFFICIAL_HTDEMUCS = dict(bottom_channels=512, dconv_mode=3, t_layers=5, segment=Fraction(39, 5))
SAMPLERATE = 44100


def make_input(seconds: float, seed: int = 0) -> np.ndarray:
    """(2, frames) float32: pink-ish noise plus a few tones, peak about 0.5."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * SAMPLERATE)
    t = np.arange(frames) / SAMPLERATE
    noise = np.cumsum(rng.standard_normal((2, frames)), axis=1)
    noise -= noise.mean(axis=1, keepdims=True)
    noise /= np.abs(noise).max() + 1e-9
    tones = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 220.0, 330.0, 880.0)) / 4
    return (0.25 * noise + 0.25 * tones[None]).astype(np.float32)


def build_models(seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(reference, ours) with identical weights."""
    from demucs.htdemucs import HTDemucs as ReferenceHTDemucs

    from stemgui.separation import registry

    torch.manual_seed(seed)
    reference = ReferenceHTDemucs(SOURCES, samplerate=SAMPLERATE, **OFFICIAL_HTDEMUCS).eval()
    ours = registry.build(
        "HTDemucs", dict(sources=SOURCES, samplerate=SAMPLERATE, **OFFICIAL_HTDEMUCS)
    ).eval()
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def run_reference(model: torch.nn.Module, mix: np.ndarray, overlap: float) -> np.ndarray:
    """The reference path of ``demucs.separate``: normalise, apply_model, denormalise."""
    from demucs.apply import apply_model

    wav = torch.from_numpy(mix)
    mono = wav.mean(0)
    mean, std = mono.mean(), mono.std()
    with torch.no_grad():
        out = apply_model(
            model, ((wav - mean) / (std + 1e-8))[None], shifts=0, split=True, overlap=overlap
        )[0]
    return (out * (std + 1e-8) + mean).numpy()


def timed(function, *args) -> tuple[float, np.ndarray]:
    begin = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - begin, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="input length (60)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each; best time kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--allocator",
        choices=("ours", "both", "neither"),
        default="ours",
        help="which side runs with stemgui's allocator set-up (default: ours, as shipped)",
    )
    args = parser.parse_args(argv)

    from stemgui import memory
    from stemgui.separation.chunking import plan_chunks
    from stemgui.separation.separator import Separator

    if args.allocator == "both":
        memory.reuse_freed_memory()
    torch.set_num_threads(args.threads)
    reference, ours = build_models(args.seed)
    separator = Separator(ours, device="cpu", overlap=args.overlap, shifts=0)
    mix = make_input(args.seconds, args.seed)
    warm = mix[:, :SAMPLERATE]  # one chunk first: kernel warm-up

    run_reference(reference, warm, args.overlap)
    ref_times = []
    for _ in range(args.repeats):
        seconds, expected = timed(run_reference, reference, mix, args.overlap)
        ref_times.append(seconds)
    if args.allocator == "ours":
        memory.reuse_freed_memory()
    separator.separate(warm)
    our_times = []
    for _ in range(args.repeats):
        seconds, actual = timed(separator.separate, mix)
        our_times.append(seconds)
    ref_best, our_best = min(ref_times), min(our_times)
    frames = mix.shape[-1]
    plan = plan_chunks(frames, int(ours.segment * SAMPLERATE), args.overlap)
    ref_count = len(range(0, frames, plan.stride))  # apply_model's offsets
    tail = plan.count * plan.stride if ref_count > plan.count else frames  # first one skipped
    difference = float(np.abs(actual[..., :tail] - expected[..., :tail]).max())
    scale = float(np.abs(expected).max())
    print(f"input: {args.seconds:g} s stereo at {SAMPLERATE} Hz; torch threads: {args.threads}")
    print(f"stemgui's allocator set-up: {args.allocator}")
    print(f"reference apply_model: {ref_best:8.2f} s  ({ref_best / args.seconds:.3f} s per s)")
    print(f"our Separator:         {our_best:8.2f} s  ({our_best / args.seconds:.3f} s per s)")
    print(f"ratio ours/reference:  {our_best / ref_best:8.3f}  (target <= 0.8)")
    ref_chunk, our_chunk = ref_best / ref_count, our_best / plan.count
    print(
        f"chunks: reference {ref_count}, ours {plan.count}; per chunk {ref_chunk:.2f} s"
        f" vs {our_chunk:.2f} s, ratio {our_chunk / ref_chunk:.3f}"
    )
    print(f"max abs difference:    {difference:.3g}  (output peak {scale:.3g})")
    if tail < frames:
        skipped = float(np.abs(actual[..., tail:] - expected[..., tail:]).max())
        print(
            f"  and {skipped:.3g} over the last {(frames - tail) / SAMPLERATE:.2f} s, where the"
            " reference blends in its last chunk (random weights: not a quality figure)"
        )


if __name__ == "__main__":
    main()
