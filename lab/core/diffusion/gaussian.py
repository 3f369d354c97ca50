"""Gaussian diffusion around a denoiser: noising (q_sample), one reverse step, and the loss.

Follows lucidrains/denoising-diffusion-pytorch: the schedule constants are registered
buffers, `q_sample` noises a clean image to step t in one go, `p_sample` takes one DDPM
step back and `ddim_step` one DDIM step; both return the new image, the predicted clean
image x̂0 and the predicted noise. Classifier-free guidance mixes the prediction for the
asked-for class with the one for "no class".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lab.core.diffusion.schedule import alphas_cumprod, beta_schedule


class StepResult(NamedTuple):
    image: torch.Tensor  # x at the next (less noisy) step
    x_start: torch.Tensor  # the predicted clean image x̂0
    noise: torch.Tensor  # the predicted noise ε̂


def extract(a: torch.Tensor, t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """a[t] for each sample, shaped to broadcast against a batch of `shape`."""
    return a.gather(-1, t).reshape(t.shape[0], *((1,) * (len(shape) - 1)))


class GaussianDiffusion(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        *,
        timesteps: int = 1000,
        schedule: str = "cosine",
        clip: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.timesteps = int(timesteps)
        self.schedule = schedule
        self.clip = clip  # images live in [-1, 1]; 2D points are not clipped
        betas = beta_schedule(schedule, self.timesteps)
        ac = alphas_cumprod(betas)
        ac_prev = np.append(1.0, ac[:-1])
        post_var = betas * (1.0 - ac_prev) / (1.0 - ac)

        def buf(name: str, value: np.ndarray) -> None:
            self.register_buffer(
                name, torch.as_tensor(value, dtype=torch.float32), persistent=False
            )

        buf("betas", betas)
        buf("alphas_cumprod", ac)
        buf("alphas_cumprod_prev", ac_prev)
        buf("sqrt_alphas_cumprod", np.sqrt(ac))
        buf("sqrt_one_minus_alphas_cumprod", np.sqrt(1.0 - ac))
        buf("sqrt_recip_alphas_cumprod", np.sqrt(1.0 / ac))
        buf("sqrt_recipm1_alphas_cumprod", np.sqrt(1.0 / ac - 1.0))
        buf("posterior_variance", post_var)
        # The variance is 0 at t = 0, so its log is clipped to the next value.
        buf("posterior_log_variance_clipped", np.log(np.append(post_var[1], post_var[1:])))
        buf("posterior_mean_coef1", betas * np.sqrt(ac_prev) / (1.0 - ac))
        buf("posterior_mean_coef2", (1.0 - ac_prev) * np.sqrt(1.0 - betas) / (1.0 - ac))

    @property
    def null_class(self) -> int:
        return int(getattr(self.model, "null_class", 0))

    # -- forward process ---------------------------------------------------------------
    def q_sample(
        self, x_start: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε: jump straight to any noise level."""
        if noise is None:
            noise = torch.randn_like(x_start)
        return (
            extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
            + extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise
        )

    def predict_start_from_noise(
        self, x_t: torch.Tensor, t: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        return (
            extract(self.sqrt_recip_alphas_cumprod, t, x_t.shape) * x_t
            - extract(self.sqrt_recipm1_alphas_cumprod, t, x_t.shape) * noise
        )

    def predict_noise_from_start(
        self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor
    ) -> torch.Tensor:
        return (extract(self.sqrt_recip_alphas_cumprod, t, x_t.shape) * x_t - x0) / extract(
            self.sqrt_recipm1_alphas_cumprod, t, x_t.shape
        )

    def q_posterior(
        self, x_start: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean, variance and log-variance of q(x_{t-1} | x_t, x0)."""
        mean = (
            extract(self.posterior_mean_coef1, t, x_t.shape) * x_start
            + extract(self.posterior_mean_coef2, t, x_t.shape) * x_t
        )
        return (
            mean,
            extract(self.posterior_variance, t, x_t.shape),
            extract(self.posterior_log_variance_clipped, t, x_t.shape),
        )

    # -- reverse process ---------------------------------------------------------------
    def predict_noise(
        self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor, guidance: float = 0.0
    ) -> torch.Tensor:
        """ε̂ for class y; with guidance w: (1 + w) ε̂(y) - w ε̂(no class) (Ho & Salimans)."""
        null = torch.full_like(y, self.null_class)
        conditional = y != self.null_class
        # float(): the network may run in bfloat16 (compute.inference_precision); the step
        # arithmetic stays in float32.
        if guidance == 0.0 or not bool(conditional.any()):
            return self.model(x, t, y).float()
        both = self.model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, null])).float()
        eps_c, eps_u = both.chunk(2)
        guided = eps_c + guidance * (eps_c - eps_u)
        mask = conditional.reshape(-1, *((1,) * (x.dim() - 1)))
        return torch.where(mask, guided, eps_c)

    def model_predictions(
        self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor, guidance: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε̂, x̂0); x̂0 is clipped to the data range and ε̂ re-derived to agree with it."""
        noise = self.predict_noise(x, t, y, guidance)
        x_start = self.predict_start_from_noise(x, t, noise)
        if self.clip is not None:
            x_start = x_start.clamp(-self.clip, self.clip)
            noise = self.predict_noise_from_start(x, t, x_start)
        return noise, x_start

    @torch.inference_mode()
    def p_sample(
        self,
        x: torch.Tensor,
        t: int,
        y: torch.Tensor,
        guidance: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> StepResult:
        """One DDPM step from x_t to x_{t-1}: the posterior mean plus fresh noise (none at t=0)."""
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        noise, x_start = self.model_predictions(x, tt, y, guidance)
        mean, _, log_var = self.q_posterior(x_start, x, tt)
        if t > 0:
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            mean = mean + (0.5 * log_var).exp() * z
        return StepResult(mean, x_start, noise)

    @torch.inference_mode()
    def ddim_step(
        self,
        x: torch.Tensor,
        t: int,
        t_next: int,
        y: torch.Tensor,
        guidance: float = 0.0,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> StepResult:
        """One DDIM step from x_t to x_{t_next} (t_next < 0 means: to the clean image)."""
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        noise, x_start = self.model_predictions(x, tt, y, guidance)
        if t_next < 0:
            return StepResult(x_start, x_start, noise)
        alpha = self.alphas_cumprod[t]
        alpha_next = self.alphas_cumprod[t_next]
        sigma = eta * ((1 - alpha / alpha_next) * (1 - alpha_next) / (1 - alpha)).sqrt()
        c = (1 - alpha_next - sigma**2).sqrt()
        img = x_start * alpha_next.sqrt() + c * noise
        if eta > 0:
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            img = img + sigma * z
        return StepResult(img, x_start, noise)

    # -- training ------------------------------------------------------------------------
    def p_losses(
        self,
        x_start: torch.Tensor,
        t: torch.Tensor,
        y: torch.Tensor,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean squared error between the noise added and the noise predicted."""
        if noise is None:
            noise = torch.randn_like(x_start)
        x_t = self.q_sample(x_start, t, noise)
        return F.mse_loss(self.model(x_t, t, y), noise)

    def forward(
        self,
        x_start: torch.Tensor,
        y: torch.Tensor | None = None,
        label_dropout: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Training loss at random timesteps; some labels become "no class" for guidance."""
        b = x_start.shape[0]
        t = torch.randint(0, self.timesteps, (b,), generator=generator, device=x_start.device)
        if y is None:
            y = torch.full((b,), self.null_class, dtype=torch.long, device=x_start.device)
        elif label_dropout > 0:
            drop = torch.rand(b, generator=generator, device=x_start.device) < label_dropout
            y = torch.where(drop, torch.full_like(y, self.null_class), y)
        noise = torch.randn(x_start.shape, generator=generator, device=x_start.device)
        return self.p_losses(x_start, t, y, noise)
