"""Training where the compute is: the GPU install route, and `genrec build` / `genrec train` naming the device."""

from __future__ import annotations

import json
from pathlib import Path

import genrec.training.pipeline as build
from genrec.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _requirements(name: str) -> list[str]:
    return [line for line in (ROOT / name).read_text().splitlines() if line and not line.startswith("#")]


def test_gpu_requirements_are_the_cpu_ones_with_the_cuda_build_of_tensorflow() -> None:
    cpu, gpu = _requirements("requirements.txt"), _requirements("requirements-gpu.txt")
    assert [line.replace("tensorflow-cpu", "tensorflow[and-cuda]") for line in cpu] == gpu
    assert any(line.startswith("tensorflow[and-cuda]") for line in gpu) and not any("tensorflow-cpu" in g for g in gpu)
    assert "pip install --dry-run" in (ROOT / ".ci" / "run").read_text()  # CI shows that it resolves
    assert "requirements-gpu.txt" in (ROOT / "README.md").read_text()


def test_build_prints_the_device_each_run_was_trained_on(monkeypatch, capsys, tmp_path) -> None:
    run = tmp_path / "vgg16-demo-x"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"device": "GPU (GPU:0)"}))
    monkeypatch.setattr(build, "build", lambda library, *, progress, report, **kw: [run])
    monkeypatch.setattr("genrec.cli.build.print_run", lambda run_dir: None)
    monkeypatch.setattr(build, "closing_table", lambda runs: "")
    assert main(["build", "--library", "demo"]) == 0
    assert "vgg16-demo-x: trained on GPU (GPU:0)" in capsys.readouterr().out
    assert main(["demo", "--progress-format", "lines"]) == 0
    assert "vgg16-demo-x: trained on GPU (GPU:0)" in capsys.readouterr().err  # stdout is the protocol's


def test_training_records_and_names_its_device(tiny_runs) -> None:
    from genrec.model.network import training_device

    device = training_device()
    assert device.startswith(("CPU", "GPU"))
    assert json.loads((tiny_runs["vgg16"] / "run.json").read_text())["device"] == device
