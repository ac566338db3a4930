"""OpenRaster files written the way Krita, GIMP and MyPaint write them (their element and attribute
habits, member names and zip layout), for the tests that read, draw and save them back."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 8, 4
WHITE, GREY, RED, BLUE = (255, 255, 255, 255), (128, 128, 128, 255), (200, 40, 40, 255), (30, 60, 220, 255)


def solid(color, width: int = W, height: int = H) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 4), color, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_ora(path: Path, stack_xml: bytes, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")  # first, stored
        archive.writestr("stack.xml", stack_xml)
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("mergedimage.png", solid(WHITE))
        archive.writestr("Thumbnails/thumbnail.png", solid(WHITE))
    return path


def gimp_file(path: Path) -> Path:
    """GIMP's plug-in: a bare root <stack>, groups without isolation, `data/NNN-NNN.png` inside groups,
    written by ElementTree.tostring (single-quoted declaration), every member stored."""
    image = ElementTree.Element("image", {"w": str(W), "h": str(H)})
    stack = ElementTree.SubElement(image, "stack")
    group = ElementTree.SubElement(stack, "stack", {"name": "Shade", "opacity": "0.5", "visibility": "visible",
                                                    "composite-op": "svg:src-over"})
    ElementTree.SubElement(group, "layer", {"src": "data/000-000.png", "name": "blue", "x": "0", "y": "0",
                                            "opacity": "1.0", "visibility": "visible",
                                            "composite-op": "svg:src-over"})
    for number, (name, op) in enumerate((("grey", "svg:multiply"), ("Background", "svg:src-over")), start=1):
        ElementTree.SubElement(stack, "layer", {"src": f"data/{number:03d}.png", "name": name, "x": "0", "y": "0",
                                                "opacity": "1.0", "visibility": "visible", "composite-op": op})
    xml = ElementTree.tostring(image, encoding="UTF-8")
    return write_ora(path, xml, {"data/000-000.png": solid(BLUE), "data/001.png": solid(GREY),
                                 "data/002.png": solid(RED)})


def krita_file(path: Path) -> Path:
    """Krita: version 0.0.1 with resolution, the root group as a named <stack isolation="isolate">,
    pass-through groups as isolation="auto", `selected` and `edit-locked` on layers, Krita's own
    blend modes as `krita:...`, and a <filter> element for an adjustment layer."""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<image version="0.0.1" w="{W}" h="{H}" xres="72" yres="72">
 <stack name="root" opacity="1" visibility="visible" composite-op="svg:src-over" isolation="isolate">
  <filter name="Levels" opacity="1" visibility="visible" composite-op="svg:src-over" type="applications:krita:levels"/>
  <stack name="Pass" opacity="1" visibility="visible" composite-op="svg:src-over" isolation="auto">
   <layer name="tint" opacity="1" visibility="visible" composite-op="svg:multiply" src="data/layer2.png"
          edit-locked="true" selected="true"/>
  </stack>
  <stack name="Glow" opacity="1" visibility="visible" composite-op="svg:screen" isolation="isolate">
   <layer name="blue" opacity="0.5" visibility="visible" composite-op="svg:src-over" src="data/layer3.png"/>
   <layer name="burn" opacity="1" visibility="hidden" composite-op="krita:linear_burn" src="data/layer4.png"/>
  </stack>
  <layer name="Background" opacity="1" visibility="visible" composite-op="svg:src-over" src="data/layer1.png"/>
 </stack>
</image>""".encode()
    return write_ora(path, xml, {"data/layer1.png": solid(RED), "data/layer2.png": solid(GREY),
                                 "data/layer3.png": solid(BLUE), "data/layer4.png": solid(GREY)},
                     compression=zipfile.ZIP_DEFLATED)


def mypaint_file(path: Path) -> Path:
    """MyPaint: version 0.0.5, layers offset inside an offset group, `mypaint:` attributes in its own namespace."""
    xml = f"""<?xml version='1.0' encoding='UTF-8'?>
<image h="{H}" w="{W}" version="0.0.5" xres="72" yres="72" xmlns:mypaint="http://mypaint.org/ns/openraster">
 <stack>
  <stack composite-op="svg:darken" isolation="isolate" name="Ink group" opacity="1.0" visibility="visible" x="2" y="1">
   <layer composite-op="svg:src-over" mypaint:bumpself="true" name="ink" opacity="1.0" src="data/layer001.png"
          visibility="visible" x="1" y="0"/>
  </stack>
  <layer composite-op="svg:src-over" name="paper" opacity="1.0" src="data/layer000.png" visibility="visible"
         x="0" y="0"/>
 </stack>
</image>""".encode()
    return write_ora(path, xml, {"data/layer000.png": solid(WHITE), "data/layer001.png": solid(BLUE, 2, 2)},
                     compression=zipfile.ZIP_DEFLATED)
