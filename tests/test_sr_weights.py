"""Weight files: ISR naming, the Keras-2 HDF5 layout, strict loading by layer name."""

import json

import h5py
import numpy as np
import pytest

from mesr.sr import build, load_weights, save_weights, weights_filename

TINY_RDN = {"C": 2, "D": 2, "G": 4, "G0": 4}
TINY_RRDN = {"C": 2, "D": 1, "G": 4, "G0": 4, "T": 1}


def write_keras2_weights(group, model, keras_version=b"2.2.4"):
    """Write ``model``'s weights into ``group`` the way Keras 2 ``save_weights`` did (ISR's files)."""
    group.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = keras_version
    for layer in model.layers:
        layer_group = group.create_group(layer.name)
        names = [f"{layer.name}/{w.name}:0".encode("utf8") for w in layer.weights]
        layer_group.attrs["weight_names"] = np.array(names, dtype="S") if names else np.zeros((0,), "S1")
        for name, weight in zip(names, layer.weights):
            layer_group.create_dataset(name.decode("utf8"), data=weight.numpy())


def outputs(model, seed=0):
    x = np.random.default_rng(seed).uniform(size=(2, 5, 6, 3)).astype(np.float32)
    return model(x).numpy()


@pytest.fixture
def rdn_pair():
    """A source RDN and a freshly built one of the same parameters (different random weights)."""
    source, target = build("rdn", TINY_RDN, 2), build("rdn", TINY_RDN, 2)
    assert not np.array_equal(outputs(source), outputs(target))
    return source, target


# --- naming ------------------------------------------------------------------------------------


def test_weights_filename_reproduces_isr_published_names():
    rdn_large, rdn_small = {"C": 6, "D": 20, "G": 64, "G0": 64}, {"C": 3, "D": 10, "G": 64, "G0": 64}
    assert weights_filename("rdn", rdn_large, 2, "PSNR_epoch086") == "rdn-C6-D20-G64-G064-x2_PSNR_epoch086.hdf5"
    assert weights_filename("rdn", rdn_small, 2, "PSNR_epoch134") == "rdn-C3-D10-G64-G064-x2_PSNR_epoch134.hdf5"
    assert (
        weights_filename("rdn", rdn_large, 2, "ArtefactCancelling_epoch219")
        == "rdn-C6-D20-G64-G064-x2_ArtefactCancelling_epoch219.hdf5"
    )
    rrdn = {"T": 10, "G0": 32, "G": 32, "D": 3, "C": 4}  # order of the dict does not matter
    assert weights_filename("rrdn", rrdn, 4, "epoch299") == "rrdn-C4-D3-G32-G032-T10-x4_epoch299.hdf5"


def test_weights_filename_without_suffix_and_for_nesrgan_plus():
    params = {"nf": 64, "gc": 32, "nb": 10, "noise": True}
    assert weights_filename("nesrgan_plus", params, 4) == "nesrgan_plus-gc32-nb10-nf64-x4.hdf5"


def test_weights_filename_validates_its_arguments():
    with pytest.raises(ValueError, match="arch must be one of"):
        weights_filename("srcnn", {}, 2)
    with pytest.raises(ValueError, match="scale of arch 'rdn' must be one of"):
        weights_filename("rdn", TINY_RDN, 5)
    with pytest.raises(ValueError, match="suffix must be a non-empty string"):
        weights_filename("rdn", TINY_RDN, 2, "a/b")


# --- loading the Keras-2 layout -------------------------------------------------------------------


def test_isr_style_keras2_file_loads_and_gives_identical_outputs(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = tmp_path / weights_filename("rdn", TINY_RDN, 2, "PSNR_epoch001")
    with h5py.File(path, "w") as handle:
        write_keras2_weights(handle, source)
    assert load_weights(target, path) is target
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_save_weights_round_trip(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = save_weights(source, tmp_path / "w.hdf5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.hdf5"]  # no temporary file left
    with h5py.File(path, "r") as handle:
        assert handle["F_m1"].attrs["weight_names"].tolist() == [b"F_m1/kernel:0", b"F_m1/bias:0"]
        assert handle.attrs["layer_names"][0] == b"LR"
    load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_file_written_by_keras_legacy_h5_writer_loads(tmp_path):
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    source, target = build("rrdn", TINY_RRDN, 4), build("rrdn", TINY_RRDN, 4)
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as handle:
        legacy.save_weights_to_hdf5_group(handle, source)
    load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_whole_model_file_loads_from_model_weights(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Model"}).encode("utf8")
        write_keras2_weights(handle.create_group("model_weights"), source)
    load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_chunked_layer_names_attribute_loads(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = tmp_path / "chunked.hdf5"
    with h5py.File(path, "w") as handle:
        write_keras2_weights(handle, source)
        names = handle.attrs["layer_names"]
        del handle.attrs["layer_names"]
        for index, part in enumerate(np.array_split(names, 3)):
            handle.attrs[f"layer_names{index}"] = part
    load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_keras_reads_our_files_by_name(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = save_weights(source, tmp_path / "w.h5")
    target.load_weights(path, by_name=True)
    np.testing.assert_array_equal(outputs(target), outputs(source))


def test_file_layers_without_weights_are_ignored(rdn_pair, tmp_path):
    source, target = rdn_pair
    path = tmp_path / "extra.hdf5"
    with h5py.File(path, "w") as handle:
        write_keras2_weights(handle, source)
        names = list(handle.attrs["layer_names"]) + [b"Some_Activation"]
        handle.attrs["layer_names"] = np.array(names)
        handle.create_group("Some_Activation").attrs["weight_names"] = np.zeros((0,), "S1")
    load_weights(target, path)


# --- mismatches --------------------------------------------------------------------------------


def test_file_for_another_architecture_names_the_layer(tmp_path):
    path = save_weights(build("rrdn", TINY_RRDN, 2), tmp_path / "rrdn.hdf5")
    target = build("rdn", TINY_RDN, 2)
    before = outputs(target)
    with pytest.raises(ValueError, match=r"weights file .*rrdn\.hdf5 has no layer 'F_m1'"):
        load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), before)  # left unchanged


def test_shape_mismatch_names_the_layer_and_the_file(tmp_path):
    path = save_weights(build("rdn", {"C": 3, "D": 2, "G": 4, "G0": 4}, 2), tmp_path / "c3.hdf5")
    target = build("rdn", TINY_RDN, 2)
    before = outputs(target)
    with pytest.raises(ValueError, match=r"c3\.hdf5: layer 'LFF_1' weight 'LFF_1/kernel:0' has shape"):
        load_weights(target, path)
    np.testing.assert_array_equal(outputs(target), before)


def test_scale_mismatch_names_upn3(tmp_path):
    path = save_weights(build("rdn", TINY_RDN, 4), tmp_path / "x4.hdf5")
    with pytest.raises(ValueError, match="layer 'UPN3'"):
        load_weights(build("rdn", TINY_RDN, 2), path)


def test_layers_only_in_the_file_are_an_error(tmp_path):
    path = save_weights(build("rdn", {"C": 2, "D": 3, "G": 4, "G0": 4}, 2), tmp_path / "d3.hdf5")
    # D3 and D2 share shapes up to GFF_1, which differs (concatenation of D outputs)
    with pytest.raises(ValueError, match="layer 'GFF_1'"):
        load_weights(build("rdn", TINY_RDN, 2), path)
    small = tmp_path / "subset.hdf5"
    model = build("rdn", TINY_RDN, 2)
    with h5py.File(small, "w") as handle:
        write_keras2_weights(handle, model)
        handle.attrs["layer_names"] = np.array(list(handle.attrs["layer_names"]) + [b"Extra_conv"])
        group = handle.create_group("Extra_conv")
        group.attrs["weight_names"] = np.array([b"Extra_conv/kernel:0"])
        group.create_dataset("Extra_conv/kernel:0", data=np.zeros((1, 1, 3, 2), np.float32))
    with pytest.raises(ValueError, match="has weights for layer 'Extra_conv', which model 'rdn' lacks"):
        load_weights(model, small)


def test_weight_count_mismatch(tmp_path):
    model = build("rdn", TINY_RDN, 2)
    path = tmp_path / "nobias.hdf5"
    with h5py.File(path, "w") as handle:
        write_keras2_weights(handle, model)
        handle["F_m1"].attrs["weight_names"] = np.array([b"F_m1/kernel:0"])
    with pytest.raises(ValueError, match="layer 'F_m1' has 1 weights in the file, the model expects 2"):
        load_weights(model, path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.hdf5 does not exist"):
        load_weights(build("rdn", TINY_RDN, 2), tmp_path / "absent.hdf5")


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "text.hdf5"
    path.write_text("not hdf5")
    with pytest.raises(ValueError, match="text.hdf5 is not an HDF5 file"):
        load_weights(build("rdn", TINY_RDN, 2), path)


def test_keras3_weights_file_is_refused_with_an_explanation(tmp_path):
    model = build("rdn", TINY_RDN, 2)
    path = tmp_path / "new.weights.h5"
    model.save_weights(path)
    with pytest.raises(ValueError, match="new.weights.h5 is not a Keras-2 HDF5 weights file"):
        load_weights(model, path)
