#!/usr/bin/env python3
"""The three reference models trained for one epoch in PyTorch (Debian's python3-torch), written the way
bench/EngineBench/HandWritten.cs writes them in TorchSharp: same layers, Adam(lr 1e-3, eps 1e-7), same batch
sizes, same thread count, same data (the raw arrays the benchmark harness writes, or the Fashion-MNIST IDX files).
Prints one JSON line: {"model", "samples", "seconds", "torch", "threads"}. Only the epoch loop is timed.

  python3 bench/pytorch_peer.py --model cnn --data DIR --samples 5000 --batch 64 --threads 2
"""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load(args):
    n = args.samples
    if args.model == "mlp" and args.fashion_mnist:
        x = read_idx(os.path.join(args.fashion_mnist, "train-images-idx3-ubyte.gz"))[:n]
        y = read_idx(os.path.join(args.fashion_mnist, "train-labels-idx1-ubyte.gz"))[:n]
        return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    shape, xt, yt = {"mlp": ((28, 28), np.uint8, np.uint8), "cnn": ((32, 32, 3), np.uint8, np.uint8),
                     "lstm": ((100,), np.int64, np.int64)}[args.model]
    x = np.fromfile(os.path.join(args.data, f"{args.model}-x.bin"), dtype=xt).reshape((-1,) + shape)[:n]
    y = np.fromfile(os.path.join(args.data, f"{args.model}-y.bin"), dtype=yt)[:n]
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


class LstmNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 128)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.dense = nn.Linear(128, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.dense(h[0])


def build(model):
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if model == "cnn":
        return nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2304, 10))
    return LstmNet()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, choices=["mlp", "cnn", "lstm"])
    p.add_argument("--data", default=".")
    p.add_argument("--fashion-mnist")
    p.add_argument("--samples", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = load(args)
    net = build(args.model)
    opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
    net.train()
    n = x.shape[0]
    start = time.perf_counter()
    order = torch.randperm(n)
    for s in range(0, n, args.batch):
        index = order[s:s + args.batch]
        xb, yb = x.index_select(0, index), y.index_select(0, index)
        if args.model == "mlp":
            loss = F.cross_entropy(net(xb.float().div(255.0).flatten(1)), yb.long())
        elif args.model == "cnn":
            loss = F.cross_entropy(net(xb.float().div(255.0).permute(0, 3, 1, 2).contiguous()), yb.long())
        else:
            loss = F.binary_cross_entropy_with_logits(net(xb).squeeze(-1), yb.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    print(json.dumps({"model": args.model, "samples": n, "seconds": seconds, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
