"""octet: int8 CNN inference from Python.

The API follows ONNX Runtime's InferenceSession, so that code written for it ports by changing the
import::

    import numpy as np
    import octet

    session = octet.InferenceSession("model_int8.onnx", threads=2)
    name = session.get_inputs()[0].name
    (logits,) = session.run(None, {name: np.zeros((1, 1, 28, 28), np.float32)})

See docs/python.md for the whole API: quantized inputs and outputs, per-layer profiles, sharing one
``octet.Model`` between sessions, and what runs in parallel.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence, Union

from ._octet import (  # noqa: F401  (re-exported)
    InferenceSession,
    InvalidArgument,
    InvalidType,
    Model,
    NodeArg,
    OctetError,
    _quantize,
    available_isas,
    version,
)

__version__: str = version()

__all__ = [
    "InferenceSession",
    "InvalidArgument",
    "InvalidType",
    "Model",
    "NodeArg",
    "OctetError",
    "available_isas",
    "info",
    "quantize",
    "version",
    "__version__",
]

ModelSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


def info(
    path_or_bytes: ModelSource,
    input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
    requantization: str = "fixed_point",
) -> dict[str, Any]:
    """What ``octet info MODEL`` prints, as a dict.

    Keys: ``inputs`` and ``outputs`` (lists of dicts: name, shape, type, scale, zero_point), ``nodes``
    (one dict per compiled operator: name, op, onnx_op, output_name, output_shape, quantization, macs,
    computes_in_float, stores_into: the Concat whose output it writes in place, or ""),
    ``planned_arena_bytes`` and ``unplanned_activation_bytes`` (activation memory
    for the declared shapes, or for ``input_shapes`` when the model has dynamic dimensions).
    """
    shapes = None if input_shapes is None else {k: list(v) for k, v in input_shapes.items()}
    return Model(path_or_bytes, input_shapes=shapes, requantization=requantization).info()


def quantize(
    path_or_bytes: ModelSource,
    samples: Sequence[Mapping[str, Any]],
    *,
    output_path: Optional[Union[str, "os.PathLike[str]"]] = None,
    method: str = "minmax",
    percentile: float = 99.99,
    per_channel_weights: bool = True,
    exclude: Sequence[str] = (),
    threads: int = 1,
) -> tuple[bytes, dict[str, Any]]:
    """Post-training quantization: a float ONNX model and calibration samples in, an int8 QDQ model out.

    ``samples`` is a sequence of input feeds, ``{name: numpy.ndarray}`` as for ``InferenceSession.run``
    (float32). ``method`` is ``"minmax"``, ``"percentile"`` (with ``percentile``), ``"entropy"`` or ``"mse"``.
    Returns the model's bytes (also written to ``output_path`` when given, through a temporary file so that
    a failure leaves nothing behind) and a report: per quantized tensor its range, params and SQNR against
    float (``tensors``), the nodes left in float and why (``float_nodes``), and timings. docs/quantize.md
    has the rules; errors raise ``octet.OctetError``.
    """
    model, report = _quantize(
        path_or_bytes,
        list(samples),
        method=method,
        percentile=percentile,
        per_channel_weights=per_channel_weights,
        exclude=list(exclude),
        threads=threads,
    )
    if output_path is not None:
        path = os.fspath(output_path)
        partial = f"{path}.partial-{os.getpid()}"
        try:
            with open(partial, "wb") as f:
                f.write(model)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    return model, report
