"""A run's log lines and traceback read back from Prefect on demand; a launch in Prefect's UI.

Read only when a user asks (a button on the page, `python -m patternlab logs`): a run's logs
are paginated by Prefect, and a failed run's traceback is in them (Prefect's engine logs it).
Secrets the lab knows (the GitHub token, the API's basic-auth string) are masked before
anything leaves this module: the flows never log them, and this makes sure of it.
"""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.sorting import LogSort
from prefect.exceptions import ObjectNotFound
from pydantic import BaseModel, Field

from flows.catalog import launch_tag
from patternlab.backend import prefect_client, ui_url
from patternlab.launch.models import Moment
from patternlab.settings import get_settings

__all__ = ["LogLine", "RunLogs", "launch_ui_url", "mask_secrets", "read_run_logs"]
PAGE = 200  # the Prefect API's largest page
MAX_LINES = 2000  # a run's logs beyond this are cut (said so); the Prefect UI has them all
MASK = "***"
LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


class LogLine(BaseModel):
    """One log line of a flow run (or of one of its task runs)."""

    at: Moment
    level: str
    logger: str
    message: str


class RunLogs(BaseModel):
    """A flow run's log lines, its final state's message and, if it failed, its traceback."""

    flow_run_id: str
    state: str
    message: str = ""
    lines: list[LogLine] = Field(default_factory=list)
    traceback: str = ""  # the last traceback in the logs ("" when none)
    truncated: bool = False


def mask_secrets(text: str) -> str:
    """Replace every secret the lab knows (GitHub token, basic-auth string) with ***."""
    settings = get_settings()
    for secret in (settings.token(), settings.auth_string()):
        if secret:
            text = text.replace(secret, MASK)
    return text


def launch_ui_url(launch_id: str) -> str:
    """Return the Prefect UI's runs list filtered by the launch's tag (the whole launch).

    Prefect 3.9's default UI routes `/v2/runs/` and reads `tags` (comma-separated) from the
    query; with a tag given it applies no default date range.
    """
    return f"{ui_url()}/v2/runs/?tags={quote(launch_tag(launch_id), safe='')}"


def _traceback(lines: list[LogLine]) -> str:
    """Return the last traceback in the log lines ("" when there is none)."""
    found = [line.message for line in lines if "Traceback (most recent call last)" in line.message]
    if not found:
        return ""
    text = found[-1]
    return text[text.index("Traceback (most recent call last)") :]


def read_run_logs(flow_run_id: str) -> RunLogs:
    """Read a flow run's state and its log lines (oldest first, paginated, secrets masked).

    Raises LookupError when no flow run has this id.
    """
    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        raise LookupError(f"{flow_run_id!r} is not a flow run id") from None
    with prefect_client() as client:
        try:
            run = client.read_flow_run(run_id)
        except ObjectNotFound:
            raise LookupError(f"No flow run {flow_run_id} on this Prefect server") from None
        found = []
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
        while len(found) < MAX_LINES + 1:
            page = client.read_logs(log_filter, limit=PAGE, offset=len(found),
                                    sort=LogSort.TIMESTAMP_ASC)  # fmt: skip
            found.extend(page)
            if len(page) < PAGE:
                break
    lines = [
        LogLine(at=log.timestamp, level=LEVELS.get(log.level, str(log.level)), logger=log.name,
                message=mask_secrets(log.message))
        for log in found[:MAX_LINES]
    ]  # fmt: skip
    state = run.state
    return RunLogs(
        flow_run_id=flow_run_id,
        state=state.name if state else "Unknown",
        message=mask_secrets(state.message or "") if state else "",
        lines=lines,
        traceback=_traceback(lines),
        truncated=len(found) > MAX_LINES,
    )
