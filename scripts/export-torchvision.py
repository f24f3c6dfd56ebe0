#!/usr/bin/env python3
"""Export a torchvision-layout ResNet-18 or ResNet-50 to ONNX, for `encoders.<role>.onnx` (issue 18).

Uses Debian's python3-torch (/usr/bin/python3). Never a test or runtime dependency of the toolkit:
it only writes a .onnx file the toolkit then imports with its own differentiable importer.

Weights: nothing is downloaded. torchvision's pretrained ImageNet weights are not available
offline, so the network is exported either with random (He) initialisation (`--weights random`,
the default: a fixed random feature extractor, seeded) or with a state dict the user supplies
(`--weights FILE.pth`, torchvision's key names, e.g. a resnet18-f37072fd.pth copied from a machine
that has it). When torchvision is installed its resnet18/resnet50 builders are used; otherwise the
same architecture is built here (key names identical to torchvision's, so its state dicts load).

Output: input 'input' [N, 3, S, S] (ImageNet-normalised pixels), output 'features' [N, 512|2048]
(the global-average-pooled features; `--head logits` keeps the 1000-way fc instead).

  /usr/bin/python3 scripts/export-torchvision.py --arch resnet18 --size 64 --out models/resnet18.onnx
"""
import argparse
import sys

import torch
from torch import nn


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(cin, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + idt)


class ResNet(nn.Module):
    """torchvision.models.ResNet's layout and parameter names (stem, layer1..4, fc)."""

    def __init__(self, block, layers, classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, 64, layers[0], 1)
        self.layer2 = self._layer(block, 128, layers[1], 2)
        self.layer3 = self._layer(block, 256, layers[2], 2)
        self.layer4 = self._layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _layer(self, block, width, n, stride):
        down = None
        if stride != 1 or self.inplanes != width * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, width * block.expansion, 1, stride, bias=False), nn.BatchNorm2d(width * block.expansion))
        blocks = [block(self.inplanes, width, stride, down)]
        self.inplanes = width * block.expansion
        blocks += [block(self.inplanes, width) for _ in range(1, n)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(arch):
    try:
        import torchvision  # noqa: F401  (optional)

        return getattr(torchvision.models, arch)(weights=None), "torchvision"
    except ImportError:
        spec = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet50": (Bottleneck, [3, 4, 6, 3])}[arch]
        return ResNet(*spec), "built-in (torchvision layout)"


class Features(nn.Module):
    """The network up to the global average pool: N x 512 (ResNet-18) or N x 2048 (ResNet-50)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=["resnet18", "resnet50"], default="resnet18")
    ap.add_argument("--size", type=int, default=224, help="input side S the file declares (the toolkit resizes images to it)")
    ap.add_argument("--weights", default="random", help="'random' (seeded He init) or a torchvision state dict .pth")
    ap.add_argument("--head", choices=["features", "logits"], default="features")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.size < 32:
        sys.exit(f"export-torchvision: error: --size {a.size} is below 32 (the ResNet stem downsamples 32x)")
    torch.manual_seed(a.seed)
    net, source = build(a.arch)
    if a.weights != "random":
        try:
            state = torch.load(a.weights, map_location="cpu")
        except Exception as e:  # a clear one-line error naming the file
            sys.exit(f"export-torchvision: error: {a.weights}: cannot load a state dict ({e})")
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            sys.exit(f"export-torchvision: error: {a.weights}: not a torchvision {a.arch} state dict (missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})")
    net.eval()
    model = Features(net) if a.head == "features" else net
    x = torch.zeros(1, 3, a.size, a.size)
    out_name = "features" if a.head == "features" else "logits"
    torch.onnx.export(model, x, a.out, input_names=["input"], output_names=[out_name], dynamic_axes={"input": {0: "N"}, out_name: {0: "N"}}, opset_version=a.opset, do_constant_folding=True)
    with torch.no_grad():
        dim = model(x).shape[1]
    print(f"wrote {a.out}: {a.arch} ({source}), weights {a.weights}, input [N,3,{a.size},{a.size}], output '{out_name}' [N,{dim}], opset {a.opset}")


if __name__ == "__main__":
    main()
