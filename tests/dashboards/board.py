"""Helpers to drive the board in AppTest and read what it shows."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from .conftest import APP

TIMEOUT = 30
"""Seconds one script run may take."""


def approvals_script() -> None:
    """The Approvals page alone, as AppTest runs it (imports inside: the source is the script)."""
    from dashboards.approvals_page import show_approvals_page

    show_approvals_page()


def open_board() -> AppTest:
    """Run the board's entry script, which opens on the Savings page."""
    return checked(AppTest.from_file(APP, default_timeout=TIMEOUT).run())


def open_approvals() -> AppTest:
    """Run the Approvals page."""
    return checked(AppTest.from_function(approvals_script, default_timeout=TIMEOUT).run())


def checked(app: AppTest) -> AppTest:
    """The app after a run, failing the test if the script raised."""
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def charts(app: AppTest) -> list[Any]:
    """The protos of the Vega-Lite (altair) charts on the page, in order."""
    return [element.proto for element in app.get("vega_lite_chart")]


def chart_spec(chart: Any) -> dict[str, Any]:
    """A chart's Vega-Lite spec."""
    spec: dict[str, Any] = json.loads(chart.spec)
    return spec


def chart_frames(chart: Any) -> list[pd.DataFrame]:
    """The data frames a chart carries (one per dataset)."""
    return [convert_arrow_bytes_to_pandas_df(dataset.data.data) for dataset in chart.datasets]
