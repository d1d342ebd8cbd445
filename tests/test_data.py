"""The real MNIST / Fashion-MNIST archives, batch drawing and augmentations."""

from __future__ import annotations

import pytest
import torch

from aigc_models import data
from aigc_models.augment import DIFFAUGMENT_POLICIES, classic_augment, diff_augment

# ----------------------------------------------------------------------------- loading


def test_mnist_train_split_from_the_archives():
    split = data.load_split("mnist", train=True)
    assert split.images.shape == (60000, 1, 28, 28)
    assert split.images.dtype == torch.uint8
    assert split.labels.shape == (60000,)
    assert split.labels.dtype == torch.int64
    assert set(split.labels.unique().tolist()) == set(range(10))
    assert split.images.max() == 255 and split.images.min() == 0
    assert len(split) == 60000 and split.train and split.dataset == "mnist"
    assert str(data.data_root()) and (data.data_root() / "MNIST" / "raw").is_dir()


def test_mnist_test_split_and_cache():
    test = data.load_split("mnist", train=False)
    assert test.images.shape == (10000, 1, 28, 28)
    assert set(test.labels.unique().tolist()) == set(range(10))
    assert data.load_split("mnist", train=False) is test  # lru_cached: loads once


def test_fashion_mnist_test_split():
    test = data.load_split("fashion-mnist", train=False)
    assert test.images.shape == (10000, 1, 28, 28)
    assert test.images.dtype == torch.uint8
    assert torch.bincount(test.labels, minlength=10).tolist() == [1000] * 10
    assert not torch.equal(test.images[:100], data.load_split("mnist", train=False).images[:100])


def test_dataset_names_and_class_names():
    assert data.check_dataset_name("MNIST") == "mnist"
    assert data.check_dataset_name("fashion_mnist") == "fashion-mnist"
    assert data.check_dataset_name("FashionMNIST") == "fashion-mnist"
    with pytest.raises(ValueError, match="Known datasets"):
        data.check_dataset_name("cifar10")
    assert data.class_names("mnist") == tuple("0123456789")
    names = data.class_names("fashion-mnist")
    assert len(names) == 10 and names[0] == "T-shirt/top" and names[9] == "Ankle boot"


def test_missing_data_folder_gives_a_clear_error(missing_data_dir):
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_split("mnist", train=True)
    message = str(info.value)
    assert str(missing_data_dir) in message
    assert "AIGC_DATA_DIR" in message


def test_missing_data_error_message_is_one_line(missing_data_dir):
    """The CLI prints this message as its one-line error; torchvision's multi-line
    download report must not leak newlines into it."""
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_split("fashion-mnist", train=False)
    assert "\n" not in str(info.value)


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_DATA_DIR", str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv("AIGC_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_root() == tmp_path / "cache" / "aigc_models" / "data"


# ----------------------------------------------------------------------------- batches


def test_uint8_signed_round_trip():
    u8 = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    signed = data.to_signed(u8)
    assert signed.dtype == torch.float32
    assert signed.min() == -1 and signed.max() == 1
    assert torch.equal(data.to_uint8(signed), u8)
    assert data.to_uint8(torch.tensor([-3.0, 3.0])).tolist() == [0, 255]  # clamped


def test_batch_sampler_range_and_reproducibility():
    split = data.load_split("mnist", train=False)
    a = data.BatchSampler(split, batch_size=32, device=torch.device("cpu"), seed=7)
    x, y = a.next()
    assert x.shape == (32, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (32,) and y.dtype == torch.int64
    assert x.min() >= -1 and x.max() <= 1
    assert x.min() == -1 and x.max() > 0.9  # real digits: black background, white strokes
    b = data.BatchSampler(split, batch_size=32, device=torch.device("cpu"), seed=7)
    x2, y2 = b.next()
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = a.next()
    assert not torch.equal(x, x3)
    c = data.BatchSampler(split, batch_size=32, device=torch.device("cpu"), seed=8)
    assert not torch.equal(c.next()[0], x)
    # labels belong to their images
    idx = torch.randint(len(split), (32,), generator=torch.Generator().manual_seed(7))
    assert torch.equal(x, data.to_signed(split.images[idx])) and torch.equal(y, split.labels[idx])


# ----------------------------------------------------------------------------- augmentations


def batch(b: int = 8) -> torch.Tensor:
    return torch.rand(b, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("policy", ["translation", "cutout", "translation,cutout"])
def test_diff_augment_shape_range_and_change(policy):
    x = batch()
    out = diff_augment(x, policy, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    assert out.min() >= -1 and out.max() <= 1
    assert not torch.equal(out, x)


def test_cutout_blanks_a_square_to_background():
    x = torch.ones(4, 1, 28, 28)
    out = diff_augment(x, "cutout", generator=torch.Generator().manual_seed(0))
    blank = (out == -1).flatten(1).sum(1)
    assert (blank > 0).all() and (blank <= 14 * 14).all()
    assert set(out.unique().tolist()) <= {-1.0, 1.0}


def test_diff_augment_is_differentiable():
    x = batch().requires_grad_(True)
    out = diff_augment(x, "translation,cutout", generator=torch.Generator().manual_seed(2))
    out.square().sum().backward()
    assert x.grad is not None
    assert x.grad.abs().sum() > 0


def test_diff_augment_is_seeded():
    x = batch()
    a = diff_augment(x, generator=torch.Generator().manual_seed(3))
    b = diff_augment(x, generator=torch.Generator().manual_seed(3))
    c = diff_augment(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_diff_augment_identity_cases():
    x = batch()
    assert torch.equal(diff_augment(x, "translation,cutout", strength=0), x)
    assert torch.equal(diff_augment(x, ""), x)
    assert torch.equal(diff_augment(x, " , "), x)


def test_diff_augment_unknown_policy_raises():
    assert set(DIFFAUGMENT_POLICIES) == {"translation", "cutout"}
    with pytest.raises(ValueError, match="color"):
        diff_augment(batch(), "translation,color")
    with pytest.raises(ValueError):
        diff_augment(batch(), "flip", strength=0)


def test_classic_augment_shape_range_and_seed():
    x = batch(6)
    a = classic_augment(x, generator=torch.Generator().manual_seed(5))
    b = classic_augment(x, generator=torch.Generator().manual_seed(5))
    c = classic_augment(x, generator=torch.Generator().manual_seed(6))
    assert a.shape == x.shape
    assert a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, x)
    assert torch.equal(classic_augment(x, strength=0), x)


def test_classic_augment_draws_only_from_its_generator_so_other_threads_cannot_change_it(monkeypatch):
    """The app augments while other requests' threads draw from (and reseed) torch's global RNG: the
    same generator must still give the same pictures. It never reseeds nor forks the global RNG."""
    import threading

    x = batch(6)
    expected = classic_augment(x, generator=torch.Generator().manual_seed(9))
    monkeypatch.setattr(torch, "manual_seed", lambda *a: pytest.fail("classic_augment reseeded the global RNG"))
    monkeypatch.setattr(torch.random, "fork_rng", lambda *a, **k: pytest.fail("classic_augment forked the global RNG"))
    stop = threading.Event()

    def other_requests() -> None:  # reseeds and draws from the global RNG until told to stop
        while not stop.is_set():
            torch.random.default_generator.manual_seed(int(torch.randint(0, 1000, (1,))))
            torch.rand(64)

    thread = threading.Thread(target=other_requests, daemon=True)
    thread.start()
    try:
        for _ in range(5):
            assert torch.equal(classic_augment(x, generator=torch.Generator().manual_seed(9)), expected)
    finally:
        stop.set()
        thread.join()


def test_classic_augment_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    classic_augment(batch(2), generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.rand(3), expected)
