"""What a ComfyUI server cannot run is refused before any upload, in one sentence (no request is made)."""

import pytest

from desktop.core.messages import GenerateJob, GrayImage, RgbaImage
from desktop.core.params import GenerationParams
from desktop.core.server_address import ServerAddress
from desktop.core.steering import ControlSpec, ReferenceSpec, RegionSpec
from desktop.remote.comfyui_connection import ComfyUIConnection, NotOnServer
from desktop.remote.comfyui_steering import model_free_picture, needs_local_model, refuse_unsupported

SERVER = ComfyUIConnection(ServerAddress.checked("http://127.0.0.1:9"))  # nothing listens: nothing may be asked
PARAMS = GenerationParams(prompt="x", width=64, height=64)
LAYER = RgbaImage(64, 64, bytes(64 * 64 * 4))
MASK = GrayImage(64, 64, bytes(64 * 64))


@pytest.mark.parametrize("steering, pixels, message", [
    (dict(references=(ReferenceSpec("ip-adapter_sd15"),)), dict(reference_images=(LAYER,)),
     "reference images (IP-Adapter) cannot be sent to the ComfyUI server at http://127.0.0.1:9"),
    (dict(controls=(ControlSpec("inpaint", "cn"),)), dict(control_images=(LAYER,)),
     "an inpaint control layer cannot be sent"),
    (dict(controls=(ControlSpec("canny", "cn"),), regions=(RegionSpec("a cat"),)), {},
     "the job names control layers and regional prompts but carries none of their pictures"),
    (dict(controls=(ControlSpec("canny", "cn"), ControlSpec("depth", "cn"))), dict(control_images=(LAYER,)),
     "the job has 2 control settings but 1 control images"),
])
def test_refused_with_one_sentence(steering, pixels, message):
    job = GenerateJob(PARAMS.replace(**steering), "m", **pixels)
    with pytest.raises(NotOnServer, match=message.replace("(", r"\(").replace(")", r"\)")):
        refuse_unsupported(SERVER, job)


def test_what_does_not_act_is_not_refused():
    quiet = PARAMS.replace(references=(ReferenceSpec("ip", enabled=False), ReferenceSpec("ip", weight=0.0)),
                           controls=(ControlSpec("inpaint", "cn", weight=0.0), ControlSpec("canny", "cn", enabled=False)),
                           regions=(RegionSpec("a cat", enabled=False),))
    refuse_unsupported(SERVER, GenerateJob(quiet, "m"))
    # an inpaint layer that already is the map goes as it is
    refuse_unsupported(SERVER, GenerateJob(PARAMS.replace(controls=(ControlSpec("inpaint", "cn", preprocess=False),)),
                                           "m", control_images=(LAYER,)))
    assert not needs_local_model(quiet)
    assert needs_local_model(PARAMS.replace(controls=(ControlSpec("pose", "cn"),)))
    assert not needs_local_model(PARAMS.replace(controls=(ControlSpec("pose", "cn", preprocess=False),)))


def test_without_the_engine_a_model_needing_type_says_so():
    import numpy as np

    with pytest.raises(NotOnServer, match="Depth from a picture needs a depth estimator model on this computer"):
        model_free_picture(ControlSpec("depth", "cn"), np.zeros((8, 8, 4), np.uint8), None)
    assert model_free_picture(ControlSpec("scribble", "cn"), np.zeros((8, 8, 4), np.uint8), None).rgb.shape == (8, 8, 3)
