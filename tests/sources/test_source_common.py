"""The helpers every source shares: region fan-out outcome, time and text formats."""

from __future__ import annotations

import pytest

from arr_actors.sources.common import FanOut, rfc3339
from arr_actors.sources.errors import SourceError, shorten


def test_all_regions_failed_raises_the_first_failure_naming_where():
    outcome: FanOut[int] = FanOut({}, (("us-west2", TimeoutError("slow")), ("europe-west1", ValueError("x"))))
    with pytest.raises(SourceError) as caught:
        outcome.raise_if_all_failed(service="aiplatform", timeout_s=3.0)
    assert str(caught.value).startswith("Vertex AI did not answer within 3 s (us-west2, europe-west1);")


def test_one_region_answering_is_not_a_failure_but_a_warning():
    outcome = FanOut({"us-central1": 1}, (("us-west2", ValueError("boom " * 40)),))
    outcome.raise_if_all_failed(service="run", timeout_s=3.0)
    warning = outcome.warning(2)
    assert warning.startswith("1 of 2 regions failed: us-west2 (ValueError: boom boom")
    assert warning.endswith("...)") and len(warning) < 140


def test_rfc3339_is_utc_rounded_down_to_the_second():
    assert rfc3339(1_700_000_000.999) == "2023-11-14T22:13:20Z"


def test_shorten_makes_one_line_of_at_most_limit_characters():
    assert shorten("a\n  b") == "a b"
    assert shorten("x" * 20, 10) == "xxxxxxx..."
