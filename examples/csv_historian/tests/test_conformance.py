"""The platform's conformance suite, run against the installed `csv_historian` connector.

`ConnectorChecks` holds the checks of every port; the plugin keeps those of the ports the
spec provides (here `tags`) and deselects the rest.
"""

from __future__ import annotations

from connectors.testing.suite import ConnectorChecks


class TestCsvHistorianConformance(ConnectorChecks):
    """Checked through the installed entry point, as the platform will load it."""

    connector_spec = "csv_historian"
    connector_config = {"timezone": "UTC"}  # noqa: RUF012  (the suite only reads it)
