"""ISO 22400-2 KPIs against worked examples and hand calculations."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from factory_agents import kpi

MINUTE = 60.0
HOUR = 3600.0
ONE_HOUR = timedelta(hours=1)


def nakajima_shift() -> kpi.LineElements:
    """Nakajima, Introduction to TPM (Productivity Press, 1988), pp. 22-28, worked example.

    480 min shift, 20 min planned downtime: loading time (PBT) 460 min; 60 min of failures,
    setup and adjustment: operation time (APT) 400 min; 400 units at an ideal cycle time
    (PRI) of 0.5 min; rate of quality products 98 % (392 good, 8 scrapped).
    """
    return kpi.LineElements(
        line="press", pbt=460 * MINUTE, apt=400 * MINUTE, pri=0.5 * MINUTE, pq=400, sq=8
    )


def test_oee_of_nakajimas_worked_example() -> None:
    kpis = kpi.LineKpis.of(nakajima_shift())
    availability, oee = kpis.availability, kpis.oee_index
    assert availability is not None and oee is not None
    # Nakajima's table: availability 87 %, performance efficiency 50 %, quality 98 %, OEE 42.6 %
    assert availability == pytest.approx(400 / 460)
    assert round(100 * availability) == 87
    assert kpis.effectiveness == pytest.approx(0.50)
    assert kpis.quality_ratio == pytest.approx(0.98)
    assert round(100 * oee, 1) == 42.6
    assert kpis.scrap_ratio == pytest.approx(8 / 400)


def test_the_three_factors_follow_the_iso_formulas() -> None:
    # OPC UA for Machine Tools v1.01, Annex C.2.4, quoting ISO 22400-2:2014:
    # Availability = APT / PBT, Effectiveness = PRI x PQ / APT, Quality rate = GQ / PQ
    assert kpi.availability(apt=7.2 * HOUR, pbt=8 * HOUR) == pytest.approx(0.9)
    assert kpi.effectiveness(pri=2.0, pq=12_312, apt=7.2 * HOUR) == pytest.approx(0.95)
    assert kpi.quality_ratio(gq=12_189, pq=12_312) == pytest.approx(0.99, abs=5e-5)
    assert kpi.oee_index(0.9, 0.95, 0.99) == pytest.approx(0.84645)


def test_first_pass_yield_counts_reworked_parts_as_not_good_first_time() -> None:
    # FPY = GP / IP (ISO 22400-2): 200 inspected, 5 reworked and 3 scrapped -> 192 good first time
    assert kpi.first_pass_yield(gp=192, ip=200) == pytest.approx(0.96)
    elements = kpi.LineElements(
        line="l1", pbt=HOUR, apt=HOUR, pri=10, pq=200, sq=3, rq=5, gp=192, ip=200
    )
    kpis = kpi.LineKpis.of(elements)
    assert elements.gq == 192
    assert kpis.first_pass_yield == pytest.approx(0.96)
    assert kpis.rework_ratio == pytest.approx(5 / 200)


def test_mtbf_and_mttr_by_hand() -> None:
    # 8 failures in 368 h of operation, 32 h of repair in all: MTBF 46 h, MTTR 4 h
    assert kpi.mtbf(operating_time=368.0, failures=8) == pytest.approx(46.0)
    assert kpi.mttr([2.0, 6.0, 3.0, 5.0, 4.0, 4.0, 3.5, 4.5]) == pytest.approx(4.0)
    assert kpi.mtbf_of([40.0, 52.0, 46.0]) == pytest.approx(46.0)


def test_line_kpis_convert_mtbf_and_mttr_to_hours() -> None:
    elements = kpi.LineElements(
        line="l1",
        pbt=8 * HOUR,
        apt=6 * HOUR,
        pri=1.0,
        pq=20_000,
        times_to_restoration=(20 * MINUTE, 40 * MINUTE),
        energy_kwh=1_250.0,
    )
    kpis = kpi.LineKpis.of(elements)
    assert kpis.mtbf_hours == pytest.approx(3.0)  # 6 h of production / 2 failures
    assert kpis.mttr_hours == pytest.approx(0.5)  # (20 + 40) min / 2
    assert kpis.energy_kwh_per_unit == pytest.approx(0.0625)  # 1,250 kWh / 20,000 units


def test_energy_per_unit_in_kwh_per_unit() -> None:
    assert kpi.energy_per_unit(energy_kwh=1_250.0, pq=25_000) == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kpi.availability(apt=9.0, pbt=8.0), "exceeds PBT"),
        (lambda: kpi.availability(apt=-1.0, pbt=8.0), "negative"),
        (lambda: kpi.availability(apt=math.nan, pbt=8.0), "not a finite number"),
        (lambda: kpi.quality_ratio(gq=101, pq=100), "GQ 101 exceeds PQ 100"),
        (lambda: kpi.scrap_ratio(sq=-2, pq=100), "negative"),
        (lambda: kpi.first_pass_yield(gp=11, ip=10), "GP 11 exceeds IP 10"),
        (lambda: kpi.effectiveness(pri=2.0, pq=100, apt=150.0), "check PRI"),
        (lambda: kpi.effectiveness(pri=0.0, pq=100, apt=150.0), "must be positive"),
        (lambda: kpi.oee_index(0.9, 1.2, 0.99), "between 0 and 1"),
        (lambda: kpi.mtbf(operating_time=10.0, failures=2.5), "whole number"),
        (lambda: kpi.mttr([1.0, -1.0]), "TTR\\[1\\] -1 is negative"),
    ],
)
def test_impossible_elements_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_scrap_and_rework_cannot_exceed_the_produced_quantity() -> None:
    with pytest.raises(ValueError, match="exceed PQ"):
        kpi.LineElements(line="l1", pbt=HOUR, apt=HOUR, pri=1.0, pq=10, sq=6, rq=5)
    with pytest.raises(ValueError, match="count open ones too"):
        kpi.LineElements(
            line="l1", pbt=HOUR, apt=HOUR, pri=1.0, pq=10, times_to_restoration=(60.0,), failures=0
        )
    with pytest.raises(ValueError, match="or neither"):
        kpi.LineElements(line="l1", pbt=HOUR, apt=HOUR, pri=1.0, pq=10, gp=9)


def test_planned_busy_time_must_fit_in_the_period() -> None:
    start = datetime(2025, 1, 7, 6, tzinfo=UTC)
    with pytest.raises(ValueError, match="longer than the period"):
        kpi.LineElements(
            line="l1", pbt=9 * HOUR, apt=HOUR, pri=1.0, pq=10, start=start, end=start + 8 * ONE_HOUR
        )


def test_kpis_of_an_idle_period_are_undefined_not_zero() -> None:
    idle = kpi.LineKpis.of(kpi.LineElements(line="l1", pbt=0.0, apt=0.0, pri=1.0, pq=0))
    assert idle.availability is None
    assert idle.effectiveness is None
    assert idle.quality_ratio is None
    assert idle.oee_index is None
    assert idle.scrap_ratio is None
    assert idle.first_pass_yield is None
    assert idle.mtbf_hours is None
    assert idle.mttr_hours is None


def test_a_line_that_ran_without_failures_has_no_mtbf() -> None:
    assert kpi.mtbf(operating_time=8.0, failures=0) is None
    assert kpi.mttr([]) is None
    assert kpi.mtbf_of([]) is None


def test_oee_is_undefined_when_any_factor_is() -> None:
    assert kpi.oee_index(0.9, None, 0.99) is None
