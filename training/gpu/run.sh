#!/usr/bin/env bash
# There, on the GPU machine (device tool, carry [".gpu"]): train for MINUTES, results in $OUT
# (per kind: fit.log and run.tar.gz, or its parts run.tar.gz.00, .01: see train() below).
#   bash training/gpu/run.sh 8                          # the general model: $OUT/general
#   WEIGHTS=0,0,1,0 bash training/gpu/run.sh 8          # a specialist of "other": $OUT/0-0-1-0
#   WEIGHTS="all 0,0,1,0" bash training/gpu/run.sh 8    # both at once, side by side on the GPU
#   LR=1e-4 bash training/gpu/run.sh 8                  # another learning rate than the recipe's
set -uo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${1:-8}
OUT=${OUT:-/tmp/out}
PYTHON=${PYTHON:-python3}   # PYTHON=.venv/bin/python DEVICE=cpu WHEELS=0: a dry run on the CPU
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1  # no progress bars in a redirected log (tqdm sees no TTY)
if [ "${WHEELS:-1}" = 1 ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .gpu/whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
ARGS=()
# the manifest's default model (another file may lie beside it once a new one ships)
SHIPPED=$("$PYTHON" -c 'import json
models = json.load(open("resources/models/manifest.json"))["models"]
print(next("resources/models/" + m["file"] for m in models if m.get("default")))' 2>/dev/null)
[ -n "$SHIPPED" ] && ARGS=(--init "$SHIPPED")   # of a bag: the member closest to the weights
[ -n "${LR:-}" ] && ARGS+=(--lr "$LR")   # LR=1e-4: gentler on the shipped weights (README)
# The batch of 32 at once takes over 22 GB on a CPU: there, 8 micro-batches of 4 (5 GB).
[ "$DEVICE" = cpu ] && ARGS+=(--accumulate 8)
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
# The run stops itself after MINUTES (then evaluates and saves); the outer timeout, 90 seconds
# later, makes sure whatever it saved is still copied out before the machine's limit. On the CPU
# (a dry run) one step of batch 32 and the validation alone take minutes: 10 minutes later.
GRACE=$([ "$DEVICE" = cuda ] && echo 90 || echo 600)

train() {  # $1: "all" (the general model) or loss weights per source, such as 0,0,1,0
    local name=general args=("${ARGS[@]}")
    if [ "$1" != all ]; then
        name=${1//,/-}
        args+=(--source-weights "$1")
    fi
    # A run folder per kind: a second call on the same machine resumes its own kind, and the
    # general model and a specialist never continue each other's run.
    local run=/tmp/run-$name out=$OUT/$name
    mkdir -p "$out"
    timeout "$(awk "BEGIN { print int($MINUTES * 60 + $GRACE) }")" \
        "$PYTHON" -m training fit training/configs/htdemucs_gpu.toml --device "$DEVICE" \
        --run "$run" --max-minutes "$MINUTES" "${args[@]}" > "$out/fit.log" 2>&1
    local status=$?
    # The device tool brings back at most 8 files of 16 MiB each: per kind the log and one
    # archive of the run's files (float weights alone are 16.4 MB), split below 15 MiB if need
    # be. Here, training/gpu/finish.sh unpacks them.
    local files=()
    for f in best.stemgui history.json history.csv curves.png config.toml provenance.json; do
        [ -f "$run/$f" ] && files+=("$f")
    done
    if [ "${#files[@]}" -gt 0 ]; then
        tar -czf "$out/run.tar.gz" -C "$run" "${files[@]}"
        if [ "$(stat -c %s "$out/run.tar.gz")" -gt $((15 * 1024 * 1024)) ]; then
            split -b 15M -d "$out/run.tar.gz" "$out/run.tar.gz." && rm "$out/run.tar.gz"
        fi
    fi
    return "$status"
}

pids=()
for kind in ${WEIGHTS:-all}; do
    train "$kind" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
done
for log in "$OUT"/*/fit.log; do
    echo "== $log"
    tail -n 12 "$log"
done
exit "$status"
