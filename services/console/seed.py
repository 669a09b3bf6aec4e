"""Demo agents for `crs seed --demo`: two agents on extensions 1001 and 1002 and their supervisor.

The logins are printed in README.md and docs/console.md; they are for a local demo only.
"""

from __future__ import annotations

import uuid

from services.console import auth
from services.console.accounts import ASSIGN_EXTENSION, FREE_EXTENSION, UPSERT_AGENT, UPSERT_TEAM
from services.runtime import db

SCHEMA = "console"
DEMO_TEAM = ("care-1", "Consumer care 1")
DEMO_AGENTS = (
    # username, display name, password, role, extension
    ("ada", "Ada Moreno", "ada-demo-1001", "agent", "1001"),
    ("ben", "Ben Okafor", "ben-demo-1002", "agent", "1002"),
    ("sam", "Sam Lindqvist", "sam-demo-super", "supervisor", None),
)
NAMESPACE = uuid.UUID("0b6f2e0e-51a4-4c55-9d64-5d1c3a1f7e42")


def upsert_agent(
    conn,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    extension: str | None,
    team_id: str | None,
) -> str:
    """Create or update an agent (and free and take its extension); returns the agent id."""
    if not auth.USERNAME.match(username):
        raise ValueError("a username is 1-64 of a-z, 0-9, '.', '_' or '-'")
    if role not in auth.ROLES:
        raise ValueError(f"role must be one of {', '.join(auth.ROLES)}")
    if extension is not None and not auth.valid_extension(extension):
        raise ValueError("an extension is 1-32 of 0-9, A-Z, a-z, '_', '+' or '-'")
    row = conn.execute(
        UPSERT_AGENT,
        {
            "id": str(uuid.uuid5(NAMESPACE, username)),
            "username": username,
            "display_name": display_name,
            "password_hash": auth.hash_password(password),
            "role": role,
            "team_id": team_id,
        },
    ).fetchone()
    agent_id = str(row[0])
    if extension is not None:
        conn.execute(FREE_EXTENSION, (agent_id, extension))
        conn.execute(ASSIGN_EXTENSION, (extension, agent_id))
    return agent_id


# The languages each demo agent answers chats in (every agent has English by default).
DEMO_LANGUAGES = {"ada": ["en", "fr"], "ben": ["en", "es"]}
# What each demo agent is skilled in: the inbox routes French mail to ada and Spanish to ben (contacts'
# assignment rules name fr and es); a safety chat goes to ada first, a where-to-buy question to ben.
DEMO_SKILLS = {"ada": ["fr", "product_safety", "ingredients"], "ben": ["es", "where_to_buy", "promotions"]}


def seed_demo(database_url: str) -> None:
    """The demo team: ada on 1001, ben on 1002, sam their supervisor."""
    with db.connect(database_url, schema=SCHEMA) as conn:
        conn.execute(UPSERT_TEAM, DEMO_TEAM)
        for username, display_name, password, role, extension in DEMO_AGENTS:
            upsert_agent(
                conn,
                username=username,
                display_name=display_name,
                password=password,
                role=role,
                extension=extension,
                team_id=DEMO_TEAM[0],
            )
        for username, languages in DEMO_LANGUAGES.items():
            conn.execute("UPDATE agents SET languages = %s WHERE username = %s", (languages, username))
        for username, skills in DEMO_SKILLS.items():
            conn.execute("UPDATE agents SET skills = %s WHERE username = %s", (skills, username))
        conn.commit()
