from __future__ import annotations

import pytest

from edi_pipeline.maps import load_maps


@pytest.fixture(scope="session")
def maps():
    return load_maps()
