"""factory-agents: plant agents that propose, act within guardrails and measure real savings."""

__version__ = "0.1.0"
