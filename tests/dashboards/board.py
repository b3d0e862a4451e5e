"""Helpers to drive the board in AppTest and read what it shows.

AppTest's `switch_page` only knows file pages; the board's pages are functions chosen per
session by st.navigation. `request_page` therefore asks for a page the way a browser does, by
the hash of its URL path (what Streamlit's frontend sends), and `served_pages` reads the pages
st.navigation registered for the session: both use AppTest internals, kept here in one place.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

import dashboards.session
from dashboards.session import ACTIVITY_KEY, USER_KEY, BoardUser
from factory_agents.identity import UsersFile

from .conftest import APP

TIMEOUT = 30
"""Seconds one script run may take."""


def approvals_script() -> None:
    """The Approvals page alone, as AppTest runs it (imports inside: the source is the script)."""
    from dashboards.approvals_page import show_approvals_page

    show_approvals_page()


def board_user(user_id: str) -> BoardUser:
    """The board's view of a user of the test home's users file."""
    from factory_agents.settings import Settings

    user = UsersFile.in_home(Settings().home).get(user_id)
    assert user is not None, f"no test user {user_id!r}"
    return BoardUser.of(user)


def sign_in(app: AppTest, user_id: str) -> AppTest:
    """Put `user_id` in the session as if they had just logged in (the login page is tested
    on its own)."""
    app.session_state[USER_KEY] = board_user(user_id)
    app.session_state[ACTIVITY_KEY] = dashboards.session.clock()
    return app


def request_page(app: AppTest, url_path: str) -> AppTest:
    """Ask for the page at /url_path on the next run, as the browser's address bar does."""
    app._page_hash = calc_hash(url_path)
    return app


def served_pages(app: AppTest) -> list[str]:
    """Titles of the pages st.navigation offered this session in its last run, in menu order."""
    return [str(info["page_name"]) for info in app._registered_pages.values()]


def open_board(as_user: str | None = "ada", page: str | None = None) -> AppTest:
    """Run the board's entry script, signed in as `as_user` (None: nobody), on `page`."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if as_user is not None:
        sign_in(app, as_user)
    if page is not None:
        request_page(app, page)
    return checked(app.run())


def open_approvals(as_user: str = "ada") -> AppTest:
    """Run the Approvals page alone, signed in as `as_user`."""
    app = AppTest.from_function(approvals_script, default_timeout=TIMEOUT)
    return checked(sign_in(app, as_user).run())


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


def titles(app: AppTest) -> list[str]:
    """The page titles shown."""
    return [title.value for title in app.title]
