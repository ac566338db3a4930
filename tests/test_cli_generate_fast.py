"""`generate --fast`: the few-step recipe for the model and the add-ons the user has, said and recorded."""

from __future__ import annotations

import json
import shutil

from PIL import Image

from main import main
from tiny_checkpoints import refuse_network, write_lora


def test_generate_fast_says_what_it_chose_runs_it_and_records_it(app_paths, tiny_sd15, tiny_taesd, monkeypatch,
                                                                  tmp_path, capsys):
    refuse_network(monkeypatch)
    write_lora(tiny_sd15, app_paths.models_dir / "loras" / "lcm-lora-sdv1-5.safetensors")
    shutil.copytree(tiny_taesd, app_paths.models_dir / "taesd" / "taesd")
    out = tmp_path / "fast.png"
    assert main(["generate", "--model", str(tiny_sd15), "--prompt", "a fox", "--width", "64", "--height", "64",
                 "--seed", "5", "--fast", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("Fast mode: LCM-LoRA (lcm-lora-sdv1-5): LCM, 4 steps, guidance off; deep features reused every 2nd "
            "step; TAESD decode (taesd)") in err
    assert "step 4/4" in err and "step 5/" not in err
    image = Image.open(out)
    text = image.text["parameters"]
    assert text.startswith("a fox <lora:lcm-lora-sdv1-5:1>\n")
    assert "Steps: 4, Sampler: LCM, CFG scale: 1," in text and "VAE: taesd" in text
    assert "Fast mode: LCM-LoRA" in text and "Feature cache: every 2 steps" in text
    record = next(json.loads(v) for k, v in image.text.items() if k != "parameters" and v.startswith("{"))
    params = record["params"]
    assert (params["fast_recipe"], params["cache_interval"], params["steps"]) == ("lcm-lora", 2, 4)
