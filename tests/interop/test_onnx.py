"""ONNX export: onnx.checker accepts the model, and onnxruntime, an independent
implementation of the operators, computes what the network computes: on the 10,000
MNIST test images, for every hidden activation and every output (sigmoid, softmax,
identity), in float32 to 1e-5 and in float64 to 1e-12."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import onnx
import onnxruntime
import pytest

import scratchnet as sn
from scratchnet.interop.onnx import OPSET

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]
TRAINING = {"epochs": 2, "batch_size": 64, "optimizer": "adam", "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    """4000 training images and all 10,000 test images, float32, with their digits."""
    data = sn.load_mnist(range(10), mnist_dir)
    X, X_test = sn.preprocess(data.x_train[:4000], "float32"), sn.preprocess(data.x_test, "float32")
    return X, data.y_train[:4000], X_test, data.y_test


def trained(kind: str, activation: str, mnist, dropout: float = 0.0):
    """A small network of the output kind, trained for two epochs."""
    X, y, _, _ = mnist
    options = {"activation": activation, "dropout": dropout, "random_state": 0}
    if kind == "identity":  # regression: the digit's value
        return sn.NeuralNetRegressor([24, 1], **options).fit(X, y.astype(np.float32), **TRAINING)
    if kind == "sigmoid":  # two classes: is the digit at least 5?
        return sn.NeuralNet([24, 1], **options).fit(X, (y >= 5) * 7 + 1, **TRAINING)
    return sn.NeuralNet([24, 10], **options).fit(X, y, **TRAINING)


def run(path, X: np.ndarray) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["sigmoid", "softmax", "identity"])
def test_onnxruntime_computes_what_the_network_computes(kind, activation, mnist, tmp_path):
    net = trained(kind, activation, mnist)
    net.to_onnx(tmp_path / "model.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "model.onnx"), full_check=True)
    X_test = mnist[2]
    outputs = run(tmp_path / "model.onnx", X_test)
    if kind == "identity":
        predicted = outputs["predictions"]
        assert predicted.shape == (10_000, 1) and predicted.dtype == np.float32
        np.testing.assert_allclose(predicted[:, 0], net.predict(X_test), rtol=1e-5, atol=1e-5)
        return
    probabilities = outputs["probabilities"]
    assert probabilities.shape == (10_000, len(net.classes)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, net.predict_proba(X_test), rtol=0, atol=1e-5)
    decided = np.abs(np.sort(probabilities, axis=1)[:, -1] - np.sort(probabilities, axis=1)[:, -2])
    clear = decided > 1e-4  # rows whose two largest probabilities are not a near tie
    np.testing.assert_array_equal(outputs["label"][clear], net.predict(X_test)[clear])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["sigmoid", "softmax", "identity"])
def test_a_float64_export_matches_to_1e_12(kind, activation, mnist, tmp_path):
    """Leaky ReLU too: ONNX's LeakyRelu holds alpha in 32 bits (1.5e-9 off)."""
    X, y, X_test, _ = mnist
    net = trained(kind, activation, (X.astype(np.float64), y, None, None))
    net.to_onnx(tmp_path / "model.onnx")
    outputs = run(tmp_path / "model.onnx", X_test[:2000].astype(np.float64))
    ours = net.predict(X_test[:2000]) if kind == "identity" else net.predict_proba(X_test[:2000])
    theirs = outputs["predictions"][:, 0] if kind == "identity" else outputs["probabilities"]
    assert theirs.dtype == np.float64
    np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-12)


def test_a_float64_network_exports_in_float32_on_request(mnist, tmp_path):
    X, y, X_test, _ = mnist
    net = trained("softmax", "relu", (X.astype(np.float64), y, None, None))
    net.to_onnx(tmp_path / "model.onnx", dtype="float32")
    probabilities = run(tmp_path / "model.onnx", X_test)["probabilities"]
    np.testing.assert_allclose(probabilities, net.predict_proba(X_test), rtol=0, atol=1e-5)


def test_a_network_with_dropout_exports_its_inference_graph(mnist, tmp_path):
    net = trained("softmax", "relu", mnist, dropout=0.5)
    net.to_onnx(tmp_path / "model.onnx")
    model = onnx.load(tmp_path / "model.onnx")
    assert "Dropout" not in {node.op_type for node in model.graph.node}
    probabilities = run(tmp_path / "model.onnx", mnist[2])["probabilities"]
    np.testing.assert_allclose(probabilities, net.predict_proba(mnist[2]), rtol=0, atol=1e-5)


def test_the_model_declares_its_opset_input_and_classes(mnist, tmp_path):
    net = trained("sigmoid", "relu", mnist)
    net.to_onnx(tmp_path / "model.onnx")
    model = onnx.load(tmp_path / "model.onnx")
    assert [(opset.domain, opset.version) for opset in model.opset_import] == [("", OPSET)]
    (graph_input,) = model.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == "X" and [dims[0].dim_param, dims[1].dim_value] == ["batch", 784]
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert json.loads(metadata["classes"]) == net.classes.tolist() == [1, 8]
    assert (metadata["output"], metadata["activation"]) == ("sigmoid", "relu")
    assert (model.producer_name, model.producer_version) == ("scratchnet", sn.__version__)
    assert "does no preprocessing" in model.doc_string
    assert {node.op_type for node in model.graph.node} <= {
        "Gemm", "Relu", "Mul", "Tanh", "Add", "Sub", "Concat", "Greater", "Cast", "Reshape",
        "Gather",
    }  # fmt: skip


def test_any_batch_size_runs(mnist, tmp_path):
    net = trained("softmax", "tanh", mnist)
    net.to_onnx(tmp_path / "model.onnx")
    for rows in (1, 3):
        X = mnist[2][:rows]
        probabilities = run(tmp_path / "model.onnx", X)["probabilities"]
        np.testing.assert_allclose(probabilities, net.predict_proba(X), rtol=0, atol=1e-5)


def test_export_replaces_a_file_only_when_complete(mnist, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an older model")
    with pytest.raises(sn.NotFittedError, match="not fitted"):
        sn.NeuralNet([4, 1]).to_onnx(path)
    assert path.read_bytes() == b"an older model"
    trained("sigmoid", "tanh", mnist).to_onnx(path)
    assert onnx.load(path).graph.input[0].name == "X"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_bad_dtype_is_refused(mnist, tmp_path):
    with pytest.raises(sn.InvalidTypeError, match="dtype must be float32 or float64"):
        trained("sigmoid", "tanh", mnist).to_onnx(tmp_path / "model.onnx", dtype="float16")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_two_class_label_breaks_near_ties_as_predict_does(blobs, tmp_path, dtype):
    """Logits around the tie bound, where p = 1/2 + z/4 rounds to 1/2 or not: predict,
    the argmax of predict_proba and of predict_log_proba, and onnxruntime's label agree
    on each (predict once broke ties from z = 4e-8 in float32 where onnxruntime did from
    1.2e-7, and onnxruntime's float32 Tanh rounds 2**-23 + 1 ulp to a tie)."""
    X = blobs[0][:, :1].astype(dtype)
    net = sn.NeuralNet([1], random_state=0).fit(X, blobs[1], n_iterations=1)
    net.layers[0].weight[...], net.layers[0].bias[...] = 1, 0  # z = x
    eps = np.finfo(dtype).eps
    around = [np.nextafter(bound, toward, dtype=dtype)
              for bound in (eps, eps / 2) for toward in (0, 1)] + [eps, eps / 2]  # fmt: skip
    z = np.concatenate([np.geomspace(eps / 64, eps * 64, 2000).astype(dtype), around])
    z = np.concatenate([z, -z, np.zeros(1, dtype)])[:, None]
    net.to_onnx(tmp_path / "model.onnx")
    label = run(tmp_path / "model.onnx", z)["label"]
    predicted = net.predict(z)
    np.testing.assert_array_equal(predicted, (z[:, 0] > eps).astype(int))  # 1/2 + z/4 by hand
    np.testing.assert_array_equal(predicted, label)
    np.testing.assert_array_equal(predicted, net.classes[net.predict_proba(z).argmax(axis=1)])
    np.testing.assert_array_equal(predicted, net.classes[net.predict_log_proba(z).argmax(axis=1)])


def test_weights_too_large_for_float32_are_refused_not_written_as_infinities(blobs, tmp_path):
    net = sn.NeuralNet([3, 1]).fit(blobs[0].astype(np.float64), blobs[1], n_iterations=1)
    net.layers[1].weight[0, 0] = -1e39  # finite in float64, past float32's 3.4e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow warning on the way
        with pytest.raises(
            sn.InvalidArgumentError,
            match=r"^layer 2's weights hold values too large for float32 \(up to 1e\+39\): "
            r"export the model in float64$",
        ):
            net.to_onnx(tmp_path / "model.onnx", dtype="float32")
    assert list(tmp_path.iterdir()) == []
    net.layers[0].bias[1] = np.nan  # set by hand: a fit's weights are finite
    with pytest.raises(sn.InvalidArgumentError, match=r"^layer 1's biases hold values that are"):
        net.to_onnx(tmp_path / "model.onnx")
    net.layers[0].bias[1] = 0
    net.to_onnx(tmp_path / "model.onnx")  # float64 holds them
    X = blobs[0][:5].astype(np.float64)
    np.testing.assert_allclose(
        run(tmp_path / "model.onnx", X)["probabilities"], net.predict_proba(X), atol=1e-12
    )


def test_without_onnx_export_names_the_extra_to_install(blobs, monkeypatch, tmp_path):
    net = sn.NeuralNet([3, 1]).fit(*blobs, n_iterations=1)
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "scratchnet.interop.onnx")
    with pytest.raises(sn.MissingExtraError, match=r"^ONNX export needs.*'scratchnet\[onnx\]'$"):
        net.to_onnx(tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_estimators_network_exports_the_estimators_labels(three_blobs, tmp_path):
    from scratchnet.interop.sklearn import ScratchNetClassifier

    X, y = three_blobs  # labels 3, 5, 8
    model = ScratchNetClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0).fit(X, y)
    model.net_.to_onnx(tmp_path / "model.onnx")
    outputs = run(tmp_path / "model.onnx", X)  # a float64 network exports in float64
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(outputs["label"], model.predict(X))


def test_an_estimator_or_a_pipeline_is_refused_with_the_network_to_export(three_blobs, tmp_path):
    """They gave an AttributeError ('... has no attribute layers', '... dtype')."""
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from scratchnet.interop.onnx import export
    from scratchnet.interop.sklearn import ScratchNetClassifier, ScratchNetRegressor

    X, y = three_blobs
    model = ScratchNetClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)
    pipeline = make_pipeline(StandardScaler(), model).fit(X, y)
    with pytest.raises(sn.InvalidTypeError, match=r"got ScratchNetClassifier; export the "
                       r"network inside, est\.net_ \(its labels are the positions"):  # fmt: skip
        export(pipeline[-1], tmp_path / "model.onnx")
    with pytest.raises(sn.InvalidTypeError, match=r"got Pipeline; export the network inside, "
                       r"pipeline\[-1\]\.net_ \(.*\): the steps before"):  # fmt: skip
        export(pipeline, tmp_path / "model.onnx")
    listed = Pipeline([["scale", StandardScaler()], ["model", pipeline[-1]]])  # lists work too
    with pytest.raises(sn.InvalidTypeError, match=r"pipeline\[-1\]\.net_"):
        export(listed, tmp_path / "model.onnx")
    regressor = ScratchNetRegressor(hidden_layer_sizes=(8,), epochs=3).fit(X, y.astype(float))
    with pytest.raises(sn.InvalidTypeError, match=r"got ScratchNetRegressor; export the network "
                       r"inside, est\.net_$"):  # fmt: skip
        export(regressor, tmp_path / "model.onnx")
    for odd in ("model.npz", type("Steps", (), {"steps": "ab"})(), type("S", (), {"steps": 3})()):
        with pytest.raises(sn.InvalidTypeError, match=r"NeuralNetRegressor, got \w+$"):
            export(odd, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
