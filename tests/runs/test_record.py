"""run.json and metrics.json are written and read through the same typed records."""

from __future__ import annotations

import json
from dataclasses import replace

from genrec.runs.layout import METRICS_JSON, RUN_JSON
from genrec.runs.reader import Run
from genrec.runs.record import RunMetrics, RunRecord


def test_record_and_metrics_round_trip_through_json(tiny_runs):
    run = Run.open(tiny_runs["vgg16"])
    record = run.info
    again = RunRecord.from_json(run.path / RUN_JSON, json.loads(json.dumps(record.to_json())))
    assert replace(again, raw={}) == replace(record, raw={})
    assert again.to_json() == record.to_json()
    saved = json.loads((run.path / RUN_JSON).read_text())
    assert {k: v for k, v in record.to_json().items() if k in saved} == saved  # nothing recorded is lost

    metrics = run.metrics_summary
    back = RunMetrics.from_json(run.path / METRICS_JSON, json.loads(json.dumps(metrics.to_json())), record.genres)
    assert back == metrics
    assert metrics.to_json() == json.loads((run.path / METRICS_JSON).read_text())


def test_hubness_is_typed_and_a_damaged_figure_names_its_field(tiny_runs):
    import pytest

    from genrec.errors import RunError

    run = Run.open(tiny_runs["vgg16"])
    hub = run.metrics_summary.hubness
    saved = json.loads((run.path / METRICS_JSON).read_text())
    assert hub.to_json() == saved["hubness"] and hub.n == len(run.tracks) and 0 <= hub.never_recommended <= 1
    damaged = {**saved, "hubness": {**saved["hubness"], "skewness": "high"}}
    with pytest.raises(RunError, match=r"'hubness\.skewness' must be a number; got a text \"high\""):
        RunMetrics.from_json(run.path / METRICS_JSON, damaged, run.info.genres)
    older = {k: v for k, v in saved.items() if k != "hubness"}  # runs evaluated before hubness was recorded
    assert RunMetrics.from_json(run.path / METRICS_JSON, older, run.info.genres).hubness is None
