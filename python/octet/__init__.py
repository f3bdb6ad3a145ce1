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
    computes_in_float), ``planned_arena_bytes`` and ``unplanned_activation_bytes`` (activation memory
    for the declared shapes, or for ``input_shapes`` when the model has dynamic dimensions).
    """
    shapes = None if input_shapes is None else {k: list(v) for k, v in input_shapes.items()}
    return Model(path_or_bytes, input_shapes=shapes, requantization=requantization).info()
