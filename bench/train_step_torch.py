"""The training step of bench/train_step.ts in PyTorch, for the speed ratio.

The MNIST example's network (examples/mnist/model.ts: conv3x3-BN-ReLU x2, 2x2 max pool, three
stages of 16/32/64 channels, dense 576 -> 10), one thread, softmax cross-entropy, the L1
subgradient lambda * sign(gamma) on every BN gamma, SGD with Nesterov momentum 0.9 and weight
decay 1e-4: the same work as slimc's step. Inputs are random pixels in [0, 1] (the step's time
does not depend on the values).

Driven over stdin/stdout so that the benchmark can alternate slimc and PyTorch steps: each line
"STEPS n" runs n steps and answers one JSON line {"ms": [...], "cpuMs": [...]} (wall and
process CPU time per step); end of input ends the script.
The first line it writes describes the set-up. Run by hand: python3 bench/train_step_torch.py --batch 32
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn

CONFIG = [16, 16, "M", 32, 32, "M", 64, 64, "M"]


def network() -> nn.Module:
    layers, channels = [], 1
    for width in CONFIG:
        if width == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 3 * 3, 10))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sparsity", type=float, default=1e-4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = network().train()
    gammas = [m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    batches = [(torch.rand(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))) for _ in range(8)]
    params = sum(p.numel() for p in model.parameters())

    def step(i: int) -> float:
        x, y = batches[i % len(batches)]
        began, began_cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        with torch.no_grad():
            for g in gammas:
                g.grad.add_(torch.sign(g), alpha=args.sparsity)
        optimizer.step()
        loss.item()
        return (time.perf_counter() - began) * 1000, (time.process_time() - began_cpu) * 1000

    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": params, "batch": args.batch}), flush=True)
    done = 0
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or words[0] != "STEPS":
            print(json.dumps({"error": f"expected 'STEPS n', got {line.strip()!r}"}), flush=True)
            continue
        times = [step(done + k) for k in range(int(words[1]))]
        done += len(times)
        print(json.dumps({"ms": [t[0] for t in times], "cpuMs": [t[1] for t in times]}), flush=True)


if __name__ == "__main__":
    main()
