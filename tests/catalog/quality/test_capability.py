"""Process capability against Montgomery's examples, the qcc package and the normal tail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from factory_agents.catalog.quality import capability as cap
from factory_agents.catalog.quality.capability import SpecLimits

# Montgomery, Introduction to Statistical Quality Control, Table 6.3: inside diameters (mm) of
# forged piston rings, 25 preliminary samples of five, as shipped in R's qcc package
# (data/pistonrings.txt, samples 1-25, trial = TRUE). Specification 74.000 ± 0.05 mm.
PISTON_RINGS = [
    (74.030, 74.002, 74.019, 73.992, 74.008),
    (73.995, 73.992, 74.001, 74.011, 74.004),
    (73.988, 74.024, 74.021, 74.005, 74.002),
    (74.002, 73.996, 73.993, 74.015, 74.009),
    (73.992, 74.007, 74.015, 73.989, 74.014),
    (74.009, 73.994, 73.997, 73.985, 73.993),
    (73.995, 74.006, 73.994, 74.000, 74.005),
    (73.985, 74.003, 73.993, 74.015, 73.988),
    (74.008, 73.995, 74.009, 74.005, 74.004),
    (73.998, 74.000, 73.990, 74.007, 73.995),
    (73.994, 73.998, 73.994, 73.995, 73.990),
    (74.004, 74.000, 74.007, 74.000, 73.996),
    (73.983, 74.002, 73.998, 73.997, 74.012),
    (74.006, 73.967, 73.994, 74.000, 73.984),
    (74.012, 74.014, 73.998, 73.999, 74.007),
    (74.000, 73.984, 74.005, 73.998, 73.996),
    (73.994, 74.012, 73.986, 74.005, 74.007),
    (74.006, 74.010, 74.018, 74.003, 74.000),
    (73.984, 74.002, 74.003, 74.005, 73.997),
    (74.000, 74.010, 74.013, 74.020, 74.003),
    (73.988, 74.001, 74.009, 74.005, 73.996),
    (74.004, 73.999, 73.990, 74.006, 74.009),
    (74.010, 73.989, 73.990, 74.009, 74.014),
    (74.015, 74.008, 73.993, 74.000, 74.010),
    (73.982, 73.984, 73.995, 74.017, 74.013),
]
RING_SPEC = SpecLimits(lsl=73.95, usl=74.05)
SPEC = SpecLimits(lsl=-6.0, usl=6.0)


@pytest.mark.parametrize(
    ("n", "d2", "c4"),
    # Montgomery, Appendix Table VI (factors for constructing variables control charts)
    [
        (2, 1.128, 0.7979),
        (3, 1.693, 0.8862),
        (5, 2.326, 0.9400),
        (10, 3.078, 0.9727),
        (25, 3.931, 0.9896),
    ],
)
def test_control_chart_constants_match_the_published_table(n: int, d2: float, c4: float) -> None:
    assert cap.d2(n) == pytest.approx(d2, abs=5e-4)
    assert cap.c4(n) == pytest.approx(c4, abs=5e-5)


def test_piston_ring_sigma_matches_montgomery_and_qcc() -> None:
    ranges = [max(g) - min(g) for g in PISTON_RINGS]
    assert np.mean(ranges) == pytest.approx(0.02276)  # qcc R chart center; Montgomery: 0.023
    # qcc(diameter[1:25,], type = "xbar")$std.dev = 0.009785039 (R-bar / d2),
    # qcc(..., type = "S")$std.dev = 0.009829977 (s-bar / c4)
    assert cap.sigma_within_subgroups(PISTON_RINGS, "range") == pytest.approx(0.009785039, rel=1e-4)
    assert cap.sigma_within_subgroups(PISTON_RINGS, "stdev") == pytest.approx(0.009829977, rel=1e-5)


def test_piston_ring_cp_as_in_montgomery() -> None:
    # Montgomery: sigma-hat = R-bar / d2 = 0.023 / 2.326 = 0.0099; Cp = 0.10 / (6 x 0.0099) = 1.68
    assert cap.cp(RING_SPEC, 0.0099) == pytest.approx(1.68, abs=0.005)


def test_piston_rings_are_capable_and_need_no_correction() -> None:
    report = cap.assess_subgroups(PISTON_RINGS, RING_SPEC, characteristic="ring diameter")
    # qcc processCapability(q, spec.limits = c(73.95, 74.05)): center 74.00118,
    # std.dev 0.009785039, so Cp = 0.10 / (6 sd) and Cpk = (USL - center) / (3 sd)
    assert report.mean == pytest.approx(74.00118, abs=5e-6)
    assert report.cp == pytest.approx(0.10 / (6 * 0.009785039), rel=1e-4)
    assert report.cpk == pytest.approx((74.05 - 74.00118) / (3 * 0.009785039), rel=1e-4)
    assert report.n == 125 and report.subgroups == 25 and report.subgroup_size == 5
    assert report.cpk_interval.lower_bound > 1.33
    assert report.verdict == "capable"
    assert report.recommended_offset is None
    assert "Capable" in report.conclusion


def test_chi_square_interval_for_cp() -> None:
    # Montgomery (6th ed.), section 8.3.5, Example 8.5: USL 62, LSL 38, n = 20, s = 1.75,
    # Cp-hat = 2.29; the 95 % interval is 1.57 <= Cp <= 3.01
    assert cap.cp(SpecLimits(38, 62), 1.75) == pytest.approx(2.29, abs=0.005)
    interval = cap.cp_interval(2.29, n=20, confidence=0.95)
    assert interval.lower == pytest.approx(1.57, abs=0.005)
    assert interval.upper == pytest.approx(3.01, abs=0.005)
    assert interval.lower < interval.lower_bound < 2.29  # one-sided bound is tighter


def test_bissell_interval_for_cpk() -> None:
    # Montgomery (6th ed.), section 8.3.5, Example 8.6: n = 20, Cpk-hat = 1.33,
    # 0.88 <= Cpk <= 1.78 by Bissell's (1990) approximation
    interval = cap.cpk_interval(1.33, n=20, confidence=0.95)
    assert interval.lower == pytest.approx(0.88, abs=0.005)
    assert interval.upper == pytest.approx(1.78, abs=0.005)
    assert "Bissell" in interval.method
    # Quality Digest, May 2000, "The Last Word": n = 45, Cpk 1.15 -> 0.89 to 1.41 at 95 %
    digest = cap.cpk_interval(1.15, n=45, confidence=0.95)
    assert (round(digest.lower, 2), round(digest.upper, 2)) == (0.89, 1.41)


def test_thirty_values_are_the_least_that_separate_cpk_133_from_cpk_1() -> None:
    # the stated minimum: with 30 values an observed 1.33 keeps its 95 % lower bound above 1.0
    assert cap.cpk_interval(1.33, n=30).lower_bound > 1.0
    assert cap.cpk_interval(1.33, n=25).lower_bound < 1.0


@pytest.mark.parametrize(
    ("spec", "mean", "below", "above"),
    [
        # Montgomery, Table 8.2 (process fallout for Cp): Cp 1.00 -> 1350 ppm one-sided,
        # 2700 ppm two-sided; Cp 1.33 -> 33 / 66 ppm
        (SpecLimits(-3, 3), 0.0, 1350, 1350),
        (SpecLimits(-3.99, 3.99), 0.0, 33, 33),
        # Cpk 1.0 on the upper side of a process shifted 1.5 sigma, Cp 1.5: 1350 ppm above
        (SpecLimits(-4.5, 4.5), 1.5, 0.0, 1350),
    ],
)
def test_expected_ppm_from_the_normal_tail(
    spec: SpecLimits, mean: float, below: float, above: float
) -> None:
    ppm = cap.out_of_spec(spec, mean, 1.0)
    assert ppm.below_lsl_ppm == pytest.approx(below, abs=1.0)
    assert ppm.above_usl_ppm == pytest.approx(above, abs=1.0)


def test_anderson_darling_statistic_matches_scipy() -> None:
    values = np.random.default_rng(5).normal(10.0, 2.0, size=60).tolist()
    ours = cap.anderson_darling_statistic(values)
    assert ours == pytest.approx(stats.anderson(values, "norm", method="interpolate").statistic)


@pytest.mark.parametrize(("adjusted", "p"), [(0.631, 0.10), (0.752, 0.05), (1.035, 0.01)])
def test_anderson_darling_p_value_at_the_published_critical_values(
    adjusted: float, p: float
) -> None:
    # D'Agostino & Stephens, Goodness-of-Fit Techniques (1986), Table 4.7, case 3 (mean and
    # variance estimated): A*2 critical values 0.631 (10 %), 0.752 (5 %), 1.035 (1 %)
    assert cap.anderson_darling_p_value(adjusted) == pytest.approx(p, rel=0.02)


def test_skewed_data_get_a_normality_note() -> None:
    values = (np.random.default_rng(2).exponential(1.0, size=100) - 1.0).tolist()
    report = cap.assess_individuals(values, SPEC)
    assert report.normality.normal is False
    assert report.normality.skewness > 1
    assert any("Anderson–Darling" in note for note in report.notes)


def test_normal_data_pass_the_normality_check() -> None:
    report = cap.assess_individuals(np.random.default_rng(3).normal(0, 1, 200).tolist(), SPEC)
    assert report.normality.normal is True
    assert not any("Anderson" in note for note in report.notes)


def off_centre(shift: float, sigma: float = 1.0, n: int = 200, seed: int = 11) -> list[float]:
    """Normal values around `shift` whose sample mean is exactly `shift`."""
    values = np.random.default_rng(seed).normal(0.0, sigma, n)
    return (values - values.mean() + shift).tolist()


def test_an_off_centre_process_is_told_to_centre_by_the_measured_offset() -> None:
    # spec ±6, sigma about 1: Cp about 2; mean at +2.5: Cpk about 1.17 < 1.33
    report = cap.assess_individuals(off_centre(2.5), SPEC, characteristic="fill weight")
    assert report.cp >= 1.33 > report.cpk
    assert report.verdict == "centre"
    assert report.recommended_offset == pytest.approx(-2.5)
    assert report.cpk_at_aim == pytest.approx(report.cp)
    assert report.out_of_spec_at_aim.total_ppm < report.out_of_spec_now.total_ppm
    assert "-2.5" in report.conclusion


@pytest.mark.parametrize("delta", [-0.5, 0.3, 1.0])
def test_shifting_the_data_shifts_the_correction_by_exactly_that_amount(delta: float) -> None:
    base = cap.assess_individuals(off_centre(2.5), SPEC)
    moved = cap.assess_individuals([x + delta for x in off_centre(2.5)], SPEC)
    assert base.verdict == moved.verdict == "centre"
    assert moved.sigma_within == pytest.approx(base.sigma_within, abs=1e-12)
    assert moved.recommended_offset is not None and base.recommended_offset is not None
    assert moved.recommended_offset - base.recommended_offset == pytest.approx(-delta, abs=1e-9)


@pytest.mark.parametrize("sigma", [0.9, 1.3, 1.45, 1.6, 2.2])
@pytest.mark.parametrize("seed", range(8))
def test_a_centred_process_never_gets_centring_advice(sigma: float, seed: int) -> None:
    report = cap.assess_individuals(off_centre(0.0, sigma=sigma, seed=seed), SPEC)
    assert report.verdict != "centre"
    assert report.recommended_offset is None
    assert not report.offset_significant


def test_too_much_spread_asks_for_tighter_inspection() -> None:
    # sigma 2 against a spec of ±6: Cp about 1.0 even when centred
    report = cap.assess_individuals(off_centre(1.0, sigma=2.0), SPEC)
    assert report.cp < 1.33
    assert report.verdict == "tighten_inspection"
    assert report.recommended_offset is None
    assert report.out_of_spec_at_aim.total_ppm == pytest.approx(
        cap.out_of_spec(SPEC, 0.0, report.sigma_within).total_ppm
    )
    assert "spread" in report.conclusion


def test_a_centred_process_near_the_target_is_inconclusive_not_centred() -> None:
    report = cap.assess_individuals(off_centre(0.0, sigma=1.45, seed=2), SPEC)
    assert report.cp >= 1.33 > report.cpk_interval.lower_bound  # the case this test is about
    assert report.verdict == "inconclusive"
    assert "collect more data" in report.conclusion


def test_too_few_values_are_not_judged() -> None:
    report = cap.assess_individuals(off_centre(2.5, n=20), SPEC)
    assert report.verdict == "insufficient_data"
    assert report.recommended_offset is None
    assert any("at least 30" in note for note in report.notes)


def test_too_few_subgroups_are_not_judged() -> None:
    report = cap.assess_subgroups(PISTON_RINGS[:10], RING_SPEC)
    assert report.verdict == "insufficient_data"
    assert any("at least 20" in note for note in report.notes)


def test_a_nominal_off_the_middle_is_the_aim() -> None:
    spec = SpecLimits(lsl=-6.0, usl=6.0, nominal=1.0)
    report = cap.assess_individuals(off_centre(3.0), spec)
    assert report.offset_to_aim == pytest.approx(-2.0)
    assert report.cpk_at_aim == pytest.approx(5.0 / (3 * report.sigma_within))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="must be below usl"):
        SpecLimits(lsl=5.0, usl=5.0)
    with pytest.raises(ValueError, match="between lsl"):
        SpecLimits(lsl=0.0, usl=5.0, nominal=6.0)
    with pytest.raises(ValueError, match="same size"):
        cap.assess_subgroups([(1.0, 2.0), (1.0, 2.0, 3.0)], SPEC)
    with pytest.raises(ValueError, match="not finite"):
        cap.assess_individuals([1.0, float("nan"), 2.0], SPEC)
    with pytest.raises(ValueError, match="do not vary"):
        cap.assess_individuals([1.0] * 40, SPEC)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cap.cpk_interval(1.33, n=30, confidence=95)
