#!/usr/bin/env bash
# Here, on the CPU machine: pack the data and the wheels the GPU machine lacks into .gpu/ (in
# .gitignore: the device tool carries it when asked, and only then).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data/musdb18-7/train}
rm -rf .gpu && mkdir -p .gpu/whl
.venv/bin/python -m training.gpu.pack --data "$DATA" --out .gpu/data
# The GPU image has torch, numpy, matplotlib, tqdm, pyyaml; not these (Python 3.12 there).
.venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl soundfile julius platformdirs cffi pycparser
du -sh .gpu
