"""Plain data the lab hands to its callers (CLI, pages): no Prefect objects leave patternlab."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, computed_field, model_validator

from flows.catalog import FLOW_ROLES, PATTERNS, Pattern, Role

# How long after a launch's last run ended its task runs and logs are all recorded (Prefect
# writes them from the events and log batches the flow processes send, after the final state)
SETTLE_S = 10.0

__all__ = ["PATTERNS", "Pattern", "Role"]  # and the models below
# Our own small status vocabulary (Prefect's StateType, lower-cased); `state` keeps Prefect's name.
Status = Literal[
    "scheduled", "pending", "running", "completed", "failed", "crashed", "cancelled",
    "cancelling", "paused", "unknown",
]  # fmt: skip
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "crashed", "cancelled"})


def _plain(value: datetime) -> datetime:
    """Return a standard-library datetime: Prefect's are pendulum's subclass, which plotly's JSON
    encoder (orjson) refuses and which would otherwise leak out of patternlab."""
    return value if type(value) is datetime else datetime.fromisoformat(value.isoformat())


# Every time in the lab's models: a datetime of the standard library, whatever Prefect handed over
Moment = Annotated[datetime, AfterValidator(_plain)]


class Contributor(BaseModel):
    """One contributor and their commit count on the default branch."""

    login: str
    contributions: int


class WeekCommits(BaseModel):
    """Commits in one week (start of week, UTC) by the repository's top contributors."""

    week: Moment
    commits: int


class RepoStats(BaseModel):
    """A repository's statistics as one flow computed them."""

    repo: str
    source: Literal["github", "snapshot"]
    source_note: str = ""
    snapshot_date: str | None = None
    synthetic: bool = False  # the snapshot's generated organisation: not real figures
    description: str | None = None
    stars: int
    forks: int
    open_issues: int
    watchers: int
    default_branch: str
    created_at: str | None = None
    pushed_at: str | None = None
    contributors: int
    commits: int
    avg_commits_per_contributor: float
    stats_status: Literal["complete", "computing"] = "complete"
    top_contributors: list[Contributor] = Field(default_factory=list)
    weekly_commits: list[WeekCommits] = Field(default_factory=list)


class FlowRunInfo(BaseModel):
    """One flow run of a launch, as read back from Prefect (the lab's one flow-run model)."""

    id: str
    name: str
    flow: str
    role: Role  # from the flow's name when not given (flows/catalog.py)
    state: str  # Prefect's state name, e.g. "Completed", "Late", "AwaitingRetry"
    status: Status
    message: str | None = None
    pid: int | None = None
    host: str | None = None
    worker: str | None = None  # the Prefect worker that started it (None: the runner, a parent)
    work_pool: str | None = None  # the work pool its deployment sits on (None: served)
    parent_id: str | None = None
    created_by: str = "lab"  # "lab", "parent flow", "automation"
    created: Moment
    start: Moment | None = None
    end: Moment | None = None
    ui_url: str | None = None
    task_runs: int = 0
    work_s: float | None = None
    held_s: float | None = None  # waited on purpose (the events upstream's hold)
    pending_at: Moment | None = None  # entered Pending (picked up); entry runs, once over
    retried_tasks: list[str] = Field(default_factory=list)  # one entry per retry of a task run
    # What the run was started with: read by the lab, never in a report (exclude).
    parameters: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _role_from_flow(cls, data: Any) -> Any:
        """Fill in the role from the flow's name (an unknown flow counts as an entry)."""
        if isinstance(data, dict) and data.get("role") is None:
            data = {**data, "role": FLOW_ROLES.get(data.get("flow", ""), ("", "entry"))[1]}
        return data

    @property
    def final(self) -> bool:
        """Say whether the run has reached a final state."""
        return self.status in FINAL_STATUSES


class Separation(BaseModel):
    """Separation traits observed in what actually ran."""

    conceptual: bool
    execution: bool
    awareness: bool
    # Traits documented for the pattern that could not be observed: the runs that would show
    # them (a subflow, child or triggered run) did not run, e.g. after a failing entry step.
    not_observed: list[str] = Field(default_factory=list)


class Timings(BaseModel):
    """Where a pattern's time went, in seconds (see docs/metrics.md for definitions)."""

    end_to_end_s: float | None = None
    queue_s: float | None = None
    pickup_s: float | None = None  # queue's first part: Scheduled -> Pending (the runner's poll)
    process_start_s: float | None = None  # queue's second part: Pending -> Running
    execution_s: float | None = None
    handoff_s: float | None = None
    work_s: float | None = None
    held_s: float | None = None  # time a flow waited on purpose: neither work nor overhead
    overhead_s: float | None = None


class RepoRank(BaseModel):
    """A repository and the figure it is ranked by."""

    repo: str
    value: float


class Aggregate(BaseModel):
    """A fan-out's launch-level figures, computed by the lab from the per-repository statistics."""

    repositories: int  # with statistics
    missing: list[str] = Field(default_factory=list)  # launched, but no statistics came back
    stars: int
    forks: int
    open_issues: int
    contributors: int
    commits: int
    avg_commits_per_contributor: float  # all commits / all contributors
    top_by_stars: list[RepoRank] = Field(default_factory=list)
    top_by_commits_per_contributor: list[RepoRank] = Field(default_factory=list)
    synthetic: bool = False
    source_note: str = ""


class Progress(BaseModel):
    """A running fan-out by counts (its runs are not read one by one while it runs)."""

    expected_runs: int  # flow runs the pattern makes for its repositories
    runs: dict[str, int] = Field(default_factory=dict)  # status -> count, of the runs seen
    task_runs: int | None = None

    @property
    def final(self) -> int:
        """Return how many runs are in a final state."""
        return sum(n for s, n in self.runs.items() if s in FINAL_STATUSES)


class PatternReport(BaseModel):
    """What one pattern did in one launch (one round of it, when the launch repeats)."""

    pattern: Pattern
    # "Failed" as soon as a run failed (settled, though runs may still be due); else "Running"
    # until every expected run is final, then "Completed".
    state: str
    status: Status
    done: bool
    pending: str | None = None  # what the pattern still waits for, e.g. "waiting for the alert"
    stats: RepoStats | None = None
    flow_runs: list[FlowRunInfo] = Field(default_factory=list)
    task_runs: int = 0
    processes: int = 0
    separation: Separation
    timings: Timings
    variant: str | None = None  # "wait" / "fire-and-forget" for the deployments pattern
    alert: str | None = None  # events pattern: what the proactive trigger did
    errors: list[str] = Field(default_factory=list)
    round: int = 0  # which repetition of the pattern (0 when the launch does not repeat)
    queued: bool = False  # planned, waiting for its turn (fair timings: one pattern at a time)
    repos: int = 1  # repositories the pattern computed
    repo_stats: list[RepoStats] = Field(default_factory=list)  # fan-out, once it is over
    aggregate: Aggregate | None = None  # fan-out, once it is over
    progress: Progress | None = None  # fan-out, while it runs
    concurrency_limit: int | None = None  # deployments' fan-out: the child deployment's limit

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hosts(self) -> int:
        """Return how many distinct hosts ran this pattern's flows (as the flows recorded)."""
        return len({r.host for r in self.flow_runs if r.host})


class LaunchReport(BaseModel):
    """Everything the lab knows about one launch."""

    launch_id: str
    repo: str
    source: str  # the source used: "github", "snapshot", or "mixed" (source_note says why)
    source_requested: str = ""  # what the launch asked for: "auto", "github" or "snapshot"
    source_note: str = ""  # why `auto` fell back to the snapshot, or why the sources are mixed
    created: Moment | None = None
    drill: str = "none"  # the failure drill chosen at launch (see patternlab/drills.py)
    hold_s: float = 0.0  # events upstream held this long on purpose (past 10 s fires the alert)
    done: bool
    patterns: list[PatternReport]
    notices: list[str] = Field(default_factory=list)  # e.g. "the runner had stopped; restarted"
    order: str = "together"  # "sequential": one pattern at a time (fair); "together": contended
    repeat: int = 1  # rounds of each pattern
    repos: int = 1  # repositories in the workload
    owner: str | None = None  # the workload is this owner's repositories
    synthetic: bool = False  # the workload is the snapshot's synthetic organisation

    def settled(self, when: datetime) -> bool:
        """Say whether the report can no longer change: done, and its last run ended SETTLE_S ago.

        Prefect records task runs (and log lines) from what the flow processes send, a moment
        after a run's final state: a report read just then can count a task run too few.
        """
        ends = [r.end for p in self.patterns for r in p.flow_runs if r.end is not None]
        return self.done and (not ends or (when - max(ends)).total_seconds() >= SETTLE_S)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pool(self) -> str | None:
        """Return the work pool the launch's runs were created on (None: a runner served them)."""
        return next((r.work_pool for p in self.patterns for r in p.flow_runs if r.work_pool), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def execution(self) -> Literal["serve", "pool"]:
        """Say how the launch was executed: by a runner (serve) or by workers on a pool."""
        return "pool" if self.pool else "serve"


class HistoryRow(BaseModel):
    """One pattern of one past launch (its entry run), as listed in History."""

    launch_id: str
    pattern: str
    repo: str
    source: str
    state: str
    status: Status
    created: Moment
    duration_s: float | None = None  # the entry run's own running time
    end_to_end_s: float | None = None  # the pattern's, as on Compare; None until it is over
    flow_run_id: str
    ui_url: str | None = None
    repos: int = 1  # repositories the launch computed
    synthetic: bool = False  # the snapshot's synthetic organisation: not real figures
    round: int = 0  # which repetition of the pattern
    patterns: list[str] = Field(default_factory=list)  # every pattern the launch ran
    drill: str = "none"  # the launch's failure drill
    variant: str = ""  # the launch's deployment variant ("wait" / "fire-and-forget")
    hold_s: float = 0.0  # the events upstream held on purpose


class HistoryPage(BaseModel):
    """One page of History and how many rows match the filters in all."""

    rows: list[HistoryRow]
    total: int
