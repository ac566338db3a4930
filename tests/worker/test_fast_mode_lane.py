"""Fast mode through the real lane: the choice is said for the job, the recipe runs, the image records it."""

from __future__ import annotations

from desktop.core.fast_mode import FastModeChosen
from desktop.core.messages import GenerateJob, ImageResult, Progress
from desktop.core.models import LORA, TAESD, ModelEntry
from desktop.core.params import GenerationParams
from test_lane import Recorder, wait_terminal, worker  # noqa: F401 - the lane fixture
from tiny_checkpoints import write_lora


def test_a_fast_mode_job_says_what_it_chose_runs_it_and_records_it(qtbot, worker, tiny_sd15, tiny_taesd,  # noqa: F811
                                                                   tmp_path):
    lora = write_lora(tiny_sd15, tmp_path / "lcm-lora-sdv1-5.safetensors")
    addons = (ModelEntry("lcm-lora-sdv1-5", str(lora), LORA), ModelEntry("taesd", str(tiny_taesd), TAESD))
    params = GenerationParams(prompt="a lighthouse", width=64, height=64, steps=25, guidance=7.0, seed=7,
                              fast_mode=True)
    recorder = Recorder(worker)
    job_id = worker.submit(GenerateJob(params, str(tiny_sd15), addons=addons))
    wait_terminal(qtbot, recorder, job_id)
    messages = recorder.of(job_id)
    [said] = [m.text for m in messages if isinstance(m, FastModeChosen)]
    assert said.startswith("Fast mode: LCM-LoRA (lcm-lora-sdv1-5): LCM, 4 steps, guidance off")
    assert [m.step for m in messages if isinstance(m, Progress)] == [0, 1, 2, 3, 4]  # 4 steps, not 25
    [result] = [m for m in messages if isinstance(m, ImageResult)]
    ran = result.params
    assert (ran.steps, ran.scheduler, ran.guidance, ran.vae, ran.fast_recipe, ran.cache_interval) == \
        (4, "LCM", 1.0, "taesd", "lcm-lora", 2)
    assert ran.loras == (("lcm-lora-sdv1-5", 1.0),) and not ran.fast_mode
