"""Projects as OpenRaster (.ora): the layered format Krita, GIMP and MyPaint open.

A zip holding `mimetype` (first, stored), `stack.xml` (the layer tree, top layer first), one PNG
per layer under data/, `mergedimage.png` and `Thumbnails/thumbnail.png`. Atelier adds its mask
as `atelier/mask.png` and a few attributes in its own XML namespace; other programs ignore both.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ElementTree
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from desktop.core.atomic import write_atomic
from desktop.core.document import Document, EditError, Layer, new_layer_id
from desktop.core.geometry import Rect
from desktop.core.image_io import ImageLoadError, encode_png, load_image_bytes, pixel_limit
from desktop.core.steering import SteeringError, spec_from_json, spec_to_json

MIMETYPE = b"image/openraster"
NAMESPACE = "https://github.com/atelier-app/atelier/ora"
MASK_MEMBER = "atelier/mask.png"
THUMBNAIL_SIDE = 256
_MAX_STACK_BYTES = 16 * 1024 * 1024
ElementTree.register_namespace("atelier", NAMESPACE)


class ProjectError(ValueError):
    """A project file cannot be read; the message names the file, the reason and what to do."""


def _attr(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


# ------------------------------------------------------------------ saving
def save_ora(document: Document, path: str | os.PathLike, compress_level: int = 6) -> None:
    """Save atomically: until the new file is complete and synced, the old one stays as it was."""
    write_atomic(path, lambda handle: write_ora(document, handle, compress_level))


def write_ora(document: Document, handle: IO[bytes], compress_level: int = 6) -> None:
    now = time.localtime()[:6]

    def member(name: str, data: bytes, method: int) -> None:
        info = zipfile.ZipInfo(name, date_time=now)
        info.compress_type = method
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)

    with zipfile.ZipFile(handle, "w") as archive:
        member("mimetype", MIMETYPE, zipfile.ZIP_STORED)  # first and uncompressed, as the spec asks
        image = ElementTree.Element("image", {"version": "0.0.5", "w": str(document.width), "h": str(document.height)})
        if document.selection is not None:
            s = document.selection
            image.set(_attr("selection"), f"{s.x},{s.y},{s.width},{s.height}")
        stack = ElementTree.SubElement(image, "stack")
        active = document.active_layer
        for position, layer in enumerate(reversed(document.layers)):  # stack.xml lists the top layer first
            src = f"data/layer{position}.png"
            attributes = {
                "name": layer.name,
                "src": src,
                "x": str(layer.x),
                "y": str(layer.y),
                "opacity": f"{layer.opacity:.4f}",
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": "svg:src-over",
                _attr("id"): layer.id,
            }
            if active is not None and layer.id == active.id:
                attributes["selected"] = "true"
            if layer.parameters:
                attributes[_attr("parameters")] = layer.parameters
            if layer.steering is not None:  # control layer, reference or region: its settings as JSON
                attributes[_attr("steering")] = spec_to_json(layer.steering)
            ElementTree.SubElement(stack, "layer", attributes)
            # PNG is already compressed: deflating it again costs time and saves nothing.
            member(src, encode_png(layer.pixels, compress_level), zipfile.ZIP_STORED)
        xml = ElementTree.tostring(image, encoding="utf-8", xml_declaration=True)
        member("stack.xml", xml, zipfile.ZIP_DEFLATED)
        if document.mask.any():
            member(MASK_MEMBER, encode_png(document.mask, compress_level), zipfile.ZIP_STORED)
        merged = document.composite()
        member("mergedimage.png", encode_png(merged, compress_level), zipfile.ZIP_STORED)
        thumbnail = Image.fromarray(merged)
        thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        member("Thumbnails/thumbnail.png", encode_png(np.asarray(thumbnail), compress_level), zipfile.ZIP_STORED)


# ------------------------------------------------------------------ loading
def load_ora(path: str | os.PathLike) -> Document:
    """Read an .ora project; anything wrong gives a ProjectError saying what, and nothing else changes."""
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"{path} does not exist or is not a file; check the name or pick the file again")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(archive, path)
    except ProjectError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ProjectError(
            f"{path.name} is damaged or incomplete ({error}); open an earlier copy, or a recovery file if one was offered"
        ) from None
    except OSError as error:
        raise ProjectError(f"cannot read {path}: {error.strerror or error}") from None
    except MemoryError:
        raise ProjectError(f"not enough free memory to open {path.name}; close other programs and try again") from None


def _read(archive: zipfile.ZipFile, path: Path) -> Document:
    names = set(archive.namelist())
    if "mimetype" in names and archive.read("mimetype").strip() != MIMETYPE:
        raise ProjectError(f"{path.name} is a zip file but not an OpenRaster project (wrong mimetype)")
    if "stack.xml" not in names:
        raise ProjectError(f"{path.name} has no stack.xml, so it is not an OpenRaster project or it is damaged")
    if archive.getinfo("stack.xml").file_size > _MAX_STACK_BYTES:
        raise ProjectError(f"{path.name} has a stack.xml too large to be real; the file is damaged")
    try:
        root = ElementTree.fromstring(archive.read("stack.xml"))
    except ElementTree.ParseError as error:
        raise ProjectError(f"{path.name} has a damaged stack.xml ({error})") from None
    if root.tag != "image" or root.find("stack") is None:
        raise ProjectError(f"{path.name} has a stack.xml without an <image> holding a <stack>; the file is damaged")
    width, height = _int(root, "w", path), _int(root, "h", path)
    try:
        document = Document(width, height, path=path)
    except EditError as error:
        raise ProjectError(f"{path.name}: {error}") from None

    layers: list[tuple[Layer, bool]] = []
    _walk(root.find("stack"), archive, path, layers, 0, 0, True, 1.0)
    layers.reverse()  # the document keeps the bottom layer first
    for index, (layer, _selected) in enumerate(layers):
        document.insert_layer(index, layer)
    selected = [layer.id for layer, chosen in layers if chosen]
    document.set_active_layer(selected[0] if selected else (layers[-1][0].id if layers else None))
    if MASK_MEMBER in names:
        _read_mask(archive, document)
    selection = root.get(_attr("selection"))
    if selection:
        try:
            document.set_selection(Rect(*(int(v) for v in selection.split(","))))
        except (TypeError, ValueError):
            pass  # a bad selection is not worth refusing the project: it opens unselected
    document.history.clear()
    document.revision = 0
    document.mark_saved()
    return document


def _walk(stack, archive, path, out, x, y, visible, opacity) -> None:
    """Flatten the layer tree, top first; a group's offset, visibility and opacity pass to its layers."""
    for node in stack:
        node_visible = visible and node.get("visibility", "visible") != "hidden"
        node_opacity = opacity * _float(node, "opacity", 1.0)
        node_x, node_y = x + int(_float(node, "x", 0.0)), y + int(_float(node, "y", 0.0))
        if node.tag == "stack":
            _walk(node, archive, path, out, node_x, node_y, node_visible, node_opacity)
        elif node.tag == "layer":
            name = node.get("name") or f"Layer {len(out) + 1}"
            pixels = _read_png(archive, node.get("src", ""), f"layer {name!r} of {path.name}")
            layer = Layer(name, pixels, node_x, node_y, node_visible, node_opacity, node.get(_attr("parameters"), ""))
            if node.get(_attr("id")):
                layer.id = node.get(_attr("id"))
            layer.steering = _steering(node.get(_attr("steering")))
            if any(existing.id == layer.id for existing, _ in out):
                layer.id = new_layer_id()  # a copied file can repeat ids: keep them unique
            out.append((layer, node.get("selected") == "true"))


def _steering(text: str | None):
    """A layer's steering role; one that cannot be read (a newer Atelier's, a damaged file) opens as a plain layer."""
    if not text:
        return None
    try:
        return spec_from_json(text)
    except SteeringError:
        return None


def _read_png(archive: zipfile.ZipFile, member: str, what: str) -> np.ndarray:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ProjectError(f"{what} is missing from the file ({member!r}); the project is damaged") from None
    if info.file_size > pixel_limit() * 5:  # far more than a PNG of the largest allowed image
        raise ProjectError(f"{what} is too large to open on this machine")
    try:
        return load_image_bytes(archive.read(member), what)
    except ImageLoadError as error:
        raise ProjectError(str(error)) from None


def _read_mask(archive: zipfile.ZipFile, document: Document) -> None:
    pixels = _read_png(archive, MASK_MEMBER, "the inpaint mask")
    if pixels.shape[:2] == (document.height, document.width):
        document.replace_mask(np.ascontiguousarray(pixels[..., 0]))


def _int(node, key: str, path: Path) -> int:
    try:
        return int(node.get(key, ""))
    except ValueError:
        raise ProjectError(f"{path.name}: the canvas {key!r} in stack.xml is not a whole number") from None


def _float(node, key: str, default: float) -> float:
    try:
        value = float(node.get(key, default))
    except ValueError:
        return default
    return value if np.isfinite(value) else default
