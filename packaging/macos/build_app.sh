#!/usr/bin/env bash
# macOS build of Atelier: Atelier.app (PyInstaller), self-test, sign, DMG, notarise, staple.
# NOT YET RUN: written against Apple's codesign/notarytool/stapler and PyInstaller's docs for the
# macos job of .github/workflows/bundle.yml (macos-14 runner, Apple silicon). Run from the repo root.
#
# Signing and notarisation happen only when these are set (CI secrets); without them the script
# makes an ad-hoc signed app and an unsigned DMG, which run on the build machine only:
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)", in the keychain already
#   NOTARY_APPLE_ID, NOTARY_TEAM_ID, NOTARY_PASSWORD   (an app-specific password)
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3.11}"
arch="$(uname -m)"

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"  # PyPI's macOS wheel: CPU + MPS
.venv/bin/python -m pip install --quiet -e ".[package]"
version="$(.venv/bin/python -c 'import desktop; print(desktop.__version__)')"

# the .icns icon from the committed PNG renders (plus a 1024 px render for the @2x 512)
iconset="build/atelier.iconset"
rm -rf "$iconset" && mkdir -p "$iconset"
.venv/bin/python - "$iconset" <<'PY'
import shutil, sys
from pathlib import Path
sys.path.insert(0, "packaging")
from render_icons import ICONS, render
out = Path(sys.argv[1])
big = render(ICONS / "atelier.svg", out, sizes=(1024,))[0]
big.rename(out / "icon_512x512@2x.png")
for size in (16, 32, 128, 256, 512):
    shutil.copy(ICONS / f"atelier-{size}.png", out / f"icon_{size}x{size}.png")
    if size * 2 <= 512:
        shutil.copy(ICONS / f"atelier-{size * 2}.png", out / f"icon_{size}x{size}@2x.png")
PY
iconutil -c icns "$iconset" -o resources/icons/atelier.icns

# PyInstaller signs every binary it collects with this identity and the entitlements (its
# codesign_identity / entitlements_file, read by atelier.spec); "-" means an ad-hoc signature.
identity="${MACOS_SIGN_IDENTITY:--}"
ATELIER_VERSION="$version" MACOS_SIGN_IDENTITY="$identity" .venv/bin/python -m PyInstaller --noconfirm --clean \
  --distpath dist --workpath build/pyinstaller packaging/atelier.spec
app="dist/Atelier.app"

# then the bundle itself, outermost last (no --deep: the nested code is signed already)
if [ "$identity" = "-" ]; then
  echo "build_app: no MACOS_SIGN_IDENTITY: ad-hoc signature (runs on this Mac only)"
  codesign --force --sign - "$app"
else
  codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist \
    --sign "$identity" "$app"
fi
codesign --verify --deep --strict --verbose=2 "$app"

# the frozen self-test, before anything is shipped
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/Atelier" --selftest | tee build/selftest.log
grep -q '^SELFTEST OK' build/selftest.log

dmg="dist/Atelier-$version-macos-$arch.dmg"
rm -f "$dmg"
hdiutil create -volname Atelier -srcfolder "$app" -ov -format UDZO "$dmg"
if [ "$identity" != "-" ]; then
  codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [ -n "${NOTARY_APPLE_ID:-}" ] && [ "$identity" != "-" ]; then
  xcrun notarytool submit "$dmg" --apple-id "$NOTARY_APPLE_ID" --team-id "$NOTARY_TEAM_ID" \
    --password "$NOTARY_PASSWORD" --wait
  xcrun stapler staple "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose "$dmg"
else
  echo "build_app: not notarised (no NOTARY_* credentials): Gatekeeper will refuse it on other Macs"
fi
ls -lh "$dmg"
