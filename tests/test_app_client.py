"""The running app through gradio_client: every endpoint, seeds, streaming training,
stopping, and one training run at a time across clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.utils import Status
from PIL import Image

from app_helpers import shared_server, wait_for

TRAIN_ARGS = dict(family="mlp-gan", dataset="mnist", steps=100_000, batch_size=16, lr_g=2e-4, lr_d=2e-4, lr=1e-3,
                  beta1=0.5, beta2=0.999, loss="ns", diffaugment=False, ema=0.0, seed=0)


@pytest.fixture(scope="module")
def server(root: Path):
    return shared_server(root)


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


def ck(root: Path, name: str) -> str:
    return str(root / "checkpoints" / name)


def image_of(value) -> Image.Image:
    """An image output as the client returns it (a local file path)."""
    assert isinstance(value, str) and Path(value).exists(), value
    return Image.open(value)


def test_sample_gan_is_a_png_of_the_right_size_and_seeded(client, root):
    a, file_a = client.predict(ck(root, "mnist-dcgan"), 16, 5, 0, False, api_name="/sample_gan")
    b, _ = client.predict(ck(root, "mnist-dcgan"), 16, 5, 0, False, api_name="/sample_gan")
    c, _ = client.predict(ck(root, "mnist-dcgan"), 16, 6, 0, False, api_name="/sample_gan")
    img = image_of(a)
    assert img.format == "PNG" and img.size[0] == img.size[1] and img.size[0] % 122 == 0
    assert Path(a).read_bytes() == Path(b).read_bytes() != Path(c).read_bytes()
    assert Path(file_a).read_bytes()[:4] == b"\x89PNG"
    captioned, _ = client.predict(ck(root, "mnist-mlp-gan"), 4, 0, 1.0, True, api_name="/sample_gan")
    assert image_of(captioned).mode == "RGB"


def test_bad_input_is_a_clear_error(client, root):
    with pytest.raises(Exception, match="Number of images must be a number from 1 to 256, got 0"):
        client.predict(ck(root, "mnist-dcgan"), 0, 5, 0, False, api_name="/sample_gan")
    with pytest.raises(Exception, match="not one of this app's checkpoints"):
        client.predict("/etc", 4, 5, 0, False, api_name="/sample_gan")


def test_cgan_endpoints(client, root):
    grid, file = client.predict(ck(root, "mnist-cgan"), "3", "all", 2, 0, api_name="/sample_cgan")
    assert image_of(grid).size[1] > image_of(grid).size[0]
    strip, gif = client.predict(ck(root, "mnist-cgan"), "3", "8", 6, 0, api_name="/morph_cgan")
    assert image_of(strip).size[0] > 5 * image_of(strip).size[1]
    assert Path(gif).read_bytes()[:6] == b"GIF89a"


def test_interpolation_endpoints(client, root):
    lerp, slerp, gif = client.predict(ck(root, "mnist-vae"), 1, 2, 6, "0", api_name="/interpolate")
    assert image_of(lerp).size == image_of(slerp).size
    assert Image.open(gif).n_frames >= 6
    lerp, slerp, gif = client.predict(ck(root, "mnist-vae"), None, 0, None, 1, 5, api_name="/interpolate_real")
    assert image_of(lerp).size == image_of(slerp).size


def test_vae_endpoints(client, root):
    seen, recon, err, latent_map, summary = client.predict(ck(root, "mnist-vae"), None, None, 3, api_name="/reconstruct")
    assert image_of(seen).size == image_of(recon).size == image_of(err).size == (224, 224)
    assert image_of(latent_map).size[0] > 400 and "squared error" in summary
    grid, png = client.predict(ck(root, "mnist-vae"), 4, 0, 1, api_name="/vae_prior")
    assert image_of(grid).size == image_of(png).size and image_of(grid).size[0] > 0


def test_augment_endpoint(client):
    original, classic, diff, note = client.predict("mnist", 8, 1.0, 0, api_name="/augment")
    sizes = {image_of(x).size for x in (original, classic, diff)}
    assert len(sizes) == 1 and "8 test images" in note


def test_training_streams_and_stops_and_a_second_request_waits(server, root):
    first, second = Client(server.url, verbose=False), Client(server.url, verbose=False)
    job1 = first.submit(**TRAIN_ARGS, name="client-run", api_name="/train")
    wait_for(lambda: len(job1.outputs()) >= 3, 120, "three streamed updates")
    status, losses, scores, grid, hist, warning, saved, run_id = job1.outputs()[-1]
    assert "Step" in status and image_of(grid).size[0] > 200

    job2 = second.submit(**TRAIN_ARGS, name="queued-run", api_name="/train")
    wait_for(lambda: job2.status().code == Status.IN_QUEUE, 120, "the second request to be queued")
    streamed = len(job1.outputs())  # the first run goes on streaming while the second one waits
    wait_for(lambda: len(job1.outputs()) >= streamed + 2, 120, "two more updates from the first run")
    assert job2.status().code == Status.IN_QUEUE, job2.status()
    assert job2.outputs() == [] and not job1.done()

    first.predict(api_name="/stop")
    wait_for(job1.done, 120, "the first run to stop")  # no bound on how fast: a busy machine is slow
    final = job1.outputs()[-1]
    assert "stopped" in final[0] and final[-2] == "runs/client-run" and final[-1] == run_id
    assert (root / "runs" / "client-run" / "model.safetensors").exists()

    wait_for(lambda: len(job2.outputs()) >= 1, 120, "the queued run to start")
    job2.cancel()  # closing the request aborts the run without saving
    wait_for(job2.done, 120, "the cancelled run to end")
    assert not (root / "runs" / "queued-run").exists()


def test_a_trained_run_is_selectable_for_sampling(client, root):
    run = root / "runs" / "client-run"
    if not run.exists():
        pytest.skip("needs the training test's run")
    grid, _ = client.predict("runs/client-run", 4, 0, 0, False, api_name="/sample_gan")
    assert image_of(grid).size[0] > 0
