"""Hostile .ora files: each ends in one ProjectError saying what, fast and within a small memory budget."""

from __future__ import annotations

import tracemalloc
import zipfile

import pytest
from ora_samples import solid

from desktop.core.openraster import load_ora
from desktop.core.ora_stack import MAX_DEPTH, MAX_LAYERS, ProjectError


def _ora(path, stack_xml: bytes, members: dict[str, bytes] | None = None) -> object:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        archive.writestr("stack.xml", stack_xml)
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return path


def _peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_groups_nested_thousands_deep_are_refused_without_a_recursion_error(tmp_path):
    depth = 50_000
    xml = b"<image w='4' h='4'><stack>" + b"<stack>" * depth + b"<layer src='a.png'/>" + b"</stack>" * depth + \
        b"</stack></image>"
    path = _ora(tmp_path / "deep.ora", xml, {"a.png": solid((0, 0, 0, 255), 4, 4)})
    with pytest.raises(ProjectError, match=f"nests groups more than {MAX_DEPTH} deep"):
        load_ora(path)


def test_a_normal_depth_of_groups_opens(tmp_path):
    xml = b"<image w='4' h='4'><stack>" + b"<stack>" * MAX_DEPTH + b"<layer src='a.png'/>" + \
        b"</stack>" * MAX_DEPTH + b"</stack></image>"
    document = load_ora(_ora(tmp_path / "ok.ora", xml, {"a.png": solid((0, 0, 0, 255), 4, 4)}))
    assert len(document.layers[0].groups) == MAX_DEPTH


def test_thousands_of_layers_are_refused_and_a_thousand_open(tmp_path):
    png = {"a.png": solid((9, 9, 9, 255), 1, 1)}
    many = b"<image w='4' h='4'><stack>" + b"<layer src='a.png'/>" * 20_000 + b"</stack></image>"
    with pytest.raises(ProjectError, match=f"more than {MAX_LAYERS:,} layers"):
        load_ora(_ora(tmp_path / "many.ora", many, png))
    allowed = b"<image w='4' h='4'><stack>" + b"<layer src='a.png' atelier:id='same' " \
        b"xmlns:atelier='https://github.com/atelier-app/atelier/ora'/>" * MAX_LAYERS + b"</stack></image>"
    document = load_ora(_ora(tmp_path / "thousand.ora", allowed, png))
    assert len(document.layers) == MAX_LAYERS and len({layer.id for layer in document.layers}) == MAX_LAYERS


def test_a_huge_mimetype_is_not_read_into_memory(tmp_path):
    path = tmp_path / "mimetype.ora"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("mimetype", "w", force_zip64=True) as member:
            for _ in range(16):  # 64 MB
                member.write(b"image/openraster" + b" " * (4 * 1024 * 1024))
        archive.writestr("stack.xml", b"<image w='4' h='4'><stack/></image>")
    assert _peak_bytes(lambda: pytest.raises(ProjectError, load_ora, path)) < 8 * 1024 * 1024  # not 64 MB
    with pytest.raises(ProjectError, match="mimetype in mimetype.ora is larger than any real project"):
        load_ora(path)


def test_a_member_that_lies_about_its_size_is_read_only_as_far_as_the_limit(tmp_path):
    """stack.xml claims 40 bytes but inflates to 64 MB: the reader stops at the claim and the CRC fails."""
    path = tmp_path / "lying.ora"
    big = b"<image w='4' h='4'><stack/></image>" + b" " * (64 * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster")
        archive.writestr("stack.xml", big)
    data = bytearray(path.read_bytes())
    size = len(big).to_bytes(4, "little")
    for at in [i for i in range(len(data) - 3) if data[i:i + 4] == size]:  # local header and central directory
        data[at:at + 4] = (40).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    peak = _peak_bytes(lambda: pytest.raises(ProjectError, load_ora, path))
    assert peak < 8 * 1024 * 1024  # not the 64 MB it inflates to
    with pytest.raises(ProjectError, match="damaged"):
        load_ora(path)


def test_many_layers_pointing_at_one_large_png_are_refused_before_decoding(tmp_path):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buffer, format="PNG")  # 64 megapixels, a few hundred KB of zeros
    xml = b"<image w='64' h='64'><stack>" + b"<layer src='big.png'/>" * 100 + b"</stack></image>"
    path = _ora(tmp_path / "alias.ora", xml, {"big.png": buffer.getvalue()})
    peak = _peak_bytes(lambda: pytest.raises(ProjectError, load_ora, path))
    assert peak < 32 * 1024 * 1024  # a single decoded layer would be 256 MB
    with pytest.raises(ProjectError, match="layers together hold more than"):
        load_ora(path)
