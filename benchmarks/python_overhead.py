#!/usr/bin/env python3
"""What the Python binding costs, and what Python threads buy, on the bundled Fashion-MNIST model.

    PYTHONPATH=build/python python3 benchmarks/python_overhead.py [--model M] [--seconds S] [--batch B]

1. Overhead per run at batch 1: InferenceSession.run from Python against the same Session::run timed in a
   C++ loop (InferenceSession._time_cpp_run: inputs converted once, no Python in the loop). The difference is
   the binding: the dict walk, the NumPy -> HostTensor copy, the session pool, the GIL release, the output
   arrays.
2. Python threads sharing one InferenceSession (threads=1 each) at batch 64: throughput with 1 and 2 threads.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import threading
import time

import numpy as np

import octet

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_run_seconds(session: octet.InferenceSession, feeds: dict, repeat: int) -> float:
    run = session.run
    start = time.perf_counter()
    for _ in range(repeat):
        run(None, feeds)
    return (time.perf_counter() - start) / repeat


def overhead(model: pathlib.Path, rounds: int, repeat: int) -> None:
    session = octet.InferenceSession(model, threads=1)
    images = np.load(model.parent / "samples" / "images.npy")
    feeds = {"input": np.ascontiguousarray(images[:1])}
    python_run_seconds(session, feeds, repeat)  # warm
    py, cpp = [], []
    for _ in range(rounds):  # interleaved, so that drifts of the machine hit both alike
        py.append(python_run_seconds(session, feeds, repeat))
        cpp.append(session._time_cpp_run(feeds, repeat))
    # The fastest round of each is the one least disturbed by the rest of the machine; the medians say how
    # noisy the machine was.
    for label, pick in (("fastest round", min), ("median round", statistics.median)):
        py_us, cpp_us = pick(py) * 1e6, pick(cpp) * 1e6
        print(f"batch 1, {label} of {rounds} x {repeat} runs: Python session.run {py_us:.2f} us, "
              f"C++ Session::run {cpp_us:.2f} us, overhead {py_us - cpp_us:.2f} us per run")


def threads_throughput(model: pathlib.Path, threads: int, seconds: float, batch: int) -> float:
    session = octet.InferenceSession(model, threads=1)
    images = np.load(model.parent / "samples" / "images.npy")
    x = np.ascontiguousarray(np.resize(images, (batch, *images.shape[1:])))
    session.run(None, {"input": x})
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()

    def work(t: int) -> None:
        barrier.wait()
        while not stop.is_set():
            session.run(None, {"input": x})
            counts[t] += 1

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(counts) * batch / elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=pathlib.Path, default=ROOT / "models/fashion_mnist/fashion_mnist_int8_qdq.onnx")
    p.add_argument("--seconds", type=float, default=3.0, help="per throughput measurement")
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    print(f"octet {octet.__version__}, ISAs {octet.available_isas()}")
    overhead(args.model, rounds=15, repeat=1000)
    one = threads_throughput(args.model, 1, args.seconds, args.batch)
    two = threads_throughput(args.model, 2, args.seconds, args.batch)
    print(f"batch {args.batch}, one InferenceSession(threads=1): 1 Python thread {one:.0f} images/s, "
          f"2 Python threads {two:.0f} images/s, speed-up {two / one:.2f}x")


if __name__ == "__main__":
    main()
