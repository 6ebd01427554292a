"""A plain PyTorch loop that reports to lossgap and prints the diagnosis when it ends."""

import torch
from lossgap_client import Tracker
from torch import nn

torch.manual_seed(0)
x = torch.randn(1200, 20)
y = (x[:, :5].sum(1) + torch.randn(1200) > 0).long()  # a noisy rule: learnable, not perfectly
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
config = {"batch_size": 50, "learning_rate": 1e-3, "train_size": 1000, "val_size": 200}

with Tracker("plain-loop-example", model=model, config=config, task="classification") as run:
    for _ in range(20):
        model.train()
        for i in range(0, 1000, 50):
            loss = loss_fn(model(x[i : i + 50]), y[i : i + 50])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.step(loss)  # per-batch losses: they let lossgap measure the half-epoch lag
        model.eval()
        with torch.no_grad():
            run.epoch(val_loss=loss_fn(model(x[1000:]), y[1000:]))
