"""Hostile files: pickles are never unpickled, config.json is validated before any module is
built, weights must match the config, Hub downloads name a revision and fail fast offline.

The pickle payload's ``__reduce__`` creates a marker file when unpickled; every test asserts
the marker never appears (``test_the_payload_really_runs_code`` proves it would).
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import socket
import threading
from pathlib import Path

import huggingface_hub
import pytest
import torch
from conftest import TINY_OPTIONS

from aigc_models import checkpoints, cli
from aigc_models.checkpoints import (CheckpointError, check_model_option, list_checkpoints, load_checkpoint,
                                     parse_hub_id, read_meta, save_checkpoint)
from aigc_models.models import REGISTRY, build_model, make_config

PICKLE_NAMES = ["pytorch_model.bin", "model.pt", "model.pkl", "model.ckpt"]


class Payload:
    """Unpickling this opens (creates) ``marker``: stands in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def payload_bytes(marker: Path) -> bytes:
    return pickle.dumps({"generator.net.0.weight": Payload(marker)})


def tiny(family: str = "dcgan", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(family, make_config(family, **TINY_OPTIONS[family])).eval()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "MARKER-code-ran"
    yield path
    assert not path.exists(), "a pickle was unpickled"


def hostile_folder(root: Path, marker: Path, *, pickle_name: str, keep_weights: bool) -> Path:
    """A valid checkpoint folder plus a pickle; without its safetensors file unless ``keep_weights``."""
    folder = save_checkpoint(tiny(), root / "hostile")
    (folder / pickle_name).write_bytes(payload_bytes(marker))
    if not keep_weights:
        (folder / "model.safetensors").unlink()
    return folder


def test_the_payload_really_runs_code(tmp_path):
    canary = tmp_path / "canary"
    pickle.loads(payload_bytes(canary))
    assert canary.exists()


# ----------------------------------------------------------------------------- pickles on disk


@pytest.mark.parametrize("pickle_name", PICKLE_NAMES)
def test_pickle_weights_are_refused_not_unpickled(tmp_path, marker, pickle_name):
    folder = hostile_folder(tmp_path, marker, pickle_name=pickle_name, keep_weights=False)
    with pytest.raises(CheckpointError, match=f"only {pickle_name}: pickle files are never loaded"):
        load_checkpoint(folder)
    assert list_checkpoints(tmp_path) == []  # not offered in any picker either


def test_a_pickle_named_model_safetensors_is_refused(tmp_path, marker):
    folder = save_checkpoint(tiny(), tmp_path / "fake")
    (folder / "model.safetensors").write_bytes(payload_bytes(marker))
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_checkpoint(folder)


def test_a_pickle_named_config_json_is_refused(tmp_path, marker):
    folder = save_checkpoint(tiny(), tmp_path / "fake")
    (folder / "config.json").write_bytes(payload_bytes(marker))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)
    assert list_checkpoints(tmp_path) == []


@pytest.mark.parametrize("pickle_name", PICKLE_NAMES)
def test_a_pickle_beside_good_weights_is_ignored(tmp_path, marker, pickle_name):
    model = tiny(seed=3)
    folder = hostile_folder(tmp_path, marker, pickle_name=pickle_name, keep_weights=True)
    save_checkpoint(model, folder)
    (folder / pickle_name).write_bytes(payload_bytes(marker))
    loaded = load_checkpoint(folder)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert [row["name"] for row in list_checkpoints(tmp_path)] == ["hostile"]


@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_cli_refuses_a_pickle_checkpoint(tmp_path, marker, capsys, command):
    folder = hostile_folder(tmp_path, marker, pickle_name="pytorch_model.bin", keep_weights=False)
    argv = [command, "--checkpoint", str(folder)] + (["--out", str(tmp_path / "x.png")] if command == "sample" else [])
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "never loaded" in err and "\n" not in err


def test_model_from_pretrained_never_unpickles_a_local_folder(tmp_path, marker, monkeypatch):
    """The model classes' from_pretrained goes through our loader: a pickle is refused, never loaded."""
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called"))
    folder = hostile_folder(tmp_path, marker, pickle_name="pytorch_model.bin", keep_weights=False)
    with pytest.raises(CheckpointError, match="never loaded"):
        REGISTRY["dcgan"].model.from_pretrained(str(folder))


def test_model_save_pretrained_and_from_pretrained_use_the_checkpoint_format(tmp_path):
    """save_pretrained writes our config.json + safetensors folder; from_pretrained checks the family."""
    model = tiny(seed=3)
    model.save_pretrained(tmp_path / "saved")
    assert read_meta(tmp_path / "saved")["family"] == "dcgan"
    loaded = REGISTRY["dcgan"].model.from_pretrained(tmp_path / "saved")
    z = torch.randn(2, loaded.latent_dim)
    assert torch.equal(loaded.generate(z), model.generate(z))
    with pytest.raises(CheckpointError, match="holds a dcgan model"):
        REGISTRY["vae"].model.from_pretrained(tmp_path / "saved")


# ----------------------------------------------------------------------------- pickles from the Hub


def fake_repo(tmp_path: Path, marker: Path, *, with_weights: bool) -> Path:
    """What a hostile Hub repo would offer: a valid config, a pickle, maybe real weights."""
    repo = tmp_path / "hub-repo"
    repo.mkdir()
    source = save_checkpoint(tiny(seed=5), tmp_path / "source")
    for name in ("config.json", "README.md") + (("model.safetensors",) if with_weights else ()):
        shutil.copy(source / name, repo / name)
    (repo / "pytorch_model.bin").write_bytes(payload_bytes(marker))
    (repo / "model.pkl").write_bytes(payload_bytes(marker))
    return repo


def fake_snapshot_download(repo: Path, calls: list, *, honour_patterns: bool = True):
    """Stands in for huggingface_hub.snapshot_download, serving ``repo`` (all files if not ``honour_patterns``)."""
    import fnmatch

    def download(repo_id, *, revision=None, allow_patterns=None, local_files_only=False, **kwargs):
        calls.append({"repo_id": repo_id, "revision": revision, "allow_patterns": allow_patterns})
        snapshot = repo.parent / f"snapshot-{len(calls)}"
        snapshot.mkdir()
        for file in repo.iterdir():
            if not honour_patterns or any(fnmatch.fnmatch(file.name, p) for p in allow_patterns or ["*"]):
                shutil.copy(file, snapshot / file.name)
        return str(snapshot)

    return download


@pytest.mark.parametrize("honour_patterns", [True, False])
def test_hub_repo_offering_only_a_pickle_is_refused(tmp_path, marker, monkeypatch, honour_patterns):
    calls: list = []
    repo = fake_repo(tmp_path, marker, with_weights=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(repo, calls, honour_patterns=honour_patterns))
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_checkpoint("someone/evil-model")
    assert calls == [{"repo_id": "someone/evil-model", "revision": "main",
                      "allow_patterns": ["config.json", "model.safetensors", "README.md"]}]


def test_hub_repo_with_safetensors_and_a_pickle_loads_the_safetensors(tmp_path, marker, monkeypatch):
    calls: list = []
    repo = fake_repo(tmp_path, marker, with_weights=True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(repo, calls, honour_patterns=False))
    loaded = load_checkpoint("someone/mixed-model@v1.2")
    expected = tiny(seed=5)
    for key, value in expected.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert calls[0]["revision"] == "v1.2"


def test_cli_sample_refuses_a_hub_pickle(tmp_path, marker, monkeypatch, capsys):
    repo = fake_repo(tmp_path, marker, with_weights=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(repo, [], honour_patterns=False))
    assert cli.main(["sample", "--checkpoint", "someone/evil-model", "--out", str(tmp_path / "x.png")]) == 2
    assert "never loaded" in capsys.readouterr().err


def test_model_from_pretrained_never_unpickles_a_hub_pickle(tmp_path, marker, monkeypatch):
    """A Hub repo without safetensors: from_pretrained asks for our three files at the named
    revision and refuses, where the Hub mixin alone would fall back to torch.load of the pickle."""
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called"))
    calls: list = []
    repo = fake_repo(tmp_path, marker, with_weights=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(repo, calls, honour_patterns=False))
    with pytest.raises(CheckpointError, match="never loaded"):
        REGISTRY["dcgan"].model.from_pretrained("someone/evil-model", revision="v2")
    assert calls[0]["revision"] == "v2"


# ----------------------------------------------------------------------------- Hub revisions, offline


@pytest.mark.parametrize("text, expected", [
    ("owner/name", ("owner/name", "main")),
    ("owner/name@v1.0", ("owner/name", "v1.0")),
    ("owner/name@refs/pr/3", ("owner/name", "refs/pr/3")),
    ("owner/name@" + "a" * 40, ("owner/name", "a" * 40)),
    ("../name", None), ("/abs/path", None), ("a/b/c", None), ("owner/name@", None), ("owner/na me", None),
    ("owner/name@../../etc", None),
])
def test_parse_hub_id(text, expected):
    assert parse_hub_id(text) == expected


def fake_cache(cache: Path, source: Path, revision: str = "main") -> None:
    """A Hugging Face cache holding ``source``'s files as owner/cached at ``revision``."""
    commit = "c" * 40
    snapshot = cache / "models--owner--cached" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "README.md"):
        shutil.copy(source / name, snapshot / name)
    (cache / "models--owner--cached" / "refs").mkdir()
    (cache / "models--owner--cached" / "refs" / revision).write_text(commit)


def test_offline_hub_id_fails_fast_with_one_clear_sentence(tmp_path, monkeypatch):
    """HF_HUB_OFFLINE=1 set after huggingface_hub was imported still means offline: no network try."""
    from huggingface_hub import constants

    listener = socket.create_server(("127.0.0.1", 0))  # a "Hub" that records connections and never answers
    listener.setblocking(False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # as if imported before the variable was set
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    errors: list[Exception] = []

    def load() -> None:
        try:
            load_checkpoint("nobody-here/no-such-model@v2")
        except Exception as err:  # noqa: BLE001 - checked below
            errors.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    # "fast" means no network try, checked by what happened rather than by a clock: a try would
    # still hang on the listener (which never answers) or leave a connection there to accept
    worker.join(timeout=120)
    try:
        assert not worker.is_alive(), "still waiting for the network after 120 s"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody tried the network
    finally:
        listener.close()
    assert len(errors) == 1 and isinstance(errors[0], CheckpointError)
    message = str(errors[0])
    assert "offline (HF_HUB_OFFLINE=1) and not in the local cache" in message
    assert "nobody-here/no-such-model@v2" in message and "unset HF_HUB_OFFLINE" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_offline_hub_id_loads_from_the_cache_at_its_revision(tmp_path, monkeypatch):
    from huggingface_hub import constants

    model = tiny("vae")
    fake_cache(tmp_path / "cache", save_checkpoint(model, tmp_path / "src"), revision="v3")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    loaded = load_checkpoint("owner/cached@v3")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    with pytest.raises(CheckpointError, match="offline"):
        load_checkpoint("owner/cached")  # "main" was never cached


def test_evaluate_save_refuses_to_write_into_a_hub_snapshot(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    calls: list = []
    source = save_checkpoint(tiny("classifier"), tmp_path / "src")
    for name in ("config.json", "model.safetensors", "README.md"):
        shutil.copy(source / name, repo / name)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download(repo, calls))
    with pytest.raises(CheckpointError, match="not a local checkpoint folder"):
        checkpoints.update_metrics("owner/model", {"a": 1.0})


# ----------------------------------------------------------------------------- config validation


def write_meta(folder: Path, edit) -> None:
    meta = json.loads((folder / "config.json").read_text())
    edit(meta)
    (folder / "config.json").write_text(json.dumps(meta))


def set_config(**fields):
    return lambda meta: meta["config"].update(fields)


BAD_CONFIGS = [
    ("unknown family", lambda m: m.update(family="stylegan"), "unknown family 'stylegan'"),
    ("format_version bool", lambda m: m.update(format_version=True), "format_version True"),
    ("format_version str", lambda m: m.update(format_version="1"), "format_version '1'"),
    ("extra top-level field", lambda m: m.update(code="import os"), "unknown field 'code'"),
    ("unknown config field", set_config(__class__="x"), "no option '__class__'"),
    ("latent_dim bool", set_config(latent_dim=True), "'latent_dim' must be an integer from 1 to 1024, got True"),
    ("latent_dim float", set_config(latent_dim=8.0), "'latent_dim' must be an integer"),
    ("latent_dim zero", set_config(latent_dim=0), "'latent_dim' must be an integer from 1 to 1024, got 0"),
    ("latent_dim huge", set_config(latent_dim=10**9), "'latent_dim' must be an integer from 1 to 1024"),
    ("channels huge", set_config(g_channels=100_000), "'g_channels' must be an integer from 1 to 1024"),
    ("channels str", set_config(d_channels="8"), "'d_channels' must be an integer"),
    ("spectral_norm int", set_config(spectral_norm=1), "'spectral_norm' must be true or false, got 1"),
    ("dataset unknown", set_config(dataset="cifar10"), "'dataset' must be one of mnist, fashion-mnist"),
    ("dataset mismatch", lambda m: m.update(dataset="fashion-mnist"), "the same in both places"),
    ("config not an object", lambda m: m.update(config=[1, 2]), "must be a JSON object"),
    ("training not an object", lambda m: m.update(training="rm -rf"), "'training' must be a JSON object"),
]


@pytest.mark.parametrize("label, edit, message", BAD_CONFIGS, ids=[b[0] for b in BAD_CONFIGS])
def test_bad_config_is_refused_before_any_module_is_built(tmp_path, monkeypatch, label, edit, message):
    folder = save_checkpoint(tiny("dcgan"), tmp_path / "ckpt")
    write_meta(folder, edit)
    built = []
    monkeypatch.setattr(checkpoints, "build_model", lambda *a, **k: built.append(a))
    with pytest.raises(CheckpointError, match=re.escape(message)):
        load_checkpoint(folder)
    assert built == []
    assert list_checkpoints(tmp_path) == []


MLP_BAD = [
    ("hidden not a list", set_config(g_hidden=256), "'g_hidden' must be a list of 1 to 8 layer sizes"),
    ("hidden empty", set_config(g_hidden=[]), "'g_hidden' must be a list"),
    ("hidden nested", set_config(d_hidden=[[64]]), "'d_hidden' must be a list"),
    ("hidden bools", set_config(d_hidden=[True, 8]), "'d_hidden' must be a list"),
    ("hidden too deep", set_config(g_hidden=[8] * 9), "'g_hidden' must be a list of 1 to 8"),
    ("hidden too wide", set_config(g_hidden=[10**6]), "each an integer from 1 to 8192"),
    ("dropout one", set_config(d_dropout=1.0), "'d_dropout' must be a number in [0, 1), got 1.0"),
    ("dropout negative", set_config(d_dropout=-0.1), "'d_dropout' must be a number in [0, 1)"),
    ("dropout string", set_config(d_dropout="0.3"), "'d_dropout' must be a number"),
]


@pytest.mark.parametrize("label, edit, message", MLP_BAD, ids=[b[0] for b in MLP_BAD])
def test_bad_mlp_config_names_the_field(tmp_path, label, edit, message):
    folder = save_checkpoint(tiny("mlp-gan"), tmp_path / "ckpt")
    write_meta(folder, edit)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        read_meta(folder)


def test_bad_num_classes_arch_and_dropout_of_other_families(tmp_path):
    for family, fields, message in [
        ("cgan", {"num_classes": 0}, "'num_classes' must be an integer from 1 to 1000"),
        ("cgan", {"num_classes": 5000}, "'num_classes' must be an integer from 1 to 1000"),
        ("cgan", {"arch": "transformer"}, "'arch' must be one of conv, mlp"),
        ("classifier", {"dropout": 1.5}, "'dropout' must be a number in [0, 1)"),
        ("vae", {"channels": -1}, "'channels' must be an integer from 1 to 1024"),
    ]:
        folder = save_checkpoint(tiny(family), tmp_path / family)
        write_meta(folder, set_config(**fields))
        with pytest.raises(CheckpointError, match=re.escape(message)):
            load_checkpoint(folder)


def test_every_config_field_has_a_rule_and_defaults_pass():
    """A new config field without a validation rule fails here, not on a user's checkpoint."""
    import dataclasses

    for family, entry in REGISTRY.items():
        config_cls = entry.config
        for field in dataclasses.fields(config_cls):
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            check_model_option(family, field.name, list(default) if isinstance(default, tuple) else default)


def test_oversized_or_deeply_nested_config_json_is_refused(tmp_path):
    folder = save_checkpoint(tiny(), tmp_path / "big")
    (folder / "config.json").write_text(" " * (checkpoints.MAX_CONFIG_BYTES + 1) + "{}")
    with pytest.raises(CheckpointError, match="larger than"):
        load_checkpoint(folder)
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)


# ----------------------------------------------------------------------------- weights vs config


def test_weights_of_another_shape_are_refused_before_allocating(tmp_path, monkeypatch):
    folder = save_checkpoint(tiny("dcgan"), tmp_path / "a")
    other = save_checkpoint(build_model("dcgan", make_config("dcgan", latent_dim=16, g_channels=8, d_channels=8)),
                            tmp_path / "b")
    shutil.copy(other / "model.safetensors", folder / "model.safetensors")
    built = []
    real_build = checkpoints.build_model

    def spy(*args, **kwargs):
        built.append(torch.empty(0).device.type)  # the default device when the model is built
        return real_build(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "build_model", spy)
    with pytest.raises(CheckpointError, match=r"generator.project.0.weight with shape \[784, 16\]; its config.json needs \[784, 8\]"):
        load_checkpoint(folder)
    assert built == ["meta"]  # only the shape check ran; no real model was allocated


def test_weights_with_missing_or_extra_tensors_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    folder = save_checkpoint(tiny("vae"), tmp_path / "v")
    tensors = load_file(str(folder / "model.safetensors"))
    first = sorted(tensors)[0]
    save_file({k: v for k, v in tensors.items() if k != first}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match=f"missing \\['{first}'\\]"):
        load_checkpoint(folder)
    save_file({**tensors, "backdoor": torch.zeros(1)}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="unexpected \\['backdoor'\\]"):
        load_checkpoint(folder)
