"""Reference data the simulated MES is seeded from: products, materials, checks, stop reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from factory_agents.site import FILL_LSL_G, FILL_SIGMA_G, FILL_TARGET_G, FILL_USL_G

# A fixed Monday 06:00 UTC, so the same seed always gives the same rows.
MES_ANCHOR = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)

FINISHED_GOODS = (
    ("FG-W500-STILL", "Still water 500 ml PET", "0.2100"),
    ("FG-W500-SPARK", "Sparkling water 500 ml PET", "0.2400"),
    ("FG-W500-LEMON", "Lemon water 500 ml PET", "0.2700"),
)
INPUT_MATERIALS = (
    ("RM-PREFORM-28", "PET preform 28 mm, 12.5 g", "packaging", "pcs", "0.0450", "Alpla"),
    ("RM-CAP-28", "Closure cap 28 mm", "packaging", "pcs", "0.0120", "Bericap"),
    ("RM-LABEL-500", "Wrap-around label 500 ml", "packaging", "pcs", "0.0080", "CCL Label"),
    ("RM-CO2", "Food-grade CO2", "raw", "kg", "0.9000", "Linde"),
    ("RM-LEMON-AROMA", "Lemon aroma concentrate", "raw", "kg", "14.0000", "Symrise"),
)
CHARACTERISTICS = (
    ("fill weight", "g", FILL_LSL_G, FILL_USL_G, FILL_TARGET_G, FILL_SIGMA_G, "Filler"),
    ("cap torque", "N·m", 1.2, 2.0, 1.6, 0.12, "Capper"),
    ("label position", "mm", -1.5, 1.5, 0.0, 0.45, "Labeler"),
)
DOWNTIME_REASONS = (
    ("DT-JAM", "Label jam at the labeler infeed", False, "Labeler"),
    ("DT-CAPF", "Cap feeder empty", False, "Capper"),
    ("DT-VALVE", "Filler valve fault", False, "Filler"),
    ("DT-STARV", "Starved: no preforms from the blow moulder", False, "Filler"),
    ("DT-CIP", "Cleaning in place", True, "Filler"),
    ("DT-CO", "Product changeover", True, "Filler"),
    ("DT-PM", "Planned maintenance", True, "Capper"),
)
LINE_RATE_PER_HOUR = 3_600
SITES = ("Hamburg", "Lyon", "Verona", "Gdansk", "Porto")
LOT_STATUSES = (("released", 70), ("quarantine", 15), ("consumed", 10), ("blocked", 5))
BOM = (
    ("FG-W500-STILL", "RM-PREFORM-28", 1.0, "pcs"),
    ("FG-W500-STILL", "RM-CAP-28", 1.0, "pcs"),
    ("FG-W500-STILL", "RM-LABEL-500", 1.0, "pcs"),
    ("FG-W500-SPARK", "RM-PREFORM-28", 1.0, "pcs"),
    ("FG-W500-SPARK", "RM-CAP-28", 1.0, "pcs"),
    ("FG-W500-SPARK", "RM-LABEL-500", 1.0, "pcs"),
    ("FG-W500-SPARK", "RM-CO2", 0.004, "kg"),
    ("FG-W500-LEMON", "RM-PREFORM-28", 1.0, "pcs"),
    ("FG-W500-LEMON", "RM-CAP-28", 1.0, "pcs"),
    ("FG-W500-LEMON", "RM-LABEL-500", 1.0, "pcs"),
    ("FG-W500-LEMON", "RM-LEMON-AROMA", 0.0004, "kg"),
)
"""Bill of materials: product, material, quantity per unit, unit."""
SETUP_MINUTES = 25.0
"""Filler changeover time when the product changes."""
