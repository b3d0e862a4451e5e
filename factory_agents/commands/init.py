"""`factory-agents init`: prepare a deployment once: ledger schema, signing key, first engineer.

`up` does this on one machine. On several (docker-compose.yml's `init` job), run it once,
before the workers and the board, against the FACTORY_HOME they share: it migrates the ledger
in FACTORY_DATABASE_URL, creates FACTORY_HOME/signing.key (mode 0600) and, if there are no
users yet, the engineer `engineer` with a generated password in FACTORY_HOME/first-login.txt.
Running it again changes nothing that exists.
"""

from __future__ import annotations

from rich.console import Console

from factory_agents.settings import Settings

console = Console(soft_wrap=True)


def init_command() -> None:
    """Migrate the ledger, create the signing key and (on a fresh home) the first engineer."""
    from factory_agents.identity import key_id, load_signing_key
    from factory_agents.ledger.repository import Ledger
    from factory_agents.platform import first_engineer

    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with Ledger.open(settings.ledger_url):
        pass  # opening migrates the schema to the newest version
    console.print(f"ledger ready: {_without_password(settings.ledger_url)}")
    key = load_signing_key(settings.home, create=True)
    console.print(f"signing key {key_id(key)} in {(settings.home / 'signing.key').resolve()}")
    first_login = first_engineer(settings)
    if first_login is None:
        console.print("users exist already; none was added")
    else:
        console.print(f"first login: user 'engineer', password in {first_login.resolve()}")


def _without_password(url: str) -> str:
    """The URL as safe to print."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
