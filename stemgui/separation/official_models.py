"""The official Demucs releases, by name: their files, where they are published, how they bag.

``OFFICIAL_MODELS`` maps each name (``htdemucs``, ``mdx_extra_q``...) to an ``OfficialModel``:
its ``.th`` files (``<signature>-<sha256 prefix>.th``, in bag order), their folder under
``OFFICIAL_ROOT_URL``, its sources, and the bag's weights and segment. Pure data: the model
store (``store``) downloads the files into the user folder and loads them.
"""

from __future__ import annotations

from dataclasses import dataclass

OFFICIAL_ROOT_URL = "https://dl.fbaipublicfiles.com/demucs/"
FOUR_SOURCES = ("drums", "bass", "other", "vocals")


@dataclass(frozen=True)
class OfficialModel:
    """A Demucs release: its files (``<signature>-<sha256 prefix>.th``, in bag order), where they
    are published, and how the bag combines them."""

    name: str
    description: str
    folder: str
    files: tuple[str, ...]
    sources: tuple[str, ...] = FOUR_SOURCES
    weights: tuple[tuple[float, ...], ...] | None = None
    segment: float | None = None

    @property
    def signatures(self) -> list[str]:
        return [file.split("-", 1)[0] for file in self.files]

    def numbered(self, file: str) -> str:
        """``file`` (one of ``files``) as a download's progress names it: a bag's with its
        place among them, ``… (file 2 of 4)``, whose progress seemed to start over at each."""
        if len(self.files) == 1:
            return file
        return f"{file} (file {self.files.index(file) + 1} of {len(self.files)})"

    def url(self, file: str, root: str = OFFICIAL_ROOT_URL) -> str:
        """Download address of one of ``files`` under the publication ``root``."""
        return f"{root}{self.folder}{file}"


_MDX_WEIGHTS = (
    (1.0, 1.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 0.0),
    (1.0, 0.0, 1.0, 1.0),
    (1.0, 0.0, 1.0, 1.0),
)
_ONE_PER_SOURCE = tuple(tuple(float(i == j) for j in range(4)) for i in range(4))

# Facts from the demucs 4.1.0 package: remote/*.yaml (bags), remote/files.txt (files and their
# folders under the download root), pretrained.py (root URL).
OFFICIAL_MODELS: dict[str, OfficialModel] = {
    model.name: model
    for model in (
        OfficialModel(
            "htdemucs",
            "Hybrid Transformer Demucs (v4), the Demucs authors' default",
            "hybrid_transformer/",
            ("955717e8-8726e21a.th",),
        ),
        OfficialModel(
            "htdemucs_ft",
            "htdemucs fine-tuned per source: better, 4x slower",
            "hybrid_transformer/",
            (
                "f7e0c4bc-ba3fe64a.th",
                "d12395a8-e57c48e6.th",
                "92cfc3b6-ef3bcb9c.th",
                "04573f0d-f3cf25b2.th",
            ),
            weights=_ONE_PER_SOURCE,
        ),
        OfficialModel(
            "htdemucs_6s",
            "htdemucs with guitar and piano (experimental; piano is weak)",
            "hybrid_transformer/",
            ("5c90dfd2-34c22ccb.th",),
            sources=("drums", "bass", "other", "vocals", "guitar", "piano"),
        ),
        OfficialModel(
            "hdemucs_mmi",
            "Hybrid Demucs (v3) retrained on MusDB and 800 extra songs",
            "hybrid_transformer/",
            ("75fc33f5-1941ce65.th",),
            segment=44.0,
        ),
        OfficialModel(
            "mdx",
            "Demucs v3 bag from the MDX 2021 challenge (track A: MusDB HQ only)",
            "mdx_final/",
            (
                "0d19c1c6-0f06f20e.th",
                "7ecf8ec1-70f50cc9.th",
                "c511e2ab-fe698775.th",
                "7d865c68-3d5dd56b.th",
            ),
            weights=_MDX_WEIGHTS,
            segment=44.0,
        ),
        OfficialModel(
            "mdx_extra",
            "Demucs v3 bag from the MDX 2021 challenge (track B: extra training data)",
            "mdx_final/",
            (
                "e51eebcc-c1b80bdd.th",
                "a1d90b5c-ae9d2452.th",
                "5d2d6c55-db83574e.th",
                "cfa93e08-61801ae1.th",
            ),
            segment=44.0,
        ),
        OfficialModel(
            "mdx_q",
            "mdx, quantized: smaller download, slightly worse",
            "mdx_final/",
            (
                "6b9c2ca1-3fd82607.th",
                "b72baf4e-8778635e.th",
                "42e558d4-196e0e1b.th",
                "305bc58f-18378783.th",
            ),
            weights=_MDX_WEIGHTS,
            segment=44.0,
        ),
        OfficialModel(
            "mdx_extra_q",
            "mdx_extra, quantized: smaller download, slightly worse",
            "mdx_final/",
            (
                "83fc094f-4a16d450.th",
                "464b36d7-e5a9386e.th",
                "14fc6a69-a89dd0ee.th",
                "7fd6ef75-a905dd85.th",
            ),
            segment=44.0,
        ),
    )
}
