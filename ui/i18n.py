"""Interface strings in English and Simplified Chinese (``gr.I18n``; the browser's
language picks one). Only static text is translated; messages from handlers
(warnings, errors, status lines) are English."""

from __future__ import annotations

import gradio as gr

from aigc_models.presets import EVIDENCE, PRESETS

EN: dict[str, str] = {
    "title": "AIGC lab: GANs, cGANs and VAEs on MNIST",
    "header": "# AIGC lab\nSample from GANs, steer a conditional GAN, watch a diffusion model denoise, walk latent "
              "spaces, reconstruct drawings with a VAE, see what augmentation does, and train a model live. Everything "
              "runs on this machine, offline.",
    "tab_gan": "GAN sampling", "tab_cgan": "Conditional GAN", "tab_interp": "Latent interpolation",
    "tab_vae": "VAE reconstruction", "tab_aug": "Augmentation", "tab_train": "Train", "tab_about": "About",
    "dataset": "Dataset", "checkpoint": "Checkpoint", "vae_checkpoint": "VAE checkpoint",
    "n_images": "Number of images", "seed": "Seed", "random_seed": "Random seed", "random_seeds": "Random seeds",
    "truncation": "Truncation (0 = off; small values give fainter, less varied samples)",
    "show_d": "Show what the discriminator thinks (D's probability that each sample is real)",
    "generate": "Generate", "samples": "Samples", "download_png": "Download PNG", "download_gif": "Download GIF",
    "enlarge": "Enlarge", "enlarge_off": "off",
    "enlarge_info": "2 or 4 times larger through a super-resolution model (Explore → Super-resolution): its guess at "
                    "finer strokes, not the generator's",
    "samples_x2": "Samples, upscaled × 2",
    "samples_x4": "Samples, upscaled × 4",
    "gan_intro": "### Sample a GAN\nPick a checkpoint (MLP GAN, DCGAN, or a run you trained in the Train tab). "
                 "The same seed always gives the same images.",
    "d_note": "D's score is its belief that an image is real. A well-trained GAN leaves D unsure (around 0.5): "
              "it can no longer tell real from generated.",
    "cgan_intro": "### Conditional GAN\nAsk for a class by name, see a row per class, or morph one class into another "
                  "while the noise stays fixed (the class embedding is interpolated).",
    "by_class": "By class", "class": "Class", "one_class": "One class", "row_per_class": "A row per class",
    "layout": "Layout", "per_class": "Images per class", "morph": "Class morph", "from_class": "From",
    "to_class": "To", "steps": "Steps", "morph_button": "Morph",
    "interp_intro": "### Latent interpolation\nWalk from one seed's latent to another's. **lerp** goes in a straight "
                    "line; **slerp** follows the sphere where Gaussian latents live.",
    "seed_a": "Seed A", "seed_b": "Seed B", "interpolate": "Interpolate",
    "slerp_note": "A straight line between two Gaussian draws passes through latents of unusually small norm, "
                  "which the generator rarely saw in training; slerp keeps the norm typical.",
    "vae_real_title": "Between two real images (VAE)",
    "vae_real_intro": "Each end is your drawing; leave a canvas empty to use that test image number.",
    "image_a": "Image A (draw)", "image_b": "Image B (draw)",
    "test_index_a": "…or test image number A", "test_index_b": "…or test image number B",
    "vae_intro": "### VAE reconstruction\nDraw (white background is fine: the app inverts and centres it like MNIST), "
                 "upload, or click a test image. The VAE encodes it, decodes it back, and shows where it lands.",
    "draw": "Draw", "upload": "…or upload", "test_images": "Test images (click one)", "test_index": "Test image number",
    "reconstruct": "Reconstruct", "as_model_sees": "As the model sees it",
    "reconstruction": "Reconstruction", "error": "Error (brighter = worse)",
    "latent_map": "Latent map of 2,000 test images (your input = ring)",
    "prior_title": "Samples from the prior", "prior_samples": "Decoded samples from N(0, I)",
    "prior_samples_x2": "Decoded samples from N(0, I), upscaled × 2",
    "prior_samples_x4": "Decoded samples from N(0, I), upscaled × 4",
    "aug_intro": "### Augmentation preview\nThe same real images, before and after the source documents' "
                 "augmentations (flip, rotate, colour jitter, scale) and after DiffAugment (translation, cutout).",
    "strength": "Strength", "augment_button": "Show", "original": "Real images",
    "classic_aug": "The documents' augmentation (reals only)", "diff_aug": "DiffAugment (reals and fakes)",
    "aug_lesson": "#### Why augmenting only the real images leaks\n"
                  "A GAN's generator learns whatever distribution the discriminator calls *real*. If only the real "
                  "images are flipped and rotated, D's notion of real now includes mirrored, tilted digits, so G "
                  "learns to draw them too. A flipped 2 is not a digit, yet the model will happily produce one.\n\n"
                  "**DiffAugment** (Zhao et al. 2020) applies the *same kind* of differentiable augmentation to real "
                  "**and** generated images, in both the D step and the G step. D only ever compares augmented with "
                  "augmented, so it cannot use the augmentation as a hint, and G is never pushed to produce augmented "
                  "images: it gets the data-efficiency benefit without the leak. Its augmentations (small shifts, "
                  "cutout) are also ones that keep a digit a digit.",
    "tab_tune": "Tune",
    "tune_intro": "### Hyperparameter search on sample quality\nThe source documents (§6.2 of the first) search a "
                  "cGAN's settings with Optuna by minimising a *validation loss*; a GAN's loss does not measure its "
                  "images. Here each trial is a short training run scored by the classifier on its samples (FD, "
                  "lower is better, or the class accuracy of a conditional model's samples, higher is better). "
                  "Optuna's TPE sampler picks the next settings; a trial that trails the finished ones at the same "
                  "share of its time is pruned. The study waits in the Train tab's queue; the best trial is saved "
                  "as a run that the other tabs list. The last figure plots each trial's final G loss against its "
                  "quality: the documents' yardstick measured.",
    "tune_metric": "Optimise", "tune_metric_fd": "FD (lower is better)",
    "tune_metric_accuracy": "class accuracy (conditional models)", "tune_trials": "Trials",
    "tune_trial_seconds": "Seconds per trial", "tune_start": "Start the study",
    "tune_idle": "Pick a model, how many trials and how long each trains, then start.",
    "tune_example": "**Below, a study recorded earlier:** this tab's default ({model} on {dataset}, {trials} trials "
                    "of {seconds:g} s, {total:.0f} s in all on {device}, {date}). Pick a model, how many trials and "
                    "how long each trains, then start: your study replaces it.",
    "tune_table": "Trials", "tune_history": "Optimisation history", "tune_scatter": "Final loss against quality",
    "tune_importance": "Parameter importances", "tune_col_trial": "trial", "tune_col_state": "state",
    "tune_col_reports": "reports", "tune_col_steps": "steps", "tune_state_complete": "complete",
    "tune_state_pruned": "pruned", "tune_state_diverged": "diverged", "tune_state_stopped": "stopped",
    "tune_state_running": "running", "tune_state_waiting": "waiting",
    "tune_rho": "Spearman rho between final {loss} and quality: **{rho}** over {n} completed trials",
    "tune_withdrawn": "The study was withdrawn before it started; nothing was trained.",
    "tune_status_running": "Trial **{k} of {n}** is training… ({s} s so far)",
    "tune_status_saving": "Saving the best trial…",
    "tune_status_done": "Study finished. The best trial is saved as `{run}`: pick it in the other tabs.",
    "tune_status_none": "Study ended with no completed trial; nothing was saved.",
    "tune_fig_history": "Optimisation history", "tune_fig_importance": "Parameter importances",
    "tune_fig_scatter": "Final {loss} against {metric}", "tune_fig_trial": "trial",
    "tune_fig_rho": "Spearman rho = {rho} over {n} trials", "tune_fig_too_few_history": "No finished trial yet.",
    "tune_fig_too_few_importance": "Parameter importances need two completed trials whose settings differ.",
    "tune_fig_too_few_scatter": "No completed trial has recorded its losses yet.",
    "tune_fig_trial_axis": "Trial", "tune_fig_best": "Best so far", "tune_fig_infeasible": "Infeasible trial", "tune_fig_parameter": "Setting",
    "tune_fig_importance_axis": "Importance",
    "tab_ensemble": "Ensembles",
    "ens_intro": "### Ensembles: average the images, or mix the generators\nThe source documents (§6.3 of the first) "
                 "ensemble generators by **averaging their outputs for the same noise**. Below, one seed goes through "
                 "each member you tick (a row each), then their **average**, then a **mixture**: each image drawn by "
                 "one member, picked at random in proportion to the weights (the letter under it says which).",
    "ens_members": "Members: generator checkpoints of this dataset (tick 2 to 8)",
    "ens_weights": "Weights, one per ticked member in list order, comma-separated (blank = equal)",
    "ens_per_row": "Images per row", "ens_button": "Compare",
    "ens_figure": "Each member, their average and the mixture, for one seed",
    "ens_lesson": "#### Why the average blurs\nTwo generators trained apart give the same z different meanings: where "
                  "one draws a 3 the other draws a 7. Their average lays the two digits over each other, a grey blend "
                  "that is no digit and that the classifier often reads as an 8. A mixture never blends: every image "
                  "is one member's own, so its quality lies between its members' and its class balance is the mix of "
                  "theirs. Members with different latent sizes cannot even share a z; each draws its own noise from "
                  "the seed. To average *weights* rather than images, keep an exponential moving average of one "
                  "model's weights while it trains (EMA, in the Train tab).",
    "ens_measured": "#### Measured\nThe project's evaluator on each member alone, the average and the mixture (FD and "
                    "precision / recall on the classifier's features, coverage and KL to uniform on its class "
                    "histogram), read from `docs/ensemble-table.json`; N, the seed and the commands are under the table.",
    "train_intro": "### Train a model\nOne run at a time for the whole app: if someone else is training, you will see "
                   "your place in the queue. Stop ends the run early and **saves** it.",
    "model": "Model", "batch_size": "Batch size", "optimiser": "Optimiser and loss", "lr_g": "Learning rate G",
    "lr_d": "Learning rate D", "lr_vae": "Learning rate (VAE, diffusion)", "loss": "GAN loss",
    "ema": "EMA decay of G (0 = off, e.g. 0.999)", "diffaugment": "DiffAugment (translation + cutout)",
    "run_name": "Run name (optional)", "start": "Start training", "stop": "Stop",
    "subset": "Training images (0 = all; 10 or more: the same number from each class, drawn by the seed)",
    "tab_transfer": "Transfer",
    "transfer_intro": "### Transfer learning, measured\nSource document 000 (§6.4) loads a pickled generator, freezes "
                      "all of it, swaps its last layer for one without the output activation (so its images leave "
                      "[-1, 1]) and leaves the training loop as `pass`. Here a DCGAN learns Fashion-MNIST three ways: "
                      "from scratch, fine-tuned from the shipped MNIST DCGAN, and fine-tuned with D's early layers "
                      "frozen (FreezeD, Mo et al. 2020), each with and without DiffAugment (Zhao et al. 2020), on 100, "
                      "1,000 and all training images, with the same seed and the same number of steps. The curves "
                      "give the Fréchet distance to the test images (lower is better) as training goes on.",
    "transfer_images": "Training images (the samples and the table below)", "transfer_all": "all",
    "transfer_curves": "FD against training steps (solid: no augmentation, dashed: DiffAugment)",
    "transfer_samples": "Each run's samples at the end", "transfer_table": "The runs with this many images",
    "transfer_lesson": "#### What to look for\nA fine-tuned run starts from the MNIST model, so its first point is "
                       "that model's distance to Fashion-MNIST (655): it knows strokes and shapes, not clothes, yet it "
                       "gets ahead at once. In these 1,000-step runs fine-tuning beat training from scratch with every "
                       "number of images, and FreezeD (D's first layers kept as MNIST trained them) did best with 100 "
                       "images but worse than scratch with more. DiffAugment, which in Zhao et al. keeps a D from memorising a few images over long "
                       "training, made every one of these short runs worse: it makes D's task harder from the first "
                       "step, and its benefit comes later, once D would overfit. One seed per run: read differences of "
                       "a few tens of FD as noise. Weights are only ever loaded from safetensors, and the output layer "
                       "keeps its Tanh.",
    "preset": "Failure preset (a run that goes wrong on purpose: pick one, then Start)",
    "preset_none": "none (train as set below)", "preset_watch": "Watch for:",
    "symptom_seen": "Symptom seen — {title}:", "symptom_watching": "{title}: watching for the symptom ({symptom})…",
    "symptom_missing": "{title}: the symptom did not show in this run; try another seed or more steps.",
    **{f"symptom_{kind.replace('-', '_')}": text for kind, text in EVIDENCE.items()},
    "collapse_warning": "**Warning (step {step}):** {share:.0%} of the fresh samples look like “{name}”, and only "
                        "{covered} of {k} classes show up. The generator is collapsing onto a few kinds of image (mode "
                        "collapse). Early in training this is normal; if it lasts, try DiffAugment, a lower learning "
                        "rate or the hinge loss.",
    "collapse_none": "Step {step}: samples spread over {covered} of {k} classes — no sign of mode collapse.",
    "train_started": "Training **{model}** on **{dataset}**{images} · {device} · {parameters:,} parameters",
    "train_images": " ({n:,} images)", "train_starting": "Starting…",
    "train_step": "Step **{step:,} / {total:,}** · **{rate:,.0f} images/s** · elapsed {elapsed:.0f} s · about "
                  "**{eta:.0f} s left**",
    "train_diverged": "**The run stopped after {step:,} steps in {elapsed:.0f} s.** {message}",
    "train_why": "**Why the run stopped:** {message}",
    "queue_note": "Run **{run}**: it starts as soon as no other run is training. Stop ends it and saves, or withdraws it "
                  "while it waits.",
    "queue_withdrawn_before": "The run was withdrawn before it started; nothing was trained.",
    "stop_nothing": "Nothing to stop: no training run of yours is queued or running.",
    "stop_withdrawn": "Withdrawn: the queued run **{run}** will not start.",
    "stop_stopping": "Stopping **{run}**… it saves and ends in a moment.",
    "stop_ended": "The run **{run}** has already ended.",
    "div_nan": "Training diverged at step {step:,}: {what} became NaN or infinite, so the weights are no longer usable "
               "and were not saved. Try lower learning rates (lr_g and lr_d around 2e-4, lr around 1e-3 for a VAE), "
               "Adam beta1 0.5, or the hinge loss.",
    "div_weights": "the weights",
    "div_d_wins": "Training stopped at step {step:,}: the discriminator wins outright (mean D(real) {d_real:.3f} > 0.99 "
                  "and D(fake) {d_fake:.4f} < 0.01 for the last {steps:,} steps), so the generator gets no useful signal "
                  "and will not recover; these weights were not saved. Try a lower D learning rate (lr_d), DiffAugment, "
                  "spectral norm or dropout in D, or the hinge loss.",
    "div_kept": " The last good checkpoint (step {step:,}) is kept as {run}.",
    "div_none_before": " No checkpoint was saved: the run went wrong before its first save (every {every:,} steps).",
    "div_none": " No checkpoint was saved.",
    "train_done": "The run {how} after {step:,} steps in {elapsed:.0f} s.{where}",
    "train_how_steps": "finished", "train_how_time": "reached the time limit", "train_how_stopped": "was stopped",
    "train_how_ended": "ended", "train_saved": " Saved as `{run}`: pick it in the other tabs.",
    "train_nothing_saved": " Nothing was saved (no step completed).",
    # each preset's title, cause and symptom, in the library's words (aigc_models/presets.py)
    **{f"preset_{key.replace('-', '_')}{part}": text for key, p in PRESETS.items()
       for part, text in (("", p.title), ("_cause", p.cause), ("_watch", p.watch))},
    "train_example": "**Below, an example recorded earlier:** this tab's default run ({model} on {dataset}, {steps:,} "
                     "steps in {seconds:.0f} s on {device}, {date}). Your own run's curves and samples replace it.",
    "train_idle": "Press **Start training**. On a 2-core CPU the cGAN (the first pick) draws recognisable digits, a row "
                  "per class, within 30 seconds; in the same time the MLP GAN's samples cover about half of the classes.",
    "losses": "Loss: D (VAE: recon.) blue, G (VAE: KL) orange",
    "d_scores": "Mean D(real) blue, D(fake) orange (VAE: ELBO)", "samples_fixed": "Samples from fixed noise",
    "class_hist": "What the classifier sees in 500 fresh samples", "saved_run": "Saved run", "run_id": "Run id (Stop takes it)",
    "hub_repo": "Hub repository name", "push": "Push to the Hub",
    "section_generate": "Generate", "section_explore": "Explore", "section_train": "Train",
    "section_lessons": "Lessons", "section_about": "About",
    "tab_diffusion": "Diffusion",
    "diffusion_intro": "### Diffusion\nA diffusion model learns to undo noise. To draw, it starts from pure noise and "
                       "removes a little of it at every step, each time asking the network what the clean image "
                       "looks like. Below: one image denoising step by step, and what noise does to a real image.",
    "diffusion_class": "Class (none = unconditional)", "no_class": "none (unconditional)", "sampler": "Sampler",
    "guidance": "Guidance (1 = plain class-conditional, 0 = ignore the class)",
    "trajectory_title": "### Watch one image denoise\nThe grid's first image, step by step. Drag the slider: left, "
                        "the image the sampler holds at that step; right, the model's guess of the finished image "
                        "from it. The GIF plays the whole run.",
    "trajectory_step": "Step (0 = pure noise; the last = the finished sample)",
    "noisy_image": "At this step: x_t", "predicted_clean": "Its clean guess: x̂₀", "trajectory_gif": "The whole run (GIF)", "noise_level": "Noise level",
    "forward_title": "### The forward process: noise a real image\nTraining runs the other way: take a real "
                     "image, mix in noise up to a random level t, and teach the network to predict what was added.",
    "forward_class": "Real image: the first test image of class (none = by number)", "by_number": "none (by number)",
    "noise_t": "Noise level t (0 = the image, 1 = pure noise)", "add_noise": "Add noise",
    "real_image": "Real image: x₀", "noised_image": "Noised to t: x_t",
    "noise_strip": "The same image and noise at t = 0, 0.1, …, 1",
    "diffusion_help": "#### What each control does\n"
                      "**Class.** The digit (or garment) to draw. *none* draws without a class: the network was "
                      "trained with the class hidden one time in ten, so it can also denoise without one.\n\n"
                      "**Seed.** Picks the starting noise. The same seed and settings always give the same images; "
                      "the trajectory follows the grid's first image.\n\n"
                      "**Sampler.** The rule that turns the network's prediction into the next, less noisy image. "
                      "Flow models: *euler* (one network call a step) or *heun* (two calls, more accurate per step). "
                      "DDPM models: *ddpm* (adds fresh noise at every step), *ddim* (deterministic) or "
                      "*dpm-solver++* (a second-order solver, good in few steps).\n\n"
                      "**Steps.** How many times the sampler asks the network. Few steps are fast but coarse; past "
                      "a few dozen the images hardly change. A request is capped (images × steps, doubled by "
                      "guidance or by heun) so that it stays within a few seconds on a 2-core CPU.\n\n"
                      "**Guidance.** Classifier-free guidance: 1 is the plain class-conditional prediction, 0 ignores "
                      "the class, above 1 pushes away from the unconditional prediction: more clearly the class, "
                      "less varied, and far above 1 harsh, burnt strokes. No effect with class *none*.\n\n"
                      "**Step slider.** Scrubs through one sampling run: the image at that step beside the clean "
                      "image the network predicts from it. Early guesses are blurry averages; they sharpen as the "
                      "noise goes.\n\n"
                      "**Noise level t.** The forward process that training uses: a real image mixed with noise, "
                      "x_t = a·x₀ + b·ε; the line under the pictures gives a and b. At t = 0 it is the image, at "
                      "t = 1 pure noise.",
    "tab_pixelcnn": "PixelCNN",
    "pixelcnn_intro": "### PixelCNN: an image, one pixel at a time\nAn autoregressive model (van den Oord et al. 2016) "
                      "draws pixel 1, then pixel 2 given pixel 1, and so on in reading order: each pixel is a draw "
                      "from K grey levels, given everything above it and to its left. That is why it has an exact "
                      "likelihood, and why it is the slowest sampler here (784 draws an image; the cached sampler "
                      "computes only what each new pixel changes).",
    "pixelcnn_missing": "No PixelCNN checkpoint is listed for this dataset yet. Train one (about an hour on a CPU) with "
                        "`python -m aigc_models train --model pixelcnn --dataset mnist --out checkpoints/mnist-pixelcnn` "
                        "(fashion-mnist in both places for Fashion-MNIST), then reload the page.",
    "pixelcnn_temperature": "Temperature (1 = the model's own probabilities; below 1 bolder, above 1 noisier)",
    "pixelcnn_guidance": "Class guidance (1 = plain; above 1 more like the class; fixed at 1 for a model without it)",
    "pixelcnn_gif": "The first image filling in (GIF, a frame a row)",
    "pixelcnn_pixel_title": "### What did the model believe about one pixel?\nClick a pixel of the first sample "
                            "(or type its row and column). The bars are the K probabilities the model gave that "
                            "pixel from the pixels before it; the tinted pixels are the ones it could not see.",
    "pixelcnn_click": "The first sample: click a pixel", "pixelcnn_row": "Row (0-27)", "pixelcnn_col": "Column (0-27)",
    "pixelcnn_bars": "Predicted distribution over the K levels",
    "pixelcnn_complete_title": "### Completion: keep the top rows, let the model draw the rest\nPick a test image "
                               "(click one or type its number), or draw or upload one; keep its top k rows and "
                               "see several completions. The orange line marks the last kept row.",
    "pixelcnn_complete_class": "Class to complete as (auto = the test image's own)",
    "pixelcnn_auto_class": "auto (the test image's class)", "pixelcnn_unconditional": "none (unconditional model)",
    "pixelcnn_rows": "Kept rows k (0 = draw the whole image)", "pixelcnn_completions": "Completions",
    "pixelcnn_complete": "Complete", "pixelcnn_completed": "The original and its completions",
    "pixelcnn_help": "#### What each control does\n"
                     "**Class.** The digit (or garment) to draw. The model was trained with the class as an extra "
                     "input to every layer, so it draws that class; a model trained without classes offers only "
                     "*none*.\n\n"
                     "**Seed.** Picks the random numbers behind every draw, one per pixel. The same seed and settings "
                     "always give the same images; the animation and the pixel view follow the grid's first image.\n\n"
                     "**Temperature.** Each pixel's probabilities are recomputed as softmax(logits / T) before the "
                     "draw. Below 1 the likeliest level wins more often: bolder, cleaner strokes but less variety. "
                     "Above 1 unlikely levels come up more: speckles and broken strokes. It must be above 0 and at "
                     "most 10.\n\n"
                     "**Class guidance.** Classifier-free guidance, as on the Diffusion tab, applied to each pixel's "
                     "probabilities: a model trained with *label dropout* (some images shown without their class) "
                     "knows both p(pixel | class, pixels before) and p(pixel | pixels before), and the draw uses "
                     "uncond + g × (cond − uncond) of their logits. 1 is the plain conditional model, 0 ignores the "
                     "class, above 1 pushes every pixel towards what makes this class this class: the samples are "
                     "recognised far more often, at some cost in variety and, if pushed too far, broken strokes. A "
                     "model trained without label dropout keeps it at 1.\n\n"
                     "**Number of images.** How many images to draw at once. Sampling makes 784 draws an image, each "
                     "a pass through every layer, so a request is capped (images × pixels) to stay within seconds on "
                     "a 2-core CPU.\n\n"
                     "**Row and column (the pixel view).** Which pixel to inspect; clicking the image fills them in. "
                     "The bars show the distribution the pixel was drawn from: a confident model puts nearly all "
                     "its mass on one level, an unsure one (say, at the edge of a stroke) spreads it.\n\n"
                     "**Kept rows k.** Completion keeps the top k rows exactly as given and draws the rest. With few "
                     "kept rows the completions disagree (many digits start the same way); with many they agree. "
                     "Fewer kept rows also mean more pixels to draw, so more completions may hit the cap.\n\n"
                     "**Completions.** How many different completions to draw from the same kept rows, each with its "
                     "own random numbers from the seed.",
    "about_models": """### The models
| Model | What it is |
| --- | --- |
| **MLP GAN** | The documents' first GAN: a generator G (noise z → 784 pixels, fully connected) against a discriminator D (784 pixels → real or fake). |
| **DCGAN** | The same game with convolutions (Radford et al. 2016): transposed convolutions upsample 7×7 → 14×14 → 28×28. |
| **cGAN** | Both players also see the class: G draws the class it is asked for; D (a projection discriminator) judges image *and* class. |
| **VAE** | An encoder maps an image to a Gaussian in latent space, a decoder maps latents back; trained on reconstruction + KL to N(0, I). |
| **Diffusion** | Learns to undo noise (Ho et al. 2020; flow matching, Lipman et al. 2023): a U-Net or a patch transformer (DiT, Peebles & Xie 2023) predicts the noise in a noised image; sampling starts from pure noise and removes it step by step, guided towards a class (classifier-free guidance). |
| **Gated PixelCNN** | Draws one pixel at a time, each from the pixels above and to its left (van den Oord et al. 2016): the chain rule of probability, so it gives the exact likelihood of an image. |
| **SRCNN, ESPCN** | Super-resolution (Dong et al. 2014; Shi et al. 2016): a small image in, the same image 2 or 4 times larger out, measured by PSNR and SSIM against the truth. |
| **Classifier** | A small CNN per dataset that the lab uses to *measure* samples (class histogram, Fréchet distance). |

```
GAN:   z ~ N(0, I) ──► G ──► fake ─┐
                                    ├──► D ──► real or fake?   (D: tell apart;  G: fool D)
       real image ─────────────────┘
cGAN:  (z, class) ──► G ──► fake ──► D(image, class)
VAE:   x ──► encoder ──► (μ, σ) ──► z = μ + σ·ε ──► decoder ──► x̂     loss = reconstruction + KL(q(z|x) ‖ N(0, I))
Diffusion:  x_T ~ N(0, I) ──► x_T-1 ──► … ──► x_0   each step: network(x_t, t, class) guesses the noise and removes some
PixelCNN:   p(x) = p(x_1) · p(x_2 | x_1) · … · p(x_784 | x_1 … x_783)   one pixel at a time, in reading order
```
""",
    "about_flaws": """### What the source documents got wrong (and what this lab does)
| In the documents | Why it hurts | Here |
| --- | --- | --- |
| Real images from `ToTensor()` in [0, 1], generator ends in `Tanh` in [-1, 1] | any negative pixel marks a fake; half of Tanh unused | reals scaled to [-1, 1] |
| `Sigmoid` + `BCELoss` | numerically weaker; refuses mixed precision | logits + `BCEWithLogitsLoss` (or hinge) |
| Adam with default betas (0.9, 0.999) | oscillation (DCGAN paper) | betas (0.5, 0.999) |
| Augmenting real images only | G learns mirrored, tilted digits | DiffAugment on real and fake, in both steps |
| Hyperparameter search minimising a "validation loss" | a GAN's loss does not measure image quality | judge samples with a classifier-based metric |
| Ensembling by averaging generator outputs | averages of different digits blur | sample from one generator at random, or average weights (EMA) |
| Keras generator: 28×28×1 data reshaped to 28×28×3; D never trained on its own | crashes; not a GAN update | a DCGAN done right |
""",
    "tab_step": "Step by step",
    "step_intro": "### Step by step\nTrain a GAN one click at a time and see what each step changed. **D step**: the "
                  "discriminator learns from one batch of real images and fakes; G stays as it is. **G step**: the "
                  "generator learns to fool the current D; D stays as it is. After a D step, D's scores on real images "
                  "(blue) and on fakes (orange) move apart; after a G step the fakes' scores move back up. **Slow motion** "
                  "takes one full step (D then G) a second until **Pause**.",
    "step_family": "Model (when starting from scratch)", "step_source": "Start from",
    "from_scratch": "scratch (untrained)", "from_checkpoint": "the checkpoint below",
    "d_step": "D step", "g_step": "G step", "dg_step": "D+G step", "slow_motion": "Slow motion",
    "pause": "Pause", "reset": "Reset",
    "step_idle": "Click **D step**, **G step** or **D+G step**: your model is made from the settings on the left at "
                 "the first click, and the pictures show what each click changed.",
    "step_before": "Before: samples from fixed noise", "step_after": "After: the same noise",
    "scores_note": "D's score is its probability that an image is real. Blue: 64 real images x; orange: the fakes "
                   "G(z) from the fixed noise; dashed lines: the means.",
    "scores_before": "Before: D's scores", "scores_after": "After: D's scores",
    "grad_norms": "Gradient norm of each layer of the network that stepped (D blue, G orange)",
    "section_compare": "Compare",
    "tab_compare": "Compare",
    "compare_intro": "### Every model on one yardstick\nEach shipped generator's quality (Frechet distance of the "
                     "evaluator's classifier features against the test set: lower is better) against the time it "
                     "takes to draw 64 images on this machine's CPU. Both come from files: the numbers that `python "
                     "-m aigc_models evaluate --save` stored in each checkpoint, and the times that `python -m "
                     "aigc_models bench --sampling` measured. Lower left is better.",
    "compare_plot": "Quality against sampling time (log scales)",
    "compare_table": "Every generator checkpoint",
    "compare_refresh": "Refresh",
    "compare_notes": "FD (floor): Frechet distance on N samples, with the real-data floor (N training images scored "
                     "the same way) in brackets; † marks a VAE's prior samples, which are blurry by design. Class "
                     "accuracy: how often the classifier names the class a conditional model was asked for. "
                     "Coverage: classes found in the samples. Recall: how much of the real data the samples reach "
                     "(diversity). Parameters: every network in the checkpoint (in brackets: those that run while "
                     "sampling). \"-\": not stored or not measured. FDs compare within a dataset only.",
    "compare_col_checkpoint": "checkpoint",
    "compare_col_family": "family",
    "compare_col_n": "N",
    "compare_col_fd": "FD (floor)",
    "compare_col_accuracy": "class acc.",
    "compare_col_coverage": "coverage",
    "compare_col_pr": "precision / recall",
    "compare_col_time": "64 images, ms (median / p90)",
    "compare_col_sampler": "sampler",
    "compare_col_parameters": "parameters (sampling)",
    "compare_col_train": "train time",
    "compare_col_device": "device",
    "compare_sr_intro": "### Upscalers\n\nThe super-resolution checkpoints (Explore → Super-resolution) draw nothing "
                        "from noise, so they have no point in the picture above. Their own yardstick, on the test split: "
                        "PSNR and SSIM against the truth (bicubic in brackets), the FD and class accuracy of the upscaled "
                        "images where stored, and the time to upscale 64 images on this CPU (`bench --sampling`).",
    "compare_sr_table": "Every super-resolution checkpoint",
    "compare_sr_col_checkpoint": "checkpoint", "compare_sr_col_family": "family", "compare_sr_col_scale": "scale",
    "compare_sr_col_psnr": "PSNR, dB (bicubic)", "compare_sr_col_ssim": "SSIM",
    "compare_sr_col_fd": "FD of the upscalings (bicubic)", "compare_sr_col_accuracy": "class acc.",
    "compare_sr_col_time": "64 images, ms (median / p90)", "compare_sr_col_parameters": "parameters",
    "compare_sr_col_train": "train time", "compare_sr_col_device": "device",
    "compare_fig_title": "Quality against sampling time (lower left is better)",
    "compare_fig_x": "ms for 64 images (CPU, log scale)",
    "compare_fig_y": "Frechet distance (log scale)",
    "compare_fig_floor": "real-data floor",
    "compare_fig_empty": "No checkpoint has both a stored FD and a measured sampling time yet.",
    "compare_reading_intro": "**Quality, diversity, speed.** Xiao et al. (2022) ask three things of a generator: "
                             "high-quality samples, coverage of the data's diversity, and fast sampling, and argue "
                             "that GANs, VAEs and diffusion models each give up one of them (the *generative "
                             "learning trilemma*). What this lab's checkpoints measure (quality: lowest FD; "
                             "diversity: highest recall; speed: fewest milliseconds for 64 images):",
    "compare_reading_dataset": "On **{dataset}**, quality is best for the {quality} (FD {fd}), diversity for the "
                               "{diversity} (recall {recall}) and speed for the {speed} ({ms} ms for {n} images).",
    "compare_reading_one": "{name} leads on all three: on these checkpoints the trade-off does not show yet.",
    "compare_reading_split": "No checkpoint leads on all three.",
    "compare_reading_ratio": "The best-quality one takes {ratio}x the fastest one's time.",
    "compare_reading_span": "The slowest, the {slowest}, takes {span}x the fastest one's time.",
    "compare_reading_none": "No checkpoint has both stored metrics and a measured sampling time yet: run `python -m "
                            "aigc_models evaluate --save` and `python -m aigc_models bench --sampling --out "
                            "docs/sampling-bench.json`.",
    "compare_reading_missing": "{k} checkpoint(s) without an FD or a sampling time are in the table only.",
    "compare_measured": "Times measured on {date} on {cpu}, {device}, {n} images per call. {note}",
    "tab_superres": "Super-resolution",
    "sr_intro": "### Super-resolution\nA picture (click a test image, draw one, or upload one) is shrunk 2 or 4 times by averaging "
                "each block of pixels, then enlarged back to 28 × 28: by repeating pixels (nearest), by bicubic "
                "interpolation, and by the trained networks, SRCNN (Dong et al. 2014) and ESPCN (Shi et al. 2016). "
                "Under each: PSNR (higher = closer to the truth, in dB) and SSIM (1 = the same structure).",
    "sr_scale": "Scale", "sr_button": "Enlarge", "sr_results": "Input, the upscalings and the truth",
    "sr_lesson": "#### What the numbers say\nPSNR only counts squared pixel errors, so a network trained on the pixel "
                 "loss alone (SRCNN and ESPCN here) learns the *average* of the images that shrink to the same input: sharper than "
                 "bicubic, but still soft where the input cannot say which way a stroke went. ESPCN works at the small "
                 "size and rearranges r² channels into each r × r block (the sub-pixel convolution), r² times less "
                 "work than SRCNN, which runs at full size on the bicubic image. At x4 an ESPCN trained with an "
                 "adversarial loss as well (SRGAN, Ledig et al. 2017) sits beside it: a discriminator punishes the soft "
                 "average, so its strokes come out crisper and more often read as the right digit (over the 10,000 "
                 "test images FD 353 -> 259, class accuracy 0.895 -> 0.914), and it pays in SSIM (0.647 -> 0.612): "
                 "no upscaler can be best at both (Blau & Michaeli 2018, the perception-distortion trade-off).",
    "tab_class": "Class run",
    "class_intro": "### Class run\nThe teacher trains one model and every browser on this page watches the same run "
                   "live: the losses, D's scores, the samples from fixed noise and the class histogram. The teacher can "
                   "pause it, take one step at a time (everyone sees what the step changed), change the learning rates "
                   "mid-run, and end it (it is saved and appears in the other tabs like any run).",
    "class_off": "Class runs are off on this server. Whoever starts the app turns them on with a passcode: "
                 "`AIGC_TEACHER_CODE=some-words python app.py` (on a Space: a secret of that name). Everything else "
                 "works as usual.",
    "class_waiting": "Connecting to the class run…",
    "class_example": "**Until it starts, an example recorded earlier:** the Train tab's default run ({model} on "
                     "{dataset}, {steps:,} steps in {seconds:.0f} s on {device}, {date}). The class run's curves and "
                     "samples replace it.",
    "class_watch": "Watch the class run", "class_teacher": "Teacher's controls", "class_code": "Teacher passcode",
    "class_unlock": "Unlock", "class_start": "Start class run", "class_pause": "Pause", "class_resume": "Resume",
    "class_step": "One step", "class_end": "End run", "class_rates": "Apply learning rates",
    "class_students": "Students may start their own runs (Train tab)",
    "class_none": "**Class run:** none yet: the teacher starts one. Students' own runs: {students}. (update {seq})",
    "class_line": "**Class run:** {model} on {dataset} · **{state}** · {rates} · students' own runs: {students} "
                  "(update {seq})",
    "class_state_running": "training", "class_state_paused": "paused", "class_state_ended": "ended",
    "class_students_on": "allowed", "class_students_off": "held",
    "class_unlocked": "Unlocked: this browser steers the class run.",
    "class_started": "Class run **{run}** started; every open page shows it.",
    "class_paused": "Paused. **One step** trains one step and shows it to everyone.",
    "class_resumed": "Training again.", "class_stepped": "Step {step:,} taken: every page shows it.",
    "class_ending": "Ending: the run saves and stops.",
    "class_rates_set": "From the next step: {rates}.",
    "class_students_allowed": "Students may start their own runs again.",
    "class_students_held": "Students' own runs are held: the Train tab refuses them until you allow them.",
    "train_held": "The teacher has held students' own runs during the class run: watch it in the Class run tab.",
    "recipe_defaults": "the defaults",
    "recipe_shipped": "Settings of the shipped `{name}`; the model: {options}.",
    "recipe_none": "No shipped `{name}`: default settings.",
    "recipe_ema": " It also averaged G's weights (EMA {ema}), off here so that the samples move from the start.",
    "preset_default_options": "its default options", "preset_reals_in_unit": ", real images in [0, 1]",
    "preset_real_augment": ", the real images flipped, rotated, jittered and scaled (the documents' augmentation)",
    "preset_note": "Preset `{key}`: the {model} with {options}{extra}; the settings below are the preset's.",
    "preset_kept": "Preset `{key}`: the settings below are the preset's.",
    "train_device": "**Device:** {device} · time limit {seconds:.0f} s per run",
    "ens_noise_shared": "Every member sees the same z for each sample (latent size {size}).",
    "ens_noise_own": "The members' latent sizes differ ({listed}), so they cannot share a z: each size draws its own "
                     "noise from the same seed (members of one size share it).",
    "ens_drew": "{letter} drew {k}",
    "ens_note": "{noise} Weights: {shares}. **Average**: each column is the weighted mean of the members' images above "
                "it. **Mixture**: each column is one member's image, picked at random in proportion to the weights "
                "({drawn} of {n}); the letter under it names the member. Seed {seed}.",
    "ens_table_header": "| samples | FD (lower is better) | coverage | KL to uniform | precision | recall |",
    "ens_table_floor": "real training images (the floor)",
    "ens_table_footer": "{dataset}, N = {n:,} samples each, seed {seed}, members {members} (weights {weights}); "
                        "{device}, {date}.",
    "ens_table_missing": "No measured table here yet: `python scripts/ensemble_table.py` writes {name}.",
    "ens_table_commands": "Each row is one command:",
    "tab_pictures": "Your pictures",
    "pic_intro": "### Train on your own pictures\nUpload a zip or image files, or pick a folder: at most 2,000 pictures "
                 "are used, each file up to 5 MB. Each picture is framed the way the dataset's images were made "
                 "(28 x 28 grey, white on black), and a model learns them with **DiffAugment** (Zhao et al. 2020): the "
                 "same random shifts and cut-outs on real and generated images, so that D cannot simply memorise a "
                 "small set. Measured on 100 sneakers in the README (*Your own pictures*).",
    "pic_idle": "Press **Train on these pictures**. The samples come from fixed noise and from an average of the "
                "generator's recent weights (EMA 0.999, as in the measurement), so they trail training by about a "
                "thousand steps, then sharpen. 4,000 steps take about 4 minutes on a 2-core CPU.",
    "pic_files": "Pictures: a zip, or image files", "pic_folder": "…or a folder of pictures",
    "pic_framing": "The pictures show", "pic_digits": "digits (framed like MNIST)",
    "pic_objects": "objects (framed like Fashion-MNIST)", "pic_preview": "What the model will see (28 x 28)",
    "pic_none": "Upload a zip or pictures, or pick a folder: they appear here as the model will see them.",
    "pic_read": "**{n:,} pictures** read as {what}.", "pic_what_mnist": "digits (MNIST framing)",
    "pic_what_fashion": "objects (Fashion-MNIST framing)",
    "pic_left_out": " {n:,} more were left out (at most {max:,} are used).",
    "pic_skipped": " **{n:,} skipped**: {names}.", "pic_more": "and {n:,} more",
    "pic_fine_tune": "Start from the shipped model of this dataset (fine-tune)", "pic_train": "Train on these pictures",
    "pic_error_too_few": "Only {count} usable pictures found; training needs at least {least} (100 or more work "
                         "better).{why}",
    "pic_error_too_many_names": "More than {limit:,} files: pick a folder or zip with fewer.",
    "pic_error_too_many_bytes": "The pictures add up to more than {mb} MB: use fewer or smaller ones.",
    "pic_error_bad_zip": "{name} is not a readable zip archive.",
    "pic_example": "**Example** (until you upload your own): 100 sneakers from Fashion-MNIST's training split.",
    "pic_need": "Upload pictures first (a zip, image files or a folder); they appear on the left as the model sees them.",
    "pic_gone": "Those pictures are no longer on this server: upload them again.",
    "pic_no_shipped": "There is no shipped {name} model to start from: untick fine-tune, or pick another model.",
    "pic_conditional": "{model} is class-conditional: it learns your pictures as its class 0.",
    "train_pictures": " (your {n:,} pictures)",
    "reason_not_image": "not an image file", "reason_encrypted": "encrypted", "reason_link": "a link (not followed)",
    "reason_large": "larger than {mb} MB", "reason_unreadable": "not a readable image", "reason_empty": "blank",
    "reason_size": "too large or too small in pixels",
}

ZH: dict[str, str] = {
    "title": "AIGC 实验室：MNIST 上的 GAN、条件 GAN 与 VAE",
    "header": "# AIGC 实验室\n从 GAN 采样、控制条件 GAN、观看扩散模型逐步去噪、在潜空间中漫游、用 VAE 重建手绘图、查看数据增强的效果，并实时训练模型。"
              "一切都在本机离线运行。",
    "tab_gan": "GAN 采样", "tab_cgan": "条件 GAN", "tab_interp": "潜空间插值", "tab_vae": "VAE 重建",
    "tab_aug": "数据增强", "tab_train": "训练", "tab_about": "关于",
    "dataset": "数据集", "checkpoint": "模型检查点", "vae_checkpoint": "VAE 检查点",
    "n_images": "图像数量", "seed": "种子", "random_seed": "换一个随机种子", "random_seeds": "换两个随机种子",
    "truncation": "截断（0 = 关闭；数值越小，样本越淡、变化越少）",
    "show_d": "显示判别器的看法（D 认为每个样本为真的概率）",
    "generate": "生成", "samples": "样本", "download_png": "下载 PNG", "download_gif": "下载 GIF",
    "enlarge": "放大", "enlarge_off": "不放大",
    "enlarge_info": "用超分辨率模型（探索 → 超分辨率）放大 2 或 4 倍：更细的笔画是该模型的猜测，不是生成器画的",
    "samples_x2": "样本（放大 2 倍）",
    "samples_x4": "样本（放大 4 倍）",
    "gan_intro": "### GAN 采样\n选择一个检查点（MLP GAN、DCGAN，或在“训练”页训练的模型）。相同的种子总是生成相同的图像。",
    "d_note": "D 的分数是它认为图像为真的把握。训练良好的 GAN 会让 D 拿不准（约 0.5）：它已分不清真图和生成图。",
    "cgan_intro": "### 条件 GAN\n按名称指定类别，或每类一行；也可以在噪声固定时把一个类别渐变为另一个类别（对类别嵌入插值）。",
    "by_class": "按类别", "class": "类别", "one_class": "单个类别", "row_per_class": "每类一行", "layout": "排列",
    "per_class": "每类图像数", "morph": "类别渐变", "from_class": "从", "to_class": "到", "steps": "步数",
    "morph_button": "渐变",
    "interp_intro": "### 潜空间插值\n从一个种子的潜向量走到另一个。**lerp** 走直线；**slerp** 沿着高斯潜向量所在的球面走。",
    "seed_a": "种子 A", "seed_b": "种子 B", "interpolate": "插值",
    "slerp_note": "两个高斯样本之间的直线会经过范数异常小的潜向量，生成器训练时很少见到；slerp 保持典型的范数。",
    "vae_real_title": "在两张真实图像之间（VAE）",
    "vae_real_intro": "两端可以是你的手绘；画布留空则使用对应编号的测试图像。",
    "image_a": "图像 A（手绘）", "image_b": "图像 B（手绘）",
    "test_index_a": "……或测试图像编号 A", "test_index_b": "……或测试图像编号 B",
    "vae_intro": "### VAE 重建\n手绘（白底也可以：应用会像 MNIST 一样反色并居中）、上传，或点击一张测试图像。VAE 先编码再解码，并显示它在潜空间中的位置。",
    "draw": "手绘", "upload": "……或上传", "test_images": "测试图像（点击选择）", "test_index": "测试图像编号",
    "reconstruct": "重建", "as_model_sees": "模型看到的输入", "reconstruction": "重建结果",
    "error": "误差（越亮越差）", "latent_map": "2000 张测试图像的潜空间分布（圆环 = 你的输入）",
    "prior_title": "从先验分布采样", "prior_samples": "从 N(0, I) 解码的样本",
    "prior_samples_x2": "从 N(0, I) 解码的样本（放大 2 倍）",
    "prior_samples_x4": "从 N(0, I) 解码的样本（放大 4 倍）",
    "aug_intro": "### 数据增强预览\n同一批真实图像：原图、经过原文档中的增强（翻转、旋转、颜色抖动、缩放）后，以及经过 DiffAugment（平移、遮挡）后。",
    "strength": "强度", "augment_button": "显示", "original": "真实图像", "classic_aug": "原文档的增强（仅真实图像）",
    "diff_aug": "DiffAugment（真实与生成图像）",
    "aug_lesson": "#### 为什么只增强真实图像会“泄漏”\n"
                  "GAN 的生成器学习的是判别器认为“真实”的分布。如果只对真实图像做翻转和旋转，D 心目中的“真实”就包含了镜像、倾斜的数字，"
                  "于是 G 也会学着画出它们。翻转的 2 不是数字，模型却会乐此不疲地生成。\n\n"
                  "**DiffAugment**（Zhao 等，2020）在 D 和 G 两个步骤中，对真实**和**生成图像施加同一类可微增强。D 始终拿增强后的图像与增强后的图像比较，"
                  "无法把增强当作线索，G 也不会被推向生成增强后的图像：既获得数据效率，又没有泄漏。它的增强（小幅平移、遮挡）也不会改变数字本身。",
    "tab_tune": "调参",
    "tune_intro": "### 以样本质量为目标的超参数搜索\n原文档（第一篇的 6.2 节）用 Optuna 搜索 cGAN 的设置，目标是最小化"
                  "*验证损失*；但 GAN 的损失并不衡量它生成的图像。这里每次试验都是一次短训练，由分类器给它的样本打分（FD，"
                  "越低越好；或条件模型样本的类别准确率，越高越好）。Optuna 的 TPE 采样器选出下一组设置；在相同时间比例处"
                  "落后于已完成试验的试验会被剪枝。搜索与“训练”页共用一个排队；最好的试验会保存为一次运行，出现在其他页面的"
                  "列表中。最后一张图把每次试验最终的 G 损失与质量画在一起：衡量原文档所用的标准。",
    "tune_metric": "优化目标", "tune_metric_fd": "FD（越低越好）", "tune_metric_accuracy": "类别准确率（条件模型）",
    "tune_trials": "试验次数", "tune_trial_seconds": "每次试验的秒数", "tune_start": "开始搜索",
    "tune_idle": "选择模型、试验次数和每次训练的时长，然后开始。",
    "tune_example": "**下面是之前录制的一次搜索**：本页的默认设置（{model}，数据集 {dataset}，{trials} 次试验，每次 "
                    "{seconds:g} 秒，共用时 {total:.0f} 秒，{device}，{date}）。选择模型、试验次数和每次训练的时长，然后"
                    "开始：你自己的搜索会替换它。",
    "tune_table": "试验", "tune_history": "优化历史", "tune_scatter": "最终损失与质量",
    "tune_importance": "参数重要性", "tune_col_trial": "试验", "tune_col_state": "状态",
    "tune_col_reports": "中间评估", "tune_col_steps": "步数", "tune_state_complete": "完成",
    "tune_state_pruned": "已剪枝", "tune_state_diverged": "发散", "tune_state_stopped": "已停止",
    "tune_state_running": "运行中", "tune_state_waiting": "等待中",
    "tune_rho": "最终 {loss} 与质量的 Spearman 相关系数：**{rho}**（{n} 次完成的试验）",
    "tune_withdrawn": "搜索在开始前已撤回；没有训练任何模型。",
    "tune_status_running": "第 **{k}/{n}** 次试验正在训练…（已用 {s} 秒）",
    "tune_status_saving": "正在保存最好的试验…",
    "tune_status_done": "搜索结束。最好的试验已保存为 `{run}`：可在其他页面中选择。",
    "tune_status_none": "搜索结束，但没有完成的试验；没有保存任何模型。",
    "tune_fig_history": "优化历史", "tune_fig_importance": "参数重要性",
    "tune_fig_scatter": "最终 {loss} 与 {metric}", "tune_fig_trial": "试验",
    "tune_fig_rho": "Spearman 相关系数 = {rho}（{n} 次试验）", "tune_fig_too_few_history": "还没有结束的试验。",
    "tune_fig_too_few_importance": "参数重要性需要两次设置不同的已完成试验。",
    "tune_fig_too_few_scatter": "还没有记录了损失的已完成试验。",
    "tune_fig_trial_axis": "试验", "tune_fig_best": "目前最佳", "tune_fig_infeasible": "不可行的试验", "tune_fig_parameter": "设置",
    "tune_fig_importance_axis": "重要性",
    "tab_ensemble": "模型集成",
    "ens_intro": "### 模型集成：平均图像，还是混合生成器\n原文档（第一篇的 6.3 节）集成生成器的方法是**对同一噪声取各生成器输出的平均**。"
                 "下方，同一个种子依次送入你勾选的每个成员（每个一行），然后是它们的**平均**，最后是**混合**：每张图像由一个成员生成，"
                 "按权重随机挑选（图下的字母说明是哪一个）。",
    "ens_members": "成员：本数据集中能生成图像的检查点（勾选 2 到 8 个）",
    "ens_weights": "权重，按列表顺序每个勾选的成员一个，用逗号分隔（留空 = 相等）",
    "ens_per_row": "每行图像数", "ens_button": "比较",
    "ens_figure": "同一个种子下：每个成员、它们的平均与混合",
    "ens_lesson": "#### 为什么平均会模糊\n分别训练的两个生成器赋予同一个 z 不同的含义：一个画 3 的地方，另一个画 7。"
                  "取平均就是把两个数字叠在一起，得到一团不成数字的灰色，分类器常把它认作 8。混合从不叠加：每张图像都是某个成员自己的图像，"
                  "所以质量介于各成员之间，类别分布是它们的混合。潜变量维度不同的成员甚至无法共用一个 z，各自用同一个种子抽取自己的噪声。"
                  "若要平均的是*权重*而不是图像，可以在训练时保存模型权重的指数滑动平均（EMA，见训练页）。",
    "ens_measured": "#### 实测\n项目评估器对每个成员单独、平均与混合的打分（分类器特征上的 FD 与精确率 / 召回率，"
                    "类别直方图上的覆盖数与到均匀分布的 KL），读自 `docs/ensemble-table.json`；N、种子和命令见表格下方。",
    "train_intro": "### 训练模型\n整个应用一次只运行一个训练：如果别人正在训练，你会看到自己在队列中的位置。“停止”会提前结束训练并**保存**。",
    "model": "模型", "batch_size": "批大小", "optimiser": "优化器与损失", "lr_g": "G 的学习率", "lr_d": "D 的学习率",
    "lr_vae": "学习率（VAE、扩散模型）", "loss": "GAN 损失", "ema": "G 的 EMA 衰减（0 = 关闭，例如 0.999）",
    "diffaugment": "DiffAugment（平移 + 遮挡）", "run_name": "运行名称（可选）", "start": "开始训练", "stop": "停止",
    "subset": "训练图像数（0 = 全部；10 或更多：每个类别数量相同，由种子抽取）",
    "tab_transfer": "迁移学习",
    "transfer_intro": "### 迁移学习，实测\n源文档 000（§6.4）加载一个 pickle 保存的生成器，把它全部冻结，把最后一层换成没有输出"
                      "激活的新层（于是图像超出 [-1, 1]），训练循环只写了 `pass`。这里用 DCGAN 以三种方式学习 Fashion-MNIST："
                      "从零训练、从附带的 MNIST DCGAN 微调、微调时冻结 D 的前几层（FreezeD，Mo 等 2020），每种都分别带或不带 "
                      "DiffAugment（Zhao 等 2020），训练图像为 100 张、1,000 张和全部，种子和步数相同。曲线给出训练过程中与测试"
                      "图像的 Fréchet 距离（越低越好）。",
    "transfer_images": "训练图像数（下方的样本和表格）", "transfer_all": "全部",
    "transfer_curves": "FD 随训练步数的变化（实线：无增强，虚线：DiffAugment）",
    "transfer_samples": "每次训练结束时的样本", "transfer_table": "使用这么多图像的训练",
    "transfer_lesson": "#### 看什么\n微调的训练从 MNIST 模型出发，所以它的第一个点是该模型与 Fashion-MNIST 的距离（655）：它懂笔画和形状，"
                       "不懂衣服，但一开始就领先。在这些 1,000 步的训练中，无论图像多少，微调都胜过从零训练；FreezeD（D 的前几层保持 "
                       "MNIST 训练的样子）在 100 张图像时最好，图像更多时反而不如从零训练。DiffAugment 在 Zhao 等人的工作中能防止 D 在长时间训练中记住少量图像，"
                       "但在这些短训练中它让每一次都变差：它从第一步起就让 D 的任务更难，好处要等到 D 快要过拟合时才出现。每次训练只有"
                       "一个种子：几十的 FD 差异应视为噪声。权重只从 safetensors 加载，输出层保留 Tanh。",
    "preset": "失败预设（故意出错的训练：选一个，再点开始）",
    "preset_none": "无（按下面的设置训练）", "preset_watch": "留意：",
    "symptom_seen": "出现症状 — {title}：", "symptom_watching": "{title}：正在留意症状（{symptom}）…",
    "symptom_missing": "{title}：这次训练没有出现该症状；换一个种子或增加步数再试。",
    "symptom_d_ahead": "第 {step:,} 步时，D 给真实图像的平均分为 {d_real:.2f}，给假图 {d_fake:.2f}：它能分辨两者（差距超过 "
                       "{gap}），G 追不上。",
    "symptom_ignores_z": "第 {step:,} 步时，固定噪声样本之间的逐像素差异只有 {spread:.3f}（真实图像约 {real}）：无论 z 是什么，"
                         "G 几乎只画同一张图。",
    "symptom_collapse": "第 {step:,} 步时，{share:.0%} 的新样本被分类为同一类别（类别 {top_class}），{classes} 个类别中只出现 "
                        "{covered} 个：模式崩溃。",
    "symptom_diverges": "训练在第 {step:,} 步自行停止：{cause}。",
    "symptom_mirrored": "到第 {step:,} 步时，在左右不对称的数字（2、3、4、5、6、7、9）的样本中，分类器认为 {share:.0%} "
                        "左右翻转后更像它的类别（最近 {probes} 次类别检测的平均值；真实数字：0%；警报线 {threshold:.0%}）："
                        "G 画出了增强给 D 看过的镜像数字。",
    "collapse_warning": "**警告（第 {step} 步）：** {share:.0%} 的新样本看起来像“{name}”，{k} 个类别中只出现 {covered} 个。生成器"
                        "正在收缩到少数几种图像（模式崩溃）。训练早期这很正常；如果持续下去，试试 DiffAugment、更低的学习率或 "
                        "hinge 损失。",
    "collapse_none": "第 {step} 步：样本分布在 {k} 个类别中的 {covered} 个——没有模式崩溃的迹象。",
    "train_started": "正在训练 **{model}**，数据集 **{dataset}**{images} · {device} · {parameters:,} 个参数",
    "train_images": "（{n:,} 张图像）", "train_starting": "正在启动…",
    "train_step": "第 **{step:,} / {total:,}** 步 · **每秒 {rate:,.0f} 张图像** · 已用 {elapsed:.0f} 秒 · 约剩 **{eta:.0f} 秒**",
    "train_diverged": "**训练在 {step:,} 步、{elapsed:.0f} 秒后停止。** {message}",
    "train_why": "**训练停止的原因：** {message}",
    "queue_note": "训练 **{run}**：没有其他训练在进行时就会开始。“停止”会结束并保存它；它还在排队时，“停止”会撤回它。",
    "queue_withdrawn_before": "这次训练在开始前已被撤回；没有训练任何东西。",
    "stop_nothing": "没有可停止的：你没有排队中或正在进行的训练。",
    "stop_withdrawn": "已撤回：排队中的训练 **{run}** 不会开始。",
    "stop_stopping": "正在停止 **{run}**……它会保存并马上结束。",
    "stop_ended": "训练 **{run}** 已经结束。",
    "div_nan": "训练在第 {step:,} 步发散：{what}变成了 NaN 或无穷大，权重已不可用，没有保存。试试更低的学习率（lr_g 和 lr_d "
               "约 2e-4，VAE 的 lr 约 1e-3）、Adam beta1 取 0.5，或 hinge 损失。",
    "div_weights": "权重",
    "div_d_wins": "训练在第 {step:,} 步停止：判别器完全获胜（最近 {steps:,} 步里平均 D(真实) {d_real:.3f} > 0.99，"
                  "D(生成) {d_fake:.4f} < 0.01），生成器得不到有用的信号，不会再恢复；这些权重没有保存。试试更低的 D 学习率"
                  "（lr_d）、DiffAugment、在 D 中用谱归一化或 dropout，或 hinge 损失。",
    "div_kept": "最后一个正常的检查点（第 {step:,} 步）保存为 {run}。",
    "div_none_before": "没有保存检查点：训练在第一次保存（每 {every:,} 步）之前就出了问题。",
    "div_none": "没有保存检查点。",
    "train_done": "训练{how}，共 {step:,} 步、{elapsed:.0f} 秒。{where}",
    "train_how_steps": "已完成", "train_how_time": "达到了时间上限", "train_how_stopped": "已被停止",
    "train_how_ended": "已结束", "train_saved": "已保存为 `{run}`：可在其他页面中选择。",
    "train_nothing_saved": "没有保存任何内容（没有完成任何一步）。",
    "preset_documents_as_written": "文档中的 GAN 原样照搬",
    "preset_documents_as_written_cause": "源文档的 MLP GAN 与印刷版完全一致：真实图像来自 ToTensor()，取值 [0, 1]，而 G 以 Tanh "
                                         "结尾，取值 [-1, 1]（任何负像素都暴露假图），Sigmoid + BCE，Adam 默认 betas "
                                         "(0.9, 0.999)，G 中没有归一化，D 中没有 dropout。",
    "preset_documents_as_written_watch": "所有样本都是同一个模糊形状，而且一直如此：过了第 800 步，类别直方图仍把全部样本归入一个"
                                         "类别，而健康的训练此时已分散到各个类别。G 找到一张能骗过 D 的图就停在那里（模式崩溃）。",
    "preset_no_normalisation_in_g": "G 中没有归一化",
    "preset_no_normalisation_in_g_cause": "本实验室的 MLP GAN 只改一处：G 的隐藏层之间没有 BatchNorm（文档中的 G）。"
                                          "没有什么让隐藏激活保持分散，G 忽略 z 反而学得更快。",
    "preset_no_normalisation_in_g_watch": "64 个固定噪声样本虽然各有自己的 z，看起来却几乎一样：它们之间的逐像素差异远低于真实图像，"
                                          "直方图被一个类别占满。",
    "preset_learning_rate_too_high": "学习率过高",
    "preset_learning_rate_too_high_cause": "本实验室的 MLP GAN，两个学习率都设为 0.5 而不是 0.0002：每一步 Adam 都把每个权重移动多达 "
                                           "0.5，远远越过任何极小值。",
    "preset_learning_rate_too_high_watch": "损失跳变几个数量级，训练自行停止并说明原因（损失变成 NaN 或无穷大，或 D 完全获胜）。"
                                           "样本变成一片灰或饱和。",
    "preset_d_much_faster_than_g": "D 学得比 G 快得多",
    "preset_d_much_faster_than_g_cause": "D 的学习率是 G 的 100 倍（2e-3 对 2e-5），且 D 中没有 dropout：G 还来不及跟上，D "
                                         "就学会了区分真假。",
    "preset_d_much_faster_than_g_watch": "右侧图中 D 对真实图像的平均分升向 0.9、对假图降向 0.2，并一直分开（健康的训练中两者都在 "
                                         "0.5 附近）；G 的损失上升，慢吞吞的 G 停在一种图像上。",
    "preset_reals_only_augmentation": "只增强真实图像",
    "preset_reals_only_augmentation_cause": "文档中的数据增强（随机水平翻转、最多 15 度的旋转、颜色抖动、缩放）像文档那样只用在"
                                            "真实图像上，模型是本实验室的快速 cGAN。D 被告知镜像和倾斜的数字是真的，于是 G 画它们"
                                            "也会得到奖励：增强泄漏进了 G 学到的东西。",
    "preset_reals_only_augmentation_watch": "网格中出现镜像数字（每行一个类别）：3 画成 ε，2、4、7、9 朝向反了。在左右不对称的数字"
                                            "的样本中，分类器认为约一半翻转回来后更像它的类别；真实数字为 0，同一个 cGAN 不加增强时"
                                            "大多低于 0.3。",
    "train_example": "**下面是之前录制的示例**：本页默认设置的一次训练（{model}，数据集 {dataset}，{steps:,} 步，"
                     "用时 {seconds:.0f} 秒，{device}，{date}）。你自己的训练开始后，曲线和样本会替换它。",
    "train_idle": "点击**开始训练**。在双核 CPU 上，cGAN（默认选项）30 秒内就能画出可辨认的数字，每行一个类别；MLP GAN "
                  "在同样时间里只覆盖约一半类别。",
    "losses": "损失：D 蓝色，G 橙色（VAE：重建 蓝色，KL 橙色）",
    "d_scores": "平均 D(真实) 蓝色，D(生成) 橙色（VAE：ELBO）", "samples_fixed": "固定噪声生成的样本",
    "class_hist": "分类器眼中的 500 个新样本", "saved_run": "已保存的运行", "run_id": "运行编号（停止时使用）", "hub_repo": "Hub 仓库名",
    "push": "推送到 Hub",
    "section_generate": "生成", "section_explore": "探索", "section_train": "训练", "section_lessons": "课堂",
    "section_about": "关于",
    "tab_diffusion": "扩散模型",
    "diffusion_intro": "### 扩散模型\n扩散模型学习的是去除噪声。生成时它从纯噪声出发，每一步去掉一点噪声，每次都让网络猜测干净的图像是什么样子。"
                       "下方可以看到一张图像一步步去噪的过程，以及噪声如何作用于一张真实图像。",
    "diffusion_class": "类别（none = 无条件）", "no_class": "none（无条件）", "sampler": "采样器",
    "guidance": "引导强度（1 = 普通的类别条件，0 = 忽略类别）",
    "trajectory_title": "### 看一张图像如何去噪\n网格中的第一张图像，一步一步地生成。拖动滑块：左边是采样器在这一步持有的图像，"
                        "右边是模型据此猜测的最终图像。GIF 播放整个过程。",
    "trajectory_step": "步（0 = 纯噪声；最后一步 = 生成的样本）",
    "noisy_image": "这一步：x_t", "predicted_clean": "预测的干净图像：x̂₀", "trajectory_gif": "整个过程（GIF）", "noise_level": "噪声水平",
    "forward_title": "### 前向过程：给真实图像加噪\n训练时方向相反：取一张真实图像，混入随机强度 t 的噪声，让网络学会预测加入了什么噪声。",
    "forward_class": "真实图像：该类别的第一张测试图像（none = 按编号）", "by_number": "none（按编号）",
    "noise_t": "噪声水平 t（0 = 原图，1 = 纯噪声）", "add_noise": "加噪",
    "real_image": "真实图像：x₀", "noised_image": "加噪到 t：x_t",
    "noise_strip": "同一张图像、同一份噪声，t = 0, 0.1, …, 1",
    "diffusion_help": "#### 各个控件的作用\n"
                      "**类别。** 要画的数字（或服饰）。*none* 表示不指定类别：训练时每十次有一次隐藏类别，所以网络也能在没有类别时去噪。\n\n"
                      "**种子。** 决定起始噪声。相同的种子和设置总是得到相同的图像；去噪轨迹展示的是网格中的第一张图像。\n\n"
                      "**采样器。** 把网络的预测变成下一张噪声更少的图像的规则。流匹配模型：*euler*（每步调用一次网络）或 *heun*"
                      "（每步两次，单步更准确）。DDPM 模型：*ddpm*（每一步加入新的噪声）、*ddim*（确定性）或 *dpm-solver++*"
                      "（二阶求解器，步数少时效果好）。\n\n"
                      "**步数。** 采样器调用网络的次数。步数少则快但粗糙；超过几十步后图像几乎不再变化。每个请求有上限"
                      "（图像数 × 步数，使用引导或 heun 时加倍），以便在 2 核 CPU 上几秒内完成。\n\n"
                      "**引导强度。** 无分类器引导：1 是普通的类别条件预测，0 忽略类别，大于 1 则远离无条件预测：类别更鲜明、"
                      "变化更少，远大于 1 时笔画生硬、过曝。类别为 *none* 时不起作用。\n\n"
                      "**步滑块。** 在一次采样过程中来回拖动：左边是这一步的图像，右边是网络据此预测的干净图像。早期的猜测是模糊的平均，"
                      "随着噪声减少而变得清晰。\n\n"
                      "**噪声水平 t。** 训练所用的前向过程：真实图像与噪声混合，x_t = a·x₀ + b·ε；图下的一行给出 a 和 b。"
                      "t = 0 时是原图，t = 1 时是纯噪声。",
    "tab_pixelcnn": "PixelCNN",
    "pixelcnn_intro": "### PixelCNN：一次一个像素\n自回归模型（van den Oord 等，2016）按阅读顺序作画：先画第 1 个像素，"
                      "再在第 1 个像素的条件下画第 2 个，依此类推；每个像素都是在 K 个灰度等级中的一次抽样，条件是它上方和左边的"
                      "所有像素。所以它有精确的似然，也是这里最慢的采样器（每张图 784 次抽样；带缓存的采样器只计算每个新像素改变的部分）。",
    "pixelcnn_missing": "这个数据集还没有 PixelCNN 检查点。可用 "
                        "`python -m aigc_models train --model pixelcnn --dataset mnist --out checkpoints/mnist-pixelcnn` "
                        "训练一个（CPU 上约一小时；Fashion-MNIST 把两处 mnist 换成 fashion-mnist），然后重新加载页面。",
    "pixelcnn_temperature": "温度（1 = 模型自己的概率；小于 1 更果断，大于 1 更杂乱）",
    "pixelcnn_guidance": "类别引导（1 = 普通条件；大于 1 更像这个类别；不支持的模型固定为 1）",
    "pixelcnn_gif": "第一张图像逐步画出（GIF，每行一帧）",
    "pixelcnn_pixel_title": "### 模型对某个像素是怎么想的？\n点击第一张样本中的一个像素（或输入它的行和列）。柱状图是模型根据"
                            "它之前的像素给这个像素的 K 个概率；着色的像素是它看不到的。",
    "pixelcnn_click": "第一张样本：点击一个像素", "pixelcnn_row": "行（0-27）", "pixelcnn_col": "列（0-27）",
    "pixelcnn_bars": "K 个等级上的预测分布",
    "pixelcnn_complete_title": "### 补全：保留上面几行，让模型画出其余部分\n选择一张测试图像（点击或输入编号），或者画一张、"
                               "上传一张；保留它最上面的 k 行，看看几种补全。橙线标出最后一个保留的行。",
    "pixelcnn_complete_class": "按哪个类别补全（auto = 测试图像自己的类别）",
    "pixelcnn_auto_class": "auto（测试图像的类别）", "pixelcnn_unconditional": "none（无条件模型）",
    "pixelcnn_rows": "保留的行数 k（0 = 整张重画）", "pixelcnn_completions": "补全数量",
    "pixelcnn_complete": "补全", "pixelcnn_completed": "原图和它的补全",
    "pixelcnn_help": "#### 各个控件的作用\n"
                     "**类别。** 要画的数字（或服饰）。模型训练时每一层都把类别作为额外输入，所以它会画出这个类别；"
                     "没有用类别训练的模型只提供 *none*。\n\n"
                     "**种子。** 决定每次抽样背后的随机数，每个像素一个。相同的种子和设置总是得到相同的图像；动画和像素视图跟随网格中的"
                     "第一张图像。\n\n"
                     "**温度。** 抽样前每个像素的概率按 softmax(logits / T) 重新计算。小于 1 时最可能的等级更常胜出：笔画更果断、"
                     "更干净，但变化更少。大于 1 时不太可能的等级更常出现：斑点和断开的笔画。它必须大于 0、不超过 10。\n\n"
                     "**类别引导。** 无分类器引导（和扩散模型标签页一样），作用在每个像素的概率上：用 *label dropout* 训练的模型"
                     "（部分图像训练时不给类别）同时知道 p(像素 | 类别, 之前的像素) 和 p(像素 | 之前的像素)，抽样时用它们 logits 的 "
                     "uncond + g × (cond − uncond)。1 是普通条件模型，0 忽略类别，大于 1 把每个像素推向“这个类别之所以是这个类别”"
                     "的样子：样本被认出的比例高得多，代价是变化变少，推得太远时笔画会断。没有用 label dropout 训练的模型固定为 1。\n\n"
                     "**图像数量。** 一次画多少张。每张图要抽样 784 次，每次都经过所有层，所以每个请求有上限（图像数 × 像素数），"
                     "以便在 2 核 CPU 上几秒内完成。\n\n"
                     "**行和列（像素视图）。** 要查看的像素；点击图像会自动填入。柱状图是这个像素被抽样时的分布：有把握的模型几乎把"
                     "全部概率放在一个等级上，没把握时（比如在笔画边缘）会分散开。\n\n"
                     "**保留的行数 k。** 补全时原样保留最上面的 k 行，其余由模型画出。保留的行少，各个补全差别大（很多数字开头都一样）；"
                     "保留的行多，补全就趋于一致。保留的行越少，要画的像素越多，补全数量多时可能超出上限。\n\n"
                     "**补全数量。** 从同样保留的行出发画出多少种不同的补全，每种都用由种子得到的各自的随机数。",
    "about_models": """### 模型
| 模型 | 简介 |
| --- | --- |
| **MLP GAN** | 原文档的第一个 GAN：生成器 G（噪声 z → 784 像素，全连接）与判别器 D（784 像素 → 真或假）对抗。 |
| **DCGAN** | 同样的博弈，换成卷积（Radford 等，2016）：转置卷积把 7×7 上采样到 14×14 再到 28×28。 |
| **条件 GAN** | 双方都能看到类别：G 按要求画出指定类别；D（投影判别器）同时判断图像与类别。 |
| **VAE** | 编码器把图像映射为潜空间中的高斯分布，解码器再映射回图像；以重建误差 + 到 N(0, I) 的 KL 散度训练。 |
| **扩散模型** | 学习去除噪声（Ho 等，2020；流匹配，Lipman 等，2023）：U-Net 或图块 Transformer（DiT，Peebles 与 Xie，2023）预测加噪图像中的噪声；采样从纯噪声开始一步步去噪，并用无分类器引导朝指定类别靠近。 |
| **门控 PixelCNN** | 一次画一个像素，每个像素都由它上方和左侧的像素决定（van den Oord 等，2016）：概率的链式法则，所以能给出图像的精确似然。 |
| **SRCNN、ESPCN** | 超分辨率（Dong 等，2014；Shi 等，2016）：输入小图，输出放大 2 倍或 4 倍的同一张图，用 PSNR 和 SSIM 与真实图像比较。 |
| **分类器** | 每个数据集一个小型 CNN，用来*度量*样本（类别直方图、Fréchet 距离）。 |

```
GAN:   z ~ N(0, I) ──► G ──► 生成图 ─┐
                                      ├──► D ──► 真还是假？   （D：分辨；G：骗过 D）
       真实图像 ──────────────────────┘
cGAN:  (z, 类别) ──► G ──► 生成图 ──► D(图像, 类别)
VAE:   x ──► 编码器 ──► (μ, σ) ──► z = μ + σ·ε ──► 解码器 ──► x̂     损失 = 重建 + KL(q(z|x) ‖ N(0, I))
扩散:  x_T ~ N(0, I) ──► x_T-1 ──► … ──► x_0   每一步：网络(x_t, t, 类别) 估计噪声并去掉一部分
PixelCNN:  p(x) = p(x_1) · p(x_2 | x_1) · … · p(x_784 | x_1 … x_783)   按阅读顺序一次一个像素
```
""",
    "about_flaws": """### 原文档中的错误（以及本实验室的做法）
| 原文档 | 问题 | 本实验室 |
| --- | --- | --- |
| 真实图像用 `ToTensor()` 缩放到 [0, 1]，生成器以 `Tanh` 输出 [-1, 1] | 任何负像素都暴露了假图；Tanh 一半范围闲置 | 真实图像缩放到 [-1, 1] |
| `Sigmoid` + `BCELoss` | 数值上较弱；无法用混合精度 | logits + `BCEWithLogitsLoss`（或 hinge） |
| Adam 使用默认 betas (0.9, 0.999) | 训练振荡（DCGAN 论文） | betas (0.5, 0.999) |
| 只增强真实图像 | G 学会画镜像、倾斜的数字 | 在两个步骤中对真实与生成图像都用 DiffAugment |
| 超参数搜索最小化“验证损失” | GAN 的损失不能衡量图像质量 | 用基于分类器的指标评判样本 |
| 集成时平均多个生成器的输出 | 不同数字的平均是模糊的 | 随机选一个生成器采样，或平均权重（EMA） |
| Keras 生成器：把 28×28×1 的数据改成 28×28×3；D 从未单独训练 | 直接崩溃；不是 GAN 的更新方式 | 正确实现的 DCGAN |
""",
    "tab_step": "单步训练",
    "step_intro": "### 单步训练\n一次点击训练一步 GAN，看看每一步改变了什么。**D 单步**：判别器用一批真实图像和生成图像学习，G 保持不变。"
                  "**G 单步**：生成器学习骗过当前的 D，D 保持不变。D 单步之后，D 对真实图像（蓝色）和生成图像（橙色）的分数会拉开；"
                  "G 单步之后，生成图像的分数会回升。**慢动作**每秒走一个完整的步（先 D 后 G），直到点击**暂停**。",
    "step_family": "模型（从头开始时）", "step_source": "起点",
    "from_scratch": "从头开始（未训练）", "from_checkpoint": "下面的检查点",
    "d_step": "D 单步", "g_step": "G 单步", "dg_step": "D+G 单步", "slow_motion": "慢动作",
    "pause": "暂停", "reset": "重置",
    "step_idle": "点击 **D 单步**、**G 单步** 或 **D+G 单步**：第一次点击时会按左边的设置创建你的模型，下面的图显示每次点击改变了什么。",
    "step_before": "之前：固定噪声生成的样本", "step_after": "之后：同样的噪声",
    "scores_note": "D 的分数是它认为图像为真的概率。蓝色：64 张真实图像 x；橙色：固定噪声生成的图像 G(z)；虚线：平均值。",
    "scores_before": "之前：D 的分数", "scores_after": "之后：D 的分数",
    "grad_norms": "更新的网络每一层的梯度范数（D 蓝色，G 橙色）",
    "section_compare": "对比",
    "tab_compare": "对比",
    "compare_intro": "### 同一把尺子量所有模型\n每个内置生成模型的质量（评估分类器特征与测试集之间的 Fréchet 距离，"
                     "越低越好）与在本机 CPU 上生成 64 张图像所需时间的对比。两者都来自文件：`python -m aigc_models "
                     "evaluate --save` 存入各检查点的指标，以及 `python -m aigc_models bench --sampling` 测得的时间"
                     "。越靠左下越好。",
    "compare_plot": "质量与采样时间（对数坐标）",
    "compare_table": "所有生成模型检查点",
    "compare_refresh": "刷新",
    "compare_notes": "FD（下限）：N 个样本的 Fréchet 距离，括号内为真实数据下限（N 张训练图像按同样方式打分）；† 表"
                     "示 VAE 的先验样本，它们本来就较模糊。类别准确率：条件模型按要求画出的类别被分类器认对的比例。"
                     "覆盖：样本中出现的类别数。召回率：样本能触及多少真实数据（多样性）。参数：检查点中所有网络的参"
                     "数（括号内为采样时实际运行的部分）。“-”：未存储或未测量。FD 只能在同一数据集内比较。",
    "compare_col_checkpoint": "检查点",
    "compare_col_family": "模型族",
    "compare_col_n": "N",
    "compare_col_fd": "FD（下限）",
    "compare_col_accuracy": "类别准确率",
    "compare_col_coverage": "覆盖",
    "compare_col_pr": "精确率 / 召回率",
    "compare_col_time": "64 张图像，毫秒（中位数 / p90）",
    "compare_col_sampler": "采样器",
    "compare_col_parameters": "参数（采样）",
    "compare_col_train": "训练时间",
    "compare_col_device": "设备",
    "compare_sr_intro": "### 超分辨率模型\n\n超分辨率检查点（探索 → 超分辨率）不从噪声生成图像，所以上图中没有它们。"
                        "它们自己的标准（测试集）：与真实图像相比的 PSNR 和 SSIM（括号内为双三次插值），已存储时放大结果的 FD "
                        "和类别准确率，以及在这台 CPU 上放大 64 张图像的时间（`bench --sampling`）。",
    "compare_sr_table": "所有超分辨率检查点",
    "compare_sr_col_checkpoint": "检查点", "compare_sr_col_family": "模型族", "compare_sr_col_scale": "放大倍数",
    "compare_sr_col_psnr": "PSNR，dB（双三次）", "compare_sr_col_ssim": "SSIM",
    "compare_sr_col_fd": "放大结果的 FD（双三次）", "compare_sr_col_accuracy": "类别准确率",
    "compare_sr_col_time": "64 张图像，毫秒（中位数 / p90）", "compare_sr_col_parameters": "参数",
    "compare_sr_col_train": "训练时间", "compare_sr_col_device": "设备",
    "compare_fig_title": "质量与采样时间（越靠左下越好）",
    "compare_fig_x": "生成 64 张图像的毫秒数（CPU，对数坐标）",
    "compare_fig_y": "Fréchet 距离（对数坐标）",
    "compare_fig_floor": "真实数据下限",
    "compare_fig_empty": "还没有同时具备已存储 FD 和已测采样时间的检查点。",
    "compare_reading_intro": "**质量、多样性、速度。** Xiao 等（2022）要求生成模型做到三点：样本质量高、覆盖数据的多"
                             "样性、采样快，并认为 GAN、VAE 和扩散模型各自放弃了其中一点（*生成学习的三难困境*）。本"
                             "实验室检查点的实测（质量：FD 最低；多样性：召回率最高；速度：生成 64 张图像的毫秒数最"
                             "少）：",
    "compare_reading_dataset": "在 **{dataset}** 上，质量最好的是 {quality}（FD {fd}），最多样的是 {diversity}（召回"
                               "率 {recall}），最快的是 {speed}（{n} 张图像 {ms} 毫秒）。",
    "compare_reading_one": "{name} 三项全部领先：在这些检查点上还看不出取舍。",
    "compare_reading_split": "没有一个检查点三项全部领先。",
    "compare_reading_ratio": "质量最好的那个所需时间是最快者的 {ratio} 倍。",
    "compare_reading_span": "最慢的 {slowest} 所需时间是最快者的 {span} 倍。",
    "compare_reading_none": "还没有同时具备已存储指标和已测采样时间的检查点：请运行 `python -m aigc_models evaluate "
                            "--save` 和 `python -m aigc_models bench --sampling --out docs/sampling-bench.json`。",
    "compare_reading_missing": "{k} 个缺少 FD 或采样时间的检查点只列在表中。",
    "compare_measured": "时间测于 {date}，{cpu}，{device}，每次生成 {n} 张图像。{note}",
    "tab_superres": "超分辨率",
    "sr_intro": "### 超分辨率\n把一张图片（点击一张测试图像、自己画一张，或上传一张）按像素块取平均缩小 2 倍或 4 倍，再放大回 28 × 28："
                "重复像素（最近邻）、双三次插值，以及训练好的网络 SRCNN（Dong 等，2014）和 ESPCN（Shi 等，2016）。"
                "每张图下方是 PSNR（越高越接近真实图像，单位 dB）和 SSIM（1 表示结构相同）。",
    "sr_scale": "放大倍数", "sr_button": "放大", "sr_results": "输入、各种放大结果和真实图像",
    "sr_lesson": "#### 这些数字说明什么\nPSNR 只计算像素误差的平方，所以只用像素损失训练的网络（这里的 SRCNN 和 ESPCN）学到的是所有"
                 "缩小后相同的图像的*平均*：比双三次清晰，但在输入无法判断笔画走向的地方仍然偏模糊。ESPCN 在小尺寸上计算，"
                 "再把 r² 个通道重排成每个 r × r 的像素块（亚像素卷积），计算量是 SRCNN 的 r² 分之一；SRCNN 在双三次放大后的"
                 "全尺寸图像上运行。放大 4 倍时旁边还有一个加了对抗损失训练的 ESPCN（SRGAN，Ledig 等，2017）：判别器惩罚"
                 "模糊的平均，所以它的笔画更清晰，也更常被认成正确的数字（10,000 张测试图像上 FD 353 -> 259，类别准确率 "
                 "0.895 -> 0.914），代价是 SSIM 下降（0.647 -> 0.612）：没有哪个放大方法能在两方面都最好（Blau 与 "
                 "Michaeli，2018，感知与失真的权衡）。",
    "tab_class": "全班训练",
    "class_intro": "### 全班训练\n教师训练一个模型，打开本页的每个浏览器实时观看同一次训练：损失、D 的分数、固定噪声的样本和"
                   "类别直方图。教师可以暂停，一步一步地训练（每个人都能看到这一步改变了什么），在训练中途修改学习率，"
                   "并结束训练（它会被保存，像其他训练一样出现在其他标签页中）。",
    "class_off": "本服务器未开启全班训练。启动应用的人用口令开启：`AIGC_TEACHER_CODE=口令 python app.py`"
                 "（在 Space 上：设置同名的 secret）。其余功能照常使用。",
    "class_waiting": "正在连接全班训练……",
    "class_example": "**开始之前，先看之前录制的示例**：训练页默认设置的一次训练（{model}，数据集 {dataset}，"
                     "{steps:,} 步，用时 {seconds:.0f} 秒，{device}，{date}）。全班训练开始后，曲线和样本会替换它。",
    "class_watch": "观看全班训练", "class_teacher": "教师控制", "class_code": "教师口令",
    "class_unlock": "解锁", "class_start": "开始全班训练", "class_pause": "暂停", "class_resume": "继续",
    "class_step": "训练一步", "class_end": "结束训练", "class_rates": "应用学习率",
    "class_students": "允许学生自己训练（训练标签页）",
    "class_none": "**全班训练：** 尚未开始，等待教师开始。学生自己的训练：{students}。（更新 {seq}）",
    "class_line": "**全班训练：** {model}，{dataset} · **{state}** · {rates} · 学生自己的训练：{students}"
                  "（更新 {seq}）",
    "class_state_running": "训练中", "class_state_paused": "已暂停", "class_state_ended": "已结束",
    "class_students_on": "允许", "class_students_off": "暂停",
    "class_unlocked": "已解锁：这个浏览器控制全班训练。",
    "class_started": "全班训练 **{run}** 已开始，所有打开的页面都会显示它。",
    "class_paused": "已暂停。点击**训练一步**训练一步并展示给所有人。",
    "class_resumed": "继续训练。", "class_stepped": "已训练第 {step:,} 步，所有页面都显示了它。",
    "class_ending": "正在结束：训练会保存并停止。",
    "class_rates_set": "从下一步起：{rates}。",
    "class_students_allowed": "学生又可以自己训练了。",
    "class_students_held": "学生自己的训练已暂停：在你允许之前，训练标签页会拒绝它们。",
    "train_held": "全班训练期间教师暂停了学生自己的训练：请在“全班训练”标签页观看。",
    "recipe_defaults": "默认设置",
    "recipe_shipped": "已发布的 `{name}` 的训练设置；模型：{options}。",
    "recipe_none": "没有已发布的 `{name}`：使用默认设置。",
    "recipe_ema": "它还对 G 的权重做了平均（EMA {ema}），这里关闭，好让样本从一开始就在变化。",
    "preset_default_options": "默认选项", "preset_reals_in_unit": "，真实图像在 [0, 1] 内",
    "preset_real_augment": "，真实图像经过翻转、旋转、颜色抖动和缩放（文档中的数据增强）",
    "preset_note": "预设 `{key}`：{model}，{options}{extra}；下面的设置来自预设。",
    "preset_kept": "预设 `{key}`：下面的设置来自预设。",
    "train_device": "**设备：** {device} · 每次训练最长 {seconds:.0f} 秒",
    "ens_noise_shared": "每个成员对每个样本看到同一个 z（潜变量维数 {size}）。",
    "ens_noise_own": "成员的潜变量维数不同（{listed}），所以不能共用一个 z：每种维数用同一个种子抽取自己的噪声"
                     "（维数相同的成员共用）。",
    "ens_drew": "{letter} 画了 {k} 张",
    "ens_note": "{noise} 权重：{shares}。**平均**：每一列是上方各成员图像的加权平均。**混合**：每一列是一个成员的图像，"
                "按权重随机挑选（{n} 张中 {drawn}）；图下的字母是画它的成员。种子 {seed}。",
    "ens_table_header": "| 样本 | FD（越低越好） | 覆盖类别 | 与均匀分布的 KL | 精确率 | 召回率 |",
    "ens_table_floor": "真实训练图像（下限）",
    "ens_table_footer": "{dataset}，每项 N = {n:,} 个样本，种子 {seed}，成员 {members}（权重 {weights}）；{device}，{date}。",
    "ens_table_missing": "这里还没有测量表：`python scripts/ensemble_table.py` 会写出 {name}。",
    "ens_table_commands": "每一行对应一条命令：",
    "tab_pictures": "你的图片",
    "pic_intro": "### 用你自己的图片训练\n上传一个 zip 或若干图片文件，或选择一个文件夹：最多使用 2,000 张图片，每个文件不超过 "
                 "5 MB。每张图片都按数据集图像的方式裁切（28 x 28 灰度，黑底白图），模型用 **DiffAugment**（Zhao 等，2020）"
                 "学习它们：真实图像和生成图像做同样的随机平移和挖空，让 D 无法直接记住一个小数据集。100 张运动鞋上的测量见 "
                 "README（*Your own pictures*）。",
    "pic_idle": "点击 **用这些图片训练**。样本来自固定的噪声和生成器近期权重的平均（EMA 0.999，与测量时相同），所以比训练"
                "慢大约一千步，之后逐渐清晰。在双核 CPU 上 4,000 步大约需要 4 分钟。",
    "pic_files": "图片：一个 zip，或若干图片文件", "pic_folder": "……或一个图片文件夹",
    "pic_framing": "图片的内容", "pic_digits": "数字（按 MNIST 裁切）", "pic_objects": "物体（按 Fashion-MNIST 裁切）",
    "pic_preview": "模型看到的样子（28 x 28）",
    "pic_none": "上传一个 zip 或图片，或选择一个文件夹：它们会以模型看到的样子显示在这里。",
    "pic_read": "读入 **{n:,} 张图片**，作为{what}。", "pic_what_mnist": "数字（MNIST 裁切）",
    "pic_what_fashion": "物体（Fashion-MNIST 裁切）",
    "pic_left_out": "另有 {n:,} 张未使用（最多使用 {max:,} 张）。",
    "pic_skipped": "**跳过 {n:,} 个**：{names}。", "pic_more": "等另外 {n:,} 个",
    "pic_fine_tune": "从这个数据集的预训练模型开始（微调）", "pic_train": "用这些图片训练",
    "pic_error_too_few": "只找到 {count} 张可用的图片；训练至少需要 {least} 张（100 张以上更好）。{why}",
    "pic_error_too_many_names": "文件超过 {limit:,} 个：请选择文件更少的文件夹或 zip。",
    "pic_error_too_many_bytes": "图片总大小超过 {mb} MB：请用更少或更小的图片。",
    "pic_error_bad_zip": "{name} 不是可读的 zip 压缩包。",
    "pic_example": "**示例**（在你上传自己的图片之前）：Fashion-MNIST 训练集中的 100 张运动鞋。",
    "pic_need": "请先上传图片（zip、图片文件或文件夹）；它们会以模型看到的样子显示在左边。",
    "pic_gone": "这些图片已不在服务器上：请重新上传。",
    "pic_no_shipped": "没有可作为起点的预训练 {name} 模型：取消微调，或换一个模型。",
    "pic_conditional": "{model} 是类别条件模型：它把你的图片当作第 0 类来学习。",
    "train_pictures": "（你的 {n:,} 张图片）",
    "reason_not_image": "不是图片文件", "reason_encrypted": "已加密", "reason_link": "链接（不跟随）",
    "reason_large": "大于 {mb} MB", "reason_unreadable": "不是可读的图片", "reason_empty": "空白",
    "reason_size": "像素尺寸过大或过小",
}

assert EN.keys() == ZH.keys(), sorted(set(EN) ^ set(ZH))

I18N = gr.I18n(en=EN, **{"zh-CN": ZH})
t = I18N
