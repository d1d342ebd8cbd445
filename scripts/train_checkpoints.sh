#!/usr/bin/env bash
# Train and evaluate every shipped checkpoint, one after another, on the CPU.
# Usage: bash scripts/train_checkpoints.sh [dataset ...]   (default: mnist fashion-mnist)
# Each model card records its exact command, device, time and evaluator numbers.
# RETRAIN=1 retrains folders that already exist.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
export OMP_WAIT_POLICY=PASSIVE  # share the cores politely with other processes
run() {  # run NAME ARGS...: train into checkpoints/NAME, then evaluate with N = 10,000 and store the numbers
  local name=$1; shift
  if [ -f "checkpoints/$name/config.json" ] && [ -z "${RETRAIN:-}" ]; then echo "skip $name (exists)"; return; fi
  echo "== $name: $*"
  python -m aigc_models train "$@" --device cpu --quiet --out "checkpoints/$name"
  python -m aigc_models evaluate --checkpoint "checkpoints/$name" --n 10000 --save > "checkpoints/$name/eval.json"
}
for ds in ${@:-mnist fashion-mnist}; do
  steps_clf=$([ "$ds" = mnist ] && echo 2500 || echo 3500)
  run "$ds-classifier" --model classifier --dataset "$ds" --steps "$steps_clf" --batch-size 128 --lr 2e-3
  # mlp-gan and dcgan train side by side, one thread each, for the same wall time,
  # so both see the same machine load and their Frechet distances compare fairly.
  # The MLP GAN's D also sees the minibatch standard deviation, against dropped classes.
  # The DCGAN's D sees whole digits (three stages, 5 x 5 kernels: each feature sees 21 x 21 pixels) and is held
  # to a Lipschitz bound (spectral norm, hinge loss), which lets both players learn at lr 2e-3;
  # each change measured, and what failed, in docs/performance-notes.md.
  OMP_NUM_THREADS=1 run "$ds-mlp-gan" --model mlp-gan --dataset "$ds" --max-seconds 600 --batch-size 64 --ema 0.999 --option minibatch_std=true &
  OMP_NUM_THREADS=1 run "$ds-dcgan" --model dcgan --dataset "$ds" --max-seconds 600 --batch-size 64 --channels 32 --lr-g 2e-3 --lr-d 2e-3 --ema 0.999 \
    --loss hinge --spectral-norm --option d_stages=3 --option d_kernel=5 &
  wait
  # the conv cGAN's projection D gets the DCGAN's recipe too (Fashion-MNIST, 6,000 steps: FD 42 against 246 at 4,000 before)
  run "$ds-cgan" --model cgan --dataset "$ds" --steps 10000 --max-seconds 3600 --batch-size 64 --ema 0.999 --channels 32 \
    --lr-g 2e-3 --lr-d 2e-3 --loss hinge --spectral-norm --option d_stages=3 --option d_kernel=5
  run "$ds-vae" --model vae --dataset "$ds" --steps 6000 --batch-size 128 --latent-dim 16
  # the diffusion family's own recipe (batch 128, lr 2e-3, EMA 0.999: its train_defaults; U-Net 16/32/64, flow
  # matching), for up to 70 minutes; it saves every 2,000 steps, so a stopped run keeps a checkpoint
  run "$ds-diffusion" --model diffusion --dataset "$ds" --steps 14000 --max-seconds 4200 --save-every 2000 --log-every 200 \
    --sample-every 2000
done
# a 2-D latent for the drawable latent map in the app
run "mnist-vae-2d" --model vae --dataset mnist --steps 4000 --batch-size 128 --latent-dim 2
# a VAE on binarized MNIST, for the likelihood table beside the PixelCNN (issue 15): its test NLL bound
run "mnist-vae-binarized" --model vae --dataset mnist --steps 12000 --batch-size 128 --latent-dim 32 --option binarized=true
# super-resolution (issue 15): ESPCN and SRCNN x2, one thread for 360 s each (ESPCN x2 must beat bicubic by 2 dB;
# mnist-espcn-x2 trained at the default lr 1e-3 without EMA, the others at lr 3e-3 with EMA 0.999), and at x4
# SRCNN, ESPCN and ESPCN with an adversarial loss (the perception-distortion pair: same seed, 750 steps each)
for ds in ${@:-mnist fashion-mnist}; do
  for sr in espcn-x2 srcnn-x2; do
    extra=$([ "$ds-$sr" = mnist-espcn-x2 ] || echo "--lr 3e-3 --ema 0.999")
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=1 run "$ds-$sr" --model "${sr%-x*}" --dataset "$ds" --option scale="${sr#*-x}" --max-seconds 360 $extra
  done
  for sr in espcn srcnn; do
    OMP_NUM_THREADS=1 run "$ds-$sr-x4" --model "$sr" --dataset "$ds" --option scale=4 --lr 3e-3 --ema 0.999 --steps 750
  done
  OMP_NUM_THREADS=1 run "$ds-espcn-x4-gan" --model espcn --dataset "$ds" --option scale=4 --option adversarial=0.01 \
    --lr 3e-3 --ema 0.999 --steps 750
done
