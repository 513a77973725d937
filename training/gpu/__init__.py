"""The GPU recipe: train the shipped model on a time-boxed GPU machine that has no data and no net.

Here (the CPU machine), once:  ``bash training/gpu/prepare.sh``
    packs the MUSDB training previews as Opus stems (about 40 MB; the GPU machine cannot read
    ../shared), and downloads the wheels its Python lacks (soundfile, julius, platformdirs, cffi)
    into ``.gpu/`` (ignored by git).
There (the device tool, carrying ``.gpu``):  ``bash training/gpu/run.sh MINUTES``
    installs the wheels, trains ``training/configs/htdemucs_gpu.toml`` on CUDA for MINUTES,
    starting from the shipped model when there is one, and leaves ``best.stemgui``, the history,
    the curves and the log in ``$OUT/general``. Then, here:
    ``python -m training export $OUT/general/best.stemgui``.
    ``WEIGHTS=0,0,1,0 bash training/gpu/run.sh MINUTES`` trains a specialist of "other" instead
    (into ``$OUT/0-0-1-0``), for a bag with the general model (``python -m training bag``);
    ``WEIGHTS="all 0,0,1,0"`` trains both at once on the one GPU.
"""
