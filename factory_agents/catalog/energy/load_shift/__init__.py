"""Load shifting: schedule deferrable loads into cheap slots within their windows and the site cap.

Variables are the energy e[l, t] (kWh) of load l in slot t, for the slots lying wholly inside
the load's window [earliest start, deadline]. Interruptible loads are divisible: any power
from 0 to their maximum in any slot, so the problem is a linear program, solved exactly
(to floating-point tolerance) by GLOP:

    minimise   sum_t price_t sum_l e[l, t]  (+ demand charge x (peak - peak so far))
    subject to sum_t e[l, t] = E_l                          every load
               0 <= e[l, t] <= P_l x slot hours             max power
               sum_l e[l, t] <= (cap_t - base_t) x slot hours  site cap
               peak >= base_t + sum_l e[l, t] / slot hours, peak >= peak so far

A non-interruptible load runs at its maximum power from one start slot until done; choosing
that slot is a discrete decision, so when any load is non-interruptible the problem becomes
a mixed-integer program (one binary per possible start), solved exactly (zero relative gap)
by SCIP. The baseline is the "as is" behaviour: every load starts at its earliest slot and
runs at full power until done, whatever the tariff or the cap. The cap and the demand
charge apply to each slot's average power (as a meter's demand interval does); energy costs
cover the deferrable loads only, since the base load costs the same in both schedules.
"""

from __future__ import annotations

from factory_agents.catalog.energy.load_shift.base_load import DailyLoadProfile, base_load_profile
from factory_agents.catalog.energy.load_shift.loads import DeferrableLoad
from factory_agents.catalog.energy.load_shift.planner import plan_load_shift
from factory_agents.catalog.energy.load_shift.result import (
    BindingConstraint,
    LoadRun,
    LoadShiftPlan,
)

__all__ = [
    "BindingConstraint",
    "DailyLoadProfile",
    "DeferrableLoad",
    "LoadRun",
    "LoadShiftPlan",
    "base_load_profile",
    "plan_load_shift",
]
