"""The board's entry script sets up navigation and opens on the Savings page."""

from __future__ import annotations

from .board import open_board


def test_board_opens_on_the_savings_page(seeded_url: str) -> None:
    app = open_board()

    assert [title.value for title in app.title] == ["Savings"]
    assert app.metric  # the page's live part ran inside the navigation
