"""Your own pictures (aigc_models.pictures): a zip, a folder or files -> a framed training set,
bounded before decoding, every skipped file with its reason; saved sets that cannot be forged;
training and the CLI on them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from aigc_models import data as data_mod
from aigc_models import pictures
from aigc_models.checkpoints import read_meta
from aigc_models.pictures import (
    PictureReadError,
    load_pictures,
    load_set,
    read_pictures,
    save_set,
)
from aigc_models.training import TrainConfig, train

REPO = Path(__file__).resolve().parent.parent


def png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def sneakers() -> torch.Tensor:
    """12 Fashion-MNIST test sneakers, uint8 (12, 1, 28, 28)."""
    split = data_mod.load_split("fashion-mnist", train=False)
    return split.images[split.labels == 7][:12]


def zip_file(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_zip_is_read_framed_and_every_skipped_file_says_why(tmp_path, sneakers):
    entries = {f"shoes/{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)}
    entries |= {"shoes/notes.txt": b"mine", "__MACOSX/shoes/._00.png": b"fork", "shoes/.DS_Store": b"x",
                "shoes/broken.png": b"\x89PNG not really", "shoes/blank.png": png(torch.zeros(28, 28, dtype=torch.uint8).numpy()),
                "../../etc/outside.png": png(sneakers[0, 0].numpy())}  # a name is only a label: nothing is extracted
    got = read_pictures(zip_file(tmp_path / "shoes.zip", entries), dataset="fashion-mnist")
    assert len(got) == 13 and got.images.shape == (13, 1, 28, 28) and got.images.dtype == torch.uint8
    assert got.names[0] == "shoes/00.png" and "../../etc/outside.png" in got.names
    reasons = dict(got.skipped)
    assert reasons["shoes/notes.txt"] == "not an image file"
    assert reasons["shoes/broken.png"].startswith("This file is not a readable image")
    assert reasons["shoes/blank.png"] == "The picture is empty"
    assert not any("MACOSX" in n or "DS_Store" in n for n in reasons)  # hidden files are not the user's pictures
    assert not (tmp_path / "etc").exists() and not Path("/etc/outside.png").exists()
    # Fashion-MNIST's own images come back close to themselves (the framing refits the box to 28 px)
    assert (got.images[:12].float() - sneakers.float()).abs().mean() < 20
    assert "13 pictures read as objects" in got.summary() and "3 skipped" in got.summary()
    assert torch.equal(got.split().labels, torch.zeros(13, dtype=torch.int64))


def test_a_folder_is_walked_without_following_links_and_digits_are_framed_like_mnist(tmp_path):
    digits = data_mod.load_split("mnist", train=False).images[:10]
    folder = tmp_path / "mine"
    (folder / "more").mkdir(parents=True)
    for i, image in enumerate(digits):  # black ink on white paper, larger than 28 px: as drawn or scanned
        big = Image.fromarray(255 - image[0].numpy()).resize((84, 84))
        big.save(folder / ("more" if i % 2 else ".") / f"{i}.jpg", quality=95)
    (folder / "link.png").symlink_to(folder / "0.jpg")
    got = read_pictures(folder, dataset="mnist")
    assert len(got) == 10 and got.names[0] == "0.jpg" and "more/1.jpg" in got.names
    assert dict(got.skipped) == {"link.png": "a link (links are not followed)"}
    assert got.images.float().mean(dim=(1, 2, 3)).min() > 10  # white ink on black, as MNIST
    assert got.images[:, :, :4].float().mean() < 5  # framed inside the 20 x 20 box: empty borders


def test_too_few_too_many_and_too_large_are_refused_or_left_out(tmp_path, sneakers, monkeypatch):
    few = zip_file(tmp_path / "few.zip", {f"{i}.png": png(image[0].numpy()) for i, image in enumerate(sneakers[:3])})
    with pytest.raises(PictureReadError, match=r"Only 3 usable pictures found; training needs at least 10"):
        read_pictures(few)
    many = zip_file(tmp_path / "many.zip", {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)})
    got = read_pictures(many, limit=10)
    assert len(got) == 10 and got.left_out == 2 and "2 more were left out" in got.summary()
    bomb = zip_file(tmp_path / "bomb.zip", {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)}
                    | {"huge.png": b"\0" * (pictures.MAX_FILE_BYTES + 1)})  # about 16 KB once compressed
    assert dict(read_pictures(bomb).skipped)["huge.png"] == "larger than 16 MB"
    monkeypatch.setattr(pictures, "MAX_NAMES", 5)
    with pytest.raises(PictureReadError, match="More than 5 files"):
        read_pictures(many)
    monkeypatch.setattr(pictures, "MAX_NAMES", 10_000)
    monkeypatch.setattr(pictures, "MAX_TOTAL_BYTES", 2000)
    with pytest.raises(PictureReadError, match="add up to more than"):
        read_pictures(many)


def test_a_zip_entry_that_lies_about_its_size_is_read_only_to_the_limit(tmp_path, sneakers, monkeypatch):
    archive = zip_file(tmp_path / "liar.zip", {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)}
                       | {"liar.png": b"\0" * 50_000})
    real_infolist = zipfile.ZipFile.infolist

    def lying(self):  # the central directory claims a tiny size; the data inflates to 50 KB
        infos = real_infolist(self)
        for info in infos:
            if info.filename == "liar.png":
                info.file_size = 10
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    monkeypatch.setattr(pictures, "MAX_FILE_BYTES", 1000)
    got = read_pictures(archive)
    # zipfile stops inflating at the claimed size and then fails the entry's checksum
    assert dict(got.skipped)["liar.png"] == "cannot be read (BadZipFile)" and len(got) == 12


def test_bad_sources_get_one_sentence(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"PK not a zip")
    with pytest.raises(PictureReadError, match="fake.zip is not a readable zip archive"):
        read_pictures(tmp_path / "fake.zip")
    with pytest.raises(PictureReadError, match="No file or folder at"):
        read_pictures(tmp_path / "missing")
    with pytest.raises(PictureReadError, match="a zip file, a folder or a list"):
        read_pictures(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown dataset"):
        read_pictures(tmp_path, dataset="cifar")


def test_a_saved_set_reads_back_and_a_changed_one_is_refused(tmp_path, sneakers):
    entries = {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)} | {"a.txt": b"x"}
    entries["n" * 300 + ".png"] = png(sneakers[0, 0].numpy())  # a long name: read by its suffix, kept to 200 characters
    got = read_pictures(zip_file(tmp_path / "s.zip", entries))
    assert len(got) == 13 and max(map(len, got.names)) == pictures.NAME_CHARS
    path = save_set(got, tmp_path / "sets" / "mine")
    assert path.name == "mine.safetensors"
    back = load_set(path)
    assert torch.equal(back.images, got.images) and back.names == got.names and back.skipped == got.skipped
    assert back.digest() == got.digest()
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # one pixel changed
    (tmp_path / "changed.safetensors").write_bytes(bytes(data))
    with pytest.raises(PictureReadError, match="not a picture set written by this lab"):
        load_set(tmp_path / "changed.safetensors")
    from safetensors.torch import save_file

    save_file({"images": torch.zeros(12, 1, 28, 28, dtype=torch.uint8)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(PictureReadError, match="not a picture set"):
        load_set(tmp_path / "other.safetensors")
    with pytest.raises(PictureReadError, match="framed like fashion-mnist; train with dataset fashion-mnist"):
        load_pictures(path, dataset="mnist")


def test_a_run_trains_on_the_pictures_and_its_card_says_which(tmp_path, sneakers):
    entries = {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)}
    archive = zip_file(tmp_path / "shoes.zip", entries)
    cfg = TrainConfig(model="dcgan", dataset="fashion-mnist", steps=3, batch_size=4, pictures=str(archive),
                      diffaugment="translation,cutout", model_options={"g_channels": 8, "d_channels": 8},
                      device="cpu", log_every=1, out=str(tmp_path / "run"))
    events = list(train(cfg))
    assert events[-1].reason == "steps"
    card = read_meta(tmp_path / "run")["training"]["pictures"]
    assert card == {"source": str(archive), "count": 12, "framed_like": "fashion-mnist",
                    "sha256": read_pictures(archive).digest()}
    with pytest.raises(ValueError, match="with pictures \\(your own\\) leave it 0"):
        TrainConfig(pictures=str(archive), subset=100).validate()
    with pytest.raises(ValueError, match="pictures: no file or folder at"):
        TrainConfig(pictures=str(tmp_path / "gone.zip")).validate()


def test_a_conditional_model_on_pictures_draws_its_grid_from_class_0(tmp_path, sneakers):
    """Own pictures are all class 0, so a conditional model's fixed grid asks for class 0 only
    (a row per class would show nine classes it never saw)."""
    from aigc_models.training import Samples

    archive = zip_file(tmp_path / "shoes.zip", {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)})
    cfg = TrainConfig(model="cgan", dataset="fashion-mnist", steps=2, batch_size=4, pictures=str(archive),
                      model_options={"g_channels": 8, "d_channels": 8}, device="cpu", log_every=1)
    grids = [e for e in train(cfg) if isinstance(e, Samples)]
    assert grids and all(torch.equal(g.labels, torch.zeros(100, dtype=torch.int64)) for g in grids)
    plain = [e for e in train(TrainConfig(**{**cfg.__dict__, "pictures": None, "steps": 1})) if isinstance(e, Samples)]
    assert sorted(set(plain[0].labels.tolist())) == list(range(10))  # the dataset: a row per class


def test_the_command_line_reads_saves_and_trains_on_pictures(tmp_path, sneakers):
    entries = {f"{i:02d}.png": png(image[0].numpy()) for i, image in enumerate(sneakers)} | {"x.txt": b"x"}
    archive = zip_file(tmp_path / "shoes.zip", entries)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = [sys.executable, "-m", "aigc_models"]
    done = subprocess.run([*cli, "pictures", str(archive), "--out", str(tmp_path / "set"), "--grid",
                           str(tmp_path / "grid" / "set.png")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "12 pictures read as objects" in done.stdout and "skipped x.txt: not an image file" in done.stderr
    assert Image.open(tmp_path / "grid" / "set.png").size[0] > 100
    trained = subprocess.run([*cli, "train", "--model", "dcgan", "--dataset", "fashion-mnist", "--pictures",
                              str(tmp_path / "set.safetensors"), "--steps", "2", "--batch-size", "4", "--channels", "8",
                              "--out", str(tmp_path / "run"), "--quiet"], capture_output=True, text=True, env=env)
    assert trained.returncode == 0, trained.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["pictures"]["count"] == 12
    wrong = subprocess.run([*cli, "train", "--model", "dcgan", "--dataset", "mnist", "--pictures",
                            str(tmp_path / "set.safetensors"), "--steps", "2", "--quiet"],
                           capture_output=True, text=True, env=env)
    assert wrong.returncode == 2 and "framed like fashion-mnist" in wrong.stderr
