"""The "Your pictures" tab (ui/pictures.py): it opens on an example set, reads only files uploaded
to this server, says what it skipped in the page's language, names sets by content key only, and
trains through the Train tab's queue with a run that records its pictures."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from aigc_models import data as data_mod
from aigc_models.checkpoints import SHIPPED_DIR, read_meta
from ui.errors import NOT_ARRIVED

ZH = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"}, session_hash="zh-session")


@pytest.fixture(autouse=True)
def env(app_environment: None) -> None:
    """The app's environment: tiny checkpoints, a runs folder of the test session."""


def upload_zip(extra: dict[str, bytes] | None = None, count: int = 12) -> str:
    """A zip of ``count`` MNIST digits (+ ``extra``) placed where gradio keeps uploads."""
    from ui.components import upload_folder

    images = data_mod.load_split("mnist", train=False).images[:count]
    folder = upload_folder() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / "digits.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i, image in enumerate(images):
            buf = io.BytesIO()
            Image.fromarray(image[0].numpy()).save(buf, format="PNG")
            archive.writestr(f"digits/{i}.png", buf.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return str(path)


def test_the_tab_opens_on_the_example_sneakers():
    from ui import pictures

    preview, note, key = pictures.opening("fashion-mnist", "en")
    assert isinstance(preview, Image.Image) and preview.size[0] >= 280
    assert note.startswith("**Example**") and "**100 pictures** read as objects" in note
    assert pictures.set_path(key).is_file() and pictures.set_path(key).parent == pictures.sets_dir()
    zh_note = pictures.opening("mnist", "zh")[1]
    assert zh_note.startswith("**示例**") and "作为数字（MNIST 裁切）" in zh_note


def test_uploads_are_read_and_only_files_uploaded_here_are_opened(tmp_path):
    from ui import pictures

    path = upload_zip({"digits/notes.txt": b"mine"})
    _preview, note, key = pictures.read_upload([path], None, "mnist")
    assert "**12 pictures** read as digits" in note and "**1 skipped**: `digits/notes.txt` (not an image file)" in note
    assert len(key) == 16 and pictures.read_upload([path], None, "mnist")[2] == key  # the same pictures: one set
    assert pictures.read_upload([path], None, "fashion-mnist")[2] != key  # framed otherwise: another set
    zh = pictures.read_upload(None, [{"path": path}], "mnist", ZH)[1]
    assert "读入 **12 张图片**" in zh and "（不是图片文件）" in zh
    outside = tmp_path / "digits.zip"
    outside.write_bytes(Path(path).read_bytes())
    for named in (str(outside), "/etc/passwd", "http://127.0.0.1:9/x.zip", 7):
        with pytest.raises(gr.Error, match=NOT_ARRIVED):
            pictures.read_upload([named], None, "mnist")
    few = upload_zip({"digits/notes.txt": b"mine"}, count=3)
    with pytest.raises(gr.Error, match=r"Only 3 usable pictures found; .* \*\*1 skipped\*\*: `digits/notes.txt` \(not an"):
        pictures.read_upload([few], None, "mnist")
    with pytest.raises(gr.Error, match="只找到 3 张可用的图片；训练至少需要 10 张.*（不是图片文件）"):
        pictures.read_upload([few], None, "mnist", ZH)
    broken = Path(upload_zip()).with_name("broken.zip")
    broken.write_bytes(b"PK not a zip")
    with pytest.raises(gr.Error, match="broken.zip 不是可读的 zip 压缩包"):
        pictures.read_upload([str(broken)], None, "mnist", ZH)


def test_a_set_is_named_by_its_key_only_and_old_sets_are_dropped(monkeypatch):
    from ui import pictures

    for bad in ("../../etc/passwd", "F" * 16, "abc", "", None, 7):
        with pytest.raises(gr.Error):
            pictures.set_path(bad)
    with pytest.raises(gr.Error, match="no longer on this server"):
        pictures.set_path("0" * 16)
    with pytest.raises(gr.Error, match="这些图片已不在服务器上"):
        pictures.set_path("0" * 16, "zh")
    monkeypatch.setattr(pictures, "MAX_SETS", 2)
    keys = [pictures.read_upload([upload_zip(count=n)], None, "mnist")[2] for n in (10, 11, 12)]
    assert not (pictures.sets_dir() / f"{keys[0]}.safetensors").exists()
    assert all(pictures.set_path(k).is_file() for k in keys[1:])


def test_a_run_on_uploaded_pictures_streams_saves_and_records_them(root):
    from ui import pictures

    key = pictures.read_upload([upload_zip()], None, "mnist")[2]
    run_id, note = pictures.queue_pictures("", "dcgan", key)
    assert "pictures-dcgan-" in note
    updates = list(pictures.train_pictures("dcgan", "mnist", 4, key, True, False, 0, "", run_id))
    status, _losses, _scores, grid, _warning, saved, rid = updates[-1]
    assert "(your 12 pictures)" in updates[0][0] and "finished after 4 steps" in status
    assert rid == run_id and saved.startswith("runs/pictures-dcgan-") and grid is not None
    card = read_meta(root / saved)["training"]
    assert card["pictures"]["count"] == 12 and card["train_config"]["diffaugment"] == "translation,cutout"
    assert card["train_config"]["pictures"] == str(pictures.set_path(key))
    from aigc_models.training import shipped_recipe

    assert card["train_config"]["ema"] == shipped_recipe("dcgan", "mnist").ema  # the recipe as measured, EMA included
    with pytest.raises(gr.Error, match="Upload pictures first"):
        next(pictures.train_pictures("dcgan", "mnist", 4, "", True, False, 0, "", None))
    with pytest.raises(gr.Error, match="Unknown model"):
        next(pictures.train_pictures("stylegan", "mnist", 4, key, True, False, 0, "", None))
    with pytest.raises(gr.Error, match="There is no shipped mnist-nothing model"):
        pictures.shipped_start("nothing", "mnist", "en")


@pytest.mark.skipif(not (SHIPPED_DIR / "mnist-dcgan" / "model.safetensors").is_file(), reason="no shipped mnist-dcgan")
def test_fine_tuning_starts_from_the_shipped_model(root):
    from ui import pictures

    key = pictures.read_upload([upload_zip()], None, "mnist")[2]
    updates = list(pictures.train_pictures("dcgan", "mnist", 2, key, False, True, 0, "fine-tuned-pictures", None))
    card = read_meta(root / updates[-1][5])["training"]
    assert card["continued_from"]["checkpoint"] == str(SHIPPED_DIR / "mnist-dcgan")
    assert card["train_config"]["diffaugment"] == ""


def test_a_conditional_model_says_how_it_learns_unlabelled_pictures():
    from ui import pictures

    assert pictures.conditional_note("dcgan", "en") == ""
    assert "learns your pictures as its class 0" in pictures.conditional_note("cgan", "en")
    assert "第 0 类" in pictures.conditional_note("diffusion", "zh")
