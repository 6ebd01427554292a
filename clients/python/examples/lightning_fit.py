"""PyTorch Lightning reports what `training_step` returns and what validation logs."""

import lightning.pytorch as pl
import torch
from lossgap_client.lightning import LossgapCallback
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))

    def training_step(self, batch, _):
        return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

    def validation_step(self, batch, _):
        self.log("val_loss", nn.functional.cross_entropy(self.net(batch[0]), batch[1]))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


pl.seed_everything(0)
x = torch.randn(1200, 20)
y = (x[:, :5].sum(1) + torch.randn(1200) > 0).long()
train = DataLoader(TensorDataset(x[:1000], y[:1000]), batch_size=50, shuffle=True)
val = DataLoader(TensorDataset(x[1000:], y[1000:]), batch_size=200)
callback = LossgapCallback("lightning-example", task="classification")  # prints the diagnosis
pl.Trainer(max_epochs=20, callbacks=[callback], logger=False, enable_progress_bar=False).fit(
    Classifier(), train, val
)
