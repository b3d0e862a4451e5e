"""Defect bursts: p-chart limits by hand, exact tests, a crafted MES burst, seeded properties."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from factory_agents.catalog.quality import defect_burst as db
from factory_agents.catalog.quality.defect_burst import BaselineRate, BucketCount, Inspection

REF_START = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
REF_END = REF_START + timedelta(days=1)
HOUR = timedelta(hours=1)
# failed results of 100 per monitored lot L01..L09, inspected one lot an hour from REF_END
FAILED_PER_LOT = [2, 1, 3, 2, 15, 18, 12, 2, 1]
QUANTITY = 6_000.0
EXACT_P0 = BaselineRate(inspected=10**9, defective=2 * 10**7, start=None, end=None)  # p0 = 2 %


def result(lot: str | None, order: str, at: datetime, passed: bool) -> Inspection:
    """One fill-weight check."""
    value = 500.0 if passed else 504.0
    return Inspection(lot, order, "fill weight", value, 497.0, 503.0, passed, at)


def reference_day() -> list[Inspection]:
    """1,000 results over the reference day, every 50th failed: p0 = 20 / 1,000 = 2 %."""
    step = timedelta(days=1) / 1000
    return [
        result(f"R{i // 100:02d}", "WO-24001", REF_START + i * step, passed=i % 50 != 49)
        for i in range(1000)
    ]


def monitored_lots() -> list[Inspection]:
    """Lots L01..L09, 100 results each within their hour; 10 results without a lot in hour 6."""
    out: list[Inspection] = []
    for k, failed in enumerate(FAILED_PER_LOT):
        start = REF_END + k * HOUR
        out += [
            result(
                f"L{k + 1:02d}", f"WO-{24002 + k}", start + i * timedelta(seconds=30), i >= failed
            )
            for i in range(100)
        ]
    hour6 = REF_END + 5 * HOUR + timedelta(minutes=50)
    out += [result(None, "WO-24099", hour6 + i * timedelta(seconds=20), i >= 3) for i in range(10)]
    return out


def produced_lots() -> list[db.ProducedLot]:
    """Each inspected lot produced in its inspection hour; L10 produced during the burst."""
    lots = [
        db.ProducedLot(f"L{k + 1:02d}", f"WO-{24002 + k}", QUANTITY, start, start + HOUR)
        for k in range(len(FAILED_PER_LOT))
        for start in [REF_END + k * HOUR]
    ]
    l10_start = REF_END + 6 * HOUR
    return [
        *lots,
        db.ProducedLot("L10", "WO-24011", QUANTITY, l10_start, l10_start + 45 * (HOUR / 60)),
    ]


def crafted(**kwargs: Any) -> db.DefectBurstReport:
    """The crafted MES history judged with lot buckets unless told otherwise."""
    return db.detect_defect_burst(
        reference_day() + monitored_lots(),
        reference_start=REF_START,
        reference_end=REF_END,
        produced_lots=produced_lots(),
        detection_probability=0.9,
        **kwargs,
    )


def test_p_chart_limits_by_hand() -> None:
    # p0 = 0.10, n = 100: sigma = sqrt(0.1 x 0.9 / 100) = 0.03, limits 0.10 ± 0.09
    assert db.p_chart_limits(0.10, 100) == pytest.approx((0.01, 0.19))
    # n = 25: sigma = 0.06, 0.10 - 0.18 < 0 so the lower limit is 0; upper 0.28
    assert db.p_chart_limits(0.10, 25) == pytest.approx((0.0, 0.28))


def test_p_chart_limits_of_montgomerys_orange_juice_cans() -> None:
    # Montgomery, Introduction to Statistical Quality Control, Example 7.1: 30 samples of
    # n = 50 cans, 347 nonconforming: p-bar = 0.2313, UCL = 0.4102, LCL = 0.0524
    lcl, ucl = db.p_chart_limits(347 / 1500, 50)
    assert (round(lcl, 4), round(ucl, 4)) == (0.0524, 0.4102)


def test_exact_upper_tail_against_scipys_example_and_by_hand() -> None:
    # scipy.stats.binomtest documentation: 3 unsafe cars of 15 against a claimed 10 %,
    # alternative "greater": p = 0.18406106910639114
    p = db.exact_upper_tail(3, 15, 0.1)
    assert p == pytest.approx(0.18406106910639114, rel=1e-12)
    by_hand = 1 - sum(math.comb(15, k) * 0.1**k * 0.9 ** (15 - k) for k in range(3))
    assert p == pytest.approx(by_hand, rel=1e-12)


def bucket(i: int, inspected: int, defective: int) -> BucketCount:
    """Bucket L<i> an hour after the last one."""
    start = REF_END + i * HOUR
    return BucketCount(f"L{i:03d}", start, start + 50 * (HOUR / 60), inspected, defective)


@pytest.mark.parametrize(
    ("p0", "inspected", "defective", "signals"),
    [
        (0.02, 1, 1, False),  # z = 7, but P(X >= 1) = 0.02: one result cannot signal
        (0.02, 2, 2, True),  # P = 0.0004 <= 0.00135
        (0.10, 2, 2, False),  # z = 6.3, but P = 0.01
        (0.10, 3, 3, True),  # P = 0.001
    ],
)
def test_tiny_buckets_signal_only_on_the_exact_tail(
    p0: float, inspected: int, defective: int, signals: bool
) -> None:
    baseline = BaselineRate(10**9, round(p0 * 10**9), None, None)
    clean = [bucket(i, 100, round(100 * p0)) for i in range(6)]
    finding = db.find_burst([*clean, bucket(6, inspected, defective)], baseline)
    last = finding.buckets[-1]
    assert last.z > 3
    assert last.tail_p == pytest.approx(p0**inspected)
    assert last.signal is signals


def test_the_crafted_burst_and_its_lots() -> None:
    report = crafted()
    assert report.status == "burst"
    assert report.baseline.proportion == pytest.approx(0.02)
    burst = report.burst
    assert burst is not None
    assert (burst.first_bucket, burst.last_bucket) == ("L05", "L07")
    assert burst.start == REF_END + 4 * HOUR  # first result of L05
    assert burst.end == REF_END + 6 * HOUR + 99 * timedelta(seconds=30)  # last result of L07
    assert burst.previous_result_at == REF_END + 3 * HOUR + 99 * timedelta(seconds=30)  # L04
    assert not burst.ongoing
    assert (burst.defective, burst.inspected) == (15 + 18 + 3 + 12, 100 + 100 + 10 + 100)
    assert burst.proportion_low < burst.proportion < burst.proportion_high
    assert "L07" in burst.trigger  # the latest bucket beyond its limit
    held = {(lot.lot, lot.work_order): lot for lot in report.affected_lots}
    assert set(held) == {
        ("L05", "WO-24006"),
        ("L06", "WO-24007"),
        ("L07", "WO-24008"),
        ("L10", "WO-24011"),
        (None, "WO-24099"),
    }
    assert "not inspected yet" in held["L10", "WO-24011"].reasons[0]
    assert held["L10", "WO-24011"].inspected == 0
    assert "15 of 100 results failed" in held["L05", "WO-24006"].reasons[0]
    assert "no lot number" in held[None, "WO-24099"].reasons[0]
    assert held[None, "WO-24099"].expected_escapes is None  # no quantity known


def test_expected_escapes_are_quantity_times_burst_rate_times_miss_rate() -> None:
    report = crafted()
    rate = 48 / 310  # failed / results in the burst
    per_lot = QUANTITY * rate * (1 - 0.9)
    lot = next(lot for lot in report.affected_lots if lot.lot == "L06")
    assert lot.expected_defective == pytest.approx(QUANTITY * rate)
    assert lot.expected_escapes == pytest.approx(per_lot)
    assert lot.excess_escapes == pytest.approx(QUANTITY * (rate - 0.02) * 0.1)
    assert report.expected_escapes == pytest.approx(4 * per_lot)  # L05, L06, L07, L10
    assert report.expected_escapes_low < report.expected_escapes
    assert any("no production record" in note for note in report.notes)
    assert f"{4 * per_lot:,.1f}" in report.conclusion


def test_time_buckets_find_the_same_burst_hours() -> None:
    report = crafted(bucketing="time", bucket_width=HOUR)
    burst = report.burst
    assert burst is not None
    assert (burst.first_bucket, burst.last_bucket) == ("2025-01-07 10:00", "2025-01-07 12:00")
    assert {lot.lot for lot in report.affected_lots} == {"L05", "L06", "L07", "L10", None}


def test_an_ongoing_burst_holds_lots_produced_up_to_now() -> None:
    history = [i for i in reference_day() + monitored_lots() if i.at < REF_END + 6 * HOUR]
    report = db.detect_defect_burst(
        history,
        reference_start=REF_START,
        reference_end=REF_END,
        produced_lots=produced_lots(),
        as_of=REF_END + 7 * HOUR,
    )
    burst = report.burst
    assert burst is not None and burst.ongoing
    assert burst.first_bucket == "L05"
    assert {lot.lot for lot in report.affected_lots} >= {"L05", "L06", "L07", "L10"}
    assert "ongoing" in report.conclusion


def test_a_clean_history_has_no_burst() -> None:
    clean = [
        result(i.lot, i.work_order, i.at, passed=not (i.lot == "L01" and i.value > 503))
        for i in monitored_lots()
    ]
    report = db.detect_defect_burst(
        reference_day() + clean, reference_start=REF_START, reference_end=REF_END
    )
    assert report.status == "no_burst"
    assert report.burst is None and report.affected_lots == ()
    assert "No abnormal defect rate" in report.conclusion


def test_a_thin_baseline_is_not_judged_against() -> None:
    reference = [
        result("R", "WO-1", REF_START + i * timedelta(minutes=5), i >= 4) for i in range(200)
    ]
    report = db.detect_defect_burst(
        reference + monitored_lots(), reference_start=REF_START, reference_end=REF_END
    )
    assert report.status == "insufficient_baseline"
    assert report.burst is None
    assert any("at least 5 failed" in note for note in report.notes)


def test_a_sustained_moderate_rise_is_found_by_the_window_test() -> None:
    # 5 % instead of 2 % in each of the last five lots: z = 2.1 per lot, never beyond 3,
    # but 25 failed of 500 against 10 expected is p ~ 1e-4 by the exact test
    buckets = [bucket(i, 100, 2) for i in range(20)] + [bucket(i, 100, 5) for i in range(20, 25)]
    finding = db.find_burst(buckets, EXACT_P0)
    assert not any(b.signal for b in finding.buckets)
    assert finding.window is not None and finding.window.signal
    assert finding.window.p_value == pytest.approx(db.exact_upper_tail(25, 500, 0.02))
    assert finding.burst is not None
    assert (finding.burst.first_bucket, finding.burst.last_bucket) == ("L020", "L024")
    assert "last 5 buckets" in finding.burst.trigger


def test_an_inserted_burst_is_found_from_its_first_lot() -> None:
    # lots of 200 results at 2 %; lots 20 to 27 at 10 %
    right_start = right_end = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        failed = rng.binomial(200, 0.02, size=40)
        failed[20:28] = rng.binomial(200, 0.10, size=8)
        finding = db.find_burst([bucket(i, 200, int(d)) for i, d in enumerate(failed)], EXACT_P0)
        assert finding.status == "burst"
        assert finding.burst is not None
        right_start += finding.burst.first_bucket == "L020"
        right_end += finding.burst.last_bucket == "L027"
    assert right_start >= 95
    assert right_end >= 90


def test_clean_seeded_data_alarm_at_the_stated_rate() -> None:
    # 30 lots of 200 results at a stable 2 %: each analysis may false-alarm with a probability
    # between the exact chance that some bucket signals and the stated union bound
    runs, alarms = 2000, 0
    bucket_only = stated = 0.0
    for seed in range(runs):
        failed = np.random.default_rng(seed).binomial(200, 0.02, size=30)
        finding = db.find_burst([bucket(i, 200, int(d)) for i, d in enumerate(failed)], EXACT_P0)
        alarms += finding.status == "burst"
        stated += finding.false_alarm_probability
        bucket_only += 1 - math.prod(1 - b.size for b in finding.buckets)
    assert 0.0 < bucket_only / runs < stated / runs < 0.05  # about 2.3 % and 2.4 %
    assert bucket_only - 3 * math.sqrt(bucket_only) <= alarms <= stated + 3 * math.sqrt(stated)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Inspection("L1", "WO", "x", 1.0, 0.0, 2.0, True, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="cannot have more defectives"):
        BucketCount("b", REF_END, REF_END, 3, 4)
    with pytest.raises(ValueError, match="detection_probability"):
        db.detect_defect_burst(
            [], reference_start=REF_START, reference_end=REF_END, detection_probability=1.5
        )
    with pytest.raises(ValueError, match="bucket_width"):
        db.detect_defect_burst(
            [], reference_start=REF_START, reference_end=REF_END, bucketing="time"
        )
