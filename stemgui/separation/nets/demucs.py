"""Demucs: the time-domain (waveform) U-Net separator.

The mixture waveform goes through ``depth`` strided convolutions (the encoder), an optional
bidirectional LSTM at the bottom, and ``depth`` transposed convolutions (the decoder) that add
back the encoder output of the same level (U-Net skip connections). The last decoder layer outputs
``sources * audio_channels`` waveforms.

Two generations share this class, chosen by constructor arguments:

- v2 (the seed, Défossez et al. 2019/2021): ``lstm_layers=2, context=3, gelu=False,
  dconv_mode=0, normalize=False`` and ``norm_starts >= depth`` (no GroupNorm): conv + ReLU layers,
  1x1 "rewrite" convolutions with GLU, a 2-layer BiLSTM in the middle.
- v3 (the MDX 2021 time-domain models): the defaults, i.e. GELU, GroupNorm from layer 4,
  input normalisation, and residual :class:`~stemgui.separation.nets.blocks.DConv` branches in the
  encoder with local attention and small LSTMs in the deepest layers.

Module names and nesting follow the reference implementation, so its state dicts load unchanged.
The input must have :meth:`Demucs.valid_length` samples for the convolutions to tile it exactly;
:meth:`Demucs.forward` pads shorter inputs itself and trims the output back to the input length.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import julius
import torch
from torch import nn
from torch.nn import functional as F

from stemgui.separation.nets.blocks import (
    BLSTM,
    DConv,
    center_trim,
    constructor_kwargs,
    norm_layer,
    rescale_module,
)

logger = logging.getLogger(__name__)

_LEGACY_KEY = re.compile(r"^(?P<part>encoder|decoder)\.(?P<index>\d+)\.2\.(?P<name>weight|bias)$")


def upgrade_legacy_keys(state: Mapping[str, Any], expected: Collection[str]) -> dict[str, Any]:
    """Rename the keys of older Demucs state dicts to the current layout.

    Checkpoints written before normalisation layers existed had the 1x1 rewrite convolution at
    position 2 of each encoder/decoder ``Sequential``; it now sits at position 3. A key
    ``{encoder,decoder}.{i}.2.{weight,bias}`` is moved to ``.3.`` only when the network expects
    the latter and not the former (``expected``: its state dict keys), so current state dicts,
    including those whose position 2 legitimately holds a GroupNorm, come back unchanged.
    Returns a new dict; ``state`` is left untouched.
    """
    upgraded = dict(state)
    for key in list(upgraded):
        match = _LEGACY_KEY.match(key)
        if match is None:
            continue
        new = f"{match['part']}.{match['index']}.3.{match['name']}"
        if key not in expected and new in expected and new not in upgraded:
            upgraded[new] = upgraded.pop(key)
    return upgraded


class Demucs(nn.Module):
    """Waveform U-Net that maps a mixture to one waveform per source.

    Args:
        sources: names of the sources, in output order.
        audio_channels: channels of the input and of each output source (2 for stereo).
        channels: output channels of the first encoder layer.
        growth: channel multiplier from one encoder layer to the next.
        depth: number of encoder (and decoder) layers.
        rewrite: add a 1x1 convolution (encoder) / ``2 * context + 1`` convolution (decoder)
            followed by the activation ``glu`` selects, in every layer.
        lstm_layers: layers of the BiLSTM between encoder and decoder; 0 for none.
        kernel_size: kernel of the strided (transposed) convolutions.
        stride: stride of the strided (transposed) convolutions.
        context: half-width of the decoder rewrite convolution.
        gelu: GELU after the strided convolutions if true, ReLU otherwise.
        glu: GLU (channels doubled, then halved) after the rewrite convolutions, ReLU otherwise.
        norm_starts: first layer index with GroupNorm (decoder layers counted the same way).
        norm_groups: groups of those GroupNorms.
        dconv_mode: residual DConv branches in the encoder (bit 1), decoder (bit 2), both (3)
            or neither (0).
        dconv_depth: branches per DConv.
        dconv_comp: channel compression inside the DConv branches.
        dconv_attn: first layer index whose DConv has local attention.
        dconv_lstm: first layer index whose DConv has a small BiLSTM.
        dconv_init: initial LayerScale of the DConv branches.
        normalize: standardise the input by the mean and std of its mono mix, and undo it on
            the output.
        resample: upsample the input by 2 before the encoder, downsample the output by 2.
        rescale: reference std for the initial convolution weights (0 disables the rescaling).
        samplerate: sample rate the model works at (metadata).
        segment: preferred length in seconds of the chunks to apply the model on (metadata).

    Shapes:
        ``forward``: ``(batch, audio_channels, time) -> (batch, sources, audio_channels, time)``.
    """

    def __init__(
        self,
        sources: Sequence[str],
        audio_channels: int = 2,
        channels: int = 64,
        growth: float = 2.0,
        depth: int = 6,
        rewrite: bool = True,
        lstm_layers: int = 0,
        kernel_size: int = 8,
        stride: int = 4,
        context: int = 1,
        gelu: bool = True,
        glu: bool = True,
        norm_starts: int = 4,
        norm_groups: int = 4,
        dconv_mode: int = 1,
        dconv_depth: int = 2,
        dconv_comp: float = 4,
        dconv_attn: int = 4,
        dconv_lstm: int = 4,
        dconv_init: float = 1e-4,
        normalize: bool = True,
        resample: bool = True,
        rescale: float = 0.1,
        samplerate: int = 44100,
        segment: float | None = 4 * 10,
    ):
        arguments = locals()  # first: every constructor argument, so a checkpoint can rebuild
        super().__init__()
        self._init_kwargs = constructor_kwargs(arguments, sources=list(sources))
        self.sources = list(sources)
        self.audio_channels = audio_channels
        self.channels = channels
        self.depth = depth
        self.kernel_size = kernel_size
        self.stride = stride
        self.context = context
        self.normalize = normalize
        self.resample = resample
        self.samplerate = samplerate
        self.segment = segment

        # The rewrite activation: GLU halves the channels, so its convolutions double them.
        rewrite_scale = 2 if glu else 1
        main_activation = nn.GELU if gelu else nn.ReLU

        def rewrite_activation() -> nn.Module:
            return nn.GLU(dim=1) if glu else nn.ReLU()

        def dconv(width: int, index: int) -> DConv:
            return DConv(
                width,
                compress=dconv_comp,
                depth=dconv_depth,
                init=dconv_init,
                attn=index >= dconv_attn,
                lstm=index >= dconv_lstm,
            )

        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()
        chin = audio_channels
        width = channels
        for index in range(depth):
            normed = index >= norm_starts

            # Encoder layer `index`: (batch, chin, t) -> (batch, width, (t - kernel) / stride + 1)
            enc: list[nn.Module] = [
                nn.Conv1d(chin, width, kernel_size, stride),
                norm_layer(normed, norm_groups, width),
                main_activation(),
            ]
            if dconv_mode & 1:
                enc.append(dconv(width, index))
            if rewrite:
                enc += [
                    nn.Conv1d(width, rewrite_scale * width, 1),
                    norm_layer(normed, norm_groups, rewrite_scale * width),
                    rewrite_activation(),
                ]
            self.encoder.append(nn.Sequential(*enc))

            # Decoder layer mirroring it: (batch, width, t') -> (batch, chout, (t' - 1) * stride +
            # kernel); the outermost one outputs every source's channels and has no activation.
            chout = chin if index > 0 else len(self.sources) * audio_channels
            dec: list[nn.Module] = []
            if rewrite:
                dec += [
                    nn.Conv1d(width, rewrite_scale * width, 2 * context + 1, padding=context),
                    norm_layer(normed, norm_groups, rewrite_scale * width),
                    rewrite_activation(),
                ]
            if dconv_mode & 2:
                dec.append(dconv(width, index))
            dec.append(nn.ConvTranspose1d(width, chout, kernel_size, stride))
            if index > 0:
                dec += [norm_layer(normed, norm_groups, chout), main_activation()]
            self.decoder.insert(0, nn.Sequential(*dec))

            chin = width
            width = int(growth * width)

        self.lstm = BLSTM(chin, lstm_layers) if lstm_layers else None

        if rescale:
            rescale_module(self, reference=rescale)

    def valid_length(self, length: int) -> int:
        """Smallest input length ``>= length`` that the convolutions tile without a remainder.

        Inputs of this length come out of the decoder with the same length. With ``resample``,
        the computation runs at twice the rate and the result is rounded up after halving.
        """
        if self.resample:
            length *= 2
        for _ in range(self.depth):
            length = max(1, math.ceil((length - self.kernel_size) / self.stride) + 1)
        for _ in range(self.depth):
            length = (length - 1) * self.stride + self.kernel_size
        if self.resample:
            length = math.ceil(length / 2)
        return int(length)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """Separate ``mix``.

        Args:
            mix: ``(batch, audio_channels, time)`` waveform at :attr:`samplerate`.

        Returns:
            ``(batch, sources, audio_channels, time)``, one waveform per source, same length.
        """
        length = mix.shape[-1]
        x = mix
        if self.normalize:
            mono = mix.mean(dim=1, keepdim=True)  # (batch, 1, time)
            mean = mono.mean(dim=-1, keepdim=True)
            std = mono.std(dim=-1, keepdim=True)
            x = (x - mean) / (1e-5 + std)
        else:
            mean, std = 0.0, 1.0

        missing = self.valid_length(length) - length
        x = F.pad(x, (missing // 2, missing - missing // 2))
        if self.resample:
            x = julius.resample_frac(x, 1, 2)

        skips = []
        for encode in self.encoder:
            x = encode(x)
            skips.append(x)
        if self.lstm is not None:
            x = self.lstm(x)
        for decode in self.decoder:
            skip = center_trim(skips.pop(), x)
            x = decode(x + skip)
        # x: (batch, sources * audio_channels, padded time [x2 when resampling])

        if self.resample:
            x = julius.resample_frac(x, 2, 1)
        x = x * std + mean
        x = center_trim(x, length)
        return x.view(x.shape[0], len(self.sources), self.audio_channels, x.shape[-1])

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load a state dict, renaming keys of the older layout (:func:`upgrade_legacy_keys`)."""
        state = upgrade_legacy_keys(state_dict, self.state_dict().keys())
        return super().load_state_dict(state, strict=strict, assign=assign)
