"""What an .ora project holds, read without decoding a pixel: for `atelier info PROJECT.ora`.

The canvas size, every layer (size from its PNG header, place, visibility, opacity, blend mode,
groups) and, for a generated layer, how it was made (the A1111 text Atelier keeps on it). Read
with the same limits as opening the project, so a hostile file is refused the same way.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core import blending
from desktop.core.metadata import a1111
from desktop.core.ora_stack import MAX_STACK_BYTES, ProjectError, png_size, read_member, read_stack


@dataclass(frozen=True)
class LayerSummary:
    name: str
    width: int | None
    height: int | None
    x: int
    y: int
    visible: bool
    opacity: float
    blend: str
    groups: tuple[str, ...]
    generation: object | None  # GenerationInfo, for a generated layer


@dataclass(frozen=True)
class ProjectSummary:
    width: int
    height: int
    layers: tuple[LayerSummary, ...]  # top first, as stack.xml lists them
    notes: tuple[str, ...] = field(default=())

    def to_json_dict(self) -> dict:
        return {"format": "openraster", "width": self.width, "height": self.height, "notes": list(self.notes),
                "layers": [{"name": l.name, "width": l.width, "height": l.height, "x": l.x, "y": l.y,
                            "visible": l.visible, "opacity": round(l.opacity, 4), "blend": l.blend,
                            "groups": list(l.groups),
                            "generation": l.generation.to_json_dict() if l.generation is not None else None}
                           for l in self.layers]}


def is_project(path: Path) -> bool:
    """An OpenRaster file by its content: a zip whose first member is the mimetype (any name works)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head[:4] == b"PK\x03\x04" and b"mimetypeimage/openraster" in head


def summarize_project(path: str | Path) -> ProjectSummary:
    """Raises ProjectError saying what is wrong, as opening it would."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            stack = read_stack(read_member(archive, "stack.xml", MAX_STACK_BYTES, path), path)
            layers = []
            for entry in stack.layers:
                try:
                    with archive.open(entry.src) as member:
                        size = png_size(member.read(24))
                except KeyError:
                    size = None
                generation = a1111.parse(entry.parameters) if entry.parameters else None
                layers.append(LayerSummary(entry.name, *(size or (None, None)), entry.x, entry.y, entry.visible,
                                           entry.opacity, entry.blend, tuple(g.name for g in entry.groups),
                                           generation))
    except KeyError:
        raise ProjectError(f"{path.name} has no stack.xml, so it is not an OpenRaster project or it is damaged") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ProjectError(f"{path.name} is damaged or incomplete ({error})") from None
    return ProjectSummary(stack.width, stack.height, tuple(layers), tuple(stack.notes))


def describe(summary: ProjectSummary, name: str) -> list[str]:
    """The lines `atelier info` prints."""
    count = len(summary.layers)
    lines = [f"{name}: OpenRaster project, {summary.width}x{summary.height}, {count} layer{'s' * (count != 1)}"]
    for layer in summary.layers:
        place = [f"{layer.width}x{layer.height}" if layer.width else "size unknown", f"at {layer.x},{layer.y}"]
        if not layer.visible:
            place.append("hidden")
        if layer.opacity < 1:
            place.append(f"opacity {layer.opacity:.0%}")
        if layer.blend != blending.NORMAL:
            place.append(blending.label(layer.blend))
        if layer.groups:
            place.append("in " + " › ".join(layer.groups))
        lines.append(f"  layer {layer.name!r}: {', '.join(place)}")
        info = layer.generation
        if info is not None and info.found:
            lines.append(f"    prompt: {info.prompt}" if info.prompt else "    prompt: (empty)")
            if info.negative_prompt:
                lines.append(f"    negative prompt: {info.negative_prompt}")
            settings = [(label, value) for label, value in (
                ("seed", info.seed), ("steps", info.steps), ("CFG scale", info.cfg_scale), ("sampler", info.sampler),
                ("size", f"{info.width}x{info.height}" if info.width else None), ("model", info.model))
                if value is not None]
            if settings:
                lines.append("    " + "   ".join(f"{label}: {value:g}" if isinstance(value, float) else
                                                 f"{label}: {value}" for label, value in settings))
    lines.extend(f"  note: {note}" for note in summary.notes)
    return lines
