"""The second generator's models: recurrent nets, a small transformer encoder, 1D and residual 2D
CNNs with batch norm, and MLPs for the small tables. All scriptable (TorchScript is the upload
format the workers re-evaluate)."""

import torch
from torch import nn


class Recurrent(nn.Module):
    def __init__(self, cell: str, inputs: int, width: int, outputs: int, dropout: float) -> None:
        super().__init__()
        kind = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = kind(inputs, width, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(self.drop(out[:, -1]))


class Encoder(nn.Module):
    def __init__(self, inputs: int, width: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Linear(inputs, width)
        layer = nn.TransformerEncoderLayer(width, 2, 2 * width, dropout, batch_first=True)
        self.body = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.embed(x)).mean(dim=1))


class Conv1d(nn.Module):
    def __init__(self, width: int, outputs: int, dropout: float, batch_norm: bool) -> None:
        super().__init__()
        norm: nn.Module = nn.BatchNorm1d(width) if batch_norm else nn.Identity()
        self.body = nn.Sequential(
            nn.Conv1d(1, width, 5, padding=2),
            norm,
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(width, width, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x.transpose(1, 2)))


class Block(nn.Module):
    def __init__(self, width: int, batch_norm: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.norm1: nn.Module = nn.BatchNorm2d(width) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.norm2: nn.Module = nn.BatchNorm2d(width) if batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(x + self.norm2(self.conv2(y)))


class ResNet(nn.Module):
    def __init__(self, width: int, outputs: int, dropout: float, batch_norm: bool) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.block = Block(width, batch_norm)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(torch.relu(self.stem(x)))
        return self.head(self.drop(y.mean(dim=(2, 3))))


def mlp(inputs: int, width: int, outputs: int, dropout: float, batch_norm: bool) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(inputs, width)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(width))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, width), nn.ReLU()]
    layers += [nn.Dropout(dropout), nn.Linear(width, outputs)]
    return nn.Sequential(*layers)


ARCHITECTURES = ("gru", "lstm", "transformer", "cnn1d", "resnet", "mlp")


def build(
    arch: str, x_shape: tuple[int, ...], outputs: int, width: int, dropout: float, bn: bool
) -> nn.Module:
    if arch in ("gru", "lstm"):
        return Recurrent(arch, x_shape[-1], width, outputs, dropout)
    if arch == "transformer":
        return Encoder(x_shape[-1], width, outputs, dropout)
    if arch == "cnn1d":
        return Conv1d(width, outputs, dropout, bn)
    if arch == "resnet":
        return ResNet(width, outputs, dropout, bn)
    return mlp(x_shape[-1], width, outputs, dropout, bn)
