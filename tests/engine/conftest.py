"""Engines with the tiny models loaded once for the steering tests (loading is most of a tiny test's time)."""

import pytest


@pytest.fixture(scope="session")
def sd15_engine(tiny_sd15):
    from desktop.engine.pipeline import ImageEngine

    engine = ImageEngine()
    engine.load(tiny_sd15)
    return engine


@pytest.fixture(scope="session")
def sdxl_engine(tiny_sdxl):
    from desktop.engine.pipeline import ImageEngine

    engine = ImageEngine()
    engine.load(tiny_sdxl)
    return engine
