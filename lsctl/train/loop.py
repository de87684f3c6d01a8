"""The training loop: pre-tensorized data, seeded, resumable, data-parallel.

Design notes (why, not what):

- Texts become one padded id tensor per split before the first epoch; a
  step only slices it. No DataLoader: there is nothing left to load.
- The epoch order comes from a generator seeded by (seed, epoch), not from
  the global RNG, so a resumed run sees the same batches; the global RNG
  (dropout) is saved in the checkpoint.
- ``--batch-size`` is the global batch: under N processes each rank takes
  every N-th row of the same global batch and its loss is rescaled so that
  DDP's gradient average is the global batch mean. One process and N
  processes therefore take the same steps.
- Divergence is checked on a device-side flag, synchronised every step on a
  single CPU process (free there) and every ``SYNC_EVERY`` steps otherwise.
  Weights are saved only at epoch end after a finiteness check, so a
  diverged run never writes NaN weights.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lsctl.errors import LsctlError, Terminated, UsageError
from lsctl.progress import Progress, ensure
from lsctl.train import checkpoint, dist, losses
from lsctl.train import run_dir as rd
from lsctl.train.adadelta import RowSparseAdadelta
from lsctl.train.clip import clip_grad_norm_
from lsctl.train.config import TrainConfig, resume_conflicts
from lsctl.train.cpu_memory import reuse_large_blocks
from lsctl.train.data import TrainData
from lsctl.train.device import autocast, resolve_device
from lsctl.train.features import batch as make_batch
from lsctl.train.models import apply_max_norm, embed_init_used
from lsctl.train.predict import compute_logits
from lsctl.train.selection import Selection

SYNC_EVERY = 20


# The divergence guard stops a loss that grows this many times over its
# first-epoch value (the first step's, within the first epoch).
GROWTH_LIMIT = 100.0


class Diverged(LsctlError):
    pass


@dataclass
class TrainResult:
    run: str
    labels: list[str]
    history: list[dict[str, Any]]
    best: dict[str, Any] | None
    stopped: str
    model: torch.nn.Module
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        speeds = [r["examples_per_s"] for r in self.history if r["examples_per_s"]]
        return {
            "run": self.run,
            "labels": self.labels,
            "epochs_run": len(self.history),
            "stopped": self.stopped,
            "best_epoch": self.best["epoch"] if self.best else None,
            "best_dev_accuracy": self.best["dev_accuracy"] if self.best else None,
            "best_dev_nll": self.best["dev_nll"] if self.best else None,
            "final_train_loss": self.history[-1]["train_loss"] if self.history else None,
            "median_examples_per_s": statistics.median(speeds) if speeds else None,
            "seconds": sum(r["seconds"] for r in self.history),
            **self.info,
        }


def _seed_all(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


class Trainer:
    """Builds everything from a config and data; ``fit()`` runs the epochs."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainData,
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
        resume: bool = False,
        write: bool = True,
        shown: dict[str, str] | None = None,
    ) -> None:
        self.config = c = config.resolved()
        self.data = data
        # How the records name an input whose path means nothing later (an API
        # table's temporary file): path -> name.
        self.shown = shown or {}
        self.progress = ensure(progress)
        self.notify = notify or (lambda msg: None)
        if resume and not os.path.exists(checkpoint.path(c.output)):
            # Killed before its first checkpoint: there is nothing to continue, and
            # the directory holds only the start of this run, so start it over in place.
            self.notify(
                f"{c.output}: no checkpoint yet (stopped in epoch 1); starting from scratch"
            )
            resume = False
        self.resume = resume
        self.rank, self.world = dist.rank(), dist.world()
        # Only rank 0 touches the run directory.
        self.write = write and self.rank == 0
        self.labels = data.labels
        k = len(self.labels)

        if c.threads:
            torch.set_num_threads(c.threads)
        device = resolve_device(c.device)
        if device.type == "cuda" and self.world > 1:
            device = torch.device("cuda", dist.local_rank())
        self.device = device
        if c.precision == "bf16" and device.type != "cuda":
            self.notify("--precision bf16 applies on CUDA only; training in fp32 on the CPU")
        self.precision = c.precision if device.type == "cuda" else "fp32"
        if c.loss in ("aux", "aux-head") and c.optimizer == "sgd":
            scale = (1.0 + c.alpha) ** 2
            # Adam-type optimizers do not see a constant loss scale; SGD does.
            self.notify(
                f"--loss {c.loss} divides the loss by (1+alpha)^2 = {scale:g}; with SGD that "
                f"shrinks every step by the same factor (compare with ce at --lr x{scale:g})"
            )
        if c.batch_size % self.world:
            raise UsageError(
                f"--batch-size {c.batch_size} is the global batch; it must divide evenly "
                f"over {self.world} processes"
            )

        _seed_all(c.seed)
        cache_key, cached = self._cached_tensors()
        train_tokens = self._build_model(k, cached)
        if cached is not None:
            # Neither tokenizing nor the vocabulary draws random numbers, so a
            # hit leaves the RNG (and so the whole run) exactly as a miss would.
            self.train_ids, self.train_len = cached["train_ids"], cached["train_len"]
            self.dev_ids, self.dev_len = cached["dev_ids"], cached["dev_len"]
        else:
            if train_tokens is not None:  # tokenized once, for the vocabulary
                self.train_ids, self.train_len = self.encoder.from_tokens(train_tokens)
            else:
                self.train_ids, self.train_len = self.encoder(data.train.texts, self.progress)
            del train_tokens
            self.dev_ids, self.dev_len = self.encoder(data.dev.texts, self.progress)
            if cache_key is not None:
                self._store_tensors(cache_key)
        self.tensor_cache = "off" if cache_key is None else ("hit" if cached else "miss")
        self.train_y = torch.as_tensor(data.train.y, dtype=torch.long)
        self.dev_y = torch.as_tensor(data.dev.y, dtype=torch.long)
        t = data.train.targets
        self.targets = torch.as_tensor(t, dtype=torch.float32) if t is not None else None
        self.floor = losses.runaway_floor(t)
        self.ols = None
        if c.loss == "ols":
            from lsctl.train.ols import OnlineLabelSmoothing

            self.ols = OnlineLabelSmoothing(k, c.ols_epsilon, device)

        n = len(self.train_y)
        self.steps_per_epoch = math.ceil(n / c.batch_size)
        if self.world > 1 and n % c.batch_size and n % c.batch_size < self.world:
            # A last batch with fewer rows than ranks would leave a rank idle and hang DDP.
            self.steps_per_epoch -= 1
        if self.steps_per_epoch < 1:
            raise LsctlError(f"{n} training examples are too few for {self.world} processes")
        self._build_optimizer()
        self.sync_every = 1 if (device.type == "cpu" and self.world == 1) else SYNC_EVERY
        self._stop_requested = False
        self._hard_stop = False
        self._terminated = False

    # -- construction -------------------------------------------------------

    def _cached_tensors(self) -> tuple[str | None, dict[str, Any] | None]:
        """(key, entry) of the tokenized-data cache; (None, None) where it does not apply."""
        c = self.config
        resumed_vocab = self.resume and os.path.exists(os.path.join(c.output, rd.VOCAB))
        if c.is_hf or not c.cache or resumed_vocab:
            return None, None
        from lsctl.text.tokenize import TokenizerSpec
        from lsctl.train import tensor_cache
        from lsctl.train.features import MIN_LENGTH

        options = {
            "tokenizer": TokenizerSpec(name=c.tokenizer).to_dict(),
            "vocab_size": c.vocab_size,
            "min_count": c.min_count,
            "max_length": c.max_length,
            "min_length": MIN_LENGTH,
        }
        k = tensor_cache.key(self.data.train.texts, self.data.dev.texts, options)
        return k, tensor_cache.load(k)

    def _store_tensors(self, cache_key: str) -> None:
        from lsctl.train import tensor_cache

        tensor_cache.store(
            cache_key,
            {
                "itos": list(self.vocab.itos),
                "tokenizer": dict(self.vocab.tokenizer),
                "train_ids": self.train_ids,
                "train_len": self.train_len,
                "dev_ids": self.dev_ids,
                "dev_len": self.dev_len,
            },
        )

    def _build_model(self, k: int, cached: dict[str, Any] | None = None) -> list[list[str]] | None:
        """Build the model (and vocabulary); returns the training tokens if it tokenized them."""
        from lsctl.train.features import HFEncoder, WordEncoder
        from lsctl.train.models import build_scratch, load_hf

        tokens: list[list[str]] | None = None
        c = self.config
        aux_head = c.loss == "aux-head"
        if c.is_hf:
            source = c.model[3:]
            self.model, self.tokenizer = load_hf(source, self.labels, aux_head)
            self.encoder: Any = HFEncoder(self.tokenizer, c.max_length)
            self.model_info = {"type": "hf", "source": source}
            self.vocab = None
        else:
            from lsctl.text.tokenize import TokenizerSpec, tokenize
            from lsctl.train.vocab import Vocab, build_vocab

            vocab_path = os.path.join(c.output, rd.VOCAB)
            if self.resume and os.path.exists(vocab_path):
                self.vocab = Vocab.load(vocab_path)
            elif cached is not None:
                self.vocab = Vocab(list(cached["itos"]), dict(cached["tokenizer"]))
            else:
                spec = TokenizerSpec(name=c.tokenizer)
                with self.progress.task("building vocabulary", total=None):
                    tokens = tokenize(self.data.train.texts, spec)
                    self.vocab = build_vocab(tokens, spec, c.vocab_size, c.min_count)
            self.model = build_scratch(
                c.model,
                len(self.vocab),
                k,
                c.embed_dim,
                c.hidden,
                c.dropout,
                aux_head,
                embed_init=c.embed_init,
                conv_padding=c.conv_padding,
                ngrams=c.ngrams,
                buckets=c.buckets,
                # DDP all-reduces dense gradients on every backend; the sparse
                # path is for one process (same SGD update either way).
                sparse=c.sparse_embeddings and self.world == 1,
            )
            self.encoder = WordEncoder(self.vocab, c.max_length)
            # What the model is, and only what it has (no hidden size for a
            # CNN, no padding for fastText); predict rebuilds it from this.
            self.model_info = {
                "type": c.model,
                "vocab_size": len(self.vocab),
                "embed_dim": c.embed_dim,
                "dropout": c.dropout,
                "embed_init": embed_init_used(c.model, c.embed_init, c.embed_dim),
                **{
                    "textcnn": {"conv_padding": c.conv_padding},
                    "lstm": {"hidden": c.hidden},
                    "fasttext": {"ngrams": c.ngrams, "buckets": c.buckets},
                }[c.model],
            }
            if c.embeddings and not self.resume:
                self._load_embeddings()
            if c.freeze_embeddings:
                self.model.embedding.weight.requires_grad_(False)
        self.model.to(self.device)
        self.module = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DDP(
                self.module,
                device_ids=ids,
                find_unused_parameters=aux_head and c.warmup_epochs > 0,
            )
        return tokens

    def _load_embeddings(self) -> None:
        """Copy ``--embeddings`` vectors into the embedding (a resumed run has them already)."""
        from lsctl.train.embeddings import load_vectors

        c = self.config
        with self.progress.task("reading embeddings", total=None):
            loaded = load_vectors(c.embeddings, self.vocab.itos, c.embed_dim, seed=c.seed)
        with torch.no_grad():
            self.model.embedding.weight.copy_(torch.from_numpy(loaded.matrix))
        words = len(self.vocab) - 2
        self.model_info["embeddings"] = {"format": loaded.fmt, "found": loaded.found}
        # The word table is no longer what --embed-init drew (bigrams, if any, are).
        self.model_info["embed_init"] = (
            f"pretrained ({os.path.basename(c.embeddings)}); words not in it U[-0.25, 0.25]"
        )
        self.notify(
            f"embeddings: {loaded.found} of {words} vocabulary words found in "
            f"{os.path.basename(c.embeddings)} ({loaded.fmt}); the rest are U[-0.25, 0.25]"
        )

    def _build_optimizer(self) -> None:
        c = self.config
        params = [p for p in self.module.parameters() if p.requires_grad]
        # The fused kernels are several times faster than the default foreach
        # path on CPU (one pass over a large embedding instead of many).
        fused = {"fused": True}
        if c.optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(
                params, lr=c.lr, weight_decay=c.weight_decay, **fused
            )
        elif c.optimizer == "adadelta":
            # Kim 2014 (after Zeiler 2012): rho 0.95, eps 1e-6. No fused kernel
            # exists; the embedding tables take torch's step on touched rows only.
            tables = [m.weight for m in self.module.modules() if isinstance(m, torch.nn.Embedding)]
            self.optimizer = RowSparseAdadelta(
                params, row_sparse=tables, lr=c.lr, rho=0.95, eps=1e-6, weight_decay=c.weight_decay
            )
        elif c.sparse_embeddings:
            # fastText's update: plain SGD touching only the rows of the batch's
            # words and bigrams (momentum would make every step dense again).
            self.optimizer = torch.optim.SGD(params, lr=c.lr, momentum=0.0, foreach=False)
        else:
            # fastText stays plain SGD when its tables are dense (weight decay
            # touches every row, and torch's sparse SGD has none); the others
            # take momentum 0.9.
            momentum = 0.0 if c.model == "fasttext" else 0.9
            self.optimizer = torch.optim.SGD(
                params, lr=c.lr, momentum=momentum, weight_decay=c.weight_decay, **fused
            )
        total = c.epochs * self.steps_per_epoch
        warm = round(c.warmup_ratio * total)
        linear = c.scheduler == "linear"

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            if not linear:
                return 1.0
            return max(0.0, (total - step) / max(1, total - warm))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)

    # -- one step (also used by tests to compare first-step loss and grads) --

    def in_warmup(self, epoch: int) -> bool:
        return epoch <= self.config.warmup_epochs

    def loss_name(self, epoch: int) -> str:
        return "ce" if self.in_warmup(epoch) else self.config.loss

    def batch_loss(self, idx: torch.Tensor, epoch: int = 1) -> torch.Tensor:
        ids, mask = make_batch(self.train_ids, self.train_len, idx)
        dev = self.device
        y = self.train_y[idx].to(dev, non_blocking=True)
        name = self.loss_name(epoch)
        d = None
        if self.targets is not None and not self.in_warmup(epoch):
            d = self.targets[idx].to(dev, non_blocking=True)
        if name == "ols":
            d = self.ols.targets(y)
        with autocast(dev, self.precision):
            logits, aux = self.model(
                ids.to(dev, non_blocking=True), mask.to(dev, non_blocking=True)
            )
        if self.ols is not None and self.model.training:
            # CE warm-up epochs update S too: S is a statistic of the model, not of the loss.
            self.ols.observe(logits, y)
        return losses.compute(name, logits, aux, y, d, self.config.alpha)

    def global_batches(self, epoch: int) -> list[torch.Tensor]:
        order = epoch_order(len(self.train_y), self.config.seed, epoch)
        b = self.config.batch_size
        return [order[i * b : (i + 1) * b] for i in range(self.steps_per_epoch)]

    # -- the loop -------------------------------------------------------------

    # The selection policy's state, under the names the checkpoint and the
    # run summary have always used.
    @property
    def best(self) -> dict[str, Any] | None:
        return self.selection.best

    @best.setter
    def best(self, value: dict[str, Any] | None) -> None:
        self.selection.best = value

    @property
    def bad_epochs(self) -> int:
        return self.selection.bad_epochs

    @bad_epochs.setter
    def bad_epochs(self, value: int) -> None:
        self.selection.bad_epochs = value

    def _start_line(self) -> str:
        """What is about to be trained on what, before the first epoch's wait."""
        c, d = self.config, self.data
        dev = (
            f"{len(d.dev.texts):,} held out from TRAIN (--dev-split {c.dev_split:g}, "
            f"stratified, seed {c.seed})"
            if d.dev_source == "split"
            else f"{len(d.dev.texts):,} in {self._show(d.dev_source)}"
        )
        vocab = f", vocabulary {len(self.vocab):,}" if self.vocab is not None else ""
        return (
            f"training {c.model} ({c.loss} loss) on {len(d.train.texts):,} rows, {len(self.labels)} "
            f"labels{vocab}; dev: {dev}; up to {c.epochs} epoch{'s' * (c.epochs != 1)} on "
            f"{self.device.type}"
        )

    def fit(self) -> TrainResult:
        c = self.config
        self.history: list[dict[str, Any]] = []
        self.selection = Selection(c.patience)
        start_epoch, start_step = 1, 0
        carry = {"loss_sum": 0.0, "seen": 0, "seconds": 0.0}
        stopped = "completed"
        if self.resume:
            state = self._load_checkpoint()
            start_epoch, start_step = state["epoch"] + 1, state["step"]
            carry = {k: state[k] for k in carry}
            # Patience may change on resume; the run then goes on exactly as an
            # uninterrupted run with the new patience would from this state.
            saved, more = state.get("stopped"), state["epoch"] < c.epochs
            if (saved == "early-stopped" and not more) or (more and self.selection.stop):
                stopped = "early-stopped"
                start_epoch = c.epochs + 1
            elif saved == "early-stopped":
                self.notify(
                    f"early-stopped after epoch {state['epoch']}; --patience {c.patience} "
                    "allows more epochs, so training goes on"
                )
        elif self.write:
            self._write_config(status="running")
            if self.vocab is not None:
                self.vocab.save(os.path.join(c.output, rd.VOCAB))
        if not self.resume:
            self.notify(self._start_line())

        previous = self._install_sigint()
        # Each CPU step frees and reallocates the same large blocks (cpu_memory).
        memory = reuse_large_blocks() if self.device.type == "cpu" else contextlib.nullcontext()
        try:
            with memory:
                for epoch in range(start_epoch, c.epochs + 1):
                    self._train_epoch(epoch, start_step, carry)
                    start_step, carry = 0, {"loss_sum": 0.0, "seen": 0, "seconds": 0.0}
                    if self._end_epoch(epoch):
                        stopped = "early-stopped"
                        break
        except KeyboardInterrupt as e:
            # The note rides on the exception so the CLI prints one line, not two.
            note = self._save_on_interrupt()
            if note:
                e.args = (note,)
            raise
        except Diverged:
            if self.write:
                self._write_config(status="diverged")
            raise
        finally:
            self._restore_sigint(previous)
        if self.write:
            self._write_config(status=stopped)
        return TrainResult(
            c.output, self.labels, self.history, self.best, stopped, self.module, self._info()
        )

    def _train_epoch(self, epoch: int, start_step: int, carry: dict[str, Any]) -> None:
        c, dev = self.config, self.device
        model, opt, sched = self.model, self.optimizer, self.scheduler
        model.train()
        batches = self.global_batches(epoch)
        total = sum(len(b) for b in batches)
        loss_sum = torch.tensor(carry["loss_sum"], dtype=torch.float64, device=dev)
        seen = carry["seen"]
        bad = torch.zeros((), dtype=torch.bool, device=dev)
        floor = None if self.in_warmup(epoch) else self.floor
        # Runaway growth: a loss GROWTH_LIMIT× its first-epoch mean (the first
        # step's loss during that first epoch) is divergence even while finite.
        phase = "warmup" if self.in_warmup(epoch) else "main"
        first = [r["train_loss"] for r in self.history if r.get("phase", "main") == phase]
        self._growth_ref = first[0] if first else None
        self._pos = {"epoch": epoch - 1, "step": start_step, "carry": dict(carry)}
        seconds0 = carry["seconds"]
        t0 = time.perf_counter()
        with self.progress.task(f"epoch {epoch}/{c.epochs}", total=total) as task:
            task.advance(sum(len(b) for b in batches[:start_step]))
            for step in range(start_step, len(batches)):
                gidx = batches[step]
                idx = gidx[self.rank :: self.world] if self.world > 1 else gidx
                loss = self.batch_loss(idx, epoch)
                bad |= ~torch.isfinite(loss)
                if floor is not None:
                    bad |= loss < floor
                if self._growth_ref is None:
                    self._growth_ref = float(loss.detach())
                # Only a loss bounded below by 0 has a meaningful growth ratio: with
                # negative targets (NLS) the loss starts near 0 or below it, and its
                # runaway is the floor check above.
                if floor is None and self._growth_ref > 0:
                    bad |= loss > GROWTH_LIMIT * self._growth_ref
                if self.sync_every == 1 and bad.item():
                    self._diverged(epoch, step, loss)
                scale = len(idx) * self.world / len(gidx) if self.world > 1 else 1.0
                opt.zero_grad(set_to_none=True)
                (loss * scale).backward() if scale != 1.0 else loss.backward()
                if c.grad_clip:
                    clip_grad_norm_(self.module.parameters(), c.grad_clip)
                opt.step()
                if c.max_norm:
                    apply_max_norm(self.module, c.max_norm)
                sched.step()
                loss_sum += loss.detach().double() * len(idx)
                seen += len(idx)
                last = step == len(batches) - 1
                stop_now = self._stop_requested if self.sync_every == 1 else False
                if self.sync_every > 1 and ((step + 1) % self.sync_every == 0 or last):
                    if dist.any_flag(bad.to(torch.uint8)):
                        self._diverged(epoch, step, loss)
                    # Every rank must agree to stop at the same step, or DDP hangs.
                    stop = torch.tensor(int(self._stop_requested), dtype=torch.uint8, device=dev)
                    stop_now = dist.any_flag(stop)
                self._pos = {
                    "epoch": epoch - 1,
                    "step": step + 1,
                    "carry": {
                        "loss_sum": float(loss_sum),
                        "seen": seen,
                        "seconds": seconds0 + time.perf_counter() - t0,
                    },
                }
                if stop_now:
                    raise self._interrupt()
                task.advance(len(gidx))
                if step % 10 == 0 or last:
                    elapsed = time.perf_counter() - t0
                    done = sum(len(b) for b in batches[start_step : step + 1])
                    task.update(loss=f"{loss.item():.4f}", ex_s=f"{done / max(elapsed, 1e-9):.0f}")
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = seconds0 + time.perf_counter() - t0
        self._epoch_stats = {
            "loss_sum": float(dist.all_sum(loss_sum)),
            "seen": int(dist.all_sum(torch.tensor(seen, device=dev))),
            "seconds": seconds,
            "total": total,
        }

    def _end_epoch(self, epoch: int) -> bool:
        """Evaluate on dev, select, checkpoint; True when early stopping triggers."""
        c = self.config
        stats = self._epoch_stats
        for p in self.module.parameters():
            if not torch.isfinite(p).all():
                self._diverged(epoch, self.steps_per_epoch - 1, None)
        dev_logits = compute_logits(
            self.module,
            self.dev_ids,
            self.dev_len,
            self.device,
            c.eval_batch_size,
            self.precision,
            None,
        )
        if not torch.isfinite(dev_logits).all():
            self._diverged(epoch, self.steps_per_epoch - 1, None, "the dev logits became NaN/inf")
        if self.ols is not None:
            # Every rank all-reduces; only rank 0 writes.
            self.ols.end_epoch()
            if self.write:
                self.ols.save(c.output)
        logp = torch.log_softmax(dev_logits.double(), dim=1)
        dev_nll = float(-logp[torch.arange(len(self.dev_y)), self.dev_y].mean())
        dev_acc = float((dev_logits.argmax(1) == self.dev_y).double().mean())
        seconds = stats["seconds"]
        warmup = self.in_warmup(epoch)
        row = {
            "epoch": epoch,
            "phase": "warmup" if warmup else "main",
            "loss": self.loss_name(epoch),
            "train_loss": stats["loss_sum"] / max(stats["seen"], 1),
            "dev_accuracy": dev_acc,
            "dev_nll": dev_nll,
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "seconds": seconds,
            "examples_per_s": stats["total"] / seconds if seconds > 0 else 0.0,
            # Optimizer steps taken by the end of this epoch (convergence in steps).
            "steps": epoch * self.steps_per_epoch,
        }
        self.history.append(row)
        # The CE warm-up epochs are never candidates: a warm-up epoch often has
        # the best dev accuracy of a short NLS run, and selecting it would
        # silently turn the run into plain CE. Patience counts from the switch.
        if self.selection.update(epoch, dev_acc, dev_nll, candidate=not warmup) and self.write:
            self._save_model()
        stop = self.selection.stop
        if self.write:
            selected = self.best["epoch"] if self.best else None
            rd.write_metrics(c.output, self.history, self.labels, self._options(), selected)
            self._pos = {
                "epoch": epoch,
                "step": 0,
                "carry": {"loss_sum": 0.0, "seen": 0, "seconds": 0.0},
            }
            self._save_checkpoint(stopped="early-stopped" if stop else None)
            self._write_config(status="running")
        tag = " (CE warm-up, not a selection candidate)" if warmup else ""
        self.notify(
            f"epoch {epoch}{tag}: train loss {row['train_loss']:.4f}, dev accuracy {dev_acc:.4f}, "
            f"dev NLL {dev_nll:.4f}, {row['examples_per_s']:.0f} ex/s"
        )
        dist.barrier()
        return stop

    # -- divergence, interrupts, persistence ---------------------------------

    def _diverged(
        self,
        epoch: int,
        step: int,
        loss: torch.Tensor | None,
        what: str = "the weights became NaN/inf",
    ) -> None:
        if loss is not None:
            v = float(loss.detach())
            if not math.isfinite(v):
                what = f"the loss became {v}"
            elif self.floor is None or v >= self.floor:
                what = (
                    f"the loss grew to {v:.4g}, over {GROWTH_LIMIT:g}× its first-epoch value "
                    f"{self._growth_ref:.4g}"
                )
            else:
                what = (
                    f"the loss ran away to {v:.4g} (below the floor {self.floor:.4g}: "
                    "probabilities under negative targets collapsed to ~0)"
                )
        if self.best:
            kept = (
                f"the run keeps the weights of epoch {self.best['epoch']} and the checkpoint of "
                f"epoch {self.history[-1]['epoch']}"
            )
        elif self.history:
            kept = (
                "no post-warm-up epoch finished, so no weights were written; the checkpoint of "
                f"epoch {self.history[-1]['epoch']} is kept"
            )
        else:
            kept = "no weights were written"
        hint = "lower --lr, set --grad-clip"
        if self.floor is not None:
            hint += (
                ", or warm up longer with --warmup-epochs"
                if self.config.warmup_epochs
                else ", or warm up with --warmup-epochs (NLS needs a CE warm-up)"
            )
        raise Diverged(
            f"training diverged at epoch {epoch}, step {step + 1}: {what}; {kept}; {hint}"
        )

    def _install_sigint(self) -> Any:
        """Ctrl-C and SIGTERM stop after the current step and save the checkpoint."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: Any) -> None:
            # A second signal stops at once, possibly mid-step, so nothing is saved
            # then and the last consistent checkpoint stays.
            self._terminated = self._terminated or signum == signal.SIGTERM
            if self._stop_requested:
                self._hard_stop = True
                raise self._interrupt()
            self._stop_requested = True

        try:
            return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        except ValueError:
            return None

    def _interrupt(self) -> KeyboardInterrupt:
        # The CLI exits 143 for SIGTERM (kill, timeout, schedulers), 130 for Ctrl-C.
        return Terminated() if self._terminated else KeyboardInterrupt()

    def _restore_sigint(self, previous: Any) -> None:
        for s, h in (previous or {}).items():
            signal.signal(s, h)

    def _save_on_interrupt(self) -> str | None:
        """Save a checkpoint if the weights are sound; returns what to tell the user."""
        if not self.write or self._hard_stop or not hasattr(self, "_pos"):
            return None
        if all(torch.isfinite(p).all() for p in self.module.parameters()):
            self._save_checkpoint()
            return (
                f"checkpoint saved in {os.path.join(self.config.output, 'checkpoint')}; "
                "rerun the same command with --resume to continue"
            )
        return None

    def _save_checkpoint(self, stopped: str | None = None) -> None:
        pos = self._pos
        checkpoint.save(
            self.config.output,
            {
                "epoch": pos["epoch"],
                "step": pos["step"],
                **pos["carry"],
                "model": self.module.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "rng": checkpoint.rng_state(),
                "history": self.history,
                "best": self.best,
                "bad_epochs": self.bad_epochs,
                "stopped": stopped,
                "config": self._options(),
                **({"ols": self.ols.state_dict()} if self.ols is not None else {}),
            },
        )

    def _load_checkpoint(self) -> dict[str, Any]:
        c = self.config
        state = checkpoint.load(c.output)
        saved = rd.read_config(c.output)
        conflicts = resume_conflicts(state["config"], self._options())
        old_hashes = [i.get("sha256") for i in saved.get("inputs", [])]
        new_hashes = [i.get("sha256") for i in self.data.inputs]
        if old_hashes and old_hashes == new_hashes:
            # The same data under another path (an API table's temporary file,
            # in checkpoints written before tables were recorded by name).
            conflicts = [k for k in conflicts if k not in ("train", "dev")]
        if conflicts:
            raise UsageError(
                f"--resume: {', '.join('--' + k.replace('_', '-') for k in conflicts)} differ from "
                f"the run in {c.output}; rerun with the original options"
            )
        done = len(state["history"])
        if c.epochs < done:
            raise UsageError(
                f"--resume: --epochs {c.epochs} is below the {done} epochs this run has "
                f"finished; give --epochs {done} or more"
            )
        # TRAIN, then DEV: a changed DEV would score the epochs before and after
        # the resume on different rows, and select among them.
        for path, old, new in zip((c.train, c.dev), old_hashes, new_hashes, strict=False):
            if old and new and old != new:
                raise LsctlError(
                    f"--resume: {self._show(path)} changed since the run started; use another -o"
                )
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"])
        self.history = [
            {**r, "phase": r.get("phase", "warmup" if self.in_warmup(r["epoch"]) else "main")}
            for r in state["history"]
        ]
        self.best = state["best"]
        self.bad_epochs = state["bad_epochs"]
        if self.ols is not None:
            self.ols.load_state_dict(state["ols"])
        if self.best and self.in_warmup(self.best["epoch"]):
            # A checkpoint from before warm-up epochs were excluded from selection.
            self.best, self.bad_epochs = None, 0
        if state["config"]["epochs"] != c.epochs and c.scheduler == "linear":
            self.notify(
                "--epochs changed on resume; the linear schedule now decays over the new total"
            )
        return state

    def _save_model(self) -> None:
        from lsctl.train.models import main_state_dict

        if self.config.is_hf:
            rd.save_hf(
                self.config.output,
                self.module.hf,
                self.tokenizer,
                self.config.max_length,
                self._model_card(),
            )
        else:
            rd.save_weights(self.config.output, main_state_dict(self.module))

    def _model_card(self) -> str:
        """README.md for ``hf_model/``: data hash, loss and targets, the selected epoch's metrics."""
        from lsctl import __version__

        c, d, best = self.config, self.data, self.best or {}
        train = d.inputs[0] if d.inputs else {}
        dev = d.inputs[1] if len(d.inputs) > 1 else None
        dev_text = (
            f"`{os.path.basename(dev['path'])}` (sha256 `{dev['sha256']}`)"
            if dev
            else f"a stratified {c.dev_split:.0%} of the training data (seed {c.seed})"
        )
        loss = {
            "ce": "cross-entropy on the hard labels",
            "soft": "cross-entropy on the soft targets",
            "aux": f"cross-entropy on the hard labels + {c.alpha} x MSE to the soft targets "
            "(KWLS eq. 9)",
            "aux-head": f"cross-entropy + {c.alpha} x MSE of an auxiliary head to the soft targets",
            "ols": f"{c.alpha} x cross-entropy + {1 - c.alpha:g} x cross-entropy to the online "
            f"label-smoothing targets S[y] (S_0 uniform, ε = {c.ols_epsilon})",
        }[c.loss]
        if c.warmup_epochs:
            loss += f", after {c.warmup_epochs} cross-entropy warm-up epochs"

        def num(key: str) -> str:
            value = best.get(key)
            return f"{value:.4f}" if isinstance(value, float) else "n/a"

        rows = [
            ("base model", f"`{c.model[3:]}`"),
            ("labels (in output order)", ", ".join(f"`{lab}`" for lab in self.labels)),
            (
                "training data",
                f"`{os.path.basename(str(train.get('path')))}` (sha256 `{train.get('sha256')}`)",
            ),
            ("dev data", dev_text),
            ("loss", f"`{c.loss}`: {loss}"),
            ("soft-label source", d.targets_detail or d.targets_source),
            ("max length", f"{c.max_length} tokens (the tokenizer's model_max_length)"),
            ("epochs", f"{len(getattr(self, 'history', []))} of {c.epochs}, seed {c.seed}"),
            ("selected epoch", f"{best.get('epoch')} (best dev accuracy)"),
            ("dev accuracy", num("dev_accuracy")),
            ("dev NLL", num("dev_nll")),
        ]
        table = "\n".join(f"| {k} | {v} |" for k, v in rows)
        name = os.path.basename(os.path.normpath(c.output))
        return (
            "---\nlibrary_name: transformers\npipeline_tag: text-classification\n"
            "tags:\n- lsctl\n- label-smoothing\n---\n\n"
            f"# {name}\n\n"
            f"A text classifier trained with lsctl {__version__} (`lsctl train --model {c.model} "
            f"--loss {c.loss}`). The full configuration is in `../config.json`, per-epoch "
            "metrics in `../metrics.parquet`.\n\n"
            f"| | |\n|---|---|\n{table}\n"
        )

    def _info(self) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "loss": self.config.loss,
            "warmup_epochs": self.config.warmup_epochs,
            "device": str(self.device),
            "world_size": self.world,
            "train_examples": len(self.train_y),
            "dev_examples": len(self.dev_y),
            "targets": self.data.targets_source,
            "dev_source": self.data.dev_source,
            "dropped_empty": self._dropped(),
        }

    def _show(self, path: str | None) -> str | None:
        return self.shown.get(path, path)

    def _options(self) -> dict[str, Any]:
        """The options as recorded (config.json, metrics, checkpoint)."""
        d = self.config.to_dict()
        d["train"], d["dev"] = self._show(d["train"]), self._show(d["dev"])
        return d

    def _dropped(self) -> dict[str, int]:
        return {self.shown.get(k, k): n for k, n in self.data.dropped_empty.items()}

    def _write_config(self, status: str) -> None:
        import platform

        from lsctl import __version__

        versions = {
            "lsctl": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        }
        if self.config.is_hf:
            import transformers

            versions["transformers"] = transformers.__version__
        history = getattr(self, "history", [])
        rd.write_json(
            self.config.output,
            rd.CONFIG,
            {
                "kind": "run",
                "status": status,
                "labels": self.labels,
                "seed": self.config.seed,
                "options": self._options(),
                "model": self.model_info,
                "versions": versions,
                "inputs": [{**r, "path": self._show(r.get("path"))} for r in self.data.inputs],
                "world_size": self.world,
                "dropped_empty": self._dropped(),
                "best": getattr(self, "best", None),
                "selected_epoch": (getattr(self, "best", None) or {}).get("epoch"),
                "phases": {
                    phase: [r["epoch"] for r in history if r["phase"] == phase]
                    for phase in ("warmup", "main")
                },
                "selection": (
                    f"best dev accuracy among epochs {self.config.warmup_epochs + 1}.."
                    f"{self.config.epochs} (after the CE warm-up)"
                    if self.config.warmup_epochs
                    else "best dev accuracy over all epochs"
                ),
                "epochs_done": len(history),
            },
        )


def train(
    config: TrainConfig,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    resume: bool = False,
    warn: Callable[[str], None] | None = None,
    shown: dict[str, str] | None = None,
) -> TrainResult:
    """Read the data, train, write the run directory (rank 0); the CLI's one call.

    ``warn`` receives data warnings (rows dropped under ``drop_empty``);
    ``shown`` names inputs in the records instead of their paths (path -> name).
    """
    from lsctl.artifacts.io import remove_empty_dirs
    from lsctl.train import data as data_mod

    config = config.resolved()
    created = rd.prepare(config.output, resume) if dist.rank() == 0 else []
    try:
        dist.barrier()
        data = data_mod.load(config, warn if dist.rank() == 0 else None)
        trainer = Trainer(config, data, progress, notify, resume=resume, shown=shown)
        return trainer.fit()
    except BaseException as e:
        # A new run that failed before its first checkpoint leaves nothing behind:
        # its config.json ("running") and vocabulary would only block the rerun.
        # RUN was empty or absent before (rd.prepare), so all it holds is ours.
        # A divergence keeps its record; an interrupt or a later failure keeps
        # the checkpoint for --resume.
        if (
            not resume
            and dist.rank() == 0
            and not isinstance(e, Diverged)
            and os.path.isdir(config.output)
            and not os.path.exists(checkpoint.path(config.output))
        ):
            rd.clear(config.output)
        remove_empty_dirs(created)
        raise
