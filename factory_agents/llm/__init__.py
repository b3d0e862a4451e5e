"""The language layer: model router, explanations, the plant copilot, cost, safety, evals.

Every language model is optional. With none configured, explanations are built from each
proposal's own evidence and the copilot answers the questions its read-only tools can
answer; with models configured (FACTORY_LLM_MODELS), their answers are checked before use:
explanations must cite only numbers of the evidence, tool calls must be on the allow-list
and fit their schema, and a drafted action goes through the same schema, guardrails and
approval as an agent's. Modules:

| module | what it holds |
|---|---|
| `config` | routes per task (`explain`, `copilot`, `draft`), price table, timeouts |
| `router` | chat models per provider, built lazily, no client retries, with fallbacks |
| `explain` | deterministic and model explanations, the faithfulness check |
| `copilot` | the read-only tools, the tool loop, intent matching without a model, drafts |
| `reader` | the copilot's PlantReader over the ledger, the tag source and the MES |
| `cost` | usage per call from usage metadata, cost in Decimal, per task and per success |
| `safety` | fencing of untrusted plant text, the immutable tool allow-list |
| `fakes` | scripted chat models for tests and CI evals |
| `evals` | task suites and their runner |

Import from the modules (`from factory_agents.llm.copilot import ask`): this package imports
nothing itself, so that `config` and `errors` stay cheap to import for the CLI and settings.
"""
