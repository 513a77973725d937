#!/usr/bin/env bash
# Make dist/stemgui.app (from `pyinstaller build_spec/stemgui.spec` on macOS) into a .dmg.
#
#   build_spec/macos/make_dmg.sh [APP] [DMG]
#     APP  default dist/stemgui.app
#     DMG  default dist/stemgui-<version>-macos-<arch>.dmg (version from the app's Info.plist)
#
# Signing and notarisation run only when their environment variables are set; otherwise they are
# skipped with a message and the dmg is unsigned (Gatekeeper then asks users to confirm, with
# right-click > Open, the first time):
#   APPLE_SIGNING_IDENTITY  "Developer ID Application: Name (TEAMID)", in the keychain: codesign
#                           the app (hardened runtime) and the dmg.
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  (with the identity): notarise the dmg with
#                           `xcrun notarytool` and staple the ticket.
# PLISTBUDDY overrides /usr/libexec/PlistBuddy (the tests run the script with stand-ins).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
app="${1:-dist/stemgui.app}"
if [[ ! -d "$app" ]]; then
    echo "make_dmg: no app bundle at $app; build it first (pyinstaller build_spec/stemgui.spec)" >&2
    exit 2
fi
plistbuddy="${PLISTBUDDY:-/usr/libexec/PlistBuddy}"
version="$("$plistbuddy" -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")"
arch="$(uname -m)"
dmg="${2:-dist/stemgui-${version}-macos-${arch}.dmg}"
entitlements="$here/entitlements.plist"

if [[ -n "${APPLE_SIGNING_IDENTITY:-}" ]]; then
    echo "make_dmg: signing $app as $APPLE_SIGNING_IDENTITY"
    # Inside out: every Mach-O file (libraries, executables) first, then the bundle itself.
    find "$app/Contents" -type f -print0 | while IFS= read -r -d '' file; do
        if file -b "$file" | grep -q 'Mach-O'; then
            codesign --force --timestamp --options runtime \
                --entitlements "$entitlements" --sign "$APPLE_SIGNING_IDENTITY" "$file"
        fi
    done
    codesign --force --timestamp --options runtime --entitlements "$entitlements" \
        --sign "$APPLE_SIGNING_IDENTITY" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
else
    echo "make_dmg: APPLE_SIGNING_IDENTITY is not set: the app and the dmg are NOT signed"
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "stemgui $version" -srcfolder "$staging" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 "$dmg"

if [[ -n "${APPLE_SIGNING_IDENTITY:-}" ]]; then
    codesign --force --timestamp --sign "$APPLE_SIGNING_IDENTITY" "$dmg"
fi

if [[ -n "${APPLE_SIGNING_IDENTITY:-}" && -n "${APPLE_ID:-}" && -n "${APPLE_TEAM_ID:-}" \
    && -n "${APPLE_APP_PASSWORD:-}" ]]; then
    echo "make_dmg: notarising $dmg (this waits for Apple's answer)"
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$dmg"
else
    echo "make_dmg: APPLE_SIGNING_IDENTITY, APPLE_ID, APPLE_TEAM_ID or APPLE_APP_PASSWORD is" \
        "not set: notarisation skipped"
fi

echo "make_dmg: wrote $dmg ($(du -h "$dmg" | cut -f1))"
