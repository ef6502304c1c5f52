"""A PyTorch script, unchanged but for its imports: an MLP trained with a DataLoader and
Adam on scikit-learn's two moons.

Run: python examples/pytorch_style/mlp_moons.py
"""
# PyTorch imports (the original script has these lines where the tinygrad_edu ones are):
#   import torch
#   import torch.nn as nn
#   import torch.nn.functional as F
#   import torch.optim as optim
#   from torch.utils.data import DataLoader, TensorDataset

from sklearn.datasets import make_moons

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features: int, hidden: int, num_classes: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x)


def accuracy(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in loader:
            pred = model(xb).argmax(dim=1)
            correct += (pred == yb).sum().item()
            total += yb.size(0)
    model.train()
    return correct / total


def main() -> None:
    torch.manual_seed(0)
    X, y = make_moons(n_samples=1200, noise=0.15, random_state=0)
    X = torch.from_numpy(X).float()
    y = torch.from_numpy(y).long()
    perm = torch.randperm(len(X))
    train_idx, test_idx = perm[:1000], perm[1000:]
    mean, std = X[train_idx].mean(dim=0), X[train_idx].std(dim=0)
    X = (X - mean) / std

    train_set = TensorDataset(X[train_idx], y[train_idx])
    test_set = TensorDataset(X[test_idx], y[test_idx])
    g = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_set, batch_size=50, shuffle=True, generator=g)
    test_loader = DataLoader(test_set, batch_size=100)
    print(f"train batches: {len(train_loader)}, test batches: {len(test_loader)}")

    model = MLP(2, 32, 2)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters")

    for epoch in range(15):
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * xb.size(0)
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1:2d}  loss {running / len(train_set):.4f}  "
                  f"test acc {accuracy(model, test_loader):.3f}")

    acc = accuracy(model, test_loader)
    assert acc > 0.95, f"test accuracy {acc:.3f} is too low"
    print(f"OK: MLP test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
