"""Who runs a `crs` command, and whether the permission table (services/runtime/permissions.py) lets them.

Every command is in CLI_COMMANDS; one that is not is refused. Two kinds of command change data:
- Commands run by the local operator (OWNER_COMMANDS and those marked OPERATOR: accounts, code tables,
  schemas, demo data, the consumer directory as a service sees it). The operator is whoever holds the
  database owner's credentials in CRS_DATABASE_URL: with them every row is theirs to change anyway, so
  that credential, not a flag, is what identifies them. Checked by asking the database whether the URL's
  login owns it; such an operator acts as an admin, and the command's permission must be an admin's.
- Commands that act for a person over gRPC (fulfilment, coupons, inventory, recordings, the knowledge
  import): the person is `--as USER` in `--role` (each command has a default). The command checks that
  role against its permission before it calls anything (`require`), and the service checks the method's
  permission again; a service believes the person only from a certificate it lists in
  CRS_PRINCIPAL_ISSUERS, which is the console alone unless the operator adds `cli`.
Each refusal says why on stderr and is logged with the command, who and the permission.
"""

from __future__ import annotations

import getpass
import logging

import psycopg

from services.runtime import permissions
from services.runtime.principal import Principal
from services.runtime.settings import Common

log = logging.getLogger("services.cli")

# Commands that write a schema directly, as the local operator.
OWNER_COMMANDS = frozenset({"agent add", "agent passwd", "agent disable", "agent token", "codes import"})
# `crs migrate` may create the database it migrates, so there is none to ask yet; PostgreSQL checks it
# instead, since creating roles and schemas takes the owner's rights.
CHECKED_BY_THE_DATABASE = frozenset({"migrate"})
OWNER_ROLE = "admin"
IS_OWNER = """
SELECT r.rolsuper OR d.datdba = r.oid FROM pg_roles r, pg_database d
WHERE r.rolname = current_user AND d.datname = current_database()
"""


class Refused(Exception):
    """The command may not run for whoever asked; the message says why."""


def operator_name() -> str:
    return f"cli:{getpass.getuser()}"


def refuse(command: str, who: str, role: str, permission: str, message: str) -> Refused:
    log.warning(
        "refused: %s",
        message,
        extra={"fields": {"command": command, "username": who, "role": role, "permission": permission}},
    )
    return Refused(message)


def check_command(args) -> None:
    """Before the command runs: it must be in the table, and a local operator's command needs the owner."""
    command = getattr(args, "command_name", "")
    permission = permissions.command_permission(command)
    if permission is None:
        raise refuse(command, operator_name(), "", "", f"crs {command} is not in the permission table")
    if command in CHECKED_BY_THE_DATABASE:
        return
    if permission == permissions.OPERATOR or command in OWNER_COMMANDS:
        check_owner(args, command, permission)


def check_owner(args, command: str, permission: str) -> None:
    url = getattr(args, "database_url", None) or Common.from_env().database_url
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            owner = bool(conn.execute(IS_OWNER).fetchone()[0])
    except psycopg.Error as exc:
        message = (
            f"crs {command} runs as the database owner, and the database did not let CRS_DATABASE_URL in"
        )
        raise refuse(command, operator_name(), "", permission, f"{message}: {exc}".splitlines()[0]) from None
    if not owner:
        raise refuse(
            command,
            operator_name(),
            "",
            permission,
            f"crs {command} runs only for the database owner: CRS_DATABASE_URL logs in as a role that is not",
        )
    if permission != permissions.OPERATOR and not permissions.allowed(OWNER_ROLE, permission):
        raise refuse(
            command,
            operator_name(),
            OWNER_ROLE,
            permission,
            f"crs {command} needs the permission {permission}, which the operator (an admin) does not hold",
        )


def require(args, who: Principal) -> None:
    """For a command acting for a person: refuse before calling anything when their role lacks it."""
    command = getattr(args, "command_name", "")
    permission = permissions.command_permission(command)
    if permission is None or permission in (permissions.LOCAL, permissions.OPERATOR):
        raise refuse(command, who.username, who.role, str(permission), f"crs {command} acts for no person")
    if not permissions.allowed(who.role, permission):
        raise refuse(
            command,
            who.username,
            who.role,
            permission,
            f"crs {command} needs the permission {permission}, which {who.username} as {who.role} does not"
            " hold (roles that do: " + ", ".join(sorted(permissions.PERMISSIONS[permission])) + ")",
        )
