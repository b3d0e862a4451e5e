"""The plugin kit: the conformance suite passes the fakes, the built-in SQL MES (SQLite and
PostgreSQL) and the REST MES, and the example package through its installed entry point and
the plugin's --connector options; it fails connectors that break the contract."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.mes.specs import REST_SPEC, SQL_SPEC
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_rest import MesRestServer, create_app
from connectors.testing import (
    ConformancePeer,
    FakeMes,
    FakeTagSource,
    FakeTagWriter,
    TagData,
    TagWriteData,
)
from connectors.testing.suite import (
    MesSourceChecks,
    MesWriterChecks,
    TagSourceChecks,
    TagWriterChecks,
)
from factory_agents.policy import Policy, SetpointLimit
from factory_agents.registry import check_connector_spec, connector_specs
from tests.conftest import _postgres_schema_url
from tests.connectors.mes.peers import seeded_data, seeded_peer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "csv_historian"
T0 = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
FILL = SetpointLimit(node_id="Line1.Filler.FillSetpoint", unit="g", minimum=495.0,
                     maximum=515.0, max_step=2.0)  # fmt: skip


def fake_tags() -> FakeTagSource:
    """Two tags with an hour of minute values, recorded out of order."""
    tags = FakeTagSource(clock=lambda: T0 + timedelta(hours=1))
    minutes = list(range(60))[::-1]
    tags.record(
        "Line1.Filler.FillWeight", [(T0 + timedelta(minutes=m), 500 + m / 100) for m in minutes]
    )
    tags.record(FILL.node_id, [(T0, 505.0)])
    tags.record("Line1.Filler.Speed", [(T0, 300.0)])
    return tags


class TestFakeTagSourcePassesTheSuite(TagSourceChecks):
    ports = ("tags",)

    @pytest.fixture
    def conformance_peer(self) -> ConformancePeer:
        return ConformancePeer(
            connector=fake_tags(),
            tags=TagData(
                tags=("Line1.Filler.FillWeight", FILL.node_id),
                values={"Line1.Filler.FillWeight": 500.59, FILL.node_id: 505.0},
                history_tag="Line1.Filler.FillWeight",
                history_start=T0 + timedelta(minutes=5),
                history_end=T0 + timedelta(minutes=50),
            ),
        )


class TestFakeTagWriterPassesTheSuite(TagWriterChecks):
    ports = ("tag_writes",)

    @pytest.fixture
    def conformance_peer(self) -> ConformancePeer:
        tags = fake_tags()

        async def live(node_id: str) -> float:
            (sample,) = await tags.read([node_id])
            return sample.value

        return ConformancePeer(
            connector=FakeTagWriter(Policy(setpoints=(FILL,)), tags),
            tag_writes=TagWriteData(
                node_id=FILL.node_id, limit=FILL, not_allowed="Line1.Filler.Speed",
                read_value=live,
            ),
        )  # fmt: skip


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A seeded simulated MES: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mes.db'}"
        seed_mes(url, seed=7)
        yield url
    else:
        for url in _postgres_schema_url():
            seed_mes(url, seed=7)
            yield url


class TestFakeMesPassesTheSuite(MesSourceChecks, MesWriterChecks):
    ports = ("mes", "mes_writes")

    @pytest.fixture
    async def conformance_peer(self, tmp_path: Path) -> ConformancePeer:
        url = f"sqlite:///{tmp_path / 'mes.db'}"
        seed_mes(url, seed=7)
        data = await seeded_data(url)
        now = T0 + timedelta(hours=1)
        return seeded_peer(data, now, {}, connector=FakeMes(data, clock=lambda: now))


class TestSqlMesPassesTheSuite(MesSourceChecks, MesWriterChecks):
    connector_spec = SQL_SPEC

    @pytest.fixture
    async def conformance_peer(self, seeded_url: str) -> ConformancePeer:
        return seeded_peer(await seeded_data(seeded_url), datetime.now(UTC), {"url": seeded_url})


class TestRestMesPassesTheSuite(MesSourceChecks, MesWriterChecks):
    connector_spec = REST_SPEC

    @pytest.fixture
    async def conformance_peer(self, tmp_path: Path) -> AsyncIterator[ConformancePeer]:
        from connectors.mes import SqlMes

        url = f"sqlite:///{tmp_path / 'mes.db'}"
        seed_mes(url, seed=7)
        mes = SqlMes(url)
        try:
            with MesRestServer(create_app(mes, token="t")) as server:
                config = {"base_url": server.url, "token": "t", "page_size": 50}
                yield seeded_peer(await seeded_data(url), datetime.now(UTC), config)
        finally:
            mes.close()


def run_pytest(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess of this interpreter, with the conformance plugin."""
    command = [sys.executable, "-m", "pytest", "-p", "connectors.testing.plugin",
               "-p", "no:cacheprovider", *map(str, args)]  # fmt: skip
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_example_package_is_found_through_its_entry_point_and_passes_the_suite() -> None:
    specs = connector_specs()
    assert "csv_historian" in specs, "pip install --no-deps -e examples/csv_historian"
    spec = specs["csv_historian"]
    check_connector_spec("csv_historian", spec)
    assert spec.provides == ("tags",)
    run = run_pytest(
        EXAMPLE / "tests", "--connector", "csv_historian",
        "--connector-config", EXAMPLE / "tests" / "conformance.yaml", "-v",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "connector conformance: csv_historian" in run.stdout
    assert "test_tags_history_is_sorted_and_inside_the_window PASSED" in run.stdout
    assert "deselected" in run.stdout  # the checks of ports it does not provide


BROKEN = '''
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from connectors.base import MesWriteResult
from connectors.spec import ConnectorSpec
from connectors.testing import ConformancePeer, TagData
from connectors.testing.suite import ConnectorChecks
from factory_agents.plant import Quality, Sample

T0 = datetime(2025, 1, 6, tzinfo=UTC)


class Config(BaseModel):
    pass


class Sloppy:
    """Drops unknown tags, returns history unsorted and outside the window."""

    def __init__(self, config: Config) -> None:
        pass

    async def read(self, node_ids):
        return [Sample(tag=t, value=1.0, source_time=T0) for t in node_ids if t.startswith("a")]

    async def history(self, node_id, start, end):
        return [Sample(tag=node_id, value=1.0, source_time=T0 + timedelta(minutes=m))
                for m in (30, 10, 500)]


SPEC = ConnectorSpec(name="sloppy", version="0", description="", config_model=Config,
                     factory=Sloppy, provides=("tags", "mes"))


@pytest.fixture
def conformance_peer():
    return ConformancePeer(tags=TagData(tags=("a1", "a2"), history_tag="a1",
                                        history_start=T0, history_end=T0 + timedelta(hours=1)))


class TestSloppy(ConnectorChecks):
    connector_spec = SPEC
'''


def test_the_suite_fails_a_connector_that_breaks_the_contract(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    (tmp_path / "test_sloppy.py").write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    run = run_pytest(tmp_path, "-v", cwd=tmp_path)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    for failing in (
        "test_the_spec_is_consistent_and_its_ports_are_implemented FAILED",  # claims mes
        "test_tags_unknown_tags_come_back_bad_without_hiding_the_others FAILED",
        "test_tags_history_is_sorted_and_inside_the_window FAILED",
        "test_mes_reads_return_valid_records_of_the_kinds_asked_only FAILED",
    ):
        assert failing in out, out
    assert "test_tags_read_gives_one_sample_per_tag_in_order PASSED" in out
    assert "test_tag_writes" not in out and "test_mes_writes" not in out  # deselected
    assert "claims but does not implement ['MesSource']" in out


def test_without_a_peer_the_suite_says_how_to_provide_one(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    (tmp_path / "test_nopeer.py").write_text(
        "from connectors.testing.suite import TagSourceChecks\n\n"
        "class TestNoPeer(TagSourceChecks):\n    connector_spec = 'csv_historian'\n",
        encoding="utf-8",
    )
    run = run_pytest(tmp_path, cwd=tmp_path)
    assert run.returncode != 0
    assert "define a `conformance_peer` fixture" in run.stdout + run.stderr
    unknown = run_pytest(tmp_path, "--connector", "no_such_connector", cwd=tmp_path)
    assert "no installed connector is named 'no_such_connector'" in unknown.stdout
