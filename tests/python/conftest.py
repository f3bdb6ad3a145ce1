"""Shared fixtures of the Python package's tests.

ctest runs them with PYTHONPATH=<build>/python and OCTET_CLI=<build>/tools/octet (tests/python/CMakeLists.txt);
run by hand from the repository root:

    PYTHONPATH=build/python OCTET_CLI=build/tools/octet python3 -m pytest -q tests/python
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEST_MODELS = ROOT / "tests" / "models" / "onnx"
MALFORMED = ROOT / "tests" / "models" / "malformed"
FASHION_DIR = ROOT / "models" / "fashion_mnist"
FASHION = FASHION_DIR / "fashion_mnist_int8_qdq.onnx"


def cli_path() -> pathlib.Path:
    path = os.environ.get("OCTET_CLI", str(ROOT / "build" / "tools" / "octet"))
    return pathlib.Path(path)


def model_inputs(model: pathlib.Path, names: list[str]) -> dict[str, np.ndarray]:
    """The committed inputs of a test model: NAME.input.npy, NAME.input1.npy, ... in the model's order."""
    stem = model.name[: -len(".onnx")]
    feeds = {}
    for i, name in enumerate(names):
        suffix = "" if i == 0 else str(i)
        feeds[name] = np.load(model.parent / f"{stem}.input{suffix}.npy")
    return feeds


def cli_run(model: pathlib.Path, feeds: dict[str, np.ndarray], tmp: pathlib.Path, requant: str,
            isa: str | None, output_names: list[str]) -> dict[str, np.ndarray]:
    """The outputs of `octet run` on the same inputs (the C++ path the binding must reproduce)."""
    args = [str(cli_path()), "run", str(model), "--output-dir", str(tmp / "out"),
            "--requant", "float" if requant == "float" else "fixed"]
    for name, array in feeds.items():
        path = tmp / f"in_{len(args)}.npy"
        np.save(path, array)
        args += ["--input", f"{name}={path}"]
    env = dict(os.environ)
    env.pop("OCTET_ISA", None)
    if isa:
        env["OCTET_ISA"] = isa
    subprocess.run(args, check=True, capture_output=True, env=env, timeout=60)
    out = {}
    for name in output_names:
        file = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        out[name] = np.load(tmp / "out" / f"{file}.npy")
    return out


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    path = cli_path()
    if not path.exists():
        pytest.skip(f"the octet command is not built ({path}); set OCTET_CLI")
    return path


@pytest.fixture(scope="session")
def fashion_images() -> np.ndarray:
    return np.load(FASHION_DIR / "samples" / "images.npy")
