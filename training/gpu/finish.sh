#!/usr/bin/env bash
# Here, after a GPU run: unpack what came back, quantize each kind to 8 bits, bag a specialist of
# "other" with the general model, and score them all beside the shipped model on the 14 MUSDB
# validation previews (BSS Eval medians, as the README's table). When one kind came back and the
# shipped model is such a bag, the other kind is its member from there (the one that kind's run
# would have started from). Exporting stays a decision: the last lines print the command for
# each candidate, not run it.
#   bash training/gpu/finish.sh FILES_AT        # the folder the device tool put $OUT's files in
set -euo pipefail
fail() { echo "finish.sh: $*" >&2; exit 1; }
# the caller's paths, before moving to the repository (DATA, RUNS: relative to it by default)
absolute() { [ -z "$1" ] || { [ -e "$1" ] && realpath "$1"; } || fail "$1: not found"; }
FILES=$(absolute "${1:?the folder holding general/ (and 0-0-1-0/) as the GPU run left them}")
[ -d "$FILES" ] || fail "$1: not a folder"
SHIPPED=$(absolute "${SHIPPED:-}")
[ -n "${DATA:-}" ] && DATA=$(absolute "$DATA")
[ -n "${RUNS:-}" ] && { mkdir -p "$RUNS"; RUNS=$(realpath "$RUNS"); }
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/musdb18-7/train}
RUNS=${RUNS:-runs/gpu}
PYTHON=${PYTHON:-.venv/bin/python}
# the manifest's default model (another file may lie beside it once a new one ships)
SHIPPED=${SHIPPED:-$("$PYTHON" -c 'import json
models = json.load(open("resources/models/manifest.json"))["models"]
print(next("resources/models/" + m["file"] for m in models if m.get("default")))')}
kind_of() {  # "model" or "bag"; one line naming the file when it is not a model
    "$PYTHON" -c 'import sys
from stemgui.errors import StemguiError
from stemgui.separation.checkpoint import read_checkpoint
try:
    print(read_checkpoint(sys.argv[1])["kind"])
except StemguiError as error:
    sys.exit(f"finish.sh: the shipped model: {error}")' "$1"
}
shipped_kind=$(kind_of "$SHIPPED")  # checked before the minutes of work below
mkdir -p "$RUNS"
rm -f "$RUNS/bag.stemgui" "$RUNS"/shipped-*.stemgui  # an earlier finish's: not scored again
candidates=()
declare -A member=()   # kind -> the file of that kind to bag
for kind in general 0-0-1-0; do
    parts=("$FILES/$kind"/run.tar.gz*)
    [ -e "${parts[0]}" ] || continue
    if [ -e "$FILES/$kind/run.tar.gz" ] && [ "${#parts[@]}" -gt 1 ]; then
        fail "$FILES/$kind holds run.tar.gz and its parts: keep one or the other"
    fi
    # unpacked beside, then in place of an earlier finish's folder: all or nothing
    fresh=$(mktemp -d "$RUNS/.$kind.XXXXXX")
    cat "${parts[@]}" | tar -xz -C "$fresh" 2>/dev/null || {
        rm -rf "$fresh"
        fail "${parts[*]}: damaged or incomplete (tar could not unpack it); fetch it again"
    }
    [ -f "$FILES/$kind/fit.log" ] && cat "$FILES/$kind/fit.log" > "$fresh/fit.log"
    rm -rf "$RUNS/$kind" && mv "$fresh" "$RUNS/$kind"
    "$PYTHON" -m training quantize "$RUNS/$kind/best.stemgui" "$RUNS/$kind/q8.stemgui" \
        --data "$DATA" --cache "$RUNS/cache"
    candidates+=("$RUNS/$kind/q8.stemgui")
    member[$kind]=$RUNS/$kind/q8.stemgui
done
[ "${#member[@]}" -gt 0 ] || fail "no run.tar.gz under $FILES/general or $FILES/0-0-1-0"
if [ "${#member[@]}" -eq 1 ] && [ "$shipped_kind" = bag ]; then
    # the weights each kind trains with: its member of the bag, as fit --init picks it
    for kind in general 0-0-1-0; do
        [ -n "${member[$kind]:-}" ] && continue
        weights=$([ "$kind" = general ] && echo 1,1,1,1 || echo 0,0,1,0)
        "$PYTHON" -m training member "$SHIPPED" "$weights" "$RUNS/shipped-$kind.stemgui"
        member[$kind]=$RUNS/shipped-$kind.stemgui
    done
elif [ "${#member[@]}" -eq 1 ]; then
    echo "No bag: one kind came back and the shipped model is no bag to take the other from."
    echo "  (python -m training bag OUT GENERAL OTHER --weights 1,1,0,1 0,0,1,0 makes one)"
fi
if [ "${#member[@]}" -eq 2 ]; then
    # drums, bass and vocals from the general model, "other" from its specialist
    "$PYTHON" -m training bag "$RUNS/bag.stemgui" "${member[general]}" "${member[0-0-1-0]}" \
        --weights 1,1,0,1 0,0,1,0 --data "$DATA" --cache "$RUNS/cache"
    candidates+=("$RUNS/bag.stemgui")
fi
"$PYTHON" -m training eval "$SHIPPED" "${candidates[@]}" --data "$DATA" --cache "$RUNS/cache" \
    --json "$RUNS/scores.json" --overwrite | tee "$RUNS/eval.txt"  # an earlier finish's go
echo
echo "The target: every stem 2 dB above mixture/4 (\"other\" at least 3.11) and a mean of 3 or more."
echo "To ship one (then update the README's table and eval command, screenshots, bundle figures):"
for candidate in "${candidates[@]}"; do
    echo "  $PYTHON -m training export $candidate --name stemgui-htdemucs-small --replace --description \"...\""
done
