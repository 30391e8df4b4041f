#!/usr/bin/env python3
"""Writes the ONNX fixtures of slimc's ONNX frontend tests: test/fixtures/onnx/.

Needs PyTorch and onnx (on Debian: apt-get install python3-torch python3-onnx; run with
/usr/bin/python3). Tests and CI never run this script: they read what it wrote and committed.

Each fixture is a small CIFAR-like network (input 1x3x16x16) with BatchNorm weights that look
sparsity-trained (many |gamma| near 0, non-trivial beta and running statistics), exported as
PyTorch users should export for Network Slimming:

    model.eval()
    torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)

so that every BatchNormalization node survives. Beside each NAME.onnx, NAME.json holds:
  - opset, input_shape (NCHW), output_shape;
  - inputs: seeded inputs, flattened in NCHW order;
  - full: the network's outputs in eval mode, one flat list per input;
  - masked: the outputs of the masked network at `ratio` (Network Slimming's rule: sort |gamma|
    of every BatchNorm2d ascending, threshold = the value at index floor(ratio * total), keep a
    channel iff |gamma| > threshold; dropped channels get gamma = beta = 0), or null;
  - kept_channels: the number of channels each BN keeps at `ratio`, by BN weight prefix;
  - torch_params: sum of numel over model.parameters();
  - selection_params: how many of those are channel-selection indexes (the official code keeps
    them as nn.Parameter; they are not weights of the network, and slimc does not count them).

Usage: /usr/bin/python3 scripts/make_onnx_fixtures.py [--out test/fixtures/onnx]
"""

import argparse
import copy
import json
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models.efficientnet as tv_efficientnet
import torchvision.models.mobilenetv3 as tv_mobilenetv3
import torchvision.models.shufflenetv2 as tv_shufflenetv2

RATIO = 0.5
INPUT_SHAPE = (1, 3, 16, 16)
SAMPLES = 2


class ChannelSelection(nn.Module):
    """The official Network Slimming code's channel_selection layer (models/channel_selection.py):
    keeps the channels whose `indexes` entry is non-zero; exports as a Gather on axis 1."""

    def __init__(self, num_channels):
        super().__init__()
        self.indexes = nn.Parameter(torch.ones(num_channels))

    def forward(self, x):
        selected = np.squeeze(np.argwhere(self.indexes.data.cpu().numpy()))
        if selected.size == 1:
            selected = np.resize(selected, (1,))
        return x[:, selected, :, :]


def conv_bn_relu(cin, cout, **kw):
    return [nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False, **kw), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Vgg(nn.Module):
    """VGG-style, as the official vgg.py: conv-BN-ReLU stacks, max pools, an average pool,
    x.view(x.size(0), -1) (a Constant/Unsqueeze/Concat/Reshape chain) and one Linear. The average
    pool pads by 1 without counting the padding; the flatten sees a 16x2x2 tensor, so the Linear's
    rows need CHW -> HWC reordering."""

    def __init__(self):
        super().__init__()
        layers = conv_bn_relu(3, 8) + conv_bn_relu(8, 8) + [nn.MaxPool2d(2, 2)]
        layers += conv_bn_relu(8, 16) + [nn.MaxPool2d(2, 2)] + conv_bn_relu(16, 16)
        self.feature = nn.Sequential(*layers)
        self.classifier = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = self.feature(x)
        x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class PreActBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv3x3, BN-ReLU-conv3x3, plus the block input, or a
    strided 1x1 conv of it when the shape changes (as the official preresnet's downsample)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        residual = x if self.downsample is None else self.downsample(x)
        return out + residual


class PreResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(PreActBlock(8, 8, 1), PreActBlock(8, 16, 2), PreActBlock(16, 16, 1))
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.blocks(self.conv1(x))
        x = F.relu(self.bn(x))
        x = F.avg_pool2d(x, 8)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class PostActBlock(nn.Module):
    """Post-activation basic block (ResNet-56 style): conv-BN-ReLU-conv-BN, plus a shortcut
    (identity, or strided 1x1 conv + BN), then ReLU. The BNs feed the add."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class PostResNet(nn.Module):
    """A post-activation ResNet with an ImageNet-style padded 3x3 max pool after the stem."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = PostActBlock(8, 8, 1)
        self.layer2 = PostActBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat((x, self.conv1(F.relu(self.bn1(x)))), 1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseNet(nn.Module):
    """DenseNet-style, as the official densenet.py: dense layers concatenating growth channels,
    a transition with a 2x2 average pool, a final BN-ReLU and an 8x8 average pool."""

    def __init__(self, growth=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 2 * growth, 3, padding=1, bias=False)
        c = 2 * growth
        layers = []
        for _ in range(3):
            layers.append(DenseLayer(c, growth))
            c += growth
        self.dense1 = nn.Sequential(*layers)
        self.trans1 = Transition(c, c)
        layers = []
        for _ in range(2):
            layers.append(DenseLayer(c, growth))
            c += growth
        self.dense2 = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        x = self.dense2(self.trans1(self.dense1(self.conv1(x))))
        x = F.avg_pool2d(F.relu(self.bn(x)), 8)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class SelectBottleneck(nn.Module):
    """The official preresnet.py bottleneck: bn1 -> channel_selection -> relu -> conv1 (1x1),
    bn2-relu-conv2 (3x3), bn3-relu-conv3 (1x1), plus the input or a strided 1x1 downsample."""

    def __init__(self, cin, cfg, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.select = ChannelSelection(cin)
        self.conv1 = nn.Conv2d(cfg[0], cfg[1], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cfg[1])
        self.conv2 = nn.Conv2d(cfg[1], cfg[2], 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(cfg[2])
        self.conv3 = nn.Conv2d(cfg[2], cout, 1, bias=False)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        out = F.relu(self.select(self.bn1(x)))
        out = self.conv1(out)
        out = self.conv3(F.relu(self.bn3(self.conv2(F.relu(self.bn2(out))))))
        residual = x if self.downsample is None else self.downsample(x)
        return out + residual


class SelectResNet(nn.Module):
    """Pre-activation bottleneck ResNet with channel selection, as a once-pruned official model:
    the selection layers keep a subset of their BN's channels (some `indexes` are 0)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.layer1 = SelectBottleneck(16, [12, 6, 6], 16, 1)
        self.layer2 = SelectBottleneck(16, [10, 8, 8], 32, 2)
        self.bn = nn.BatchNorm2d(32)
        self.select = ChannelSelection(32)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.conv1(x)))
        x = F.relu(self.select(self.bn(x)))
        x = F.avg_pool2d(x, 8)
        x = x.view(x.size(0), -1)
        return self.fc(x)

    def prune_selections(self, gen):
        """Zero some selection indexes, as a previous pruning round left them."""
        for module in [self.layer1.select, self.layer2.select, self.select]:
            n = module.indexes.numel()
            keep = {16: 12, 32: 24}[n] if module is not self.layer2.select else 10
            order = torch.randperm(n, generator=gen)
            indexes = torch.zeros(n)
            indexes[order[:keep]] = 1
            module.indexes.data.copy_(indexes)


class MobileNetish(nn.Module):
    """MobileNet-style: a conv3x3 stem, depthwise 3x3 (groups = channels) + pointwise 1x1 blocks
    with ReLU6 (exported as Clip), an average pool counting its zero padding (exported as Pad +
    AveragePool), a global average pool and a Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        blocks = []
        for cin, cout, stride in [(8, 16, 2), (16, 16, 1), (16, 32, 2)]:
            blocks += [
                nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
                nn.BatchNorm2d(cin),
                nn.ReLU6(inplace=True),
                nn.Conv2d(cin, cout, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU6(inplace=True),
            ]
        self.blocks = nn.Sequential(*blocks)
        self.smooth = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.smooth(self.blocks(self.stem(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


# Modern mobile networks, built from torchvision's own classes at a small width and depth (the
# blocks are torchvision's, so the exported graphs are the ones a user of torchvision gets).


def ShuffleNetV2ish():
    """torchvision's ShuffleNetV2: x.chunk(2, dim=1) (Split), torch.cat and channel_shuffle
    (Reshape to [N, 2, C/2, H, W], Transpose(1, 2), Reshape back), depthwise 3x3 convs, a final
    1x1 conv and x.mean([2, 3]) (ReduceMean)."""
    return tv_shufflenetv2.ShuffleNetV2(stages_repeats=[2, 2, 1], stages_out_channels=[8, 16, 32, 48, 64], num_classes=10)


def EfficientNetish():
    """torchvision's EfficientNet (B0's MBConv blocks): SiLU (Sigmoid then Mul), squeeze-excite
    (GlobalAveragePool, 1x1 conv, SiLU, 1x1 conv, Sigmoid, Mul with the features), depthwise 3x3
    and 5x5 convs, residuals; 3 stages instead of 7, narrower."""
    mb = tv_efficientnet.MBConvConfig
    setting = [mb(1, 3, 1, 16, 8, 1), mb(6, 3, 2, 8, 16, 2), mb(6, 5, 2, 16, 24, 1)]
    return tv_efficientnet.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=64)


def MobileNetV3ish():
    """torchvision's MobileNetV3: Hardswish (HardSwish), squeeze-excite gated by Hardsigmoid
    (HardSigmoid, then Mul), ReLU blocks and hard-swish blocks, a Linear-Hardswish-Linear head;
    4 blocks instead of 11-15."""
    cfg = tv_mobilenetv3.InvertedResidualConfig
    setting = [
        cfg(16, 3, 16, 16, True, "RE", 2, 1, 1.0),
        cfg(16, 3, 48, 24, False, "RE", 2, 1, 1.0),
        cfg(24, 5, 64, 24, True, "HS", 1, 1, 1.0),
        cfg(24, 5, 96, 32, True, "HS", 2, 1, 1.0),
    ]
    return tv_mobilenetv3.MobileNetV3(setting, last_channel=64, num_classes=10)


class Unsupported(nn.Module):
    """Uses ops the importer does not support (LeakyRelu, Elu twice)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        x = F.elu(self.bn1(self.conv1(x)))
        x = F.leaky_relu(self.conv2(x), 0.1)
        x = F.elu(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def sparsify_batchnorms(model, gen):
    """BN weights as after sparsity training: about half of |gamma| near 0, the rest spread,
    a few negative; beta and running statistics non-trivial."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            small = torch.rand(c, generator=gen) < 0.5
            gamma = torch.where(small, torch.rand(c, generator=gen) * 0.02, 0.3 + torch.rand(c, generator=gen) * 0.9)
            sign = torch.where(torch.rand(c, generator=gen) < 0.15, -1.0, 1.0)
            m.weight.data.copy_(gamma * sign)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
            m.running_var.copy_(0.5 + torch.rand(c, generator=gen) * 1.5)


def batchnorms(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]


def slimming_threshold(model, ratio):
    gammas = torch.cat([m.weight.data.abs() for _, m in batchnorms(model)])
    ordered, _ = torch.sort(gammas)
    return ordered[int(math.floor(gammas.numel() * ratio))]


def masked_copy(model, ratio):
    """The masked network: gamma = beta = 0 on the channels Network Slimming drops."""
    masked = copy.deepcopy(model)
    threshold = slimming_threshold(masked, ratio)
    kept = {}
    for name, m in batchnorms(masked):
        mask = m.weight.data.abs().gt(threshold).float()
        m.weight.data.mul_(mask)
        m.bias.data.mul_(mask)
        kept[name] = int(mask.sum().item())
    return masked, kept


def export(model, path, opset, input_shape, folded=False, dynamic_batch=False):
    x = torch.zeros(*input_shape)
    kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=opset)
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    if folded:
        # What a user gets with the defaults: eval-mode export folds each BN into its conv.
        kwargs.update(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    else:
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    if "dynamo" in torch.onnx.export.__code__.co_varnames:
        kwargs["dynamo"] = False
    torch.onnx.export(model, (x,), path, **kwargs)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    return proto


def run(model, inputs):
    with torch.no_grad():
        return [model(x).reshape(-1).tolist() for x in inputs]


def make(out_dir, name, model_class, opset, seed, folded=False, dynamic_batch=False, masked=True, input_shape=INPUT_SHAPE):
    # Seeded before the model is built: PyTorch's layer initialisation draws from the global generator.
    torch.manual_seed(seed)
    model = model_class()
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    sparsify_batchnorms(model, gen)
    if hasattr(model, "prune_selections"):
        model.prune_selections(gen)
    path = os.path.join(out_dir, f"{name}.onnx")
    proto = export(model, path, opset, input_shape, folded=folded, dynamic_batch=dynamic_batch)
    ops = [n.op_type for n in proto.graph.node]
    bn_count = ops.count("BatchNormalization")
    if not folded:
        assert bn_count == len(batchnorms(model)), f"{name}: {bn_count} BN nodes for {len(batchnorms(model))} BNs"
    inputs = [torch.randn(*input_shape, generator=gen) for _ in range(SAMPLES)]
    full = run(model, inputs)
    masked_outputs, kept = None, None
    if masked:
        masked_model, kept = masked_copy(model, RATIO)
        assert all(k >= 1 for k in kept.values()), f"{name}: a BN loses every channel at {RATIO}: {kept}"
        masked_outputs = run(masked_model, inputs)
    selection = sum(m.indexes.numel() for m in model.modules() if isinstance(m, ChannelSelection))
    with torch.no_grad():
        output_shape = list(model(inputs[0]).shape)
    expected = {
        "model": name,
        "opset": opset,
        "torch_version": torch.__version__,
        "input_shape": list(input_shape),
        "output_shape": output_shape,
        "ratio": RATIO,
        "inputs": [x.reshape(-1).tolist() for x in inputs],
        "full": full,
        "masked": masked_outputs,
        "kept_channels": kept,
        "torch_params": sum(p.numel() for p in model.parameters()),
        "selection_params": selection,
        "bn_nodes": bn_count,
        "onnx_ops": sorted(set(ops)),
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(path)
    assert size < 1 << 20, f"{name}.onnx is {size} bytes"
    print(f"{name}.onnx: opset {opset}, {size} bytes, ops {sorted(set(ops))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "onnx"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_grad_enabled(False)
    make(args.out, "vgg", Vgg, opset=11, seed=1)
    make(args.out, "preresnet", PreResNet, opset=13, seed=2, dynamic_batch=True)
    make(args.out, "postresnet", PostResNet, opset=17, seed=3)
    make(args.out, "densenet", DenseNet, opset=13, seed=4)
    make(args.out, "selectresnet", SelectResNet, opset=11, seed=5)
    make(args.out, "mobilenet", MobileNetish, opset=17, seed=6)
    make(args.out, "shufflenetv2", ShuffleNetV2ish, opset=13, seed=8, input_shape=(1, 3, 32, 32))
    make(args.out, "efficientnet", EfficientNetish, opset=13, seed=9, input_shape=(1, 3, 32, 32))
    make(args.out, "mobilenetv3", MobileNetV3ish, opset=14, seed=10, input_shape=(1, 3, 32, 32))
    make(args.out, "vgg_folded", Vgg, opset=13, seed=1, folded=True, masked=False)
    make(args.out, "unsupported", Unsupported, opset=13, seed=7, masked=False)


if __name__ == "__main__":
    main()
