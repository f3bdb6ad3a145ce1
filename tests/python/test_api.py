"""The octet Python package: results equal to the C++ `octet run`, the ONNX Runtime-shaped API, quantized
inputs and outputs, profiles, errors, and Python threads sharing one session."""

from __future__ import annotations

import os
import pathlib
import pickle
import sys
import threading
import time

import numpy as np
import pytest

import octet
from conftest import FASHION, MALFORMED, TEST_MODELS, cli_run, model_inputs

# Test models covering QDQ and QOperator forms, float graphs, two inputs (qdq_add), a uint8 input and
# output (qop_conv1x1_uint8_io), an int64 ArgMax output and a symbolic batch (float_shape_subgraph), int32
# inputs and outputs (float_int32_io), data-dependent output shapes (qdq_detector_nms).
CLI_MODELS = [
    "qdq_conv3x3_relu",
    "qdq_conv_depthwise",
    "qdq_add",
    "qdq_small_net",
    "qdq_softmax_channels_u8",
    "qop_conv1x1_uint8_io",
    "float_cnn",
    "float_shape_subgraph",
    "float_int32_io",
    "qdq_detector_nms",
]
REQUANT = ["fixed_point", "float"]


@pytest.mark.parametrize("isa", octet.available_isas())
@pytest.mark.parametrize("requant", REQUANT)
@pytest.mark.parametrize("name", CLI_MODELS)
def test_outputs_equal_cli(cli, tmp_path: pathlib.Path, name: str, requant: str, isa: str) -> None:
    model = TEST_MODELS / f"{name}.onnx"
    session = octet.InferenceSession(str(model), isa=isa, requantization=requant)
    feeds = model_inputs(model, [i.name for i in session.get_inputs()])
    names = [o.name for o in session.get_outputs()]
    got = session.run(None, feeds)
    want = cli_run(model, feeds, tmp_path, requant, isa, names)
    assert len(got) == len(names)
    for name_, array in zip(names, got):
        assert array.dtype == want[name_].dtype
        np.testing.assert_array_equal(array, want[name_], err_msg=f"output {name_}")


@pytest.mark.parametrize("requant", REQUANT)
def test_fashion_mnist_equals_cli(cli, tmp_path, fashion_images, requant: str) -> None:
    session = octet.InferenceSession(FASHION, requantization=requant, threads=2)
    (logits,) = session.run(["logits"], {"input": fashion_images})
    want = cli_run(FASHION, {"input": fashion_images}, tmp_path, requant, None, ["logits"])
    np.testing.assert_array_equal(logits, want["logits"])
    labels = np.load(FASHION.parent / "samples" / "labels.npy")
    assert (logits.argmax(axis=1) == labels).mean() >= 0.75


def test_inputs_and_outputs() -> None:
    session = octet.InferenceSession(FASHION)
    (x,) = session.get_inputs()
    assert x.name == "input"
    assert x.type == "tensor(float)"
    assert len(x.shape) == 4 and x.shape[1:] == [1, 28, 28]
    assert isinstance(x.shape[0], str)  # the symbolic batch, named as in the model (like ONNX Runtime)
    # The input is float, quantized on entry by the model with scale 1/255, zero point 0.
    assert x.scale == pytest.approx(1 / 255) and x.zero_point == 0
    (y,) = session.get_outputs()
    assert (y.name, y.type) == ("logits", "tensor(float)")
    assert y.scale > 0 and 0 <= y.zero_point <= 255
    assert "logits" in repr(y)

    u8 = octet.InferenceSession(TEST_MODELS / "qop_conv1x1_uint8_io.onnx")
    assert u8.get_inputs()[0].type == "tensor(uint8)"
    assert u8.get_outputs()[0].type == "tensor(uint8)"

    shapes = octet.InferenceSession(TEST_MODELS / "float_shape_subgraph.onnx")
    assert [o.type for o in shapes.get_outputs()][-1] == "tensor(int64)"


def test_quantized_inputs_and_outputs(fashion_images) -> None:
    session = octet.InferenceSession(FASHION)
    (x,) = session.get_inputs()
    (y,) = session.get_outputs()
    (logits,) = session.run(None, {"input": fashion_images})

    # uint8 data for the float input: already quantized with the model's params. pixel / 255 quantizes
    # back to the pixel exactly, so the outputs are the same.
    pixels = np.rint(fashion_images / np.float32(x.scale)).astype(np.uint8) + np.uint8(x.zero_point)
    (from_u8,) = session.run(None, {"input": pixels})
    np.testing.assert_array_equal(from_u8, logits)

    (q,) = session.run(None, {"input": fashion_images}, quantized_outputs=True)
    assert q.dtype == np.uint8 and q.shape == logits.shape
    dequantized = (q.astype(np.float32) - np.float32(y.zero_point)) * np.float32(y.scale)
    np.testing.assert_allclose(dequantized, logits, rtol=0, atol=1e-6)


def test_profile(fashion_images) -> None:
    session = octet.InferenceSession(FASHION)
    assert session.last_profile() is None
    session.run(None, {"input": fashion_images})
    assert session.last_profile() is None  # only profiled runs record one
    session.run(None, {"input": fashion_images}, profile=True)
    profile = session.last_profile()
    assert len(profile) == len(session.model.nodes())
    for entry in profile:
        assert {"name", "op", "onnx_op", "output_shape", "macs", "seconds", "computes_in_float"} <= entry.keys()
        assert entry["seconds"] >= 0
    convs = [e for e in profile if e["onnx_op"] == "Conv"]
    assert len(convs) == 3 and all(e["macs"] > 0 for e in convs)
    assert convs[0]["output_shape"][0] == len(fashion_images)


def test_info_version_isas() -> None:
    info = octet.info(FASHION)
    assert info["inputs"][0]["name"] == "input" and info["outputs"][0]["name"] == "logits"
    assert info["planned_arena_bytes"] > 0
    assert any(n["onnx_op"] == "Gemm" for n in info["nodes"])
    assert all(n["stores_into"] == "" for n in info["nodes"])
    # Convolutions writing into their Concat's output name it (none under the scalar ISA).
    concat = octet.info(TEST_MODELS / "qdq_conv_concat_in_place.onnx")["nodes"]
    stored = [n for n in concat if n["stores_into"]]
    concats = {n["name"] for n in concat if n["onnx_op"] == "Concat"}
    scalar = os.environ.get("OCTET_ISA") == "scalar" or octet.available_isas() == ["scalar"]
    assert len(stored) == (0 if scalar else 4)
    assert all(n["stores_into"] in concats for n in stored)
    assert octet.info(FASHION, input_shapes={"input": [64, 1, 28, 28]})["planned_arena_bytes"] > info[
        "planned_arena_bytes"]
    assert isinstance(octet.__version__, str) and octet.__version__
    isas = octet.available_isas()
    assert isas and isas[0] == "scalar"
    default = octet.InferenceSession(FASHION)
    assert (default.isa, default.threads, default.requantization) == (None, 1, "fixed_point")
    chosen = octet.InferenceSession(FASHION, isa="scalar", threads=2, requantization="float")
    assert (chosen.isa, chosen.threads, chosen.requantization) == ("scalar", 2, "float")


def test_bytes_model_and_shared_model(fashion_images) -> None:
    data = FASHION.read_bytes()
    want = octet.InferenceSession(str(FASHION)).run(None, {"input": fashion_images})[0]
    for source in (data, bytearray(data), memoryview(data), FASHION):
        got = octet.InferenceSession(source).run(None, {"input": fashion_images})[0]
        np.testing.assert_array_equal(got, want)
    model = octet.Model(data)
    a = octet.InferenceSession(model, threads=2)
    b = octet.InferenceSession(model, requantization="float")
    assert a.model is model and b.model is model
    np.testing.assert_array_equal(a.run(None, {"input": fashion_images})[0], want)
    assert b.run(None, {"input": fashion_images})[0].shape == want.shape


def test_nhwc_io(fashion_images) -> None:
    nchw = octet.InferenceSession(FASHION).run(None, {"input": fashion_images})[0]
    session = octet.InferenceSession(FASHION, nhwc_io=True)
    assert session.get_inputs()[0].shape[1:] == [28, 28, 1]
    nhwc = session.run(None, {"input": np.ascontiguousarray(fashion_images.transpose(0, 2, 3, 1))})[0]
    np.testing.assert_array_equal(nhwc, nchw)


def test_array_layouts_and_types(fashion_images) -> None:
    session = octet.InferenceSession(FASHION)
    want = session.run(None, {"input": fashion_images})[0]
    # Non-contiguous views are copied into place, never misread.
    strided = np.zeros((8, 1, 28, 56), np.float32)
    strided[..., ::2] = fashion_images
    np.testing.assert_array_equal(session.run(None, {"input": strided[..., ::2]})[0], want)
    fortran = np.asfortranarray(fashion_images)
    np.testing.assert_array_equal(session.run(None, {"input": fortran})[0], want)
    reversed_batch = fashion_images[::-1]
    np.testing.assert_array_equal(session.run(None, {"input": reversed_batch})[0], want[::-1])
    # Outputs are ordinary NumPy arrays that own their memory and outlive the session.
    out = session.run(None, {"input": fashion_images})[0]
    del session
    out += 1  # writable
    assert out.flags.c_contiguous and out.dtype == np.float32
    # An output name list picks and orders outputs; an empty list means all, as None does.
    two = octet.InferenceSession(TEST_MODELS / "float_shape_subgraph.onnx")
    feeds = model_inputs(TEST_MODELS / "float_shape_subgraph.onnx", [i.name for i in two.get_inputs()])
    names = [o.name for o in two.get_outputs()]
    all_outputs = two.run([], feeds)
    reordered = two.run(names[::-1], feeds)
    for a, b in zip(all_outputs, reordered[::-1]):
        np.testing.assert_array_equal(a, b)
    first, again = two.run([names[0], names[0]], feeds)
    assert first is again
    np.testing.assert_array_equal(first, all_outputs[0])
    # NodeArg shapes are copies: editing one leaves the model's description alone.
    two.get_inputs()[0].shape.append(99)
    assert 99 not in two.get_inputs()[0].shape
    # int64 inputs take any narrower integer type; the model here has none, so check the conversion
    # error path instead: an int32 array for a float input is refused.
    with pytest.raises(TypeError, match="tensor\\(float\\)"):
        octet.InferenceSession(FASHION).run(None, {"input": fashion_images.astype(np.int32)})
    # An array that went through pickle (a process pool's result) has a dtype object of its own: it is
    # still float32. The other byte order is refused, and said to be.
    session = octet.InferenceSession(FASHION)
    unpickled = pickle.loads(pickle.dumps(fashion_images))
    np.testing.assert_array_equal(session.run(None, {"input": unpickled})[0], want)
    with pytest.raises(TypeError, match="other byte order \\(>f4\\)"):
        session.run(None, {"input": fashion_images.astype(">f4")})
    # A non-contiguous array too large to copy: NumPy's MemoryError, with what was being copied.
    # (Beyond any address space, so that no overcommitting kernel lets the allocation succeed.)
    huge = np.broadcast_to(fashion_images[:1], (1 << 45, 1, 28, 28))
    with pytest.raises(MemoryError, match="contiguous copy"):
        session.run(None, {"input": huge})


def test_data_dependent_outputs() -> None:
    """A detector's selection (NonMaxSuppression): its outputs' selected dimension is None before a run, as
    ONNX Runtime shows a dimension it cannot know, and a run that selects nothing gives empty arrays."""
    model = TEST_MODELS / "qdq_detector_nms.onnx"
    session = octet.InferenceSession(str(model))
    outputs = session.get_outputs()
    assert outputs[0].shape == [None, 3] and outputs[0].type == "tensor(int64)"
    assert outputs[1].shape == [1, None, 4]
    feeds = model_inputs(model, [i.name for i in session.get_inputs()])
    selected = session.run(None, feeds)
    assert selected[0].shape == (14, 3) and selected[1].shape == (1, 14, 4)
    nothing = session.run(None, dict(feeds, score_threshold=np.array([10.0], np.float32)))
    assert nothing[0].shape == (0, 3) and nothing[0].dtype == np.int64
    assert nothing[1].shape == (1, 0, 4) and nothing[2].shape == (0,)


def test_session_limits(fashion_images) -> None:
    """The session options for untrusted models: max_loop_iterations makes a longer Loop an error naming it,
    max_arena_bytes refuses shapes whose activations need more memory; 0 (the default) is no limit."""
    model = TEST_MODELS / "float_loop_scan.onnx"
    feeds = model_inputs(model, [i.name for i in octet.InferenceSession(str(model)).get_inputs()])
    unlimited = octet.InferenceSession(str(model))
    assert unlimited.max_loop_iterations == 0 and unlimited.max_arena_bytes == 0
    expected = unlimited.run(None, feeds)
    # On this input the longest of its loops (slice_loop) runs 6 iterations.
    enough = octet.InferenceSession(str(model), max_loop_iterations=6)
    assert enough.max_loop_iterations == 6
    for got, want in zip(enough.run(None, feeds), expected):
        np.testing.assert_array_equal(got, want)
    limited = octet.InferenceSession(str(model), max_loop_iterations=5)
    with pytest.raises(octet.OctetError, match="slice_loop.*more than 5 iterations"):
        limited.run(None, feeds)
    # The bundled model's batch is dynamic: its 8 images need more than one image's plan.
    one = octet.Model(FASHION).planned_arena_bytes
    small = octet.InferenceSession(FASHION, max_arena_bytes=one)
    assert small.max_arena_bytes == one
    assert small.run(None, {"input": fashion_images[:1]})[0].shape == (1, 10)
    with pytest.raises(octet.OctetError, match="more than the session's limit of " + str(one)):
        small.run(None, {"input": fashion_images})
    with pytest.raises(ValueError, match="max_arena_bytes must be >= 0"):
        octet.InferenceSession(FASHION, max_arena_bytes=-1)
    with pytest.raises(ValueError, match="max_loop_iterations must be >= 0"):
        octet.InferenceSession(FASHION, max_loop_iterations=-1)


def test_int32_inputs_and_outputs() -> None:
    """int32 tensors as ONNX Runtime has them: declared tensor(int32), taken from any integer array int32 holds
    exactly, returned as numpy int32 (held as int64 inside, wrapped modulo 2^32 on the way out)."""
    model = TEST_MODELS / "float_int32_io.onnx"
    session = octet.InferenceSession(str(model))
    types = {i.name: i.type for i in session.get_inputs()}
    assert types["indices"] == "tensor(int32)" and types["wide"] == "tensor(int64)"
    feeds = model_inputs(model, list(types))
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, feeds)))
    assert outputs["add_3_out"].dtype == np.int32
    np.testing.assert_array_equal(outputs["add_3_out"], [-(2 ** 31), 2 ** 31 - 1, 15, -4])
    narrower = dict(feeds, indices=feeds["indices"].astype(np.int16))
    np.testing.assert_array_equal(session.run(["gather_1_out"], narrower)[0], outputs["gather_1_out"])
    with pytest.raises(TypeError, match="must be tensor\\(int32\\).*got numpy int64"):
        session.run(None, dict(feeds, counts=feeds["counts"].astype(np.int64)))


def test_errors(fashion_images, tmp_path) -> None:
    with pytest.raises(octet.OctetError, match="no_such_model.onnx"):
        octet.InferenceSession(tmp_path / "no_such_model.onnx")
    session = octet.InferenceSession(FASHION)
    with pytest.raises(octet.InvalidArgument, match="'images' is not an input of the model.*'input'") as e:
        session.run(None, {"images": fashion_images})
    assert isinstance(e.value, ValueError) and isinstance(e.value, RuntimeError)
    with pytest.raises(ValueError, match="input 'input' is missing"):
        session.run(None, {})
    with pytest.raises(ValueError, match=r"has shape \[8, 28, 28\], the model expects"):
        session.run(None, {"input": fashion_images[:, 0]})
    with pytest.raises(ValueError, match=r"has shape \[8, 1, 28, 27\]"):
        session.run(None, {"input": fashion_images[..., :27]})
    with pytest.raises(octet.InvalidType, match="must be tensor\\(float\\).*got numpy float64") as e:
        session.run(None, {"input": fashion_images.astype(np.float64)})
    assert isinstance(e.value, TypeError)
    with pytest.raises(TypeError, match="numpy.ndarray, got list"):
        session.run(None, {"input": fashion_images.tolist()})
    with pytest.raises(TypeError, match="dict"):
        session.run(None, [fashion_images])
    with pytest.raises(ValueError, match="output 'probs' is not an output of the model.*'logits'"):
        session.run(["probs"], {"input": fashion_images})
    with pytest.raises(TypeError, match="list of names"):
        session.run("logits", {"input": fashion_images})
    with pytest.raises(ValueError, match="isa 'sse9' is unknown"):
        octet.InferenceSession(FASHION, isa="sse9")
    with pytest.raises(ValueError, match="requantization must be"):
        octet.InferenceSession(FASHION, requantization="double")
    with pytest.raises(ValueError, match="threads must be >= 0"):
        octet.InferenceSession(FASHION, threads=-1)
    with pytest.raises(TypeError):
        octet.InferenceSession(42)
    with pytest.raises(ValueError, match="load options"):
        octet.InferenceSession(octet.Model(FASHION), nhwc_io=True)
    u8 = octet.InferenceSession(TEST_MODELS / "qop_conv1x1_uint8_io.onnx")
    x = np.load(TEST_MODELS / "qop_conv1x1_uint8_io.input.npy")
    with pytest.raises(TypeError, match="must be tensor\\(uint8\\)"):
        u8.run(None, {u8.get_inputs()[0].name: x.astype(np.float32)})
    float_model = octet.InferenceSession(TEST_MODELS / "float_cnn.onnx")
    (fx,) = float_model.get_inputs()
    assert fx.scale == 0  # a float model: no quantization on entry, so no uint8 data either
    with pytest.raises(TypeError, match="must be tensor\\(float\\)"):
        float_model.run(None, {fx.name: np.zeros([d if isinstance(d, int) else 1 for d in fx.shape], np.uint8)})
    # The session still works after all of that.
    assert session.run(None, {"input": fashion_images})[0].shape == (8, 10)


def test_objects_made_by_new_alone_are_refused(fashion_images) -> None:
    # Cls.__new__(Cls) without __init__ holds no C++ object: every method, property and field must say so
    # (pybind11 alone would hand them uninitialised memory).
    session = octet.InferenceSession.__new__(octet.InferenceSession)
    model = octet.Model.__new__(octet.Model)
    arg = octet.NodeArg.__new__(octet.NodeArg)
    calls = [
        lambda: session.run(None, {"input": fashion_images}),
        lambda: session.get_inputs(),
        lambda: session.get_outputs(),
        lambda: session.model,
        lambda: session.threads,
        lambda: session.isa,
        lambda: session.requantization,
        lambda: session.last_profile(),
        lambda: model.get_inputs(),
        lambda: model.nodes(),
        lambda: model.info(),
        lambda: model.planned_arena_bytes,
        lambda: octet.InferenceSession(model),
        lambda: arg.name,
        lambda: arg.shape,
        lambda: arg.scale,
        lambda: repr(arg),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"octet\.(InferenceSession|Model|NodeArg) was made by __new__"):
            call()
    # A session made the usual way still works beside them.
    assert octet.InferenceSession(FASHION).run(None, {"input": fashion_images})[0].shape == (8, 10)


def malformed_cases() -> list[tuple[str, str]]:
    cases = []
    for line in (MALFORMED / "EXPECTED.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            file, substring = line.split("\t")
            cases.append((file, substring))
    return cases


@pytest.mark.parametrize("file,substring", malformed_cases())
def test_malformed_models_raise_octets_message(file: str, substring: str) -> None:
    path = MALFORMED / file
    for source in (path, path.read_bytes()):
        with pytest.raises(octet.OctetError) as e:
            octet.InferenceSession(source)
        assert substring in str(e.value)


def test_threads_share_one_session(fashion_images) -> None:
    session = octet.InferenceSession(FASHION)
    batches = [np.roll(fashion_images, k, axis=0) for k in range(8)]
    want = [session.run(None, {"input": b})[0] for b in batches]
    results: dict[tuple[int, int], np.ndarray] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(t: int) -> None:
        try:
            start.wait()
            for r in range(25):
                k = (t + r) % len(batches)
                results[(t, r)] = session.run(None, {"input": batches[k]})[0]
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 100
    for (t, r), got in results.items():
        np.testing.assert_array_equal(got, want[(t + r) % len(batches)])
    # Concurrent runs used more than one Session, and they are kept for reuse.
    assert 1 <= session._pool_size() <= 4


def test_run_releases_the_gil(fashion_images) -> None:
    # With a switch interval far longer than the test, a thread gives up the GIL only when it blocks or
    # releases it itself. So the main thread can count while the other is inside run only if run
    # releases the GIL; holding it, the count would stay at most 1.
    session = octet.InferenceSession(FASHION)
    batch = np.ascontiguousarray(np.resize(fashion_images, (2048, 1, 28, 28)))
    session.run(None, {"input": batch})  # compiles for this shape
    entering, finished = threading.Event(), threading.Event()

    def work() -> None:
        entering.set()
        session.run(None, {"input": batch})
        finished.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        entering.wait(timeout=30)
        count = 0
        while not finished.is_set():
            count += 1
            time.sleep(0)
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert count > 10


def test_quantize_the_float_model_keeps_its_decisions(tmp_path, fashion_images) -> None:
    float_model = FASHION.parent / "fashion_mnist_fp32.onnx"
    samples = [{"input": fashion_images[i : i + 1]} for i in range(len(fashion_images))]
    out = tmp_path / "q.onnx"
    model, report = octet.quantize(float_model, samples, output_path=out, method="entropy")
    assert out.read_bytes() == model
    assert report["quantized_nodes"] == 10 and report["float_nodes"] == []
    assert {t["name"] for t in report["tensors"]} >= {"input", "logits"}
    assert all(t["range"][0] <= 0 <= t["range"][1] for t in report["tensors"])
    (want,) = octet.InferenceSession(str(float_model)).run(None, {"input": fashion_images})
    (got,) = octet.InferenceSession(model).run(None, {"input": fashion_images})
    np.testing.assert_array_equal(got.argmax(axis=1), want.argmax(axis=1))


def test_quantize_errors_leave_no_file(tmp_path, fashion_images) -> None:
    float_model = FASHION.parent / "fashion_mnist_fp32.onnx"
    bad = fashion_images.copy()
    bad[0, 0, 3, 4] = np.nan
    out = tmp_path / "q.onnx"
    with pytest.raises(octet.OctetError, match="NaN"):
        octet.quantize(float_model, [{"input": bad}], output_path=out)
    with pytest.raises(octet.OctetError, match="no calibration samples"):
        octet.quantize(float_model, [], output_path=out)
    with pytest.raises(octet.OctetError, match="kl"):
        octet.quantize(float_model, [{"input": fashion_images}], method="kl")
    with pytest.raises(TypeError):
        octet.quantize(float_model, [{"input": fashion_images.astype(np.float64)}])
    assert list(tmp_path.iterdir()) == []
