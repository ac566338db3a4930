"""Projects as OpenRaster (.ora): the layered format Krita, GIMP and MyPaint open.

A zip holding `mimetype` (first, stored), `stack.xml` (the layer tree, top layer first), one PNG
per layer under data/, `mergedimage.png` and `Thumbnails/thumbnail.png`. Atelier adds its mask
as `atelier/mask.png` and a few attributes in its own XML namespace; other programs ignore both.

Groups are nested `<stack>`s (name, opacity, visibility, composite-op, isolation) and every layer
and group carries its blend mode as `composite-op` (`svg:multiply`, ...), as Krita, GIMP and
MyPaint write them; both survive a load and a save. Attributes other programs put on a layer are
written back as they were read. Reading, with its limits, is in `desktop.core.ora_stack`; a
program adding attributes of its own should name them in Atelier's namespace there.
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
from desktop.core.document import Document, EditError, Group, Layer
from desktop.core.geometry import Rect
from desktop.core.image_io import ImageLoadError, encode_png, load_image_bytes, pixel_limit
from desktop.core.steering import SteeringError, spec_from_json, spec_to_json
from desktop.core.ora_stack import (MAX_STACK_BYTES, NAMESPACE, ProjectError, attr, check_budget, read_member,
                                    read_stack)

MIMETYPE = b"image/openraster"
MASK_MEMBER = "atelier/mask.png"
THUMBNAIL_SIDE = 256
ElementTree.register_namespace("atelier", NAMESPACE)
__all__ = ["MASK_MEMBER", "ProjectError", "load_ora", "save_ora", "write_ora"]


_attr = attr


# ------------------------------------------------------------------ saving
def save_ora(document: Document, path: str | os.PathLike, compress_level: int = 6) -> None:
    """Save atomically: until the new file is complete and synced, the old one stays as it was."""
    write_atomic(path, lambda handle: write_ora(document, handle, compress_level))


def _layer_attributes(layer: Layer, src: str, selected: bool) -> dict[str, str]:
    attributes = dict(layer.extra_attributes)  # what other programs wrote, kept; ours win on a clash
    attributes.update({
        "name": layer.name,
        "src": src,
        "x": str(layer.x),
        "y": str(layer.y),
        "opacity": f"{layer.opacity:.4f}",
        "visibility": "visible" if layer.visible else "hidden",
        "composite-op": layer.blend,
        _attr("id"): layer.id,
    })
    if selected:
        attributes["selected"] = "true"
    if layer.parameters:
        attributes[_attr("parameters")] = layer.parameters
    if layer.steering is not None:  # control layer, reference or region: its settings as JSON
        attributes[_attr("steering")] = spec_to_json(layer.steering)
    return attributes


def _group_attributes(group: Group) -> dict[str, str]:
    return {"name": group.name, "opacity": f"{group.opacity:.4f}",
            "visibility": "visible" if group.visible else "hidden", "composite-op": group.blend,
            "isolation": group.isolation, _attr("id"): group.id}


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
        open_groups: list[tuple[str, ElementTree.Element]] = []  # the nested <stack>s the last layer was in
        for position, layer in enumerate(reversed(document.layers)):  # stack.xml lists the top layer first
            shared = 0
            while shared < min(len(open_groups), len(layer.groups)) and \
                    open_groups[shared][0] == layer.groups[shared].id:
                shared += 1
            del open_groups[shared:]
            for group in layer.groups[shared:]:
                parent = open_groups[-1][1] if open_groups else stack
                open_groups.append((group.id, ElementTree.SubElement(parent, "stack", _group_attributes(group))))
            src = f"data/layer{position}.png"
            selected = active is not None and layer.id == active.id
            ElementTree.SubElement(open_groups[-1][1] if open_groups else stack, "layer",
                                   _layer_attributes(layer, src, selected))
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
    """Read an .ora project; anything wrong gives a ProjectError saying what, and nothing else changes.

    What the file holds that Atelier cannot keep (another program's filter layers, say) is listed in
    `document.notes`, for the window to say before a save could drop it.
    """
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
    if "mimetype" in names and read_member(archive, "mimetype", 256, path).strip() != MIMETYPE:
        raise ProjectError(f"{path.name} is a zip file but not an OpenRaster project (wrong mimetype)")
    if "stack.xml" not in names:
        raise ProjectError(f"{path.name} has no stack.xml, so it is not an OpenRaster project or it is damaged")
    stack = read_stack(read_member(archive, "stack.xml", MAX_STACK_BYTES, path), path)
    check_budget(archive, stack, path)
    layers = []
    for entry in stack.layers:
        what = f"layer {entry.name!r} of {path.name}"
        pixels = _read_png(archive, entry.src, what, path)
        extra = dict(entry.extra_attributes)
        steering = _steering(extra.pop(_attr("steering"), None))
        layer = Layer(entry.name, pixels, entry.x, entry.y, entry.visible, entry.opacity, entry.parameters,
                      id=entry.id, blend=entry.blend, groups=entry.groups, extra_attributes=tuple(extra.items()),
                      steering=steering)
        layers.append(layer)
    layers.reverse()  # the document keeps the bottom layer first
    try:
        document = Document(stack.width, stack.height, layers, path=path)  # one list, no per-layer checks
    except EditError as error:
        raise ProjectError(f"{path.name}: {error}") from None
    document.notes = list(stack.notes)
    selected = [entry.id for entry in stack.layers if entry.selected]
    document.set_active_layer(selected[0] if selected else (layers[-1].id if layers else None))
    if MASK_MEMBER in names:
        _read_mask(archive, document, path)
    if stack.selection:
        try:
            document.set_selection(Rect(*(int(v) for v in stack.selection.split(","))))
        except (TypeError, ValueError):
            pass  # a bad selection is not worth refusing the project: it opens unselected
    document.history.clear()
    document.revision = 0
    document.mark_saved()
    return document


def _steering(text: str | None):
    """A layer's steering role; one that cannot be read (a newer Atelier's, a damaged file) opens as a plain layer."""
    if not text:
        return None
    try:
        return spec_from_json(text)
    except SteeringError:
        return None


def _read_png(archive: zipfile.ZipFile, member: str, what: str, path: Path) -> np.ndarray:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ProjectError(f"{what} is missing from the file ({member!r}); the project is damaged") from None
    if info.file_size > pixel_limit() * 5:  # far more than a PNG of the largest allowed image
        raise ProjectError(f"{what} is too large to open on this machine")
    try:
        return load_image_bytes(read_member(archive, member, pixel_limit() * 5, path, what), what)
    except ImageLoadError as error:
        raise ProjectError(str(error)) from None


def _read_mask(archive: zipfile.ZipFile, document: Document, path: Path) -> None:
    pixels = _read_png(archive, MASK_MEMBER, "the inpaint mask", path)
    if pixels.shape[:2] == (document.height, document.width):
        document.replace_mask(np.ascontiguousarray(pixels[..., 0]))
