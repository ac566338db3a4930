#!/usr/bin/env bash
# Smoke test of the built bundle (packaging/build.sh first; `make bundle` runs both):
#  1. the frozen binary's self-test passes offscreen (tiny models, window, one image, one chat reply);
#  2. a damaged copy (PIL's WebP codec removed) fails and names the module that could not load;
#  3. started with no display, the window refuses with a plain reason instead of Qt's abort;
#  4. the menu entry installs into a scratch home and passes desktop-file-validate;
#  5. when xvfb-run is installed: the self-test again on a real X server, through Qt's X11 plugin
#     and the libraries bundled for it.
# Usage: packaging/smoke.sh [bundle folder, default dist/Atelier]
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${1:-dist/Atelier}"
exe="$bundle/Atelier"
[ -x "$exe" ] || { echo "smoke: $exe not found: run packaging/build.sh first" >&2; exit 2; }
scratch="$(mktemp -d)"
hidden=""
cleanup() {
  [ -n "$hidden" ] && [ -e "$hidden.hidden" ] && mv "$hidden.hidden" "$hidden"
  rm -rf "$scratch"
}
trap cleanup EXIT
headless() { env -u DISPLAY -u WAYLAND_DISPLAY HOME="$scratch/home" QT_QPA_PLATFORM=offscreen "$@"; }

echo "smoke 1/5: $exe --selftest"
"$exe" --version
start=$(date +%s)
headless "$exe" --selftest | tee "$scratch/selftest.log"
grep -q '^SELFTEST OK' "$scratch/selftest.log" || { echo "smoke: the self-test failed" >&2; exit 1; }
echo "smoke: self-test took $(( $(date +%s) - start )) s"

echo "smoke 2/5: a damaged bundle names what it lost"
hidden="$(find "$bundle/_internal/PIL" -name '_webp*.so' | head -n 1)"
[ -n "$hidden" ] || { echo "smoke: PIL's WebP codec is not in the bundle" >&2; exit 1; }
mv "$hidden" "$hidden.hidden"
if headless "$exe" --selftest > "$scratch/damaged.log" 2>&1; then
  echo "smoke: the self-test passed on a damaged bundle" >&2; exit 1
fi
mv "$hidden.hidden" "$hidden"
grep -E "^FAIL  image codecs: PIL.WebPImagePlugin cannot handle WEBP.*PIL._webp could not load" "$scratch/damaged.log"
grep -q '^SELFTEST FAILED' "$scratch/damaged.log"

echo "smoke 3/5: no display"
set +e
env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM HOME="$scratch/home" "$exe" > "$scratch/nodisplay.log" 2>&1
code=$?
set -e
cat "$scratch/nodisplay.log"
[ "$code" = 1 ] && grep -q 'found no display' "$scratch/nodisplay.log" || {
  echo "smoke: without a display the app did not explain itself (exit $code)" >&2; exit 1; }

echo "smoke 4/5: menu entry"
XDG_DATA_HOME="$scratch/data" "$bundle/install-menu-entry.sh"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$scratch/data/applications/atelier.desktop"
fi
grep -q "^Exec=\"$(cd "$bundle" && pwd)/Atelier\"" "$scratch/data/applications/atelier.desktop"
[ -f "$scratch/data/icons/hicolor/256x256/apps/atelier.png" ]

echo "smoke 5/5: X11"
if command -v xvfb-run >/dev/null; then
  env -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM HOME="$scratch/home" xvfb-run -a "$exe" --selftest > "$scratch/x11.log" 2>&1 || true
  grep -q '^SELFTEST OK' "$scratch/x11.log" || { cat "$scratch/x11.log"; echo "smoke: the self-test failed on X11" >&2; exit 1; }
  tail -n 1 "$scratch/x11.log"
else
  echo "smoke: xvfb-run not installed: X11 not checked (apt install xvfb xauth)"
fi

echo "SMOKE OK: $(du -sh "$bundle" | cut -f1) bundle"
