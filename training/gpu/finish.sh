#!/usr/bin/env bash
# Here, after a GPU run: unpack what came back, quantize each kind to 8 bits, bag a specialist of
# "other" with the general model, and score them all beside the shipped model on the 14 MUSDB
# validation previews (BSS Eval medians, as the README's table). Exporting stays a decision:
# the last lines print the command for the candidate, not run it.
#   bash training/gpu/finish.sh FILES_AT        # the folder the device tool put $OUT's files in
set -euo pipefail
cd "$(dirname "$0")/../.."
FILES=${1:?the folder holding general/ (and 0-0-1-0/) as the GPU run left them}
DATA=${DATA:-../shared/data/musdb18-7/train}
RUNS=${RUNS:-runs/gpu}
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p "$RUNS"
candidates=()
for kind in general 0-0-1-0; do
    parts=("$FILES/$kind"/run.tar.gz*)
    [ -e "${parts[0]}" ] || continue
    mkdir -p "$RUNS/$kind"
    cat "${parts[@]}" | tar -xz -C "$RUNS/$kind"
    [ -f "$FILES/$kind/fit.log" ] && cp "$FILES/$kind/fit.log" "$RUNS/$kind/"
    "$PYTHON" -m training quantize "$RUNS/$kind/best.stemgui" "$RUNS/$kind/q8.stemgui" \
        --data "$DATA" --cache "$RUNS/cache"
    candidates+=("$RUNS/$kind/q8.stemgui")
done
[ "${#candidates[@]}" -gt 0 ] || { echo "no run.tar.gz under $FILES/general or $FILES/0-0-1-0" >&2; exit 1; }
if [ -f "$RUNS/general/q8.stemgui" ] && [ -f "$RUNS/0-0-1-0/q8.stemgui" ]; then
    # drums, bass and vocals from the general model, "other" from its specialist
    "$PYTHON" -m training bag "$RUNS/bag.stemgui" "$RUNS/general/q8.stemgui" \
        "$RUNS/0-0-1-0/q8.stemgui" --weights 1,1,0,1 0,0,1,0 --data "$DATA" --cache "$RUNS/cache"
    candidates+=("$RUNS/bag.stemgui")
fi
shipped=$(ls resources/models/*.stemgui | head -n 1)
"$PYTHON" -m training eval "$shipped" "${candidates[@]}" --data "$DATA" --cache "$RUNS/cache" \
    --json "$RUNS/scores.json" | tee "$RUNS/eval.txt"
echo
echo "The target: every stem 2 dB above mixture/4 (\"other\" at least 3.11) and a mean of 3 or more."
echo "To ship one (then update the README's table and eval command, screenshots, bundle figures):"
for candidate in "${candidates[@]}"; do
    echo "  $PYTHON -m training export $candidate --name stemgui-htdemucs-small --description \"...\""
done
