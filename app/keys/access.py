"""What one request may see and write, decided once from its key and then asked by services.

`projects is None` means every project (an admin key, or a server without keys). A project key
sees only runs stored under one of its projects; runs stored without a project belong to no
project and are admin-only. Not seeing a run and a run not existing answer the same 404, so a key
cannot probe another team's ids.
"""

from dataclasses import dataclass

from app.errors import Forbidden, InvalidInput


@dataclass(frozen=True)
class Access:
    projects: frozenset[str] | None = None
    key_id: str | None = None  # the stored key's id; None for LOSSGAP_API_KEYS or no keys

    @property
    def admin(self) -> bool:
        return self.projects is None

    def sees(self, project: str | None) -> bool:
        return self.projects is None or (project is not None and project in self.projects)

    def project_for(self, requested: str | None) -> str | None:
        """The project a new run is stored under: the one asked for, when this key may write
        there; a project key's only project when none is named."""
        if self.projects is None:
            return requested
        if requested is None:
            if len(self.projects) == 1:
                return next(iter(self.projects))
            raise InvalidInput(
                "This key writes to several projects: name one in `project` "
                f"({', '.join(sorted(self.projects))}).",
                details={"projects": sorted(self.projects)},
            )
        if requested not in self.projects:
            raise Forbidden(
                f"This key may not write to project {requested!r}; it writes to "
                f"{', '.join(sorted(self.projects))}. Ask for a key of that project.",
                details={"projects": sorted(self.projects)},
            )
        return requested


EVERYTHING = Access()
