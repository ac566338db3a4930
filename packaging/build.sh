#!/usr/bin/env bash
# Builds the Linux bundle from this checkout:
#   dist/Atelier/                                  the app folder (PyInstaller onedir); run dist/Atelier/Atelier
#   dist/Atelier-<version>-linux-<arch>.tar.gz     the download: unpack anywhere, no Python needed
#   dist/Atelier.AppDir/                           ready for appimagetool (run here when it is installed)
# Then run packaging/smoke.sh (`make bundle` runs both). Takes ~6-10 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
version="$("$python" -c 'import desktop; print(desktop.__version__)')"
arch="$(uname -m)"
start=$(date +%s)

# Qt's X11 plugin links these. PyInstaller bundles what the build host has and silently leaves out
# what it lacks, so a host without them makes a bundle that fails on machines without them too.
needed="libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 libxcb-render-util.so.0
libxcb-util.so.1 libxkbcommon-x11.so.0 libxkbcommon.so.0"
missing=""
known="$(/sbin/ldconfig -p)"  # read once: `ldconfig -p | grep -q` dies of SIGPIPE under pipefail
for soname in $needed; do
  case "$known" in *"$soname "*) ;; *) missing="$missing $soname" ;; esac
done
if [ -n "$missing" ]; then
  packages="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-util1 libxkbcommon-x11-0"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build: installing Qt's X11 libraries on the build host:$missing"
    apt-get install -y --no-install-recommends $packages >/dev/null
  else
    echo "build: the build host lacks$missing; install them first: sudo apt install $packages" >&2
    exit 1
  fi
fi
"$python" -c 'import PyInstaller' 2>/dev/null || {
  echo "build: PyInstaller is missing: run scripts/setup.sh package (or make bundle)" >&2; exit 1; }

rm -rf dist/Atelier dist/Atelier.AppDir
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/atelier.spec

bundle=dist/Atelier
install -m 755 packaging/linux/install-menu-entry.sh "$bundle/install-menu-entry.sh"
install -m 644 packaging/linux/README.txt "$bundle/README.txt"

# the download
tarball="dist/Atelier-$version-linux-$arch.tar.gz"
tar -C dist -cf - Atelier | gzip -6 > "$tarball"

# the AppDir: hard links into the bundle, so it costs no extra disk
appdir=dist/Atelier.AppDir
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications"
cp -al "$bundle" "$appdir/usr/lib/atelier"
install -m 755 packaging/linux/AppRun "$appdir/AppRun"
install -m 644 resources/atelier.desktop "$appdir/atelier.desktop"
install -m 644 resources/atelier.desktop "$appdir/usr/share/applications/atelier.desktop"
install -m 644 resources/icons/atelier-256.png "$appdir/atelier.png"
ln -sf atelier.png "$appdir/.DirIcon"
for size in 16 24 32 48 64 128 256 512; do
  install -Dm644 "resources/icons/atelier-$size.png" "$appdir/usr/share/icons/hicolor/${size}x${size}/apps/atelier.png"
done
install -Dm644 resources/icons/atelier.svg "$appdir/usr/share/icons/hicolor/scalable/apps/atelier.svg"
if command -v appimagetool >/dev/null; then
  ARCH="$arch" appimagetool --no-appstream "$appdir" "dist/Atelier-$version-$arch.AppImage"
else
  echo "build: appimagetool not found: $appdir is ready for 'ARCH=$arch appimagetool $appdir'"
fi

echo "build: done in $(( $(date +%s) - start )) s"
echo "build: $(du -sh "$bundle" | cut -f1) in $bundle, $(du -h "$tarball" | cut -f1) download ($tarball)"
