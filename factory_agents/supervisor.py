"""Starts the platform's processes, watches them, and stops every one of them cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console


@dataclass
class Child:
    """One process the supervisor started, with the log it writes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Supervisor:
    """Owns the child processes of `factory-agents up`; stops them in reverse start order."""

    logs: Path
    console: Console = field(default_factory=Console)
    children: list[Child] = field(default_factory=list)

    def adopt(self, name: str, process: subprocess.Popen[bytes], log: Path) -> Child:
        """Take charge of a process started elsewhere (e.g. the Temporal dev server)."""
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Start `python -m factory_agents ARGS` in its own session, logging to logs/NAME.log."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "factory_agents", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        return self.adopt(name, process, log)

    def first_exited(self) -> Child | None:
        """A child that has exited, if any."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def trap_signals(self) -> None:
        """Turn SIGTERM and SIGHUP (a closed terminal) into KeyboardInterrupt, like Ctrl-C."""

        def _interrupt(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _interrupt)

    def wait(self, duration: float | None) -> None:
        """Block until the duration ends or a child exits (Ctrl-C raises KeyboardInterrupt)."""
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            exited = self.first_exited()
            if exited is not None:
                self.console.print(
                    f"[red]{exited.name} exited with code {exited.process.returncode};"
                    f" see {exited.log}. Stopping the platform.[/red]"
                )
                return
            time.sleep(0.5)
        self.console.print(f"Ran for {duration:g} s; stopping ...")

    def stop_all(self, grace: float = 15.0) -> None:
        """Terminate every child (newest first), waiting up to `grace` s before killing it."""
        for child in reversed(self.children):
            process = child.process
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            self.console.print(f"  stopped {child.name} (exit {process.returncode})")
        self.children.clear()
