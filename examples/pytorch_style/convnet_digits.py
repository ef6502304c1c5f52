"""A PyTorch script, unchanged but for its imports: a small convnet (conv -> batch norm ->
relu -> max pool, twice, then a linear classifier) trained with SGD + Nesterov momentum on
scikit-learn's 8x8 handwritten digits, then saved and reloaded.

Run: python examples/pytorch_style/convnet_digits.py
"""
# PyTorch imports (the original script has these lines where the tinygrad_edu ones are):
#   import torch
#   import torch.nn as nn
#   import torch.nn.functional as F
#   import torch.optim as optim
#   from torch.utils.data import DataLoader, TensorDataset

import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding="same"),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(16 * 2 * 2, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    model.eval()
    loss_sum, correct, total = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            _, predicted = torch.max(logits, 1)
            correct += (predicted == labels).sum().item()
            total += labels.size(0)
    model.train()
    return loss_sum / total, correct / total


def main() -> None:
    torch.manual_seed(0)
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target)
    print(f"images {tuple(images.shape)} {images.dtype}, labels {tuple(labels.shape)} "
          f"{labels.dtype}")
    rng = np.random.default_rng(0)
    order = torch.from_numpy(rng.permutation(len(images)))
    train_idx, test_idx = order[:1500], order[1500:]
    train_loader = DataLoader(TensorDataset(images[train_idx], labels[train_idx]),
                              batch_size=64, shuffle=True, drop_last=True)
    test_loader = DataLoader(TensorDataset(images[test_idx], labels[test_idx]),
                             batch_size=128)

    model = ConvNet()
    model.apply(init_weights)
    print(model)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)

    for epoch in range(6):
        for images_b, labels_b in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images_b), labels_b)
            loss.backward()
            optimizer.step()
        test_loss, test_acc = evaluate(model, test_loader)
        print(f"epoch {epoch + 1}  last batch loss {loss.item():.4f}  test loss "
              f"{test_loss:.4f}  test acc {test_acc:.3f}")

    keys = list(model.state_dict().keys())
    print("state_dict keys:", ", ".join(keys[:7]), "...")
    assert "features.1.running_mean" in keys and "features.1.num_batches_tracked" in keys

    path = os.path.join(tempfile.mkdtemp(), "convnet.pt")
    torch.save(model.state_dict(), path)
    restored = ConvNet()
    restored.load_state_dict(torch.load(path))
    restored_loss, restored_acc = evaluate(restored, test_loader)
    assert abs(restored_loss - test_loss) < 1e-5, (restored_loss, test_loss)
    assert test_acc > 0.9, f"test accuracy {test_acc:.3f} is too low"
    print(f"OK: convnet test accuracy {test_acc:.3f} (the reloaded model agrees)")


if __name__ == "__main__":
    main()
