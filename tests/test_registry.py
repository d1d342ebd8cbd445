"""The registry is the one list of families, and TrainConfig the one source of training settings.

A toy family registered at run time must appear in the CLI's choices, the Train tab's choices
and ``list``, with no other file changed; the CLI's flags and the Train tab's limits must be
the ones ``TrainConfig`` declares."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from aigc_models import cli
from aigc_models.configs import bounded, dataset_field, unchecked_fields
from aigc_models.models import REGISTRY, Family, families_with, make_config, register, unregister
from aigc_models.training import TrainConfig, setting_bounds

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    dataset: str = dataset_field()
    latent_dim: int = bounded(4, lo=1, hi=64, help="noise size")


class ToyGAN(nn.Module):
    """The smallest thing the trainer calls a GAN: a linear G and a linear D."""

    objective = "gan"
    family = "toy-gan"
    num_classes = 0

    def __init__(self, config: ToyConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = nn.Sequential(nn.Linear(config.latent_dim, 784), nn.Tanh())
        self.discriminator = nn.Linear(784, 1)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z).view(-1, 1, 28, 28)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(images.flatten(1)).squeeze(1)


@pytest.fixture
def toy_family():
    entry = register(Family("toy-gan", ToyConfig, ToyGAN, label="Toy GAN", label_zh="玩具 GAN",
                            abilities=frozenset({"generate", "discriminate", "train_live"})))
    yield entry
    unregister("toy-gan")


def test_a_family_registered_at_run_time_is_everywhere(toy_family, tmp_path, capsys, app_environment):
    from aigc_models.training import train
    from ui import common, train as train_tab

    help_text = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "toy-gan" in help_text
    assert "toy-gan" in dict((v, k) for k, v in train_tab.family_choices())
    assert "toy-gan" in common.gan_families()
    assert cli.main(["list", "--root", str(tmp_path)]) == 0
    assert "toy-gan" in capsys.readouterr().out.splitlines()[0]
    assert make_config("toy-gan", latent_dim=8).latent_dim == 8
    with pytest.raises(ValueError, match="'latent_dim' must be an integer from 1 to 64"):
        make_config("toy-gan", latent_dim=0)
    events = list(train(TrainConfig(model="toy-gan", steps=2, batch_size=4, device="cpu", log_every=1, out=str(tmp_path / "toy"))))
    assert type(events[-1]).__name__ == "Done" and (tmp_path / "toy" / "model.safetensors").is_file()
    assert common.find_checkpoint(str(tmp_path / "toy")) is None  # not in the app's folders: never opened


def test_no_family_is_named_outside_its_module_the_registry_and_tests():
    """``grep`` for every family name (as a quoted string) in the library and the app."""
    offenders = []
    # the benchmark compares named models on purpose, and each failure preset is a lesson on one named model
    allowed_library = {"bench.py", "presets.py"}
    for path in [*REPO.glob("aigc_models/*.py"), *REPO.glob("ui/*.py"), REPO / "app.py"]:
        if path.name in allowed_library:
            continue
        lines = path.read_text().splitlines()
        for name in REGISTRY:
            if any(f'"{name}"' in line for line in lines):
                offenders.append(f"{path.relative_to(REPO)}: {name}")
    for path in REPO.glob("aigc_models/models/*.py"):
        text = path.read_text()
        for name in REGISTRY:
            if f'"{name}"' in text and path.stem != name.replace("-", "_") and path.name != "__init__.py":
                offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert not offenders, offenders


def test_every_config_field_declares_its_bounds():
    for name, entry in REGISTRY.items():
        assert unchecked_fields(entry.config) == [], name
        assert dataclasses.fields(entry.config)[0].name == "dataset"
        with pytest.raises(dataclasses.FrozenInstanceError):
            entry.config().dataset = "fashion-mnist"


def test_the_cli_flags_are_trainconfig_settings(capsys):
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    actions = {a.dest: a for a in train_parser._actions}
    for name in cli.SETTING_FLAGS:
        b, action = setting_bounds(name), actions[name]
        # no parser default (None = not given: the family's train_defaults, then TrainConfig's fill it);
        # the help names TrainConfig's default
        assert action.default is None and f"default {b['default']}" in action.help, name
        assert b["default"] == getattr(TrainConfig(), name), name
        if b.get("choices"):
            assert tuple(action.choices) == tuple(b["choices"]), name
    bounded_settings = {f.name for f in dataclasses.fields(TrainConfig) if f.metadata}
    assert bounded_settings == set(cli.SETTING_FLAGS)
    for name, bad in (("batch_size", "0"), ("seed", "-1"), ("ema", "1"), ("lr", "0")):
        flag = "--" + name.replace("_", "-")
        capsys.readouterr()
        try:
            code = cli.main(["train", "--model", "dcgan", flag, bad, "--steps", "1"])
        except SystemExit as exit_:  # argparse's own refusal
            code = exit_.code
        assert code == 2 and capsys.readouterr().err.strip().splitlines() == [f"error: {_message(name, bad)}"], name


def _message(name: str, bad: str) -> str:
    value = float(bad) if "." in bad or name in ("ema", "lr") else int(bad)
    try:
        TrainConfig(**{name: value}).validate()
    except ValueError as err:
        return str(err)
    raise AssertionError(f"{name}={bad} was accepted")


def test_the_train_tab_takes_its_limits_from_trainconfig(app_environment):
    import gradio as gr

    from ui import train as train_tab

    with gr.Blocks():
        boxes = {name: train_tab.setting_number(name, setting_bounds(name)["default"] or 0, name)
                 for name in ("steps", "batch_size", "lr_g", "lr_d", "lr", "ema", "seed")}
    for name, box in boxes.items():
        b = setting_bounds(name)
        assert (box.minimum, box.maximum) == (b["lo"], b["hi"]), name
    with pytest.raises(gr.Error, match=_message("batch_size", "0").replace("(", r"\(").replace(")", r"\)")):
        train_tab.make_config("dcgan", "mnist", 10, 0, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0, "x")
    big = setting_bounds("batch_size")["hi"]
    assert train_tab.make_config("dcgan", "mnist", 10, big, 2e-4, 2e-4, 1e-3, 0.5, 0.999, "ns", False, 0.0, 0, "x").batch_size == big
    assert set(families_with("train_live")) == {v for _, v in train_tab.family_choices()}


def test_the_package_is_the_library_only():
    """No module of aigc_models imports gradio or the app's ui/ (bench --app reaches the app's process helper
    lazily, with a sentence when the package runs outside the repository), and importing all of them pulls
    in no gradio."""
    package = REPO / "aigc_models"
    modules = sorted(p.relative_to(REPO).with_suffix("").as_posix().replace("/", ".") for p in package.rglob("*.py"))
    for path in package.rglob("*.py"):
        for line in path.read_text().splitlines():
            code = line.split("#")[0].strip()
            assert not code.startswith(("import gradio", "from gradio")), f"{path.name}: {line}"
            if code.startswith(("from ui", "import ui")):
                assert path.name == "bench.py" and code == "from ui.app_process import app_latency", f"{path.name}: {line}"
    names = ", ".join(m.removesuffix(".__init__").removesuffix(".__main__") for m in modules if not m.endswith("__main__"))
    result = subprocess.run([sys.executable, "-c", f"import sys, {names}; sys.exit('gradio' in sys.modules)"], cwd=REPO)
    assert result.returncode == 0


def test_the_train_tabs_first_pick_is_a_live_family():
    from aigc_models.models import LIVE_DEFAULT_FAMILY, families_with

    assert LIVE_DEFAULT_FAMILY in families_with("train_live")
    assert REGISTRY[LIVE_DEFAULT_FAMILY].objective == "gan"  # the live view's D scores and histogram need a GAN


def test_the_about_tab_describes_every_registered_family_in_both_languages():
    from aigc_models.models import REGISTRY
    from ui.i18n import EN, ZH

    for entry in REGISTRY.values():
        assert f"**{entry.label.lower()}" in EN["about_models"].lower() or f", {entry.label}" in EN["about_models"], entry.name
        assert entry.label_zh.lower() in ZH["about_models"].lower(), entry.name
