"""Hybrid Transformer Demucs (v4): a hybrid Demucs with a cross-domain transformer in the middle.

Like Hybrid Demucs (:mod:`.hdemucs`) it runs a spectrogram U-Net (complex as channels, convolving
over frequency) next to a waveform U-Net, but both branches stop one layer earlier, before they
would merge. At the bottom a :class:`~.transformer.CrossTransformerEncoder` lets the two branches
attend to themselves and to each other (optionally widened to ``bottom_channels`` by 1x1
convolutions); then both decoders run, and the network output is the inverse STFT of the
spectrogram branch plus the waveform branch.

The network is trained and evaluated on a fixed segment (``segment`` seconds; 7.8 s for the
official weights): in evaluation a shorter input is zero-padded to it inside ``forward`` and the
output trimmed back, and a longer one is refused. Callers cut songs into chunks of at most
``segment`` seconds.

Constructor arguments, parameter names and numerics follow the reference
``demucs.htdemucs.HTDemucs``, so that its checkpoints load with ``strict=True`` and give the same
stems. The official weights (``htdemucs``, the four ``htdemucs_ft`` specialists and
``htdemucs_6s`` with six sources) all use the defaults below except ``dconv_mode=3``,
``bottom_channels=512``, ``t_dropout=0.02`` (inactive in evaluation) and ``segment=7.8``:
41,984,456 parameters for four sources, 41,989,076 for six.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import constructor_kwargs, rescale_module
from .hybrid_spec import HybridSpectrogram, check_output_options, standardize
from .hybrid_unet import HybridUNet
from .transformer import CrossTransformerEncoder

logger = logging.getLogger(__name__)


def segment_frames(segment: float, samplerate: int) -> int:
    """Samples in ``segment`` seconds, rounded down as the reference does (``int(seg * rate)``),
    after forgiving float error in the product (7.8 s at 44.1 kHz is exactly 343,980)."""
    return int(round(segment * samplerate, 6))


class HTDemucs(HybridSpectrogram, HybridUNet, nn.Module):
    """Hybrid Transformer Demucs.

    Args:
        sources: names of the separated sources, in output order.
        audio_channels: channels of the input and of every output source.
        channels: hidden channels of the first frequency layer (``growth`` times more per layer).
        channels_time: hidden channels of the first time layer (``channels`` when None).
        growth: channel growth factor per layer.
        nfft: STFT size; the hop is ``nfft // 4``.
        wiener_iters, end_iters: Wiener iterations at test / train time; they must be equal, and
            with ``cac`` off only ``-1`` (no filtering, phase of the mix) is implemented.
        wiener_residual: Wiener option, stored for checkpoints only.
        cac: complex as channels (the frequency branch predicts real and imaginary parts).
        depth: layers in each encoder and decoder. The time branch merges into the frequency
            branch only at a layer that collapses the last bins into one (not in the official
            configuration, whose branches meet in the transformer instead).
        rewrite: 1x1 (or ``1 + 2 * context``) convolution + GLU in every layer.
        multi_freqs: frequency ratios splitting the outer layers into bands (:class:`MultiWrap`).
        multi_freqs_depth: how many outer layers are split.
        freq_emb: weight of the frequency embedding added after the first layer (0: none).
        emb_scale, emb_smooth: learning-rate scale and smooth init of that embedding.
        kernel_size, stride: of the frequency layers and of the time branch.
        time_stride: stride of layers after a merge (kernel ``2 * time_stride``).
        context, context_enc: half-width of the rewrite convolution in decoder / encoder.
        norm_starts: first layer index with GroupNorm (decoder layers counted the same way).
        norm_groups: GroupNorm groups.
        dconv_mode: DConv residual branches in the encoder (1), decoder (2) or both (3).
        dconv_depth, dconv_comp, dconv_init: depth, compression, LayerScale init of DConv.
        bottom_channels: if > 0, 1x1 convolutions map both branches to this many channels
            before the transformer and back after it.
        t_layers: transformer layers per branch (0: no transformer).
        t_emb, t_hidden_scale, t_heads, t_dropout, t_max_positions, t_norm_in, t_norm_in_group,
        t_group_norm, t_norm_first, t_norm_out, t_max_period, t_weight_decay, t_lr,
        t_layer_scale, t_gelu, t_weight_pos_embed, t_sin_random_shift, t_cape_mean_normalize,
        t_cape_augment, t_cape_glob_loc_scale, t_sparse_self_attn, t_sparse_cross_attn,
        t_mask_type, t_mask_random_seed, t_sparse_attn_window, t_global_window, t_sparsity,
        t_auto_sparsity, t_cross_first: the :class:`CrossTransformerEncoder` arguments without
            their ``t_`` prefix (sparse attention is not supported).
        rescale: reference std of the initial convolution weights (0: no rescaling).
        samplerate: audio sample rate the network was trained at.
        segment: training segment in seconds (a float; the reference stores a ``Fraction``).
        use_train_segment: in evaluation, pad shorter inputs to ``segment`` (as trained); in
            training, every forward records its input length as the new ``segment``.

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
        depth: int = 4,
        rewrite: bool = True,
        multi_freqs: Sequence[float] | None = None,
        multi_freqs_depth: int = 3,
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
        dconv_comp: float = 8,
        dconv_init: float = 1e-3,
        bottom_channels: int = 0,
        t_layers: int = 5,
        t_emb: str = "sin",
        t_hidden_scale: float = 4.0,
        t_heads: int = 8,
        t_dropout: float = 0.0,
        t_max_positions: int = 10000,
        t_norm_in: bool = True,
        t_norm_in_group: bool = False,
        t_group_norm: bool = False,
        t_norm_first: bool = True,
        t_norm_out: bool = True,
        t_max_period: float = 10000.0,
        t_weight_decay: float = 0.0,
        t_lr: float | None = None,
        t_layer_scale: bool = True,
        t_gelu: bool = True,
        t_weight_pos_embed: float = 1.0,
        t_sin_random_shift: int = 0,
        t_cape_mean_normalize: bool = True,
        t_cape_augment: bool = True,
        t_cape_glob_loc_scale: Sequence[float] = (5000.0, 1.0, 1.4),
        t_sparse_self_attn: bool = False,
        t_sparse_cross_attn: bool = False,
        t_mask_type: str = "diag",
        t_mask_random_seed: int = 42,
        t_sparse_attn_window: int = 500,
        t_global_window: int = 100,
        t_sparsity: float = 0.95,
        t_auto_sparsity: bool = False,
        t_cross_first: bool = False,
        rescale: float = 0.1,
        samplerate: int = 44100,
        segment: float = 10,
        use_train_segment: bool = True,
    ):
        arguments = locals()  # first: every constructor argument, so a checkpoint can rebuild
        super().__init__()
        check_output_options(cac, wiener_iters, end_iters, hybrid=True)
        multi_freqs = list(multi_freqs) if multi_freqs else []
        segment = float(segment)
        self._init_kwargs = constructor_kwargs(
            arguments,
            sources=list(sources),
            multi_freqs=multi_freqs,
            segment=segment,
            t_cape_glob_loc_scale=list(t_cape_glob_loc_scale),
        )
        transformer_kwargs = dict(
            emb=t_emb,
            hidden_scale=t_hidden_scale,
            num_heads=t_heads,
            num_layers=t_layers,
            cross_first=t_cross_first,
            dropout=t_dropout,
            max_positions=t_max_positions,
            norm_in=t_norm_in,
            norm_in_group=t_norm_in_group,
            group_norm=t_group_norm,
            norm_first=t_norm_first,
            norm_out=t_norm_out,
            max_period=t_max_period,
            weight_decay=t_weight_decay,
            lr=t_lr,
            layer_scale=t_layer_scale,
            gelu=t_gelu,
            sin_random_shift=t_sin_random_shift,
            weight_pos_embed=t_weight_pos_embed,
            cape_mean_normalize=t_cape_mean_normalize,
            cape_augment=t_cape_augment,
            cape_glob_loc_scale=list(t_cape_glob_loc_scale),
            sparse_self_attn=t_sparse_self_attn,
            sparse_cross_attn=t_sparse_cross_attn,
            mask_type=t_mask_type,
            mask_random_seed=t_mask_random_seed,
            sparse_attn_window=t_sparse_attn_window,
            global_window=t_global_window,
            sparsity=t_sparsity,
            auto_sparsity=t_auto_sparsity,
        )

        self.sources = list(sources)
        self.audio_channels = audio_channels
        self.samplerate = samplerate
        self.segment = segment
        self.use_train_segment = use_train_segment
        self.channels = channels
        self.bottom_channels = bottom_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.context = context
        self.depth = depth
        self.nfft = nfft
        self.hop_length = nfft // 4
        self.cac = cac
        self.wiener_iters = wiener_iters
        self.end_iters = end_iters
        self.wiener_residual = wiener_residual

        self._build_unet(
            audio_channels=audio_channels,
            nsources=len(self.sources),
            channels=channels,
            channels_time=channels_time,
            growth=growth,
            nfft=nfft,
            cac=cac,
            depth=depth,
            rewrite=rewrite,
            time_branch=True,
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
        )
        if t_layers and len(self.tencoder) < depth:  # a layer over time only: no x to cross
            raise ValueError(
                f"depth={depth} goes past the layer where the branches merge (nfft={nfft}): "
                f"the transformer (t_layers={t_layers}) needs both branches at the bottom"
            )

        # As in the reference, only the U-Net convolutions are rescaled, not what follows.
        if rescale:
            rescale_module(self, reference=rescale)

        transformer_channels = int(channels * growth ** (depth - 1))
        if bottom_channels:
            self.channel_upsampler = nn.Conv1d(transformer_channels, bottom_channels, 1)
            self.channel_downsampler = nn.Conv1d(bottom_channels, transformer_channels, 1)
            self.channel_upsampler_t = nn.Conv1d(transformer_channels, bottom_channels, 1)
            self.channel_downsampler_t = nn.Conv1d(bottom_channels, transformer_channels, 1)
            transformer_channels = bottom_channels
        self.crosstransformer: CrossTransformerEncoder | None = None
        if t_layers > 0:
            self.crosstransformer = CrossTransformerEncoder(
                dim=transformer_channels, **transformer_kwargs
            )

    def valid_length(self, length: int) -> int:
        """Length ``forward`` works at for an input of ``length`` samples.

        With ``use_train_segment`` it is the training segment (in samples), whatever the input
        length; without it, the input length itself.

        Raises:
            ValueError: if ``length`` is longer than the training segment.
        """
        if not self.use_train_segment:
            return length
        training_length = segment_frames(self.segment, self.samplerate)
        if length > training_length:
            raise ValueError(
                f"input of {length} samples is longer than the training segment of "
                f"{training_length} samples ({self.segment:g} s); cut it into chunks"
            )
        return training_length

    def _bottom(self, x: torch.Tensor, xt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross transformer between the branches: x (B, C, F, T), xt (B, C, T') -> same shapes."""
        if self.crosstransformer is None:
            return x, xt
        if self.bottom_channels:
            batch, _, freqs, frames = x.shape
            x = self.channel_upsampler(x.flatten(2)).view(batch, -1, freqs, frames)
            xt = self.channel_upsampler_t(xt)
        x, xt = self.crosstransformer(x, xt)
        if self.bottom_channels:
            x = self.channel_downsampler(x.flatten(2)).view(batch, -1, freqs, frames)
            xt = self.channel_downsampler_t(xt)
        return x, xt

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """(batch, audio_channels, time) -> (batch, sources, audio_channels, time).

        In evaluation with ``use_train_segment``, ``time`` must not exceed the training segment
        (``ValueError``); a shorter input is zero-padded to it and the output trimmed back. In
        training, the input length becomes the new ``segment``.
        """
        length = mix.shape[-1]
        if self.use_train_segment and self.training:
            self.segment = length / self.samplerate
            self._init_kwargs["segment"] = self.segment
        else:
            padded = self.valid_length(length)
            if padded > length:
                mix = F.pad(mix, (0, padded - length))
        padded_length = mix.shape[-1]

        z = self._spec(mix)  # complex (B, C, F, T)
        x = self._magnitude(z).to(mix.device)  # (B, 2C | C, F, T)
        batch, _, freqs, frames = x.shape
        x, mean, std = standardize(x, (1, 2, 3))
        xt, mean_t, std_t = standardize(mix, (1, 2))

        x, xt = self._run_unet(x, xt, self._bottom)

        nsources = len(self.sources)
        x = x.view(batch, nsources, -1, freqs, frames) * std[:, None] + mean[:, None]
        spec = self._mask(z, x.to(z.device))  # complex (B, S, C, F, T)
        out = self._ispec(spec, padded_length).to(mix.device)  # (B, S, C, time)
        xt = xt.view(batch, nsources, -1, padded_length) * std_t[:, None] + mean_t[:, None]
        return (xt + out)[..., :length]
