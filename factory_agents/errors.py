"""One root error for the platform; every message says what was wrong and what to do.

FactoryAgentsError
├── ConfigurationError      settings or policy files that cannot be used
├── DataQualityError        data too bad, uncertain or stale to act on
│   └── MeasurementNotReady  too little in a verification window yet: measured over a longer one
├── ConnectorError          a plant system could not be reached or answered badly
│   ├── WriteRejected        the device refused a write (Bad status): final
│   └── WriteVerificationError   a write did not read back as written
├── GuardrailViolation      an action outside its allow-list, bounds, step or rate
├── ProposalError           a proposal that cannot take the decision asked for
│   ├── ProposalNotFound
│   └── ProposalNotPending  already decided, expired or executed
├── LedgerError             the ledger or its audit trail refused a write
│   └── SubjectOpen          another proposal is still open on the same subject
├── AuthenticationError     who is asking could not be established: wrong user id or password,
│                           locked out, or a signed decision that does not verify or is too old
├── AuthorizationError      who is asking is known but may not do this: role, area, four eyes
├── UserError               a user operation that cannot be done as asked (existing or unknown
│                           id, a password outside the policy)
└── PlatformStopped         the kill switch is on: nothing is executed until `resume`
"""

from __future__ import annotations


class FactoryAgentsError(Exception):
    """Root of every error the platform raises on purpose."""


class ConfigurationError(FactoryAgentsError):
    """Settings or policy that cannot be used as given."""


class DataQualityError(FactoryAgentsError):
    """Data too bad, uncertain or stale to act on."""


class MeasurementNotReady(DataQualityError):
    """A verification window holds too little to measure the saving yet; a longer one may."""


class ConnectorError(FactoryAgentsError):
    """A plant system could not be reached or answered badly."""


class WriteRejected(ConnectorError):
    """The device refused a write with a Bad status; final, never retried."""


class WriteVerificationError(ConnectorError):
    """A value written to the plant did not read back as written."""


class GuardrailViolation(FactoryAgentsError):
    """An action outside its allow-list, bounds, maximum step or rate limit."""


class ProposalError(FactoryAgentsError):
    """A proposal that cannot take the decision asked for."""


class ProposalNotFound(ProposalError):
    """No proposal has the given id."""


class ProposalNotPending(ProposalError):
    """The proposal was already decided, has expired or has been executed."""


class LedgerError(FactoryAgentsError):
    """The ledger or its audit trail refused a write."""


class SubjectOpen(LedgerError):
    """A proposal was not recorded: another one is still open on its subject."""

    def __init__(self, subject: str, open_id: str) -> None:
        super().__init__(f"{open_id} is still open on {subject}")
        self.subject = subject
        self.open_id = open_id


class AuthenticationError(FactoryAgentsError):
    """Who is asking could not be established; never says whether the user id exists."""


class AuthorizationError(FactoryAgentsError):
    """The user is known but may not do this: role, area scope or four-eyes rule."""


class UserError(FactoryAgentsError):
    """A user operation that cannot be done as asked (existing or unknown id, weak password)."""


class PlatformStopped(FactoryAgentsError):
    """The kill switch is on: agents are read-only and executions wait until `resume`."""
