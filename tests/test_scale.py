"""The scale benchmark (`bench --scale`) and the Scale page that draws its curves.

Pure checks of the curves and targets on known rows; then a real `bench --scale 1,2 --json`
(its own backend, every variant at N=1 and N=2: the CI smoke test, shape and completion only,
never a timing) whose saved result the Scale page must draw.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st

from patternlab.bench import scale, scale_report, scale_worker
from tests.test_pages import open_page, shown

ROOT = Path(__file__).resolve().parent.parent


def _row(variant: str, n: int, e2e: float, flow_runs: int, peak: int = 1) -> dict:
    """Return one run's row as the scale worker answers it."""
    pattern = scale_report.VARIANTS[variant][0]
    return {"variant": variant, "pattern": pattern, "repos": n, "completed": True, "state": "ok",
            "end_to_end_s": e2e, "wall_s": e2e, "flow_runs": flow_runs, "task_runs": n,
            "processes": 1, "api_calls": 10 * n, "peak_running": peak, "poll_ms": 20.0,
            "poll_calls": 3, "lock_retries": 0}  # fmt: skip


def test_marginal_cost_is_the_slope_between_sizes():
    """(e2e at 32 - e2e at 8) / 24 repositories, in ms; per-repo is e2e / N."""
    points = scale_report.curves([
        _row("monoflow threads", 8, 1.2, 1), _row("monoflow threads", 32, 1.68, 1),
    ])  # fmt: skip
    assert [p["marginal_ms"] for p in points] == [None, 20.0]
    assert [p["per_repo_ms"] for p in points] == [150.0, 52.5]


def test_lost_runs_are_the_flow_runs_a_pattern_should_have_made_but_did_not():
    """Events over 8 repositories make 16 runs: 15 seen is one lost."""
    points = scale_report.curves([_row("events", 8, 9.0, 15)])
    assert points[0]["lost_runs"] == 1


def test_targets_read_the_largest_size():
    """The marginal-cost targets use the last step; the poll target the idle poll."""
    points = scale_report.curves([
        _row("monoflow threads", 8, 1.0, 1), _row("monoflow threads", 128, 3.0, 1),
        _row("deployments limit 4", 8, 5.0, 9), _row("deployments limit 4", 128, 65.0, 129),
    ])  # fmt: skip
    found = {t["target"]: t for t in scale_report.targets(points, {"repos": 128, "poll_ms": 80})}
    assert found["monoflow threads: marginal cost per repository (ms)"]["value"] == 16.7
    assert found["monoflow threads: marginal cost per repository (ms)"]["met"] is True
    assert found["deployments at concurrency 4: marginal cost per repository (ms)"]["value"] == 500
    assert found["one dashboard poll of a running 128-repository launch (ms)"]["met"] is True


def test_saturation_notes_name_the_measured_peak_and_the_limit():
    """The deployments note gives the peak flow runs at once and the concurrency limit."""
    points = scale_report.curves([_row("deployments limit 4", 32, 20.0, 33, peak=5)])
    note = scale_report.saturation(points, {"runner_process_limit": None, "cpus": 2})
    assert "at most 5 flow runs at once" in note["deployments limit 4"]
    assert "concurrency limit of 4" in note["deployments limit 4"]
    assert "1.6 repositories/s at N=32" in note["deployments limit 4"]
    assert "10 API requests per repository" in note["deployments limit 4"]


def test_the_dask_note_sets_its_measured_cost_beside_the_thread_pool():
    """The Dask note gives both variants' marginal cost at their largest N, as measured."""
    points = scale_report.curves([
        _row("monoflow threads", 32, 1.2, 1), _row("monoflow threads", 128, 2.4, 1),
        _row("monoflow dask", 32, 4.0, 1), _row("monoflow dask", 128, 13.6, 1),
    ])  # fmt: skip
    note = scale_report.saturation(points, {"runner_process_limit": None, "cpus": 2})
    assert ("100.0 ms at N=128 per repository against 12.5 ms at N=128 on threads, on 2 cores"
            in note["monoflow dask"])  # fmt: skip
    alone = scale_report.curves([_row("monoflow dask", 8, 2.0, 1)])  # no step, no threads
    note = scale_report.saturation(alone, {})["monoflow dask"]
    assert "? ms at N=8 per repository against ? ms at N=? on threads" in note


def _unfinished(variant: str, n: int, flow_runs: int) -> dict:
    """Return the row of a run that was still going at the benchmark's deadline."""
    return _row(variant, n, 0.0, flow_runs) | {
        "completed": False, "state": "Running", "end_to_end_s": None, "processes": 0,
        "wall_s": 150.6,
    }  # fmt: skip


def test_a_launch_that_did_not_complete_loses_no_runs_and_its_note_says_so():
    """Runs of an unfinished launch are not read yet, not lost; its note says it did not end."""
    points = scale_report.curves([_row("events", 32, 56.4, 64, peak=12),
                                  _unfinished("events", 128, 1)])  # fmt: skip
    assert [p["lost_runs"] for p in points] == [0, None]
    found = {t["target"]: t for t in scale_report.targets(points, {"repos": 128})}
    assert found["128 repositories: launches that did not complete"]["value"] == 1
    assert found["128 repositories: runs lost"]["value"] is None  # none of them completed
    note = scale_report.saturation(points, {"runner_process_limit": None, "cpus": 2})["events"]
    assert note.startswith("did not complete at N=128 (Running after 150.6 s); ")
    assert "0.6 repositories/s at N=32" in note
    assert "at most 12 flow runs at once" in note


def test_a_runner_limit_above_the_peak_is_not_named_as_the_bound():
    """12 events runs at once under a runner limit of 5: the limit did not bound them."""
    points = scale_report.curves([_row("events", 32, 56.4, 64, peak=12)])
    note = scale_report.saturation(points, {"runner_process_limit": 5, "cpus": 2})["events"]
    assert "limit of 5" not in note
    assert "at most 12 flow runs at once" in note
    at_limit = scale_report.curves([_row("events", 32, 56.4, 64, peak=5)])
    note = scale_report.saturation(at_limit, {"runner_process_limit": 5, "cpus": 2})["events"]
    assert "at most 5 flow runs at once (the runner's limit of 5 processes)" in note


def test_one_flow_run_at_once_is_singular():
    """A peak of one reads "1 flow run at once"."""
    points = scale_report.curves([_row("events", 8, 9.0, 16, peak=1)])
    note = scale_report.saturation(points, {"runner_process_limit": None, "cpus": 2})["events"]
    assert "at most 1 flow run at once" in note


def test_the_curves_draw_only_finished_points_on_log_axes_and_say_what_they_leave_out():
    """An unfinished launch and a marginal cost <= 0 cannot be drawn on a log axis: the axes
    stay logarithmic, and the notes name each point left out and why."""
    from patternlab.views import scale as views_scale
    from patternlab.views import scale_charts

    rows = [_row("monoflow threads", 1, 1.8, 1), _row("monoflow threads", 8, 1.3, 1),
            _row("events", 8, 12.7, 16), _unfinished("events", 128, 1)]  # fmt: skip
    result = {"curves": scale_report.curves(rows)}
    curves = views_scale.curves_frame(result)
    for column, title, unit in views_scale.CURVES:
        figure = scale_charts.curve_figure(curves, column, title, unit)
        assert figure.layout.xaxis.type == "log"
        assert figure.layout.yaxis.type == "log", column
        events = next((t for t in figure.data if t.name == "events"), None)
        assert events is None or list(events.x) == [8], column
    table = views_scale.points_table(curves)
    assert table["marginal ms"].tolist()[:2] == ["–", "-71.4"]  # none at the smallest N
    assert not table.isin(["None", "nan", None]).any().any()
    tabs = views_scale.points_by_variant(curves)
    assert list(tabs) == ["monoflow threads", "events"]
    assert tabs["events"]["N"].tolist() == ["8", "128"]
    assert tabs["events"]["done"].tolist() == ["1/1", "0/1"]
    assert "variant" not in tabs["events"]
    notes = views_scale.left_out(curves)
    assert "events at N=128: did not complete (0 of 1 runs)" in notes
    assert (
        "monoflow threads at N=8: marginal cost of one more repository -71.4 ms per repository"
    ) in notes


def test_targets_and_the_poll_note_never_show_none():
    """A target or poll figure that was not measured shows `–`; measured ones read as numbers."""
    from patternlab.views import scale as views_scale

    result = {"targets": [
        {"target": "poll ms", "value": 1234.56, "limit": "<= 100", "met": False},
        {"target": "lost runs", "value": None, "limit": "== 0", "met": None},
    ]}  # fmt: skip
    frame = views_scale.targets_frame(result)
    assert frame["value"].tolist() == ["1,234.6", "–"]
    assert frame["met"].tolist() == ["MISSED", "not measured"]
    assert "None" not in views_scale.poll_note({})
    note = views_scale.poll_note({"repos": 128, "launch": "subflows", "poll_ms": 98.04,
                                  "poll_ms_max": 150.0, "poll_calls": 3})  # fmt: skip
    assert "128-repository launch (subflows): 98.0 ms median (150.0 ms at most), 3 API" in note


@pytest.mark.parametrize("text", ["0,8", "1,300", "a,b", ""])
def test_bad_sizes_are_refused(text):
    """Sizes are whole numbers from 1 to 256."""
    with pytest.raises(ValueError, match="--scale"):
        scale.parse_sizes(text)


def test_sizes_are_sorted_and_unique():
    """ "32,1,8,8" is 1, 8, 32."""
    assert scale.parse_sizes("32,1,8,8") == [1, 8, 32]


def test_a_failed_scale_run_keeps_the_backends_logs(tmp_path):
    """When a run does not complete, the server, runner and worker logs are copied out."""
    scratch = tmp_path / "scratch"
    (scratch / "home" / "logs").mkdir(parents=True)
    (scratch / "home" / "logs" / "server.log").write_text("GET /api/health 200\n")
    (scratch / "worker.log").write_text("worker says\n")
    said: list[str] = []
    kept = scale.keep_logs(scratch, tmp_path / "bench", said.append)
    assert kept is not None
    assert (Path(kept) / "server.log").read_text() == "GET /api/health 200\n"
    assert (Path(kept) / "worker.log").read_text() == "worker says\n"
    assert kept in said[-1]
    assert scale.keep_logs(tmp_path / "missing", tmp_path / "bench", said.append) is None
    assert "could not keep" in said[-1]


@pytest.fixture(scope="module")
def smoke(lab_backend) -> dict:
    """Run `python -m patternlab bench --scale 1,2 --json` (its own backend; the lab's home)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    argv = [sys.executable, "-m", "patternlab", "bench", "--scale", "1,2", "--json"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_bench_scale_runs_every_variant_at_every_size(smoke):
    """A point per variant and size, each completed with its flow runs, counted API calls."""
    assert {(p["variant"], p["repos"]) for p in smoke["curves"]} == {
        (v, n) for v in scale_report.VARIANTS for n in (1, 2)
    }
    for p in smoke["curves"]:
        assert (p["runs"], p["completed"], p["lost_runs"]) == (1, 1, 0), p
        assert p["flow_runs"] == scale_report.expected_runs(p["pattern"], p["repos"])
        assert p["api_calls"] > 0
    assert smoke["quiet_poll"]["running"] is True
    assert smoke["quiet_poll"]["launch"] == "subflows, one after another"
    # every measured run started on a quiet machine, or says it did not
    for measured in [*smoke["runs"], smoke["quiet_poll"]]:
        assert measured["quiet_wait_s"] <= scale_worker.QUIET_WAIT_S + 1.0
        assert isinstance(measured["quiet_at_start"], bool)
    assert smoke["quiet_poll"]["poll_calls"] <= 5
    assert {t["target"] for t in smoke["targets"]} >= {"lock retries (all runs)"}
    assert set(smoke["saturation"]) == set(scale_report.VARIANTS)


def test_the_scale_page_draws_the_saved_curves(smoke):
    """The Scale page draws the six curves of the saved result on log axes, with the targets."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    st.cache_data.clear()
    assert scale.latest_scale()["machine"] == smoke["machine"]  # saved where the page reads it
    at = open_page("pages/4_Scale.py")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 6
    assert all(c["layout"]["xaxis"]["type"] == "log" for c in charts)
    targets = next(t.value for t in at.dataframe if "target" in t.value.columns)
    assert targets["target"].tolist() == [t["target"] for t in smoke["targets"]]
    assert any("Synthetic data" in shown(w.value) for w in at.warning)


def test_the_scale_page_says_how_to_get_curves_when_there_are_none(lab_backend, monkeypatch):
    """Before any scale benchmark the page says which command draws its curves."""
    st.cache_data.clear()
    monkeypatch.setattr(scale, "result_path", lambda settings=None: Path("/nonexistent/x.json"))
    at = open_page("pages/4_Scale.py")
    assert any("bench --scale" in shown(i.value) for i in at.info)
    assert not at.get("plotly_chart")


def test_the_measured_note_reads_as_plain_text():
    """When and how long in words a reader takes in (not an ISO stamp, not a markdown command
    the page escapes into backticks), with the load average and how many runs each point is."""
    from patternlab.views import scale as views_scale

    machine = {
        "sizes": [1, 8, 32, 128],
        "finished": "2026-12-06T17:46:29+00:00",
        "took_s": 1205.5,
        "cpus": 2,
        "loadavg_before": [0.9, 2.0, 2.2],
        "loadavg_after": [7.94, 6.2, 4.8],
        "source": "snapshot (synthetic)",
        "repeat": 3,
    }
    note = views_scale.measured_note({"machine": machine})
    assert note == ("bench --scale 1,8,32,128 finished 2026-12-06 17:46 UTC after 20 min 6 s on "
                    "2 cores; load average 0.9 before, 7.94 after; snapshot (synthetic); "
                    "3 runs per point (medians).")  # fmt: skip
    bare = views_scale.measured_note({"machine": {"repeat": 1, "took_s": 43.2}})
    assert "at an unknown time after 43 s" in bare
    assert "1 run per point" in bare


def test_the_page_reads_a_saved_result_with_this_versions_notes_and_the_file_stays_raw(
    tmp_path, monkeypatch
):
    """A result saved by an older version keeps its own notes in its file; what the page reads
    carries the notes this version draws from the same figures, and a file of another shape
    keeps its own."""
    from patternlab.ui import reads

    points = scale_report.curves([_row("monoflow threads", 32, 1.2, 1),
                                  _row("monoflow threads", 128, 2.4, 1)])  # fmt: skip
    saved = {"curves": points, "limits": {"cpus": 2}, "saturation": {"monoflow threads": "old"}}
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(saved))
    monkeypatch.setattr(scale, "result_path", lambda settings=None: path)
    st.cache_data.clear()  # the page keeps a read for a minute
    note = reads.scale_result()["saturation"]["monoflow threads"]
    assert note == scale_report.saturation(points, {"cpus": 2})["monoflow threads"] != "old"
    assert json.loads(path.read_text())["saturation"] == {"monoflow threads": "old"}
    path.write_text(json.dumps({"curves": [{"variant": "x"}], "saturation": {"x": "its own"}}))
    st.cache_data.clear()
    assert reads.scale_result()["saturation"] == {"x": "its own"}
