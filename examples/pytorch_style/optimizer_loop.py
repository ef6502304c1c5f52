"""A PyTorch script, unchanged but for its imports: a training loop with parameter groups
(no weight decay on biases), SGD with momentum, a StepLR schedule, gradient clipping, and
a checkpoint (model + optimizer + scheduler) from which a second run resumes and ends
exactly where the uninterrupted one did.

Run: python examples/pytorch_style/optimizer_loop.py
"""
# PyTorch imports (the original script has these lines where the tinygrad_edu ones are):
#   import torch
#   import torch.nn as nn
#   import torch.nn.functional as F
#   import torch.optim as optim
#   from torch.utils.data import DataLoader, TensorDataset
#   from torch.optim.lr_scheduler import StepLR

import os
import tempfile

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu.data import DataLoader, TensorDataset
from tinygrad_edu.optim.lr_scheduler import StepLR

EPOCHS, CHECKPOINT_EPOCH = 12, 6


def make_data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(512, 8, generator=g)
    a = torch.randn(8, 1, generator=g)
    y = 2.0 * torch.tanh(X @ a) + 0.1 * torch.randn(512, 1, generator=g)
    return TensorDataset(X, y)


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
    decay = [p for name, p in model.named_parameters() if name.endswith("weight")]
    no_decay = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = optim.SGD([{"params": decay, "weight_decay": 1e-4},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.1, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=4, gamma=0.5)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, loader, epoch):
    loader.generator.manual_seed(epoch)  # the same batch order in every run
    total, largest_norm = 0.0, 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        largest_norm = max(largest_norm, norm.item())
        optimizer.step()
        total += loss.item() * xb.size(0)
    return total / len(loader.dataset), largest_norm


def run(model, optimizer, scheduler, loader, first_epoch, last_epoch, checkpoint=None):
    losses = []
    for epoch in range(first_epoch, last_epoch):
        loss, largest_norm = train_epoch(model, optimizer, loader, epoch)
        scheduler.step()
        losses.append(loss)
        print(f"epoch {epoch + 1:2d}  lr {scheduler.get_last_lr()[0]:.4f}  loss {loss:.5f}  "
              f"largest grad norm before clipping {largest_norm:.3f}")
        if checkpoint is not None and epoch + 1 == CHECKPOINT_EPOCH:
            torch.save({"epoch": epoch + 1,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict()}, checkpoint)
            print(f"saved a checkpoint after epoch {epoch + 1}")
    return losses


def main() -> None:
    dataset = make_data()
    loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=torch.Generator())
    path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")

    model, optimizer, scheduler = build()
    print(optimizer)
    losses = run(model, optimizer, scheduler, loader, 0, EPOCHS, checkpoint=path)
    assert losses[-1] < 0.1 * losses[0], f"the loss did not fall enough: {losses}"
    assert [g["lr"] for g in optimizer.param_groups] == scheduler.get_last_lr()

    print("resuming from the checkpoint in a fresh model, optimizer and scheduler")
    resumed_model, resumed_optimizer, resumed_scheduler = build()
    state = torch.load(path)
    resumed_model.load_state_dict(state["model"])
    resumed_optimizer.load_state_dict(state["optimizer"])
    resumed_scheduler.load_state_dict(state["scheduler"])
    run(resumed_model, resumed_optimizer, resumed_scheduler, loader, state["epoch"], EPOCHS)

    for (name, p), q in zip(model.named_parameters(), resumed_model.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-6), f"{name} differs after resuming"
    assert resumed_scheduler.get_last_lr() == scheduler.get_last_lr()
    print(f"OK: loss {losses[0]:.4f} -> {losses[-1]:.4f}; the resumed run ends with the same "
          "weights and learning rate")


if __name__ == "__main__":
    main()
