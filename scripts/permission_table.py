"""Print the permission table (services/runtime/permissions.py), each gRPC method's permission, each
console route's and each `crs` command's, as Markdown for docs/security.md: `python scripts/permission_table.py`."""

from __future__ import annotations

from services.runtime import permissions


def main() -> None:
    roles = permissions.ROLES
    print("| permission | " + " | ".join(roles) + " |")
    print("|---|" + "---|" * len(roles))
    for name, holders in permissions.PERMISSIONS.items():
        print(f"| `{name}` | " + " | ".join("allow" if r in holders else "deny" for r in roles) + " |")
    print()
    print("| gRPC method | permission |")
    print("|---|---|")
    for method, needed in permissions.GRPC_METHODS.items():
        print(f"| `{method}` | `{needed}` |")
    print()
    from services.console.app import build_app
    from services.console.permissions import route_permissions
    from services.console.web import Context

    app = build_app(Context(accounts=None, clients=None, hub=None, feed=None, recordings=None, region=""))
    print("| console route | permission |")
    print("|---|---|")
    for route in route_permissions(app):
        if route.method != "HEAD":
            print(f"| `{route.method} {route.path}` | `{route.permission}` |")
    print()
    print("| crs command | permission |")
    print("|---|---|")
    for command, needed in permissions.CLI_COMMANDS.items():
        print(f"| `crs {command}` | `{needed}` |")


if __name__ == "__main__":
    main()
