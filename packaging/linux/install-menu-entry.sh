#!/bin/sh
# Puts Atelier in your application menu (for you only; no root needed): a .desktop file that
# points at this folder, and the icon in every size, under ~/.local/share.
# Run it again after moving the Atelier folder.  Remove the entry with:  ./install-menu-entry.sh --uninstall
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
resources="$here/_internal/resources"
sizes="16 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$data/applications/atelier.desktop" "$data/icons/hicolor/scalable/apps/atelier.svg"
  for size in $sizes; do rm -f "$data/icons/hicolor/${size}x${size}/apps/atelier.png"; done
  echo "Atelier is no longer in your application menu (this folder is untouched)."
  exit 0
fi
if [ ! -x "$here/Atelier" ] || [ ! -f "$resources/atelier.desktop" ]; then
  echo "install-menu-entry: run me from inside the unpacked Atelier folder" >&2
  exit 1
fi
for size in $sizes; do
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$resources/icons/atelier-$size.png" "$data/icons/hicolor/${size}x${size}/apps/atelier.png"
done
mkdir -p "$data/icons/hicolor/scalable/apps" "$data/applications"
cp "$resources/icons/atelier.svg" "$data/icons/hicolor/scalable/apps/atelier.svg"
# the desktop entry spec quotes an Exec path with spaces in double quotes
exec_path=$(printf '%s' "$here/Atelier" | sed 's/[\\"`$]/\\\\&/g')
sed -e "s|^Exec=.*|Exec=\"$exec_path\"|" -e "s|^TryExec=.*|TryExec=$here/Atelier|" \
  "$resources/atelier.desktop" > "$data/applications/atelier.desktop.tmp"
mv "$data/applications/atelier.desktop.tmp" "$data/applications/atelier.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "Atelier is in your application menu (Graphics). To remove it: $0 --uninstall"
