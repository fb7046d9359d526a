"""Whether the application user holds the integration role (``member-plugins status``).

The functions and the admin CLI run as the same application user. ``WhoAmI`` names it; its
directly assigned roles are the N:N ``systemuserroles_association``. A role reaching the
user only through a team is not seen here (the line says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.dataverse.client import DataverseClient

from .components import fixed_id
from .texts import text


@dataclass(frozen=True)
class RoleCheck:
    """The application user's directly assigned roles, and whether the integration role
    is among them."""

    user_id: str
    roles: tuple[str, ...]
    has_integration_role: bool


def check_application_user(client: DataverseClient) -> RoleCheck:
    """Read the caller's roles (GETs only)."""
    user_id = str(client.call_function("WhoAmI")["UserId"]).lower()
    rows = list(client.related("systemusers", user_id, "systemuserroles_association",
                               select=["roleid", "name"]))
    wanted = fixed_id("role.integration")
    return RoleCheck(
        user_id=user_id,
        roles=tuple(sorted(str(r.get("name")) for r in rows)),
        has_integration_role=any(str(r.get("roleid")).lower() == wanted for r in rows),
    )


def render_role_check(check: RoleCheck) -> str:
    """The status line about the application user's role."""
    role = text("role.integration", "en")
    if check.has_integration_role:
        return f"  role      the application user has '{role}'"
    held = ", ".join(check.roles) or "none"
    return (f"  missing   role '{role}' on the application user {check.user_id} (directly "
            f"assigned roles: {held}): run member-plugins provision, then assign the role "
            "(docs/admin.md)")
