"""Validation of ``training.fit.Trainer`` and the best model it keeps.

At each evaluation step the validation tracks are separated once by the model (its EMA when it
has one) and scored by both metrics: the global SDR and MUSDB's. ``best.stemgui`` keeps the
weights of the best score by ``[eval] metric`` (with loss weights, their weighted sum), in
stemgui's checkpoint format with the session's provenance; a diffq run stores them packed,
truly quantized. The score is over the sources scored (MUSDB's leaves out a source silent in
every track). A NaN score replaces a best only when none was scored; without validation
tracks ``best.stemgui`` holds the latest weights, unscored.
"""

from __future__ import annotations

import copy
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from training import config as config_mod

log = logging.getLogger(__name__)


class Validation:
    """Scoring the validation tracks and keeping ``best.stemgui``, a part of
    ``training.fit.Trainer``."""

    config: dict[str, Any]
    device: torch.device
    run_dir: Path
    model: nn.Module
    ema: nn.Module | None
    qat: Any
    step: int
    is_main: bool
    source_weights: torch.Tensor
    valid_tracks: list[np.ndarray]
    valid_names: list[str]  # their names, when read from the data roots; else none
    history: list[dict[str, Any]]
    best_sdr: float
    silent_said: set[tuple[str, str]]
    session: dict[str, Any]

    def evaluate(self) -> dict[str, dict[str, float]]:
        """The validation tracks' SDR per source, their mean ("all") and, with loss weights, the
        weighted mean ("weighted"), each over the sources scored, by both metrics from one
        separation: ``{"global": mean over tracks of the global SDR, "musdb": MUSDB's median over
        frames, then over tracks}``."""
        from training import bsseval
        from training.evaluate import scored_mean, scores_by_source, separate_tracks
        from training.sdr import global_sdr, mean_over_tracks

        model = self.ema if self.ema is not None else self.model
        rate = int(model.samplerate)  # MUSDB's 1-second frames at the tracks' rate
        sources = list(model.sources)
        options = self.config["eval"]
        tracks = self.valid_tracks[: options["max_tracks"] or None]
        numbered = [f"validation track {i + 1}" for i in range(len(tracks))]  # given unnamed
        names = iter(self.valid_names or numbered)  # scored in the tracks' order

        def both(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
            musdb = bsseval.track_sdr(
                references,
                estimates,
                window=rate,
                hop=rate,
                track=next(names),
                sources=sources,
                said=self.silent_said,  # each warning once a session, not at every validation
            )
            return np.stack([global_sdr(references, estimates), musdb])

        per_track = separate_tracks(  # (2, sources) per track: global, then MUSDB
            model,
            tracks,
            score=both,
            segment=options["segment"] or None,
            overlap=options["overlap"],
            device=str(self.device),  # not the CPU: the Separator moves the model to its device
        )
        by_metric = {
            "global": mean_over_tracks([t[0] for t in per_track]),
            "musdb": bsseval.median_over_tracks([t[1] for t in per_track]),
        }
        results = {}
        for metric, values in by_metric.items():
            result = scores_by_source(sources, values)
            if self.config["optim"]["source_weights"]:
                result["weighted"] = scored_mean(values, self.source_weights.tolist())
            results[metric] = result
        return results

    def _evaluate_and_keep_best(self) -> None:
        if not self.is_main:
            return
        if not self.valid_tracks:  # nothing to choose by: the latest weights, unscored
            self.save_best({})
            return
        scores = self.evaluate()
        self.history.append(
            {
                "step": self.step,
                **{f"valid_{k}": v for k, v in scores["global"].items()},
                **{f"musdb_{k}": v for k, v in scores["musdb"].items()},
            }
        )
        log.info(
            "step %d: validation SDR %s; MUSDB %s",
            self.step,
            _format_scores(scores["global"]),
            _format_scores(scores["musdb"]),
        )
        chosen = scores[self.config["eval"]["metric"]]
        score = chosen.get("weighted", chosen["all"])  # what the loss asks for
        if math.isnan(score):  # diverged, or MUSDB's with every weighted source silent
            if self.best_sdr == -math.inf:  # nothing better to keep
                log.warning("the validation score is NaN: best.stemgui holds the latest weights")
                self.save_best(scores)
            else:
                log.warning("the validation score is NaN: best.stemgui stays as it was")
        elif score > self.best_sdr:
            self.best_sdr = score
            self.save_best(scores)

    def save_best(self, scores: dict[str, dict[str, float]]) -> Path:
        from stemgui.separation.checkpoint import save_model

        if not self.last_path.exists():  # first: fit refuses a best.stemgui without last.pt
            self.save_state()

        model = self.ema if self.ema is not None else self.model
        provenance = {
            **self.session,  # as written when the session started (its start time, not now)
            "steps": self.step,
            "valid_sdr": scores.get("global", {}),  # MUSDB's too in history.json
            "config": config_mod.dumps(self.config),
        }
        path = self.run_dir / "best.stemgui"
        try:  # written atomically: a full disk leaves the one before as it was
            if self.qat is not None:  # the weights with their learned bits, packed
                self.qat.save(path, provenance=provenance)
            else:
                save_model(copy.deepcopy(model).cpu().eval(), path, provenance=provenance)
        except OSError as error:  # save_model's names the file; this says where the run is
            raise self._unwritten(path, error) from error
        return path


def _format_scores(scores: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in scores.items())
