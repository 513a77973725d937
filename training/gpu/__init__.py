"""The GPU recipe: train the shipped model on a time-boxed GPU machine that has no data and no net.

Here (the CPU machine), once:  ``bash training/gpu/prepare.sh``
    packs the MUSDB training previews as Opus stems (about 40 MB; the GPU machine cannot read
    ../shared), and downloads the wheels its Python lacks (soundfile, julius, platformdirs, cffi)
    into ``.gpu/`` (ignored by git).
There (the device tool, carrying ``.gpu``):  ``bash training/gpu/run.sh MINUTES``
    installs the wheels, trains ``training/configs/htdemucs_gpu.toml`` on CUDA for MINUTES,
    starting from the shipped model when there is one (of a bag, the member weighted most like
    the run), and leaves the log and an archive of the run in ``$OUT/general``.
    ``WEIGHTS=0,0,1,0 bash training/gpu/run.sh MINUTES`` trains a specialist of "other" instead
    (into ``$OUT/0-0-1-0``), for a bag with the general model; ``WEIGHTS="all 0,0,1,0"`` trains
    both at once on the one GPU.
Then, here:  ``bash training/gpu/finish.sh FILES_AT``
    unpacks what came back, quantizes each kind, bags the specialist with the general model (of
    a kind that did not come back, the shipped bag's member), scores them beside the shipped
    model and prints the ``python -m training export`` command for each.
"""
