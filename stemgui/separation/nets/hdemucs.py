"""Hybrid Demucs (v3): a waveform U-Net and a spectrogram U-Net that merge in the middle.

The frequency branch reads the STFT of the mix (complex as channels) and convolves along the
frequency axis, dividing the number of bins by ``stride`` at each layer until one bin is left;
the time branch reads the waveform and divides its length by the same overall factor. At that
point the time branch's last convolution is added into the frequency branch and a single U-Net
continues over time. The decoder mirrors it: the shared layers split again into a spectrogram,
turned back into audio by the inverse STFT, and a waveform; the network output is their sum.

Constructor arguments, parameter names and numerics follow the reference
``demucs.hdemucs.HDemucs`` so that its checkpoints load with ``strict=True`` and give the same
stems. Official checkpoints of this class (``demucs/remote/*.yaml``, ``conf/config.yaml`` of the
Demucs repository):

* ``hdemucs_mmi`` (``75fc33f5``): the defaults of ``conf/config.yaml``, i.e. ``channels=48``,
  ``nfft=4096``, ``depth=6``, ``cac=True``, ``hybrid=True``, ``hybrid_old=False``,
  ``freq_emb=0.2``, ``dconv_mode=1``, ``dconv_init=1e-3``, ``norm_starts=4``, ``norm_groups=4``,
  ``multi_freqs=[]``;
* the hybrid members of the MDX 2021 bags (``mdx``, ``mdx_extra``, their ``_q`` versions and
  ``repro_mdx_a``): converted from the development branch by the Demucs repository's
  ``tools/convert.py``, which gives every ``hdemucs`` model ``cac=False`` and
  ``norm_starts=999`` and maps the old ``hybrid=True`` to ``hybrid_old=True`` (zero-padded
  STFT); ``wiener_iters=end_iters=0``, the configuration default, is kept.

So ``cac=False`` is supported with ``wiener_iters=end_iters`` of 0 (the Wiener filter's initial
estimate: predicted magnitudes with the phase of the mix, no EM step) or -1 (the same with the
reference's ``1e-8`` guard). Wiener EM iterations (``wiener_iters > 0``), which no official
checkpoint uses, are refused with a ``ValueError``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from .blocks import constructor_kwargs, rescale_module
from .hybrid_spec import HybridSpectrogram, check_output_options, standardize
from .hybrid_unet import HybridUNet

logger = logging.getLogger(__name__)


class HDemucs(HybridSpectrogram, HybridUNet, nn.Module):
    """Hybrid (or spectrogram-only) Demucs.

    Args:
        sources: names of the separated sources, in output order.
        audio_channels: channels of the input and of every output source.
        channels: hidden channels of the first frequency layer (``growth`` times more per layer).
        channels_time: hidden channels of the first time layer (``channels`` when None).
        growth: channel growth factor per layer.
        nfft: STFT size; the hop is ``nfft // 4``.
        wiener_iters, end_iters: Wiener iterations at test / train time, used when ``cac`` is
            off: -1 (phase of the mix) or 0 (Wiener initial estimate); more is refused.
        wiener_residual: Wiener residual source; with 0 iterations it changes nothing.
        cac: complex as channels (the frequency branch predicts real and imaginary parts).
        depth: layers in the encoder and in the decoder.
        rewrite: 1x1 (or ``1 + 2 * context``) convolution + GLU in every layer.
        hybrid: add the time branch (otherwise a spectrogram-only network).
        hybrid_old: zero-padded STFT of the MDX 2021 checkpoints.
        multi_freqs: frequency ratios splitting the outer layers into bands (:class:`MultiWrap`).
        multi_freqs_depth: how many outer layers are split.
        freq_emb: weight of the frequency embedding added after the first layer (0: none).
        emb_scale, emb_smooth: learning-rate scale and smooth init of that embedding.
        kernel_size, stride: of the frequency layers and of the time branch.
        time_stride: stride of the layers after the merge (kernel ``2 * time_stride``).
        context, context_enc: half-width of the rewrite convolution in decoder / encoder.
        norm_starts: first layer index with GroupNorm (decoder layers counted the same way).
        norm_groups: GroupNorm groups.
        dconv_mode: DConv residual branches in the encoder (1), decoder (2) or both (3).
        dconv_depth, dconv_comp, dconv_init: depth, compression, LayerScale init of DConv.
        dconv_attn, dconv_lstm: first layer index whose DConv has attention / a BiLSTM.
        rescale: reference std of the initial convolution weights (0: no rescaling).
        samplerate: audio sample rate the network was trained at.
        segment: training segment in seconds (metadata; the network takes any length).

    Shapes:
        ``forward(mix)``: (batch, audio_channels, time) -> (batch, sources, audio_channels, time).
    """

    def __init__(
        self,
        sources: Sequence[str],
        audio_channels: int = 2,
        channels: int = 48,
        channels_time: int | None = None,
        growth: float = 2,
        nfft: int = 4096,
        wiener_iters: int = 0,
        end_iters: int = 0,
        wiener_residual: bool = False,
        cac: bool = True,
        depth: int = 6,
        rewrite: bool = True,
        hybrid: bool = True,
        hybrid_old: bool = False,
        multi_freqs: Sequence[float] | None = None,
        multi_freqs_depth: int = 2,
        freq_emb: float = 0.2,
        emb_scale: float = 10,
        emb_smooth: bool = True,
        kernel_size: int = 8,
        time_stride: int = 2,
        stride: int = 4,
        context: int = 1,
        context_enc: int = 0,
        norm_starts: int = 4,
        norm_groups: int = 4,
        dconv_mode: int = 1,
        dconv_depth: int = 2,
        dconv_comp: float = 4,
        dconv_attn: int = 4,
        dconv_lstm: int = 4,
        dconv_init: float = 1e-4,
        rescale: float = 0.1,
        samplerate: int = 44100,
        segment: float | None = 4 * 10,
    ):
        arguments = locals()  # first: every constructor argument, so a checkpoint can rebuild
        super().__init__()
        if hybrid_old and not hybrid:
            raise ValueError("hybrid_old=True requires hybrid=True")
        check_output_options(cac, wiener_iters, end_iters, hybrid=hybrid, max_wiener_iters=0)
        multi_freqs = list(multi_freqs) if multi_freqs else []
        self._init_kwargs = constructor_kwargs(
            arguments, sources=list(sources), multi_freqs=multi_freqs
        )
        self.sources = list(sources)
        self.audio_channels = audio_channels
        self.samplerate = samplerate
        self.segment = segment
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.context = context
        self.depth = depth
        self.nfft = nfft
        self.hop_length = nfft // 4
        self.cac = cac
        self.hybrid = hybrid
        self.hybrid_old = hybrid_old
        self.wiener_iters = wiener_iters
        self.end_iters = end_iters
        self.wiener_residual = wiener_residual

        merged = self._build_unet(
            audio_channels=audio_channels,
            nsources=len(self.sources),
            channels=channels,
            channels_time=channels_time,
            growth=growth,
            nfft=nfft,
            cac=cac,
            depth=depth,
            rewrite=rewrite,
            time_branch=hybrid,
            multi_freqs=multi_freqs,
            multi_freqs_depth=multi_freqs_depth,
            freq_emb=freq_emb,
            emb_scale=emb_scale,
            emb_smooth=emb_smooth,
            kernel_size=kernel_size,
            time_stride=time_stride,
            stride=stride,
            context=context,
            context_enc=context_enc,
            norm_starts=norm_starts,
            norm_groups=norm_groups,
            dconv_mode=dconv_mode,
            dconv_depth=dconv_depth,
            dconv_comp=dconv_comp,
            dconv_init=dconv_init,
            dconv_attn=dconv_attn,
            dconv_lstm=dconv_lstm,
        )
        if hybrid and not merged:
            raise ValueError(
                f"depth={depth} is too small for nfft={nfft}: the frequency branch must reach a "
                "single bin for the time branch to merge into it"
            )
        if rescale:
            rescale_module(self, reference=rescale)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """(batch, audio_channels, time) -> (batch, sources, audio_channels, time)."""
        length = mix.shape[-1]
        z = self._spec(mix)  # complex (B, C, F, T)
        x = self._magnitude(z).to(mix.device)  # (B, 2C | C, F, T)
        batch, _, freqs, frames = x.shape
        x, mean, std = standardize(x, (1, 2, 3))
        xt = None
        if self.hybrid:
            xt, mean_t, std_t = standardize(mix, (1, 2))

        # The decoders start from zeros; the signal comes in through the skip connections.
        x, xt = self._run_unet(x, xt, lambda x, xt: (torch.zeros_like(x), xt))

        nsources = len(self.sources)
        x = x.view(batch, nsources, -1, freqs, frames) * std[:, None] + mean[:, None]
        spec = self._mask(z, x.to(z.device))  # complex (B, S, C, F, T)
        out = self._ispec(spec, length).to(mix.device)  # (B, S, C, time)
        if self.hybrid:
            xt = xt.view(batch, nsources, -1, length) * std_t[:, None] + mean_t[:, None]
            out = xt + out
        return out
