"""The Streamlit dashboard, driven with Streamlit's AppTest against the tiny trained runs.

Every page is run in-process; the tests assert on what the page shows (metrics,
tables, figure data, messages), not only that it did not crash.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
import genrec.app.projection as projection
import genrec.serve.queries as queries
import genrec.training.plan as plan
from genrec.config import GENRES, SAMPLE_RATE
from genrec.errors import AudioError
from tests.helpers.app import (
    APP,
    TIMEOUT,
    copy_runs,
    figures,
    markdown,
    metric_values,
    no_traceback,
    open_page,
    recommendations,
    start,
    wav_bytes,
)
from tests.helpers.audio import tone

ROOT = Path(__file__).resolve().parents[2]

slow = pytest.mark.slow  # drives the app with the tiny trained runs


@pytest.fixture(scope="module")
def shared_runs(tiny_runs, tmp_path_factory) -> Path:
    """One copy for the tests that only read runs: the app's per-process caches then serve them all."""
    return copy_runs(tiny_runs, tmp_path_factory.mktemp("app-runs") / "models")


@pytest.fixture
def runs_dir(shared_runs, monkeypatch) -> Path:
    monkeypatch.setenv("GENREC_RUNS", str(shared_runs))
    return shared_runs


@pytest.fixture
def own_runs_dir(tiny_runs, tmp_path, monkeypatch) -> Path:
    """A private copy, for tests that damage a run."""
    path = copy_runs(tiny_runs, tmp_path / "models")
    monkeypatch.setenv("GENREC_RUNS", str(path))
    return path


# --------------------------------------------------------------------------- compare page
@slow
def test_pick_library_clip_shows_both_models(runs_dir, tiny_runs):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    at = start()
    assert "Compare VGG16 and ResNet50" in at.title[0].value
    # sidebar: a run per architecture, its starting weights always visible
    assert [s.label for s in at.sidebar.selectbox] == ["VGG16 run", "ResNet50 run"]
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert captions.count("Started from **random init**") == 2
    assert tiny_runs["vgg16"].name in captions and tiny_runs["resnet50"].name in captions
    assert not recommendations(at) and at.info  # nothing picked yet: a prompt says what to do

    at.selectbox(key="pick_genre").set_value("jazz").run()
    assert all(o.startswith("jazz.") for o in at.selectbox(key="pick_track").options)
    at.selectbox(key="pick_track").set_value("jazz.00003").run()
    no_traceback(at)
    assert not at.error

    recs = [Recommender(Run.open(tiny_runs[a])) for a in ("vgg16", "resnet50")]
    (vgg, res), shared = compare(recs, track_id="jazz.00003", k=5)
    # predicted genre and confidence of each model, in VGG16 | ResNet50 order
    assert metric_values(at, "Predicted genre") == [vgg.genre, res.genre]
    assert metric_values(at, "Confidence") == [f"{vgg.confidence:.0%}", f"{res.confidence:.0%}"]
    assert metric_values(at, "Shared recommendations") == [f"{shared} of 5"]
    assert [h.value for h in at.subheader if h.value in ("VGG16", "ResNet50")] == ["VGG16", "ResNet50"]
    # the true genre is shown for a library clip
    assert "True genre **jazz**" in " ".join(c.value for c in at.caption)
    assert sum("true genre" in m and ">jazz<" in m for m in markdown(at)) == 2
    # five recommendations per model, in each model's order, with similarity
    shown = recommendations(at)
    assert len(shown) == 10
    expected = list(vgg.neighbours.itertuples()) + list(res.neighbours.itertuples())
    for text, row in zip(shown, expected):
        assert f"{row.track_id}**" in text and f"similarity **{row.similarity:.3f}**" in text
        assert f">{row.genre}<" in text
    # player, waveform, spectrogram and one probability chart per model over all genres
    figs = figures(at)
    assert figs[0].layout.title.text == "Waveform"
    assert figs[1].layout.title.text == "Mel spectrogram" and figs[1].data[0].colorbar.title.text == "dB"
    assert "Hz" in figs[1].layout.yaxis.title.text and figs[1].layout.xaxis.title.text == "time (s)"
    probs = [f for f in figs if f.data and f.data[0].type == "bar"]
    assert len(probs) == 2
    for fig, answer in zip(probs, (vgg, res)):
        assert [y.replace(" ✓", "") for y in fig.data[0].y] == list(GENRES)
        np.testing.assert_allclose(fig.data[0].x, answer.probabilities, rtol=1e-5)
        assert list(fig.data[0].marker.color) == [plots.GENRE_COLOURS[g] for g in GENRES]
    assert len(at.get("audio")) >= 1 + 10
    # the agreement line matches the predictions
    agree, text = dashboard.agreement_text({"vgg16": vgg.genre, "resnet50": res.genre})
    assert text in [m.value for m in (at.success if agree else at.warning)]


@slow
def test_upload_of_a_library_file_is_named_and_left_out(runs_dir, tiny_library_dir):
    at = start()
    at.segmented_control(key="query_source").set_value("upload").run()
    uploader = at.file_uploader(key="upload")
    assert f"{queries.MAX_UPLOAD_MIB} MiB" in uploader.label and set(uploader.allowed_type) >= {
        ".wav",
        ".mp3",
        ".ogg",
        ".flac",
        ".au",
    }
    data = (tiny_library_dir / "blues" / "blues.00001.wav").read_bytes()
    uploader.set_value(("my-song.wav", data, "audio/wav")).run()
    no_traceback(at)
    assert not at.error
    assert len(metric_values(at, "Predicted genre")) == 2
    assert all(v in GENRES for v in metric_values(at, "Predicted genre"))
    # an exact copy of a library file is that track: said so, and (as for a library pick) not recommended
    assert any("This clip is library track `blues.00001` (an exact copy of its file)" in i.value for i in at.info)
    shown = recommendations(at)
    assert len(shown) == 10 and not any("blues.00001**" in m for m in shown)
    assert not any("true genre" in m for m in markdown(at))  # unknown for an upload
    assert any("Query: my-song.wav" in m for m in markdown(at))


@slow
def test_recording_is_analysed(runs_dir):
    at = start()
    at.segmented_control(key="query_source").set_value("record").run()
    at.audio_input(key="record").set_value(("rec.wav", wav_bytes(tone(6.0, 330.0)), "audio/wav")).run()
    no_traceback(at)
    assert not at.error
    assert len(metric_values(at, "Predicted genre")) == 2 and len(recommendations(at)) == 10


@slow
@pytest.mark.parametrize(
    "name, data, message",
    [
        ("broken.wav", b"RIFF this is not really audio" * 50, "not a WAV file"),
        ("short.wav", wav_bytes(tone(1.0)), "only 1.0 s of audio; at least 3 s is needed"),
        ("silence.flac", None, "the audio is silent"),
        ("empty.mp3", b"", "the file is empty"),
    ],
    ids=["corrupt", "one-second", "silent", "empty"],
)
def test_bad_uploads_show_what_to_do(runs_dir, name, data, message):
    if data is None:
        buf = io.BytesIO()
        sf.write(buf, np.zeros(SAMPLE_RATE * 5, np.float32), SAMPLE_RATE, format="FLAC")
        data = buf.getvalue()
    at = start()
    at.segmented_control(key="query_source").set_value("upload").run()
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    no_traceback(at)
    assert len(at.error) == 1
    assert name in at.error[0].value and message in at.error[0].value
    assert not recommendations(at) and not metric_values(at, "Predicted genre")


def test_read_upload_refuses_unsupported_and_oversized():
    with pytest.raises(AudioError, match=r"unsupported file type '\.m4a'.*\.wav"):
        queries.read_upload(b"x" * 100, "song.m4a")
    with pytest.raises(AudioError, match="over the 1 MiB limit"):
        queries.read_upload(b"x" * (2 * 1024 * 1024), "big.wav", max_mib=1)
    q = queries.read_upload(wav_bytes(tone(4.0)), "ok.wav")
    assert q.samples.shape == (30 * SAMPLE_RATE,) and q.kind == "upload" and len(q.digest) == 64


@slow
def test_broken_run_is_reported_not_fatal(tiny_runs, tmp_path, monkeypatch):
    path = copy_runs(tiny_runs, tmp_path / "models", broken=True)
    monkeypatch.setenv("GENREC_RUNS", str(path))
    at = start()
    no_traceback(at)
    assert any("1 run folder(s) could not be opened" in w.value for w in at.sidebar.warning)
    assert any("missing" in c.value and "model.keras" in c.value for c in at.sidebar.caption)
    open_page(at, "training_runs")
    no_traceback(at)
    assert any("vgg16-broken-run" in w.value and "model.keras" in w.value for w in at.warning)


@slow
def test_one_architecture_only(tiny_runs, tmp_path, monkeypatch):
    path = copy_runs({"vgg16": tiny_runs["vgg16"]}, tmp_path / "models")
    monkeypatch.setenv("GENREC_RUNS", str(path))
    at = start()
    assert [s.label for s in at.sidebar.selectbox] == ["VGG16 run"]
    assert any("No ResNet50 run yet" in c.value for c in at.sidebar.caption)
    at.selectbox(key="pick_track").set_value("pop.00001").run()
    no_traceback(at)
    assert len(metric_values(at, "Predicted genre")) == 1 and len(recommendations(at)) == 5
    assert any("No ResNet50 run" in i.value for i in at.info)
    assert not metric_values(at, "Shared recommendations")
    open_page(at, "training_runs")
    no_traceback(at)
    assert any("Only one run is saved" in i.value for i in at.info)


@slow
def test_damaged_run_file_is_an_error_message(own_runs_dir, tiny_runs):
    """A run whose embeddings file is damaged after start-up is left out, named, with the fix; no traceback."""
    at = start()
    (own_runs_dir / tiny_runs["resnet50"].name / "embeddings.npz").write_bytes(b"garbage")
    at.selectbox(key="pick_track").set_value("rock.00001").run()
    no_traceback(at)
    assert any("embeddings.npz" in c.value and "Retrain" in c.value for c in at.sidebar.caption)
    assert len(metric_values(at, "Predicted genre")) == 1  # VGG16 still answers


# --------------------------------------------------------------------------- first start
# (the first-start build itself: tests/app/test_app_build.py)
def test_demo_progress_is_one_monotonic_bar():
    tracker = plan.DemoProgress()
    seen = [
        tracker.update("demo library", 50, 200)[0],
        tracker.update("demo library", 200, 200)[0],
        tracker.update("vgg16 features", 1, 2)[0],
        tracker.update("vgg16 spectrograms", 10, 200)[0],
        tracker.update("resnet50 epochs", 30, 30)[0],
        tracker.update("resnet50 8-bit: quantize and check", 2, 2)[0],
    ]
    assert seen == sorted(seen) and 0 < seen[0] < seen[1] and seen[-2] < seen[-1] == 1.0
    assert tracker.update("vgg16 epochs", 3, 30)[1] == "VGG16 epochs: 3/30"


# --------------------------------------------------------------------------- training runs
@slow
def test_training_runs_page(runs_dir, tiny_runs):
    from genrec.evaluate.metrics import confusion_frame, report_frame
    from genrec.runs.reader import Run

    at = start()
    open_page(at, "training_runs")
    no_traceback(at)
    assert "Training runs" in at.title[0].value
    summary = at.dataframe[0].value
    assert list(summary.columns) == list(dashboard.SUMMARY_COLUMNS.values())
    ref = summary[summary["run"] == dashboard.PAPER_LABEL].set_index("architecture")["test accuracy"]
    assert ref.to_dict() == {"VGG16": 0.60, "ResNet50": 0.40}
    vgg, res = Run.open(tiny_runs["vgg16"]), Run.open(tiny_runs["resnet50"])
    mine = summary[summary["run"] != dashboard.PAPER_LABEL].set_index("run")
    assert set(mine.index) == {vgg.id, res.id}
    assert mine.loc[vgg.id, "test accuracy"] == pytest.approx(vgg.metrics_summary.test.accuracy)
    assert mine.loc[res.id, "macro F1"] == pytest.approx(res.metrics_summary.test.macro_f1)
    assert mine.loc[vgg.id, "weights from"] == "random init" and mine.loc[vgg.id, "architecture"] == "VGG16"

    # the paper's table for each run, side by side (left VGG16, right ResNet50)
    for table, run in zip(at.dataframe[1:3], (vgg, res)):
        expected = report_frame(run.metrics_summary.test.raw)
        got = table.value.set_index("genre")
        assert list(got.index) == [*GENRES, "accuracy", "macro avg", "weighted avg"]
        pd.testing.assert_frame_equal(got, expected, check_names=False)
    # learning curves and confusion matrices (counts, then row-normalised)
    figs = figures(at)
    curves = [f for f in figs if any(t.name == "validation" for t in f.data)]
    assert len(curves) == 2 and len(curves[0].data[0].x) == vgg.info.epochs_run
    heat = [f for f in figs if f.data and f.data[0].type == "heatmap"]
    np.testing.assert_array_equal(heat[0].data[0].z, confusion_frame(vgg.metrics_summary.test.raw).to_numpy())
    at.toggle(key="cm_normalized").set_value(True).run()
    no_traceback(at)
    heat = [f for f in figures(at) if f.data and f.data[0].type == "heatmap"]
    np.testing.assert_allclose(
        heat[1].data[0].z, confusion_frame(res.metrics_summary.test.raw, normalize=True).to_numpy()
    )
    assert "share of each true genre" in " ".join(markdown(at))


# --------------------------------------------------------------------------- library map
@slow
def test_library_map_page(runs_dir, tiny_runs):
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender

    at = start()
    open_page(at, "library_map")
    no_traceback(at)
    assert "Library map" in at.title[0].value
    run = Run.open(tiny_runs["vgg16"])
    (fig,) = figures(at)
    assert [t.name for t in fig.data] == list(GENRES)
    assert sum(len(t.x) for t in fig.data) == len(run.tracks)
    assert [t.marker.color for t in fig.data] == [plots.GENRE_COLOURS[g] for g in GENRES]
    assert all(str(t.customdata[0][0]).startswith(t.name + ".") for t in fig.data)  # track id per point
    assert "PCA" in at.segmented_control(key="map_method").options
    assert at.info  # prompt to click a point

    at.selectbox(key="map_track").set_value("rock.00002").run()
    no_traceback(at)
    answer = Recommender(run).for_track("rock.00002", 5)
    shown = recommendations(at)
    assert len(shown) == 5
    assert all(f"{t}**" in s for s, t in zip(shown, answer.neighbours["track_id"]))
    (fig,) = figures(at)
    assert [t.name for t in fig.data][-2:] == ["recommended", "selected"]
    assert len(at.get("audio")) == 6

    at.segmented_control(key="map_method").set_value("t-SNE").run()
    no_traceback(at)
    assert sum(len(t.x) for t in figures(at)[0].data[:10]) == len(run.tracks)


def test_plotly_selection_event_picks_the_track():
    event = {
        "selection": {
            "points": [{"curve_number": 3, "point_index": 1, "customdata": ["disco.00004", "test", "—"]}],
            "point_indices": [1],
            "box": [],
            "lasso": [],
        }
    }
    assert dashboard.selected_track(event) == "disco.00004"
    assert dashboard.selected_track({"selection": {"points": [{"curve_number": 11}]}}) is None
    assert dashboard.selected_track(None) is None


# --------------------------------------------------------------------------- helpers without Streamlit
def test_projection_methods_and_shapes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 16))
    assert projection.projection_methods()[:2] == ["PCA", "t-SNE"]
    for method in ("PCA", "t-SNE"):
        xy = projection.project(x, method)
        assert xy.shape == (40, 2) and np.isfinite(xy).all()
        np.testing.assert_allclose(xy, projection.project(x, method))  # deterministic
    with pytest.raises(ValueError, match="unknown projection"):
        projection.project(x, "MDS")


def test_summary_table_has_paper_rows_without_runs():
    table = dashboard.summary_table([])
    assert table["run"].tolist() == [dashboard.PAPER_LABEL] * 2
    assert table["test accuracy"].tolist() == [0.60, 0.40]


def test_spectrogram_colours_survive_streamlit_theme():
    """Streamlit's plotly theme swaps #000001–#000010 for theme colours; spectrograms must not use them."""
    fig = plots.spectrogram_figure(np.full((128, 50), -20.0), np.linspace(0, 11025, 128))
    assert all(not c.startswith("#00000") for _, c in fig.data[0].colorscale)
    thumb = plots.spectrogram_thumbnail(np.full((128, 50), -80.0))
    assert thumb.shape == (72, 192, 3) and thumb.dtype == np.uint8


@slow
def test_app_never_imports_tensorflow(runs_dir, tiny_library_dir):
    """Start-up and library picks use saved embeddings; uploads go through the runs' LiteRT predictors."""
    clip = tiny_library_dir / "blues" / "blues.00001.wav"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from streamlit.testing.v1 import AppTest
        from tests.helpers.app import open_page
        at = AppTest.from_file({str(APP)!r}, default_timeout={TIMEOUT}).run()
        at.selectbox(key="pick_track").set_value("blues.00002").run()
        open_page(at, "library_map")
        picks = {{"tf": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}}
        open_page(at, "compare")
        at.segmented_control(key="query_source").set_value("upload").run()
        at.file_uploader(key="upload").set_value(("song.wav", Path({str(clip)!r}).read_bytes(), "audio/wav")).run()
        assert not at.exception and not at.error
        assert len([m for m in at.metric if m.label == "Predicted genre"]) == 2
        print(json.dumps({{"picks": picks, "upload": {{"tf": "tensorflow" in sys.modules,
                                                       "keras": "keras" in sys.modules}}}}))
    """).replace("import sys", "import sys, json")
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    no_tf = {"tf": False, "keras": False}
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"picks": no_tf, "upload": no_tf}
