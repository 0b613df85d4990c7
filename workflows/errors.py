"""Exception and problem types shared by the engine adapter modules."""

from dataclasses import asdict, dataclass


@dataclass
class Problem:
    """One thing wrong with a diagram, pointing at a BPMN element where possible."""

    element_id: str | None
    message: str
    line: int | None = None

    def to_dict(self) -> dict:
        """Return the problem as a JSON-ready dict."""
        return asdict(self)


class DeploymentError(Exception):
    """A diagram could not be parsed or failed the lint."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(_describe(p) for p in self.problems) or "invalid diagram")


class EngineError(Exception):
    """The engine could not advance an instance; the caller should roll back."""


class TaskNotReady(EngineError):
    """The task does not exist, is not READY or is not a human task."""


class ServiceTaskError(EngineError):
    """A registered service task function raised."""

    def __init__(self, name: str, original: BaseException):
        self.name = name
        self.original = original
        super().__init__(f"service task {name!r} failed: {type(original).__name__}: {original}")


def _describe(problem: Problem) -> str:
    where = f"[{problem.element_id}] " if problem.element_id else ""
    line = f" (line {problem.line})" if problem.line else ""
    return f"{where}{problem.message}{line}"
