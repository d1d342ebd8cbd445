"""Per-update cost of the trainer's EMA (``objectives.EMA``: one ``torch._foreach_lerp_`` over G's
parameters, buffers copied) against ``torch.optim.swa_utils.AveragedModel`` with
``get_ema_multi_avg_fn`` on the shipped generators; 1 thread, 7 interleaved rounds of 50 updates,
medians. ``PYTHONPATH=. python scripts/ema_update_cost.py``."""
import statistics, time, torch
torch.set_num_threads(1)
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from aigc_models.objectives import EMA
from aigc_models.checkpoints import load_checkpoint
rows = {}
for name in ("mnist-dcgan", "mnist-mlp-gan"):
    g = load_checkpoint(name).generator
    ours = EMA(g, 0.999)
    theirs = AveragedModel(g, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
    a, b = [], []
    for _ in range(7):
        for impl, out in ((ours.update, a), (theirs.update_parameters, b)):
            t = time.perf_counter()
            for _ in range(50):
                impl(g)
            out.append((time.perf_counter() - t) / 50 * 1e3)
    rows[name] = (statistics.median(a), statistics.median(b))
    print(name, f"ours {statistics.median(a):.3f} ms, AveragedModel {statistics.median(b):.3f} ms, ratio {statistics.median(b)/statistics.median(a):.2f}")
