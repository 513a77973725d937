"""A bag of models: several networks over the same sources whose outputs are averaged.

The official Demucs releases ship bags (``htdemucs_ft``: one fine-tuned model per source, each
weighted 1 for its own source and 0 for the others). ``Separator`` runs every model of the bag
and forms, per source, the weighted average of their estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

from torch import nn

from stemgui.separation import MAX_SEGMENT, MIN_SEGMENT


class BagOfModels(nn.Module):
    """Models sharing ``sources``, ``samplerate`` and ``audio_channels``.

    Args:
        models: the networks; each maps (batch, channels, time) to (batch, sources, channels, time).
        weights: one list per model of one weight per source; default all ones.
        segment: optional chunk length in seconds (``MIN_SEGMENT`` to ``MAX_SEGMENT``) that
            overrides the models' own.
    """

    def __init__(
        self,
        models: Sequence[nn.Module],
        weights: Sequence[Sequence[float]] | None = None,
        segment: float | None = None,
    ) -> None:
        super().__init__()
        if not models:
            raise ValueError("a bag needs at least one model")
        first = models[0]
        for other in models[1:]:
            for attribute in ("sources", "samplerate", "audio_channels"):
                theirs, mine = getattr(other, attribute), getattr(first, attribute)
                if theirs != mine:
                    raise ValueError(
                        f"models of a bag disagree on {attribute}: {mine} and {theirs}"
                    )
        self.models = nn.ModuleList(models)
        self.sources: list[str] = list(first.sources)
        self.samplerate: int = first.samplerate
        self.audio_channels: int = first.audio_channels
        if weights is None:
            weights = [[1.0] * len(self.sources) for _ in models]
        needed = (
            f"a bag needs one weight per source ({len(self.sources)}: "
            f"{', '.join(self.sources)}) for each of its {len(models)} models"
        )
        try:
            weights = [list(map(float, w)) for w in weights]
        except TypeError:  # a number, a flat list of numbers, a null: not a list per model
            raise ValueError(f"{needed}; got {weights!r}") from None
        if len(weights) != len(models) or any(len(w) != len(self.sources) for w in weights):
            raise ValueError(
                f"{needed}; got {len(weights)} lists of "
                f"{', '.join(str(len(w)) for w in weights) or 'none'}"
            )
        for source_index, source in enumerate(self.sources):
            total = sum(w[source_index] for w in weights)
            if not 0 < total < math.inf:  # inf: each weight became 0 of it, a silent stem
                raise ValueError(
                    f"the weights of source {source!r} sum to {total:g}; they must add up to a "
                    "finite number above 0"
                )
        if segment is not None and (
            isinstance(segment, bool)
            or not isinstance(segment, Real)
            or not MIN_SEGMENT <= segment <= MAX_SEGMENT
        ):  # nan or inf failed at the first chunk, 1e6 for memory, 0.001 ran for days
            raise ValueError(
                f"the bag's segment must be a number of seconds from {MIN_SEGMENT:g} to "
                f"{MAX_SEGMENT:g}, not {segment!r}"
            )
        self.weights = weights
        self.segment = segment

    def forward(self, mix):
        """(batch, channels, time) -> (batch, sources, channels, time), the weighted average.

        Runs every model on the whole input at once; ``Separator`` does the same chunk by chunk.
        """
        total = None
        for model, weights in zip(self.models, self.weights):
            w = mix.new_tensor(weights).view(1, -1, 1, 1)
            estimate = model(mix) * w
            total = estimate if total is None else total + estimate
        return total / mix.new_tensor(self.total_weights).view(1, -1, 1, 1)

    @property
    def total_weights(self) -> list[float]:
        """Per source, the sum of the models' weights (the divisor of the average)."""
        return [sum(w[i] for w in self.weights) for i in range(len(self.sources))]
