"""Scheduling analytics: job-shop sequencing (dispatching rules, CP-SAT) and breakdown repair.

Modules: ``jobshop`` (problem, schedule, validation), ``formats`` (OR-Library, Taillard and
JSON files), ``dispatch`` (Giffler–Thompson dispatching rules), ``cpsat`` (OR-Tools CP-SAT),
``repair`` (rescheduling on breakdown), ``instances`` (benchmarks with best known makespans).
Nothing is imported here, so that reading an instance does not load OR-Tools.
"""
