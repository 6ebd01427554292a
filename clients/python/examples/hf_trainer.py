"""The Hugging Face `Trainer` reports its `loss` logs and each evaluation to lossgap."""

import torch
from lossgap_client.transformers import LossgapCallback
from torch import nn
from transformers import Trainer, TrainingArguments


class Classifier(nn.Module):  # any model whose forward returns a loss; a pretrained one works too
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))

    def forward(self, features, labels):
        return {"loss": nn.functional.cross_entropy(self.net(features), labels)}


torch.manual_seed(0)
x = torch.randn(1200, 20)
y = (x[:, :5].sum(1) + torch.randn(1200) > 0).long()
rows = [{"features": f, "labels": label} for f, label in zip(x, y, strict=True)]
args = TrainingArguments(
    output_dir="hf-example",
    num_train_epochs=20,
    per_device_train_batch_size=50,
    learning_rate=1e-3,
    logging_steps=1,  # every batch's loss: lossgap measures the lag of the epoch mean with it
    eval_strategy="epoch",
    save_strategy="no",
    report_to=[],
    disable_tqdm=True,
)
callback = LossgapCallback("hf-trainer-example", task="classification")  # prints the diagnosis
Trainer(
    Classifier(), args, train_dataset=rows[:1000], eval_dataset=rows[1000:], callbacks=[callback]
).train()
