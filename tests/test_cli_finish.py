"""`generate --fast` keeps a TAESD draft's latents; `finish DRAFT.png` decodes them with the model's full VAE.

The final equals `generate` of the same job with the full VAE (same seed and steps): the latents are the draft's.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from desktop.core.draft import latents_path
from main import main
from tiny_checkpoints import refuse_network


def test_generate_fast_then_finish_gives_the_full_vae_image(app_paths, tiny_sd15, tiny_taesd, monkeypatch,
                                                             tmp_path, capsys):
    refuse_network(monkeypatch)
    shutil.copytree(tiny_taesd, app_paths.models_dir / "taesd" / "taesd")
    common = ["--model", str(tiny_sd15), "--prompt", "a fox", "--width", "64", "--height", "64", "--seed", "5",
              "--steps", "2"]
    draft = tmp_path / "draft.png"
    assert main(["generate", *common, "--fast", "--out", str(draft)]) == 0
    assert "finish" in capsys.readouterr().err and latents_path(draft).is_file()
    assert main(["finish", str(draft)]) == 0
    final = tmp_path / "draft-final.png"
    assert f"Wrote {final}" in capsys.readouterr().out
    full = tmp_path / "full.png"
    assert main(["generate", *common, "--out", str(full)]) == 0  # Fast mode off: the model's own VAE
    pixels = [np.asarray(Image.open(p).convert("RGB"), dtype=int) for p in (final, full, draft)]
    assert np.abs(pixels[0] - pixels[1]).max() <= 1 and np.abs(pixels[0] - pixels[2]).mean() > 5
    text = Image.open(final).text["parameters"]
    assert "Finished from: draft.png" in text and "VAE: taesd" not in text and "Seed: 5" in text


@pytest.mark.parametrize("case, expected", [
    ("no latents", "has no saved latents"),
    ("changed", "was changed since it was made"),
    ("missing", "is gone from"),
])
def test_finish_refuses_what_it_cannot_finish_with_one_line(tmp_path, capsys, case, expected, app_paths):
    draft = tmp_path / "draft.png"
    if case != "missing":
        Image.new("RGB", (64, 64)).save(draft)
    if case == "changed":  # latents whose header names another picture
        header = b'{"__metadata__":{"format":"atelier-draft-latents/1","image_sha256":"00","params":"{}"}}'
        latents_path(draft).write_bytes(len(header).to_bytes(8, "little") + header)
    assert main(["finish", str(draft)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("atelier finish: ") and expected in err[0]
