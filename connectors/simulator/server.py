"""The simulated plant as a real OPC UA server: the line model advanced in real time, scaled."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from types import TracebackType

from asyncua import ua
from asyncua.server.address_space import NodeData
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from connectors.simulator.address_space import PlantAddressSpace, build_address_space
from connectors.simulator.client_writes import ClientWriteLog
from connectors.simulator.config import SimulatorConfig, cannot_listen, ensure_port_free
from connectors.simulator.history import StampedHistory, stamped, ua_datetime
from connectors.simulator.mes import seed_mes
from connectors.simulator.model import LINE_NAME, SECONDS_PER_UNIT, LineModel
from connectors.simulator.scenarios import (
    Scenario,
    Scenarios,
    default_scenarios,
    optional_scenarios,
)
from connectors.simulator.security import secure_server
from connectors.simulator.state import LineState, load_state, save_state
from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.site import MACHINES, NAMESPACE_URI

logger = logging.getLogger(__name__)

APPLICATION_URI = "urn:factory-agents:plant-simulator:server"
EXPECTED_NAMESPACE_INDEX = 2
# After a stall (debugger, overloaded machine) catch up at most this much real time at once.
MAX_CATCH_UP_SECONDS = 1.0
MES_EVERY_SECONDS = 1.0
"""How often the scenarios' MES events (counts, checks, answers to holds) are written."""
SAVE_EVERY_SECONDS = 1.0
"""How often the line's state is saved (when it has a state file): at most this much is redone."""
_ONE_MICROSECOND = timedelta(microseconds=1)


def chosen_scenarios(config: SimulatorConfig) -> list[Scenario]:
    """The default site's scenarios, or the named ones, optional ones too (unknown refused)."""
    if config.scenarios is None:
        return default_scenarios(config.seed)
    known = {s.name: s for s in default_scenarios(config.seed) + optional_scenarios(config.seed)}
    if unknown := sorted(set(config.scenarios) - set(known)):
        raise ConfigurationError(
            f"the simulator has no scenario {', '.join(unknown)}; choose from"
            f" {', '.join(sorted(known))}"
        )
    return [s for name, s in known.items() if name in config.scenarios]


class PlantSimulator:
    """An asyncua server serving Line1's tags, driven by a LineModel (async context manager)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._model = LineModel(config.seed)
        self._scenarios = Scenarios(chosen_scenarios(config), config.mes_url)
        self._last_mes = 0.0
        self._server: Server | None = None
        self._space: PlantAddressSpace | None = None
        self._task: asyncio.Task[None] | None = None
        self._carry = 0.0
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self._last_clock_write = 0.0
        self._last_save = 0.0
        self._faults: dict[ua.NodeId, ua.StatusCode] = {}
        self._last_values: dict[ua.NodeId, ua.Variant] = {}
        self._client_writes = ClientWriteLog()

    @property
    def model(self) -> LineModel:
        """The process model behind the server (for tests and the CLI)."""
        return self._model

    @property
    def client_writes(self) -> ClientWriteLog:
        """Every write the server's clients made (the simulator's own updates are not in it)."""
        return self._client_writes

    @property
    def endpoint(self) -> str:
        """The opc.tcp URL clients connect to."""
        return self.config.endpoint

    async def __aenter__(self) -> PlantSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Seed the MES (if configured), build the address space and start serving."""
        # Building the standard address space takes ~2 s: find a busy port before that.
        ensure_port_free(self.config.endpoint)
        if self.config.mes_url is not None:
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            await asyncio.to_thread(seed_mes, self.config.mes_url, self.config.seed, anchor=today)
        if self.config.state_file is not None:
            saved = await asyncio.to_thread(load_state, self.config.state_file, self.config.seed)
            if saved is not None:
                self._model = LineModel.resume(saved)
                self._scenarios.restore(saved.scenarios)
                logger.info(
                    "resumed the plant at unit %d from %s", saved.produced, self.config.state_file
                )
        server = Server()
        self._server = server
        try:
            await self._configure(server)
        except BaseException:
            self._server = None
            await server.stop()
            raise
        try:
            await server.start()  # on failure asyncua stops its internals itself
        except BaseException as err:
            self._server = None
            if isinstance(err, OSError):
                raise cannot_listen(self.config.endpoint, err) from err
            raise
        self._task = asyncio.create_task(self._run(), name="plant-simulator")
        self._task.add_done_callback(_log_crash)
        logger.info("plant simulator serving %s (speed %gx)", self.endpoint, self.config.speed)

    async def stop(self) -> None:
        """Stop advancing the model and shut the server down."""
        task, self._task = self._task, None
        server, self._server = self._server, None
        try:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await self._save_state()
        finally:
            self._scenarios.close()
            if server is not None:
                await server.stop()

    async def set_fault(self, tag: str, status: str | None) -> None:
        """Make `tag` (e.g. 'Line1.Filler.Temperature') report `status` until cleared with None.

        `status` is an OPC UA status name such as 'BadSensorFailure' (the value is dropped) or
        'UncertainLastUsableValue' (the value is kept).
        """
        if self._space is None or tag not in self._space.specs:
            raise ConfigurationError(f"the simulator has no tag {tag!r}; use e.g. Line1.GoodCount")
        node_id = self._space.node_id(tag)
        if status is None:
            self._faults.pop(node_id, None)
        else:
            code = getattr(StatusCodes, status, None)
            if not isinstance(code, int) or ua.StatusCode(ua.UInt32(code)).is_good():
                raise ConfigurationError(
                    f"{status!r} is not a Bad or Uncertain OPC UA status name;"
                    " use e.g. BadSensorFailure or UncertainLastUsableValue"
                )
            self._faults[node_id] = ua.StatusCode(ua.UInt32(code))
        variant = self._last_values.get(node_id)
        if variant is not None:
            await self._write(node_id, variant, datetime.now(UTC))

    async def run_forever(self) -> None:
        """Wait until the simulation is cancelled, or raise if it crashed."""
        if self._task is None:
            raise ConnectorError("the plant simulator is not running; use `async with` first")
        await self._task

    async def _configure(self, server: Server) -> None:
        await server.init()
        server.set_endpoint(self.config.endpoint)
        server.set_server_name("factory-agents plant simulator")
        await server.set_application_uri(APPLICATION_URI)
        if self.config.security is None:
            # A local simulator: no encryption, so no certificate has to be generated or loaded.
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            server.set_identity_tokens([ua.AnonymousIdentityToken])
        else:
            await secure_server(server, self.config.security)
        # asyncua's clock task sleeps a whole second before it notices a stop; we write the
        # clock from our own loop instead, so shutting down is immediate.
        server.disable_clock(True)
        self._client_writes.attach(server)
        server.iserver.history_manager.set_storage(StampedHistory())
        index = await server.register_namespace(NAMESPACE_URI)
        if index != EXPECTED_NAMESPACE_INDEX:
            raise ConfigurationError(
                f"namespace {NAMESPACE_URI} got index {index}, but the site's NodeIds use"
                f" ns={EXPECTED_NAMESPACE_INDEX}; register it before any other namespace"
            )
        self._space = await build_address_space(server, index, extra=self._scenarios.tags())
        # No bottle has been weighed yet: say so, rather than historize a made-up weight.
        now = ua_datetime(datetime.now(UTC))
        waiting = ua.StatusCode(ua.UInt32(StatusCodes.BadWaitingForInitialData))
        await server.write_attribute_value(
            self._tag_id("Filler.FillWeight"),
            ua.DataValue(StatusCode=waiting, SourceTimestamp=now, ServerTimestamp=now),
        )
        for node in self._space.historized():
            await server.historize_node_data_change(node, count=self.config.history_size)
        setpoint_id = self._tag_id("Filler.FillWeightSetpoint")
        server.set_attribute_value_setter(setpoint_id, self._on_setpoint_write)
        for path in self._scenarios.writable():
            server.set_attribute_value_setter(self._space.node_id(path), self._on_scenario_write)
        await self._write_status(datetime.now(UTC))

    def _on_setpoint_write(self, node: NodeData, attr: AttributeIds, value: ua.DataValue) -> None:
        """Store a write to FillWeightSetpoint and move the model's setpoint with it."""
        value = stamped(value)
        node.attributes[attr].value = value
        if value.StatusCode is not None and not value.StatusCode.is_good():
            return
        number = value.Value.Value if value.Value is not None else None
        if isinstance(number, float) and math.isfinite(number):
            self._model.set_setpoint(number)
            self._last_values[node.nodeid] = ua.Variant(number, ua.VariantType.Double)
        else:
            logger.warning("ignored fill weight setpoint write %r: not a finite Double", number)

    def _on_scenario_write(self, node: NodeData, attr: AttributeIds, value: ua.DataValue) -> None:
        """Store a write to a scenario's setpoint and hand the number to its scenario."""
        value = stamped(value)
        node.attributes[attr].value = value
        if value.StatusCode is not None and not value.StatusCode.is_good():
            return
        number = value.Value.Value if value.Value is not None else None
        path = str(node.nodeid.Identifier)
        if isinstance(number, float) and self._scenarios.write(path, number):
            self._last_values[node.nodeid] = ua.Variant(number, ua.VariantType.Double)
        else:
            logger.warning("ignored write %r to %s: not a finite Double", number, path)

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.config.tick_seconds)
            now = time.monotonic()
            elapsed = min(now - last, MAX_CATCH_UP_SECONDS)
            last = now
            await self._advance(elapsed)
            if now - self._last_mes >= MES_EVERY_SECONDS:
                self._last_mes = now
                await asyncio.to_thread(self._scenarios.mes, datetime.now(UTC))
            if now - self._last_save >= SAVE_EVERY_SECONDS:
                self._last_save = now
                await self._save_state()

    def snapshot(self) -> LineState:
        """The whole plant's state as a restart resumes it: the line and its scenarios."""
        return self._model.snapshot().model_copy(update={"scenarios": self._scenarios.state()})

    async def _save_state(self) -> None:
        """Save the plant's state to its state file, if it has one."""
        if self.config.state_file is not None:
            await asyncio.to_thread(save_state, self.config.state_file, self.snapshot())

    async def _advance(self, elapsed: float) -> None:
        """Run the line for `elapsed` real seconds, publish its units, then every status tag."""
        due = self.config.speed * elapsed / SECONDS_PER_UNIT + self._carry
        count = int(due)
        self._carry = due - count
        now = datetime.now(UTC)
        first_second = self._model.clock
        units = self._model.run(count)  # fewer than `count` while a scenario holds the line
        fill_weight = self._tag_id("Filler.FillWeight")
        moments = []
        for unit in units:
            position = unit.second - first_second + 1
            moment = now - timedelta(seconds=elapsed * (1 - position / count))
            moment = max(moment, self._last_stamp + _ONE_MICROSECOND)
            self._last_stamp = moment
            moments.append(moment)
            await self._write(
                fill_weight, ua.Variant(unit.fill_weight, ua.VariantType.Double), moment
            )
        for write in self._scenarios.step(self._model, units, moments):
            variant = ua.Variant(write.value, write.variant)
            await self._write(self._space_node(write.path), variant, write.at)
        await self._write_status(now)

    async def _write_status(self, now: datetime) -> None:
        model = self._model
        await self._write(self._tag_id("GoodCount"), _int64(model.good), now)
        await self._write(self._tag_id("ScrapCount"), _int64(model.scrap), now)
        for machine in MACHINES:
            status = model.machine(machine)
            values = {
                "State": ua.Variant(status.state, ua.VariantType.String),
                "Speed": ua.Variant(status.speed, ua.VariantType.Double),
                "Temperature": ua.Variant(status.temperature, ua.VariantType.Double),
                "Energy": ua.Variant(status.energy_kwh, ua.VariantType.Double),
                "GoodCount": _int64(status.good),
                "ScrapCount": _int64(status.scrap),
            }
            for tag, variant in values.items():
                await self._write(self._tag_id(f"{machine}.{tag}"), variant, now)
        # The PLC reports its setpoint every scan: refresh its timestamp, keep its value.
        setpoint = ua.Variant(model.setpoint, ua.VariantType.Double)
        await self._write(self._tag_id("Filler.FillWeightSetpoint"), setpoint, now)
        await self._write_clock(now)

    async def _write_clock(self, now: datetime) -> None:
        if time.monotonic() - self._last_clock_write < 1.0 or self._server is None:
            return
        self._last_clock_write = time.monotonic()
        server = self._server
        status_node = server.get_node(ObjectIds.Server_ServerStatus)
        status = copy.copy(await status_node.read_value())
        status.CurrentTime = now
        await status_node.write_value(status)
        current_time = server.get_node(ObjectIds.Server_ServerStatus_CurrentTime)
        await current_time.write_value(ua.Variant(now, ua.VariantType.DateTime))

    def _space_node(self, path: str) -> ua.NodeId:
        if self._space is None:
            raise ConnectorError("the plant simulator has no address space; start it first")
        return self._space.node_id(path)

    def _tag_id(self, tag: str) -> ua.NodeId:
        if self._space is None:
            raise ConnectorError("the plant simulator has no address space; start it first")
        return self._space.node_id(f"{LINE_NAME}.{tag}")

    async def _write(self, node_id: ua.NodeId, variant: ua.Variant, moment: datetime) -> None:
        if self._server is None:
            return
        self._last_values[node_id] = variant
        stamp = ua_datetime(moment)
        status = self._faults.get(node_id, ua.StatusCode())
        value = ua.DataValue(
            variant, StatusCode=status, SourceTimestamp=stamp, ServerTimestamp=stamp
        )
        await self._server.write_attribute_value(node_id, value)


def _int64(count: int) -> ua.Variant:
    return ua.Variant(count, ua.VariantType.Int64)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the plant simulator stopped advancing", exc_info=task.exception())


async def serve(config: SimulatorConfig) -> None:
    """Run the simulated plant until cancelled (or until it fails)."""
    async with PlantSimulator(config) as simulator:
        await simulator.run_forever()
