"""examples/dask_batch.py on a LocalCluster of 2 worker processes gives the results of a single-process run,
shard by shard, with the model loaded once per worker."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import octet
from conftest import FASHION, ROOT

pytest.importorskip("distributed")


def _process_locks_work() -> bool:
    # Dask's worker processes need POSIX semaphores, which need /dev/shm: a bare chroot may lack it.
    import multiprocessing

    try:
        multiprocessing.get_context("spawn").Lock()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _process_locks_work(), reason="no POSIX semaphores here (/dev/shm missing)")

EXAMPLE = ROOT / "examples" / "dask_batch.py"


def test_dask_batch_equals_single_process(tmp_path: pathlib.Path, fashion_images: np.ndarray) -> None:
    # Six shards of uneven sizes made from the bundled samples (mirrored and shifted for variety).
    inputs = tmp_path / "shards"
    inputs.mkdir()
    pool = np.concatenate([fashion_images, fashion_images[..., ::-1], np.roll(fashion_images, 3, axis=-1),
                           np.roll(fashion_images, -2, axis=-2)])
    sizes = [5, 1, 8, 3, 7, 6]
    assert sum(sizes) <= len(pool)
    start = 0
    for i, n in enumerate(sizes):
        np.save(inputs / f"shard_{i:03d}.npy", np.ascontiguousarray(pool[start : start + n]))
        start += n

    out = tmp_path / "out"
    # The workers import the same octet package as this test, wherever the test's PYTHONPATH found it.
    package_root = str(pathlib.Path(octet.__file__).resolve().parents[1])
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=python_path, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(FASHION), str(inputs), str(out), "--local-workers", "2",
         "--threads", "1", "--timeout", "60"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "model loads per worker: [1, 1]" in result.stdout, result.stdout
    assert f"{len(sizes)}/{len(sizes)} shards" in result.stderr

    session = octet.InferenceSession(FASHION)
    for i, n in enumerate(sizes):
        shard = np.load(inputs / f"shard_{i:03d}.npy")
        (want,) = session.run(None, {"input": shard})
        got = np.load(out / f"shard_{i:03d}.npy")
        assert got.shape == (n, 10)
        np.testing.assert_array_equal(got, want)
