"""The Compare page's Grad-CAM heatmaps and whole-song timelines, driven with AppTest on the tiny runs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.app import copy_runs, figures, metric_values, no_traceback, open_page, start, wav_bytes
from tests.helpers.audio import tone

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def app_runs(tiny_runs, tmp_path_factory):
    return copy_runs(tiny_runs, tmp_path_factory.mktemp("explain-app-runs") / "models")


@pytest.fixture
def runs_dir(app_runs, monkeypatch):
    monkeypatch.setenv("GENREC_RUNS", str(app_runs))
    return app_runs


def gradcam_figures(at) -> list:
    return [f for f in figures(at) if (f.layout.title.text or "").startswith("Grad-CAM")]


def check_heatmaps(at, explanations) -> None:
    """Two overlays, VGG16 then ResNet50, matching the explanations, on one colour scale."""
    figs = gradcam_figures(at)
    assert len(figs) == 2
    tops = {f.data[1].zmax for f in figs}
    assert len(tops) == 1  # one colour scale shared by both models
    for fig, expl in zip(figs, explanations):
        base, heat = fig.data
        assert base.type == heat.type == "heatmap" and heat.name == "Grad-CAM"
        assert fig.layout.xaxis.title.text == "time (s)" and "Hz" in fig.layout.yaxis.title.text
        assert f"'{expl.genre}'" in fig.layout.title.text
        times = np.asarray(heat.x, dtype=float)
        np.testing.assert_allclose(np.asarray(heat.z, dtype=float), expl.relative(times), atol=2e-3)
        assert max(np.asarray(heat.z).max() for f in figs for heat in f.data[1:]) <= heat.zmax + 1e-9


@slow
def test_library_clip_shows_both_heatmaps(runs_dir):
    from genrec.runs.reader import list_runs
    from genrec.serve.explain import explain
    from genrec.serve.recommend import Recommender

    at = start()
    at.selectbox(key="pick_track").set_value("jazz.00003").run()
    assert not gradcam_figures(at)  # off by default for library clips: picking them loads no model
    at.toggle(key="gradcam_library").set_value(True).run()
    no_traceback(at)
    assert not at.error
    runs = {r.arch: r for r in list_runs(runs_dir)[0]}
    recs = [Recommender(runs[a]) for a in ("vgg16", "resnet50")]
    path = recs[0].tracks.set_index("track_id").loc["jazz.00003", "path"]
    check_heatmaps(at, explain(recs, source=path))
    at.selectbox(key="gradcam_genre").set_value("metal").run()
    no_traceback(at)
    check_heatmaps(at, explain(recs, source=path, genre="metal"))


@slow
def test_upload_shows_both_heatmaps(runs_dir, tiny_library_dir):
    from genrec.runs.reader import list_runs
    from genrec.serve.explain import explain
    from genrec.serve.recommend import Recommender

    data = (tiny_library_dir / "rock" / "rock.00002.wav").read_bytes()
    at = start()
    at.segmented_control(key="query_source").set_value("upload").run()
    at.file_uploader(key="upload").set_value(("clip.wav", data, "audio/wav")).run()
    no_traceback(at)
    assert not at.error
    runs = {r.arch: r for r in list_runs(runs_dir)[0]}
    check_heatmaps(at, explain([Recommender(runs[a]) for a in ("vgg16", "resnet50")], source=data, name="clip.wav"))


@slow
def test_two_minute_upload_shows_timelines(runs_dir):
    from genrec.runs.reader import list_runs
    from genrec.serve.recommend import Recommender
    from genrec.serve.song import analyse_song, decode_song

    y = np.concatenate([tone(60.0, 220.0), tone(60.0, 880.0, seed=1)])
    data = wav_bytes(y)
    at = start()
    at.segmented_control(key="query_source").set_value("upload").run()
    at.file_uploader(key="upload").set_value(("song.wav", data, "audio/wav")).run()
    no_traceback(at)
    assert not at.error
    assert any("the whole 120 s are analysed" in i.value for i in at.info)
    runs = {r.arch: r for r in list_runs(runs_dir)[0]}
    recs = [Recommender(runs[a]) for a in ("vgg16", "resnet50")]
    timelines = analyse_song(recs, decode_song(data, name="song.wav"))
    shown = [f for f in figures(at) if "over the song" in (f.layout.title.text or "")]
    assert [f.layout.title.text.split(":")[0] for f in shown] == ["VGG16", "ResNet50"]
    for fig, timeline in zip(shown, timelines):
        assert fig.layout.xaxis.title.text == "time (s)"
        assert len(fig.data) == len(timeline.genres)
        for trace, column in zip(fig.data, timeline.probabilities.T):
            np.testing.assert_allclose(trace.x, [15, 45, 75, 105])
            np.testing.assert_allclose(trace.y, column, atol=1e-6)
    # the song-level prediction is the mean over the windows; a region narrows it
    genres = timelines[0].genres
    assert metric_values(at, "Predicted genre") == [genres[int(np.argmax(t.probabilities.mean(0)))] for t in timelines]
    at.slider(key="song_region").set_value((60.0, 120.0)).run()
    no_traceback(at)
    assert metric_values(at, "Predicted genre") == [
        genres[int(np.argmax(t.probabilities[2:].mean(0)))] for t in timelines
    ]
    assert metric_values(at, "Confidence") == [f"{t.probabilities[2:].mean(0).max():.0%}" for t in timelines]


@slow
def test_training_runs_page_head_to_head_and_hubness(runs_dir):
    from genrec.evaluate.headtohead import head_to_head
    from genrec.evaluate.report import run_hubness
    from genrec.runs.reader import list_runs

    runs = {r.arch: r for r in list_runs(runs_dir)[0]}
    h = head_to_head(runs["vgg16"], runs["resnet50"])
    at = start()
    open_page(at, "training_runs")
    no_traceback(at)
    assert not at.error
    verdicts = [m.value for m in (at.success if h.distinguishable else at.warning)]
    assert h.verdict() in verdicts
    assert metric_values(at, "McNemar exact p") == [f"{h.p_value:.3g}"]
    assert metric_values(at, "95 % interval (paired bootstrap)") == [f"{h.interval[0]:+.2f} to {h.interval[1]:+.2f}"]
    f1 = next(f for f in figures(at) if (f.layout.title.text or "").startswith("F1 per genre"))
    np.testing.assert_allclose(f1.data[0].x, h.f1_difference.to_numpy())
    cm = next(f for f in figures(at) if (f.layout.title.text or "").startswith("Confusion matrix: VGG16 minus"))
    np.testing.assert_array_equal(cm.data[0].z, h.confusion_difference.to_numpy())
    assert any(e.label == f"{len(h.disagreements)} test clip(s) where the two runs disagree" for e in at.expander)
    shown = [m for m in (x.value for x in at.markdown) if "true <span" in m]
    assert len(shown) == len(h.disagreements)
    for text, row in zip(shown, h.disagreements.itertuples()):
        assert f"**{row.track_id}**" in text and f"**{row.predicted_a}**" in text and f"**{row.predicted_b}**" in text
    table = at.dataframe[-1].value
    for column, run in zip(table.columns, (runs["vgg16"], runs["resnet50"])):
        hub, r = run_hubness(run), run.metrics_summary.retrieval
        assert table.loc["k-occurrence skewness", column] == pytest.approx(hub.skewness)
        assert table.loc["never recommended", column] == pytest.approx(hub.never_recommended)
        assert table.loc["precision@5", column] == pytest.approx(r.precision_at_k)
