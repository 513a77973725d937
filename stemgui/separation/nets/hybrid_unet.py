"""The two U-Nets of the hybrid networks (HDemucs v3, HTDemucs v4).

A hybrid network runs two U-Nets side by side: one over the waveform (the *time* branch) and one
over the STFT (the *frequency* branch). This module builds and runs them from the layers of
``hybrid_layers.py``; the spectrogram they work on comes from ``hybrid_spec.py``. Everything both
networks need lives in these three modules, so that ``hdemucs.py`` and ``htdemucs.py`` only
describe how the pieces are wired.

Contract (imported by ``hdemucs.py`` and ``htdemucs.py``; the names and signatures are stable):

The two U-Nets
    ``shape_fault(nfft, depth, kernel_size, stride, time_stride, time_branch) -> str | None``
        why layers of these arguments cannot line up, whatever the input (``_build_unet``
        raises it as a ValueError), else None.
    ``class HybridUNet`` (mixin for an ``nn.Module``)
        ``_build_unet(**options) -> merged`` creates and registers ``encoder``, ``decoder``,
        ``tencoder``, ``tdecoder`` and ``freq_emb`` (an ``embeddings.ScaledEmbedding``) from
        the constructor options the two networks share; ``_run_unet(x, xt, bottom) -> (x, xt)``
        runs the encoders, ``bottom`` and the decoders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .embeddings import ScaledEmbedding
from .hybrid_layers import HDecLayer, HEncLayer, MultiWrap

logger = logging.getLogger(__name__)

__all__ = [
    "HybridUNet",
    "shape_fault",
]


def shape_fault(
    nfft: int, depth: int, kernel_size: int, stride: int, time_stride: int, time_branch: bool
) -> str | None:
    """Why the layers of a hybrid U-Net of these arguments cannot line up, or None.

    Each argument may be possible alone and not with the others (a file edited by hand, or
    trained so): such a network was built and failed at the first chunk of every song (a
    decoder one sample short, 'cannot inject', 'expected 58 STFT frames'). Only what fails
    whatever the input is refused here. A layer's decoder gives back ``(n - 1) * stride +
    kernel_size - 2 * pad`` of its encoder's ``n`` (``pad = kernel_size // 4``): below
    ``stride`` (kernel_size 1 with stride 4; stride 100) a decoder is short of its input; above
    it (kernel_size 1000) the time branch is not divided by the stride, which only the merge
    of the branches minds. With ``kernel_size - 2 * pad == stride`` (8 and 4, the official
    models') a layer over frequencies needs bins the stride divides, the merge a time branch
    divided by the spectrogram's hop ``nfft // 4``, which is even (its frames are the padded
    length over the hop) and a layer over time only (after the merge) an even ``time_stride``.
    """
    excess = kernel_size - 2 * (kernel_size // 4) - stride
    hop = nfft // 4
    if excess < 0:
        return (
            f"kernel_size={kernel_size} is too small for stride={stride}: a decoder layer "
            "gives back less than its encoder took (kernel_size - 2 * (kernel_size // 4) must "
            "be at least the stride, as kernel_size=8 and stride=4)"
        )
    if time_branch and (hop < 2 or hop % 2):
        return (
            f"nfft={nfft} does not fit the time branch: its hop (nfft // 4 = {hop}) must be even "
            "(nfft a multiple of 8, as 4096)"
        )
    freqs = nfft // 2
    for index in range(depth):
        if freqs <= 1:  # over time only
            if time_stride % 2:
                return (
                    f"time_stride={time_stride} must be even for layer {index} over time only "
                    f"(depth={depth}, nfft={nfft})"
                )
        elif freqs <= kernel_size:  # the last over frequencies: the branches merge here
            if time_branch and excess:
                return (
                    f"kernel_size={kernel_size} is too large for stride={stride} where the "
                    f"branches merge (layer {index}): kernel_size - 2 * (kernel_size // 4) must "
                    "be the stride, as kernel_size=8 and stride=4"
                )
            if time_branch and stride ** (index + 1) != hop:
                return (
                    f"nfft={nfft} does not fit stride={stride} and kernel_size={kernel_size}: the "
                    f"branches merge at layer {index}, where the time branch is divided by "
                    f"{stride ** (index + 1)} and the spectrogram by its hop {hop}"
                )
            freqs = 1
        elif freqs % stride and not excess:
            return (
                f"nfft={nfft} does not fit stride={stride}: layer {index} has {freqs} frequency "
                "bins, not a multiple of the stride"
            )
        else:
            freqs //= stride
    return None


class HybridUNet:
    """Mixin that builds and runs the encoder / decoder layers of a hybrid network.

    :meth:`_build_unet` registers on the network, in this order (the reference's, which fixes
    the order of ``parameters()`` that diffq-quantized states rely on): ``encoder`` and
    ``decoder`` (the frequency branch, and the layers over time after a merge), ``tencoder``
    and ``tdecoder`` (the time branch, only with ``time_branch``), then ``freq_emb``. Encoders
    are listed outermost layer first, decoders innermost layer first.

    At each layer the frequency branch divides its bins by ``stride``; the layer that collapses
    the last ``kernel_size`` bins or fewer into one is where the time branch *merges*: its
    ``tencoder`` layer is ``empty`` (a bare convolution added into the frequency branch) and
    the layers below run over time only (kernel ``2 * time_stride``) in ``encoder`` and
    ``decoder``. The network sets ``depth`` and ``hybrid`` (whether it has a time branch).
    """

    depth: int
    hybrid: bool
    encoder: nn.ModuleList
    decoder: nn.ModuleList
    tencoder: nn.ModuleList
    tdecoder: nn.ModuleList
    freq_emb: ScaledEmbedding | None
    freq_emb_scale: float

    def _build_unet(
        self,
        *,
        audio_channels: int,
        nsources: int,
        channels: int,
        channels_time: int | None,
        growth: float,
        nfft: int,
        cac: bool,
        depth: int,
        rewrite: bool,
        time_branch: bool,
        multi_freqs: Sequence[float],
        multi_freqs_depth: int,
        freq_emb: float,
        emb_scale: float,
        emb_smooth: bool,
        kernel_size: int,
        time_stride: int,
        stride: int,
        context: int,
        context_enc: int,
        norm_starts: int,
        norm_groups: int,
        dconv_mode: int,
        dconv_depth: int,
        dconv_comp: float,
        dconv_init: float,
        dconv_attn: int | None = None,
        dconv_lstm: int | None = None,
    ) -> bool:
        """Create and register the layers (arguments as the networks' constructors; ``None``
        for ``dconv_attn`` / ``dconv_lstm``: no DConv layer gets attention / a BiLSTM).

        Returns:
            whether the time branch merges into the frequency branch.
        """
        fault = shape_fault(nfft, depth, kernel_size, stride, time_stride, time_branch)
        if fault is not None:
            raise ValueError(fault)
        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()
        if time_branch:
            self.tencoder = nn.ModuleList()
            self.tdecoder = nn.ModuleList()
        self.freq_emb = None
        self.freq_emb_scale = freq_emb

        spec_factor = 2 if cac else 1  # frequency-branch channels per audio channel
        chin, chin_z = audio_channels, audio_channels * spec_factor
        chout, chout_z = channels_time or channels, channels
        freqs = nfft // 2
        merged = False
        for index in range(depth):
            freq = freqs > 1
            last_freq = freq and freqs <= kernel_size
            if not freq:
                layer_kernel, layer_stride = 2 * time_stride, time_stride
            elif last_freq:
                # Collapse the remaining bins into one: the branches merge after this layer.
                layer_kernel, layer_stride = freqs, stride
                merged = True
                chout_z = chout = max(chout, chout_z)
            else:
                layer_kernel, layer_stride = kernel_size, stride
            dconv_kw: dict = dict(
                depth=dconv_depth, compress=dconv_comp, init=dconv_init, gelu=True
            )
            if dconv_lstm is not None:
                dconv_kw["lstm"] = index >= dconv_lstm
            if dconv_attn is not None:
                dconv_kw["attn"] = index >= dconv_attn
            common = dict(
                norm=index >= norm_starts,
                rewrite=rewrite,
                norm_groups=norm_groups,
                dconv_kw=dconv_kw,
            )
            layer_kw = dict(
                common, kernel_size=layer_kernel, stride=layer_stride, freq=freq, pad=not last_freq
            )
            time_kw = dict(common, kernel_size=kernel_size, stride=stride, freq=False, pad=True)
            split = bool(multi_freqs) and index < multi_freqs_depth

            enc: nn.Module = HEncLayer(
                chin_z, chout_z, dconv=dconv_mode & 1, context=context_enc, **layer_kw
            )
            if time_branch and freq:
                self.tencoder.append(
                    HEncLayer(
                        chin,
                        chout,
                        dconv=dconv_mode & 1,
                        context=context_enc,
                        empty=last_freq,
                        **time_kw,
                    )
                )
            self.encoder.append(MultiWrap(enc, multi_freqs) if split else enc)

            if index == 0:
                # The outermost decoder layers produce every source at once.
                chin = audio_channels * nsources
                chin_z = chin * spec_factor
            dec: nn.Module = HDecLayer(
                chout_z,
                chin_z,
                dconv=dconv_mode & 2,
                last=index == 0,
                context=context,
                context_freq=not split,
                **layer_kw,
            )
            self.decoder.insert(0, MultiWrap(dec, multi_freqs) if split else dec)
            if time_branch and freq:
                self.tdecoder.insert(
                    0,
                    HDecLayer(
                        chout,
                        chin,
                        dconv=dconv_mode & 2,
                        empty=last_freq,
                        last=index == 0,
                        context=context,
                        **time_kw,
                    ),
                )

            chin, chin_z = chout, chout_z
            chout, chout_z = int(growth * chout), int(growth * chout_z)
            if freq:
                freqs = 1 if freqs <= kernel_size else freqs // stride
            if index == 0 and freq_emb:
                self.freq_emb = ScaledEmbedding(freqs, chin_z, smooth=emb_smooth, scale=emb_scale)
        return merged

    def _run_unet(
        self,
        x: torch.Tensor,
        xt: torch.Tensor | None,
        bottom: Callable[
            [torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor | None]
        ],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Run both branches through the encoders, ``bottom``, then the decoders.

        Args:
            x: standardized frequency-branch input (B, 2C | C, F, T).
            xt: standardized waveform (B, C, time); None without a time branch.
            bottom: maps the encoders' last outputs ``(x, xt)`` to the decoders' inputs.

        Returns:
            ``(x, xt)``: the frequency branch output (B, S * (2C | C), F, T) and the time branch
            output (B, S * C, time), or None without a time branch.
        """
        time_branch = self.hybrid
        skips, skips_t = [], []
        lengths, lengths_t = [], []  # input lengths, to undo the padding in the decoders
        for index, encode in enumerate(self.encoder):
            lengths.append(x.shape[-1])
            inject = None
            if time_branch and index < len(self.tencoder):
                lengths_t.append(xt.shape[-1])
                tencode = self.tencoder[index]
                xt = tencode(xt)
                if tencode.empty:
                    inject = xt  # same shape as the frequency branch now: merge
                else:
                    skips_t.append(xt)
            x = encode(x, inject)
            if index == 0 and self.freq_emb is not None:
                bins = torch.arange(x.shape[-2], device=x.device)
                emb = self.freq_emb(bins).t()[None, :, :, None]  # (1, C, F', 1)
                x = x + self.freq_emb_scale * emb.expand_as(x)
            skips.append(x)

        x, xt = bottom(x, xt)

        split_at = self.depth - len(self.tdecoder) if time_branch else self.depth
        for index, decode in enumerate(self.decoder):
            x, pre = decode(x, skips.pop(), lengths.pop())
            if index < split_at:
                continue
            tdecode = self.tdecoder[index - split_at]
            if tdecode.empty:
                # The time branch starts again from the shared layers' last activation.
                if pre.shape[2] != 1:
                    raise RuntimeError(f"expected a single frequency bin, got {tuple(pre.shape)}")
                xt, _ = tdecode(pre[:, :, 0], None, lengths_t.pop())
            else:
                xt, _ = tdecode(xt, skips_t.pop(), lengths_t.pop())
        if skips or skips_t or lengths_t:
            raise RuntimeError("unused skip connections: encoder and decoder do not match")
        return x, xt
