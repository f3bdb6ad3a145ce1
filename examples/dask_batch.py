#!/usr/bin/env python3
"""Batch inference with octet over a directory of .npy shards on a Dask cluster.

    python3 examples/dask_batch.py MODEL INPUT_DIR OUTPUT_DIR [--scheduler ADDRESS | --local-workers N]
                                   [--threads T] [--input NAME]

Each shard INPUT_DIR/<stem>.npy holds a batch for the model's input (e.g. float32 [N, 1, 28, 28] for the
bundled Fashion-MNIST model); its outputs go to OUTPUT_DIR/<stem>.npy (a model with several outputs:
OUTPUT_DIR/<stem>.<output>.npy), so the results keep the shards' order whatever order they finish in.

octet is an embedded runtime: one process scales with threads and sessions (docs/scaling.md). Past one
machine, this script lets Dask spread the shards over worker processes:

  * the model's bytes travel once to each worker in a WorkerPlugin, which loads it there once into an
    octet.InferenceSession (workers do not need the model file; they do need to read the shard paths, so
    on a real cluster INPUT_DIR is on shared storage);
  * a task per shard runs that session and returns the outputs to this client, which writes them;
  * progress is printed as shards finish.

--local-workers N starts a LocalCluster of N worker processes with one Dask thread each; --threads sets
the octet threads per worker (so N workers x T threads should not exceed the cores).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time
from typing import Any

import dask
import numpy as np
from distributed import Client, LocalCluster, WorkerPlugin, get_worker, wait

PLUGIN_NAME = "octet-session"


class OctetSessionPlugin(WorkerPlugin):
    """Loads the model once per worker process, when the worker starts (or joins later).

    The worker keeps the session on itself, where every task on that worker finds it. (A module-level
    cache would not do: functions defined in a script's __main__ travel by value, globals included, so
    each task would get a fresh, empty copy.)
    """

    name = PLUGIN_NAME

    def __init__(self, model_bytes: bytes, threads: int) -> None:
        self.model_bytes = model_bytes
        self.threads = threads

    def setup(self, worker: Any) -> None:
        import octet  # imported on the worker

        worker.octet_session = octet.InferenceSession(self.model_bytes, threads=self.threads)
        worker.octet_loads = getattr(worker, "octet_loads", 0) + 1

    def teardown(self, worker: Any) -> None:
        worker.octet_session = None


def infer_shard(path: str, input_name: str) -> tuple[list[np.ndarray], int, float]:
    """One task: run the worker's session on one shard. Returns the outputs, the worker's pid and the
    seconds spent in octet (to tell the inference from the cluster's overhead)."""
    session = get_worker().octet_session
    batch = np.load(path)
    start = time.perf_counter()
    outputs = run_batch(session, input_name, batch)
    return outputs, os.getpid(), time.perf_counter() - start


def run_batch(session: Any, input_name: str, batch: np.ndarray) -> list[np.ndarray]:
    """Runs a shard, in pieces of the model's batch size when the model fixes one (e.g. 1)."""
    (info,) = [i for i in session.get_inputs() if i.name == input_name]
    fixed = info.shape[0] if info.shape and isinstance(info.shape[0], int) else None
    if fixed is None or fixed == batch.shape[0]:
        return session.run(None, {input_name: batch})
    pieces = [session.run(None, {input_name: batch[i : i + fixed]}) for i in range(0, batch.shape[0], fixed)]
    return [np.concatenate(parts) for parts in zip(*pieces)]


def output_paths(output_dir: pathlib.Path, stem: str, output_names: list[str]) -> list[pathlib.Path]:
    if len(output_names) == 1:
        return [output_dir / f"{stem}.npy"]
    safe = ["".join(c if c.isalnum() or c in "-_." else "_" for c in n) for n in output_names]
    return [output_dir / f"{stem}.{s}.npy" for s in safe]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=pathlib.Path)
    p.add_argument("input_dir", type=pathlib.Path, help="directory of .npy shards, processed in name order")
    p.add_argument("output_dir", type=pathlib.Path)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    where.add_argument("--local-workers", type=int, default=2, help="start a LocalCluster of N worker processes")
    p.add_argument("--threads", type=int, default=1, help="octet threads per worker (default 1)")
    p.add_argument("--input", dest="input_name", help="the model input the shards feed (default: its only one)")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for the whole job")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import octet

    shards = sorted(args.input_dir.glob("*.npy"))
    if not shards:
        print(f"dask_batch: no .npy shards in {args.input_dir}", file=sys.stderr)
        return 1
    model_bytes = args.model.read_bytes()
    # Read here once for the input and output names (and to fail early on a bad model).
    local = octet.Model(model_bytes)
    inputs = [i.name for i in local.get_inputs()]
    input_name = args.input_name or (inputs[0] if len(inputs) == 1 else None)
    if input_name not in inputs:
        print(f"dask_batch: the model's inputs are {inputs}; pick one with --input", file=sys.stderr)
        return 1
    output_names = [o.name for o in local.get_outputs()]
    args.output_dir.mkdir(parents=True, exist_ok=True)

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler, timeout=60)
    else:
        # One Dask thread per worker: the octet session on a worker is shared by its tasks, and more than
        # one concurrent task per worker would only contend for the same cores.
        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's mmap
        # threshold at 128 KiB: every large buffer (a shard's input tensor) is then mapped, page-faulted
        # and unmapped again on every run, which made octet's runs 1.5x slower here (docs/scaling.md).
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(n_workers=args.local_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        client = Client(cluster)
    try:
        workers = len(client.scheduler_info()["workers"])
        client.register_worker_plugin(OctetSessionPlugin(model_bytes, args.threads), name=PLUGIN_NAME)
        print(f"dask_batch: {len(shards)} shards on {workers} workers x {args.threads} octet threads",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        futures = {client.submit(infer_shard, str(s.resolve()), input_name, pure=False): s for s in shards}
        done = images = 0
        octet_seconds = 0.0
        pids = set()
        pending = set(futures)
        while pending:
            # As shards finish, in any order: each result goes to its shard's own file, so order holds.
            remaining = args.timeout - (time.perf_counter() - start)
            finished, not_done = wait(list(pending), timeout=max(remaining, 0), return_when="FIRST_COMPLETED")
            pending = set(not_done)
            for future in finished:
                outputs, pid, seconds = future.result()  # re-raises a task's error here
                pids.add(pid)
                octet_seconds += seconds
                paths = output_paths(args.output_dir, futures[future].stem, output_names)
                for path, array in zip(paths, outputs):
                    np.save(path, array)
                done += 1
                images += len(outputs[0])
                future.release()
            elapsed = time.perf_counter() - start
            print(f"dask_batch: {done}/{len(shards)} shards, {images} items, {images / elapsed:.0f} items/s",
                  file=sys.stderr, flush=True)
        elapsed = time.perf_counter() - start
        loads = client.run(lambda dask_worker: getattr(dask_worker, "octet_loads", 0))
        print(f"dask_batch: done: {images} items in {elapsed:.3f} s ({images / elapsed:.0f} items/s); "
              f"model loads per worker: {sorted(loads.values())}; tasks ran in {len(pids)} processes; "
              f"{octet_seconds:.3f} s in octet on the workers")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
