"""A proposal's content hash: what engineers sign, stable for proposals signed before."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0, build_proposal

SIGNED_BEFORE_MEASURE_UNTIL = "62324c5c7d4d086ff82fcff704bcdf8a671702aa52e40903efe78ddb740613ef"
"""The hash of build_proposal() before proposals could carry their own end of measuring."""


def test_a_proposal_without_its_own_window_keeps_the_hash_it_was_signed_with() -> None:
    assert build_proposal().content_hash() == SIGNED_BEFORE_MEASURE_UNTIL


def test_the_end_of_measuring_is_part_of_what_is_signed() -> None:
    one = build_proposal(measure_until=T0 + timedelta(hours=1)).content_hash()
    two = build_proposal(measure_until=T0 + timedelta(hours=2)).content_hash()
    assert len({one, two, SIGNED_BEFORE_MEASURE_UNTIL}) == 3
