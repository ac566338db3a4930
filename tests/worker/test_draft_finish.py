"""Finish with Full VAE on the real lane: a Fast mode (TAESD) draft's own latents, decoded by the model's VAE.

The proof that the saved latents are the draft's: the final equals, pixel for pixel within float noise, the
image the same job (same seed, steps, recipe) makes when it decodes with the full VAE from the start.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image

from desktop.core.draft import FINISHED_KEY, FinishJob, draft_info, latents_path
from desktop.core.messages import Failed, GenerateJob, ImageResult, Loading, Progress
from desktop.core.models import LORA, TAESD, ModelEntry
from desktop.core.params import GenerationParams
from test_lane import Recorder, wait_terminal, worker  # noqa: F401 - the lane fixture
from tiny_checkpoints import write_lora


def _result(recorder, job_id) -> ImageResult:
    [result] = [m for m in recorder.of(job_id) if isinstance(m, ImageResult)]
    return result


def _pixels(result: ImageResult) -> np.ndarray:
    return np.asarray(result.image.to_pil(), dtype=np.int16)


def test_finishing_a_fast_draft_gives_the_full_vae_image_of_the_same_job(qtbot, worker, tiny_sd15,  # noqa: F811
                                                                         tiny_taesd, tmp_path):
    lora = write_lora(tiny_sd15, tmp_path / "lcm-lora-sdv1-5.safetensors")
    addons = (ModelEntry("lcm-lora-sdv1-5", str(lora), LORA), ModelEntry("taesd", str(tiny_taesd), TAESD))
    params = GenerationParams(prompt="a lighthouse", width=64, height=64, steps=25, seed=11, fast_mode=True)
    recorder = Recorder(worker)
    draft_id = worker.submit(GenerateJob(params, str(tiny_sd15), addons=addons))
    wait_terminal(qtbot, recorder, draft_id)
    draft = _result(recorder, draft_id)
    assert draft.params.vae == "taesd" and latents_path(draft.path).is_file()
    info = draft_info(draft.path)
    assert (info.model_name, info.params) == ("tiny-sd15", draft.params)

    finish_id = worker.submit(FinishJob(draft.path, info.params))
    # the same job decoded with the full VAE from the start: what the final must be
    full_id = worker.submit(GenerateJob(draft.params.replace(vae=""), str(tiny_sd15), addons=addons))
    wait_terminal(qtbot, recorder, full_id)
    final, full = _result(recorder, finish_id), _result(recorder, full_id)
    steps = [(m.step, m.total) for m in recorder.of(finish_id) if isinstance(m, Progress)]
    assert [s for s, _ in steps] == list(range(steps[-1][1] + 1)) and steps[-1][1] >= 3  # block by block, to the end
    assert np.abs(_pixels(final) - _pixels(full)).max() <= 1
    assert np.abs(_pixels(final) - _pixels(draft)).mean() > 5  # TAESD's picture is another one: not a copy
    assert not latents_path(full.path).exists()  # a full-VAE image is no draft

    saved = Image.open(final.path)
    assert final.path != draft.path and np.abs(np.asarray(saved, np.int16) - _pixels(full)).max() <= 1
    text = saved.text["parameters"]
    assert f"{FINISHED_KEY}: {draft.path.rsplit('/', 1)[-1]}" in text and "VAE: taesd" not in text
    assert "Steps: 4, Sampler: LCM" in text  # the draft's recipe: no step ran again, and it says so
    record = json.loads(saved.text["atelier"])
    assert record["params"]["vae"] == "" and record["params"]["extra"][FINISHED_KEY] == draft.path.rsplit("/", 1)[-1]
    assert record["extra"]["finished_from"] == draft.path.rsplit("/", 1)[-1]
    assert record["extra"]["draft_sha256"] == info.image_sha256 and record["extra"]["decoder"] == "full VAE"


def test_a_finish_loads_the_drafts_model_and_refuses_a_changed_draft(qtbot, worker, tiny_sd15, tiny_taesd,  # noqa: F811
                                                                    tmp_path):
    addons = (ModelEntry("taesd", str(tiny_taesd), TAESD),)
    params = GenerationParams(prompt="dunes", width=64, height=64, steps=2, seed=5, vae="taesd")
    model = shutil.copytree(tiny_sd15, tmp_path / "models" / "dunes-model")
    recorder = Recorder(worker)
    draft_id = worker.submit(GenerateJob(params, str(model), addons=addons))
    wait_terminal(qtbot, recorder, draft_id)
    draft = _result(recorder, draft_id)
    worker.resources["image_engine"].unload()  # "another model loaded", or a fresh start of the app
    moved = model.rename(tmp_path / "models" / "moved-model")  # the user reorganised the models folder
    lost = worker.submit(FinishJob(draft.path, draft.params))
    wait_terminal(qtbot, recorder, lost)
    [failed] = recorder.terminal(lost)
    assert isinstance(failed, Failed) and "is no longer at" in failed.message
    finish_id = worker.submit(FinishJob(draft.path, draft.params, model_path=str(moved)))  # found by name, moved
    wait_terminal(qtbot, recorder, finish_id)
    assert any(isinstance(m, Loading) for m in recorder.of(finish_id)) and _result(recorder, finish_id).path

    Image.new("RGB", (64, 64), "red").save(draft.path)  # another picture under the draft's name
    changed = worker.submit(FinishJob(draft.path, draft.params))
    wait_terminal(qtbot, recorder, changed)
    [failed] = recorder.terminal(changed)
    assert isinstance(failed, Failed) and "was changed since it was made" in failed.message
    latents_path(draft.path).unlink()
    gone = worker.submit(FinishJob(draft.path, draft.params))
    wait_terminal(qtbot, recorder, gone)
    [failed] = recorder.terminal(gone)
    assert isinstance(failed, Failed) and "has no saved latents" in failed.message and "same seed" in failed.message
