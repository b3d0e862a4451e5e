"""What a guarded setpoint write checks of the node itself: its data type and its engineering
units against the allow-list entry."""

from __future__ import annotations

from asyncua import ua

from factory_agents.errors import GuardrailViolation
from factory_agents.policy import SetpointLimit


def check_data_type(limit: SetpointLimit, node_id: str, variant_type: ua.VariantType) -> None:
    """Refuse a node whose data type is not the one the allow-list entry names (if it names one)."""
    expected = getattr(limit, "data_type", None)  # the field policy.SetpointLimit will get
    if expected and str(expected) != variant_type.name:
        raise GuardrailViolation(
            f"{node_id} holds {variant_type.name} values but the allow-list says {expected};"
            " nothing was written. Check the node id and the policy"
        )


def unit_names(info: ua.EUInformation) -> tuple[str, ...]:
    """The names an EUInformation gives its unit: display name and UNECE code."""
    names = []
    if info.DisplayName is not None and info.DisplayName.Text:
        names.append(info.DisplayName.Text)
    if info.UnitId is not None and info.UnitId > 0:
        code = "".join(chr((info.UnitId >> shift) & 0xFF) for shift in (16, 8, 0)).lstrip("\0")
        names.append(code)
    return tuple(names)
