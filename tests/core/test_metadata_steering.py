"""Control layers, references and regions in the metadata: Atelier's record, and A1111's `ControlNet N` lines."""

from desktop.core.metadata import a1111, atelier
from desktop.core.metadata.writer import generation_texts
from desktop.core.params import GenerationParams
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec

PARAMS = GenerationParams(
    prompt="a (red:1.2) fox BREAK snow", model="sd15", seed=9,
    controls=(ControlSpec("canny", "control_v11p_sd15_canny", 0.8, 0.1, 0.9, layer="sketch"),
              ControlSpec("depth", "control_v11f1p_sd15_depth", 1.0, preprocess=False, layer="depth map")),
    references=(ReferenceSpec("ip-adapter_sd15", 0.6, "style", layer="photo"),),
    regions=(RegionSpec("a sleeping cat", layer="left"),))

A1111_SAMPLE = (
    "a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512, "
    'Model: v1-5, ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1, '
    "Resize Mode: Crop and Resize, Low Vram: False, Processor Res: 512, Threshold A: 100, Threshold B: 200, "
    'Guidance Start: 0, Guidance End: 1, Pixel Perfect: False, Control Mode: Balanced, Save Detected Map: True", '
    'ControlNet 1: "Module: openpose_full, Model: control_v11p_sd15_openpose [cab727d4], Weight: 0.65, '
    'Guidance Start: 0.1, Guidance End: 0.8", ControlNet 2: "Module: ip-adapter_clip_sd15, '
    'Model: ip-adapter_sd15 [6a3f6166], Weight: 0.7, Guidance Start: 0, Guidance End: 1", '
    'ControlNet 3: "Module: none, Model: None, Weight: 1", Version: v1.10.1')


def test_atelier_record_keeps_every_control_reference_and_region_exactly():
    texts = generation_texts(PARAMS, model_name="sd15")
    info = atelier.parse(texts.record)
    assert info.to_params() == PARAMS
    assert info.extra["controls"][0]["layer"] == "sketch" and info.extra["regions"][0]["prompt"] == "a sleeping cat"
    assert texts.parameters.startswith("a (red:1.2) fox BREAK snow\n")  # the prompt as typed


def test_a1111_text_has_controlnet_lines_in_a1111s_format():
    text = a1111.format_parameters(PARAMS, model_name="sd15")
    assert ('ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny, Weight: 0.8, Resize Mode: Crop and '
            'Resize, Processor Res: 512, Guidance Start: 0.1, Guidance End: 0.9, Pixel Perfect: False, '
            'Control Mode: Balanced"') in text
    assert 'ControlNet 1: "Module: none, Model: control_v11f1p_sd15_depth, Weight: 1,' in text
    assert 'ControlNet 2: "Module: ip-adapter-auto, Model: ip-adapter_sd15, Weight: 0.6,' in text
    assert text.splitlines()[-1].split(", ")[-1].startswith("Version: Atelier")
    back = a1111.parse(text).to_params()
    assert [(c.type, c.model, c.weight, c.start, c.end, c.preprocess) for c in back.controls] == [
        ("canny", "control_v11p_sd15_canny", 0.8, 0.1, 0.9, True), ("depth", "control_v11f1p_sd15_depth", 1.0, 0.0,
                                                                   1.0, False)]
    assert [(r.model, r.weight) for r in back.references] == [("ip-adapter_sd15", 0.6)]


def test_a1111s_own_controlnet_lines_read_as_specs():
    info = a1111.parse(A1111_SAMPLE)
    params, dropped = info.adapt()
    assert params.controls == (ControlSpec("canny", "control_v11p_sd15_canny", 1.0, 0.0, 1.0),
                               ControlSpec("pose", "control_v11p_sd15_openpose", 0.65, 0.1, 0.8))
    assert params.references == (ReferenceSpec("ip-adapter_sd15", 0.7),)
    assert params.scheduler == "DPM++ 2M Karras" and not dropped


def test_hostile_controlnet_values_never_raise():
    text = ('x\nSteps: 2, Seed: 1, CFG scale: 5, ControlNet 0: "Module: canny, Model: c, Weight: 9, Guidance '
            'Start: 0.9, Guidance End: 0.1", ControlNet 1: "garbage", ControlNet 2: "Module: laser, Model: beam"')
    params, dropped = a1111.parse(text).adapt()
    assert params.controls == () and len(dropped) == 2
