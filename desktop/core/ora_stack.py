"""Reading an OpenRaster `stack.xml` safely: the layer tree, groups and blend modes, within budgets.

Every read is bounded before it happens: a member is read with a limit whatever size its zip
header claims, the tree is walked without recursion and at most MAX_DEPTH groups deep, at most
MAX_LAYERS layers are accepted, and the pixels of all layers together (from each PNG's header,
before anything is decoded) must fit in memory. A hostile file gets a ProjectError saying what,
in about the time it takes to read its stack.xml.

Attributes understood here: the OpenRaster baseline (name, src, x, y, opacity, visibility,
composite-op, selected; `isolation` on stacks) and Atelier's own, in its namespace (id,
parameters, selection). Other attributes on a layer are kept verbatim (`extra_attributes`) and
written back; other elements (Krita's filter layers, say) cannot be kept and are listed in
`notes`, which the window shows when the file opens, before a save could drop them.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ElementTree
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.core import blending
from desktop.core.document import Group, new_layer_id
from desktop.core.image_io import BYTES_PER_PIXEL, pixel_limit

NAMESPACE = "https://github.com/atelier-app/atelier/ora"
MAX_STACK_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # groups inside groups; painting programs nest a handful
MAX_LAYERS = 1000
# Attributes read into Layer fields; anything else on a <layer> travels in extra_attributes.
_LAYER_ATTRIBUTES = {"name", "src", "x", "y", "opacity", "visibility", "composite-op", "selected"}


class ProjectError(ValueError):
    """A project file cannot be read; the message names the file, the reason and what to do."""


def attr(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


_OURS = {attr("id"), attr("parameters")}


@dataclass
class LayerEntry:
    """One <layer> as the file describes it, with its position made absolute (group offsets added)."""

    name: str
    src: str
    x: int
    y: int
    visible: bool
    opacity: float
    blend: str
    parameters: str
    id: str
    selected: bool
    groups: tuple[Group, ...]
    extra_attributes: tuple[tuple[str, str], ...]


@dataclass
class StackInfo:
    """What stack.xml says: canvas size, layers top first, the selection, and what cannot be kept."""

    width: int
    height: int
    layers: list[LayerEntry] = field(default_factory=list)
    selection: str = ""
    notes: list[str] = field(default_factory=list)


def read_member(archive: zipfile.ZipFile, name: str, limit: int, path: Path, what: str | None = None) -> bytes:
    """A member's bytes, never more than `limit`, whatever its header claims (a lie ends as a CRC error)."""
    chunks, size = [], 0
    with archive.open(name) as member:
        while size <= limit:  # in pieces: zipfile inflates as much as it is asked for before it cuts
            chunk = member.read(min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise ProjectError(f"{what or name} in {path.name} is larger than any real project's "
                           f"({limit / 1e6:.0f} MB at most); the file is damaged or not a project")
    return data


def _float(node, key: str, default: float) -> float:
    try:
        value = float(node.get(key, default))
    except ValueError:
        return default
    return value if np.isfinite(value) else default


def _int(node, key: str, path: Path) -> int:
    try:
        return int(node.get(key, ""))
    except ValueError:
        raise ProjectError(f"{path.name}: the canvas {key!r} in stack.xml is not a whole number") from None


def _offset(node, key: str) -> int:
    value = _float(node, key, 0.0)
    return int(max(min(value, 1e9), -1e9))


def read_stack(xml: bytes, path: Path) -> StackInfo:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise ProjectError(f"{path.name} has a damaged stack.xml ({error})") from None
    top = root.find("stack") if root.tag == "image" else None
    if top is None:
        raise ProjectError(f"{path.name} has a stack.xml without an <image> holding a <stack>; the file is damaged")
    info = StackInfo(_int(root, "w", path), _int(root, "h", path), selection=root.get(attr("selection"), ""))
    layer_ids: set[str] = set()
    group_ids: set[str] = set()
    skipped: Counter = Counter()
    unknown_ops: set[str] = set()
    # (children still to read, x, y, groups): a list, not recursion, so depth costs no stack frames
    todo = [(iter(top), 0, 0, ())]
    while todo:
        children, x, y, groups = todo[-1]
        node = next(children, None)
        if node is None:
            todo.pop()
            continue
        node_x, node_y = x + _offset(node, "x"), y + _offset(node, "y")
        op = node.get("composite-op") or blending.NORMAL
        if node.tag in ("stack", "layer") and blending.mode_of(op) is None:
            unknown_ops.add(op[:60])
        if node.tag == "stack":
            if len(groups) >= MAX_DEPTH:
                raise ProjectError(f"{path.name} nests groups more than {MAX_DEPTH} deep; no painting program "
                                   "writes that: the file is damaged or was made to break readers")
            group_id = node.get(attr("id")) or new_layer_id()
            if group_id in group_ids:
                group_id = new_layer_id()
            group_ids.add(group_id)
            group = Group(name=node.get("name") or f"Group {len(group_ids)}",
                          opacity=min(max(_float(node, "opacity", 1.0), 0.0), 1.0),
                          visible=node.get("visibility", "visible") != "hidden", blend=op,
                          isolation="isolate" if node.get("isolation") == "isolate" else "auto", id=group_id)
            todo.append((iter(node), node_x, node_y, groups + (group,)))
        elif node.tag == "layer":
            if len(info.layers) >= MAX_LAYERS:
                raise ProjectError(f"{path.name} has more than {MAX_LAYERS:,} layers, more than Atelier opens; "
                                   "merge some in Krita or GIMP first")
            layer_id = node.get(attr("id")) or new_layer_id()
            if layer_id in layer_ids:  # a copied file can repeat ids: keep them unique
                layer_id = new_layer_id()
            layer_ids.add(layer_id)
            extra = tuple((key, value) for key, value in node.attrib.items()
                          if key not in _LAYER_ATTRIBUTES and key not in _OURS)
            info.layers.append(LayerEntry(
                name=node.get("name") or f"Layer {len(info.layers) + 1}", src=node.get("src", ""),
                x=node_x, y=node_y, visible=node.get("visibility", "visible") != "hidden",
                opacity=_float(node, "opacity", 1.0), blend=op, parameters=node.get(attr("parameters"), ""),
                id=layer_id, selected=node.get("selected") == "true", groups=groups, extra_attributes=extra))
        else:
            skipped[node.tag.rpartition("}")[2][:40]] += 1
    for tag, count in sorted(skipped.items()):
        info.notes.append(f"{count} <{tag}> element{'s' if count != 1 else ''} (another program's special layers) "
                          "cannot be kept: saving over this file would drop them; use Save As to keep the original")
    if unknown_ops:
        info.notes.append(f"blend mode{'s' if len(unknown_ops) != 1 else ''} {', '.join(sorted(unknown_ops))} "
                          "shown as Normal here; kept as they are when saved")
    return info


def png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's first 24 bytes (its IHDR), or None when it is not a PNG."""
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def document_pixel_budget() -> int:
    """Pixels all layers together may hold: a layer costs 4 bytes a pixel, plus undo and display copies."""
    return pixel_limit() * BYTES_PER_PIXEL // 8


def check_budget(archive: zipfile.ZipFile, stack: StackInfo, path: Path) -> None:
    """Refuse, from the PNG headers alone, a document whose layers together would not fit in memory
    (100 layers that all point at one large PNG are 100 large layers)."""
    budget, total, sizes = document_pixel_budget(), 0, {}
    for entry in stack.layers:
        if entry.src not in sizes:
            try:
                with archive.open(entry.src) as member:
                    sizes[entry.src] = png_size(member.read(24))
            except KeyError:
                raise ProjectError(f"layer {entry.name!r} of {path.name} is missing from the file ({entry.src!r}); "
                                   "the project is damaged") from None
        size = sizes[entry.src]
        if size is None:
            continue  # not a PNG: the decoder says what it is when the layer is read
        total += size[0] * size[1]
        if total > budget:
            raise ProjectError(
                f"{path.name}'s layers together hold more than {budget / 1e6:,.0f} megapixels, more than this "
                f"machine's free memory can edit ({len(stack.layers)} layers); close other programs, or split "
                "the project in Krita or GIMP")
